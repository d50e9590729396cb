import Foundation
import GRDB
import Shared

/// The venue node's SQLite store: its append-only chain of records and its log of sync attempts.
/// WAL with `synchronous=FULL`, so a record reported saved survives a power cut.
public final class NodeDatabase: Sendable {
    let writer: any DatabaseWriter
    /// The file's -wal, watched so that nothing more is written once it was deleted (nil in memory).
    let walWatch: WALWatch?

    /// Opens the database at `path` and migrates it; with `create`, a missing file is created.
    public convenience init(path: String, create: Bool = false) throws {
        if WALWatch.walMissing(databasePath: path) {
            throw DurableDatabase.Failure(description: Self.walDeletedMessage(path))
        }
        try self.init(writer: DurableDatabase.openPool(path: path, mustExist: !create),
                      walWatch: WALWatch(databasePath: path))
    }

    /// Uses an existing writer (tests pass an in-memory `DatabaseQueue`).
    public init(writer: any DatabaseWriter, walWatch: WALWatch? = nil) throws {
        self.writer = writer
        self.walWatch = walWatch
        try Self.migrator.migrate(writer)
    }

    /// What an operator is told when the -wal file of the node's database was deleted under it.
    static func walDeletedMessage(_ path: String) -> String {
        let directory = (path as NSString).deletingLastPathComponent
        return "the database's -wal file was deleted while the node ran: records since the last checkpoint may be "
            + "lost, and this node writes nothing more. Do not delete \(path)-wal or \(path)-shm (they are part of "
            + "the database). Stop the node, keep \(directory) as it is, and restore from the aggregator with "
            + "`venue-node init` of a new data directory (enrolled for the venue) and `venue-node restore` "
            + "(docs/operations.md); records never sent are only in this directory"
    }

    /// Throws when the -wal file this process opened is gone or was replaced (see `WALWatch`).
    public func checkWAL() throws {
        guard let walWatch, !walWatch.isIntact else { return }
        throw DurableDatabase.Failure(description: Self.walDeletedMessage(walWatch.databasePath))
    }

    /// A write transaction, checked against a deleted -wal before and after (a transaction committed into a
    /// deleted -wal is not durable: the command must not say "saved"), with storage failures explained.
    func write<T>(_ updates: (Database) throws -> T) throws -> T {
        try checkWAL()
        let result: T
        do {
            result = try writer.write(updates)
        } catch let error as DatabaseError {
            try checkWAL()
            let path = walWatch?.databasePath ?? "the node's database"
            throw DurableDatabase.explain(error, path: path).map { DurableDatabase.Failure(description: $0) } ?? error
        }
        try checkWAL()
        return result
    }

    static var migrator: DatabaseMigrator {
        var migrator = DatabaseMigrator()
        migrator.registerMigration("v1: record chain and sync log") { db in
            try db.execute(sql: """
                CREATE TABLE record (
                    seq INTEGER PRIMARY KEY NOT NULL CHECK (seq >= 1),
                    prev TEXT NOT NULL,
                    hash TEXT NOT NULL UNIQUE,
                    kind TEXT NOT NULL,
                    payload TEXT NOT NULL,
                    savedAt TEXT NOT NULL
                );
                CREATE TRIGGER record_is_append_only_update BEFORE UPDATE ON record
                BEGIN SELECT RAISE(ABORT, 'records are append-only: add a correction instead'); END;
                CREATE TRIGGER record_is_append_only_delete BEFORE DELETE ON record
                BEGIN SELECT RAISE(ABORT, 'records are append-only: add a correction instead'); END;
                CREATE TABLE syncAttempt (
                    id INTEGER PRIMARY KEY AUTOINCREMENT,
                    at TEXT NOT NULL,
                    ok INTEGER NOT NULL,
                    ackedSeq INTEGER,
                    ackedHash TEXT,
                    message TEXT
                );
                """)
        }
        migrator.registerMigration("v2: roster") { db in
            try RosterTables.create(db)
        }
        migrator.registerMigration("v3: receipts") { db in
            try db.execute(sql: """
                CREATE TABLE receipt (
                    id INTEGER PRIMARY KEY AUTOINCREMENT,
                    venue TEXT NOT NULL,
                    node TEXT NOT NULL,
                    firstSeq INTEGER NOT NULL,
                    lastSeq INTEGER NOT NULL,
                    lastHash TEXT NOT NULL,
                    signature TEXT NOT NULL,
                    receivedAt TEXT NOT NULL
                );
                CREATE TRIGGER receipt_is_append_only_update BEFORE UPDATE ON receipt
                BEGIN SELECT RAISE(ABORT, 'receipts are append-only'); END;
                CREATE TRIGGER receipt_is_append_only_delete BEFORE DELETE ON receipt
                BEGIN SELECT RAISE(ABORT, 'receipts are append-only'); END;
                """)
        }
        migrator.registerMigration("v4: imported files") { db in
            try db.execute(sql: """
                CREATE TABLE importedFile (
                    id INTEGER PRIMARY KEY AUTOINCREMENT,
                    digest TEXT NOT NULL,
                    file TEXT NOT NULL,
                    firstSeq INTEGER NOT NULL,
                    lastSeq INTEGER NOT NULL,
                    importedAt TEXT NOT NULL
                );
                CREATE INDEX importedFile_digest ON importedFile(digest);
                """)
        }
        migrator.registerMigration("v5: ledger tables") { db in
            // The ledger the rules judge by, kept as it stands after the last record (derived from the records,
            // rebuilt from them whenever `ledgerHead` is not the chain's head), so a write costs the same on a
            // node of 10^5 records as on an empty one. Not records: rows here are replaced as the ledger changes.
            try db.execute(sql: """
                CREATE TABLE ledgerEntry (
                    map TEXT NOT NULL,
                    key TEXT NOT NULL,
                    value TEXT NOT NULL,
                    PRIMARY KEY (map, key)
                ) WITHOUT ROWID;
                CREATE TABLE ledgerHead (
                    id INTEGER PRIMARY KEY CHECK (id = 1),
                    seq INTEGER NOT NULL,
                    hash TEXT NOT NULL
                );
                CREATE TABLE ledgerCount (
                    name TEXT PRIMARY KEY NOT NULL,
                    value INTEGER NOT NULL
                ) WITHOUT ROWID;
                """)
        }
        return migrator
    }
}

/// One row of the `record` table.
struct StoredRecord: Codable, FetchableRecord, PersistableRecord {
    static let databaseTableName = "record"

    var seq: Int64
    var prev: String
    var hash: String
    var kind: String
    var payload: String
    var savedAt: String

    enum Columns {
        static let seq = Column(CodingKeys.seq)
    }

    var chained: ChainedRecord { ChainedRecord(seq: seq, prev: prev, hash: hash, payload: payload) }
}

/// One row of the `syncAttempt` table.
struct SyncAttempt: Codable, FetchableRecord, PersistableRecord {
    static let databaseTableName = "syncAttempt"

    var id: Int64?
    var at: String
    var ok: Bool
    var ackedSeq: Int64?
    var ackedHash: String?
    var message: String?

    enum Columns {
        static let id = Column(CodingKeys.id)
    }
}
