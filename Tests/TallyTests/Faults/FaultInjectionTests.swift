import Aggregator
import Foundation
import GRDB
import Shared
import Testing
import VenueNode

/// Seeded fault schedules between two venue nodes and the aggregator: refused connections, answers
/// lost after the commit, answers cut mid-body, delays, 502/503, partitions, and SIGKILL of the
/// aggregator and of a node in the middle of a sync. After each schedule the aggregator must hold
/// exactly what the nodes saved: 0 lost, 0 duplicated, 0 unexpected.
///
/// `FAULT_SCHEDULES` (default 50) sets how many schedules run (`FAULT_PARALLEL`, default 2, at a time), from seed `FAULT_SEED` (default 1000)
/// on; `FAULT_SEED` alone with `FAULT_SCHEDULES=1` replays one. `FAULT_SUMMARY=FILE` writes a JSON summary.
@Suite(.serialized) struct FaultInjectionTests {
    struct Outcome: Codable {
        var seed: UInt64
        var records = 0
        var lost = 0
        var duplicated = 0
        var unexpected = 0
        var faults: [String: Int] = [:]
        var syncRuns = 0
        var syncFailures = 0
        var problems: [String] = []
        /// Aggregator restarts that did not come up and were tried again (a harness event, not a loss).
        var failedRestarts: [String] = []
    }

    @Test func seededFaultSchedulesLoseNothingAndCountNothingTwice() async throws {
        let environment = ProcessInfo.processInfo.environment
        let count = Int(environment["FAULT_SCHEDULES"] ?? "") ?? 50
        let first = UInt64(environment["FAULT_SEED"] ?? "") ?? 1000
        let outcomes = try await Self.runSchedules(count: count, first: first, label: "fault schedule") { seed in
            try await Self.runSchedule(seed: seed)
        }
        let faults = Self.faults(outcomes)
        if let path = environment["FAULT_SUMMARY"] {
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
            try encoder.encode(outcomes).write(to: URL(filePath: path))
        }
        if let path = environment["FAULT_REPORT"] {
            // The two-replica section, written by its own run, is kept.
            let previous = (try? String(contentsOfFile: path, encoding: .utf8)) ?? ""
            let kept = previous.range(of: Self.replicaMarkers.start).flatMap { start in
                previous.range(of: Self.replicaMarkers.end).map { String(previous[start.lowerBound..<$0.upperBound]) }
            }
            try
                (Self.report(outcomes, faults: faults, first: first) + "\n"
                + (kept ?? Self.replicaMarkers.start + "\n" + Self.replicaMarkers.end) + "\n").write(
                    to: URL(filePath: path), atomically: true, encoding: .utf8)
        }
    }

    static let replicaMarkers = (start: "<!-- replica-faults:start -->", end: "<!-- replica-faults:end -->")

    static func faults(_ outcomes: [Outcome]) -> [String: Int] {
        outcomes.reduce(into: [String: Int]()) { total, outcome in
            for (kind, n) in outcome.faults { total[kind, default: 0] += n }
        }
    }

    /// Runs `count` schedules from seed `first`, two at a time (`FAULT_PARALLEL`): most of a schedule's time is spent
    /// waiting (delays, timeouts, restarts), and each has its own directory, ports and processes. Each must end with
    /// nothing lost, duplicated or unexpected.
    static func runSchedules(
        count: Int, first: UInt64, label: String, run: @escaping @Sendable (UInt64) async throws -> Outcome
    ) async throws -> [Outcome] {
        let lanes = max(1, Int(ProcessInfo.processInfo.environment["FAULT_PARALLEL"] ?? "") ?? 2)
        var outcomes: [Outcome] = []
        try await withThrowingTaskGroup(of: Outcome.self) { group in
            var next = first
            func startNext() {
                guard next < first + UInt64(count) else { return }
                let seed = next
                next += 1
                group.addTask { try await run(seed) }
            }
            for _ in 0..<lanes { startNext() }
            while let outcome = try await group.next() {
                let seed = outcome.seed
                print(
                    "\(label) seed=\(seed) records=\(outcome.records) lost=\(outcome.lost) "
                        + "duplicated=\(outcome.duplicated) unexpected=\(outcome.unexpected) syncs=\(outcome.syncRuns) "
                        + "failed_syncs=\(outcome.syncFailures) failed_restarts=\(outcome.failedRestarts.count) faults=\(outcome.faults.sorted { $0.key < $1.key }.map { "\($0.key):\($0.value)" }.joined(separator: ","))"
                )
                #expect(
                    outcome.lost == 0 && outcome.duplicated == 0 && outcome.unexpected == 0 && outcome.problems.isEmpty,
                    "seed \(seed) (replay: FAULT_SEED=\(seed) FAULT_SCHEDULES=1): \(outcome.problems)")
                for failure in outcome.failedRestarts { print("\(label) seed=\(seed) restart: \(failure)") }
                outcomes.append(outcome)
                startNext()
            }
        }
        outcomes.sort { $0.seed < $1.seed }
        let faults = faults(outcomes)
        print(
            "\(label)s: \(outcomes.count), records: \(outcomes.map(\.records).reduce(0, +)), "
                + "lost: \(outcomes.map(\.lost).reduce(0, +)), duplicated: \(outcomes.map(\.duplicated).reduce(0, +)), "
                + "unexpected: \(outcomes.map(\.unexpected).reduce(0, +)), faults: \(faults.sorted { $0.key < $1.key })"
        )
        return outcomes
    }

    /// docs/reliability.md: what a long run of schedules found.
    static func report(_ outcomes: [Outcome], faults: [String: Int], first: UInt64, replicas: Bool = false) -> String {
        let sum = { (value: (Outcome) -> Int) in outcomes.map(value).reduce(0, +) }
        var lines =
            replicas
            ? [
                "## Two aggregators on one PostgreSQL database (issue #20)",
                "",
                "Written by `scripts/reliability.sh` (the two-replica schedules, `FAULT_REPLICA_REPORT`), "
                    + "\(Date().formatted(.iso8601)).",
                "The same schedules, but two `aggregator serve --database` processes share one PostgreSQL database and "
                    + "one identity key, each behind its own faulty proxy with its own draw of faults (either is "
                    + "killed and restarted, cut off, answers 502/503 on its own), and the nodes are given both "
                    + "(`--replica`); `restart_database` restarts PostgreSQL itself under them (fast shutdown, then "
                    + "start). Compared as above, against the records and totals in PostgreSQL; `PRAGMA "
                    + "integrity_check` runs on the nodes' databases.",
                "",
            ]
            : [
                "# Reliability: seeded fault schedules",
                "",
                "Written by `scripts/reliability.sh` (the `FaultInjectionTests` suite with `FAULT_REPORT`), "
                    + "\(Date().formatted(.iso8601)).",
                "Each schedule: an aggregator and two venue nodes; five rounds of recording (check-ins, ballots, "
                    + "corrections) and syncing through a TCP proxy that injects one fault per connection as the seed "
                    + "draws it; then the network heals, every node syncs, and the aggregator's records and totals are "
                    + "compared with what the nodes saved (lost / duplicated / unexpected, Jepsen's total-queue terms), "
                    + "every chain is verified and `PRAGMA integrity_check` runs on every database.",
                "",
            ]
        lines += [
            "| what | count |",
            "|---|---|",
            "| schedules (seeds \(first)…\(first + UInt64(max(outcomes.count, 1)) - 1)) | \(outcomes.count) |",
            "| records saved by the nodes | \(sum(\.records)) |",
            "| sync runs under faults | \(sum(\.syncRuns)) (\(sum(\.syncFailures)) ended by a fault) |",
            "| **lost** | **\(sum(\.lost))** |",
            "| **duplicated** | **\(sum(\.duplicated))** |",
            "| **unexpected** | **\(sum(\.unexpected))** |",
            "| schedules with another problem (chain, integrity, no catch-up) | \(outcomes.filter { !$0.problems.isEmpty }.count) |",
            "| aggregator restarts that did not come up and were tried again | \(outcomes.map(\.failedRestarts.count).reduce(0, +)) |",
            "",
            "| fault injected | times |",
            "|---|---|",
        ]
        for (kind, count) in faults.sorted(by: { $0.key < $1.key }) { lines.append("| \(kind) | \(count) |") }
        lines += [
            "",
            replicas
                ? "Replay one schedule: `FAULT_SEED=SEED FAULT_REPLICA_SCHEDULES=1 swift test --filter ReplicaFaultTests`."
                : "Replay one schedule: `FAULT_SEED=SEED FAULT_SCHEDULES=1 swift test --filter FaultInjectionTests`.",
            "",
        ]
        return lines.joined(separator: "\n")
    }

    /// The plan of one schedule: an action per proxy connection, drawn from the seed.
    /// With `replicas`, a few of the aggregator kills restart the shared database instead.
    static func plan(seed: UInt64, replicas: Bool = false) -> @Sendable (Int) -> FaultProxy.Action {
        { connection in
            var random = SplitMix64(seed: seed &* 1_000_003 &+ UInt64(connection))
            let roll = random.next(1000)
            switch roll {
            case ..<750: return .pass
            case ..<790: return .refuse
            case ..<840: return .dropResponse
            case ..<870: return .cutResponse
            case ..<910: return .delay(Int(random.next(400)))
            case ..<918: return .delay(3_500)  // longer than the node's request timeout
            case ..<938: return .status(503)
            case ..<948: return .status(502)
            case ..<963: return .partition(Int(1 + random.next(4)))
            case ..<975: return .killAggregator
            case ..<983: return replicas ? .restartDatabase : .killAggregator
            default: return .killNode
            }
        }
    }

    /// The aggregator processes (one, or the replicas) and the sync in flight; each aggregator is supervised like
    /// systemd's `Restart=always` would: restarted after a kill, and again if a restart did not come up.
    final class Running: @unchecked Sendable {
        struct Member {
            var dataDir: String
            var port: Int
            var options: [String]
            var process: Process?
        }

        let lock = NSLock()
        var members: [Member] = []
        var sync: Process?
        /// Restarts that did not come up (and were tried again), with the reason.
        var failedRestarts: [String] = []

        /// The first (or only) aggregator.
        var aggregator: Process? {
            get { members.first?.process }
            set { members[0].process = newValue }
        }

        /// Stops the aggregators, then the proxies in front of them.
        func stop(_ proxies: FaultProxy...) {
            lock.withLock {
                for member in members {
                    member.process?.terminate()
                    member.process?.waitUntilExit()
                }
            }
            for proxy in proxies { proxy.stop() }
        }

        /// Starts the (first) aggregator unless it runs; call with `lock` held.
        func superviseAggregator(_ harness: ProcessHarness, event: URL, port: Int) {
            supervise(0, harness, event: event)
        }

        /// Starts aggregator `index` unless it runs; call with `lock` held.
        func supervise(_ index: Int, _ harness: ProcessHarness, event: URL) {
            for _ in 0..<5 where !(members[index].process?.isRunning ?? false) {
                do {
                    members[index].process = try harness.startAggregatorBlocking(
                        dataDir: members[index].dataDir, event: event, port: members[index].port,
                        options: members[index].options)
                } catch {
                    members[index].process = nil
                    failedRestarts.append("\(error)")
                    Thread.sleep(forTimeInterval: 1)
                }
            }
        }

        /// Whether every aggregator runs.
        var allRunning: Bool { lock.withLock { members.allSatisfy { $0.process?.isRunning ?? false } } }
    }

    /// The aggregator behind the fault proxy of `seed`'s plan, supervised: the proxy's kills SIGKILL the aggregator
    /// (restarted at once, as systemd would) or the sync in flight. `Running.stop` ends both.
    static func faultyAggregator(_ harness: ProcessHarness, event eventURL: URL, seed: UInt64) async throws
        -> (Running, FaultProxy, Int)
    {
        let (running, proxies) = try await faultyAggregators(
            harness, event: eventURL, seed: seed, members: [("agg", [])], server: nil)
        return (running, proxies[0], running.members[0].port)
    }

    /// Aggregators (data directory and options each), each behind its own fault proxy with its own draw of `seed`'s
    /// plan; a proxy's kills SIGKILL its aggregator (restarted at once) or the sync in flight; with `server`, its
    /// `restartDatabase` restarts that PostgreSQL server.
    static func faultyAggregators(
        _ harness: ProcessHarness, event eventURL: URL, seed: UInt64, members: [(String, [String])],
        server: PostgresServer?
    ) async throws -> (Running, [FaultProxy]) {
        let running = Running()
        var proxies: [FaultProxy] = []
        for (index, (dataDir, options)) in members.enumerated() {
            let (process, port) = try await harness.startAggregator(dataDir: dataDir, event: eventURL, options: options)
            running.members.append(.init(dataDir: dataDir, port: port, options: options, process: process))
            let proxy = try FaultProxy(
                upstreamPort: port, plan: plan(seed: seed &+ UInt64(index) &* 7_919, replicas: server != nil))
            proxy.onKillAggregator = {
                running.lock.withLock {
                    guard let process = running.members[index].process else { return }
                    kill(process.processIdentifier, SIGKILL)
                    process.waitUntilExit()
                    running.supervise(index, harness, event: eventURL)
                }
            }
            proxy.onKillNode = {
                running.lock.withLock {
                    if let sync = running.sync { kill(sync.processIdentifier, SIGKILL) }
                }
            }
            proxy.onRestartDatabase = {
                do { try server?.restart() } catch {
                    running.lock.withLock { running.failedRestarts.append("database: \(error)") }
                }
            }
            proxies.append(proxy)
        }
        return (running, proxies)
    }

    /// One schedule; with `replicasOn`, two aggregators on a new database of that server (issue #20).
    static func runSchedule(seed: UInt64, replicasOn server: PostgresServer? = nil) async throws -> Outcome {
        let harness = try ProcessHarness()
        var random = SplitMix64(seed: seed)
        var outcome = Outcome(seed: seed)
        // A schedule that goes wrong keeps its directory (databases, logs) for the investigation.
        defer {
            if outcome.lost == 0 && outcome.duplicated == 0 && outcome.unexpected == 0 && outcome.problems.isEmpty {
                harness.cleanUp()
            } else {
                print("fault schedule seed=\(seed) kept its files in \(harness.workDirectory.path)")
            }
        }
        let eventFile = try harness.write(Fixtures.smallEventJSON, to: "event.json")
        let eventURL = harness.workDirectory.appending(path: eventFile)
        let event = Fixtures.smallEvent
        // Two aggregators share a new database and one identity key, or one aggregator on its SQLite file.
        let url = try server?.createDatabase()
        var members = [("agg", [String]())]
        if let url {
            let made = try harness.run("aggregator", ["init", "--data-dir", "keys", "--event", eventURL.path])
            if made.status != 0 { outcome.problems.append("aggregator init: \(made.stderr)") }
            let shared = [
                "--database", url, "--identity-key", harness.workDirectory.appending(path: "keys/aggregator.key").path,
            ]
            members = [("r0", shared), ("r1", shared)]
        }
        let (running, proxies) = try await faultyAggregators(
            harness, event: eventURL, seed: seed, members: members, server: server)
        defer { running.stop(proxies[0], proxies.count > 1 ? proxies[1] : proxies[0]) }

        let venues = ["main", "east"]
        var reportedSaved: [String: Int64] = [:]
        for venue in venues {
            try harness.createNode(
                venue, event: eventURL, venue: venue, aggregatorURL: "http://127.0.0.1:\(proxies[0].port)",
                options: proxies.dropFirst().flatMap { ["--replica", "http://127.0.0.1:\($0.port)"] },
                store: url.map { ["--database", $0] })
        }

        var nextRep = 0
        for round in 0..<5 {
            for venue in venues {
                // Record: check-ins and ballots in bulk, now and then a correction.
                let session = round < 3 ? "S1" : "S2"
                let departments = event.ballotDepartments(session: session)!.map(\.id)
                let n = Int(1 + random.next(12))
                var checkins = ["session,rep,category"]
                var ballots = ["session,box,status," + departments.joined(separator: ",")]
                for _ in 0..<n {
                    nextRep += 1
                    checkins.append("\(session),R\(nextRep),\(random.next(2) == 0 ? "resident" : "expert")")
                    let marks = departments.map { _ in
                        ["satisfied", "basically_satisfied", "dissatisfied"][Int(random.next(3))]
                    }
                    let status = random.next(20) == 0 ? "blank" : "valid"
                    ballots.append(
                        "\(session),B\(round),\(status),"
                            + (status == "valid"
                                ? marks.joined(separator: ",")
                                : String(repeating: ",", count: departments.count - 1)))
                }
                // The box is closed with its counts before its ballots are entered.
                let closed = try harness.run(
                    "venue-node",
                    [
                        "box", "close", "--data-dir", venue, "--session", session,
                        "--box", "B\(round)", "--issued", "\(n)", "--returned", "\(n)",
                    ])
                if closed.status != 0 { outcome.problems.append("box close failed: \(closed.stderr)") }
                for (kind, rows) in [("--checkins", checkins), ("--ballots", ballots)] {
                    let file = try harness.write(
                        rows.joined(separator: "\n") + "\n", to: "\(venue)-\(round)\(kind).csv")
                    if random.next(8) == 0 {
                        // SIGKILL the import a few milliseconds in: all of the file or none of it is saved, and
                        // the node's store is the truth (the kill's timing is the one thing a seed cannot replay).
                        let process = try harness.start(
                            "venue-node", ["import", "--data-dir", venue, kind, file],
                            log: "\(venue)-killed-import.log")
                        try await Task.sleep(for: .milliseconds(Int(random.next(40))))
                        kill(process.processIdentifier, SIGKILL)
                        process.waitUntilExit()
                        outcome.faults["kill_import", default: 0] += 1
                        continue
                    }
                    let imported = try harness.run("venue-node", ["import", "--data-dir", venue, kind, file])
                    guard imported.status == 0,
                        let last = imported.stdout.split(separator: " ").last.flatMap({
                            Int64($0.trimmingCharacters(in: .whitespacesAndNewlines))
                        })
                    else {
                        outcome.problems.append("import failed: \(imported.stderr)")
                        continue
                    }
                    reportedSaved[venue] = last
                }
                if random.next(3) == 0, let last = reportedSaved[venue] {
                    let corrected = try harness.run(
                        "venue-node",
                        [
                            "correct", "--data-dir", venue, "--target", "\(last)", "--reason", "schedule \(seed)",
                            "--operator", "harness", "--void",
                        ])
                    if corrected.status == 0 { reportedSaved[venue] = last + 1 }
                }
                // Sync through the faulty proxy; it may fail, be killed, or succeed.
                let sync = try harness.start(
                    "venue-node",
                    [
                        "sync", "--data-dir", venue, "--batch-size",
                        "\(1 + random.next(8))", "--timeout", "3",
                    ],
                    log: "\(venue)-sync.log")
                running.lock.withLock { running.sync = sync }
                sync.waitUntilExit()
                running.lock.withLock { running.sync = nil }
                outcome.syncRuns += 1
                if sync.terminationStatus != 0 { outcome.syncFailures += 1 }
            }
        }

        // Heal the network and let every node catch up.
        for proxy in proxies { proxy.setPlan { _ in .pass } }
        running.lock.withLock {
            for index in running.members.indices { running.supervise(index, harness, event: eventURL) }
        }
        outcome.failedRestarts = running.lock.withLock { running.failedRestarts }
        for venue in venues {
            var synced = false
            var errors: [String] = []
            for _ in 0..<5 where !synced {
                let result = try harness.run("venue-node", ["sync", "--data-dir", venue, "--timeout", "10"])
                synced = result.status == 0
                if !synced { errors.append(result.stderr.trimmingCharacters(in: .whitespacesAndNewlines)) }
            }
            if !synced {
                let aggregatorAlive = running.allRunning
                outcome.problems.append(
                    "\(venue) could not sync after the network healed (aggregator running: "
                        + "\(aggregatorAlive)): \(errors.joined(separator: " | "))")
            }
        }
        for proxy in proxies { outcome.faults.merge(proxy.injected) { $0 + $1 } }
        running.lock.withLock {
            for index in running.members.indices {
                running.members[index].process?.terminate()
                running.members[index].process?.waitUntilExit()
                running.members[index].process = nil
            }
        }

        // Compare what the aggregator holds with what the nodes saved.
        let aggregatorPath = harness.workDirectory.appending(path: "agg/aggregator.sqlite").path
        let aggregatorDB: any AggregatorStore =
            try url.map { try Self.openRetrying($0) } ?? AggregatorDatabase(path: aggregatorPath)
        defer { (aggregatorDB as? PostgresStore)?.close() }
        var expected: [String: Int] = [:]
        for venue in venues {
            let nodeDB = try NodeDatabase(path: harness.workDirectory.appending(path: "\(venue)/node.sqlite").path)
            let nodeRecords = try nodeDB.allRecords()
            outcome.records += nodeRecords.count
            // Every record a command reported as saved is in the node's store.
            let reported = reportedSaved[venue] ?? 0
            outcome.lost += max(0, Int(reported) - nodeRecords.count)
            do { try RecordChain.verify(nodeRecords) } catch { outcome.problems.append("\(venue) chain: \(error)") }
            let held = try aggregatorDB.storedRecords(venue: venue)
            do { try RecordChain.verify(held) } catch {
                outcome.problems.append("aggregator chain of \(venue): \(error)")
            }
            let heldSet = Set(held.map { "\($0.seq)/\($0.hash)" })
            let savedSet = Set(nodeRecords.map { "\($0.seq)/\($0.hash)" })
            outcome.lost += savedSet.subtracting(heldSet).count
            outcome.unexpected += heldSet.subtracting(savedSet).count
            for (key, value) in try Self.effectiveTotals(nodeRecords, venue: venue) {
                expected[key, default: 0] += value
            }
            try Self.integrityCheck(harness.workDirectory.appending(path: "\(venue)/node.sqlite").path, &outcome)
        }
        if url == nil { try Self.integrityCheck(aggregatorPath, &outcome) }
        let difference = Self.compare(expected: expected, actual: Self.keys(try aggregatorDB.totals(eventID: event.id)))
        outcome.lost += difference.lost
        outcome.duplicated += difference.duplicated
        outcome.unexpected += difference.unexpected
        return outcome
    }

    /// The shared database, opened again for a few seconds if a restart the schedule drew is still under way.
    static func openRetrying(_ url: String) throws -> PostgresStore {
        var attempt = 0
        while true {
            do { return try PostgresStore(url: url) } catch  where attempt < 20 {
                attempt += 1
                Thread.sleep(forTimeInterval: 0.5)
            }
        }
    }

    /// Counts missing from the actual totals (lost), counted more than once (duplicated), and counted
    /// where nothing was recorded (unexpected).
    static func compare(expected: [String: Int], actual: [String: Int]) -> (lost: Int, duplicated: Int, unexpected: Int)
    {
        var result = (lost: 0, duplicated: 0, unexpected: 0)
        for key in Set(expected.keys).union(actual.keys) {
            let difference = (actual[key] ?? 0) - (expected[key] ?? 0)
            if difference > 0 && expected[key] == nil { result.unexpected += difference }
            if difference > 0 && expected[key] != nil { result.duplicated += difference }
            if difference < 0 { result.lost -= difference }
        }
        return result
    }

    /// Totals the records amount to, after corrections, keyed like `keys(_:)`.
    static func effectiveTotals(_ records: [ChainedRecord], venue: String) throws -> [String: Int] {
        var content: [Int64: RecordPayload] = [:]
        for record in records {
            let payload = try RecordPayload.decode(json: record.payload)
            if case .correction(let correction) = payload {
                content[correction.target] = nil
                if let replacement = correction.replacement { content[record.seq] = replacement }
            } else {
                content[record.seq] = payload
            }
        }
        var totals: [String: Int] = [:]
        for payload in content.values {
            for (counter, value) in payload.contribution {
                let key: String? =
                    switch counter {
                    case .attendance(let session, let category): "attendance/\(venue)/\(session)/\(category)"
                    case .mark(let session, let department, let mark): "mark/\(venue)/\(session)/\(department)/\(mark)"
                    case .ballots(let session, let box, let status): "\(status.rawValue)/\(venue)/\(session)/\(box)"
                    case .issued, .returned, .boxOpened, .boxClosed, .boxMark, .formsReturned, .formsEntered, .answer:
                        nil
                    }
                if let key, value != 0 { totals[key, default: 0] += value }
            }
        }
        return totals.filter { $0.value != 0 }
    }

    static func keys(_ totals: Totals) -> [String: Int] {
        var result: [String: Int] = [:]
        for row in totals.attendance {
            result["attendance/\(row.venue)/\(row.session)/\(row.category)"] = row.checkedIn
        }
        for row in totals.tallies {
            result["mark/\(row.venue)/\(row.session)/\(row.department)/\(row.mark)"] = row.count
        }
        for row in totals.boxes {
            for (status, value) in [("valid", row.valid), ("blank", row.blank), ("spoiled", row.spoiled)]
            where value != 0 {
                result["\(status)/\(row.venue)/\(row.session)/\(row.box)"] = value
            }
        }
        return result
    }

    static func integrityCheck(_ path: String, _ outcome: inout Outcome) throws {
        let queue = try DatabaseQueue(path: path)
        let result = try queue.read { db in try String.fetchAll(db, sql: "PRAGMA integrity_check") }
        if result != ["ok"] { outcome.problems.append("integrity_check of \(path): \(result)") }
    }
}

@Suite struct FaultCheckerTests {
    @Test func theCheckerCountsLostDuplicatedAndUnexpected() throws {
        let records = Fixtures.chain([
            .checkin(.init(session: "S1", rep: "R1", category: "resident")),
            Fixtures.validBallot(["D01": "satisfied", "D02": "dissatisfied"]),
            Fixtures.validBallot(["D01": "satisfied", "D02": "satisfied"]),
            .correction(.init(target: 3, reason: "x", operator: "y", replacement: nil)),
        ])
        let expected = try FaultInjectionTests.effectiveTotals(records, venue: "east")
        #expect(
            expected == [
                "attendance/east/S1/resident": 1, "mark/east/S1/D01/satisfied": 1, "mark/east/S1/D02/dissatisfied": 1,
                "valid/east/S1/B1": 1,
            ])
        var actual = expected
        actual["mark/east/S1/D01/satisfied"] = 2
        actual["attendance/east/S1/resident"] = nil
        actual["mark/east/S1/D03/satisfied"] = 1
        let result = FaultInjectionTests.compare(expected: expected, actual: actual)
        #expect(result.lost == 1 && result.duplicated == 1 && result.unexpected == 1)
    }
}
