import Aggregator
import Foundation
import NIOCore
import Testing

/// `--trusted-proxy`: `X-Forwarded-For` names the client only when the TCP peer is a trusted proxy.
@Suite struct TrustedProxyTests {
    struct Case: CustomTestStringConvertible, Sendable {
        var name: String
        var trusted: [String]
        var peer: String
        var forwardedFor: [String]
        var client: String
        var testDescription: String { name }
    }

    static let cases = [
        Case(
            name: "a trusted proxy's header names the client", trusted: ["10.0.0.5"], peer: "10.0.0.5",
            forwardedFor: ["203.0.113.7"], client: "203.0.113.7"),
        Case(
            name: "anyone else's header is ignored", trusted: ["10.0.0.5"], peer: "10.0.0.6",
            forwardedFor: ["203.0.113.7"], client: "10.0.0.6"),
        Case(
            name: "the nearest untrusted hop is the client, what it wrote to its left is ignored",
            trusted: ["10.0.0.0/24"], peer: "10.0.0.6", forwardedFor: ["198.51.100.1, 203.0.113.7, 10.0.0.9"],
            client: "203.0.113.7"),
        Case(
            name: "a header given twice is read as one list", trusted: ["10.0.0.5"], peer: "10.0.0.5",
            forwardedFor: ["198.51.100.1", "203.0.113.7"], client: "203.0.113.7"),
        Case(
            name: "a malformed entry leaves the proxy as the client", trusted: ["10.0.0.5"], peer: "10.0.0.5",
            forwardedFor: ["unknown"], client: "10.0.0.5"),
        Case(
            name: "no header leaves the proxy as the client", trusted: ["10.0.0.5"], peer: "10.0.0.5",
            forwardedFor: [], client: "10.0.0.5"),
        Case(
            name: "an entry with a port", trusted: ["10.0.0.5"], peer: "10.0.0.5",
            forwardedFor: ["203.0.113.7:5678"], client: "203.0.113.7"),
        Case(
            name: "an IPv6 client counts as its /64", trusted: ["fd00::/64"], peer: "fd00::1",
            forwardedFor: ["[2001:db8:1:2::9]:443"], client: "20010db800010002::/64"),
        Case(
            name: "an IPv4-mapped proxy address is its IPv4", trusted: ["10.0.0.5"], peer: "::ffff:10.0.0.5",
            forwardedFor: ["203.0.113.7"], client: "203.0.113.7"),
        Case(
            name: "without trusted proxies the header is ignored", trusted: [], peer: "10.0.0.5",
            forwardedFor: ["203.0.113.7"], client: "10.0.0.5"),
    ]

    @Test(arguments: cases)
    func theClientOfARequest(_ example: Case) throws {
        let proxies = try TrustedProxies(parsing: example.trusted)
        let peer = try SocketAddress(ipAddress: example.peer, port: 40_000)
        #expect(proxies.client(peer: peer, forwardedFor: example.forwardedFor) == example.client)
    }

    @Test(arguments: ["nonsense", "10.0.0.1/33", "10.0.0/8", "::1/129"])
    func aTrustedProxyThatIsNotAnAddressIsRefused(_ value: String) {
        #expect(throws: TrustedProxies.Invalid.self) { try TrustedProxies(parsing: [value]) }
    }

    @Test func theRateLimitAndTheConnectionCapReadTheClientOnlyBehindATrustedProxy() async throws {
        let harness = try ProcessHarness()
        defer { harness.cleanUp() }
        let (aggregator, port) = try await harness.startAggregator(
            dataDir: "agg", event: Fixtures.example("tumed-2021"),
            options: [
                "--rate-limit", "0.01", "--rate-burst", "2", "--trusted-proxy", "127.0.0.1",
                "--max-connections-per-client", "3", "--header-timeout", "120",
            ])
        defer {
            aggregator.terminate()
            aggregator.waitUntilExit()
        }
        // Whether each request was refused by the rate limit (429); any other answer is not.
        func statuses(from source: String, forwardedFor: [String]) -> [String] {
            forwardedFor.map {
                let status = rawGet(port: port, path: "/v1/totals", from: source, headers: ["X-Forwarded-For": $0])
                return status == 429 ? "limited" : status == nil ? "no answer" : "answered"
            }
        }

        // Behind the trusted proxy (127.0.0.1), each forwarded client has its own bucket of 2
        #expect(
            statuses(from: "127.0.0.1", forwardedFor: ["10.0.0.1", "10.0.0.1", "10.0.0.1"])
                == ["answered", "answered", "limited"])
        #expect(statuses(from: "127.0.0.1", forwardedFor: ["10.0.0.2"]) == ["answered"])
        // A spoofed entry to the left of the proxy's own does not buy a new bucket
        #expect(statuses(from: "127.0.0.1", forwardedFor: ["10.9.9.9, 10.0.0.1"]) == ["limited"])

        // From an untrusted peer (127.0.0.2) the header is ignored: a new name each time does not help
        #expect(
            statuses(from: "127.0.0.2", forwardedFor: ["10.0.0.3", "10.0.0.4", "10.0.0.5"])
                == ["answered", "answered", "limited"])

        // The connection cap sees only the TCP peer: a trusted proxy carries many clients and counts only
        // toward the total; an untrusted peer is capped
        var proxy: [RawConnection] = []
        var other: [RawConnection] = []
        for _ in 0..<5 {
            let fromProxy = try RawConnection(port: port, from: "127.0.0.1")
            fromProxy.send(SlowlorisTests.halfHead)
            proxy.append(fromProxy)
            let fromOther = try RawConnection(port: port, from: "127.0.0.3")
            fromOther.send(SlowlorisTests.halfHead)
            other.append(fromOther)
        }
        let deadline = ContinuousClock.now + .seconds(20)
        while other.filter(\.isClosed).count < 2 && ContinuousClock.now < deadline {
            for connection in other + proxy where !connection.isClosed {
                connection.waitForClose(within: .milliseconds(20))
            }
        }
        for connection in other + proxy where !connection.isClosed {
            connection.waitForClose(within: .milliseconds(300))
        }
        #expect(other.filter(\.isClosed).count == 2)
        #expect(proxy.filter(\.isClosed).isEmpty)
    }
}
