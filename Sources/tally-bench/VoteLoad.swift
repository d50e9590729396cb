import Foundation
import GRDB
import Shared
import VenueNode

/// (g) The phone ballot box under the call to vote (issue #16): a real `venue-node run` serving `/vote`, and this
/// process as the phones, submitting `ballots` ballots in parallel bursts of `burst` over loopback; then the box is
/// closed and the chain read back. Prints (does not judge) the submit latency; counts what was lost or counted twice.
struct VoteLoad {
    var ballots: Int
    var burst: Int
    var sealed: Int
    /// Ballots answered with a receipt whose receipt is not on the chain once the box closed.
    var lost: Int
    /// Ballots on the chain more than once (the same receipt twice), or more ballots than receipts given.
    var twice: Int
    /// Submissions not answered with a receipt.
    var refused: Int
    var seconds: Double
    var p50: Double
    var p99: Double
    var slowest: Double

    var line: String {
        String(
            format: "vote: %d ballots in bursts of %d: %d sealed, %d lost, %d counted twice, %d refused; "
                + "submit p50 %.1f ms, p99 %.1f ms, slowest %.1f ms; %.0f ballots/s",
            ballots, burst, sealed, lost, twice, refused, p50 * 1000, p99 * 1000, slowest * 1000,
            Double(ballots) / seconds)
    }

    static func run(event: LoadedEvent, eventFile: URL, ballots: Int, burst: Int, directory: URL) async throws
        -> VoteLoad
    {
        let tools = try BenchProcesses(directory: directory)
        let definition = event.definition
        let venue = (definition.venues.first { $0.kind == .main } ?? definition.venues[0]).id
        let session = definition.sessions[0].id
        let departments = (definition.ballotDepartments(session: session) ?? []).map(\.id)
        let marks = definition.marks.map(\.id)
        _ = try tools.run(
            "venue-node",
            [
                "init", "--data-dir", "n", "--event", eventFile.path, "--venue", venue, "--aggregator",
                "http://127.0.0.1:9",
            ])
        let node = try tools.start(
            "venue-node", ["run", "--data-dir", "n", "--desk-listen", "127.0.0.1:0", "--interval", "3600"],
            log: "node.log")
        defer { Live.stopAll([node]) }
        let address = try await tools.waitForLine(startingWith: "desk listening on ", in: "node.log", process: node)
        let base = "http://\(address)"
        _ = try tools.run(
            "venue-node",
            [
                "codes", "print", "--data-dir", "n", "--session", session, "--box", "E1", "--count", "\(ballots)",
                "--url", base, "--out", "sheet.html", "--list", "codes.txt",
            ])
        let codes = try String(contentsOf: directory.appending(path: "codes.txt"), encoding: .utf8)
            .split(separator: "\n").map(String.init)
        _ = try tools.run("venue-node", ["box", "open", "--data-dir", "n", "--session", session, "--box", "E1"])

        let client = CurlHTTPClient(connectTimeout: 5, totalTimeout: 60)
        var latencies: [Double] = []
        var receipts: [String] = []
        var refused = 0
        let start = ContinuousClock.now
        for first in stride(from: 0, to: ballots, by: burst) {
            let answers = try await withThrowingTaskGroup(of: (Double, String?).self) { group in
                for index in first..<min(first + burst, ballots) {
                    let body: [String: Any] = [
                        "code": codes[index], "session": session, "box": "E1",
                        "marks": Dictionary(
                            uniqueKeysWithValues: departments.enumerated().map {
                                ($1, marks[(index + $0) % marks.count])
                            }),
                        "submission": "bench-phone-\(index)",
                    ]
                    let data = try JSONSerialization.data(withJSONObject: body)
                    group.addTask {
                        let sent = ContinuousClock.now
                        let reply = try await client.send(
                            method: "POST", url: base + "/vote/api/cast", headers: ["Content-Type: application/json"],
                            body: data)
                        let receipt =
                            reply.status == 200
                            ? (try? JSONSerialization.jsonObject(with: reply.body) as? [String: Any])?["receipt"]
                                as? String : nil
                        return (elapsed(since: sent), receipt)
                    }
                }
                var answers: [(Double, String?)] = []
                for try await answer in group { answers.append(answer) }
                return answers
            }
            for (latency, receipt) in answers {
                latencies.append(latency)
                if let receipt { receipts.append(receipt) } else { refused += 1 }
            }
        }
        let seconds = elapsed(since: start)
        let closed = try tools.run(
            "venue-node", ["box", "close", "--data-dir", "n", "--session", session, "--box", "E1", "--unused", "0"])
        guard closed.contains("saved record") else { throw BenchProcesses.Failure(description: closed) }

        let payloads = try await DatabaseQueue(path: directory.appending(path: "n/node.sqlite").path).read { db in
            try String.fetchAll(db, sql: "SELECT payload FROM record WHERE kind = 'ballot'")
        }
        let onChain = payloads.compactMap { json -> String? in
            guard case .ballot(let ballot)? = try? RecordPayload.decode(json: json) else { return nil }
            return ballot.receipt
        }
        let chainSet = Set(onChain)
        latencies.sort()
        func percentile(_ p: Double) -> Double { latencies[min(latencies.count - 1, Int(Double(latencies.count) * p))] }
        return VoteLoad(
            ballots: ballots, burst: burst, sealed: onChain.count,
            lost: receipts.filter { !chainSet.contains($0) }.count,
            twice: (onChain.count - chainSet.count) + max(0, onChain.count - receipts.count), refused: refused,
            seconds: seconds, p50: percentile(0.5), p99: percentile(0.99), slowest: latencies.last ?? 0)
    }
}
