import Foundation
import GRDB
import Testing

/// The operators' drills: restart, upgrade, reimage, new hardware. Each starts from data directories
/// written by the first release (Fixtures/release-1) and runs the real binaries.
@Suite(.serialized) struct RedeployDrillTests {
    /// Copies the release-1 directories into a fresh harness and starts their aggregator.
    func setUp() async throws -> (ProcessHarness, Process, Int) { try await ProcessHarness.startingRelease(1) }

    func lines(_ text: String) -> [String] { text.split(separator: "\n").map(String.init) }

    @Test func upgradeANewBinaryOpensTheFirstReleasesDataAndKeepsEverything() async throws {
        let (harness, aggregator, _) = try await setUp()
        defer {
            aggregator.terminate()
            harness.cleanUp()
        }
        let verify = try harness.run("venue-node", ["verify", "--data-dir", "node"])
        #expect(verify.stdout.hasPrefix("chain ok: 84 record(s)"), "\(verify.stderr)")
        let status = try harness.run("venue-node", ["status", "--data-dir", "node"])
        #expect(status.stdout.contains("pending:          2"), "\(status.stdout)")
        #expect(try harness.run("venue-node", ["sync", "--data-dir", "node"]).status == 0)
        let boxes = try harness.run("aggregator", ["export", "boxes", "--data-dir", "agg", "--csv"])
        #expect(
            lines(boxes.stdout) == [
                "venue,session,box,opened,closed,issued,returned,valid,blank,spoiled",
                "tumed,S1,B1,1,1,40,40,36,3,0",
            ])
        let attendance = try harness.run("aggregator", ["export", "attendance", "--data-dir", "agg", "--csv"])
        #expect(
            lines(attendance.stdout) == [
                "venue,session,category,checked_in", "tumed,S1,party_deputy,40",
                "tumed,S2,party_deputy,1",
            ])
        // Migration v3 derived the marks per box from the release-1 records: the same marks as the tallies.
        let database = try DatabaseQueue(path: harness.workDirectory.appending(path: "agg/aggregator.sqlite").path)
        let sums = try await database.read { db in
            (
                try Int.fetchOne(db, sql: "SELECT SUM(count) FROM tally"),
                try Int.fetchOne(db, sql: "SELECT SUM(count) FROM boxTally")
            )
        }
        #expect(sums.0 == 36 * 12)
        #expect(sums.1 == sums.0)
    }

    @Test func restartResumesWithoutResendingAcknowledgedData() async throws {
        let (harness, aggregator, _) = try await setUp()
        defer {
            aggregator.terminate()
            harness.cleanUp()
        }
        let aggregatorLog = try #require(
            try FileManager.default.contentsOfDirectory(atPath: harness.workDirectory.path)
                .first { $0.hasPrefix("aggregator-") })
        func accepted() throws -> [String] {
            lines(try String(contentsOf: harness.workDirectory.appending(path: aggregatorLog), encoding: .utf8))
                .filter { $0.contains("batch accepted") }
        }
        func runDaemon(seconds: Int) async throws {
            let daemon = try harness.start(
                "venue-node", ["run", "--data-dir", "node", "--interval", "1"],
                log: "daemon.log")
            try await Task.sleep(for: .seconds(seconds))
            kill(daemon.processIdentifier, SIGTERM)
            daemon.waitUntilExit()
            #expect(daemon.terminationStatus == 0)
        }
        try await runDaemon(seconds: 3)
        #expect(try accepted().count == 1)
        #expect(try accepted().first?.contains("batch.first=83") == true)
        // Restarted, with nothing new: nothing is sent again.
        try await runDaemon(seconds: 3)
        #expect(try accepted().count == 1)
        // Restarted after a new record: only that record is sent.
        #expect(
            try harness.run(
                "venue-node",
                [
                    "checkin", "--data-dir", "node", "--session", "S2", "--rep", "R2",
                    "--category", "party_deputy",
                ]
            ).status == 0)
        try await runDaemon(seconds: 3)
        #expect(try accepted().count == 2)
        #expect(try accepted().last?.contains("batch.first=85") == true)
    }

    /// A new data directory with a new key for the same venue, enrolled at the aggregator, restored.
    func redeploy(_ harness: ProcessHarness, port: Int, as name: String) throws {
        let event = harness.workDirectory.appending(path: "agg-event.json")
        if !FileManager.default.fileExists(atPath: event.path) {
            try FileManager.default.copyItem(at: Fixtures.example("tumed-2021"), to: event)
        }
        let enrolled = try harness.createNode(
            name, event: event, venue: "tumed", aggregatorURL: "http://127.0.0.1:\(port)")
        #expect(enrolled.contains("epoch 2"), "\(enrolled)")
        let restored = try harness.run("venue-node", ["restore", "--data-dir", name])
        #expect(restored.status == 0, "\(restored.stderr)")
        #expect(
            restored.stdout.contains("restored 82 record(s) of venue tumed; the next record is 83"),
            "\(restored.stdout)")
    }

    @Test func reimageTheLostStateDirectoryIsRestoredAndNumberingContinues() async throws {
        let (harness, aggregator, port) = try await setUp()
        defer {
            aggregator.terminate()
            harness.cleanUp()
        }
        // The machine is reimaged: the node's state directory (and its two pending records) is gone.
        try FileManager.default.removeItem(at: harness.workDirectory.appending(path: "node"))
        try redeploy(harness, port: port, as: "node2")
        #expect(
            try harness.run("venue-node", ["verify", "--data-dir", "node2"]).stdout.hasPrefix("chain ok: 82 record(s)"))
        #expect(
            try harness.run(
                "venue-node",
                [
                    "checkin", "--data-dir", "node2", "--session", "S2", "--rep", "R9",
                    "--category", "party_deputy",
                ]
            ).stdout.hasPrefix("saved record 83"))
        #expect(try harness.run("venue-node", ["sync", "--data-dir", "node2"]).status == 0)
        let listed = try harness.run("aggregator", ["nodes", "list", "--data-dir", "agg"])
        #expect(
            lines(listed.stdout).filter { $0.contains(" current ") && $0.contains(" 83 ") }.count == 1,
            "\(listed.stdout)")
        let attendance = try harness.run("aggregator", ["export", "attendance", "--data-dir", "agg", "--csv"])
        #expect(
            lines(attendance.stdout) == [
                "venue,session,category,checked_in", "tumed,S1,party_deputy,40",
                "tumed,S2,party_deputy,1",
            ])
    }

    @Test func newHardwareTheVenueContinuesUnderANewEpochAndTheOldKeyIsRefused() async throws {
        let (harness, aggregator, port) = try await setUp()
        defer {
            aggregator.terminate()
            harness.cleanUp()
        }
        // The old node syncs what it has, then new hardware takes over the venue.
        #expect(try harness.run("venue-node", ["sync", "--data-dir", "node"]).status == 0)
        let event = harness.workDirectory.appending(path: "agg-event.json")
        try FileManager.default.copyItem(at: Fixtures.example("tumed-2021"), to: event)
        try harness.createNode("new", event: event, venue: "tumed", aggregatorURL: "http://127.0.0.1:\(port)")
        #expect(
            try harness.run("venue-node", ["restore", "--data-dir", "new"]).stdout.contains("the next record is 85"))

        // The old machine, still running somewhere, records and tries to send: refused, kept as evidence.
        #expect(
            try harness.run(
                "venue-node",
                [
                    "checkin", "--data-dir", "node", "--session", "S2", "--rep", "R7",
                    "--category", "party_deputy",
                ]
            ).status == 0)
        let zombie = try harness.run("venue-node", ["sync", "--data-dir", "node", "--from-seq", "85"])
        #expect(zombie.status == 1)
        #expect(zombie.stderr.contains("403 stale_epoch"), "\(zombie.stderr)")
        #expect(try harness.run("aggregator", ["alarms", "--data-dir", "agg"]).stdout.contains("stale_epoch"))

        // The new node continues the venue's chain.
        #expect(
            try harness.run(
                "venue-node",
                [
                    "checkin", "--data-dir", "new", "--session", "S2", "--rep", "R8",
                    "--category", "party_deputy",
                ]
            ).stdout.hasPrefix("saved record 85"))
        #expect(try harness.run("venue-node", ["sync", "--data-dir", "new"]).status == 0)
        let attendance = try harness.run("aggregator", ["export", "attendance", "--data-dir", "agg", "--csv"])
        #expect(
            lines(attendance.stdout) == [
                "venue,session,category,checked_in", "tumed,S1,party_deputy,40",
                "tumed,S2,party_deputy,2",
            ])
    }
}
