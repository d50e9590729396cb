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
    /// suggestions and their handling). Before committing it proves the copy: the same rows in every table, the same
    /// head of every venue chain, and the same report built from each (input digest, attendance, findings, results,
    /// surveys), else it rolls back and nothing stays.
    public func copyEvent(from source: AggregatorDatabase, now: Date = Date()) throws -> EventCopy {
        guard let event = try source.installedEvent() else {
            throw CopyRefusal(description: "the source holds no event: nothing to copy")
        }
        let sourceTables = Set(
            try source.writer.read { db in
                try String.fetchAll(db, sql: "SELECT name FROM sqlite_master WHERE type = 'table'")
            })
        if let unknown = sourceTables.subtracting(Self.copiedTables).subtracting(Self.uncopiedTables).sorted().first {
            throw CopyRefusal(
                description: "the source has a table this release does not know how to copy (\(unknown)): use the "
                    + "release that wrote it; nothing was copied")
        }
        return try connections.withTransaction(locking: "copy") { session in
            for table in Self.copiedTables
            where try session.value(PostgresQuery(unsafeSQL: "SELECT 1 FROM \(table) LIMIT 1"), as: Int32.self) != nil {
                throw CopyRefusal(
                    description: "the database \(location) is not empty (table \(table) has rows): copy into a new, "
                        + "empty database; nothing was copied")
            }
            // The tables' row types named with their schema (`record` alone is PostgreSQL's pseudo-type).
            guard let schema = try session.value("SELECT current_schema()::text", as: String.self) else {
                throw CopyRefusal(description: "the database \(location) has no schema to copy into")
            }
            // One read transaction of the source: every table from the same state.
            let rows = try source.writer.read { db in
                try Self.copiedTables.filter(sourceTables.contains).map { table in
                    (table, try Self.copy(table: table, schema: schema, from: db, to: session))
                }
            }
            // Identity columns continue after the ids copied.
            for row in try session.rows(
                """
                SELECT table_name::text, column_name::text FROM information_schema.columns
                WHERE table_schema = current_schema() AND is_identity = 'YES'
                """)
            {
                let (table, column) = (try row[0].decode(String.self), try row[1].decode(String.self))
                try session.execute(
                    PostgresQuery(
                        unsafeSQL: """
                            SELECT setval(pg_get_serial_sequence('\(table)', '\(column)'), MAX(\(column)))
                            FROM \(table) HAVING MAX(\(column)) IS NOT NULL
                            """))
            }
            return try Self.prove(copied: rows, event: event, source: source, target: session, now: now)
        }
    }

    /// Copies one table, a thousand rows a statement (PostgreSQL turns each JSON row into the table's row type, by
    /// column name). The rows copied.
    private static func copy(table: String, schema: String, from db: Database, to session: PostgresSession) throws
        -> Int
    {
        let cursor = try Row.fetchCursor(db, sql: "SELECT * FROM \(table)")
        var chunk: [[String: Any]] = []
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
            chunk = []
        }
        while let row = try cursor.next() {
            var object: [String: Any] = [:]
            for (column, value) in row {
                // PostgreSQL folds the column names to lower case.
                object[column.lowercased()] =
                    switch value.storage {
                    case .null: NSNull()
                    case .int64(let integer): integer
                    case .double(let double): double
                    case .string(let string): string
                    case .blob(let data): "\\x" + data.map { String(format: "%02x", $0) }.joined()
                    }
            }
            chunk.append(object)
            count += 1
            if chunk.count == 1_000 { try flush() }
        }
        try flush()
        return count
    }

    private static func bindings(_ json: String) -> PostgresBindings {
        var bindings = PostgresBindings()
        bindings.append(json)
        return bindings
    }

    /// The same rows in every table, the same chain heads, the same report; else the copy is refused.
    private static func prove(
        copied rows: [(String, Int)], event: LoadedEvent, source: AggregatorDatabase, target session: PostgresSession,
        now: Date
    ) throws -> EventCopy {
        func refuse(_ what: String) -> CopyRefusal {
            CopyRefusal(
                description: "the copy does not match the source (\(what)): nothing was copied. Was the source "
                    + "changed meanwhile? Stop its aggregator and run the command again")
        }
        for (table, count) in rows {
            let sourceCount = try source.writer.read { db in try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM \(table)")
            }
            let targetCount = try session.value(
                PostgresQuery(unsafeSQL: "SELECT COUNT(*) FROM \(table)"), as: Int64.self)
            guard sourceCount == count, targetCount.map(Int.init) == count else {
                throw refuse("\(table): \(sourceCount ?? 0) rows in the source, \(targetCount ?? 0) copied")
            }
        }
        let target = PostgresReads(session: session)
        let heads = try source.chainHeads()
        guard try target.chainHeads() == heads else { throw refuse("the chain heads differ") }
        let sourceBuild = try source.withReportSnapshot { try Report.build(reads: $0, event: event, now: now) }
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
