import Foundation
import Shared
import Synchronization
import VenueNode

/// (c over HTTP, d, f) The real binaries (`aggregator serve` and one `venue-node run` daemon per venue, next to
/// this one): a whole event's records waiting at every node after a total outage, all daemons started at once
/// (catch-up), then records saved one by one at a node with its daemon running until the dashboard's event
/// stream shows them (live latency), and the resident memory of each process at idle and at its peak.
struct Live {
    var venues = 0
    var records = 0
    var catchUpRate = 0.0
    var latencies: [Double] = []
    var aggregatorIdleKB = 0
    var aggregatorPeakKB = 0
    var nodeIdleKB = 0
    var nodePeakKB = 0

    func percentile(_ p: Double) -> Double {
        let sorted = latencies.sorted()
        guard !sorted.isEmpty else { return .nan }
        return sorted[min(sorted.count - 1, Int((Double(sorted.count) * p).rounded(.up)) - 1)]
    }

    var lines: [String] {
        [
            String(
                format: "catch-up over HTTP, %d daemons at once: %d records, %.0f records/s", venues, records,
                catchUpRate),
            String(
                format: "live latency, record saved → dashboard event: p50 %.3f s, p99 %.3f s (%d records)",
                percentile(0.5), percentile(0.99), latencies.count),
            "resident memory: aggregator \(aggregatorIdleKB / 1024) MiB idle, \(aggregatorPeakKB / 1024) MiB peak; "
                + "venue node \(nodeIdleKB / 1024) MiB idle, \(nodePeakKB / 1024) MiB peak",
        ]
    }

    struct Failure: Error, CustomStringConvertible { var description: String }

    static func run(event: LoadedEvent, eventFile: URL, scale: Int, samples: Int, directory: URL) async throws -> Live {
        let tools = try BenchProcesses(directory: directory)
        func run(_ binary: String, _ arguments: [String]) throws -> String { try tools.run(binary, arguments) }
        func start(_ binary: String, _ arguments: [String], log: String) throws -> Process {
            try tools.start(binary, arguments, log: log)
        }
        var processes: [Process] = []
        defer { stopAll(processes) }

        // The aggregator, without a rate limit (the benchmark says so), on a free port.
        let aggregator = try start(
            "aggregator",
            [
                "serve", "--data-dir", "aggregator", "--event", eventFile.path,
                "--listen", "127.0.0.1:0", "--rate-limit", "0",
            ], log: "aggregator.log")
        processes.append(aggregator)
        var port: Int?
        for _ in 0..<600 where port == nil {
            let log = (try? String(contentsOf: directory.appending(path: "aggregator.log"), encoding: .utf8)) ?? ""
            port = log.split(separator: "\n").first { $0.hasPrefix("listening on ") }.flatMap {
                Int($0.split(separator: ":").last ?? "")
            }
            if port == nil { try await Task.sleep(for: .milliseconds(50)) }
        }
        guard let port else {
            throw Failure(description: "the aggregator did not start (see \(directory.path)/aggregator.log)")
        }
        let base = "http://127.0.0.1:\(port)"
        let aggregatorKey = try run("aggregator", ["identity", "--data-dir", "aggregator"])
        let token = try run(
            "aggregator", ["tokens", "add", "--data-dir", "aggregator", "--role", "observer", "--name", "bench"])

        // Every node enrolled, its records written while it was "offline" (no daemon yet).
        var result = Live()
        var expected: [String: Int64] = [:]
        for venue in event.definition.venues {
            let enrolment = try run("aggregator", ["nodes", "enroll", "--data-dir", "aggregator", "--venue", venue.id])
            _ = try run(
                "venue-node",
                [
                    "init", "--data-dir", "nodes/\(venue.id)", "--event", eventFile.path, "--venue", venue.id,
                    "--aggregator", base, "--aggregator-key", aggregatorKey, "--token", enrolment,
                ])
            let database = try NodeDatabase(path: directory.appending(path: "nodes/\(venue.id)/node.sqlite").path)
            let payloads = EventWorkload.payloads(event: event.definition, venue: venue.id, scale: scale)
            for first in stride(from: 0, to: payloads.count, by: 5_000) {
                _ = try database.append(
                    Array(payloads[first..<min(first + 5_000, payloads.count)]), event: event.definition)
            }
            expected[venue.id] = try database.head().seq
            result.records += payloads.count
        }
        result.venues = expected.count
        try await Task.sleep(for: .seconds(1))
        result.aggregatorIdleKB = memory(aggregator.processIdentifier).resident

        // Catch-up: every daemon at once; done when the aggregator holds every venue's head.
        let client = CurlHTTPClient()
        let started = ContinuousClock.now
        var daemons: [String: Process] = [:]
        for venue in event.definition.venues {
            let daemon = try start(
                "venue-node", ["run", "--data-dir", "nodes/\(venue.id)"], log: "node-\(venue.id).log")
            daemons[venue.id] = daemon
            processes.append(daemon)
        }
        while true {
            let reply = try await client.send(
                method: "GET", url: "\(base)/v1/dashboard", headers: ["Authorization: Bearer \(token)"])
            guard let state = try? JSONDecoder().decode(DashboardHeads.self, from: reply.body) else {
                throw Failure(
                    description:
                        "GET /v1/dashboard answered \(reply.status): \(String(decoding: reply.body, as: UTF8.self))")
            }
            if state.venues.allSatisfy({ $0.heldSeq >= expected[$0.id] ?? 0 }) { break }
            guard started.duration(to: .now) < .seconds(1_800) else {
                throw Failure(description: "catch-up did not finish")
            }
            try await Task.sleep(for: .milliseconds(20))
        }
        result.catchUpRate = Double(result.records) / elapsed(since: started)

        // Live latency: a check-in saved at the main venue's node (as the desk saves it) while its daemon runs,
        // until the dashboard's event stream carries the new head.
        let stream = DashboardStream(url: "\(base)/v1/events?token=\(token)")
        defer { stream.stop() }
        let venue = event.definition.venues[0].id
        let node = try NodeDatabase(path: directory.appending(path: "nodes/\(venue)/node.sqlite").path)
        try await Task.sleep(for: .milliseconds(500))
        for index in 0..<samples {
            let session = event.definition.sessions[0].id
            let category =
                event.definition.quota(venue: venue, session: session)?.counts.keys.sorted().first
                ?? event.definition.categories[0].id
            let saved = try node.append(
                [.checkin(.init(session: session, rep: "live-\(index)", category: category))],
                event: event.definition)
            let savedAt = ContinuousClock.now
            let seq = saved[0].seq
            while stream.heldSeq(venue: venue) < seq {
                guard savedAt.duration(to: .now) < .seconds(30) else {
                    throw Failure(description: "record \(seq) never reached the dashboard")
                }
                try await Task.sleep(for: .milliseconds(2))
            }
            result.latencies.append(elapsed(since: savedAt))
            try await Task.sleep(for: .milliseconds(Int.random(in: 150...450)))
        }

        stream.stop()
        try await Task.sleep(for: .seconds(1))
        let aggregatorMemory = memory(aggregator.processIdentifier)
        result.aggregatorPeakKB = aggregatorMemory.peak
        let nodeMemory = daemons.values.map { memory($0.processIdentifier) }
        result.nodeIdleKB = nodeMemory.map(\.resident).max() ?? 0
        result.nodePeakKB = nodeMemory.map(\.peak).max() ?? 0
        return result
    }

    /// SIGTERM to each process, then SIGKILL to any still running 10 s later. (Not `waitUntilExit`, which spins.)
    static func stopAll(_ processes: [Process]) {
        for process in processes { kill(process.processIdentifier, SIGTERM) }
        let deadline = ContinuousClock.now + .seconds(10)
        while processes.contains(where: \.isRunning), ContinuousClock.now < deadline { usleep(50_000) }
        for process in processes where process.isRunning { kill(process.processIdentifier, SIGKILL) }
        while processes.contains(where: \.isRunning) { usleep(50_000) }
    }

    /// VmRSS and VmHWM (peak) of a process, in KiB.
    static func memory(_ pid: Int32) -> (resident: Int, peak: Int) {
        let status = (try? String(contentsOfFile: "/proc/\(pid)/status", encoding: .utf8)) ?? ""
        func field(_ name: String) -> Int {
            status.split(separator: "\n").first { $0.hasPrefix(name + ":") }
                .flatMap { Int($0.split(separator: " ", omittingEmptySubsequences: true).dropFirst().first ?? "") } ?? 0
        }
        return (field("VmRSS"), field("VmHWM"))
    }
}

/// The part of the dashboard's state the benchmark reads: the head the aggregator holds per venue.
struct DashboardHeads: Decodable {
    struct Venue: Decodable {
        var id: String
        var heldSeq: Int64
        enum CodingKeys: String, CodingKey {
            case id
            case heldSeq = "held_seq"
        }
    }
    var venues: [Venue]
}

/// Reads the dashboard's Server-Sent Events with curl, keeping the newest head per venue.
/// (`@unchecked`: the process is started in `init` and only terminated after; the heads are behind a mutex.)
final class DashboardStream: @unchecked Sendable {
    private let process = Process()
    private final class Heads: Sendable { let value = Mutex<[String: Int64]>([:]) }
    private let heads = Heads()

    init(url: String) {
        let pipe = Pipe()
        process.executableURL = URL(filePath: "/usr/bin/curl")
        process.arguments = ["-sN", url]
        process.standardOutput = pipe
        try? process.run()
        let handle = pipe.fileHandleForReading
        Thread.detachNewThread { [heads] in
            var buffer = Data()
            while true {
                let chunk = handle.availableData
                if chunk.isEmpty { return }
                buffer.append(chunk)
                while let newline = buffer.firstIndex(of: UInt8(ascii: "\n")) {
                    let line = String(decoding: buffer[buffer.startIndex..<newline], as: UTF8.self)
                    buffer.removeSubrange(buffer.startIndex...newline)
                    guard line.hasPrefix("data: "),
                        let state = try? JSONDecoder().decode(DashboardHeads.self, from: Data(line.dropFirst(6).utf8))
                    else { continue }
                    heads.value.withLock { current in for venue in state.venues { current[venue.id] = venue.heldSeq } }
                }
            }
        }
    }

    func heldSeq(venue: String) -> Int64 { heads.value.withLock { $0[venue] ?? 0 } }

    func stop() { Live.stopAll([process]) }
}
