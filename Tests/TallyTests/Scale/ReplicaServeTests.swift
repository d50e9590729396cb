import Aggregator
import Foundation
import Shared
import Testing

/// `aggregator serve --database postgres://…` (issue #20): several aggregator processes on one PostgreSQL database,
/// one identity key, and a real `venue-node` that fails over between them.
@Suite struct ReplicaServeTests {
    @Test func twoAggregatorsOnOneDatabaseTakeANodesRecordsOnceWhicheverIsDown() async throws {
        let harness = try ProcessHarness()
        defer { harness.cleanUp() }
        let url = try PostgresServer.start().createDatabase()
        let eventURL = harness.workDirectory.appending(
            path: try harness.write(Fixtures.smallEventJSON, to: "event.json"))
        // One identity for both: the key file of an aggregator made for it.
        #expect(try harness.run("aggregator", ["init", "--data-dir", "keys", "--event", eventURL.path]).status == 0)
        let keyFile = harness.workDirectory.appending(path: "keys/aggregator.key").path
        let publicKey = try harness.run("aggregator", ["identity", "--data-dir", "keys"]).stdout
            .trimmingCharacters(in: .whitespacesAndNewlines)
        let options = ["--database", url, "--identity-key", keyFile, "--rate-limit", "0"]
        var (first, firstPort) = try await harness.startAggregator(dataDir: "a", event: eventURL, options: options)
        let (second, secondPort) = try await harness.startAggregator(dataDir: "b", event: eventURL, options: options)
        defer {
            first.terminate()
            second.terminate()
        }

        // The central office issues a token on the shared database; the node enrols through the first aggregator.
        let issued = try harness.run("aggregator", ["nodes", "enroll", "--database", url, "--venue", "east"])
        #expect(issued.status == 0, "\(issued.stderr)")
        let token = issued.stdout.trimmingCharacters(in: .whitespacesAndNewlines)
        let created = try harness.run(
            "venue-node",
            [
                "init", "--data-dir", "n", "--event", eventURL.path, "--venue", "east", "--aggregator",
                "http://127.0.0.1:\(firstPort)", "--replica", "http://127.0.0.1:\(secondPort)", "--token", token,
                "--aggregator-key", publicKey,
            ])
        #expect(created.status == 0, "\(created.stderr)")
        func record(_ box: Int) throws {
            let opened = try harness.run(
                "venue-node", ["box", "open", "--data-dir", "n", "--session", "S1", "--box", "B\(box)"])
            #expect(opened.status == 0, "\(opened.stderr)")
        }
        func sync() throws {
            let synced = try harness.run("venue-node", ["sync", "--data-dir", "n"])
            #expect(synced.status == 0, "\(synced.stdout) \(synced.stderr)")
        }
        let store = try PostgresStore(url: url)
        defer { store.close() }

        // Records 1–3 through the first aggregator.
        for box in 1...3 { try record(box) }
        try sync()
        #expect(try store.storedRecords(venue: "east").count == 3)

        // The first is killed: records 4–6 reach the second, and their receipts verify (one identity).
        kill(first.processIdentifier, SIGKILL)
        await harness.waitForExit(first)
        for box in 4...6 { try record(box) }
        try sync()
        #expect(try store.storedRecords(venue: "east").count == 6)

        // The first comes back and the second is killed: records 7–9 reach the first again.
        (first, firstPort) = try await harness.startAggregator(
            dataDir: "a", event: eventURL, port: firstPort, options: options)
        kill(second.processIdentifier, SIGKILL)
        await harness.waitForExit(second)
        for box in 7...9 { try record(box) }
        try sync()

        // Each record once, in the node's order; the totals count nine boxes opened; no alarm.
        let held = try store.storedRecords(venue: "east")
        #expect(held.map(\.seq) == Array(1...9))
        let boxes = try store.totals(eventID: "test-2026").boxes
        #expect(boxes.map(\.box) == (1...9).map { "B\($0)" })
        #expect(boxes.allSatisfy { $0.opened == 1 })
        #expect(try store.alarms().isEmpty)
        let status = try harness.run("venue-node", ["status", "--data-dir", "n"])
        #expect(status.stdout.contains("acknowledged:     9\npending:          0\n"), "\(status.stdout)")
    }

    @Test func serveOnADatabaseNeedsTheSharedIdentityKey() throws {
        let harness = try ProcessHarness()
        defer { harness.cleanUp() }
        let eventURL = harness.workDirectory.appending(
            path: try harness.write(Fixtures.smallEventJSON, to: "event.json"))
        let refused = try harness.run(
            "aggregator",
            [
                "serve", "--data-dir", "a", "--event", eventURL.path, "--database",
                "postgres://tally@127.0.0.1:9/none", "--listen", "127.0.0.1:0",
            ])
        #expect(refused.status != 0)
        #expect(refused.stderr.contains("--database needs --identity-key FILE"), "\(refused.stderr)")
        #expect(!FileManager.default.fileExists(atPath: harness.workDirectory.appending(path: "a").path))
    }

    @Test func anAggregatorOnADatabaseServesWhatNodesCallAndNothingElse() throws {
        var routes: [DeclaredRoute] = []
        let store = try PostgresStore(url: try PostgresServer.start().createDatabase())
        defer { store.close() }
        _ = buildNodeRouter(
            intake: Intake(database: store, event: Fixtures.smallEvent), settings: AggregatorSettings(),
            metrics: IngestMetrics()
        ) { routes = $0 }
        #expect(
            Set(routes.map(\.description)) == [
                "GET /healthz (open)", "GET /readyz (observer token)", "GET /metrics (observer token)",
                "POST /v1/batches (node signature)", "POST /v1/heartbeats (node signature)",
                "POST /v1/enrolments (node signature)", "GET /v1/identity (open)",
                "GET /v1/heads (node signature or observer token)",
                "GET /v1/nodes/{id}/cursor (node signature or observer token)",
                "GET /v1/nodes/{id}/records (node signature or observer token)",
            ])
    }
}
