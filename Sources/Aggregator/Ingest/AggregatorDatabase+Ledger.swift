import Foundation
import GRDB
import Shared

/// Each venue's ledger kept in tables (migration v14), as the venue node keeps its own: a merge loads only the
/// entries its records touch, judges them with the same rules, and writes back what changed. The aggregator's memory
/// then does not grow with the representatives, persons and boxes of an event. The tables are derived from the
/// records and rebuilt from them whenever they do not stand at the venue's head with the same number of held-out
/// decisions.
extension AggregatorDatabase {
    /// The venue's ledger at `head`, as far as `payloads` (the batch's new records) need it to be judged, tracking what
    /// they change; and the number of held-out decisions it reflects.
    static func ledger(
        _ db: Database, venue: String, head: (seq: Int64, hash: String), for payloads: [RecordPayload]
    ) throws -> (ledger: Ledger, decisions: Int) {
        let decisions =
            try Int.fetchOne(
                db.cachedStatement(sql: "SELECT COUNT(*) FROM heldOutDecision WHERE venue = ?"), arguments: [venue])
            ?? 0
        let stored = try Row.fetchOne(
            db.cachedStatement(sql: "SELECT seq, hash, decisions FROM ledgerHead WHERE venue = ?"), arguments: [venue])
        guard let stored, stored["seq"] == head.seq, stored["hash"] == head.hash, stored["decisions"] == decisions
        else {
            // First merge after an upgrade, or after a decision: rebuilt from the venue's records.
            var full = try replayedLedger(db, venue: venue)
            try db.execute(sql: "DELETE FROM ledgerEntry WHERE venue = ?", arguments: [venue])
            try saveEntries(full.allEntries(recordContents: false), venue: venue, db: db)
            try saveHead(of: full, decisions: decisions, venue: venue, db: db)
            full.startTracking()
            return (full, decisions)
        }
        var ledger = Ledger()
        (ledger.headSeq, ledger.headHash) = head
        ledger.loadHeldOut(
            try Int64.fetchAll(
                db.cachedStatement(sql: "SELECT seq FROM heldOutNow WHERE venue = ?"), arguments: [venue]))
        ledger.load(try fetchEntries(Ledger.keysNeeded(for: payloads), venue: venue, db: db))
        // A correction's target stored before this batch: its kind and content, read from the records, and then the
        // entries that taking it out of effect touches.
        for case .correction(let correction) in payloads
        where correction.target >= 1 && correction.target <= head.seq && !ledger.holdsRecord(correction.target) {
            if let (kind, content) = try storedRecord(correction.target, venue: venue, db: db) {
                ledger.loadStoredRecord(seq: correction.target, rootKind: kind, content: content)
            }
        }
        ledger.load(try fetchEntries(Ledger.keysNeeded(for: ledger.loadedContents), venue: venue, db: db))
        ledger.startTracking()
        return (ledger, decisions)
    }

    /// Writes back what the merged records changed, and the venue's new head.
    static func saveLedger(_ ledger: Ledger, decisions: Int, venue: String, db: Database) throws {
        try saveEntries(ledger.changedEntries(recordContents: false), venue: venue, db: db)
        try saveHead(of: ledger, decisions: decisions, venue: venue, db: db)
    }

    /// The venue's whole ledger, replayed from its stored records (each taken as it was judged when merged; the
    /// records held out and not decided to count, held out again).
    static func replayedLedger(_ db: Database, venue: String) throws -> Ledger {
        var ledger = Ledger()
        let heldOut = Set(try Int64.fetchAll(db, sql: "SELECT seq FROM heldOutNow WHERE venue = ?", arguments: [venue]))
        let rows = try Row.fetchCursor(
            db, sql: "SELECT seq, hash, payload FROM record WHERE venue = ? ORDER BY seq",
            arguments: [venue])
        while let row = try rows.next() {
            let payload = try RecordPayload.decode(json: row["payload"])
            if heldOut.contains(row["seq"]) {
                ledger.holdOut(payload)
            } else {
                try ledger.admitEffect(payload, event: nil, mode: .replay)
            }
            ledger.headHash = row["hash"]
        }
        return ledger
    }

    private static func fetchEntries(
        _ keys: [(map: String, key: String)], venue: String, db: Database
    ) throws -> [LedgerEntry] {
        let statement = try db.cachedStatement(
            sql: "SELECT value FROM ledgerEntry WHERE venue = ? AND map = ? AND key = ?")
        var entries: [LedgerEntry] = []
        var seen: Set<String> = []
        for key in keys where seen.insert(key.map + "\u{1F}" + key.key).inserted {
            if let value = try String.fetchOne(statement, arguments: [venue, key.map, key.key]) {
                entries.append(LedgerEntry(map: key.map, key: key.key, value: value))
            }
        }
        return entries
    }

    private static func saveEntries(_ entries: [LedgerEntry], venue: String, db: Database) throws {
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

    private static func saveHead(of ledger: Ledger, decisions: Int, venue: String, db: Database) throws {
        try db.cachedStatement(
            sql: "INSERT OR REPLACE INTO ledgerHead (venue, seq, hash, decisions) VALUES (?, ?, ?, ?)"
        ).execute(arguments: [venue, ledger.headSeq, ledger.headHash, decisions])
    }
}
