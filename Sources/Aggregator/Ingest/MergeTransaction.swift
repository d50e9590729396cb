import Foundation
import GRDB
import Shared

/// Everything a merge reads and writes, inside the one transaction its engine opens for it: the venue's chain, its
/// fencing, its ledger tables, the totals, alarms and evidence. `ChainMerge` is written once against this; each engine
/// that can hold the aggregator's data (SQLite here, PostgreSQL in `PostgresStore`) says it in its own SQL.
protocol MergeTransaction {
    func isRevoked(node: String) throws -> Bool
    /// The venue's newest enrolled epoch (0 when none).
    func currentEpoch(venue: String) throws -> Int64
    /// The venue's last stored record (0 and the genesis hash when none).
    func head(venue: String) throws -> (seq: Int64, hash: String)
    /// The hashes of the venue's stored records numbered `seqs`, by number.
    func recordHashes(venue: String, seqs: ClosedRange<Int64>) throws -> [Int64: String]
    func recordPayload(venue: String, seq: Int64) throws -> String?
    /// Every stored record of the venue, in order.
    func forEachRecord(venue: String, _ body: (_ seq: Int64, _ hash: String, _ payload: String) throws -> Void) throws
    func insert(alarm: Alarm) throws
    func hasAlarm(kind: String, node: String, seq: Int64, message: String) throws -> Bool
    /// Stores the batch, answering its id.
    func insert(batch: StoredBatch) throws -> Int64
    /// Stores a batch's new records, in order.
    func insertRecords(venue: String, _ records: [(record: ChainedRecord, kind: String)], node: String, batch: Int64)
        throws
    func insertSupersession(venue: String, target: Int64, by seq: Int64) throws
    func insertHeldOut(venue: String, seq: Int64, rule: String, message: String, at: String) throws
    /// Adds each value to its counter's row of the venue's totals (the merge's one way of changing a total).
    func add(_ values: [Counter: Int], venue: String) throws
    func noteContact(node: String, at: String) throws
    func heldOutDecisions(venue: String) throws -> Int
    /// The records held out and not decided to count.
    func heldOutNow(venue: String) throws -> [Int64]
    func ledgerHead(venue: String) throws -> (seq: Int64, hash: String, decisions: Int)?
    /// The entries of the venue's ledger stored under these keys (those stored; each key asked once).
    func ledgerEntries(venue: String, keys: [(map: String, key: String)]) throws -> [LedgerEntry]
    func deleteLedger(venue: String) throws
    /// Sets entries of the venue's ledger, or removes those whose `value` is nil.
    func setLedgerEntries(venue: String, _ entries: [LedgerEntry]) throws
    func setLedgerHead(venue: String, seq: Int64, hash: String, decisions: Int) throws
}

/// The merge's reads and writes in an SQLite transaction (GRDB), with prepared statements kept by the connection.
struct SQLiteMergeTransaction: MergeTransaction {
    let db: Database

    func isRevoked(node: String) throws -> Bool {
        try Int64.fetchOne(db, sql: "SELECT 1 FROM revocation WHERE nodeID = ?", arguments: [node]) != nil
    }

    func currentEpoch(venue: String) throws -> Int64 {
        try Int64.fetchOne(db, sql: "SELECT MAX(epoch) FROM node WHERE venue = ?", arguments: [venue]) ?? 0
    }

    func head(venue: String) throws -> (seq: Int64, hash: String) {
        try AggregatorDatabase.head(db, venue: venue)
    }

    func recordHashes(venue: String, seqs: ClosedRange<Int64>) throws -> [Int64: String] {
        let rows = try Row.fetchCursor(
            db.cachedStatement(sql: "SELECT seq, hash FROM record WHERE venue = ? AND seq BETWEEN ? AND ?"),
            arguments: [venue, seqs.lowerBound, seqs.upperBound])
        var hashes: [Int64: String] = [:]
        while let row = try rows.next() { hashes[row["seq"]] = row["hash"] }
        return hashes
    }

    func recordPayload(venue: String, seq: Int64) throws -> String? {
        try String.fetchOne(
            db.cachedStatement(sql: "SELECT payload FROM record WHERE venue = ? AND seq = ?"), arguments: [venue, seq])
    }

    func forEachRecord(venue: String, _ body: (Int64, String, String) throws -> Void) throws {
        let rows = try Row.fetchCursor(
            db, sql: "SELECT seq, hash, payload FROM record WHERE venue = ? ORDER BY seq", arguments: [venue])
        while let row = try rows.next() {
            try body(row["seq"], row["hash"], row["payload"])
        }
    }

    func insert(alarm: Alarm) throws {
        try alarm.insert(db)
    }

    func hasAlarm(kind: String, node: String, seq: Int64, message: String) throws -> Bool {
        try Int64.fetchOne(
            db, sql: "SELECT 1 FROM alarm WHERE kind = ? AND nodeID = ? AND seq = ? AND message = ?",
            arguments: [kind, node, seq, message]) != nil
    }

    func insert(batch: StoredBatch) throws -> Int64 {
        try batch.insert(db)
        return db.lastInsertedRowID
    }

    func insertRecords(
        venue: String, _ records: [(record: ChainedRecord, kind: String)], node: String, batch: Int64
    ) throws {
        // One prepared statement for every record (GRDB's record persistence was a visible cost in the profile).
        let insert = try db.cachedStatement(
            sql: """
                INSERT INTO record (venue, seq, prev, hash, kind, payload, nodeID, batchID) VALUES (?, ?, ?, ?, ?, ?, ?, ?)
                """)
        for (record, kind) in records {
            try insert.execute(arguments: [
                venue, record.seq, record.prev, record.hash, kind, record.payload, node, batch,
            ])
        }
    }

    func insertSupersession(venue: String, target: Int64, by seq: Int64) throws {
        try db.execute(
            sql: "INSERT INTO supersession (venue, target, bySeq) VALUES (?, ?, ?)", arguments: [venue, target, seq])
    }

    func insertHeldOut(venue: String, seq: Int64, rule: String, message: String, at: String) throws {
        try db.execute(
            sql: "INSERT INTO heldOut (venue, seq, rule, message, heldAt) VALUES (?, ?, ?, ?, ?)",
            arguments: [venue, seq, rule, message, at])
    }

    func add(_ values: [Counter: Int], venue: String) throws {
        for (counter, value) in values { try add(value, to: counter, venue: venue) }
    }

    func add(_ value: Int, to counter: Counter, venue: String) throws {
        let upsert = CounterUpsert(counter, value: value, venue: venue)
        var arguments = StatementArguments(upsert.keys)
        arguments += [upsert.value]
        try db.cachedStatement(sql: upsert.sql).execute(arguments: arguments)
    }

    func noteContact(node: String, at: String) throws {
        try db.cachedStatement(
            sql: """
                INSERT INTO nodeContact (nodeID, lastContactAt) VALUES (?, ?)
                ON CONFLICT (nodeID) DO UPDATE SET lastContactAt = excluded.lastContactAt
                """
        ).execute(arguments: [node, at])
    }

    func heldOutDecisions(venue: String) throws -> Int {
        try Int.fetchOne(
            db.cachedStatement(sql: "SELECT COUNT(*) FROM heldOutDecision WHERE venue = ?"), arguments: [venue]) ?? 0
    }

    func heldOutNow(venue: String) throws -> [Int64] {
        try Int64.fetchAll(db.cachedStatement(sql: "SELECT seq FROM heldOutNow WHERE venue = ?"), arguments: [venue])
    }

    func ledgerHead(venue: String) throws -> (seq: Int64, hash: String, decisions: Int)? {
        try Row.fetchOne(
            db.cachedStatement(sql: "SELECT seq, hash, decisions FROM ledgerHead WHERE venue = ?"), arguments: [venue]
        ).map { ($0["seq"], $0["hash"], $0["decisions"]) }
    }

    func ledgerEntries(venue: String, keys: [(map: String, key: String)]) throws -> [LedgerEntry] {
        let select = try db.cachedStatement(
            sql: "SELECT value FROM ledgerEntry WHERE venue = ? AND map = ? AND key = ?")
        var entries: [LedgerEntry] = []
        var seen: Set<String> = []
        for key in keys where seen.insert(key.map + "\u{1F}" + key.key).inserted {
            if let value = try String.fetchOne(select, arguments: [venue, key.map, key.key]) {
                entries.append(LedgerEntry(map: key.map, key: key.key, value: value))
            }
        }
        return entries
    }

    func deleteLedger(venue: String) throws {
        try db.execute(sql: "DELETE FROM ledgerEntry WHERE venue = ?", arguments: [venue])
    }

    func setLedgerEntries(venue: String, _ entries: [LedgerEntry]) throws {
        let upsert = try db.cachedStatement(
            sql: "INSERT OR REPLACE INTO ledgerEntry (venue, map, key, value) VALUES (?, ?, ?, ?)")
        let delete = try db.cachedStatement(sql: "DELETE FROM ledgerEntry WHERE venue = ? AND map = ? AND key = ?")
        for entry in entries {
            if let value = entry.value {
                try upsert.execute(arguments: [venue, entry.map, entry.key, value])
            } else {
                try delete.execute(arguments: [venue, entry.map, entry.key])
            }
        }
    }

    func setLedgerHead(venue: String, seq: Int64, hash: String, decisions: Int) throws {
        try db.cachedStatement(
            sql: "INSERT OR REPLACE INTO ledgerHead (venue, seq, hash, decisions) VALUES (?, ?, ?, ?)"
        ).execute(arguments: [venue, seq, hash, decisions])
    }
}

/// The statement that adds to one counter's row of a venue's totals: an upsert on the row's key (SQLite; PostgreSQL
/// adds a batch's counters of one table and column in one statement, from the same `Shape`).
struct CounterUpsert {
    var sql: String
    /// The key's values (the venue first), then the value added.
    var keys: [String]
    var value: Int

    /// Where a counter is kept: its table, its key columns after the venue with their values, and the column counted.
    struct Shape {
        var table: String
        var columns: [String]
        var keys: [String]
        var column: String
    }

    static func shape(of counter: Counter) -> Shape {
        let (table, columns, keys, column) = row(of: counter)
        return Shape(table: table, columns: columns, keys: keys, column: column)
    }

    init(_ counter: Counter, value: Int, venue: String) {
        let shape = Self.shape(of: counter)
        let all = ["venue"] + shape.columns
        let parameters = Array(repeating: "?", count: all.count + 1).joined(separator: ", ")
        // Table and column names are fixed below, never input.
        sql = """
            INSERT INTO \(shape.table) (\(all.joined(separator: ", ")), \(shape.column)) VALUES (\(parameters))
            ON CONFLICT (\(all.joined(separator: ", "))) DO UPDATE SET \(shape.column) = \(shape.column) + excluded.\(shape.column)
            """
        self.keys = [venue] + shape.keys
        self.value = value
    }

    /// The table a counter lives in, its key columns (after the venue) with their values, and the column counted.
    private static func row(of counter: Counter) -> (String, [String], [String], String) {
        switch counter {
        case .attendance(let session, let category):
            ("attendance", ["session", "category"], [session, category], "checkedIn")
        case .mark(let session, let department, let mark):
            ("tally", ["session", "department", "mark"], [session, department, mark], "count")
        case .boxMark(let session, let box, let department, let mark):
            ("boxTally", ["session", "box", "department", "mark"], [session, box, department, mark], "count")
        case .boxOpened(let session, let box): ("boxTotal", ["session", "box"], [session, box], "opened")
        case .boxClosed(let session, let box): ("boxTotal", ["session", "box"], [session, box], "closed")
        case .issued(let session, let box): ("boxTotal", ["session", "box"], [session, box], "issued")
        case .returned(let session, let box): ("boxTotal", ["session", "box"], [session, box], "returned")
        case .ballots(let session, let box, let status):
            ("boxTotal", ["session", "box"], [session, box], status.rawValue)
        case .formsReturned(let session, let box, let form):
            ("formTotal", ["session", "box", "form"], [session, box, form.rawValue], "returned")
        case .formsEntered(let session, let box, let form):
            ("formTotal", ["session", "box", "form"], [session, box, form.rawValue], "entered")
        case .answer(let session, let form, let question, let option):
            (
                "formAnswer", ["session", "form", "question", "option"], [session, form.rawValue, question, option],
                "count"
            )
        }
    }
}
