import Crypto
import Foundation
import GRDB
import Shared

/// Who may read what over HTTP. Nodes write by signature; people read with bearer tokens.
public enum Role: String, Sendable, CaseIterable, Comparable {
    /// A department's account (issue #17): only the suggestions assigned to its department, and its answers. Below
    /// an observer: it reads nothing else.
    case department
    /// Reads totals, the dashboard, reconciliation, released results and metrics.
    case observer
    /// Everything an observer may, and what is for administrators (the central office's officers).
    case admin

    private var rank: Int {
        switch self {
        case .department: 0
        case .observer: 1
        case .admin: 2
        }
    }

    public static func < (a: Role, b: Role) -> Bool { a.rank < b.rank }
}

extension AggregatorDatabase {
    /// Creates a bearer token for `role`; returns it (shown once: only its SHA-256 is stored). A department's token
    /// is bound to its department (one of the event's), and only a department's token is.
    public func addToken(name: String, role: Role, department: String? = nil) throws -> String {
        try Self.checkTokenDepartment(role: role, department: department, event: try installedEvent()?.definition)
        let token = "smt_" + Self.randomToken()
        try writer.write { db in
            try db.execute(
                sql: "INSERT INTO apiToken (name, role, tokenHash, createdAt, department) VALUES (?, ?, ?, ?, ?)",
                arguments: [name, role.rawValue, Self.tokenHash(token), Self.timestamp(), department])
        }
        return token
    }

    /// Refuses a department's token that names no department of `event`, and any other token that names one (both
    /// stores' `addToken`).
    static func checkTokenDepartment(role: Role, department: String?, event: EventDefinition?) throws {
        guard (role == .department) == (department != nil) else {
            throw AggregatorError(
                role == .department
                    ? "a department's token names its department (--department)"
                    : "only a department's token names a department")
        }
        if let department {
            guard let event, event.departments.contains(where: { $0.id == department }) else {
                throw AggregatorError(
                    "unknown department \(department); the departments are: "
                        + (event?.departments.map(\.id).joined(separator: ", ") ?? "(no event installed)"))
            }
        }
    }

    /// The department a presented token in force is bound to (nil: not a department's token in force).
    public func department(ofToken token: String) throws -> String? {
        guard case .valid(.department) = try check(bearerToken: token) else { return nil }
        return try writer.read { db in
            try String.fetchOne(
                db, sql: "SELECT department FROM apiToken WHERE tokenHash = ?", arguments: [Self.tokenHash(token)])
        }
    }

    /// Whether any bearer token that is not revoked exists (without one, nobody can read).
    public func hasTokens() throws -> Bool {
        try writer.read { db in
            try Int.fetchOne(
                db,
                sql: """
                    SELECT COUNT(*) FROM apiToken WHERE id NOT IN (SELECT tokenID FROM apiTokenRevocation)
                    """) ?? 0
        } > 0
    }

    /// What a presented bearer token is worth.
    public enum BearerCheck: Equatable, Sendable {
        /// A token of this role, in force.
        case valid(Role)
        /// A token that was issued here and revoked at that time.
        case revoked(at: String)
        /// Not a token of this aggregator.
        case unknown
    }

    /// Checks a presented token: its hash is compared in constant time against every stored hash.
    public func check(bearerToken token: String) throws -> BearerCheck {
        let rows = try writer.read { db in
            try Row.fetchAll(
                db,
                sql: """
                    SELECT t.role, t.tokenHash, r.revokedAt FROM apiToken t
                    LEFT JOIN apiTokenRevocation r ON r.tokenID = t.id
                    """
            ).map { ($0["role"] as String, $0["tokenHash"] as String, $0["revokedAt"] as String?) }
        }
        return Self.bearerCheck(token, among: rows)
    }

    /// What `token` is worth among the stored tokens (role, hash, when revoked): its hash compared in constant time
    /// with every stored hash.
    static func bearerCheck(_ token: String, among stored: [(role: String, hash: String, revokedAt: String?)])
        -> BearerCheck
    {
        let presented = Array(tokenHash(token).utf8)
        var found = BearerCheck.unknown
        for row in stored {
            let hash = Array(row.hash.utf8)
            var difference: UInt8 = hash.count == presented.count ? 0 : 1
            for (a, b) in zip(hash, presented) { difference |= a ^ b }
            if difference == 0, let role = Role(rawValue: row.role) {
                found = row.revokedAt.map { .revoked(at: $0) } ?? .valid(role)
            }
        }
        return found
    }

    /// A bearer token as `aggregator tokens list` shows it (never the token itself: only its hash is kept).
    public struct TokenListing: Sendable, Equatable {
        public var id: Int64
        public var name: String
        public var role: String
        public var createdAt: String
        public var revokedAt: String?
        public var reason: String?
    }

    /// Every bearer token issued, revoked ones included.
    public func tokens() throws -> [TokenListing] {
        try writer.read { db in
            try Row.fetchAll(
                db,
                sql: """
                    SELECT t.id, t.name, t.role, t.createdAt, r.revokedAt, r.reason FROM apiToken t
                    LEFT JOIN apiTokenRevocation r ON r.tokenID = t.id ORDER BY t.id
                    """
            ).map {
                TokenListing(
                    id: $0["id"], name: $0["name"], role: $0["role"], createdAt: $0["createdAt"],
                    revokedAt: $0["revokedAt"], reason: $0["reason"])
            }
        }
    }

    /// The id of the bearer token `token` (shown by `tokens list`), if it was issued here.
    public func tokenID(of token: String) throws -> Int64? {
        try writer.read { db in
            try Int64.fetchOne(
                db, sql: "SELECT id FROM apiToken WHERE tokenHash = ?", arguments: [Self.tokenHash(token)])
        }
    }

    /// Revokes bearer token `id` for good: from now on it is refused (`401 token_revoked`).
    public func revokeToken(id: Int64, reason: String) throws {
        let reason = try Self.checkedReason(reason)
        try writer.write { db in
            guard try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM apiToken WHERE id = ?", arguments: [id]) == 1 else {
                throw AggregatorError("no bearer token has id \(id) (see `aggregator tokens list`)")
            }
            if let at = try String.fetchOne(
                db, sql: "SELECT revokedAt FROM apiTokenRevocation WHERE tokenID = ?",
                arguments: [id])
            {
                throw AggregatorError("bearer token \(id) was already revoked at \(at)")
            }
            try db.execute(
                sql: "INSERT INTO apiTokenRevocation (tokenID, reason, revokedAt) VALUES (?, ?, ?)",
                arguments: [id, reason, Self.timestamp()])
        }
    }

    /// A revocation's reason, trimmed; an empty one is refused (a revocation cannot be undone: say why).
    static func checkedReason(_ reason: String) throws -> String {
        let trimmed = reason.trimmingCharacters(in: .whitespacesAndNewlines)
        guard !trimmed.isEmpty else {
            throw AggregatorError(
                "--reason is empty: a revocation cannot be undone, so say why (e.g. --reason \"laptop "
                    + "stolen\")")
        }
        return trimmed
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

extension AggregatorStore {
    /// The role of a presented token in force (nil for an unknown or revoked token).
    public func role(ofToken token: String) throws -> Role? {
        if case .valid(let role) = try check(bearerToken: token) { return role }
        return nil
    }
}
