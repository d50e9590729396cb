import Crypto
import Foundation
import GRDB
import Shared

/// Who may read what over HTTP. Nodes write by signature; people read with bearer tokens.
public enum Role: String, Sendable, CaseIterable, Comparable {
    /// Reads totals, the dashboard, reconciliation, released results and metrics.
    case observer
    /// Everything an observer may, and what is for administrators.
    case admin

    public static func < (a: Role, b: Role) -> Bool { a == .observer && b == .admin }
}

extension AggregatorDatabase {
    /// Creates a bearer token for `role`; returns it (shown once: only its SHA-256 is stored).
    public func addToken(name: String, role: Role) throws -> String {
        let token = "smt_" + Self.randomToken()
        try writer.write { db in
            try db.execute(sql: "INSERT INTO apiToken (name, role, tokenHash, createdAt) VALUES (?, ?, ?, ?)",
                           arguments: [name, role.rawValue, Self.tokenHash(token), Self.timestamp()])
        }
        return token
    }

    /// Whether any bearer token exists (without one, nobody can read).
    public func hasTokens() throws -> Bool {
        try writer.read { db in try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM apiToken") ?? 0 } > 0
    }

    /// The role of a presented token, compared in constant time against every stored hash.
    public func role(ofToken token: String) throws -> Role? {
        let presented = Array(Self.tokenHash(token).utf8)
        let rows = try writer.read { db in try Row.fetchAll(db, sql: "SELECT role, tokenHash FROM apiToken") }
        var found: Role?
        for row in rows {
            let stored = Array((row["tokenHash"] as String).utf8)
            var difference: UInt8 = stored.count == presented.count ? 0 : 1
            for (a, b) in zip(stored, presented) { difference |= a ^ b }
            if difference == 0 { found = Role(rawValue: row["role"]) }
        }
        return found
    }

    /// 32 random bytes, base64url without padding.
    static func randomToken() -> String {
        var bytes = [UInt8](repeating: 0, count: 32)
        var generator = SystemRandomNumberGenerator()
        for index in bytes.indices { bytes[index] = UInt8.random(in: 0...255, using: &generator) }
        return Data(bytes).base64EncodedString()
            .replacingOccurrences(of: "+", with: "-").replacingOccurrences(of: "/", with: "_")
            .replacingOccurrences(of: "=", with: "")
    }

    static func tokenHash(_ token: String) -> String { SHA256.hash(data: Data(token.utf8)).hexString }
}
