import DaemonSupport
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
        try self.init(
            writer: DurableDatabase.openPool(path: path, mustExist: !create),
            walWatch: WALWatch(databasePath: path))
    }

    /// The database, for tests that inspect how it is opened.
    public var writerForTests: any DatabaseWriter { writer }

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
