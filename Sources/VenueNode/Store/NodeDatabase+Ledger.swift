import Foundation
import GRDB
import Shared

/// The node's ledger kept in tables (migration v5), so that judging and saving a record costs the same
/// whatever the number of records already held: a write loads only the entries its records touch and
/// writes back what changed, with the counts `status` shows. The tables are derived from the records and
/// rebuilt from them (verifying the whole chain) whenever they do not stand at the chain's head.
extension NodeDatabase {
    /// The chain's last record (0 and genesis for an empty chain).
    static func chainHead(_ db: Database) throws -> (seq: Int64, hash: String) {
        let row = try Row.fetchOne(db, sql: "SELECT seq, hash FROM record ORDER BY seq DESC LIMIT 1")
        return (row?["seq"] ?? 0, row?["hash"] ?? RecordChain.genesis)
    }

    /// Whether the ledger tables stand at the chain's head.
    static func ledgerIsCurrent(_ db: Database) throws -> Bool {
        let head = try chainHead(db)
        let stored = try Row.fetchOne(db, sql: "SELECT seq, hash FROM ledgerHead WHERE id = 1")
        return stored?["seq"] == head.seq && stored?["hash"] == head.hash
    }

    /// The ledger as far as `payloads` need it to be judged, tracking what they change. When the tables do
    /// not stand at the head (first write after an upgrade or a restore), they are rebuilt from every record.
    static func ledger(for payloads: [RecordPayload], db: Database) throws -> Ledger {
        guard try ledgerIsCurrent(db) else {
            var full = try loadState(db)
            try db.execute(sql: "DELETE FROM ledgerEntry")
            try db.execute(sql: "DELETE FROM ledgerCount")
            try saveEntries(full.allEntries(), db: db)
            var counts: [String: Int] = [:]
            for (counter, value) in full.totals {
                for name in countNames(counter) { counts[name, default: 0] += value }
            }
            for row in try Row.fetchAll(db, sql: "SELECT kind, COUNT(*) AS n FROM record GROUP BY kind") {
                counts["kind:" + (row["kind"] as String), default: 0] += row["n"] as Int
            }
            try addCounts(counts, db: db)
            try saveHead(seq: full.headSeq, hash: full.headHash, db: db)
            full.startTracking()
            return full
        }
        var ledger = Ledger()
        (ledger.headSeq, ledger.headHash) = try chainHead(db)
        ledger.load(try fetchEntries(Ledger.keysNeeded(for: payloads), db: db))
        // What forgetting a corrected record's content touches.
        ledger.load(try fetchEntries(Ledger.keysNeeded(for: ledger.loadedContents), db: db))
        ledger.startTracking()
        return ledger
    }

    /// Writes back what the new records changed, the counts, and the new head.
    static func saveLedger(_ ledger: Ledger, delta: [Counter: Int], kinds: [String: Int], db: Database) throws {
        try saveEntries(ledger.changedEntries(), db: db)
        var counts: [String: Int] = [:]
        for (counter, value) in delta { for name in countNames(counter) { counts[name, default: 0] += value } }
        for (kind, value) in kinds { counts["kind:" + kind, default: 0] += value }
        try addCounts(counts, db: db)
        try saveHead(seq: ledger.headSeq, hash: ledger.headHash, db: db)
    }

    /// Check-ins and ballots per session, and records per kind, as `status` shows them; check-ins per session and
    /// category, as the desk shows them against the quotas (from migration v7 on).
    static func countNames(_ counter: Counter) -> [String] {
        switch counter {
        case .attendance(let session, let category): ["checkins:" + session, "attendance:\(session)\u{1F}\(category)"]
        case .ballots(let session, _, _): ["ballots:" + session]
        default: []
        }
    }

    static func counts(_ db: Database) throws -> [String: Int] {
        var result: [String: Int] = [:]
        for row in try Row.fetchAll(db, sql: "SELECT name, value FROM ledgerCount") {
            result[row["name"]] = row["value"]
        }
        return result
    }

    private static func fetchEntries(_ keys: [(map: String, key: String)], db: Database) throws -> [LedgerEntry] {
        let statement = try db.cachedStatement(sql: "SELECT value FROM ledgerEntry WHERE map = ? AND key = ?")
        var entries: [LedgerEntry] = []
        var seen: Set<String> = []
        for key in keys where seen.insert(key.map + "\u{1F}" + key.key).inserted {
            if let value = try String.fetchOne(statement, arguments: [key.map, key.key]) {
                entries.append(LedgerEntry(map: key.map, key: key.key, value: value))
            }
        }
        return entries
    }

    private static func saveEntries(_ entries: [LedgerEntry], db: Database) throws {
        let upsert = try db.cachedStatement(
            sql: "INSERT OR REPLACE INTO ledgerEntry (map, key, value) VALUES (?, ?, ?)")
        let delete = try db.cachedStatement(sql: "DELETE FROM ledgerEntry WHERE map = ? AND key = ?")
        for entry in entries {
            if let value = entry.value {
                try upsert.execute(arguments: [entry.map, entry.key, value])
            } else {
                try delete.execute(arguments: [entry.map, entry.key])
            }
        }
    }

    private static func addCounts(_ counts: [String: Int], db: Database) throws {
        let statement = try db.cachedStatement(
            sql: """
                INSERT INTO ledgerCount (name, value) VALUES (?, ?) ON CONFLICT DO UPDATE SET value = value + excluded.value
                """)
        for (name, value) in counts where value != 0 { try statement.execute(arguments: [name, value]) }
    }

    private static func saveHead(seq: Int64, hash: String, db: Database) throws {
        try db.execute(
            sql: "INSERT OR REPLACE INTO ledgerHead (id, seq, hash) VALUES (1, ?, ?)", arguments: [seq, hash])
    }
}
