import Crypto
import Foundation
import GRDB
import Shared

/// Why an enrolment token was not accepted.
public enum EnrolmentRefusal: Error, Sendable, Equatable, CustomStringConvertible {
    /// No such token was issued (or it was mistyped).
    case unknownToken
    /// The token's time ran out before it was used.
    case expired(at: Int64)
    /// The token was already used, by another key.
    case used(byNode: String)
    /// The token was issued for another venue than the node asks for.
    case otherVenue(tokenVenue: String)
    /// The token was revoked (`aggregator nodes tokens revoke`) before it was used.
    case revoked(at: String)

    public var description: String {
        switch self {
        case .unknownToken: "this enrolment token was not issued by this aggregator"
        case .expired(let at):
            "this enrolment token expired at \(Date(timeIntervalSince1970: TimeInterval(at)).formatted(.iso8601))"
        case .used(let node): "this enrolment token was already used, by node \(node); ask for a new one"
        case .otherVenue(let venue): "this enrolment token is for venue \(venue)"
        case .revoked(let at): "this enrolment token was revoked at \(at); ask the central office for a new one"
        }
    }
}

extension AggregatorDatabase {
    /// Issues a one-time enrolment token for `venue`, valid for `validFor` seconds; returns it (shown
    /// once: only its SHA-256 is stored).
    public func issueEnrolmentToken(venue: String, validFor: Int64, now: Date = Date()) throws -> String {
        try Self.checkEnrolmentToken(venue: venue, validFor: validFor, event: try installedEvent())
        let token = "sme_" + Self.randomToken()
        try writer.write { db in
            try db.execute(
                sql: "INSERT INTO enrolmentToken (tokenHash, venue, createdAt, expiresAt) VALUES (?, ?, ?, ?)",
                arguments: [
                    Self.tokenHash(token), venue, now.formatted(.iso8601),
                    Int64(now.timeIntervalSince1970) + validFor,
                ])
        }
        return token
    }

    /// Refuses an enrolment token for a venue `event` does not have, or valid for other than 1 s to 30 days (both
    /// stores' `issueEnrolmentToken`).
    static func checkEnrolmentToken(venue: String, validFor: Int64, event: LoadedEvent?) throws {
        try checkVenue(venue, of: event)
        guard validFor > 0, validFor <= 30 * 86_400 else {
            throw AggregatorError("a token may be valid for 1 second to 30 days")
        }
    }

    /// Uses an enrolment token: enrols `key` for the token's venue as its next epoch, in one transaction
    /// that also marks the token used. The same key presenting the same token again gets the same node
    /// (an answer lost on the way can be asked for again); any other use is refused.
    public func redeemEnrolmentToken(
        _ token: String, venue: String, key: Curve25519.Signing.PublicKey,
        now: Date = Date()
    ) throws -> EnrolledNode {
        let hash = Self.tokenHash(token)
        return try writer.write { db in
            guard
                let row = try Row.fetchOne(
                    db, sql: "SELECT venue, expiresAt FROM enrolmentToken WHERE tokenHash = ?",
                    arguments: [hash])
            else {
                throw EnrolmentRefusal.unknownToken
            }
            if let used = try String.fetchOne(
                db, sql: "SELECT nodeID FROM enrolmentUse WHERE tokenHash = ?",
                arguments: [hash])
            {
                guard used == NodeIdentity.nodeID(for: key), let node = try EnrolledNode.fetchOne(db, key: used) else {
                    throw EnrolmentRefusal.used(byNode: used)
                }
                return node
            }
            if let at = try String.fetchOne(
                db, sql: "SELECT revokedAt FROM enrolmentTokenRevocation WHERE tokenHash = ?",
                arguments: [hash])
            {
                throw EnrolmentRefusal.revoked(at: at)
            }
            let tokenVenue: String = row["venue"]
            guard tokenVenue == venue else { throw EnrolmentRefusal.otherVenue(tokenVenue: tokenVenue) }
            let expiresAt: Int64 = row["expiresAt"]
            guard Int64(now.timeIntervalSince1970) < expiresAt else { throw EnrolmentRefusal.expired(at: expiresAt) }
            let node = try Self.insertNode(db, venue: venue, key: key)
            try db.execute(
                sql: "INSERT INTO enrolmentUse (tokenHash, nodeID, usedAt) VALUES (?, ?, ?)",
                arguments: [hash, node.id, now.formatted(.iso8601)])
            return node
        }
    }

    /// An enrolment token as `aggregator nodes tokens` shows it: `id` is the first 12 hex digits of its hash
    /// (the token itself is not kept).
    public struct EnrolmentTokenListing: Sendable, Equatable {
        public var id: String
        public var venue: String
        public var createdAt: String
        public var expiresAt: Int64
        public var usedBy: String?
        public var usedAt: String?
        public var revokedAt: String?

        /// unused, used, expired or revoked.
        public func state(now: Date = Date()) -> String {
            if usedBy != nil { return "used" }
            if revokedAt != nil { return "revoked" }
            return Int64(now.timeIntervalSince1970) < expiresAt ? "unused" : "expired"
        }
    }

    /// The length of an enrolment token's id (a prefix of its hash).
    static let enrolmentTokenIDLength = 12

    /// Every enrolment token issued, oldest first.
    public func enrolmentTokens() throws -> [EnrolmentTokenListing] {
        try writer.read { db in
            try Row.fetchAll(
                db,
                sql: """
                    SELECT t.tokenHash, t.venue, t.createdAt, t.expiresAt, u.nodeID, u.usedAt, r.revokedAt
                    FROM enrolmentToken t
                    LEFT JOIN enrolmentUse u ON u.tokenHash = t.tokenHash
                    LEFT JOIN enrolmentTokenRevocation r ON r.tokenHash = t.tokenHash
                    ORDER BY t.createdAt, t.tokenHash
                    """
            ).map {
                EnrolmentTokenListing(
                    id: String(($0["tokenHash"] as String).prefix(Self.enrolmentTokenIDLength)),
                    venue: $0["venue"], createdAt: $0["createdAt"], expiresAt: $0["expiresAt"],
                    usedBy: $0["nodeID"], usedAt: $0["usedAt"], revokedAt: $0["revokedAt"])
            }
        }
    }

    /// The id `aggregator nodes tokens` shows for `token`.
    public static func enrolmentTokenID(of token: String) -> String {
        String(tokenHash(token).prefix(enrolmentTokenIDLength))
    }

    /// Revokes an unused enrolment token (by the id `aggregator nodes tokens` shows): from now on it is
    /// refused (`401 enrolment_token_revoked`). A used token cannot be revoked: revoke the node it enrolled.
    /// Returns the token's venue.
    @discardableResult
    public func revokeEnrolmentToken(id: String, reason: String) throws -> String {
        let reason = try Self.checkedReason(reason)
        let prefix = id.lowercased()
        guard prefix.count == Self.enrolmentTokenIDLength, prefix.allSatisfy(\.isHexDigit) else {
            throw AggregatorError(
                "\"\(id)\" is not an enrolment token id: give the \(Self.enrolmentTokenIDLength) hex "
                    + "digits `aggregator nodes tokens` shows")
        }
        return try writer.write { db in
            let hashes = try String.fetchAll(
                db, sql: "SELECT tokenHash FROM enrolmentToken WHERE substr(tokenHash, 1, ?) = ?",
                arguments: [Self.enrolmentTokenIDLength, prefix])
            guard hashes.count == 1, let hash = hashes.first else {
                throw AggregatorError(
                    hashes.isEmpty
                        ? "no enrolment token has id \(id) (see `aggregator nodes tokens`)"
                        : "several enrolment tokens have id \(id): give the token itself to `aggregator nodes tokens revoke`"
                )
            }
            if let row = try Row.fetchOne(
                db, sql: "SELECT nodeID, usedAt FROM enrolmentUse WHERE tokenHash = ?",
                arguments: [hash])
            {
                let node: String = row["nodeID"]
                let at: String = row["usedAt"]
                throw AggregatorError(
                    "enrolment token \(id) was already used, by node \(node) at \(at): revoking it "
                        + "changes nothing; revoke the node instead (aggregator nodes revoke --node \(node) --reason …)"
                )
            }
            if let at = try String.fetchOne(
                db, sql: "SELECT revokedAt FROM enrolmentTokenRevocation WHERE tokenHash = ?",
                arguments: [hash])
            {
                throw AggregatorError("enrolment token \(id) was already revoked at \(at)")
            }
            try db.execute(
                sql: "INSERT INTO enrolmentTokenRevocation (tokenHash, reason, revokedAt) VALUES (?, ?, ?)",
                arguments: [hash, reason, Self.timestamp()])
            return try String.fetchOne(
                db, sql: "SELECT venue FROM enrolmentToken WHERE tokenHash = ?",
                arguments: [hash]) ?? ""
        }
    }
}
