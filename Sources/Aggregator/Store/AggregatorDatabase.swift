import Foundation
import GRDB
import Shared
import Synchronization

/// The aggregator's SQLite store: enrolled nodes, every accepted batch and record (append-only; one
/// hash chain per venue, which continues across the venue's node keys),
/// corrections, alarms with their evidence, and the running totals kept in the same transactions.
public final class AggregatorDatabase: Sendable {
    let writer: any DatabaseWriter
    /// Each venue's ledger as of its last merged record (rebuilt from the records when it does not match
    /// the stored head): the rules a new record must keep, judged exactly as the node judges them.
    let ledgers = LedgerCache()
    /// The last report built, reused while its inputs are unchanged (`cachedReport`).
    let reports = ReportCache()
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

    static var migrator: DatabaseMigrator {
        var migrator = DatabaseMigrator()
        migrator.registerMigration("v1: nodes, batches, records, totals, alarms") { db in
            try db.execute(sql: """
                CREATE TABLE eventVersion (
                    id INTEGER PRIMARY KEY AUTOINCREMENT,
                    eventID TEXT NOT NULL,
                    digest TEXT NOT NULL,
                    json TEXT NOT NULL,
                    loadedAt TEXT NOT NULL
                );
                CREATE TABLE node (
                    id TEXT PRIMARY KEY NOT NULL,
                    venue TEXT NOT NULL,
                    epoch INTEGER NOT NULL,
                    publicKey TEXT NOT NULL UNIQUE,
                    enrolledAt TEXT NOT NULL,
                    UNIQUE (venue, epoch)
                );
                CREATE TABLE revocation (
                    nodeID TEXT PRIMARY KEY NOT NULL REFERENCES node(id),
                    reason TEXT NOT NULL,
                    revokedAt TEXT NOT NULL
                );
                CREATE TABLE batch (
                    id INTEGER PRIMARY KEY AUTOINCREMENT,
                    venue TEXT NOT NULL,
                    nodeID TEXT NOT NULL REFERENCES node(id),
                    firstSeq INTEGER NOT NULL,
                    lastSeq INTEGER NOT NULL,
                    contentDigest TEXT NOT NULL,
                    signatureInput TEXT NOT NULL,
                    signature TEXT NOT NULL,
                    body BLOB NOT NULL,
                    receivedAt TEXT NOT NULL
                );
                CREATE TABLE record (
                    venue TEXT NOT NULL,
                    seq INTEGER NOT NULL,
                    prev TEXT NOT NULL,
                    hash TEXT NOT NULL,
                    kind TEXT NOT NULL,
                    payload TEXT NOT NULL,
                    nodeID TEXT NOT NULL REFERENCES node(id),
                    batchID INTEGER NOT NULL REFERENCES batch(id),
                    PRIMARY KEY (venue, seq)
                ) WITHOUT ROWID;
                CREATE TABLE supersession (
                    venue TEXT NOT NULL,
                    target INTEGER NOT NULL,
                    bySeq INTEGER NOT NULL,
                    PRIMARY KEY (venue, target)
                ) WITHOUT ROWID;
                CREATE TABLE alarm (
                    id INTEGER PRIMARY KEY AUTOINCREMENT,
                    kind TEXT NOT NULL,
                    venue TEXT,
                    nodeID TEXT,
                    seq INTEGER,
                    message TEXT NOT NULL,
                    evidence TEXT,
                    raisedAt TEXT NOT NULL
                );
                CREATE TABLE tally (
                    venue TEXT NOT NULL, session TEXT NOT NULL, department TEXT NOT NULL, mark TEXT NOT NULL,
                    count INTEGER NOT NULL,
                    PRIMARY KEY (venue, session, department, mark)
                ) WITHOUT ROWID;
                CREATE TABLE attendance (
                    venue TEXT NOT NULL, session TEXT NOT NULL, category TEXT NOT NULL,
                    checkedIn INTEGER NOT NULL,
                    PRIMARY KEY (venue, session, category)
                ) WITHOUT ROWID;
                CREATE TABLE boxTotal (
                    venue TEXT NOT NULL, session TEXT NOT NULL, box TEXT NOT NULL,
                    opened INTEGER NOT NULL DEFAULT 0, closed INTEGER NOT NULL DEFAULT 0,
                    issued INTEGER NOT NULL DEFAULT 0, returned INTEGER NOT NULL DEFAULT 0,
                    valid INTEGER NOT NULL DEFAULT 0, blank INTEGER NOT NULL DEFAULT 0, spoiled INTEGER NOT NULL DEFAULT 0,
                    PRIMARY KEY (venue, session, box)
                ) WITHOUT ROWID;
                """)
            for table in ["eventVersion", "node", "revocation", "batch", "record", "supersession", "alarm"] {
                try db.execute(sql: """
                    CREATE TRIGGER \(table)_is_append_only_update BEFORE UPDATE ON \(table)
                    BEGIN SELECT RAISE(ABORT, '\(table) is append-only'); END;
                    CREATE TRIGGER \(table)_is_append_only_delete BEFORE DELETE ON \(table)
                    BEGIN SELECT RAISE(ABORT, '\(table) is append-only'); END;
                    """)
            }
        }
        migrator.registerMigration("v2: roster and node contact") { db in
            try RosterTables.create(db)
            // What each node last said about itself (a status, replaced at each contact; not a record).
            try db.execute(sql: """
                CREATE TABLE nodeContact (
                    nodeID TEXT PRIMARY KEY NOT NULL REFERENCES node(id),
                    lastContactAt TEXT NOT NULL,
                    declaredSeq INTEGER,
                    declaredHash TEXT,
                    pending INTEGER,
                    freeDiskBytes INTEGER,
                    version TEXT,
                    nodeClock TEXT
                );
                """)
        }
        migrator.registerMigration("v3: marks per box") { db in
            try db.execute(sql: """
                CREATE TABLE boxTally (
                    venue TEXT NOT NULL, session TEXT NOT NULL, box TEXT NOT NULL, department TEXT NOT NULL,
                    mark TEXT NOT NULL, count INTEGER NOT NULL,
                    PRIMARY KEY (venue, session, box, department, mark)
                ) WITHOUT ROWID;
                """)
            // Records merged before this migration: their marks per box, from the records in effect.
            let rows = try Row.fetchAll(db, sql: """
                SELECT venue, payload FROM record r
                WHERE kind IN ('ballot', 'correction')
                  AND NOT EXISTS (SELECT 1 FROM supersession s WHERE s.venue = r.venue AND s.target = r.seq)
                """)
            for row in rows {
                var payload = try RecordPayload.decode(json: row["payload"])
                if case .correction(let correction) = payload {
                    guard let replacement = correction.replacement else { continue }
                    payload = replacement
                }
                guard case .ballot = payload else { continue }
                for (counter, value) in payload.contribution {
                    if case .boxMark = counter { try AggregatorDatabase.add(value, to: counter, venue: row["venue"], db: db) }
                }
            }
        }
        migrator.registerMigration("v4: results release") { db in
            try db.execute(sql: """
                CREATE TABLE resultsRelease (
                    id INTEGER PRIMARY KEY AUTOINCREMENT,
                    releasedAt TEXT NOT NULL,
                    releasedBy TEXT NOT NULL
                );
                CREATE TRIGGER resultsRelease_is_append_only_update BEFORE UPDATE ON resultsRelease
                BEGIN SELECT RAISE(ABORT, 'resultsRelease is append-only'); END;
                CREATE TRIGGER resultsRelease_is_append_only_delete BEFORE DELETE ON resultsRelease
                BEGIN SELECT RAISE(ABORT, 'resultsRelease is append-only'); END;
                """)
        }
        migrator.registerMigration("v5: API tokens") { db in
            try db.execute(sql: """
                CREATE TABLE apiToken (
                    id INTEGER PRIMARY KEY AUTOINCREMENT,
                    name TEXT NOT NULL,
                    role TEXT NOT NULL,
                    tokenHash TEXT NOT NULL UNIQUE,
                    createdAt TEXT NOT NULL
                );
                """)
        }
        migrator.registerMigration("v6: enrolment tokens") { db in
            // A token is used once: its use is a row keyed by the token, so a second use cannot be inserted.
            try db.execute(sql: """
                CREATE TABLE enrolmentToken (
                    tokenHash TEXT PRIMARY KEY,
                    venue TEXT NOT NULL,
                    createdAt TEXT NOT NULL,
                    expiresAt INTEGER NOT NULL
                );
                CREATE TABLE enrolmentUse (
                    tokenHash TEXT PRIMARY KEY REFERENCES enrolmentToken(tokenHash),
                    nodeID TEXT NOT NULL REFERENCES node(id),
                    usedAt TEXT NOT NULL
                );
                CREATE TRIGGER enrolmentToken_is_append_only_update BEFORE UPDATE ON enrolmentToken
                BEGIN SELECT RAISE(ABORT, 'enrolmentToken is append-only'); END;
                CREATE TRIGGER enrolmentToken_is_append_only_delete BEFORE DELETE ON enrolmentToken
                BEGIN SELECT RAISE(ABORT, 'enrolmentToken is append-only'); END;
                CREATE TRIGGER enrolmentUse_is_append_only_update BEFORE UPDATE ON enrolmentUse
                BEGIN SELECT RAISE(ABORT, 'enrolmentUse is append-only'); END;
                CREATE TRIGGER enrolmentUse_is_append_only_delete BEFORE DELETE ON enrolmentUse
                BEGIN SELECT RAISE(ABORT, 'enrolmentUse is append-only'); END;
                """)
        }
        migrator.registerMigration("v7: heartbeats seen") { db in
            // A replay cache, not a record: the digest of each heartbeat accepted from a node while its
            // signature is still valid. The same heartbeat again is a replay; rows older than the signature
            // window are dropped (such a heartbeat is refused as stale anyway).
            try db.execute(sql: """
                CREATE TABLE heartbeatSeen (
                    nodeID TEXT NOT NULL REFERENCES node(id),
                    digest TEXT NOT NULL,
                    signedAt INTEGER NOT NULL,
                    PRIMARY KEY (nodeID, digest)
                ) WITHOUT ROWID;
                CREATE INDEX heartbeatSeen_signedAt ON heartbeatSeen (signedAt);
                """)
        }
        migrator.registerMigration("v8: token revocations") { db in
            // A bearer token or an unused enrolment token taken back: a row per revocation, never changed.
            try db.execute(sql: """
                CREATE TABLE apiTokenRevocation (
                    tokenID INTEGER PRIMARY KEY REFERENCES apiToken(id),
                    reason TEXT NOT NULL,
                    revokedAt TEXT NOT NULL
                );
                CREATE TABLE enrolmentTokenRevocation (
                    tokenHash TEXT PRIMARY KEY REFERENCES enrolmentToken(tokenHash),
                    reason TEXT NOT NULL,
                    revokedAt TEXT NOT NULL
                );
                """)
            try appendOnly(["apiTokenRevocation", "enrolmentTokenRevocation"], db: db)
        }
        migrator.registerMigration("v9: records held out of the totals") { db in
            // A record an older release wrote that breaks a rule the aggregator now enforces: kept in the
            // chain (its hash holds the chain together) but left out of the totals until an admin decides.
            try db.execute(sql: """
                CREATE TABLE heldOut (
                    venue TEXT NOT NULL,
                    seq INTEGER NOT NULL,
                    rule TEXT NOT NULL,
                    message TEXT NOT NULL,
                    heldAt TEXT NOT NULL,
                    PRIMARY KEY (venue, seq)
                ) WITHOUT ROWID;
                CREATE TABLE heldOutDecision (
                    id INTEGER PRIMARY KEY AUTOINCREMENT,
                    venue TEXT NOT NULL,
                    seq INTEGER NOT NULL,
                    decision TEXT NOT NULL CHECK (decision IN ('count', 'exclude')),
                    reason TEXT NOT NULL,
                    decidedBy TEXT NOT NULL,
                    decidedAt TEXT NOT NULL,
                    UNIQUE (venue, seq),
                    FOREIGN KEY (venue, seq) REFERENCES heldOut (venue, seq)
                );
                -- Held out and not (yet) decided to count.
                CREATE VIEW heldOutNow AS
                    SELECT h.venue, h.seq FROM heldOut h
                    WHERE NOT EXISTS (SELECT 1 FROM heldOutDecision d
                                      WHERE d.venue = h.venue AND d.seq = h.seq AND d.decision = 'count');
                """)
            try appendOnly(["heldOut", "heldOutDecision"], db: db)
        }
        migrator.registerMigration("v10: check-ins and corrections found without a scan") { db in
            // Partial indexes: the reconciliation reads check-ins and corrections, a small part of the records,
            // and ballots (most of them) pay nothing for these at insert.
            try db.execute(sql: """
                CREATE INDEX record_checkin ON record (venue, seq) WHERE kind = 'checkin';
                CREATE INDEX record_correction ON record (venue, seq) WHERE kind = 'correction';
                """)
        }
        return migrator
    }

    /// Triggers that refuse UPDATE and DELETE on each table (the SQL migration v1 wrote inline).
    static func appendOnly(_ tables: [String], db: Database) throws {
        for table in tables {
            try db.execute(sql: """
                CREATE TRIGGER \(table)_is_append_only_update BEFORE UPDATE ON \(table)
                BEGIN SELECT RAISE(ABORT, '\(table) is append-only'); END;
                CREATE TRIGGER \(table)_is_append_only_delete BEFORE DELETE ON \(table)
                BEGIN SELECT RAISE(ABORT, '\(table) is append-only'); END;
                """)
        }
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

/// A venue's ledger, valid while the stored head and the number of admin decisions are these.
struct CachedLedger: Sendable {
    var ledger: Ledger
    var decisions: Int
}

/// The ledgers of the venues, kept between merges (taken out while a merge uses one).
final class LedgerCache: Sendable {
    private let entries = Mutex<[String: CachedLedger]>([:])

    func take(_ venue: String) -> CachedLedger? { entries.withLock { $0.removeValue(forKey: venue) } }

    func put(_ ledger: CachedLedger, venue: String) { entries.withLock { $0[venue] = ledger } }
}
