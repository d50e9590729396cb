import GRDB

/// Opens SQLite files the way every store of this system needs them: WAL (a `DatabasePool`),
/// `synchronous=FULL` so a committed transaction survives a power cut, and a busy timeout so a
/// command-line tool and a running daemon can share the file.
public enum DurableDatabase {
    public static func openPool(path: String) throws -> DatabasePool {
        var configuration = Configuration()
        configuration.prepareDatabase { db in
            try db.execute(sql: "PRAGMA synchronous = FULL")
        }
        configuration.busyMode = .timeout(10)
        return try DatabasePool(path: path, configuration: configuration)
    }
}
