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

    func recordHashes(venue: String, seqs: ClosedRange<Int64>) throws -> [Int64: String] {
        var hashes: [Int64: String] = [:]
        for row in try session.rows(
            """
            SELECT seq, hash FROM record WHERE venue = \(venue) AND seq BETWEEN \(seqs.lowerBound) AND \(seqs.upperBound)
            """)
        {
            hashes[try row[0].decode(Int64.self)] = try row[1].decode(String.self)
        }
        return hashes
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
            VALUES (\(alarm.kind), \(alarm.venue), \(alarm.nodeID), \(alarm.seq), \(alarm.message.withoutNUL),
                    \(alarm.evidence?.withoutNUL), \(alarm.raisedAt))
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

    func insertRecords(
        venue: String, _ records: [(record: ChainedRecord, kind: String)], node: String, batch: Int64
    ) throws {
        // One statement for the whole batch: its rows as arrays, unnested (a statement a row was a round trip each).
        try session.execute(
            """
            INSERT INTO record (venue, seq, prev, hash, kind, payload, nodeID, batchID)
            SELECT \(venue), seq, prev, hash, kind, payload, \(node), \(batch)
            FROM unnest(\(records.map(\.record.seq)), \(records.map(\.record.prev)), \(records.map(\.record.hash)),
                        \(records.map(\.kind)), \(records.map(\.record.payload))) AS r(seq, prev, hash, kind, payload)
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

    func add(_ values: [Counter: Int], venue: String) throws {
        // One statement per table and column counted: the rows' keys and values as arrays, unnested.
        var groups: [String: (upsert: CounterUpsert.Shape, keys: [[String]], values: [Int64])] = [:]
        for (counter, value) in values where value != 0 {
            let shape = CounterUpsert.shape(of: counter)
            groups[shape.table + "." + shape.column, default: (shape, [], [])].keys.append(shape.keys)
            groups[shape.table + "." + shape.column]!.values.append(Int64(value))
        }
        for (_, group) in groups.sorted(by: { $0.key < $1.key }) {
            let shape = group.upsert
            let columns = ["venue"] + shape.columns
            var binds = PostgresBindings(capacity: shape.columns.count + 2)
            binds.append(venue)
            for index in shape.columns.indices { binds.append(group.keys.map { $0[index] }) }
            binds.append(group.values)
            let arrays =
                (0..<shape.columns.count).map { "$\($0 + 2)::text[]" } + ["$\(shape.columns.count + 2)::bigint[]"]
            // Table and column names are fixed in `CounterUpsert`, never input.
            let sql = """
                INSERT INTO \(shape.table) (\(columns.joined(separator: ", ")), \(shape.column))
                SELECT $1, * FROM unnest(\(arrays.joined(separator: ", ")))
                ON CONFLICT (\(columns.joined(separator: ", "))) DO UPDATE
                SET \(shape.column) = \(shape.table).\(shape.column) + excluded.\(shape.column)
                """
            try session.execute(PostgresQuery(unsafeSQL: sql, binds: binds))
        }
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

    func ledgerEntries(venue: String, keys: [(map: String, key: String)]) throws -> [LedgerEntry] {
        guard !keys.isEmpty else { return [] }
        return try session.rows(
            """
            SELECT DISTINCT e.map, e.key, e.value FROM ledgerEntry e
            JOIN unnest(\(keys.map(\.map)), \(keys.map(\.key))) AS k(map, key) ON e.map = k.map AND e.key = k.key
            WHERE e.venue = \(venue)
            """
        ).map {
            LedgerEntry(
                map: try $0[0].decode(String.self), key: try $0[1].decode(String.self),
                value: try $0[2].decode(String.self))
        }
    }

    func deleteLedger(venue: String) throws {
        try session.execute("DELETE FROM ledgerEntry WHERE venue = \(venue)")
    }

    func setLedgerEntries(venue: String, _ entries: [LedgerEntry]) throws {
        // The last word on a key counts (a multi-row upsert may not touch a row twice).
        var last: [String: LedgerEntry] = [:]
        var order: [String] = []
        for entry in entries {
            let id = entry.map + "\u{1F}" + entry.key
            if last.updateValue(entry, forKey: id) == nil { order.append(id) }
        }
        let kept = order.compactMap { last[$0] }.filter { $0.value != nil }
        let removed = order.compactMap { last[$0] }.filter { $0.value == nil }
        if !kept.isEmpty {
            try session.execute(
                """
                INSERT INTO ledgerEntry (venue, map, key, value)
                SELECT \(venue), * FROM unnest(\(kept.map(\.map)), \(kept.map(\.key)), \(kept.map { $0.value ?? "" }))
                ON CONFLICT (venue, map, key) DO UPDATE SET value = excluded.value
                """)
        }
        if !removed.isEmpty {
            try session.execute(
                """
                DELETE FROM ledgerEntry e USING unnest(\(removed.map(\.map)), \(removed.map(\.key))) AS k(map, key)
                WHERE e.venue = \(venue) AND e.map = k.map AND e.key = k.key
                """)
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

extension String {
    /// PostgreSQL's text holds no NUL character (SQLite's does): one quoted from a node's input into an alarm or a
    /// heartbeat is kept as U+FFFD rather than failing the statement.
    var withoutNUL: String { contains("\u{0}") ? replacingOccurrences(of: "\u{0}", with: "\u{FFFD}") : self }
}
