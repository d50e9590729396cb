import Foundation
import GRDB
import Shared

/// What the central office's own acts read and write besides a merge's tables, inside one transaction of either
/// engine: held-out records and their decisions, the handling of suggestions, tallies entered for departments
/// evaluated outside the sessions, phone ballots' receipts. The acts themselves (`AggregatorStore+HeldOut`,
/// `+Suggestions`, `+OutsideTallies`, `+Receipts`) are written once against this; each engine says it in its own SQL
/// (`SQLiteMergeTransaction` below, `PostgresMergeTransaction` in Store/Postgres).
protocol OfficeTransaction: MergeTransaction {
    /// Every held-out record with its decision and its correction if any, in venue and record order.
    func heldOutRecords() throws -> [HeldOutRecord]
    func isHeldOut(venue: String, seq: Int64) throws -> Bool
    func heldOutDecision(venue: String, seq: Int64) throws -> (decision: String, by: String, at: String)?
    func insertHeldOutDecision(venue: String, seq: Int64, count: Bool, reason: String, by: String, at: String) throws

    /// Every step of every suggestion's handling, in the order appended.
    func suggestionEvents() throws -> [SuggestionEventRow]
    /// Each form and correction record not held out, in venue and record order.
    func formsAndCorrections(_ each: (_ venue: String, _ seq: Int64, _ payload: String) throws -> Void) throws
    func appendSuggestionEvent(
        venue: String, seq: Int64, action: String, detail: String, actor: String, at: String) throws

    /// The entry in effect for `department` (not replaced by another), if any.
    func outsideTallyInEffect(department: String) throws -> Int64?
    /// Stores an entry; its id.
    func insertOutsideTally(department: String, entry: String, signature: String, publicKey: String, replaces: Int64?)
        throws -> Int64

    /// Each phone ballot (of `venue`, or all), with whether a correction superseded it and whether it is held out.
    func phoneBallots(
        venue: String?, _ each: (_ venue: String, _ payload: String, _ superseded: Bool, _ held: Bool) throws -> Void)
        throws
}

/// A step of a suggestion's handling as stored.
struct SuggestionEventRow {
    var id: Int64
    var venue: String
    var seq: Int64
    var action: String
    var detail: String
    var actor: String
    var at: String
}

extension SQLiteMergeTransaction: OfficeTransaction {
    func heldOutRecords() throws -> [HeldOutRecord] {
        try Row.fetchAll(
            db,
            sql: """
                SELECT h.venue, h.seq, h.rule, h.message, h.heldAt, d.decision, d.reason, d.decidedBy,
                       s.bySeq, r.payload
                FROM heldOut h JOIN record r ON r.venue = h.venue AND r.seq = h.seq
                LEFT JOIN heldOutDecision d ON d.venue = h.venue AND d.seq = h.seq
                LEFT JOIN supersession s ON s.venue = h.venue AND s.target = h.seq
                ORDER BY h.venue, h.seq
                """
        ).map {
            HeldOutRecord(
                venue: $0["venue"], seq: $0["seq"], rule: $0["rule"], message: $0["message"],
                heldAt: $0["heldAt"], decision: $0["decision"], reason: $0["reason"],
                decidedBy: $0["decidedBy"], supersededBy: $0["bySeq"], payload: $0["payload"])
        }
    }

    func isHeldOut(venue: String, seq: Int64) throws -> Bool {
        try Int64.fetchOne(db, sql: "SELECT 1 FROM heldOut WHERE venue = ? AND seq = ?", arguments: [venue, seq])
            != nil
    }

    func heldOutDecision(venue: String, seq: Int64) throws -> (decision: String, by: String, at: String)? {
        try Row.fetchOne(
            db, sql: "SELECT decision, decidedBy, decidedAt FROM heldOutDecision WHERE venue = ? AND seq = ?",
            arguments: [venue, seq]
        ).map { ($0["decision"], $0["decidedBy"], $0["decidedAt"]) }
    }

    func insertHeldOutDecision(venue: String, seq: Int64, count: Bool, reason: String, by: String, at: String) throws {
        try db.execute(
            sql: """
                INSERT INTO heldOutDecision (venue, seq, decision, reason, decidedBy, decidedAt) VALUES (?, ?, ?, ?, ?, ?)
                """, arguments: [venue, seq, count ? "count" : "exclude", reason, by, at])
    }

    func suggestionEvents() throws -> [SuggestionEventRow] {
        try Row.fetchAll(db, sql: "SELECT id, venue, seq, action, detail, actor, at FROM suggestionEvent ORDER BY id")
            .map {
                SuggestionEventRow(
                    id: $0["id"], venue: $0["venue"], seq: $0["seq"], action: $0["action"], detail: $0["detail"],
                    actor: $0["actor"], at: $0["at"])
            }
    }

    func formsAndCorrections(_ each: (String, Int64, String) throws -> Void) throws {
        let rows = try Row.fetchCursor(
            db,
            sql: """
                SELECT venue, seq, payload FROM record r WHERE kind IN ('form', 'correction')
                  AND NOT EXISTS (SELECT 1 FROM heldOutNow h WHERE h.venue = r.venue AND h.seq = r.seq)
                ORDER BY venue, seq
                """)
        while let row = try rows.next() { try each(row["venue"], row["seq"], row["payload"]) }
    }

    func appendSuggestionEvent(
        venue: String, seq: Int64, action: String, detail: String, actor: String, at: String
    ) throws {
        try db.execute(
            sql: "INSERT INTO suggestionEvent (venue, seq, action, detail, actor, at) VALUES (?, ?, ?, ?, ?, ?)",
            arguments: [venue, seq, action, detail, actor, at])
    }

    func outsideTallyInEffect(department: String) throws -> Int64? {
        try Int64.fetchOne(
            db,
            sql: """
                SELECT id FROM outsideTally t WHERE department = ?
                AND NOT EXISTS (SELECT 1 FROM outsideTally r WHERE r.replaces = t.id)
                """, arguments: [department])
    }

    func insertOutsideTally(
        department: String, entry: String, signature: String, publicKey: String, replaces: Int64?
    ) throws -> Int64 {
        try db.execute(
            sql: "INSERT INTO outsideTally (department, entry, signature, publicKey, replaces) VALUES (?, ?, ?, ?, ?)",
            arguments: [department, entry, signature, publicKey, replaces])
        return db.lastInsertedRowID
    }

    func phoneBallots(venue: String?, _ each: (String, String, Bool, Bool) throws -> Void) throws {
        // The same condition as the index `record_phone_ballot`, so that only phone ballots are read.
        var sql = """
            SELECT r.venue, r.payload,
                EXISTS (SELECT 1 FROM supersession s WHERE s.venue = r.venue AND s.target = r.seq) AS superseded,
                EXISTS (SELECT 1 FROM heldOutNow h WHERE h.venue = r.venue AND h.seq = r.seq) AS held
            FROM record r WHERE r.kind = 'ballot' AND r.payload LIKE '%"nonce":"%'
            """
        var arguments: StatementArguments = []
        if let venue {
            sql += " AND r.venue = ?"
            arguments = [venue]
        }
        let rows = try Row.fetchCursor(db, sql: sql, arguments: arguments)
        while let row = try rows.next() { try each(row["venue"], row["payload"], row["superseded"], row["held"]) }
    }
}

/// One transaction of a store, for the central office's acts (`AggregatorStore.withOffice`); what it reads and writes
/// stays inside this module.
public struct Office {
    let transaction: any OfficeTransaction
}

extension AggregatorDatabase {
    /// Runs `body` in one write transaction (SQLite has one writer: merges wait meanwhile), or one read.
    public func withOffice<T>(writing: Bool, venue: String?, _ body: (Office) throws -> T) throws -> T {
        if writing { return try writer.write { db in try body(Office(transaction: SQLiteMergeTransaction(db: db))) } }
        return try writer.read { db in try body(Office(transaction: SQLiteMergeTransaction(db: db))) }
    }
}
