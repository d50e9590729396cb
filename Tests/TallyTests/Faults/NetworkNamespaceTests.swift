import Aggregator
import Foundation
import GRDB
import Shared
import Testing

/// Node and aggregator in two network namespaces joined by a veth pair: the link is cut while the
/// node keeps recording, and, where the kernel has `sch_netem`, the link loses, delays, duplicates
/// and reorders packets. Where it has no netem but has nftables, nftables drops 20 % of the packets
/// each way and duplicates 5 %, and a token bucket (tc tbf) slows the link so that packets queue (delay
/// that varies with the load). The totals must come out exact, and the time to converge is printed.
/// Needs root and `ip netns`; skipped elsewhere.
@Suite(.serialized) struct NetworkNamespaceTests {
    static func sh(_ command: String) -> (status: Int32, output: String) { runShell(command) }

    static let namespacesAllowed: Bool = {
        guard getuid() == 0 else { return false }
        let name = "sanmin-probe-\(getpid())"
        defer { _ = sh("ip netns del \(name)") }
        return sh("ip netns add \(name)").status == 0
    }()

    static let netemAvailable: Bool = {
        guard namespacesAllowed else { return false }
        let name = "sanmin-netem-\(getpid())"
        defer { _ = sh("ip netns del \(name)") }
        return sh(
            "ip netns add \(name) && ip -n \(name) link set lo up && "
                + "ip netns exec \(name) tc qdisc add dev lo root netem delay 1ms"
        ).status == 0
    }()

    static let nftablesAvailable: Bool = {
        guard namespacesAllowed else { return false }
        let name = "sanmin-nft-\(getpid())"
        defer { _ = sh("ip netns del \(name)") }
        return sh(
            "ip netns add \(name) && ip netns exec \(name) nft add table ip impair && "
                + "ip netns exec \(name) nft add chain ip impair input '{ type filter hook input priority 0; }' && "
                + "ip netns exec \(name) nft add rule ip impair input numgen random mod 100 '<' 20 drop"
        ).status == 0
    }()

    enum Impairment: String {
        case cut = "c"
        case netem = "i"
        case nftables = "n"
    }

    @Test(.enabled(if: namespacesAllowed, "needs root and ip netns"))
    func aCutLinkHealsAndTheTotalsComeOutExact() async throws {
        try await run(.cut)
    }

    @Test(.enabled(if: netemAvailable, "needs the sch_netem kernel module (tc qdisc … netem)"))
    func aLossyDelayedDuplicatingReorderingLinkStillGivesExactTotals() async throws {
        try await run(.netem)
    }

    @Test(.enabled(if: nftablesAvailable, "needs root, ip netns and nftables (nft)"))
    func aLossyDuplicatingSlowLinkStillGivesExactTotals() async throws {
        try await run(.nftables)
    }

    private func run(_ impairment: Impairment) async throws {
        let harness = try ProcessHarness()
        defer { harness.cleanUp() }
        let id = "\(getpid() % 10000)\(impairment.rawValue)"
        let (a, b) = ("sanmin-a-\(id)", "sanmin-b-\(id)")
        let subnet = ["c": "10.231.6", "i": "10.231.7", "n": "10.231.8"][impairment.rawValue]!
        defer {
            _ = Self.sh("ip netns pids \(a) | xargs -r kill -9; ip netns pids \(b) | xargs -r kill -9")
            _ = Self.sh("ip netns del \(a); ip netns del \(b)")
        }
        let setup = Self.sh(
            """
            set -e
            ip netns add \(a); ip netns add \(b)
            ip link add va\(id) type veth peer name vb\(id)
            ip link set va\(id) netns \(a); ip link set vb\(id) netns \(b)
            ip -n \(a) addr add \(subnet).1/24 dev va\(id); ip -n \(b) addr add \(subnet).2/24 dev vb\(id)
            ip -n \(a) link set va\(id) up; ip -n \(b) link set vb\(id) up
            ip -n \(a) link set lo up; ip -n \(b) link set lo up
            """)
        try #require(setup.status == 0, "\(setup.output)")
        switch impairment {
        case .cut:
            break
        case .netem:
            for (ns, dev) in [(a, "va\(id)"), (b, "vb\(id)")] {
                let netem = Self.sh(
                    "ip netns exec \(ns) tc qdisc add dev \(dev) root netem loss 20% delay 300ms 100ms "
                        + "duplicate 5% reorder 10% 50%")
                try #require(netem.status == 0, "\(netem.output)")
            }
        case .nftables:
            for (ns, dev, peer) in [(a, "va\(id)", "\(subnet).2"), (b, "vb\(id)", "\(subnet).1")] {
                let rules = Self.sh(
                    """
                    set -e
                    ip netns exec \(ns) nft add table ip impair
                    ip netns exec \(ns) nft add chain ip impair input '{ type filter hook input priority 0; }'
                    ip netns exec \(ns) nft add rule ip impair input iifname \(dev) numgen random mod 100 '<' 20 counter drop
                    ip netns exec \(ns) nft add chain ip impair output '{ type filter hook output priority 0; }'
                    ip netns exec \(ns) nft add rule ip impair output ip daddr \(peer) numgen random mod 100 '<' 5 \\
                        counter dup to \(peer) device \(dev)
                    ip netns exec \(ns) tc qdisc add dev \(dev) root tbf rate 256kbit burst 16kbit latency 600ms
                    """)
                try #require(rules.status == 0, "\(rules.output)")
            }
        }

        // The aggregator listens inside namespace A; the node runs its daemon inside namespace B.
        let eventURL = Fixtures.example("tumed-2021")
        let event = try EventDefinition.load(contentsOf: eventURL).definition
        let bin = harness.binaries.path
        let ip = URL(filePath: "/usr/sbin/ip")
        let serve = try harness.start(
            executable: ip,
            [
                "netns", "exec", a, "\(bin)/aggregator", "serve", "--data-dir",
                "agg", "--event", eventURL.path, "--listen", "\(subnet).1:8080",
            ],
            log: "aggregator.log")
        defer { serve.terminate() }
        _ = try await harness.waitForLine(startingWith: "listening on", in: "aggregator.log")
        try harness.createNode("n", event: eventURL, venue: "tumed", aggregatorURL: "http://\(subnet).1:8080")
        let daemon = try harness.start(
            executable: ip,
            [
                "netns", "exec", b, "\(bin)/venue-node", "run", "--data-dir",
                "n", "--interval", "1", "--max-backoff", "2",
            ], log: "node.log")
        defer { daemon.terminate() }

        // Record in three parts: before the cut, during it, after it.
        var expected: [String: Int] = [:]
        let departments = event.ballotDepartments(session: "S1")!.map(\.id)
        func record(_ part: Int) throws {
            var ballots = ["session,box,status," + departments.joined(separator: ",")]
            for index in 0..<60 {
                let marks = departments.enumerated().map { position, department in
                    let mark = ["satisfied", "basically_satisfied", "dissatisfied"][(index + position + part) % 3]
                    expected["tumed,S1,\(department),\(mark)", default: 0] += 1
                    return mark
                }
                ballots.append("S1,B\(part),valid," + marks.joined(separator: ","))
            }
            let file = try harness.write(ballots.joined(separator: "\n") + "\n", to: "part\(part).csv")
            #expect(
                try harness.run(
                    "venue-node",
                    [
                        "box", "close", "--data-dir", "n", "--session", "S1", "--box", "B\(part)",
                        "--issued", "60", "--returned", "60",
                    ]
                ).status == 0)
            #expect(try harness.run("venue-node", ["import", "--data-dir", "n", "--ballots", file]).status == 0)
        }
        try record(1)
        try await Task.sleep(for: .seconds(2))
        #expect(Self.sh("ip -n \(b) link set vb\(id) down").status == 0)
        try record(2)
        try await Task.sleep(for: .seconds(4))
        try record(3)
        #expect(Self.sh("ip -n \(b) link set vb\(id) up").status == 0)
        let healed = ContinuousClock.now

        // Converged when the aggregator holds the node's whole chain.
        let head = try harness.run("venue-node", ["status", "--data-dir", "n", "--json"])
        let status = try #require(try JSONSerialization.jsonObject(with: Data(head.stdout.utf8)) as? [String: Any])
        let lastSeq = try #require(status["last_seq"] as? Int)
        let aggregatorDB = try DatabaseQueue(path: harness.workDirectory.appending(path: "agg/aggregator.sqlite").path)
        var held = 0
        while held < lastSeq && ContinuousClock.now - healed < .seconds(300) {
            held = try await aggregatorDB.read { db in try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM record") ?? 0 }
            try await Task.sleep(for: .milliseconds(100))
        }
        let convergence = ContinuousClock.now - healed
        let description =
            switch impairment {
            case .cut: "link cut"
            case .netem: "link cut, netem loss 20% delay 300±100ms duplicate 5% reorder 10%"
            case .nftables: "link cut, nftables loss 20% each way and duplicate 5%, tbf 256 kbit/s with a 600 ms queue"
            }
        print(
            "network namespaces (\(description)): "
                + "\(held)/\(lastSeq) records held \(convergence) after the link came back")
        #expect(held == lastSeq)
        if impairment == .nftables {
            // The impairment did happen: packets were dropped and duplicated on the way.
            let counters = [a, b].map { Self.sh("ip netns exec \($0) nft list table ip impair").output }.joined()
            let packets = { (action: String) in
                counters.split(separator: "\n").filter { $0.contains(action) }
                    .compactMap {
                        $0.split(separator: " ").drop { $0 != "packets" }.dropFirst().first.flatMap { Int($0) }
                    }
                    .reduce(0, +)
            }
            print("nftables: \(packets("drop")) packets dropped, \(packets("dup to")) duplicated")
            #expect(packets("drop") > 0 && packets("dup to") > 0)
        }
        try aggregatorDB.close()
        let tallies = try harness.run("aggregator", ["export", "tallies", "--data-dir", "agg", "--csv"])
        #expect(
            tallies.stdout.split(separator: "\n").dropFirst().map(String.init)
                == expected.keys.sorted().map { "\($0),\(expected[$0]!)" })
    }
}
