import Foundation
import PostgresNIO
import Shared

/// The merge's reads and writes in a PostgreSQL transaction that holds the venue's lock (`PostgresStore.merge`).
struct PostgresMergeTransaction: MergeTransaction {
    let session: PostgresSession

    func isRevoked(node: String) throws -> Bool {
        try session.value("SELECT 1 FROM revocation WHERE nodeID = \(node)", as: Int32.self) != nil
    }

    func currentEpoch(venue: String) throws -> Int64 {
        try session.value("SELECT MAX(epoch) FROM node WHERE venue = \(venue)", as: Int64.self) ?? 0
    }

    func head(venue: String) throws -> (seq: Int64, hash: String) {
        guard
            let row = try session.rows("SELECT seq, hash FROM record WHERE venue = \(venue) ORDER BY seq DESC LIMIT 1")
                .first
        else { return (0, RecordChain.genesis) }
        return (try row[0].decode(Int64.self), try row[1].decode(String.self))
    }

    func recordHash(venue: String, seq: Int64) throws -> String? {
        try session.value("SELECT hash FROM record WHERE venue = \(venue) AND seq = \(seq)")
    }

    func recordPayload(venue: String, seq: Int64) throws -> String? {
        try session.value("SELECT payload FROM record WHERE venue = \(venue) AND seq = \(seq)")
    }

    func forEachRecord(venue: String, _ body: (Int64, String, String) throws -> Void) throws {
        // In pages, so that a long chain is never held whole.
        var after: Int64 = 0
        while true {
            let rows = try session.rows(
                "SELECT seq, hash, payload FROM record WHERE venue = \(venue) AND seq > \(after) ORDER BY seq LIMIT 5000"
            )
            for row in rows {
                after = try row[0].decode(Int64.self)
                try body(after, try row[1].decode(String.self), try row[2].decode(String.self))
            }
            if rows.count < 5000 { return }
        }
    }

    func insert(alarm: Alarm) throws {
        try session.execute(
            """
            INSERT INTO alarm (kind, venue, nodeID, seq, message, evidence, raisedAt)
            VALUES (\(alarm.kind), \(alarm.venue), \(alarm.nodeID), \(alarm.seq), \(alarm.message), \(alarm.evidence),
                    \(alarm.raisedAt))
            """)
    }

    func hasAlarm(kind: String, node: String, seq: Int64, message: String) throws -> Bool {
        try session.value(
            "SELECT 1 FROM alarm WHERE kind = \(kind) AND nodeID = \(node) AND seq = \(seq) AND message = \(message)",
            as: Int32.self) != nil
    }

    func insert(batch: StoredBatch) throws -> Int64 {
        guard
            let id = try session.value(
                """
                INSERT INTO batch (venue, nodeID, firstSeq, lastSeq, contentDigest, signatureInput, signature, body,
                                   receivedAt)
                VALUES (\(batch.venue), \(batch.nodeID), \(batch.firstSeq), \(batch.lastSeq), \(batch.contentDigest),
                        \(batch.signatureInput), \(batch.signature), \(batch.body), \(batch.receivedAt))
                RETURNING id
                """, as: Int64.self)
        else { throw AggregatorError("PostgreSQL gave the stored batch no id") }
        return id
    }

    func insertRecord(venue: String, record: ChainedRecord, kind: String, node: String, batch: Int64) throws {
        try session.execute(
            """
            INSERT INTO record (venue, seq, prev, hash, kind, payload, nodeID, batchID)
            VALUES (\(venue), \(record.seq), \(record.prev), \(record.hash), \(kind), \(record.payload), \(node), \(batch))
            """)
    }

    func insertSupersession(venue: String, target: Int64, by seq: Int64) throws {
        try session.execute("INSERT INTO supersession (venue, target, bySeq) VALUES (\(venue), \(target), \(seq))")
    }

    func insertHeldOut(venue: String, seq: Int64, rule: String, message: String, at: String) throws {
        try session.execute(
            """
            INSERT INTO heldOut (venue, seq, rule, message, heldAt) VALUES (\(venue), \(seq), \(rule), \(message), \(at))
            """)
    }

    func add(_ value: Int, to counter: Counter, venue: String) throws {
        let upsert = CounterUpsert(counter, value: value, venue: venue, placeholder: { "$\($0)" }, qualified: true)
        var binds = PostgresBindings(capacity: upsert.keys.count + 1)
        for key in upsert.keys { binds.append(key) }
        binds.append(Int64(upsert.value))
        try session.execute(PostgresQuery(unsafeSQL: upsert.sql, binds: binds))
    }

    func noteContact(node: String, at: String) throws {
        try session.execute(
            """
            INSERT INTO nodeContact (nodeID, lastContactAt) VALUES (\(node), \(at))
            ON CONFLICT (nodeID) DO UPDATE SET lastContactAt = excluded.lastContactAt
            """)
    }

    func heldOutDecisions(venue: String) throws -> Int {
        Int(try session.value("SELECT COUNT(*) FROM heldOutDecision WHERE venue = \(venue)", as: Int64.self) ?? 0)
    }

    func heldOutNow(venue: String) throws -> [Int64] {
        try session.column("SELECT seq FROM heldOutNow WHERE venue = \(venue)")
    }

    func ledgerHead(venue: String) throws -> (seq: Int64, hash: String, decisions: Int)? {
        guard let row = try session.rows("SELECT seq, hash, decisions FROM ledgerHead WHERE venue = \(venue)").first
        else { return nil }
        return (try row[0].decode(Int64.self), try row[1].decode(String.self), Int(try row[2].decode(Int64.self)))
    }

    func ledgerValue(venue: String, map: String, key: String) throws -> String? {
        try session.value("SELECT value FROM ledgerEntry WHERE venue = \(venue) AND map = \(map) AND key = \(key)")
    }

    func deleteLedger(venue: String) throws {
        try session.execute("DELETE FROM ledgerEntry WHERE venue = \(venue)")
    }

    func setLedgerValue(venue: String, map: String, key: String, value: String?) throws {
        if let value {
            try session.execute(
                """
                INSERT INTO ledgerEntry (venue, map, key, value) VALUES (\(venue), \(map), \(key), \(value))
                ON CONFLICT (venue, map, key) DO UPDATE SET value = excluded.value
                """)
        } else {
            try session.execute("DELETE FROM ledgerEntry WHERE venue = \(venue) AND map = \(map) AND key = \(key)")
        }
    }

    func setLedgerHead(venue: String, seq: Int64, hash: String, decisions: Int) throws {
        try session.execute(
            """
            INSERT INTO ledgerHead (venue, seq, hash, decisions) VALUES (\(venue), \(seq), \(hash), \(Int64(decisions)))
            ON CONFLICT (venue) DO UPDATE SET seq = excluded.seq, hash = excluded.hash, decisions = excluded.decisions
            """)
    }
}
