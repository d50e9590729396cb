import Aggregator
import Foundation
import Logging
import Shared
import Testing

/// `aggregator serve --database postgres://…` (issue #20): several aggregator processes on one PostgreSQL database,
/// one identity key, and a real `venue-node` that fails over between them.
@Suite struct ReplicaServeTests {
    /// Two `aggregator serve --database` on a new database of the tests' server, with one identity key.
    struct Replicas {
        var harness: ProcessHarness
        var url: String
        var eventURL: URL
        var publicKey: String
        var options: [String]
        var processes: [Process]
        var ports: [Int]

        init(_ harness: ProcessHarness) async throws {
            self.harness = harness
            url = try PostgresServer.start().createDatabase()
            eventURL = harness.workDirectory.appending(
                path: try harness.write(Fixtures.smallEventJSON, to: "event.json"))
            // One identity for both: the key file of an aggregator made for it.
            #expect(
                try harness.run("aggregator", ["init", "--data-dir", "keys", "--event", eventURL.path]).status == 0)
            publicKey = try harness.run("aggregator", ["identity", "--data-dir", "keys"]).stdout
                .trimmingCharacters(in: .whitespacesAndNewlines)
            options = [
                "--database", url, "--identity-key", harness.workDirectory.appending(path: "keys/aggregator.key").path,
                "--rate-limit", "0",
            ]
            (processes, ports) = ([], [])
            for name in ["a", "b"] {
                let (process, port) = try await harness.startAggregator(
                    dataDir: name, event: eventURL, options: options)
                processes.append(process)
                ports.append(port)
            }
        }

        func stop() {
            for process in processes { process.terminate() }
        }

        /// Kills replica `index` (SIGKILL).
        func kill(_ index: Int) async {
            Foundation.kill(processes[index].processIdentifier, SIGKILL)
            await harness.waitForExit(processes[index])
        }

        /// Starts replica `index` again on its port.
        mutating func restart(_ index: Int) async throws {
            (processes[index], ports[index]) = try await harness.startAggregator(
                dataDir: ["a", "b"][index], event: eventURL, port: ports[index], options: options)
        }

        /// A node of venue east, enrolled with a token issued on the shared database, given `aggregator` and
        /// `replicas`.
        func createNode(aggregator: String, replicas: [String] = []) throws {
            let issued = try harness.run("aggregator", ["nodes", "enroll", "--database", url, "--venue", "east"])
            #expect(issued.status == 0, "\(issued.stderr)")
            let created = try harness.run(
                "venue-node",
                [
                    "init", "--data-dir", "n", "--event", eventURL.path, "--venue", "east", "--aggregator", aggregator,
                    "--token", issued.stdout.trimmingCharacters(in: .whitespacesAndNewlines), "--aggregator-key",
                    publicKey,
                ] + replicas.flatMap { ["--replica", $0] })
            #expect(created.status == 0, "\(created.stderr)")
        }

        /// Opens box B`box` of S1 at the node: one record.
        func record(_ box: Int) throws {
            let opened = try harness.run(
                "venue-node", ["box", "open", "--data-dir", "n", "--session", "S1", "--box", "B\(box)"])
            #expect(opened.status == 0, "\(opened.stderr)")
        }

        func sync() throws {
            let synced = try harness.run("venue-node", ["sync", "--data-dir", "n"])
            #expect(synced.status == 0, "\(synced.stdout) \(synced.stderr)")
        }

        /// Syncs as the daemon does: again after a failure (a load balancer that still counts a restarted replica as
        /// down answers 502 until its fail timeout passes), up to ten times half a second apart.
        func syncRetrying() async throws {
            var output = ""
            for _ in 0..<10 {
                let synced = try harness.run("venue-node", ["sync", "--data-dir", "n"])
                if synced.status == 0 { return }
                output = synced.stdout + synced.stderr
                try await Task.sleep(for: .milliseconds(500))
            }
            Issue.record("the node did not sync in ten tries: \(output)")
        }

        /// Records 1…9 held once, in order, nine boxes counted once, no alarm, nothing pending at the node.
        func expectNineBoxesOnce(_ store: PostgresStore) throws {
            #expect(try store.storedRecords(venue: "east").map(\.seq) == Array(1...9))
            let boxes = try store.totals(eventID: "test-2026").boxes
            #expect(boxes.map(\.box) == (1...9).map { "B\($0)" })
            #expect(boxes.allSatisfy { $0.opened == 1 })
            #expect(try store.alarms().isEmpty)
            let status = try harness.run("venue-node", ["status", "--data-dir", "n"])
            #expect(status.stdout.contains("acknowledged:     9\npending:          0\n"), "\(status.stdout)")
        }
    }

    @Test func twoAggregatorsOnOneDatabaseTakeANodesRecordsOnceWhicheverIsDown() async throws {
        let harness = try ProcessHarness()
        defer { harness.cleanUp() }
        var replicas = try await Replicas(harness)
        defer { replicas.stop() }
        // The central office issues a token on the shared database; the node enrols through the first aggregator.
        try replicas.createNode(
            aggregator: "http://127.0.0.1:\(replicas.ports[0])", replicas: ["http://127.0.0.1:\(replicas.ports[1])"])
        let store = try PostgresStore(url: replicas.url)
        defer { store.close() }

        // Records 1–3 through the first aggregator.
        for box in 1...3 { try replicas.record(box) }
        try replicas.sync()
        #expect(try store.storedRecords(venue: "east").count == 3)

        // The first is killed: records 4–6 reach the second, and their receipts verify (one identity).
        await replicas.kill(0)
        for box in 4...6 { try replicas.record(box) }
        try replicas.sync()
        #expect(try store.storedRecords(venue: "east").count == 6)

        // The first comes back and the second is killed: records 7–9 reach the first again.
        try await replicas.restart(0)
        await replicas.kill(1)
        for box in 7...9 { try replicas.record(box) }
        try replicas.sync()
        try replicas.expectNineBoxesOnce(store)
    }

    /// A batch committed through one aggregator reaches a dashboard stream attached to the other: the merge's
    /// notification (LISTEN/NOTIFY) tells the other aggregator, whose hub sends the new state. Without it the other
    /// aggregator's stream would never change (nothing was sent to it).
    @Test func aBatchTakenByOneAggregatorReachesTheDashboardStreamOfTheOther() async throws {
        let harness = try ProcessHarness()
        defer { harness.cleanUp() }
        let replicas = try await Replicas(harness)
        defer { replicas.stop() }
        let token = try harness.run(
            "aggregator", ["tokens", "add", "--database", replicas.url, "--role", "observer", "--name", "screen"])
        try #require(token.status == 0, "\(token.stderr)")
        let bearer = token.stdout.trimmingCharacters(in: .whitespacesAndNewlines)
        try replicas.createNode(aggregator: "http://127.0.0.1:\(replicas.ports[0])")

        // A dashboard's stream on the second aggregator: its first state holds nothing of venue east.
        let stream = try RawConnection(port: replicas.ports[1])
        stream.send(
            "GET /v1/events?token=\(bearer) HTTP/1.1\r\nHost: 127.0.0.1\r\nAccept: text/event-stream\r\n\r\n")
        stream.read(for: .seconds(20)) { stream.text.contains("event: state") }
        #expect(stream.text.hasPrefix("HTTP/1.1 200"), "\(stream.text)")
        #expect(stream.text.contains(#""id":"east""#) && !stream.text.contains(#""held_seq":3"#))

        // Three records synced through the first aggregator show on the second's stream.
        for box in 1...3 { try replicas.record(box) }
        try replicas.sync()
        let synced = ContinuousClock.now
        stream.read(for: .seconds(20)) { stream.text.contains(#""held_seq":3"#) }
        #expect(stream.text.contains(#""held_seq":3"#), "\(stream.text.suffix(2_000))")
        print("the second aggregator's stream had the batch \(synced.duration(to: .now)) after the sync returned")

        // And its dashboard state and reconciliation say the same (read from the shared database).
        for path in ["/v1/dashboard", "/v1/reconciliation"] {
            let plain = try RawConnection(port: replicas.ports[1])
            plain.send(
                "GET \(path) HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer \(bearer)\r\nConnection: close\r\n\r\n"
            )
            plain.waitForClose(within: .seconds(20))
            #expect(plain.text.hasPrefix("HTTP/1.1 200"), "\(plain.text)")
            #expect(plain.text.contains(#""seq":3"#) || plain.text.contains(#""held_seq":3"#), "\(path): \(plain.text)")
        }

        // A command on the shared database reaches it too: the node revoked, east shows no current node.
        let frames = stream.text.components(separatedBy: "event: state").count
        let store = try PostgresStore(url: replicas.url)
        defer { store.close() }
        let id = try #require(try store.nodes().first?.id)
        let revoked = try harness.run(
            "aggregator", ["nodes", "revoke", "--database", replicas.url, "--node", id, "--reason", "test", "--yes"])
        #expect(revoked.status == 0, "\(revoked.stderr)")
        stream.read(for: .seconds(20)) { stream.text.components(separatedBy: "event: state").count > frames }
        #expect(stream.text.components(separatedBy: "event: state").count > frames, "no state after the revocation")
        #expect(stream.text.components(separatedBy: "event: state").last?.contains(#""held_seq":0"#) == true)
    }

    /// The central office's commands on the shared database (`--database URL`), as on a data directory: the roster,
    /// the report, releases, exports, alarms, held-out records, outside tallies (signed with the shared key), suggestions.
    @Test func theCentralOfficesCommandsWorkOnTheSharedDatabase() async throws {
        let harness = try ProcessHarness()
        defer { harness.cleanUp() }
        let replicas = try await Replicas(harness)
        defer { replicas.stop() }
        let url = replicas.url
        try replicas.createNode(aggregator: "http://127.0.0.1:\(replicas.ports[0])")
        for box in 1...2 { try replicas.record(box) }
        try replicas.sync()
        func run(_ arguments: [String], environment: [String: String] = [:]) throws -> ProcessHarness.Output {
            let output = try harness.runWith(environment: environment, "aggregator", arguments)
            #expect(output.status == 0, "\(arguments): \(output.stderr)")
            return output
        }

        // The roster: imported once for every replica, each venue's part exported from it.
        let rows = (1...3).map { "E\($0),代表\($0),\(IDNumbers.make(40 + $0)),resident,east,S1" }
        let roster = try harness.write(
            (["rep_id,name,id_number,category,venue,sessions"] + rows).joined(separator: "\n") + "\n", to: "roster.csv")
        let secret = ["SANMIN_ROSTER_SECRET": Data(repeating: 9, count: 32).base64EncodedString()]
        #expect(
            try run(["roster", "import", "--database", url, roster], environment: secret).stdout.contains("east: 3"))
        let exported = try run(["roster", "export", "--database", url, "--venue", "east"]).stdout
        #expect(exported.split(separator: "\n").count == 4 && !exported.contains(IDNumbers.make(41)))

        // The report and the exports read the shared database.
        let report = try run(["report", "--database", url, "--json"]).stdout
        #expect(report.contains(#""seq" : 2"#), "\(report)")
        #expect(try run(["export", "boxes", "--database", url, "--csv"]).stdout.contains("east,S1,B2,1,0"))
        #expect(try run(["alarms", "--database", url]).status == 0)
        #expect(try run(["held-out", "list", "--database", url]).status == 0)
        #expect(try run(["suggestions", "list", "--database", url]).status == 0)
        #expect(
            try run(["results", "release", "--database", url, "--by", "监督检查组"]).stdout == "results released by 监督检查组\n")
        #expect(try run(["results", "release", "--database", url, "--by", "又一次"]).stdout.contains("already released"))

        // An outside tally is signed with the key every replica has: without it, refused.
        let key = harness.workDirectory.appending(path: "keys/aggregator.key").path
        let unsigned = try harness.run(
            "aggregator",
            [
                "tally", "enter", "--database", url, "--department", "D01", "--count", "satisfied=1", "--source", "x",
                "--by", "王芳",
            ])
        #expect(unsigned.status != 0 && unsigned.stderr.contains("--database needs --identity-key FILE"))
        let inSessions = try harness.run(
            "aggregator",
            [
                "tally", "enter", "--database", url, "--identity-key", key, "--department", "D01", "--count",
                "satisfied=1", "--source", "x", "--by", "王芳",
            ])
        #expect(inSessions.status != 0 && inSessions.stderr.contains("evaluated_in_sessions"), "\(inSessions.stderr)")
        #expect(try run(["tally", "list", "--database", url, "--identity-key", key]).stdout == "no tallies entered\n")
        // The shared key's public half, from the key file alone (what every node is given).
        #expect(try run(["identity", "--identity-key", key]).stdout == replicas.publicKey + "\n")
        let nothing = try harness.run("aggregator", ["identity"])
        #expect(nothing.status != 0 && nothing.stderr.contains("give --data-dir DIR, or --identity-key FILE"))
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

    /// The same routes as one aggregator on SQLite, each with the same access rule (`RouteAccessTests.expected`).
    @Test func anAggregatorOnADatabaseServesEveryRouteWithItsAccessRule() throws {
        var routes: [DeclaredRoute] = []
        let store = try PostgresStore(url: try PostgresServer.start().createDatabase())
        defer { store.close() }
        let hub = DashboardHub(database: store, logger: Logger(label: "test"))
        _ = buildSharedRouter(
            intake: Intake(database: store, event: Fixtures.smallEvent), settings: AggregatorSettings(), hub: hub,
            publisher: hub, metrics: IngestMetrics()
        ) { routes = $0 }
        #expect(Set(routes.map(\.description)) == RouteAccessTests.expected)
        #expect(routes.count == RouteAccessTests.expected.count)
    }
}
