import Crypto
import DaemonSupport
import Foundation
import Logging
import PostgresNIO
import Shared
import Synchronization

/// The aggregator's store in a PostgreSQL database that several aggregators share (issue #20): the same tables as the
/// SQLite store, the same merge (`ChainMerge`). What must hold across aggregators is held by the database itself:
/// - a merge takes its venue's lock (`pg_advisory_xact_lock`) for its transaction, so the same venue's batches
///   arriving at two aggregators at once merge one after the other, and the second sees what the first stored;
///   `(venue, seq)` is the record table's key besides, so a record can never be stored twice;
/// - enrolling a node takes the same lock, so a merge and a new epoch never interleave (fencing holds across
///   aggregators);
/// - heartbeats seen are a table, so a heartbeat replayed to another aggregator is recognised.
///
/// Everything the SQLite store holds, in the same tables: the intake's reads and writes, tokens, the roster, the
/// results release, the report and the dashboard (`PostgresReads`, one snapshot), the office's acts
/// (`PostgresMergeTransaction: OfficeTransaction`), and a copy of an event from a SQLite store (`copyEvent`).
public final class PostgresStore: Sendable {
    let connections: PostgresConnections
    /// Two connections of the rate limit's own (`take`): a flood of requests waiting for their buckets never holds the
    /// connections merges need.
    let rateConnections: PostgresConnections
    /// The last report built, reused while its inputs are unchanged (`cachedBuild`).
    public let reports = ReportCache()
    private let eventDigestCache = Mutex<(version: Int64, current: String, accepted: Set<String>)?>(nil)

    /// Connects to the database at `url` (`postgres://USER[:PASSWORD]@HOST[:PORT]/DATABASE`) and migrates it; with
    /// `migrate` false (the commands other than `serve`), refuses a database this release's migrations have not all
    /// run on, and changes nothing in it (a mistyped address must not get the aggregator's tables).
    public init(url: String, migrate: Bool = true, logger: Logger = Logger(label: "postgres")) throws {
        let location = try PostgresLocation(url: url)
        connections = try PostgresConnections(location: location, logger: logger)
        rateConnections = try PostgresConnections(location: location, limit: 2, logger: logger)
        if migrate {
            try PostgresMigrations.migrate(connections)
        } else if !isReady() {
            throw AggregatorError(
                "the database \(connections.location) is not an aggregator's, or not migrated by this release: start "
                    + "`aggregator serve --database` on it first; nothing was done")
        }
    }

    public var location: PostgresLocation { connections.location }

    /// Closes the connections it holds idle.
    public func close() {
        connections.close()
        rateConnections.close()
    }

    // MARK: Intake

    public func node(id: String) throws -> EnrolledNode? {
        try connections.withSession { session in try Self.node(session, id: id) }
    }

    public func fence(_ node: EnrolledNode) throws -> APIError? {
        try connections.withSession { session in
            let revoked = try session.rows("SELECT revokedAt, reason FROM revocation WHERE nodeID = \(node.id)").first
            return AggregatorDatabase.fencing(
                node, revoked: try revoked.map { (try $0[0].decode(String.self), try $0[1].decode(String.self)) },
                currentEpoch: try PostgresMergeTransaction(session: session).currentEpoch(venue: node.venue))
        }
    }

    public func raiseAlarm(
        kind: String, node: EnrolledNode, message: String, evidence: String?, once: Bool = false,
        oncePerNode: Bool = false
    ) throws {
        // Under the node's lock: two aggregators told the same thing at once keep it once.
        try connections.withTransaction(locking: "alarm " + node.id) { session in
            if once,
                try session.value(
                    """
                    SELECT 1 FROM alarm WHERE kind = \(kind) AND nodeID = \(node.id) AND evidence IS NOT DISTINCT FROM \(evidence)
                    """, as: Int32.self) != nil
            {
                return
            }
            let prefix = String(message.prefix { $0 != ":" })
            if oncePerNode,
                try session.value(
                    """
                    SELECT 1 FROM alarm WHERE kind = \(kind) AND nodeID = \(node.id)
                    AND left(message, \(Int32(prefix.unicodeScalars.count))) = \(prefix)
                    """, as: Int32.self) != nil
            {
                return
            }
            try PostgresMergeTransaction(session: session).insert(
                alarm: Alarm(
                    id: nil, kind: kind, venue: node.venue, nodeID: node.id, seq: nil, message: message,
                    evidence: evidence, raisedAt: AggregatorDatabase.timestamp()))
        }
    }

    public func noteContact(
        node: EnrolledNode, heartbeat: Heartbeat? = nil,
        replayCheck: (digest: String, signedAt: Int64, window: Int64)? = nil
    ) throws {
        try connections.withTransaction { session in
            guard let heartbeat else {
                try PostgresMergeTransaction(session: session).noteContact(
                    node: node.id, at: AggregatorDatabase.timestamp())
                return
            }
            if let check = replayCheck {
                // Pruned on the database's clock: every aggregator agrees on what is too old to keep.
                try session.execute(
                    "DELETE FROM heartbeatSeen WHERE signedAt < EXTRACT(EPOCH FROM now())::bigint - \(check.window)")
                let inserted = try session.execute(
                    """
                    INSERT INTO heartbeatSeen (nodeID, digest, signedAt) VALUES (\(node.id), \(check.digest), \(check.signedAt))
                    ON CONFLICT DO NOTHING
                    """)
                guard inserted.metadata.rows == 1 else { throw HeartbeatReplay() }
            }
            try session.execute(
                """
                INSERT INTO nodeContact (nodeID, lastContactAt, declaredSeq, declaredHash, pending, freeDiskBytes,
                                         version, nodeClock)
                VALUES (\(node.id), \(AggregatorDatabase.timestamp()), \(heartbeat.headSeq), \(heartbeat.headHash.withoutNUL),
                        \(heartbeat.pending), \(heartbeat.freeDiskBytes), \(heartbeat.version.withoutNUL),
                        \(heartbeat.clock.withoutNUL))
                ON CONFLICT (nodeID) DO UPDATE SET lastContactAt = excluded.lastContactAt,
                    declaredSeq = excluded.declaredSeq, declaredHash = excluded.declaredHash,
                    pending = excluded.pending, freeDiskBytes = excluded.freeDiskBytes, version = excluded.version,
                    nodeClock = excluded.nodeClock
                """)
        }
    }

    public func acceptedEventDigests() throws -> (current: String, accepted: Set<String>)? {
        try connections.withSession { session in
            guard let newest = try session.value("SELECT MAX(id) FROM eventVersion", as: Int64.self) else {
                return nil
            }
            if let cached = eventDigestCache.withLock({ $0 }), cached.version == newest {
                return (cached.current, cached.accepted)
            }
            let versions = try Self.eventVersions(session)
            guard let current = versions.last?.identity else { return nil }
            var accepted: Set<String> = [current]
            for version in versions where version.identity == current {
                accepted.insert(version.digest)
                accepted.insert(SHA256.hash(data: Data(version.json.utf8)).hexString)
            }
            eventDigestCache.withLock { $0 = (newest, current, accepted) }
            return (current, accepted)
        }
    }

    public func merge(_ verified: VerifiedBatch, event: EventDefinition) async throws -> MergeResult {
        let outcome = try await offload { [connections] in
            try connections.withTransaction(locking: "venue " + verified.node.venue) { session in
                let outcome = try ChainMerge.merge(
                    verified, event: event, in: PostgresMergeTransaction(session: session))
                // Every aggregator's dashboards are told when this commits (`PostgresChangeFeed`).
                if case .success(let result) = outcome, !result.newRecords.isEmpty { try Self.notifyChange(session) }
                return outcome
            }
        }
        return try outcome.get()
    }

    public func cursor(node: EnrolledNode) throws -> NodeCursor {
        let head = try connections.withSession { session in
            try PostgresMergeTransaction(session: session).head(venue: node.venue)
        }
        return NodeCursor(node: node.id, venue: node.venue, epoch: node.epoch, seq: head.seq, hash: head.hash)
    }

    // MARK: Operator

    /// Records the event served (as `AggregatorDatabase.install`): the first fixes the event id of the database; a
    /// changed file of the same event is a new version; a file the same but for formatting, none.
    public func install(event: LoadedEvent, json: Data) throws {
        try connections.withTransaction(locking: "event") { session in
            let latest = try Self.eventVersions(session).last
            if let latest, latest.eventID != event.definition.id {
                throw AggregatorError(
                    "this database holds event \"\(latest.eventID)\"; it cannot serve event \"\(event.definition.id)\" "
                        + "(use another database)")
            }
            if latest?.identity != event.digest {
                try session.execute(
                    """
                    INSERT INTO eventVersion (eventID, digest, json, loadedAt)
                    VALUES (\(event.definition.id), \(event.digest), \(String(decoding: json, as: UTF8.self)),
                            \(AggregatorDatabase.timestamp()))
                    """)
            }
        }
    }

    /// The event last installed, if any.
    public func installedEvent() throws -> LoadedEvent? {
        let json = try connections.withSession { session in
            try session.value("SELECT json FROM eventVersion ORDER BY id DESC LIMIT 1", as: String.self)
        }
        return try json.map { try EventDefinition.load(data: Data($0.utf8), file: "event stored in the database") }
    }

    /// Enrols a key as its venue's next epoch (as `AggregatorDatabase.enroll`), under the venue's lock.
    @discardableResult
    public func enroll(venue: String, publicKeyBase64: String) throws -> EnrolledNode {
        let key = try AggregatorDatabase.enrollableKey(publicKeyBase64)
        try AggregatorDatabase.checkVenue(venue, of: try installedEvent())
        return try connections.withTransaction(locking: "venue " + venue) { session in
            let node = try Self.insertNode(session, venue: venue, key: key)
            try Self.notifyChange(session)
            return node
        }
    }

    /// Inserts a node as its venue's next epoch (inside the caller's transaction, which holds the venue's lock).
    static func insertNode(
        _ session: PostgresSession, venue: String, key: Curve25519.Signing.PublicKey
    ) throws -> EnrolledNode {
        let id = NodeIdentity.nodeID(for: key)
        if let existing = try node(session, id: id) {
            throw AggregatorError("this key is already enrolled as node \(existing.id) for venue \(existing.venue)")
        }
        let epoch = try PostgresMergeTransaction(session: session).currentEpoch(venue: venue)
        let node = EnrolledNode(
            id: id, venue: venue, epoch: epoch + 1, publicKey: key.rawRepresentation.base64EncodedString(),
            enrolledAt: AggregatorDatabase.timestamp())
        try session.execute(
            """
            INSERT INTO node (id, venue, epoch, publicKey, enrolledAt)
            VALUES (\(node.id), \(node.venue), \(node.epoch), \(node.publicKey), \(node.enrolledAt))
            """)
        return node
    }

    static func node(_ session: PostgresSession, id: String) throws -> EnrolledNode? {
        try session.rows("SELECT id, venue, epoch, publicKey, enrolledAt FROM node WHERE id = \(id)").first.map(node)
    }

    /// Revokes a node's key: nothing it signs is accepted any more.
    public func revoke(nodeID: String, reason: String) throws {
        let reason = try AggregatorDatabase.checkedReason(reason)
        guard let node = try node(id: nodeID) else {
            throw AggregatorError("no node \(nodeID) is enrolled (see `aggregator nodes list`)")
        }
        // Under the venue's lock, which every merge of the venue holds while it checks that its node is not revoked:
        // once this returns, no batch of the key is taken in.
        try connections.withTransaction(locking: "venue " + node.venue) { session in
            let inserted = try session.execute(
                """
                INSERT INTO revocation (nodeID, reason, revokedAt) VALUES (\(nodeID), \(reason), \(AggregatorDatabase.timestamp()))
                ON CONFLICT DO NOTHING
                """)
            guard inserted.metadata.rows == 1 else { throw AggregatorError("node \(nodeID) is already revoked") }
            try Self.notifyChange(session)
        }
    }

    public func revokedNodeIDs() throws -> Set<String> {
        Set(try connections.withSession { try $0.column("SELECT nodeID FROM revocation", as: String.self) })
    }

    public func nodes() throws -> [EnrolledNode] {
        try connections.withSession { session in
            try session.rows(
                "SELECT id, venue, epoch, publicKey, enrolledAt FROM node ORDER BY venue COLLATE \"C\", epoch"
            ).map(Self.node)
        }
    }

    /// A venue's stored records from `seq`, in order.
    public func records(venue: String, from seq: Int64 = 1, limit: Int = .max) throws -> [ChainedRecord] {
        try connections.withSession { session in
            try session.rows(
                """
                SELECT seq, prev, hash, payload FROM record WHERE venue = \(venue) AND seq >= \(seq) ORDER BY seq
                LIMIT \(Int64(min(limit, Int(Int64.max))))
                """
            ).map {
                ChainedRecord(
                    seq: try $0[0].decode(Int64.self), prev: try $0[1].decode(String.self),
                    hash: try $0[2].decode(String.self), payload: try $0[3].decode(String.self))
            }
        }
    }

    // MARK: Rows

    static func node(_ row: PostgresRandomAccessRow) throws -> EnrolledNode {
        EnrolledNode(
            id: try row[0].decode(String.self), venue: try row[1].decode(String.self),
            epoch: try row[2].decode(Int64.self), publicKey: try row[3].decode(String.self),
            enrolledAt: try row[4].decode(String.self))
    }

    private static func eventVersions(_ session: PostgresSession) throws -> [EventVersion] {
        try session.rows("SELECT id, eventID, digest, json, loadedAt FROM eventVersion ORDER BY id").map {
            EventVersion(
                id: try $0[0].decode(Int64.self), eventID: try $0[1].decode(String.self),
                digest: try $0[2].decode(String.self), json: try $0[3].decode(String.self),
                loadedAt: try $0[4].decode(String.self))
        }
    }
}
