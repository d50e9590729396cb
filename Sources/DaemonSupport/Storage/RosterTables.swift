import Foundation
import GRDB
import Shared

/// The roster tables, the same in the node's and the aggregator's databases (each database's "v2: roster"
/// migration creates them). Each import is kept;
/// the latest import is the roster in force.
public enum RosterTables {
    public static func save(_ entries: [RosterEntry], file: String, digest: String, db: Database) throws -> Int64 {
        try db.execute(
            sql: "INSERT INTO rosterImport (importedAt, file, digest, entries) VALUES (?, ?, ?, ?)",
            arguments: [Date().formatted(.iso8601), file, digest, entries.count])
        let importID = db.lastInsertedRowID
        for entry in entries {
            try db.execute(
                sql: """
                    INSERT INTO rosterEntry (importID, repID, name, personKey, category, venue, sessions, cardCode, reserve)
                    VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)
                    """,
                arguments: [
                    importID, entry.repID, entry.name, entry.personKey, entry.category, entry.venue,
                    entry.sessions.joined(separator: ";"), entry.cardCode, entry.reserve,
                ])
        }
        return importID
    }

    /// The roster in force (empty when none was imported).
    public static func current(_ db: Database) throws -> [RosterEntry] {
        try Row.fetchAll(
            db,
            sql: """
                SELECT * FROM rosterEntry WHERE importID = (SELECT MAX(id) FROM rosterImport) ORDER BY venue, repID
                """
        ).map { row in
            RosterEntry(
                repID: row["repID"], name: row["name"], personKey: row["personKey"], category: row["category"],
                venue: row["venue"], sessions: (row["sessions"] as String).split(separator: ";").map(String.init),
                cardCode: row["cardCode"], reserve: row["reserve"])
        }
    }
}

extension Array where Element == RosterEntry {
    /// The roster as a venue's check-in desk needs it: no ID-card numbers, person keys instead.
    public func venueCSV() -> String {
        var lines = [
            CSVWriter.line(["rep_id", "name", "person_key", "category", "venue", "sessions", "card_code", "reserve"])
        ]
        for entry in self {
            lines.append(
                CSVWriter.line([
                    entry.repID, entry.name, entry.personKey, entry.category, entry.venue,
                    entry.sessions.joined(separator: ";"), entry.cardCode ?? "", entry.reserve ? "yes" : "",
                ]))
        }
        return lines.joined(separator: "\n") + "\n"
    }
}
