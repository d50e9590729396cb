import Foundation
import GRDB
import Shared

/// A standby laptop on the venue's LAN (issue #15): the primary keeps the keys of the standbys allowed to copy its
/// chain and how far each has come; the standby keeps its role, following a primary until it is promoted.
extension NodeDatabase {
    /// A standby allowed to copy this node's chain, and what it said it holds when it last asked.
    public struct Standby: Codable, Sendable, Equatable {
        public var nodeID: String
        public var publicKey: String
        public var addedAt: String
        public var heldSeq: Int64?
        public var heldHash: String?
        public var lastAt: String?

        enum CodingKeys: String, CodingKey {
            case nodeID = "node_id"
            case publicKey = "public_key"
            case addedAt = "added_at"
            case heldSeq = "held_seq"
            case heldHash = "held_hash"
            case lastAt = "last_at"
        }
    }

    /// This node's role as a standby: following a primary (it writes nothing of its own), or promoted.
    public struct StandbyRole: Sendable, Equatable {
        public var following: Bool
        public var primaryURL: String?
        public var primaryKey: String?
        public var at: String
    }

    /// Why a standby's copy was refused; nothing of it was kept.
    public struct ReplicationRefusal: Error, CustomStringConvertible {
        public var description: String
    }

    /// Allows a standby's key to copy this node's chain.
    public func allowStandby(publicKey: String) throws -> String {
        guard let key = NodeIdentity.publicKey(base64: publicKey) else {
            throw ReplicationRefusal(description: "not an Ed25519 public key (base64 of 32 bytes): \(publicKey)")
        }
        let nodeID = NodeIdentity.nodeID(for: key)
        try write { db in
            try db.execute(
                sql: "INSERT OR IGNORE INTO standbyKey (nodeID, publicKey, addedAt) VALUES (?, ?, ?)",
                arguments: [nodeID, key.rawRepresentation.base64EncodedString(), Self.timestamp()])
        }
        return nodeID
    }

    public func standbys() throws -> [Standby] {
        try writer.read { db in
            try Row.fetchAll(
                db,
                sql: """
                    SELECT k.nodeID, k.publicKey, k.addedAt, c.heldSeq, c.heldHash, c.lastAt
                    FROM standbyKey k LEFT JOIN standbyContact c ON c.nodeID = k.nodeID ORDER BY k.addedAt, k.nodeID
                    """
            ).map { row in
                Standby(
                    nodeID: row["nodeID"], publicKey: row["publicKey"], addedAt: row["addedAt"],
                    heldSeq: row["heldSeq"], heldHash: row["heldHash"], lastAt: row["lastAt"])
            }
        }
    }

    /// Notes what a standby holds (the head it asked after).
    func noteStandby(_ nodeID: String, heldSeq: Int64, heldHash: String) throws {
        try write { db in
            try db.execute(
                sql: """
                    INSERT INTO standbyContact (nodeID, heldSeq, heldHash, lastAt) VALUES (?, ?, ?, ?)
                    ON CONFLICT (nodeID) DO UPDATE SET heldSeq = excluded.heldSeq, heldHash = excluded.heldHash,
                        lastAt = excluded.lastAt
                    """, arguments: [nodeID, heldSeq, heldHash, Self.timestamp()])
        }
    }

    /// The latest role recorded (nil: an ordinary node, never a standby).
    public func standbyRole() throws -> StandbyRole? {
        try writer.read { db in try Self.standbyRole(db) }
    }

    static func standbyRole(_ db: Database) throws -> StandbyRole? {
        try Row.fetchOne(db, sql: "SELECT * FROM standbyRole ORDER BY id DESC LIMIT 1").map { row in
            StandbyRole(
                following: (row["role"] as String) == "following", primaryURL: row["primaryURL"],
                primaryKey: row["primaryKey"], at: row["at"])
        }
    }

    /// Makes this node a standby following `primaryURL`: it writes nothing of its own until promoted.
    public func follow(primaryURL: String, primaryKey: String) throws {
        try write { db in
            if let role = try Self.standbyRole(db), !role.following {
                throw ReplicationRefusal(
                    description: "this node was promoted at \(role.at): it is the venue's node now, and follows no one")
            }
            let head = try Self.chainHead(db)
            if try Self.standbyRole(db) == nil, head.seq > 0 {
                throw ReplicationRefusal(
                    description: "this node already holds \(head.seq) record(s) of its own: a standby starts empty "
                        + "(venue-node init a new data directory)")
            }
            try db.execute(
                sql: "INSERT INTO standbyRole (role, primaryURL, primaryKey, at) VALUES ('following', ?, ?, ?)",
                arguments: [primaryURL, primaryKey, Self.timestamp()])
        }
    }

    /// Ends following: from now on this node is the venue's node and writes records of its own.
    public func promote() throws -> (seq: Int64, hash: String) {
        try write { db in
            guard let role = try Self.standbyRole(db), role.following else {
                throw ReplicationRefusal(
                    description: "this node is not a standby following a primary: nothing to promote")
            }
            try db.execute(
                sql: "INSERT INTO standbyRole (role, primaryURL, primaryKey, at) VALUES ('promoted', ?, ?, ?)",
                arguments: [role.primaryURL, role.primaryKey, Self.timestamp()])
            return try Self.chainHead(db)
        }
    }

    /// Refuses a record of this node's own while it follows a primary: its chain is the primary's copy, and a record
    /// of its own would fork the venue's chain.
    static func refuseWhileFollowing(_ db: Database) throws {
        if let role = try standbyRole(db), role.following {
            throw RecordRejection(
                "this node is a standby following \(role.primaryURL ?? "a primary"): it records nothing of its own. "
                    + "Record on the primary, or promote this node first (venue-node promote) if the primary is gone")
        }
    }

    /// Appends records copied from the primary after this node's head, every hash link checked, all or none.
    /// Returns the new head.
    @discardableResult
    public func replicate(_ records: [ChainedRecord]) throws -> (seq: Int64, hash: String) {
        try write { db in
            guard let role = try Self.standbyRole(db), role.following else {
                throw ReplicationRefusal(description: "this node is not following a primary: it copies nothing")
            }
            let head = try Self.chainHead(db)
            guard !records.isEmpty else { return head }
            do {
                try RecordChain.verify(records, afterSeq: head.seq, afterHash: head.hash)
            } catch {
                throw ReplicationRefusal(
                    description: "the primary's records do not continue this copy (held up to \(head.seq)): \(error)")
            }
            // The primary judged them; the copy takes them as they are, as a restore does (the ledger tables are
            // brought to the head from the records when this node next writes, after its promotion).
            let now = Self.timestamp()
            for record in records {
                let payload = try RecordPayload.decode(json: record.payload)
                try StoredRecord(
                    seq: record.seq, prev: record.prev, hash: record.hash, kind: payload.kind.rawValue,
                    payload: record.payload, savedAt: payload.kind == .ballot ? String(now.prefix(10)) : now
                )
                .insert(db)
                try Self.notePaper(payload, seq: record.seq, db: db)
            }
            return (records.last!.seq, records.last!.hash)
        }
    }
}
