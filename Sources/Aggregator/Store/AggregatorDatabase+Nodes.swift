import Crypto
import Foundation
import GRDB
import Shared

/// An operator mistake in an aggregator command, said plainly.
public struct AggregatorError: Error, CustomStringConvertible {
    public var description: String

    public init(_ description: String) { self.description = description }
}

extension AggregatorDatabase {
    static func timestamp() -> String { Date().formatted(.iso8601) }

    /// Records the event the aggregator serves. The first event fixes the event id of this data
    /// directory; a changed file of the same event is kept as a new version.
    public func install(event: LoadedEvent, json: Data) throws {
        try writer.write { db in
            let latest = try EventVersion.order(Column("id").desc).fetchOne(db)
            if let latest, latest.eventID != event.definition.id {
                throw AggregatorError("this data directory holds event \"\(latest.eventID)\"; "
                    + "it cannot serve event \"\(event.definition.id)\" (use another --data-dir)")
            }
            if latest?.digest != event.digest {
                try EventVersion(id: nil, eventID: event.definition.id, digest: event.digest,
                                 json: String(decoding: json, as: UTF8.self), loadedAt: Self.timestamp()).insert(db)
            }
        }
    }

    /// The event last installed by `serve`, if any.
    public func installedEvent() throws -> LoadedEvent? {
        let json = try writer.read { db in try EventVersion.order(Column("id").desc).fetchOne(db)?.json }
        return try json.map { try EventDefinition.load(data: Data($0.utf8), file: "event stored in the database") }
    }

    /// Enrols a node: its public key may write records for `venue`. Returns the node.
    @discardableResult
    public func enroll(venue: String, publicKeyBase64: String) throws -> EnrolledNode {
        guard let key = NodeIdentity.publicKey(base64: publicKeyBase64) else {
            throw AggregatorError("\"\(publicKeyBase64)\" is not an Ed25519 public key (base64 of 32 bytes, "
                + "as printed by venue-node init)")
        }
        if let event = try installedEvent(), event.definition.venue(venue) == nil {
            throw AggregatorError("venue \"\(venue)\" is not in event \(event.definition.id); its venues are: "
                + event.definition.venues.map(\.id).joined(separator: ", "))
        }
        let node = EnrolledNode(id: NodeIdentity.nodeID(for: key), venue: venue,
                                publicKey: key.rawRepresentation.base64EncodedString(), enrolledAt: Self.timestamp())
        try writer.write { db in
            if let existing = try EnrolledNode.fetchOne(db, key: node.id) {
                throw AggregatorError("this key is already enrolled as node \(existing.id) for venue \(existing.venue)")
            }
            try node.insert(db)
        }
        return node
    }

    public func nodes() throws -> [EnrolledNode] {
        try writer.read { db in try EnrolledNode.order(Column("venue"), Column("enrolledAt")).fetchAll(db) }
    }

    public func node(id: String) throws -> EnrolledNode? {
        try writer.read { db in try EnrolledNode.fetchOne(db, key: id) }
    }

    /// The last record held for a node (0 and genesis when none).
    public func cursor(node: EnrolledNode) throws -> NodeCursor {
        let head = try writer.read { db in try Self.head(db, nodeID: node.id) }
        return NodeCursor(node: node.id, venue: node.venue, seq: head.seq, hash: head.hash)
    }

    static func head(_ db: Database, nodeID: String) throws -> (seq: Int64, hash: String) {
        let row = try Row.fetchOne(db, sql: "SELECT seq, hash FROM record WHERE nodeID = ? ORDER BY seq DESC LIMIT 1",
                                   arguments: [nodeID])
        return (row?["seq"] ?? 0, row?["hash"] ?? RecordChain.genesis)
    }

    public func alarms() throws -> [Alarm] {
        try writer.read { db in try Alarm.order(Column("id")).fetchAll(db) }
    }

    /// Every record held for a node, in order.
    public func records(nodeID: String) throws -> [ChainedRecord] {
        try writer.read { db in
            try StoredRecord.filter(Column("nodeID") == nodeID).order(Column("seq")).fetchAll(db).map {
                ChainedRecord(seq: $0.seq, prev: $0.prev, hash: $0.hash, payload: $0.payload)
            }
        }
    }
}
