import Crypto
import DaemonSupport
import Foundation
import GRDB
import Shared
import Testing

@testable import VenueNode

/// A venue operator's traps and the messages that used to leave them stuck (issue #11, points 7 and 9).
@Suite struct NodeOperatorTests {
    /// An aggregator, its key, and the small event's file.
    func setUp(_ harness: ProcessHarness) async throws -> (aggregator: Process, url: String, key: String, event: URL) {
        let eventFile = try harness.write(Fixtures.smallEventJSON, to: "event.json")
        let eventURL = harness.workDirectory.appending(path: eventFile)
        let (aggregator, port) = try await harness.startAggregator(dataDir: "agg", event: eventURL)
        let key = try harness.run("aggregator", ["identity", "--data-dir", "agg"])
            .stdout.trimmingCharacters(in: .whitespacesAndNewlines)
        return (aggregator, "http://127.0.0.1:\(port)", key, eventURL)
    }

    func checkin(_ harness: ProcessHarness, _ dir: String, rep: String) throws -> ProcessHarness.Output {
        try harness.run(
            "venue-node",
            [
                "checkin", "--data-dir", dir, "--session", "S1", "--rep", rep,
                "--category", "resident",
            ])
    }

    @Test func syncFromASequenceBeyondTheHeadIsRefusedWhileRecordsArePending() async throws {
        let harness = try ProcessHarness()
        defer { harness.cleanUp() }
        let (aggregator, url, _, eventURL) = try await setUp(harness)
        defer {
            aggregator.terminate()
            aggregator.waitUntilExit()
        }
        try harness.createNode("east", event: eventURL, venue: "east", aggregatorURL: url)
        #expect(try checkin(harness, "east", rep: "R1").status == 0)
        #expect(try checkin(harness, "east", rep: "R2").status == 0)

        for fromSeq in ["3", "4", "99"] {
            let skipped = try harness.run("venue-node", ["sync", "--data-dir", "east", "--from-seq", fromSeq])
            #expect(skipped.status != 0, "--from-seq \(fromSeq): \(skipped.stdout)")
            #expect(
                skipped.stderr.contains(
                    "--from-seq \(fromSeq) is beyond this node's last record (the head is "
                        + "record 2)"), "\(skipped.stderr)")
            #expect(skipped.stderr.contains("2 record(s) are pending"), "\(skipped.stderr)")
        }
        let synced = try harness.run("venue-node", ["sync", "--data-dir", "east", "--from-seq", "2"])
        #expect(synced.status == 0, "\(synced.stderr)")
        #expect(synced.stdout.contains("acknowledged through 2 of 2"), "\(synced.stdout)")
    }

    @Test func initWithAWrongAggregatorKeyEnrolsNothingAndLeavesTheTokenUnused() async throws {
        let harness = try ProcessHarness()
        defer { harness.cleanUp() }
        let (aggregator, url, key, eventURL) = try await setUp(harness)
        defer {
            aggregator.terminate()
            aggregator.waitUntilExit()
        }
        // Given a venue whose node is enrolled, and a token for its replacement
        let first = try harness.run("aggregator", ["nodes", "enroll", "--data-dir", "agg", "--venue", "east"])
            .stdout.trimmingCharacters(in: .whitespacesAndNewlines)
        #expect(
            try harness.run(
                "venue-node",
                [
                    "init", "--data-dir", "old", "--event", eventURL.path, "--venue", "east",
                    "--aggregator", url, "--token", first, "--aggregator-key", key,
                ]
            ).status == 0)
        let token = try harness.run("aggregator", ["nodes", "enroll", "--data-dir", "agg", "--venue", "east"])
            .stdout.trimmingCharacters(in: .whitespacesAndNewlines)

        // When the new node is given a mistyped aggregator key
        let wrongKey = TestSigner().publicKeyBase64
        let refused = try harness.run(
            "venue-node",
            [
                "init", "--data-dir", "new", "--event", eventURL.path, "--venue",
                "east", "--aggregator", url, "--token", token,
                "--aggregator-key", wrongKey,
            ])
        // Then it is refused before anything happens: no directory, the token unused, the old node current
        #expect(refused.status == 1)
        #expect(
            refused.stderr.contains(
                "the aggregator at \(url) has the key \(key), not the --aggregator-key this "
                    + "node was given (\(wrongKey))"), "\(refused.stderr)")
        #expect(refused.stderr.contains("the token is still unused"), "\(refused.stderr)")
        #expect(!refused.stderr.contains("venue-node enroll"), "no retry that cannot work: \(refused.stderr)")
        #expect(!FileManager.default.fileExists(atPath: harness.workDirectory.appending(path: "new").path))
        let tokens = try harness.run("aggregator", ["nodes", "tokens", "--data-dir", "agg"]).stdout
        let id = AggregatorIDs.enrolmentTokenID(token)
        #expect(tokens.split(separator: "\n").first { $0.hasPrefix(id) }?.contains(" unused ") == true, "\(tokens)")
        let nodes = try harness.run("aggregator", ["nodes", "list", "--data-dir", "agg"]).stdout
        #expect(nodes.contains("current") && !nodes.contains("retired"), "\(nodes)")

        // With the right key the same token works.
        let enrolled = try harness.run(
            "venue-node",
            [
                "init", "--data-dir", "new", "--event", eventURL.path, "--venue",
                "east", "--aggregator", url, "--token", token,
                "--aggregator-key", key,
            ])
        #expect(enrolled.status == 0, "\(enrolled.stderr)")
        #expect(enrolled.stdout.contains("epoch 2"))
    }

    @Test func aUTF16FileIsSaidToBeUTF16() throws {
        let text = "session,rep,category\nS1,R1,resident\n"
        let utf16LE = Data([0xFF, 0xFE]) + text.data(using: .utf16LittleEndian)!
        let utf16BE = Data([0xFE, 0xFF]) + text.data(using: .utf16BigEndian)!
        let noMark = text.data(using: .utf16LittleEndian)!
        for data in [utf16LE, utf16BE, noMark] {
            let failure = try #require(throws: TextDecoding.Failure.self) { try TextDecoding.utf8(data) }
            #expect(failure.description == "this file is UTF-16; save it as UTF-8 (or GB18030)")
        }
        // UTF-8 (with or without its mark) and GB18030 are read as before.
        #expect(try TextDecoding.utf8(Data(text.utf8)) == Data(text.utf8))
        #expect(try TextDecoding.utf8(Data([0xEF, 0xBB, 0xBF]) + Data(text.utf8)).count == text.utf8.count + 3)
        let gb = try TextDecoding.convert(Data("场次,代表,类别\n".utf8), from: "UTF-8", to: "GB18030")
        #expect(String(decoding: try TextDecoding.utf8(gb), as: UTF8.self) == "场次,代表,类别\n")

        let harness = try ProcessHarness()
        defer { harness.cleanUp() }
        let event = harness.workDirectory.appending(path: try harness.write(Fixtures.smallEventJSON, to: "event.json"))
        #expect(
            try harness.run(
                "venue-node",
                [
                    "init", "--data-dir", "n", "--event", event.path, "--venue", "east",
                    "--aggregator", "http://127.0.0.1:9",
                ]
            ).status == 0)
        try utf16LE.write(to: harness.workDirectory.appending(path: "excel.csv"))
        let imported = try harness.run("venue-node", ["import", "--data-dir", "n", "--checkins", "excel.csv"])
        #expect(imported.status != 0)
        #expect(
            imported.stderr.contains("excel.csv:1: this file is UTF-16; save it as UTF-8 (or GB18030)"),
            "\(imported.stderr)")
    }

    @Test func aMissingFileIsNamedPlainly() throws {
        let harness = try ProcessHarness()
        defer { harness.cleanUp() }
        let event = harness.workDirectory.appending(path: try harness.write(Fixtures.smallEventJSON, to: "event.json"))
        #expect(
            try harness.run(
                "venue-node",
                [
                    "init", "--data-dir", "n", "--event", event.path, "--venue", "east",
                    "--aggregator", "http://127.0.0.1:9",
                ]
            ).status == 0)
        let runs: [(String, [String], String)] = [
            ("venue-node", ["import", "--data-dir", "n", "--checkins", "checkins.csv"], "checkins.csv"),
            ("venue-node", ["import", "--data-dir", "n", "--ballots", "scans/ballots.csv"], "scans/ballots.csv"),
            ("venue-node", ["roster", "import", "--data-dir", "n", "roster.csv"], "roster.csv"),
            (
                "venue-node",
                [
                    "init", "--data-dir", "m", "--event", "evnt.json", "--venue", "east", "--aggregator",
                    "http://127.0.0.1:9",
                ], "evnt.json"
            ),
            ("aggregator", ["event", "--event", "evnt.json"], "evnt.json"),
        ]
        for (binary, arguments, file) in runs {
            let result = try harness.run(binary, arguments)
            #expect(result.status != 0)
            let output = result.stdout + result.stderr
            // The path as given, or made absolute (event files are named by their full path).
            #expect(
                output.contains("no such file: \(file)")
                    || output.contains("no such file: /")
                        && output.contains("/\(file)\n"),
                "\(arguments): \(output)")
            #expect(!output.contains("NSCocoaErrorDomain"), "\(arguments): \(output)")
        }
    }

    @Test func aBusyDatabaseIsWaitedForAndThenNamed() async throws {
        let harness = try ProcessHarness()
        defer { harness.cleanUp() }
        let event = harness.workDirectory.appending(path: try harness.write(Fixtures.smallEventJSON, to: "event.json"))
        #expect(
            try harness.run(
                "venue-node",
                [
                    "init", "--data-dir", "n", "--event", event.path, "--venue", "east",
                    "--aggregator", "http://127.0.0.1:9",
                ]
            ).status == 0)
        let path = harness.workDirectory.appending(path: "n/node.sqlite").path
        // Another process (here: this one) holds the write lock, as a long import would.
        var configuration = Configuration()
        configuration.allowsUnsafeTransactions = true
        let holder = try DatabaseQueue(path: path, configuration: configuration)
        func hold() throws { try holder.writeWithoutTransaction { db in try db.execute(sql: "BEGIN IMMEDIATE") } }
        @Sendable func release() throws { try holder.writeWithoutTransaction { db in try db.execute(sql: "COMMIT") } }

        // A short wait: the command waits and then saves.
        try hold()
        let waiting = try harness.start(
            "venue-node",
            [
                "checkin", "--data-dir", "n", "--session", "S1", "--rep", "R1",
                "--category", "resident",
            ], log: "waiting.log")
        // Released 2 s later from a thread of its own, started at once: no shared thread has to be free for it.
        Thread.detachNewThread {
            Thread.sleep(forTimeInterval: 2)
            try? release()
        }
        await harness.waitForExit(waiting)
        let waited = try String(contentsOf: harness.workDirectory.appending(path: "waiting.log"), encoding: .utf8)
        #expect(waiting.terminationStatus == 0, "\(waited)")
        #expect(waited.hasPrefix("saved record 1"), "\(waited)")

        // Held for longer than the busy timeout: the command says who is in the way, and saves nothing.
        try hold()
        let blocked = try await harness.runOffThePool(
            "venue-node",
            [
                "checkin", "--data-dir", "n", "--session", "S1",
                "--rep", "R2", "--category", "resident",
            ])
        try release()
        #expect(blocked.status != 0)
        #expect(
            blocked.stderr.contains(
                "another process holds \(path) (this command waited 10 s for it): nothing of "
                    + "this command was saved"), "\(blocked.stderr)")
        #expect(!blocked.stderr.contains("database is locked"), "\(blocked.stderr)")
        #expect(try NodeDatabase(path: path).head().seq == 1)
    }

    /// The exact words an operator reads when the -wal file of `path` was deleted.
    static func walDeleted(_ path: String) -> String {
        let directory = (path as NSString).deletingLastPathComponent
        return "the database's -wal file was deleted while the node ran: records since the last checkpoint may be "
            + "lost, and this node writes nothing more. Do not delete \(path)-wal or \(path)-shm (they are part of "
            + "the database). Stop the node, keep \(directory) as it is, and restore from the aggregator with "
            + "`venue-node init` of a new data directory (enrolled for the venue) and `venue-node restore` "
            + "(docs/operations.md); records never sent are only in this directory"
    }

    @Test func aDeletedWALStopsEveryWriteWithTheReason() throws {
        let directory = try Fixtures.temporaryDirectory("sanmin-wal")
        defer { try? FileManager.default.removeItem(at: directory) }
        let path = directory.appending(path: "node.sqlite").path
        let database = try NodeDatabase(path: path, create: true)
        try database.append(
            [.checkin(.init(session: "S1", rep: "R1", category: "resident"))], event: Fixtures.smallEvent)
        #expect(FileManager.default.fileExists(atPath: path + "-wal"))

        try FileManager.default.removeItem(atPath: path + "-wal")
        let failure = try #require(throws: DurableDatabase.Failure.self) {
            try database.append(
                [.checkin(.init(session: "S1", rep: "R2", category: "resident"))],
                event: Fixtures.smallEvent)
        }
        #expect(failure.description == Self.walDeleted(path))
        #expect(throws: DurableDatabase.Failure.self) { try database.logSync(ok: true, ackedSeq: 1, ackedHash: "x") }
        // Another command opening the store meanwhile is refused with the same words.
        let reopened = try #require(throws: DurableDatabase.Failure.self) { try NodeDatabase(path: path) }
        #expect(reopened.description == Self.walDeleted(path))
    }

    @Test func theDaemonStopsWhenItsWALIsDeleted() async throws {
        let harness = try ProcessHarness()
        defer { harness.cleanUp() }
        let event = harness.workDirectory.appending(path: try harness.write(Fixtures.smallEventJSON, to: "event.json"))
        // An aggregator that cannot be reached: the daemon keeps retrying, and must still notice.
        #expect(
            try harness.run(
                "venue-node",
                [
                    "init", "--data-dir", "n", "--event", event.path, "--venue", "east",
                    "--aggregator", "http://127.0.0.1:9",
                ]
            ).status == 0)
        #expect(try checkin(harness, "n", rep: "R1").status == 0)
        let daemon = try harness.start(
            "venue-node", ["run", "--data-dir", "n", "--interval", "1", "--max-backoff", "1"],
            log: "daemon.log")
        defer {
            if daemon.isRunning {
                daemon.terminate()
                daemon.waitUntilExit()
            }
        }
        let path = harness.workDirectory.appending(path: "n/node.sqlite").path
        let deadline = ContinuousClock.now + .seconds(60)
        while !FileManager.default.fileExists(atPath: path + "-wal"), ContinuousClock.now < deadline {
            try await Task.sleep(for: .milliseconds(50))
        }
        try await Task.sleep(for: .seconds(1))
        #expect(daemon.isRunning)

        try FileManager.default.removeItem(atPath: path + "-wal")
        // Its own minute from here: on a loaded machine the wait for the -wal above can take most of the first.
        let stopDeadline = ContinuousClock.now + .seconds(60)
        while daemon.isRunning, ContinuousClock.now < stopDeadline { try await Task.sleep(for: .milliseconds(100)) }
        #expect(!daemon.isRunning, "the daemon should stop")
        daemon.waitUntilExit()
        #expect(daemon.terminationStatus != 0)
        let log = try String(contentsOf: harness.workDirectory.appending(path: "daemon.log"), encoding: .utf8)
        #expect(log.contains(Self.walDeleted(path)), "\(log)")
    }
}

/// Ids as the aggregator's command line shows them (`aggregator nodes tokens`): the first 12 hex digits of
/// the token's SHA-256.
enum AggregatorIDs {
    static func enrolmentTokenID(_ token: String) -> String {
        String(SHA256.hash(data: Data(token.utf8)).hexString.prefix(12))
    }
}
