import Crypto
import Foundation
import GRDB
import PostgresNIO
import Shared

/// What `aggregator migrate` copied, and what proved the copy.
public struct EventCopy: Sendable {
    /// Rows copied, per table, in the order copied.
    public var rows: [(table: String, count: Int)]
    /// The head of every venue chain, the same in both stores.
    public var heads: [ChainHead]
    /// The report's input digest, the same in both stores.
    public var inputDigest: String
}

/// Why a copy was refused; nothing was copied.
public struct CopyRefusal: Error, CustomStringConvertible {
    public var description: String
}

extension PostgresStore {
    /// Every table of the SQLite store, in an order that satisfies their references. A table of the source not named
    /// here or in `uncopiedTables` makes the copy refused: a release that adds a table says how it moves.
    static let copiedTables = [
        "eventVersion", "node", "revocation", "batch", "record", "supersession", "alarm", "tally", "attendance",
        "boxTotal", "boxTally", "formTotal", "formAnswer", "ledgerEntry", "ledgerHead", "rosterImport", "rosterEntry",
        "nodeContact", "heartbeatSeen", "resultsRelease", "apiToken", "apiTokenRevocation", "enrolmentToken",
        "enrolmentUse", "enrolmentTokenRevocation", "heldOut", "heldOutDecision", "outsideTally", "suggestionEvent",
    ]
    /// SQLite's and GRDB's own bookkeeping.
    static let uncopiedTables: Set<String> = ["grdb_migrations", "sqlite_sequence"]

    /// Copies the event held by `source` (one aggregator's SQLite store) into this database, which must hold nothing
    /// yet, in one transaction: every row of every table as it is (chains and their batches with signatures, evidence,
    /// alarms, totals, ledgers, the roster's person keys, tokens as their hashes, held-out decisions, outside tallies,
    /// suggestions and their handling). It holds the source's write lock throughout, so that nothing is written to it
    /// meanwhile (a command that tries waits, then fails). Before committing it proves the copy: every value of every
    /// row the same (a digest of each table's rows on both sides), the same head of every venue chain, the same report
    /// built from each and the same totals; else it rolls back and nothing stays. Once the copy is committed the source
    /// is sealed: every table refuses new rows, changes and deletions, so that nothing can be taken in there any more
    /// (`sealedMessage`).
    ///
    /// The order makes every failure fail closed: the seal is committed in the source before the copy is committed in
    /// PostgreSQL (and `moved` is called in between, for the caller's marker). If PostgreSQL refuses the commit, the seal
    /// is taken away again and `unmoved` called; if its answer is lost (the connection dropped), the source stays sealed
    /// and the refusal says how to find out whether the copy is there.
    public func copyEvent(
        from source: AggregatorDatabase, now: Date = Date(), moved: () throws -> Void = {}, unmoved: () -> Void = {}
    ) throws -> EventCopy {
        guard let event = try source.installedEvent() else {
            throw CopyRefusal(description: "the source holds no event: nothing to copy")
        }
        return try connections.withSession { session in
            try session.execute("BEGIN ISOLATION LEVEL READ COMMITTED")
            let copy: EventCopy
            let tables: [String]
            do {
                // Nobody else writes to these tables until this commits (a replica started early, a command).
                try session.execute(
                    PostgresQuery(
                        unsafeSQL: "LOCK TABLE \(Self.copiedTables.joined(separator: ", ")) IN EXCLUSIVE MODE"))
                // A long transaction on purpose: none of the limits a merge's statements have.
                for setting in ["statement_timeout", "lock_timeout", "idle_in_transaction_session_timeout"] {
                    try session.execute(PostgresQuery(unsafeSQL: "SET LOCAL \(setting) = 0"))
                }
                (copy, tables) = try source.writer.write { db in
                    try copyAndProve(event: event, from: (source, db), to: session, now: now)
                }
            } catch {
                _ = try? session.execute("ROLLBACK")
                throw error
            }
            // The source is sealed from here on.
            do {
                try moved()
            } catch {
                _ = try? session.execute("ROLLBACK")
                Self.unseal(tables, source: source)
                throw error
            }
            do {
                try session.execute("COMMIT")
            } catch let failure as PostgresFailure where failure.sqlState != nil {
                // Refused by the server: nothing of the copy stays there.
                Self.unseal(tables, source: source)
                unmoved()
                throw CopyRefusal(description: "PostgreSQL refused to commit the copy (\(failure)); nothing was copied")
            } catch {
                throw CopyRefusal(
                    description: "the copy's commit was sent but PostgreSQL's answer was lost (\(error)): the data "
                        + "directory stays sealed. `aggregator report --database \(location)` says whether the event "
                        + "is there (then serve it from there); if it is not, run the command again after removing the "
                        + "triggers named sanmin_moved_* from the directory's database and its file moved-to-postgres")
            }
            return copy
        }
    }

    /// Inside both transactions: refusals, the copy, its proof, the seal. The tables copied.
    private func copyAndProve(
        event: LoadedEvent, from source: (store: AggregatorDatabase, db: Database), to session: PostgresSession,
        now: Date
    ) throws -> (EventCopy, [String]) {
        let db = source.db
        let sourceTables = Set(try String.fetchAll(db, sql: "SELECT name FROM sqlite_master WHERE type = 'table'"))
        if let unknown = sourceTables.subtracting(Self.copiedTables).subtracting(Self.uncopiedTables).sorted().first {
            throw CopyRefusal(
                description: "the source has a table this release does not know how to copy (\(unknown)): use the "
                    + "release that wrote it; nothing was copied")
        }
        let tables = Self.copiedTables.filter(sourceTables.contains)
        guard try session.value("SHOW server_encoding", as: String.self) == "UTF8" else {
            throw CopyRefusal(
                description: "the database \(location) is not encoded in UTF8 (createdb --encoding=UTF8): nothing was "
                    + "copied")
        }
        for table in Self.copiedTables
        where try session.value(PostgresQuery(unsafeSQL: "SELECT 1 FROM \(table) LIMIT 1"), as: Int32.self) != nil {
            throw CopyRefusal(
                description: "the database \(location) is not empty (table \(table) has rows): copy into a new, empty "
                    + "database; nothing was copied")
        }
        // The tables' row types named with their schema (`record` alone is PostgreSQL's pseudo-type).
        guard let schema = try session.value("SELECT current_schema()::text", as: String.self) else {
            throw CopyRefusal(description: "the database \(location) has no schema to copy into")
        }
        let columns = try Self.columns(of: tables, source: db, target: session)
        let rows = try tables.map { table in
            (table, try Self.copy(table: table, schema: schema, from: db, to: session))
        }
        // Identity columns continue after the ids copied.
        for (table, columns) in columns {
            for column in columns where column.isIdentity {
                try session.execute(
                    PostgresQuery(
                        unsafeSQL: """
                            SELECT setval(pg_get_serial_sequence('\(table.lowercased())', '\(column.name)'),
                                          MAX("\(column.name)"))
                            FROM \(table) HAVING MAX("\(column.name)") IS NOT NULL
                            """))
            }
        }
        let copy = try ReportSnapshotScope.inside(source.store) {
            try Self.prove(copied: rows, columns: columns, event: event, source: source, target: session, now: now)
        }
        try Self.seal(tables, db: db, movedTo: location)
        return (copy, tables)
    }

    /// Takes the seal away again (the copy was refused after the source had been sealed).
    private static func unseal(_ tables: [String], source: AggregatorDatabase) {
        try? source.writer.write { db in
            for table in tables {
                for action in ["insert", "update", "delete"] {
                    try db.execute(sql: "DROP TRIGGER IF EXISTS sanmin_moved_\(table)_\(action)")
                }
            }
        }
    }

    /// Whether a copy of this database was sealed (`copyEvent`): it takes nothing in any more.
    static func isSealed(_ db: Database) throws -> Bool {
        try Int.fetchOne(
            db,
            sql:
                "SELECT COUNT(*) FROM sqlite_master WHERE type = 'trigger' AND name LIKE 'sanmin\\_moved\\_%' ESCAPE '\\'"
        )
            ?? 0 > 0
    }

    /// What a sealed source says to whatever tries to write to it.
    static func sealedMessage(_ location: PostgresLocation) -> String {
        "this event was moved to \(location) (aggregator migrate): nothing more is taken in here; serve and run "
            + "commands with --database"
    }

    /// Triggers on every table that refuse any new row, change or deletion (inside the copy's transaction of the
    /// source: they stand once the copy is committed, and not at all if it is not).
    private static func seal(_ tables: [String], db: Database, movedTo location: PostgresLocation) throws {
        let message = sealedMessage(location).replacingOccurrences(of: "'", with: "''")
        for table in tables {
            for action in ["INSERT", "UPDATE", "DELETE"] {
                try db.execute(
                    sql: """
                        CREATE TRIGGER sanmin_moved_\(table)_\(action.lowercased()) BEFORE \(action) ON \(table)
                        BEGIN SELECT RAISE(ABORT, '\(message)'); END
                        """)
            }
        }
    }

    /// A column copied: its name as PostgreSQL has it, its type there, and whether it is an identity.
    struct CopiedColumn {
        var name: String
        var type: String
        var isIdentity: Bool
    }

    /// Each table's columns in the source's order, refused unless the target has every one of them (a value in a column
    /// the target lacks would be dropped without a word).
    private static func columns(of tables: [String], source db: Database, target session: PostgresSession) throws
        -> [(String, [CopiedColumn])]
    {
        try tables.map { table in
            var target: [String: (type: String, identity: Bool)] = [:]
            for row in try session.rows(
                """
                SELECT column_name::text, data_type::text, is_identity::text FROM information_schema.columns
                WHERE table_schema = current_schema() AND table_name = \(table.lowercased())
                """)
            {
                target[try row[0].decode(String.self)] = (
                    try row[1].decode(String.self), try row[2].decode(String.self) == "YES"
                )
            }
            let names = try Row.fetchAll(db, sql: "PRAGMA table_info(\(table))").map {
                ($0["name"] as String).lowercased()
            }
            return (
                table,
                try names.map { name in
                    guard let found = target[name] else {
                        throw CopyRefusal(
                            description: "the source's table \(table) has a column \(name) the database does not: "
                                + "use the release that wrote it; nothing was copied")
                    }
                    return CopiedColumn(name: name, type: found.type, isIdentity: found.identity)
                }
            )
        }
    }

    /// Copies one table, up to a thousand rows or about 4 MB a statement (PostgreSQL turns each JSON row into the
    /// table's row type, by column name). The rows copied.
    private static func copy(table: String, schema: String, from db: Database, to session: PostgresSession) throws
        -> Int
    {
        let cursor = try Row.fetchCursor(db, sql: "SELECT * FROM \(table)")
        var chunk: [[String: Any]] = []
        var bytes = 0
        var count = 0
        func flush() throws {
            guard !chunk.isEmpty else { return }
            let json = String(decoding: try JSONSerialization.data(withJSONObject: chunk), as: UTF8.self)
            try session.execute(
                PostgresQuery(
                    unsafeSQL: """
                        INSERT INTO \(table) OVERRIDING SYSTEM VALUE
                        SELECT * FROM json_populate_recordset(NULL::"\(schema.replacingOccurrences(of: "\"", with: "\"\""))".\(table), $1::json)
                        """, binds: bindings(json)))
            (chunk, bytes) = ([], 0)
        }
        while let row = try cursor.next() {
            var object: [String: Any] = [:]
            for (column, value) in row {
                // PostgreSQL folds the column names to lower case.
                switch value.storage {
                case .null: object[column.lowercased()] = NSNull()
                case .int64(let integer): object[column.lowercased()] = integer
                case .double(let double): object[column.lowercased()] = double
                case .string(let string):
                    object[column.lowercased()] = string
                    bytes += string.utf8.count
                case .blob(let data):
                    object[column.lowercased()] = "\\x" + data.map { String(format: "%02x", $0) }.joined()
                    bytes += data.count * 2
                }
            }
            chunk.append(object)
            count += 1
            if chunk.count == 1_000 || bytes > 4 << 20 { try flush() }
        }
        try flush()
        return count
    }

    private static func bindings(_ json: String) -> PostgresBindings {
        var bindings = PostgresBindings()
        bindings.append(json)
        return bindings
    }

    /// Every value of every row the same on both sides (a digest of each table), the same chain heads, the same report
    /// and totals; else the copy is refused. Runs inside the source's write transaction and the report's snapshot
    /// scope: the source's reads are made on its writer's connection.
    private static func prove(
        copied rows: [(String, Int)], columns: [(String, [CopiedColumn])], event: LoadedEvent,
        source: (store: AggregatorDatabase, db: Database), target session: PostgresSession, now: Date
    ) throws -> EventCopy {
        func refuse(_ what: String) -> CopyRefusal {
            CopyRefusal(description: "the copy does not match the source (\(what)): nothing was copied")
        }
        let copied = Dictionary(uniqueKeysWithValues: rows)
        for (table, columns) in columns {
            let ours = try TableDigest(source.db, table: table, columns: columns)
            let theirs = try TableDigest(session, table: table, columns: columns)
            guard ours.rows == copied[table], ours == theirs else {
                throw refuse(
                    "table \(table): \(ours.rows) rows in the source, \(theirs.rows) copied, or a value differs")
            }
        }
        let target = PostgresReads(session: session)
        let heads = try source.store.chainHeads()
        guard try target.chainHeads() == heads else { throw refuse("the chain heads differ") }
        let sourceBuild = try Report.build(reads: source.store, event: event, now: now)
        let targetBuild = try Report.build(reads: target, event: event, now: now)
        let (theirs, ours) = (sourceBuild.report, targetBuild.report)
        guard ours.inputDigest == theirs.inputDigest else { throw refuse("the report's input digest differs") }
        let parts: [(String, (Report) throws -> String)] = [
            ("attendance", { try JSONCoding.string($0.attendance) }),
            ("reserves", { try JSONCoding.string($0.reserves) }),
            ("findings", { try JSONCoding.string($0.findings) }),
            ("results", { try JSONCoding.string($0.results) }),
            ("outside tallies", { try JSONCoding.string($0.outside) }),
            ("surveys", { try JSONCoding.string($0.surveys) }),
        ]
        for (name, part) in parts where try part(ours) != part(theirs) {
            throw refuse("the report's \(name) differ")
        }
        guard try JSONCoding.string(targetBuild.totals) == JSONCoding.string(sourceBuild.totals) else {
            throw refuse("the totals differ")
        }
        return EventCopy(rows: rows, heads: heads, inputDigest: ours.inputDigest)
    }
}

/// The rows of a table, as a digest that does not depend on their order: each row rendered the same way on both
/// engines (each value length-prefixed, NULL apart, booleans as 0 and 1, bytes in hex), hashed (SHA-256), and the
/// hashes added up in four 64-bit lanes.
struct TableDigest: Equatable {
    var rows = 0
    var lanes: [UInt64] = [0, 0, 0, 0]

    private mutating func add(_ rendered: String) {
        rows += 1
        let hash = Array(SHA256.hash(data: Data(rendered.utf8)))
        for lane in 0..<4 {
            let word = hash[lane * 8..<lane * 8 + 8].reduce(UInt64(0)) { $0 << 8 | UInt64($1) }
            lanes[lane] &+= word
        }
    }

    /// The SELECT that renders each row as one text: `value` says a non-NULL column in the engine's SQL.
    private static func rendering(
        _ table: String, _ columns: [PostgresStore.CopiedColumn], value: (_ name: String, _ type: String) -> String
    ) -> String {
        let row = columns.map { column -> String in
            let name = "\"\(column.name)\""
            return "CASE WHEN \(name) IS NULL THEN '-' ELSE \(value(name, column.type)) END"
        }.joined(separator: " || '|' || ")
        return "SELECT \(row) FROM \(table)"
    }

    init(_ db: Database, table: String, columns: [PostgresStore.CopiedColumn]) throws {
        let sql = Self.rendering(table, columns) { name, type in
            switch type {
            case "boolean": "CASE WHEN \(name) != 0 THEN '1' ELSE '0' END"
            case "bytea": "'x' || lower(hex(\(name)))"
            default: "length(CAST(\(name) AS TEXT)) || ':' || CAST(\(name) AS TEXT)"
            }
        }
        let cursor = try String.fetchCursor(db, sql: sql)
        while let row = try cursor.next() { add(row) }
    }

    init(_ session: PostgresSession, table: String, columns: [PostgresStore.CopiedColumn]) throws {
        let sql = Self.rendering(table, columns) { name, type in
            switch type {
            case "boolean": "CASE WHEN \(name) THEN '1' ELSE '0' END"
            case "bytea": "'x' || encode(\(name), 'hex')"
            default: "length(\(name)::text) || ':' || \(name)::text"
            }
        }
        // Rows holding bytes (a batch's body, up to megabytes) a few at a time.
        let batch = columns.contains { $0.type == "bytea" } ? 16 : 5_000
        try session.forEachRow(sql, batch: batch) { row in add(try row[0].decode(String.self)) }
    }
}
