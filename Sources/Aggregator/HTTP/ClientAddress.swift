import Foundation
import HTTPTypes
import NIOCore

/// Who a request or a connection counts against, for rate limits and connection caps.
public enum ClientAddress {
    /// The client key of an address: its IPv4 address, or the /64 network of an IPv6 address (one host
    /// usually holds a whole /64); an IPv4-mapped IPv6 address (a client of a server on `[::]`) is its IPv4.
    public static func key(_ address: SocketAddress?) -> String {
        guard let address, let bytes = bytes(of: address) else { return address?.ipAddress ?? "unknown" }
        return key(bytes: bytes)
    }

    static func key(bytes: [UInt8]) -> String {
        if bytes.count == 4 { return bytes.map { String($0) }.joined(separator: ".") }
        return bytes.prefix(8).map { String(format: "%02x", $0) }.joined() + "::/64"
    }

    /// The address's bytes: 4 for IPv4 (IPv4-mapped IPv6 included), 16 for IPv6; nil for a Unix socket.
    static func bytes(of address: SocketAddress) -> [UInt8]? {
        switch address {
        case .v4(let v4):
            return withUnsafeBytes(of: v4.address.sin_addr) { Array($0) }
        case .v6(let v6):
            let bytes = withUnsafeBytes(of: v6.address.sin6_addr) { Array($0) }
            if bytes.prefix(10).allSatisfy({ $0 == 0 }) && bytes[10] == 0xff && bytes[11] == 0xff {
                return Array(bytes.suffix(4))
            }
            return bytes
        case .unixDomainSocket:
            return nil
        }
    }

    /// Parses an IPv4 or IPv6 address written as text (no port).
    static func bytes(parsing text: String) -> [UInt8]? {
        guard let address = try? SocketAddress(ipAddress: text, port: 0) else { return nil }
        return bytes(of: address)
    }
}

/// `--trusted-proxy`: the addresses (or networks, `ADDR/PREFIX`) of reverse proxies in front of the
/// aggregator. Only for a request whose TCP peer is one of them is `X-Forwarded-For` read to find the
/// client; from anyone else the header is ignored (a client could write anything in it).
public struct TrustedProxies: Sendable, Equatable {
    struct Network: Sendable, Equatable {
        var bytes: [UInt8]
        var prefix: Int

        func contains(_ address: [UInt8]) -> Bool {
            guard address.count == bytes.count else { return false }
            var remaining = prefix
            for (a, b) in zip(address, bytes) where remaining > 0 {
                let bits = min(8, remaining)
                let mask = UInt8(truncatingIfNeeded: 0xff << (8 - bits))
                if a & mask != b & mask { return false }
                remaining -= bits
            }
            return true
        }
    }

    public struct Invalid: Error, CustomStringConvertible {
        public var value: String
        public var description: String {
            "--trusted-proxy \"\(value)\" is not an IP address or network (e.g. 10.0.0.5, 10.0.0.0/24, fd00::/64)"
        }
    }

    var networks: [Network]

    public static let none = TrustedProxies(networks: [])

    init(networks: [Network]) { self.networks = networks }

    /// Parses `ADDR` or `ADDR/PREFIX` values.
    public init(parsing values: [String]) throws {
        networks = try values.map { value in
            let parts = value.split(separator: "/", maxSplits: 1).map(String.init)
            guard let bytes = ClientAddress.bytes(parsing: parts.first ?? "") else { throw Invalid(value: value) }
            var prefix = bytes.count * 8
            if parts.count == 2 {
                guard let given = Int(parts[1]), (0...128).contains(given) else { throw Invalid(value: value) }
                // An IPv4-mapped network (::ffff:10.0.0.0/104) is the IPv4 network /8.
                prefix = bytes.count == 4 && parts[0].contains(":") ? given - 96 : given
                guard (0...(bytes.count * 8)).contains(prefix) else { throw Invalid(value: value) }
            }
            return Network(bytes: bytes, prefix: prefix)
        }
    }

    public var isEmpty: Bool { networks.isEmpty }

    func contains(_ bytes: [UInt8]) -> Bool { networks.contains { $0.contains(bytes) } }

    /// Whether the TCP peer is a trusted proxy.
    public func contains(_ address: SocketAddress?) -> Bool {
        guard let address, let bytes = ClientAddress.bytes(of: address) else { return false }
        return contains(bytes)
    }

    /// The client key of a request: the TCP peer's, unless the peer is a trusted proxy; then the nearest
    /// address in `X-Forwarded-For` (read from the right) that is not itself a trusted proxy. A malformed
    /// entry ends the walk at the last trusted hop: what lies to its left cannot be trusted.
    public func client(peer: SocketAddress?, forwardedFor: [String]) -> String {
        guard !networks.isEmpty, let peer, let peerBytes = ClientAddress.bytes(of: peer), contains(peerBytes) else {
            return ClientAddress.key(peer)
        }
        let hops = forwardedFor.flatMap { $0.split(separator: ",") }
            .map { $0.trimmingCharacters(in: .whitespaces) }
        var client = peerBytes
        for hop in hops.reversed() {
            guard let bytes = Self.parseHop(hop) else { break }
            client = bytes
            if !contains(bytes) { break }
        }
        return ClientAddress.key(bytes: client)
    }

    /// One `X-Forwarded-For` entry: `1.2.3.4`, `1.2.3.4:5678`, `2001:db8::1` or `[2001:db8::1]:5678`.
    static func parseHop(_ hop: String) -> [UInt8]? {
        if let bytes = ClientAddress.bytes(parsing: hop) { return bytes }
        if hop.hasPrefix("["), let end = hop.firstIndex(of: "]") {
            return ClientAddress.bytes(parsing: String(hop[hop.index(after: hop.startIndex)..<end]))
        }
        if let colon = hop.lastIndex(of: ":"), hop.filter({ $0 == ":" }).count == 1 {
            return ClientAddress.bytes(parsing: String(hop[..<colon]))
        }
        return nil
    }
}

extension HTTPField.Name {
    static let xForwardedFor = Self("X-Forwarded-For")!
}
