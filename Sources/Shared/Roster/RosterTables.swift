import Foundation
import GRDB

/// The roster tables, the same in the node's and the aggregator's databases. Each import is kept;
/// the latest import is the roster in force.
public enum RosterTables {
    /// Creates the tables (called by each database's "v2: roster" migration; never edit).
    public static func create(_ db: Database) throws {
        try db.execute(sql: """
            CREATE TABLE rosterImport (
                id INTEGER PRIMARY KEY AUTOINCREMENT,
                importedAt TEXT NOT NULL,
                file TEXT NOT NULL,
                digest TEXT NOT NULL,
                entries INTEGER NOT NULL
            );
            CREATE TABLE rosterEntry (
                importID INTEGER NOT NULL REFERENCES rosterImport(id),
                repID TEXT NOT NULL,
                name TEXT NOT NULL,
                personKey TEXT NOT NULL,
                category TEXT NOT NULL,
                venue TEXT NOT NULL,
                sessions TEXT NOT NULL,
                cardCode TEXT,
                PRIMARY KEY (importID, repID)
            );
            CREATE INDEX rosterEntry_person ON rosterEntry(importID, personKey);
            CREATE INDEX rosterEntry_card ON rosterEntry(importID, cardCode);
            """)
        for table in ["rosterImport", "rosterEntry"] {
            try db.execute(sql: """
                CREATE TRIGGER \(table)_is_append_only_update BEFORE UPDATE ON \(table)
                BEGIN SELECT RAISE(ABORT, '\(table) is append-only: import a new roster instead'); END;
                CREATE TRIGGER \(table)_is_append_only_delete BEFORE DELETE ON \(table)
                BEGIN SELECT RAISE(ABORT, '\(table) is append-only: import a new roster instead'); END;
                """)
        }
    }

    /// Stores `entries` as the roster in force. Returns the import's id.
    @discardableResult
    public static func save(_ entries: [RosterEntry], file: String, digest: String, db: Database) throws -> Int64 {
        try db.execute(sql: "INSERT INTO rosterImport (importedAt, file, digest, entries) VALUES (?, ?, ?, ?)",
                       arguments: [Date().formatted(.iso8601), file, digest, entries.count])
        let importID = db.lastInsertedRowID
        for entry in entries {
            try db.execute(sql: """
                INSERT INTO rosterEntry (importID, repID, name, personKey, category, venue, sessions, cardCode)
                VALUES (?, ?, ?, ?, ?, ?, ?, ?)
                """, arguments: [importID, entry.repID, entry.name, entry.personKey, entry.category, entry.venue,
                                 entry.sessions.joined(separator: ";"), entry.cardCode])
        }
        return importID
    }

    /// The roster in force (empty when none was imported).
    public static func current(_ db: Database) throws -> [RosterEntry] {
        try Row.fetchAll(db, sql: """
            SELECT * FROM rosterEntry WHERE importID = (SELECT MAX(id) FROM rosterImport) ORDER BY venue, repID
            """).map { row in
            RosterEntry(repID: row["repID"], name: row["name"], personKey: row["personKey"], category: row["category"],
                        venue: row["venue"], sessions: (row["sessions"] as String).split(separator: ";").map(String.init),
                        cardCode: row["cardCode"])
        }
    }
}

extension Array where Element == RosterEntry {
    /// The roster as a venue's check-in desk needs it: no ID-card numbers, person keys instead.
    public func venueCSV() -> String {
        var lines = [CSVWriter.line(["rep_id", "name", "person_key", "category", "venue", "sessions", "card_code"])]
        for entry in self {
            lines.append(CSVWriter.line([entry.repID, entry.name, entry.personKey, entry.category, entry.venue,
                                         entry.sessions.joined(separator: ";"), entry.cardCode ?? ""]))
        }
        return lines.joined(separator: "\n") + "\n"
    }
}
