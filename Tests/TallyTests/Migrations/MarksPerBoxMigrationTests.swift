import Foundation
import GRDB
import Shared
import Testing

@testable import Aggregator

/// Aggregator migration "v3: marks per box" fills `boxTally` from the records merged before it, in SQL (JSON
/// functions). Before it was frozen it did so with application code (`RecordPayload.decode`, `contribution`):
/// on the release-1 aggregator (schema v1), with and without more corrections, both give the same rows.
@Suite struct MarksPerBoxMigrationTests {
    static let beforeV3 = "v2: roster and node contact"
    static let v3 = "v3: marks per box"

    /// A copy of the release-1 aggregator database, migrated up to just before v3.
    func releaseOne() throws -> (DatabaseQueue, URL) {
        let directory = try Fixtures.temporaryDirectory("sanmin-v3")
        let path = directory.appending(path: "aggregator.sqlite")
        try FileManager.default.copyItem(at: Fixtures.release(1).appending(path: "agg/aggregator.sqlite"), to: path)
        let database = try DatabaseQueue(path: path.path)
        #expect(
            try database.read { db in try String.fetchAll(db, sql: "SELECT identifier FROM grdb_migrations") }
                == ["v1: nodes, batches, records, totals, alarms"])
        try AggregatorDatabase.migrator.migrate(database, upTo: Self.beforeV3)
        return (database, directory)
    }

    /// What the application code gives for the records in effect: each ballot not superseded, and the ballot
    /// that replaces one in each correction not superseded, counted per venue, session, box, department, mark.
    static func marksPerBoxByApplicationCode(_ db: Database) throws -> [String: Int] {
        var counts: [String: Int] = [:]
        let rows = try Row.fetchAll(
            db,
            sql: """
                SELECT venue, payload FROM record r
                WHERE kind IN ('ballot', 'correction')
                  AND NOT EXISTS (SELECT 1 FROM supersession s WHERE s.venue = r.venue AND s.target = r.seq)
                """)
        for row in rows {
            var payload = try RecordPayload.decode(json: row["payload"])
            if case .correction(let correction) = payload {
                guard let replacement = correction.replacement else { continue }
                payload = replacement
            }
            guard case .ballot = payload else { continue }
            for (counter, value) in payload.contribution {
                if case .boxMark(let session, let box, let department, let mark) = counter {
                    counts["\(row["venue"] as String)|\(session)|\(box)|\(department)|\(mark)", default: 0] += value
                }
            }
        }
        return counts
    }

    static func boxTally(_ db: Database) throws -> [String: Int] {
        var counts: [String: Int] = [:]
        for row in try Row.fetchAll(db, sql: "SELECT * FROM boxTally") {
            let key = [row["venue"], row["session"], row["box"], row["department"], row["mark"]] as [String]
            #expect(counts[key.joined(separator: "|")] == nil)
            counts[key.joined(separator: "|")] = row["count"]
        }
        return counts
    }

    @Test func theReleaseOneBallotsGiveTheSameMarksPerBoxAsTheApplicationCode() throws {
        let (database, directory) = try releaseOne()
        defer { try? FileManager.default.removeItem(at: directory) }
        let expected = try database.read { db in try Self.marksPerBoxByApplicationCode(db) }
        try AggregatorDatabase.migrator.migrate(database, upTo: Self.v3)
        let migrated = try database.read { db in try Self.boxTally(db) }
        #expect(migrated == expected)
        // 36 valid ballots of 12 departments in box B1, 3 marks each 12 times: the same sum as the tallies.
        #expect(migrated.count == 36)
        #expect(Set(migrated.values) == [12])
        #expect(try database.read { db in try Int.fetchOne(db, sql: "SELECT SUM(count) FROM tally") } == 36 * 12)
    }

    @Test func correctionsCountTheirReplacementBallotAndSupersededRecordsCountNothing() throws {
        let (database, directory) = try releaseOne()
        defer { try? FileManager.default.removeItem(at: directory) }
        func ballot(_ mark: String, box: String = "B1", departments: Int = 12) -> RecordPayload {
            .ballot(
                .init(
                    session: "S1", box: box, status: .valid,
                    marks: Dictionary(
                        uniqueKeysWithValues: (1...departments).map { (String(format: "D%02d", $0), mark) })))
        }
        func correction(_ target: Int64, _ replacement: RecordPayload?) -> RecordPayload {
            .correction(
                .init(
                    target: target, reason: "test", operator: "王芳", replacement: replacement,
                    at: "2026-11-24T08:00:00Z"))
        }
        // Records 1–82 of venue tumed are in the fixture (ballots 42–81); these follow them, as if merged then.
        let more: [(seq: Int64, payload: RecordPayload, supersedes: Int64?)] = [
            (83, correction(44, ballot("dissatisfied")), 44),  // a ballot replaced
            (84, correction(83, ballot("satisfied")), 83),  // the correction corrected: only 84 counts
            (85, correction(45, nil), 45),  // a ballot voided
            (86, correction(1, .checkin(.init(session: "S1", rep: "R1", category: "npc_deputy"))), 1),
            (87, ballot("basically_satisfied", box: "B2", departments: 3), nil),
            (88, .ballot(.init(session: "S1", box: "B2", status: .spoiled)), nil),
            (89, correction(46, .ballot(.init(session: "S1", box: "B1", status: .blank))), 46),
            (90, correction(47, ballot("satisfied", box: "B2")), 47),
        ]
        try database.write { db in
            let row = try #require(try Row.fetchOne(db, sql: "SELECT nodeID, batchID FROM record LIMIT 1"))
            for record in more {
                let kind =
                    try Row.fetchOne(
                        db, sql: "SELECT json_extract(?, '$.kind') AS kind",
                        arguments: [record.payload.canonicalJSON()])?["kind"] as String?
                try db.execute(
                    sql: """
                        INSERT INTO record (venue, seq, prev, hash, kind, payload, nodeID, batchID)
                        VALUES ('tumed', ?, 'test', 'test', ?, ?, ?, ?)
                        """,
                    arguments: [record.seq, kind, record.payload.canonicalJSON(), row["nodeID"], row["batchID"]])
                if let target = record.supersedes {
                    try db.execute(
                        sql: "INSERT INTO supersession (venue, target, bySeq) VALUES ('tumed', ?, ?)",
                        arguments: [target, record.seq])
                }
            }
        }
        let expected = try database.read { db in try Self.marksPerBoxByApplicationCode(db) }
        try AggregatorDatabase.migrator.migrate(database, upTo: Self.v3)
        let migrated = try database.read { db in try Self.boxTally(db) }
        #expect(migrated == expected)
        // The corrections did change the counts: 36 ballots of box B1 less 4 corrected, one replacement in it.
        let total: Int = migrated.values.reduce(0, +)
        let ballotsInB1 = 36 - 4 + 1
        #expect(total == ballotsInB1 * 12 + 3 + 12)
        #expect(migrated["tumed|S1|B2|D01|basically_satisfied"] == 1)
        #expect(migrated["tumed|S1|B2|D12|satisfied"] == 1)
        #expect(migrated["tumed|S1|B2|D04|basically_satisfied"] == nil)
    }
}
