import Foundation
import GRDB
import Shared
import Testing

/// Real processes on 127.0.0.1: an aggregator and three venue nodes of the Ordos 2021 event.
@Suite(.serialized) struct EndToEndTests {
    static let marks = ["satisfied", "basically_satisfied", "dissatisfied"]

    /// Ground truth: what the nodes reported as saved, summed the way the exports print it.
    struct Truth {
        var tallies: [String: Int] = [:]
        var attendance: [String: Int] = [:]

        var talliesCSV: [String] {
            ["venue,session,department,mark,count"] + tallies.keys.sorted().map { "\($0),\(tallies[$0]!)" }
        }

        var attendanceCSV: [String] {
            ["venue,session,category,checked_in"] + attendance.keys.sorted().map { "\($0),\(attendance[$0]!)" }
        }
    }

    /// Check-ins and ballots for one venue and session, as the CSV files a scanner would export.
    static func sessionData(
        venue: String, venueIndex: Int, session: String, count: Int, event: EventDefinition,
        truth: inout Truth
    ) -> (checkins: String, ballots: String) {
        let categories = event.quota(venue: venue, session: session)!.counts.filter { $0.value > 0 }.keys.sorted()
        let departments = event.ballotDepartments(session: session)!.map(\.id)
        var checkins = ["session,rep,category"]
        var ballots = ["session,box,status," + departments.joined(separator: ",")]
        for index in 0..<count {
            let category = categories[index % categories.count]
            checkins.append("\(session),\(venue)-\(session)-\(index),\(category)")
            truth.attendance["\(venue),\(session),\(category)", default: 0] += 1
            if index % 10 == 3 {
                ballots.append("\(session),B1,blank" + String(repeating: ",", count: departments.count))
            } else if index % 17 == 5 {
                ballots.append("\(session),B1,spoiled" + String(repeating: ",", count: departments.count))
            } else {
                let row = departments.enumerated().map { position, department in
                    let mark = marks[(index * 7 + position * 3 + venueIndex) % marks.count]
                    truth.tallies["\(venue),\(session),\(department),\(mark)", default: 0] += 1
                    return mark
                }
                ballots.append("\(session),B1,valid," + row.joined(separator: ","))
            }
        }
        return (checkins.joined(separator: "\n") + "\n", ballots.joined(separator: "\n") + "\n")
    }

    @Test func threeNodesSyncThroughResendsAndAnAggregatorKilledMidSync() async throws {
        let harness = try ProcessHarness()
        defer { harness.cleanUp() }
        let eventURL = Fixtures.example("ordos-2021")
        let event = try EventDefinition.load(contentsOf: eventURL).definition
        let venues = ["main", "dongsheng", "dalate"]
        var truth = Truth()

        // Given an aggregator and three enrolled nodes
        var (aggregator, port) = try await harness.startAggregator(dataDir: "agg", event: eventURL)
        defer { if aggregator.isRunning { aggregator.terminate() } }
        for venue in venues {
            try harness.createNode(venue, event: eventURL, venue: venue, aggregatorURL: "http://127.0.0.1:\(port)")
        }

        // When each records session S1 offline and syncs
        for (index, venue) in venues.enumerated() {
            let data = Self.sessionData(
                venue: venue, venueIndex: index, session: "S1", count: 30, event: event,
                truth: &truth)
            try record(harness, venue: venue, session: "S1", data: data, count: 30)
            let synced = try harness.run("venue-node", ["sync", "--data-dir", venue])
            #expect(synced.status == 0, "\(synced.stderr)")
        }
        try expectExports(harness, truth)

        // And every batch is sent again, cut differently
        for venue in venues {
            let resent = try harness.run(
                "venue-node",
                [
                    "sync", "--data-dir", venue, "--from-seq", "1",
                    "--batch-size", "7",
                ])
            #expect(resent.status == 0, "\(resent.stderr)")
            #expect(resent.stdout.contains("sent 64 record(s) in 10 batch(es)"), "\(resent.stdout)")
        }
        try expectExports(harness, truth)

        // And the aggregator is killed with SIGKILL while a node is in the middle of a long sync
        let data = Self.sessionData(
            venue: "main", venueIndex: 0, session: "S2", count: 300, event: event,
            truth: &truth)
        try record(harness, venue: "main", session: "S2", data: data, count: 300)
        let nodeID = try nodeID(harness, venue: "main")
        let sync = try harness.start(
            "venue-node",
            [
                "sync", "--data-dir", "main", "--batch-size", "1",
                "--timeout", "5",
            ], log: "main-sync.log")
        let aggregatorDB = try DatabaseQueue(
            path: harness.workDirectory.appending(path: "agg/aggregator.sqlite").path,
            configuration: {
                var c = Configuration()
                c.readonly = true
                return c
            }())
        // Watched and killed from a thread of its own: on a loaded machine an async task may not run for seconds,
        // and the sync would be over before the kill.
        let pid = aggregator.processIdentifier
        let syncPID = sync.processIdentifier
        try await harness.onOwnThread {
            let deadline = ContinuousClock.now + .seconds(60)
            var held: Int64 = 0
            while ContinuousClock.now < deadline, kill(syncPID, 0) == 0, held < 64 + 40 {
                held = try aggregatorDB.read { db in
                    try Int64.fetchOne(db, sql: "SELECT MAX(seq) FROM record WHERE nodeID = ?", arguments: [nodeID])
                        ?? 0
                }
                usleep(5_000)
            }
            kill(pid, SIGKILL)
        }
        try aggregatorDB.close()
        aggregator.waitUntilExit()
        sync.waitUntilExit()
        #expect(sync.terminationStatus != 0, "the sync should have been cut off by the kill")

        // Then after a restart every node syncs again and the totals are exactly what was recorded
        (aggregator, _) = try await harness.startAggregator(dataDir: "agg", event: eventURL, port: port)
        // A node that starts past what the aggregator holds is told where to resume, and resumes there.
        let skipping = try harness.run("venue-node", ["sync", "--data-dir", "main", "--from-seq", "600"])
        #expect(skipping.status == 0, "\(skipping.stderr)")
        #expect(skipping.stdout.contains("acknowledged through 668 of 668"), "\(skipping.stdout)")
        for venue in venues {
            let synced = try harness.run("venue-node", ["sync", "--data-dir", venue])
            #expect(synced.status == 0, "\(synced.stderr)")
            let status = try harness.run("venue-node", ["status", "--data-dir", venue, "--json"])
            let parsed = try JSONDecoder().decode(StatusJSON.self, from: Data(status.stdout.utf8))
            #expect(parsed.pending == 0)
        }
        try expectExports(harness, truth)
        let listed = try harness.run("aggregator", ["nodes", "list", "--data-dir", "agg"])
        #expect(listed.stdout.contains(" 668 "), "\(listed.stdout)")
        aggregator.terminate()
        aggregator.waitUntilExit()
    }

    struct StatusJSON: Decodable {
        var pending: Int64
        var lastError: String?

        init(pending: Int64) { self.pending = pending }

        enum CodingKeys: String, CodingKey {
            case pending
            case lastError = "last_error"
        }
    }

    /// Imports a session's check-ins; opens and closes the box, then imports its ballots (the count).
    private func record(
        _ harness: ProcessHarness, venue: String, session: String,
        data: (checkins: String, ballots: String), count: Int
    ) throws {
        let steps: [[String]] = [
            [
                "import", "--data-dir", venue, "--checkins",
                try harness.write(data.checkins, to: "\(venue)-\(session)-c.csv"),
            ],
            ["box", "open", "--data-dir", venue, "--session", session, "--box", "B1"],
            [
                "box", "close", "--data-dir", venue, "--session", session, "--box", "B1", "--issued", "\(count)",
                "--returned", "\(count)",
            ],
            [
                "import", "--data-dir", venue, "--ballots",
                try harness.write(data.ballots, to: "\(venue)-\(session)-b.csv"),
            ],
        ]
        for step in steps {
            let result = try harness.run("venue-node", step)
            #expect(result.status == 0, "\(step): \(result.stderr)")
        }
    }

    private func nodeID(_ harness: ProcessHarness, venue: String) throws -> String {
        let config = try Data(contentsOf: harness.workDirectory.appending(path: "\(venue)/node.json"))
        return try #require(try JSONSerialization.jsonObject(with: config) as? [String: Any])["node_id"] as! String
    }

    private func expectExports(
        _ harness: ProcessHarness, _ truth: Truth,
        sourceLocation: SourceLocation = #_sourceLocation
    ) throws {
        let tallies = try harness.run("aggregator", ["export", "tallies", "--data-dir", "agg", "--csv"])
        #expect(
            tallies.stdout.split(separator: "\n").map(String.init) == truth.talliesCSV,
            sourceLocation: sourceLocation)
        let attendance = try harness.run("aggregator", ["export", "attendance", "--data-dir", "agg", "--csv"])
        #expect(
            attendance.stdout.split(separator: "\n").map(String.init) == truth.attendanceCSV,
            sourceLocation: sourceLocation)
    }

    @Test func everyCommandButSyncWorksWithTheAggregatorUnreachable() throws {
        let harness = try ProcessHarness()
        defer { harness.cleanUp() }
        let eventURL = Fixtures.example("tumed-2021")
        let category = try EventDefinition.load(contentsOf: eventURL).definition.categories[0].id
        // Port 9 (discard) on loopback: nothing listens there.
        let steps: [[String]] = [
            [
                "init", "--data-dir", "n", "--event", eventURL.path, "--venue", "tumed", "--aggregator",
                "http://127.0.0.1:9",
            ],
            ["checkin", "--data-dir", "n", "--session", "S1", "--rep", "R1", "--category", category],
            ["box", "open", "--data-dir", "n", "--session", "S1", "--box", "B1"],
            ["box", "close", "--data-dir", "n", "--session", "S1", "--box", "B1", "--issued", "1", "--returned", "1"],
            ["ballot", "--data-dir", "n", "--session", "S1", "--box", "B1", "--blank"],
            ["status", "--data-dir", "n"],
            ["verify", "--data-dir", "n"],
        ]
        for step in steps {
            let result = try harness.run("venue-node", step)
            #expect(result.status == 0, "\(step): \(result.stderr)")
        }
        let sync = try harness.run("venue-node", ["sync", "--data-dir", "n", "--timeout", "5"])
        #expect(sync.status == 1)
        #expect(sync.stderr.contains("cannot reach the aggregator at http://127.0.0.1:9"), "\(sync.stderr)")
        let status = try harness.run("venue-node", ["status", "--data-dir", "n", "--json"])
        let parsed = try JSONDecoder().decode(StatusJSON.self, from: Data(status.stdout.utf8))
        #expect(parsed.pending == 4)
        #expect(parsed.lastError?.contains("cannot reach the aggregator") == true)
    }

    @Test func aDaemonOfflineForALongTimeCatchesUpByItself() async throws {
        let harness = try ProcessHarness()
        defer { harness.cleanUp() }
        let eventURL = Fixtures.example("ordos-2021")
        let event = try EventDefinition.load(contentsOf: eventURL).definition
        var (aggregator, port) = try await harness.startAggregator(dataDir: "agg", event: eventURL)
        try harness.createNode(
            "dongsheng", event: eventURL, venue: "dongsheng", aggregatorURL: "http://127.0.0.1:\(port)")
        aggregator.terminate()
        aggregator.waitUntilExit()

        // Given the daemon runs while the aggregator stays away and a whole event's worth is recorded
        let daemon = try harness.start(
            "venue-node", ["run", "--data-dir", "dongsheng", "--interval", "1", "--max-backoff", "2"],
            log: "daemon.log")
        defer { daemon.terminate() }
        var truth = Truth()
        for session in event.sessions.map(\.id) {
            let data = Self.sessionData(
                venue: "dongsheng", venueIndex: 1, session: session, count: 400, event: event,
                truth: &truth)
            try record(harness, venue: "dongsheng", session: session, data: data, count: 400)
        }
        try await Task.sleep(for: .seconds(5))
        let pending = try harness.run("venue-node", ["status", "--data-dir", "dongsheng", "--json"])
        #expect(try JSONDecoder().decode(StatusJSON.self, from: Data(pending.stdout.utf8)).pending == 2_412)

        // When the aggregator comes back, the daemon catches up by itself
        (aggregator, _) = try await harness.startAggregator(dataDir: "agg", event: eventURL, port: port)
        defer { aggregator.terminate() }
        let back = ContinuousClock.now
        var status = StatusJSON(pending: -1)
        while status.pending != 0 && ContinuousClock.now - back < .seconds(60) {
            try await Task.sleep(for: .milliseconds(200))
            let output = try harness.run("venue-node", ["status", "--data-dir", "dongsheng", "--json"])
            status = try JSONDecoder().decode(StatusJSON.self, from: Data(output.stdout.utf8))
        }
        print("2,406 records caught up \(ContinuousClock.now - back) after the aggregator came back")
        #expect(status.pending == 0)
        try expectExports(harness, truth)
    }
}
