import Crypto
import Foundation
import PostgresNIO
import Shared

/// Bearer tokens on PostgreSQL, as `AggregatorDatabase` keeps them (a token made through one aggregator is good at
/// every other, and a revocation anywhere holds everywhere at once).
extension PostgresStore {
    public func addToken(name: String, role: Role, department: String? = nil) throws -> String {
        try AggregatorDatabase.checkTokenDepartment(
            role: role, department: department, event: try installedEvent()?.definition)
        let token = "smt_" + AggregatorDatabase.randomToken()
        _ = try connections.withSession { session in
            try session.execute(
                """
                INSERT INTO apiToken (name, role, tokenHash, createdAt, department)
                VALUES (\(name), \(role.rawValue), \(AggregatorDatabase.tokenHash(token)), \(AggregatorDatabase.timestamp()),
                        \(department))
                """)
        }
        return token
    }

    public func hasTokens() throws -> Bool {
        try connections.withSession { session in
            try session.value(
                "SELECT COUNT(*) FROM apiToken WHERE id NOT IN (SELECT tokenID FROM apiTokenRevocation)",
                as: Int64.self) ?? 0
        } > 0
    }

    /// Checks a presented token: its hash is compared in constant time against every stored hash.
    public func check(bearerToken token: String) throws -> AggregatorDatabase.BearerCheck {
        let rows = try connections.withSession { session in
            try session.rows(
                """
                SELECT t.role, t.tokenHash, r.revokedAt FROM apiToken t LEFT JOIN apiTokenRevocation r ON r.tokenID = t.id
                """
            ).map { (try $0[0].decode(String.self), try $0[1].decode(String.self), try $0[2].decode(String?.self)) }
        }
        return AggregatorDatabase.bearerCheck(token, among: rows)
    }

    public func department(ofToken token: String) throws -> String? {
        guard case .valid(.department) = try check(bearerToken: token) else { return nil }
        return try connections.withSession { session in
            try session.value(
                "SELECT department FROM apiToken WHERE tokenHash = \(AggregatorDatabase.tokenHash(token))",
                as: String.self)
        }
    }

    public func tokens() throws -> [AggregatorDatabase.TokenListing] {
        try connections.withSession { session in
            try session.rows(
                """
                SELECT t.id, t.name, t.role, t.createdAt, r.revokedAt, r.reason FROM apiToken t
                LEFT JOIN apiTokenRevocation r ON r.tokenID = t.id ORDER BY t.id
                """
            ).map {
                AggregatorDatabase.TokenListing(
                    id: try $0[0].decode(Int64.self), name: try $0[1].decode(String.self),
                    role: try $0[2].decode(String.self), createdAt: try $0[3].decode(String.self),
                    revokedAt: try $0[4].decode(String?.self), reason: try $0[5].decode(String?.self))
            }
        }
    }

    public func tokenID(of token: String) throws -> Int64? {
        try connections.withSession { session in
            try session.value(
                "SELECT id FROM apiToken WHERE tokenHash = \(AggregatorDatabase.tokenHash(token))", as: Int64.self)
        }
    }

    public func revokeToken(id: Int64, reason: String) throws {
        let reason = try AggregatorDatabase.checkedReason(reason)
        try connections.withTransaction(locking: "token \(id)") { session in
            guard try session.value("SELECT 1 FROM apiToken WHERE id = \(id)", as: Int32.self) != nil else {
                throw AggregatorError("no bearer token has id \(id) (see `aggregator tokens list`)")
            }
            if let at = try session.value(
                "SELECT revokedAt FROM apiTokenRevocation WHERE tokenID = \(id)", as: String.self)
            {
                throw AggregatorError("bearer token \(id) was already revoked at \(at)")
            }
            try session.execute(
                """
                INSERT INTO apiTokenRevocation (tokenID, reason, revokedAt)
                VALUES (\(id), \(reason), \(AggregatorDatabase.timestamp()))
                """)
        }
    }

    /// Whether the database answers and is migrated as this release expects.
    public func isReady() -> Bool {
        let applied = try? connections.withSession { session in
            try session.column("SELECT name FROM schemaMigration", as: String.self)
        }
        return applied.map { Set($0) == Set(PostgresMigrations.migrations.map(\.name)) } ?? false
    }
}
