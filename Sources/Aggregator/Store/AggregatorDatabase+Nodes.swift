import Crypto
import Foundation
import GRDB
import Shared

/// A heartbeat identical to one accepted before from its node.
public struct HeartbeatReplay: Error, Sendable {}

/// An operator mistake in an aggregator command, said plainly.
public struct AggregatorError: Error, CustomStringConvertible {
    /// What kind of refusal, for an HTTP answer (`422`, `404`, `403`).
    public enum Kind: Sendable, Equatable {
        /// The request cannot be done as it stands (nothing changed).
        case refused
        /// What it names does not exist.
        case notFound
        /// Not for the one who asks (a department's token, another department's item).
        case forbidden
    }

    public var description: String
    public var kind: Kind

    public init(_ description: String, kind: Kind = .refused) {
        self.description = description
        self.kind = kind
    }

    public static func notFound(_ description: String) -> Self { Self(description, kind: .notFound) }
    public static func forbidden(_ description: String) -> Self { Self(description, kind: .forbidden) }
}

extension AggregatorDatabase {
    static func timestamp() -> String { Date().formatted(.iso8601) }

    /// Records the event the aggregator serves. The first event fixes the event id of this data
    /// directory; a changed file of the same event is kept as a new version. A file that differs from the
    /// installed one only in formatting is the same event (same canonical digest): no new version.
    public func install(event: LoadedEvent, json: Data) throws {
        try writer.write { db in
            let latest = try EventVersion.order(Column("id").desc).fetchOne(db)
            if let latest, latest.eventID != event.definition.id {
                throw AggregatorError(
                    "this data directory holds event \"\(latest.eventID)\"; "
                        + "it cannot serve event \"\(event.definition.id)\" (use another --data-dir)")
            }
            if latest?.identity != event.digest {
                try EventVersion(
                    id: nil, eventID: event.definition.id, digest: event.digest,
                    json: String(decoding: json, as: UTF8.self), loadedAt: Self.timestamp()
                ).insert(db)
            }
        }
    }

    /// The event digests a batch may carry: the installed event's identity (its canonical digest), and
    /// the digests of every stored version that is the same event in another formatting — the digest
    /// recorded for it (versions installed before the canonical identity recorded the file's bytes) and
    /// the digest of its exact bytes (what nodes before the canonical identity send). Empty when no
    /// event is installed.
    public func acceptedEventDigests() throws -> (current: String, accepted: Set<String>)? {
        let newest = try writer.read { db in
            try Int64.fetchOne(db, sql: "SELECT MAX(id) FROM eventVersion")
        }
        guard let newest else { return nil }
        if let cached = eventDigestCache.withLock({ $0 }), cached.version == newest {
            return (cached.current, cached.accepted)
        }
        let versions = try writer.read { db in try EventVersion.order(Column("id")).fetchAll(db) }
        guard let current = versions.last?.identity else { return nil }
        var accepted: Set<String> = [current]
        for version in versions where version.identity == current {
            accepted.insert(version.digest)
            accepted.insert(SHA256.hash(data: Data(version.json.utf8)).hexString)
        }
        eventDigestCache.withLock { $0 = .init(version: newest, current: current, accepted: accepted) }
        return (current, accepted)
    }

    /// The event last installed by `serve`, if any.
    public func installedEvent() throws -> LoadedEvent? {
        let json = try writer.read { db in try EventVersion.order(Column("id").desc).fetchOne(db)?.json }
        return try json.map { try EventDefinition.load(data: Data($0.utf8), file: "event stored in the database") }
    }

    /// Enrols a node: its public key may write records for `venue`, as the venue's next epoch. The
    /// venue's earlier keys can no longer send (a redeployed node continues the venue's chain).
    @discardableResult
    public func enroll(venue: String, publicKeyBase64: String) throws -> EnrolledNode {
        let key = try Self.enrollableKey(publicKeyBase64)
        try Self.checkVenue(venue, of: try installedEvent())
        return try writer.write { db in try Self.insertNode(db, venue: venue, key: key) }
    }

    /// The key `publicKeyBase64` names, or a refusal saying what one looks like (both stores' `enroll`).
    static func enrollableKey(_ publicKeyBase64: String) throws -> Curve25519.Signing.PublicKey {
        guard let key = NodeIdentity.publicKey(base64: publicKeyBase64) else {
            throw AggregatorError(
                "\"\(publicKeyBase64)\" is not an Ed25519 public key (base64 of 32 bytes, "
                    + "as printed by venue-node init)")
        }
        return key
    }

    /// Refuses a venue the installed event does not have, naming those it has.
    static func checkVenue(_ venue: String, of event: LoadedEvent?) throws {
        if let event, event.definition.venue(venue) == nil {
            throw AggregatorError(
                "venue \"\(venue)\" is not in event \(event.definition.id); its venues are: "
                    + event.definition.venues.map(\.id).joined(separator: ", "))
        }
    }

    /// Inserts a node as its venue's next epoch (inside the caller's transaction).
    static func insertNode(_ db: Database, venue: String, key: Curve25519.Signing.PublicKey) throws -> EnrolledNode {
        let id = NodeIdentity.nodeID(for: key)
        if let existing = try EnrolledNode.fetchOne(db, key: id) {
            throw AggregatorError("this key is already enrolled as node \(existing.id) for venue \(existing.venue)")
        }
        let epoch = try Int64.fetchOne(db, sql: "SELECT MAX(epoch) FROM node WHERE venue = ?", arguments: [venue]) ?? 0
        let node = EnrolledNode(
            id: id, venue: venue, epoch: epoch + 1,
            publicKey: key.rawRepresentation.base64EncodedString(), enrolledAt: timestamp())
        try node.insert(db)
        return node
    }

    /// Revokes a node's key: nothing it signs is accepted any more.
    public func revoke(nodeID: String, reason: String) throws {
        let reason = try Self.checkedReason(reason)
        try writer.write { db in
            guard try EnrolledNode.fetchOne(db, key: nodeID) != nil else {
                throw AggregatorError("no node \(nodeID) is enrolled (see `aggregator nodes list`)")
            }
            if try Revocation.fetchOne(db, key: nodeID) != nil {
                throw AggregatorError("node \(nodeID) is already revoked")
            }
            try Revocation(nodeID: nodeID, reason: reason, revokedAt: Self.timestamp()).insert(db)
        }
    }

    /// Why `node` may not send now (revoked, or a newer epoch enrolled for its venue), or nil if it may.
    public func fence(_ node: EnrolledNode) throws -> APIError? {
        try reading { db in
            let revocation = try Revocation.fetchOne(db, key: node.id)
            return Self.fencing(
                node, revoked: revocation.map { ($0.revokedAt, $0.reason) },
                currentEpoch: try SQLiteMergeTransaction(db: db).currentEpoch(venue: node.venue))
        }
    }

    /// The refusal of a node revoked (when and why), or of an epoch older than the venue's current one; nil when
    /// neither (both stores' `fence`).
    static func fencing(_ node: EnrolledNode, revoked: (at: String, reason: String)?, currentEpoch: Int64) -> APIError?
    {
        if let revoked {
            return APIError(
                .forbidden, .revokedNode, "node \(node.id) was revoked at \(revoked.at): \(revoked.reason)")
        }
        if node.epoch < currentEpoch {
            return APIError(
                .forbidden, .staleEpoch,
                "node \(node.id) holds epoch \(node.epoch) of venue "
                    + "\(node.venue), but epoch \(currentEpoch) has been enrolled since: this key is retired")
        }
        return nil
    }

    /// Keeps a refused, authentically signed request as evidence and raises an alarm; with `once`, the
    /// same evidence from the same node is kept only the first time (a retired node retrying, or a replay,
    /// does not fill the disk).
    /// With `oncePerNode`, only the first alarm of this kind and message prefix (up to the first colon) from
    /// this node is kept.
    public func raiseAlarm(
        kind: String, node: EnrolledNode, message: String, evidence: String?, once: Bool = false,
        oncePerNode: Bool = false
    ) throws {
        try writer.write { db in
            if once,
                try Int64.fetchOne(
                    db, sql: "SELECT 1 FROM alarm WHERE kind = ? AND nodeID = ? AND evidence IS ?",
                    arguments: [kind, node.id, evidence]) != nil
            {
                return
            }
            let prefix = message.prefix { $0 != ":" }
            if oncePerNode,
                try Int64.fetchOne(
                    db,
                    sql: """
                        SELECT 1 FROM alarm WHERE kind = ? AND nodeID = ? AND substr(message, 1, ?) = ?
                        """, arguments: [kind, node.id, prefix.unicodeScalars.count, String(prefix)]) != nil
            {
                return
            }
            try Alarm(
                id: nil, kind: kind, venue: node.venue, nodeID: node.id, seq: nil, message: message,
                evidence: evidence, raisedAt: Self.timestamp()
            ).insert(db)
        }
    }

    /// Notes that a node was heard from, with what it says about itself when it sent a heartbeat.
    /// Notes that a node was heard from; with a heartbeat, what it said about itself. A heartbeat accepted
    /// before (same body digest), sent again, is a replay and is refused
    /// (`HeartbeatReplay`), so an old heartbeat cannot make a silent node look alive. (Judged by content,
    /// not by the node's clock, which may be wrong or set back.)
    /// `replayCheck`: the body's digest, its signature time and the signature window (seconds).
    public func noteContact(
        node: EnrolledNode, heartbeat: Heartbeat? = nil,
        replayCheck: (digest: String, signedAt: Int64, window: Int64)? = nil
    ) throws {
        try writer.write { db in
            if let heartbeat {
                if let check = replayCheck {
                    let now = Int64(Date().timeIntervalSince1970)
                    try db.execute(sql: "DELETE FROM heartbeatSeen WHERE signedAt < ?", arguments: [now - check.window])
                    try db.execute(
                        sql: "INSERT OR IGNORE INTO heartbeatSeen (nodeID, digest, signedAt) VALUES (?, ?, ?)",
                        arguments: [node.id, check.digest, check.signedAt])
                    guard db.changesCount == 1 else { throw HeartbeatReplay() }
                }
                try db.execute(
                    sql: """
                        INSERT INTO nodeContact (nodeID, lastContactAt, declaredSeq, declaredHash, pending, freeDiskBytes,
                                                 version, nodeClock)
                        VALUES (?, ?, ?, ?, ?, ?, ?, ?)
                        ON CONFLICT (nodeID) DO UPDATE SET lastContactAt = excluded.lastContactAt,
                            declaredSeq = excluded.declaredSeq, declaredHash = excluded.declaredHash,
                            pending = excluded.pending, freeDiskBytes = excluded.freeDiskBytes, version = excluded.version,
                            nodeClock = excluded.nodeClock
                        """,
                    arguments: [
                        node.id, Self.timestamp(), heartbeat.headSeq, heartbeat.headHash, heartbeat.pending,
                        heartbeat.freeDiskBytes, heartbeat.version, heartbeat.clock,
                    ])
            } else {
                try db.execute(
                    sql: """
                        INSERT INTO nodeContact (nodeID, lastContactAt) VALUES (?, ?)
                        ON CONFLICT (nodeID) DO UPDATE SET lastContactAt = excluded.lastContactAt
                        """, arguments: [node.id, Self.timestamp()])
            }
        }
    }

    /// What each node last said about itself, by node id.
    public func contacts() throws -> [String: NodeContact] {
        try reading { db in
            Dictionary(uniqueKeysWithValues: try NodeContact.fetchAll(db).map { ($0.nodeID, $0) })
        }
    }

    public func nodes() throws -> [EnrolledNode] {
        try reading { db in try EnrolledNode.order(Column("venue"), Column("epoch")).fetchAll(db) }
    }

    /// Ids of the revoked nodes.
    public func revokedNodeIDs() throws -> Set<String> {
        try writer.read { db in Set(try String.fetchAll(db, sql: "SELECT nodeID FROM revocation")) }
    }

    public func node(id: String) throws -> EnrolledNode? {
        try writer.read { db in try EnrolledNode.fetchOne(db, key: id) }
    }

    /// The last record held of the node's venue chain (0 and genesis when none).
    public func cursor(node: EnrolledNode) throws -> NodeCursor {
        let head = try reading { db in try Self.head(db, venue: node.venue) }
        return NodeCursor(node: node.id, venue: node.venue, epoch: node.epoch, seq: head.seq, hash: head.hash)
    }

    static func head(_ db: Database, venue: String) throws -> (seq: Int64, hash: String) {
        let row = try Row.fetchOne(
            db, sql: "SELECT seq, hash FROM record WHERE venue = ? ORDER BY seq DESC LIMIT 1",
            arguments: [venue])
        return (row?["seq"] ?? 0, row?["hash"] ?? RecordChain.genesis)
    }

    public func alarms() throws -> [Alarm] {
        try reading { db in try Alarm.order(Column("id")).fetchAll(db) }
    }

    /// Records of a venue's chain from `seq` on, in order (at most `limit`).
    public func records(venue: String, from seq: Int64 = 1, limit: Int = .max) throws -> [ChainedRecord] {
        try writer.read { db in
            try StoredRecord.filter(Column("venue") == venue && Column("seq") >= seq).order(Column("seq"))
                .limit(limit).fetchAll(db).map {
                    ChainedRecord(seq: $0.seq, prev: $0.prev, hash: $0.hash, payload: $0.payload)
                }
        }
    }

    /// Releases the results of a confidential event: from now on the dashboard and the API show them.
    public func releaseResults(by name: String) throws {
        try writer.write { db in
            try db.execute(
                sql: "INSERT INTO resultsRelease (releasedAt, releasedBy) VALUES (?, ?)",
                arguments: [Self.timestamp(), name])
        }
    }

    /// When and by whom results were released, if they were.
    public func resultsRelease() throws -> (at: String, by: String)? {
        try reading { db in
            try Row.fetchOne(db, sql: "SELECT releasedAt, releasedBy FROM resultsRelease ORDER BY id LIMIT 1")
                .map { ($0["releasedAt"], $0["releasedBy"]) }
        }
    }

    /// Whether `aggregator migrate` sealed this database (its event is in PostgreSQL now): it takes nothing in.
    public func isSealed() throws -> Bool {
        try writer.read { db in try PostgresStore.isSealed(db) }
    }

    /// The database answers and is fully migrated (`/readyz`).
    public func isReady() -> Bool {
        (try? writer.read { db in try Self.migrator.hasCompletedMigrations(db) }) ?? false
    }
}
