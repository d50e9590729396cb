import Aggregator
import Foundation
import GRDB
import Shared
import Testing

/// A standby laptop at the venue (issue #15), with the real binaries: the primary records offline while the standby
/// follows it over the LAN; the primary is killed and its data directory deleted; the standby is promoted, keeps
/// recording, and when the network returns the aggregator holds every record exactly once. Promotion while the
/// primary still answers is refused, and a following standby records nothing of its own.
@Suite(.serialized) struct StandbyEndToEndTests {
    @Test func theStandbyTakesOverWhenThePrimaryDiesAndNothingIsLostOrCountedTwice() async throws {
        let harness = try ProcessHarness()
        defer { harness.cleanUp() }
        let eventURL = harness.workDirectory.appending(
            path: try harness.write(Fixtures.smallEventJSON, to: "event.json"))

        // Before the doors open: the aggregator, the primary (enrolled), the standby (its token kept for later)
        var (aggregator, port) = try await harness.startAggregator(dataDir: "agg", event: eventURL)
        let aggregatorKey = try #require(
            try harness.run("aggregator", ["identity", "--data-dir", "agg"]).stdout.split(separator: "\n").last
                .map(String.init))
        func initNode(_ dataDir: String) throws -> String {
            let created = try harness.run(
                "venue-node",
                [
                    "init", "--data-dir", dataDir, "--event", eventURL.path, "--venue", "east", "--aggregator",
                    "http://127.0.0.1:\(port)", "--aggregator-key", aggregatorKey,
                ])
            #expect(created.status == 0, "\(created.stderr)")
            return try #require(
                created.stdout.split(separator: "\n").first { $0.hasPrefix("public key:") }?.split(separator: " ")
                    .last.map(String.init))
        }
        let primaryKey = try initNode("east")
        let standbyKey = try initNode("standby")
        #expect(
            try harness.run(
                "aggregator", ["nodes", "add", "--data-dir", "agg", "--venue", "east", "--public-key", primaryKey]
            ).status == 0)
        let token = try harness.run(
            "aggregator", ["nodes", "enroll", "--data-dir", "agg", "--venue", "east", "--valid-hours", "24"]
        ).stdout.trimmingCharacters(in: .whitespacesAndNewlines)
        #expect(token.hasPrefix("sme_"))
        #expect(
            try harness.run("venue-node", ["standby", "allow", "--data-dir", "east", "--key", standbyKey]).status == 0)
        func checkins(_ dataDir: String, _ reps: ClosedRange<Int>) throws -> Int32 {
            let rows = ["session,rep,category"] + reps.map { "S1,R\($0),resident" }
            let file = try harness.write(rows.joined(separator: "\n") + "\n", to: "c\(dataDir)\(reps.lowerBound).csv")
            return try harness.run("venue-node", ["import", "--data-dir", dataDir, "--checkins", file]).status
        }
        // The first 5 check-ins reach the aggregator (an import: its marker record and 5 check-ins, records 1…6),
        #expect(try checkins("east", 1...5) == 0)
        #expect(try harness.run("venue-node", ["sync", "--data-dir", "east"]).status == 0)
        // and then the network goes down for the rest of the session.
        aggregator.terminate()
        await harness.waitForExit(aggregator)

        let primary = try harness.start(
            "venue-node", ["run", "--data-dir", "east", "--interval", "1", "--standby-listen", "127.0.0.1:0"],
            log: "primary.log")
        let listening = try await harness.waitForLine(startingWith: "standby listening on ", in: "primary.log")
        let standbyPort = try #require(Int(listening.split(separator: ":").last ?? ""))
        let follower = try harness.start(
            "venue-node",
            [
                "follow", "--data-dir", "standby", "--primary", "http://127.0.0.1:\(standbyPort)", "--primary-key",
                primaryKey, "--token", token, "--interval", "1",
            ], log: "follower.log")

        // When the primary records 25 more check-ins offline (records 7…32)
        #expect(try checkins("east", 6...30) == 0)

        // Then the standby holds all 32 within moments (and the primary's receipt for 1…6); the primary's status says so
        func copied(_ count: Int) async throws -> Bool {
            for _ in 0..<200 {
                let status = try harness.run("venue-node", ["status", "--data-dir", "standby"]).stdout
                if status.contains("records copied:   \(count) ") { return true }
                try await Task.sleep(for: .milliseconds(100))
            }
            return false
        }
        #expect(try await copied(32), "the standby never held the 32 records")
        var primaryStatus = ""
        for _ in 0..<100 where !primaryStatus.contains("holds 32 of 32 (0 behind)") {
            primaryStatus = try harness.run("venue-node", ["status", "--data-dir", "east"]).stdout
            try await Task.sleep(for: .milliseconds(100))
        }
        #expect(primaryStatus.contains("holds 32 of 32 (0 behind)"), "\(primaryStatus)")

        // And the standby records nothing of its own while it follows, and is not promoted while the primary answers
        let ownRecord = try harness.run(
            "venue-node",
            ["checkin", "--data-dir", "standby", "--session", "S1", "--rep", "R99", "--category", "resident"])
        #expect(ownRecord.status != 0)
        #expect(ownRecord.stderr.contains("this node is a standby following"), "\(ownRecord.stderr)")
        let early = try harness.run("venue-node", ["promote", "--data-dir", "standby"])
        #expect(early.status != 0)
        #expect(early.stderr.contains("still answers (its chain ends at record 32)"), "\(early.stderr)")

        // When the primary's laptop dies with its disk
        kill(primary.processIdentifier, SIGKILL)
        await harness.waitForExit(primary)
        try FileManager.default.removeItem(at: harness.workDirectory.appending(path: "east"))
        follower.terminate()
        await harness.waitForExit(follower)

        // Then the standby is promoted (the aggregator out of reach) and goes on recording from record 33
        let promoted = try harness.run("venue-node", ["promote", "--data-dir", "standby"])
        #expect(promoted.status == 0, "\(promoted.stderr)")
        #expect(promoted.stdout.contains("the aggregator is out of reach now"), "\(promoted.stdout)")
        #expect(promoted.stdout.contains("holding records 1…32; the next record is 33"), "\(promoted.stdout)")
        #expect(try checkins("standby", 31...40) == 0)
        let head = try harness.run("venue-node", ["status", "--data-dir", "standby"]).stdout
        #expect(head.contains("records:          43 "), "\(head)")
        #expect(head.contains("acknowledged:     6\n"), "the primary's receipt was kept: \(head)")
        #expect(head.contains("promoted:"), "\(head)")

        // And when the network returns, one sync enrols it as the venue's next epoch and sends only what is missing
        (aggregator, port) = try await harness.startAggregator(dataDir: "agg", event: eventURL, port: port)
        let synced = try harness.run("venue-node", ["sync", "--data-dir", "standby"])
        #expect(synced.status == 0, "\(synced.stderr)")
        #expect(synced.stdout.contains("sent 37 record(s)"), "\(synced.stdout)")
        #expect(try harness.run("venue-node", ["sync", "--data-dir", "standby"]).status == 0)
        aggregator.terminate()
        await harness.waitForExit(aggregator)

        // The aggregator holds every record exactly once (43: three import markers and 40 check-ins), epoch 2 for the
        // venue
        let database = try AggregatorDatabase(
            path: harness.workDirectory.appending(path: "agg/aggregator.sqlite").path)
        let counts = try database.writerForTests.read { db in
            try Row.fetchOne(
                db,
                sql: """
                    SELECT COUNT(*) AS n, COUNT(DISTINCT seq) AS distinctSeqs, MAX(seq) AS last,
                           (SELECT MAX(epoch) FROM node WHERE venue = 'east') AS epoch
                    FROM record WHERE venue = 'east'
                    """)
        }
        #expect(counts?["n"] == 43)
        #expect(counts?["distinctSeqs"] == 43)
        #expect(counts?["last"] == 43)
        #expect(counts?["epoch"] == 2)
        let totals = try database.totals(eventID: "test-2026")
        #expect(totals.attendance.map(\.checkedIn).reduce(0, +) == 40)
    }
}
