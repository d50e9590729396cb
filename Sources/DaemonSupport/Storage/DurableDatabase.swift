import Foundation
import GRDB

/// Opens SQLite files the way every store of this system needs them: WAL (a `DatabasePool`),
/// `synchronous=FULL` so a committed transaction survives a power cut, a busy timeout so a
/// command-line tool and a running daemon can share the file, and a check that the file is sound.
public enum DurableDatabase {
    /// A store that cannot be used as it is, said so that an operator knows what to do.
    public struct Failure: Error, CustomStringConvertible {
        public var description: String

        public init(description: String) { self.description = description }
    }

    /// How long a connection waits for another process's write transaction before giving up, in seconds:
    /// two short commands at once (or a command beside the daemon) wait for each other instead of failing.
    public static let busyTimeout: TimeInterval = 10

    /// `PRAGMA synchronous` of a store's writer: FULL (2), the WAL synced at every commit.
    public static let fullSynchronous = 2

    /// Opens `path`. With `mustExist`, a missing file is an error instead of a new empty database:
    /// a store whose records vanished must never be silently recreated.
    public static func openPool(path: String, mustExist: Bool = false) throws -> DatabasePool {
        if mustExist && !FileManager.default.fileExists(atPath: path) {
            throw Failure(
                description: "\(path) is missing: the records it held are not here. Restore it from a "
                    + "backup; do not create a new store in its place")
        }
        var configuration = Configuration()
        configuration.busyMode = .timeout(busyTimeout)
        do {
            let pool = try DatabasePool(path: path, configuration: configuration)
            // Set on the writer once the pool is open: GRDB switches a pool's writer to WAL after its
            // `prepareDatabase`, and sets `synchronous=NORMAL` as it does, which would lose the last commits
            // at a power cut. The pool keeps this one writer connection for its whole life.
            let synchronous = try pool.writeWithoutTransaction { db in
                try db.execute(sql: "PRAGMA synchronous = FULL")
                return try Int.fetchOne(db, sql: "PRAGMA synchronous")
            }
            guard synchronous == fullSynchronous else {
                throw Failure(
                    description: "\(path): SQLite did not take synchronous=FULL (it reports \(synchronous ?? -1))")
            }
            let check = try pool.read { db in try String.fetchAll(db, sql: "PRAGMA quick_check") }
            guard check == ["ok"] else {
                throw Failure(description: damaged(path, check.prefix(3).joined(separator: "; ")))
            }
            return pool
        } catch {
            throw explain(error, path: path).map { Failure(description: $0) } ?? error
        }
    }

    private static func damaged(_ path: String, _ detail: String) -> String {
        "\(path) is damaged (\(detail)). It was left as it is: restore it from a backup, or keep it for "
            + "investigation; do not delete it"
    }

    /// Says what a storage error means for the operator, or nil when it is not one of those.
    public static func explain(_ error: any Error, path: String) -> String? {
        guard let error = error as? DatabaseError else { return nil }
        let diskFull =
            error.resultCode == .SQLITE_FULL
            || ([.SQLITE_IOERR, .SQLITE_CANTOPEN].contains(error.resultCode)
                && freeBytes(near: path).map { $0 < 64 << 10 } == true)
        switch error.resultCode {
        case .SQLITE_BUSY, .SQLITE_LOCKED:
            return "another process holds \(path) (this command waited \(Int(busyTimeout)) s for it): nothing of this "
                + "command was saved. Another command on the same data directory (an import, a restore) or a sqlite3 "
                + "shell may still be running: let it finish, then run this again"
        case _ where diskFull:
            return "the disk holding \(path) is full: nothing of this command was saved. Free some space and run "
                + "it again"
        case .SQLITE_IOERR, .SQLITE_CANTOPEN, .SQLITE_READONLY:
            return "cannot write \(path) (\(error.message ?? "\(error.resultCode)")): nothing of this command was "
                + "saved. Check the disk and the file's permissions"
        case .SQLITE_CORRUPT, .SQLITE_NOTADB:
            return damaged(path, error.message ?? "\(error.resultCode)")
        default:
            return nil
        }
    }

    /// Bytes available to unprivileged writers on the file system holding `path`.
    public static func freeBytes(near path: String) -> UInt64? {
        var stats = statvfs()
        let directory = (path as NSString).deletingLastPathComponent
        guard statvfs(directory, &stats) == 0 else { return nil }
        return UInt64(stats.f_bavail) * UInt64(stats.f_frsize)
    }

    /// The identity (device and inode) of `path`, or nil when there is no such file.
    public static func fileIdentity(_ path: String) -> FileIdentity? {
        var info = stat()
        guard stat(path, &info) == 0 else { return nil }
        return FileIdentity(device: UInt64(info.st_dev), inode: UInt64(info.st_ino))
    }

    public struct FileIdentity: Sendable, Equatable {
        public var device: UInt64
        public var inode: UInt64
    }
}

/// Notices that the `-wal` file of an open WAL database was deleted (or replaced) behind its back. The
/// process keeps writing into the deleted file, which no other process sees and which is gone for good at
/// the next crash: records reported saved would be lost. Checked before and after every write transaction.
public struct WALWatch: Sendable {
    public let databasePath: String
    public var walPath: String { databasePath + "-wal" }
    /// The -wal file as it was when the database was opened.
    public let opened: DurableDatabase.FileIdentity?

    /// Notes the identity of the -wal file of `databasePath`, which must be open (in WAL mode) already.
    public init(databasePath: String) {
        self.databasePath = databasePath
        self.opened = DurableDatabase.fileIdentity(databasePath + "-wal")
    }

    /// Whether the -wal file is still the one there was at opening.
    public var isIntact: Bool {
        opened == nil || DurableDatabase.fileIdentity(walPath) == opened
    }

    /// Before opening `databasePath`: whether its -wal file is missing while its -shm file is there. SQLite
    /// removes the -shm before the -wal when the last connection closes, and creates the -wal before the
    /// -shm, so this happens only when someone deleted the -wal (of a running or crashed process).
    public static func walMissing(databasePath: String) -> Bool {
        FileManager.default.fileExists(atPath: databasePath + "-shm")
            && !FileManager.default.fileExists(atPath: databasePath + "-wal")
            && FileManager.default.fileExists(atPath: databasePath)
    }
}
