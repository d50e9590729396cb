import Aggregator
import Crypto
import Foundation
import GRDB
import Shared
import Testing

/// Two daemons on one data directory, and an event file edited only in its formatting.
@Suite struct DataDirectoryTests {
    /// Starts `binary arguments` and waits (bounded) for it to exit: a second daemon must stop at once.
    static func runExpectingExit(
        _ harness: ProcessHarness, _ binary: String, _ arguments: [String],
        log: String
    ) async throws -> (status: Int32?, output: String) {
        let process = try harness.start(binary, arguments, log: log)
        let deadline = ContinuousClock.now + .seconds(30)
        while process.isRunning && ContinuousClock.now < deadline { try await Task.sleep(for: .milliseconds(50)) }
        let output = (try? String(contentsOf: harness.workDirectory.appending(path: log), encoding: .utf8)) ?? ""
        guard !process.isRunning else {
            process.terminate()
            process.waitUntilExit()
            return (nil, output)
        }
        return (process.terminationStatus, output)
    }

    @Test func aSecondServeOrRunOnALockedDataDirectoryStopsAtOnceNamingTheDirectoryAndTheHolder() async throws {
        let harness = try ProcessHarness()
        defer { harness.cleanUp() }
        let event = Fixtures.example("tumed-2021")
        var (aggregator, port) = try await harness.startAggregator(dataDir: "agg", event: event)
        defer {
            aggregator.terminate()
            aggregator.waitUntilExit()
        }

        // A second serve on the same directory stops, naming the directory and the first one's PID
        let second = try await Self.runExpectingExit(
            harness, "aggregator",
            [
                "serve", "--data-dir", "agg", "--event", event.path, "--listen", "127.0.0.1:0",
            ], log: "second-serve.log")
        #expect(second.status != nil && second.status != 0, "a second serve kept running: \(second.output)")
        #expect(
            second.output.contains("the data directory agg is in use by process \(aggregator.processIdentifier)"),
            "\(second.output)")
        #expect(!second.output.contains("listening on"))

        // Short commands keep working beside the daemon
        try harness.createNode("n", event: event, venue: "tumed", aggregatorURL: "http://127.0.0.1:\(port)")
        #expect(try harness.run("aggregator", ["nodes", "list", "--data-dir", "agg"]).status == 0)

        // The same for the node's daemon
        let daemon = try harness.start("venue-node", ["run", "--data-dir", "n", "--interval", "1"], log: "run.log")
        defer {
            daemon.terminate()
            daemon.waitUntilExit()
        }
        let lockFile = harness.workDirectory.appending(path: "n/.lock").path
        let locked = ContinuousClock.now + .seconds(30)
        while ContinuousClock.now < locked,
            (try? String(contentsOfFile: lockFile, encoding: .utf8))?.contains("\(daemon.processIdentifier)") != true
        {
            try await Task.sleep(for: .milliseconds(50))
        }
        let secondRun = try await Self.runExpectingExit(
            harness, "venue-node", ["run", "--data-dir", "n"],
            log: "second-run.log")
        #expect(secondRun.status != nil && secondRun.status != 0, "a second run kept running: \(secondRun.output)")
        #expect(
            secondRun.output.contains("the data directory n is in use by process \(daemon.processIdentifier)"),
            "\(secondRun.output)")
        #expect(try harness.run("venue-node", ["status", "--data-dir", "n"]).status == 0)

        // Once the first serve has stopped, a new one starts on the directory
        aggregator.terminate()
        aggregator.waitUntilExit()
        (aggregator, port) = try await harness.startAggregator(dataDir: "agg", event: event)
        #expect(port > 0)
    }

    /// An event file in another formatting: keys sorted, pretty-printed, other line ends.
    static func reformatted(_ url: URL) throws -> Data {
        let object = try JSONSerialization.jsonObject(with: Data(contentsOf: url))
        let pretty = try JSONSerialization.data(withJSONObject: object, options: [.prettyPrinted, .sortedKeys])
        return Data(
            ("\n\n" + String(decoding: pretty, as: UTF8.self).replacingOccurrences(of: "\n", with: "\r\n")
                + "\n   \n").utf8)
    }

    @Test func aWhitespaceEditedEventFileIsTheSameEventAndTheRunningAggregatorKeepsAcceptingBatches() async throws {
        let harness = try ProcessHarness()
        defer { harness.cleanUp() }
        let original = Fixtures.example("ordos-2021")
        let edited = harness.workDirectory.appending(path: "edited.json")
        try Self.reformatted(original).write(to: edited)
        #expect(try Data(contentsOf: edited) != Data(contentsOf: original))
        let (aggregator, port) = try await harness.startAggregator(dataDir: "agg", event: original)
        defer {
            aggregator.terminate()
            aggregator.waitUntilExit()
        }
        try harness.createNode("n", event: original, venue: "dongsheng", aggregatorURL: "http://127.0.0.1:\(port)")
        try harness.createNode("m", event: edited, venue: "dalate", aggregatorURL: "http://127.0.0.1:\(port)")
        func checkInAndSync(_ node: String, rep: String) throws {
            let checkin = try harness.run(
                "venue-node",
                [
                    "checkin", "--data-dir", node, "--session", "S1", "--rep", rep,
                    "--category", "party_npc_cppcc",
                ])
            #expect(checkin.status == 0, "\(checkin.stderr)")
            let sync = try harness.run("venue-node", ["sync", "--data-dir", node])
            #expect(sync.status == 0, "\(sync.stdout) \(sync.stderr)")
        }
        try checkInAndSync("n", rep: "R0001")

        // When the edited file is installed in the running aggregator's directory (what a second serve did)
        let loadedOriginal = try EventDefinition.load(contentsOf: original)
        let loadedEdited = try EventDefinition.load(contentsOf: edited)
        #expect(loadedEdited.digest == loadedOriginal.digest)
        #expect(loadedEdited.fileDigest != loadedOriginal.fileDigest)
        let database = try AggregatorDatabase(path: harness.workDirectory.appending(path: "agg/aggregator.sqlite").path)
        try database.install(event: loadedEdited, json: Data(contentsOf: edited))

        // Then it is the same event: no new version, and the running aggregator keeps accepting batches
        let versions = try await database.writerForTests.read { db in
            try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM eventVersion")
        }
        #expect(versions == 1)
        try checkInAndSync("n", rep: "R0002")
        try checkInAndSync("m", rep: "R0003")
    }

    @Test func aNodeThatSendsTheFileDigestOfAnInstalledVersionIsStillAccepted() async throws {
        // Given an aggregator whose event was installed before the canonical identity (the row records the
        // SHA-256 of the file's bytes), then installed again from a reformatted file
        let database = try AggregatorDatabase(writer: DatabaseQueue())
        let json = Data(Fixtures.smallEventJSON.utf8)
        let fileDigest = SHA256.hash(data: json).hexString
        try await database.writerForTests.write { db in
            try db.execute(
                sql: "INSERT INTO eventVersion (eventID, digest, json, loadedAt) VALUES (?, ?, ?, ?)",
                arguments: ["test-2026", fileDigest, Fixtures.smallEventJSON, "2026-01-01T00:00:00Z"])
        }
        let compact = try JSONSerialization.data(withJSONObject: JSONSerialization.jsonObject(with: json))
        let event = try EventDefinition.load(data: compact)
        try database.install(event: event, json: compact)
        #expect(
            try await database.writerForTests.read { db in
                try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM eventVersion")
            } == 1)
        let intake = BatchIntake(database: database, event: event.definition)
        let node = TestSigner()
        try database.enroll(venue: "east", publicKeyBase64: node.publicKeyBase64)

        var head = (seq: Int64(0), hash: RecordChain.genesis)
        func send(eventDigest: String) async throws {
            let records = Fixtures.chain(
                [.checkin(.init(session: "S1", rep: "R\(head.seq + 1)", category: "resident"))],
                afterSeq: head.seq, afterHash: head.hash)
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.withoutEscapingSlashes, .sortedKeys]
            let body = try encoder.encode(
                Batch(
                    event: "test-2026", venue: "east", node: node.nodeID, records: records,
                    eventDigest: eventDigest))
            _ = try await intake.receive(node.request(body))
            head = (records[0].seq, records[0].hash)
        }

        // Then the old file digest (a node from before the canonical identity) and the identity are accepted
        try await send(eventDigest: fileDigest)
        try await send(eventDigest: event.digest)
        #expect(head.seq == 2)

        // And another event's digest is refused, as is the old digest once the event's content has changed
        let other = try #require(
            await #expect(throws: APIError.self) { try await send(eventDigest: String(repeating: "0", count: 64)) })
        #expect(other.body.error.code == .eventMismatch)
        let changedJSON = Data(Fixtures.smallEventJSON.replacingOccurrences(of: "测试活动", with: "测试活动（修订）").utf8)
        let changed = try EventDefinition.load(data: changedJSON)
        #expect(changed.digest != event.digest)
        try database.install(event: changed, json: changedJSON)
        let stale = try #require(await #expect(throws: APIError.self) { try await send(eventDigest: fileDigest) })
        #expect(stale.body.error.code == .eventMismatch)
        try await send(eventDigest: changed.digest)
        #expect(head.seq == 3)
    }
}
