import Crypto
import Foundation
import PostgresNIO
import Shared

/// One-time enrolment tokens on PostgreSQL, as `AggregatorDatabase` keeps them: only a token's SHA-256 is stored; its
/// use is a row keyed by the token, written in the transaction that enrols the key, under the venue's lock (the lock
/// merges and enrolments of the venue take), so a token enrols one key once whichever aggregator is asked.
extension PostgresStore {
    public func issueEnrolmentToken(venue: String, validFor: Int64, now: Date = Date()) throws -> String {
        try AggregatorDatabase.checkEnrolmentToken(venue: venue, validFor: validFor, event: try installedEvent())
        let token = "sme_" + AggregatorDatabase.randomToken()
        _ = try connections.withSession { session in
            try session.execute(
                """
                INSERT INTO enrolmentToken (tokenHash, venue, createdAt, expiresAt)
                VALUES (\(AggregatorDatabase.tokenHash(token)), \(venue), \(now.formatted(.iso8601)),
                        \(Int64(now.timeIntervalSince1970) + validFor))
                """)
        }
        return token
    }

    public func redeemEnrolmentToken(
        _ token: String, venue: String, key: Curve25519.Signing.PublicKey, now: Date = Date()
    ) throws -> EnrolledNode {
        let hash = AggregatorDatabase.tokenHash(token)
        // The venue asked for is locked first; a token of another venue is refused before anything is written.
        return try connections.withTransaction(locking: "venue " + venue) { session in
            guard
                let row = try session.rows("SELECT venue, expiresAt FROM enrolmentToken WHERE tokenHash = \(hash)")
                    .first
            else { throw EnrolmentRefusal.unknownToken }
            if let used = try session.value(
                "SELECT nodeID FROM enrolmentUse WHERE tokenHash = \(hash)", as: String.self)
            {
                guard used == NodeIdentity.nodeID(for: key), let node = try Self.node(session, id: used) else {
                    throw EnrolmentRefusal.used(byNode: used)
                }
                return node
            }
            if let at = try session.value(
                "SELECT revokedAt FROM enrolmentTokenRevocation WHERE tokenHash = \(hash)", as: String.self)
            {
                throw EnrolmentRefusal.revoked(at: at)
            }
            let tokenVenue = try row[0].decode(String.self)
            guard tokenVenue == venue else { throw EnrolmentRefusal.otherVenue(tokenVenue: tokenVenue) }
            let expiresAt = try row[1].decode(Int64.self)
            guard Int64(now.timeIntervalSince1970) < expiresAt else { throw EnrolmentRefusal.expired(at: expiresAt) }
            let node = try Self.insertNode(session, venue: venue, key: key)
            try session.execute(
                """
                INSERT INTO enrolmentUse (tokenHash, nodeID, usedAt) VALUES (\(hash), \(node.id), \(now.formatted(.iso8601)))
                """)
            return node
        }
    }

    public func enrolmentTokens() throws -> [AggregatorDatabase.EnrolmentTokenListing] {
        try connections.withSession { session in
            try session.rows(
                """
                SELECT t.tokenHash, t.venue, t.createdAt, t.expiresAt, u.nodeID, u.usedAt, r.revokedAt
                FROM enrolmentToken t
                LEFT JOIN enrolmentUse u ON u.tokenHash = t.tokenHash
                LEFT JOIN enrolmentTokenRevocation r ON r.tokenHash = t.tokenHash
                ORDER BY t.createdAt COLLATE "C", t.tokenHash COLLATE "C"
                """
            ).map {
                AggregatorDatabase.EnrolmentTokenListing(
                    id: String(try $0[0].decode(String.self).prefix(AggregatorDatabase.enrolmentTokenIDLength)),
                    venue: try $0[1].decode(String.self), createdAt: try $0[2].decode(String.self),
                    expiresAt: try $0[3].decode(Int64.self), usedBy: try $0[4].decode(String?.self),
                    usedAt: try $0[5].decode(String?.self), revokedAt: try $0[6].decode(String?.self))
            }
        }
    }

    @discardableResult
    public func revokeEnrolmentToken(id: String, reason: String) throws -> String {
        let reason = try AggregatorDatabase.checkedReason(reason)
        let prefix = id.lowercased()
        let length = AggregatorDatabase.enrolmentTokenIDLength
        guard prefix.count == length, prefix.allSatisfy(\.isHexDigit) else {
            throw AggregatorError(
                "\"\(id)\" is not an enrolment token id: give the \(length) hex digits `aggregator nodes tokens` shows")
        }
        let hashes = try connections.withSession { session in
            try session.column(
                "SELECT tokenHash FROM enrolmentToken WHERE left(tokenHash, \(Int32(length))) = \(prefix)",
                as: String.self)
        }
        guard hashes.count == 1, let hash = hashes.first else {
            throw AggregatorError(
                hashes.isEmpty
                    ? "no enrolment token has id \(id) (see `aggregator nodes tokens`)"
                    : "several enrolment tokens have id \(id): give the token itself to `aggregator nodes tokens revoke`"
            )
        }
        let venue =
            try connections.withSession { session in
                try session.value("SELECT venue FROM enrolmentToken WHERE tokenHash = \(hash)", as: String.self)
            } ?? ""
        // Under the token's venue lock: a revocation and a use of the token cannot both win.
        return try connections.withTransaction(locking: "venue " + venue) { session in
            if let row = try session.rows("SELECT nodeID, usedAt FROM enrolmentUse WHERE tokenHash = \(hash)").first {
                let node = try row[0].decode(String.self)
                throw AggregatorError(
                    "enrolment token \(id) was already used, by node \(node) at \(try row[1].decode(String.self)): "
                        + "revoking it changes nothing; revoke the node instead (aggregator nodes revoke --node \(node) "
                        + "--reason …)")
            }
            if let at = try session.value(
                "SELECT revokedAt FROM enrolmentTokenRevocation WHERE tokenHash = \(hash)", as: String.self)
            {
                throw AggregatorError("enrolment token \(id) was already revoked at \(at)")
            }
            try session.execute(
                """
                INSERT INTO enrolmentTokenRevocation (tokenHash, reason, revokedAt)
                VALUES (\(hash), \(reason), \(AggregatorDatabase.timestamp()))
                """)
            return venue
        }
    }
}
