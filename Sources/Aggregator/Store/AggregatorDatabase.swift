import DaemonSupport
import Foundation
import GRDB
import Shared
import Synchronization

/// The aggregator's SQLite store: enrolled nodes, every accepted batch and record (append-only; one
/// hash chain per venue, which continues across the venue's node keys),
/// corrections, alarms with their evidence, and the running totals kept in the same transactions.
public final class AggregatorDatabase: Sendable {
    let writer: any DatabaseWriter
    /// The last report built, reused while its inputs are unchanged (`cachedReport`).
    public let reports = ReportCache()
    /// `acceptedEventDigests()` for the newest event version it was computed for.
    let eventDigestCache = Mutex<EventDigests?>(nil)

    struct EventDigests: Sendable {
        var version: Int64
        var current: String
        var accepted: Set<String>
    }

    /// The database, for tests that inspect what is stored.
    public var writerForTests: any DatabaseWriter { writer }

    /// Opens the database at `path` (WAL, `synchronous=FULL`) and migrates it; with `create`, a missing
    /// file is created.
    public convenience init(path: String, create: Bool = false) throws {
        try self.init(writer: DurableDatabase.openPool(path: path, mustExist: !create))
    }

    /// Uses an existing writer (tests pass an in-memory `DatabaseQueue`).
    public init(writer: any DatabaseWriter) throws {
        self.writer = writer
        try Self.migrator.migrate(writer)
    }
}

/// An enrolled venue node: one key of a venue. Each enrolment for a venue gets the next epoch, and
/// only the venue's newest epoch may send records (older keys are fenced off).
public struct EnrolledNode: Codable, FetchableRecord, PersistableRecord, Sendable {
    public static let databaseTableName = "node"

    public var id: String
    public var venue: String
    public var epoch: Int64
    public var publicKey: String
    public var enrolledAt: String
}

/// A node whose key may no longer send anything.
struct Revocation: Codable, FetchableRecord, PersistableRecord {
    static let databaseTableName = "revocation"

    var nodeID: String
    var reason: String
    var revokedAt: String
}

/// Something the central office must look at (a forked chain, …), with the evidence.
public struct Alarm: Codable, FetchableRecord, PersistableRecord, Sendable {
    public static let databaseTableName = "alarm"

    public var id: Int64?
    public var kind: String
    public var venue: String?
    public var nodeID: String?
    public var seq: Int64?
    public var message: String
    public var evidence: String?
    public var raisedAt: String
}

/// A stored record of a node's chain.
struct StoredRecord: Codable, FetchableRecord, PersistableRecord {
    static let databaseTableName = "record"

    var venue: String
    var seq: Int64
    var prev: String
    var hash: String
    var kind: String
    var payload: String
    /// The node (key) that sent it.
    var nodeID: String
    var batchID: Int64
}

/// A batch as received, kept with its signature so anyone can verify it again.
struct StoredBatch: Codable, FetchableRecord, PersistableRecord {
    static let databaseTableName = "batch"

    var id: Int64?
    var venue: String
    var nodeID: String
    var firstSeq: Int64
    var lastSeq: Int64
    var contentDigest: String
    var signatureInput: String
    var signature: String
    var body: Data
    var receivedAt: String
}

/// The event file the aggregator serves, as loaded (every version kept).
struct EventVersion: Codable, FetchableRecord, PersistableRecord {
    static let databaseTableName = "eventVersion"

    var id: Int64?
    var eventID: String
    var digest: String
    var json: String
    var loadedAt: String

    /// The event's identity: the canonical digest of its JSON (the recorded digest if it cannot be parsed).
    var identity: String { EventDefinition.canonicalDigest(of: Data(json.utf8)) ?? digest }
}

/// When a node was last heard from, and its own figures from its last heartbeat.
public struct NodeContact: Codable, FetchableRecord, PersistableRecord, Sendable {
    public static let databaseTableName = "nodeContact"

    public var nodeID: String
    public var lastContactAt: String
    public var declaredSeq: Int64?
    public var declaredHash: String?
    public var pending: Int64?
    public var freeDiskBytes: Int64?
    public var version: String?
    public var nodeClock: String?
}
