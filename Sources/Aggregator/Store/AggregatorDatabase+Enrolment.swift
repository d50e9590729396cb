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

    public var description: String {
        switch self {
        case .unknownToken: "this enrolment token was not issued by this aggregator"
        case .expired(let at): "this enrolment token expired at \(Date(timeIntervalSince1970: TimeInterval(at)).formatted(.iso8601))"
        case .used(let node): "this enrolment token was already used, by node \(node); ask for a new one"
        case .otherVenue(let venue): "this enrolment token is for venue \(venue)"
        }
    }
}

extension AggregatorDatabase {
    /// Issues a one-time enrolment token for `venue`, valid for `validFor` seconds; returns it (shown
    /// once: only its SHA-256 is stored).
    public func issueEnrolmentToken(venue: String, validFor: Int64, now: Date = Date()) throws -> String {
        if let event = try installedEvent(), event.definition.venue(venue) == nil {
            throw AggregatorError("venue \"\(venue)\" is not in event \(event.definition.id); its venues are: "
                + event.definition.venues.map(\.id).joined(separator: ", "))
        }
        guard validFor > 0, validFor <= 30 * 86_400 else {
            throw AggregatorError("a token may be valid for 1 second to 30 days")
        }
        let token = "sme_" + Self.randomToken()
        try writer.write { db in
            try db.execute(sql: "INSERT INTO enrolmentToken (tokenHash, venue, createdAt, expiresAt) VALUES (?, ?, ?, ?)",
                           arguments: [Self.tokenHash(token), venue, now.formatted(.iso8601),
                                       Int64(now.timeIntervalSince1970) + validFor])
        }
        return token
    }

    /// Uses an enrolment token: enrols `key` for the token's venue as its next epoch, in one transaction
    /// that also marks the token used. The same key presenting the same token again gets the same node
    /// (an answer lost on the way can be asked for again); any other use is refused.
    public func redeemEnrolmentToken(_ token: String, venue: String, key: Curve25519.Signing.PublicKey,
                                     now: Date = Date()) throws -> EnrolledNode {
        let hash = Self.tokenHash(token)
        return try writer.write { db in
            guard let row = try Row.fetchOne(db, sql: "SELECT venue, expiresAt FROM enrolmentToken WHERE tokenHash = ?",
                                             arguments: [hash]) else {
                throw EnrolmentRefusal.unknownToken
            }
            if let used = try String.fetchOne(db, sql: "SELECT nodeID FROM enrolmentUse WHERE tokenHash = ?",
                                              arguments: [hash]) {
                guard used == NodeIdentity.nodeID(for: key), let node = try EnrolledNode.fetchOne(db, key: used) else {
                    throw EnrolmentRefusal.used(byNode: used)
                }
                return node
            }
            let tokenVenue: String = row["venue"]
            guard tokenVenue == venue else { throw EnrolmentRefusal.otherVenue(tokenVenue: tokenVenue) }
            let expiresAt: Int64 = row["expiresAt"]
            guard Int64(now.timeIntervalSince1970) < expiresAt else { throw EnrolmentRefusal.expired(at: expiresAt) }
            let node = try Self.insertNode(db, venue: venue, key: key)
            try db.execute(sql: "INSERT INTO enrolmentUse (tokenHash, nodeID, usedAt) VALUES (?, ?, ?)",
                           arguments: [hash, node.id, now.formatted(.iso8601)])
            return node
        }
    }
}
