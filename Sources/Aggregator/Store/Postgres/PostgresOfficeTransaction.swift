import Foundation
import PostgresNIO
import Shared

/// The central office's acts in a PostgreSQL transaction (`PostgresStore.withOffice`), the same reads and writes as
/// `SQLiteMergeTransaction`'s, sorted as SQLite sorts (`COLLATE "C"`).
extension PostgresMergeTransaction: OfficeTransaction {
    func heldOutRecords() throws -> [HeldOutRecord] {
        try session.rows(
            """
            SELECT h.venue, h.seq, h.rule, h.message, h.heldAt, d.decision, d.reason, d.decidedBy, s.bySeq, r.payload
            FROM heldOut h JOIN record r ON r.venue = h.venue AND r.seq = h.seq
            LEFT JOIN heldOutDecision d ON d.venue = h.venue AND d.seq = h.seq
            LEFT JOIN supersession s ON s.venue = h.venue AND s.target = h.seq
            ORDER BY h.venue COLLATE "C", h.seq
            """
        ).map {
            HeldOutRecord(
                venue: try $0[0].decode(String.self), seq: try $0[1].decode(Int64.self),
                rule: try $0[2].decode(String.self), message: try $0[3].decode(String.self),
                heldAt: try $0[4].decode(String.self), decision: try $0[5].decode(String?.self),
                reason: try $0[6].decode(String?.self), decidedBy: try $0[7].decode(String?.self),
                supersededBy: try $0[8].decode(Int64?.self), payload: try $0[9].decode(String.self))
        }
    }

    func isHeldOut(venue: String, seq: Int64) throws -> Bool {
        try session.value("SELECT 1 FROM heldOut WHERE venue = \(venue) AND seq = \(seq)", as: Int32.self) != nil
    }

    func heldOutDecision(venue: String, seq: Int64) throws -> (decision: String, by: String, at: String)? {
        try session.rows(
            "SELECT decision, decidedBy, decidedAt FROM heldOutDecision WHERE venue = \(venue) AND seq = \(seq)"
        ).first.map { (try $0[0].decode(String.self), try $0[1].decode(String.self), try $0[2].decode(String.self)) }
    }

    func insertHeldOutDecision(venue: String, seq: Int64, count: Bool, reason: String, by: String, at: String) throws {
        try session.execute(
            """
            INSERT INTO heldOutDecision (venue, seq, decision, reason, decidedBy, decidedAt)
            VALUES (\(venue), \(seq), \(count ? "count" : "exclude"), \(reason), \(by), \(at))
            """)
    }

    func suggestionEvents() throws -> [SuggestionEventRow] {
        try session.rows("SELECT id, venue, seq, action, detail, actor, at FROM suggestionEvent ORDER BY id").map {
            SuggestionEventRow(
                id: try $0[0].decode(Int64.self), venue: try $0[1].decode(String.self),
                seq: try $0[2].decode(Int64.self), action: try $0[3].decode(String.self),
                detail: try $0[4].decode(String.self), actor: try $0[5].decode(String.self),
                at: try $0[6].decode(String.self))
        }
    }

    func formsAndCorrections(_ each: (String, Int64, String) throws -> Void) throws {
        try session.forEachRow(
            """
            SELECT venue, seq, payload FROM record r WHERE kind IN ('form', 'correction')
              AND NOT EXISTS (SELECT 1 FROM heldOutNow h WHERE h.venue = r.venue AND h.seq = r.seq)
            ORDER BY venue COLLATE "C", seq
            """
        ) { row in
            try each(try row[0].decode(String.self), try row[1].decode(Int64.self), try row[2].decode(String.self))
        }
    }

    func appendSuggestionEvent(
        venue: String, seq: Int64, action: String, detail: String, actor: String, at: String
    ) throws {
        try session.execute(
            """
            INSERT INTO suggestionEvent (venue, seq, action, detail, actor, at)
            VALUES (\(venue), \(seq), \(action), \(detail), \(actor), \(at))
            """)
    }

    func outsideTallyInEffect(department: String) throws -> Int64? {
        try session.value(
            """
            SELECT id FROM outsideTally t WHERE department = \(department)
            AND NOT EXISTS (SELECT 1 FROM outsideTally r WHERE r.replaces = t.id)
            """, as: Int64.self)
    }

    /// Ids continue from the largest (inside the office's lock, which every entry takes: no two take the same).
    func insertOutsideTally(
        department: String, entry: String, signature: String, publicKey: String, replaces: Int64?
    ) throws -> Int64 {
        guard
            let id = try session.value(
                """
                INSERT INTO outsideTally (id, department, entry, signature, publicKey, replaces)
                SELECT COALESCE(MAX(id), 0) + 1, \(department), \(entry), \(signature), \(publicKey), \(replaces)
                FROM outsideTally RETURNING id
                """, as: Int64.self)
        else { throw AggregatorError("the entry was not stored") }
        return id
    }

    func phoneBallots(venue: String?, _ each: (String, String, Bool, Bool) throws -> Void) throws {
        var binds = PostgresBindings()
        if let venue { binds.append(venue) }
        let rows = try session.rows(
            PostgresQuery(
                unsafeSQL: """
                    SELECT r.venue, r.payload,
                        EXISTS (SELECT 1 FROM supersession s WHERE s.venue = r.venue AND s.target = r.seq),
                        EXISTS (SELECT 1 FROM heldOutNow h WHERE h.venue = r.venue AND h.seq = r.seq)
                    FROM record r WHERE r.kind = 'ballot' AND r.payload LIKE '%"nonce":"%'
                    """ + (venue == nil ? "" : " AND r.venue = $1"), binds: binds))
        for row in rows {
            try each(
                try row[0].decode(String.self), try row[1].decode(String.self), try row[2].decode(Bool.self),
                try row[3].decode(Bool.self))
        }
    }
}

extension PostgresStore {
    /// Runs `body` in one transaction: writing, under the lock of `venue` (as its merges take it) or else the
    /// office's own lock (the office's acts one after the other, whichever aggregator or command makes them), and
    /// telling every aggregator when it commits; or reading, in one snapshot.
    public func withOffice<T>(writing: Bool, venue: String?, _ body: (Office) throws -> T) throws -> T {
        if writing {
            return try connections.withTransaction(locking: venue.map { "venue " + $0 } ?? "office") { session in
                let result = try body(Office(transaction: PostgresMergeTransaction(session: session)))
                // Every aggregator's dashboards are told when it commits, whoever acted (a command too).
                try Self.notifyChange(session)
                return result
            }
        }
        return try connections.withTransaction(isolation: .snapshot) { session in
            try body(Office(transaction: PostgresMergeTransaction(session: session)))
        }
    }
}
