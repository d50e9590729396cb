import Crypto
import DaemonSupport
import Foundation
import PostgresNIO
import Shared

/// What the report and the dashboard read, on one PostgreSQL session: inside `withReportSnapshot` a single
/// `REPEATABLE READ READ ONLY` transaction, so every read sees the same merges, whichever aggregator made them. The
/// statements say what the SQLite store's do, sorted as SQLite sorts (byte order, `COLLATE "C"`).
struct PostgresReads: ReportReads {
    let session: PostgresSession

    /// Each venue's last record, one index lookup per enrolled venue (records come only from enrolled nodes).
    func chainHeads() throws -> [ChainHead] {
        try session.rows(
            """
            SELECT v.venue, h.seq, h.hash FROM (SELECT DISTINCT venue FROM node) v
            CROSS JOIN LATERAL (SELECT seq, hash FROM record r WHERE r.venue = v.venue ORDER BY seq DESC LIMIT 1) h
            ORDER BY v.venue COLLATE "C"
            """
        ).map {
            ChainHead(
                venue: try $0[0].decode(String.self), seq: try $0[1].decode(Int64.self),
                hash: try $0[2].decode(String.self))
        }
    }

    func alarms() throws -> [Alarm] {
        try session.rows(
            "SELECT id, kind, venue, nodeID, seq, message, evidence, raisedAt FROM alarm ORDER BY id"
        ).map {
            Alarm(
                id: try $0[0].decode(Int64.self), kind: try $0[1].decode(String.self),
                venue: try $0[2].decode(String?.self), nodeID: try $0[3].decode(String?.self),
                seq: try $0[4].decode(Int64?.self), message: try $0[5].decode(String.self),
                evidence: try $0[6].decode(String?.self), raisedAt: try $0[7].decode(String.self))
        }
    }

    /// The running totals, in the same order as the SQLite store's (byte order of the names), zero rows left out.
    func totals(eventID: String) throws -> Totals {
        let tallies = try session.rows(
            """
            SELECT venue, session, department, mark, count FROM tally WHERE count != 0
            ORDER BY venue COLLATE "C", session COLLATE "C", department COLLATE "C", mark COLLATE "C"
            """
        ).map(Self.tally)
        let attendance = try session.rows(
            """
            SELECT venue, session, category, checkedIn FROM attendance WHERE checkedIn != 0
            ORDER BY venue COLLATE "C", session COLLATE "C", category COLLATE "C"
            """
        ).map {
            Totals.Attendance(
                venue: try $0[0].decode(String.self), session: try $0[1].decode(String.self),
                category: try $0[2].decode(String.self), checkedIn: Int(try $0[3].decode(Int64.self)))
        }
        let boxes = try session.rows(
            """
            SELECT venue, session, box, opened, closed, issued, returned, valid, blank, spoiled FROM boxTotal
            WHERE opened != 0 OR closed != 0 OR issued != 0 OR returned != 0 OR valid != 0 OR blank != 0 OR spoiled != 0
            ORDER BY venue COLLATE "C", session COLLATE "C", box COLLATE "C"
            """
        ).map {
            Totals.Box(
                venue: try $0[0].decode(String.self), session: try $0[1].decode(String.self),
                box: try $0[2].decode(String.self), opened: Int(try $0[3].decode(Int64.self)),
                closed: Int(try $0[4].decode(Int64.self)), issued: Int(try $0[5].decode(Int64.self)),
                returned: Int(try $0[6].decode(Int64.self)), valid: Int(try $0[7].decode(Int64.self)),
                blank: Int(try $0[8].decode(Int64.self)), spoiled: Int(try $0[9].decode(Int64.self)))
        }
        return Totals(event: eventID, tallies: tallies, attendance: attendance, boxes: boxes)
    }

    /// The forms other than the ballot, counted (as `AggregatorDatabase.formTotals`).
    func formTotals() throws -> FormTotals {
        let boxes = try session.rows(
            """
            SELECT venue, session, box, form, returned, entered FROM formTotal
            WHERE returned != 0 OR entered != 0
            ORDER BY venue COLLATE "C", session COLLATE "C", box COLLATE "C", form COLLATE "C"
            """
        ).compactMap { row -> FormTotals.Box? in
            guard let form = RecordPayload.FormKind(rawValue: try row[3].decode(String.self)) else { return nil }
            return FormTotals.Box(
                venue: try row[0].decode(String.self), session: try row[1].decode(String.self),
                box: try row[2].decode(String.self), form: form, returned: Int(try row[4].decode(Int64.self)),
                entered: Int(try row[5].decode(Int64.self)))
        }
        let answers = try session.rows(
            """
            SELECT venue, session, form, question, option, count FROM formAnswer WHERE count != 0
            ORDER BY venue COLLATE "C", session COLLATE "C", form COLLATE "C", question COLLATE "C", option COLLATE "C"
            """
        ).compactMap { row -> FormTotals.Answer? in
            guard let form = RecordPayload.FormKind(rawValue: try row[2].decode(String.self)) else { return nil }
            return FormTotals.Answer(
                venue: try row[0].decode(String.self), session: try row[1].decode(String.self), form: form,
                question: try row[3].decode(String.self), option: try row[4].decode(String.self),
                count: Int(try row[5].decode(Int64.self)))
        }
        return FormTotals(boxes: boxes, answers: answers)
    }

    func roster() throws -> [RosterEntry] {
        try session.rows(
            """
            SELECT repID, name, personKey, category, venue, sessions, cardCode, reserve FROM rosterEntry
            WHERE importID = (SELECT MAX(id) FROM rosterImport) ORDER BY venue COLLATE "C", repID COLLATE "C"
            """
        ).map { row in
            RosterEntry(
                repID: try row[0].decode(String.self), name: try row[1].decode(String.self),
                personKey: try row[2].decode(String.self), category: try row[3].decode(String.self),
                venue: try row[4].decode(String.self),
                sessions: try row[5].decode(String.self).split(separator: ";").map(String.init),
                cardCode: try row[6].decode(String?.self), reserve: try row[7].decode(Bool.self))
        }
    }

    /// As `AggregatorDatabase.checkinSummary`: the check-ins in effect read through a cursor and only counted, and the
    /// same person's check-ins for a session found by PostgreSQL sorting them (on disk when they are many).
    func checkinSummary(roster: [RosterEntry]) throws -> CheckinSummary {
        var summary = CheckinSummary(roster: roster)
        let effective = """
            NOT EXISTS (SELECT 1 FROM supersession s WHERE s.venue = r.venue AND s.target = r.seq)
            AND NOT EXISTS (SELECT 1 FROM heldOutNow h WHERE h.venue = r.venue AND h.seq = r.seq)
            """
        try session.forEachRow(
            """
            SELECT * FROM (
                SELECT venue, seq, payload FROM record r WHERE kind = 'checkin' AND \(effective)
                UNION ALL
                SELECT venue, seq, payload FROM record r WHERE kind = 'correction' AND \(effective)
            ) effective ORDER BY venue COLLATE "C", seq
            """
        ) { row in
            let payload = try RecordPayload.decode(json: try row[2].decode(String.self))
            if let checkin = AggregatorDatabase.checkin(in: payload) {
                summary.add(
                    AggregatorDatabase.fact(
                        checkin, venue: try row[0].decode(String.self), seq: try row[1].decode(Int64.self)))
            }
        }
        var sorted: [(venue: String, seq: Int64, session: String, person: String)] = []
        var position = 0
        var exhausted = false
        // The sorted check-ins, a cursor's batch at a time (`next` asks for the following batch when one is used up).
        let query = """
            DECLARE sanmin_checkins NO SCROLL CURSOR FOR
            WITH roster AS (
                SELECT DISTINCT ON (repID) repID, personKey FROM rosterEntry
                WHERE importID = (SELECT MAX(id) FROM rosterImport) ORDER BY repID, venue COLLATE "C"
            ),
            checkin AS (
                SELECT r.venue, r.seq, r.payload::json ->> 'session' AS session,
                       r.payload::json ->> 'person' AS person, r.payload::json ->> 'rep' AS rep
                FROM record r WHERE r.kind = 'checkin' AND \(effective)
                UNION ALL
                SELECT r.venue, r.seq, r.payload::json #>> '{replacement,session}',
                       r.payload::json #>> '{replacement,person}', r.payload::json #>> '{replacement,rep}'
                FROM record r
                WHERE r.kind = 'correction' AND r.payload::json #>> '{replacement,kind}' = 'checkin' AND \(effective)
            )
            SELECT c.venue, c.seq, c.session, COALESCE(c.person, roster.personKey) AS person
            FROM checkin c LEFT JOIN roster ON roster.repID = c.rep
            WHERE COALESCE(c.person, roster.personKey) IS NOT NULL
            ORDER BY c.session COLLATE "C", person COLLATE "C", c.venue COLLATE "C", c.seq
            """
        try session.execute(PostgresQuery(unsafeSQL: query))
        let session = self.session
        try AggregatorDatabase.groupSameSessionAndPerson(
            next: {
                if position == sorted.count {
                    guard !exhausted else { return nil }
                    sorted = try session.rows("FETCH FORWARD 5000 FROM sanmin_checkins").map {
                        (
                            try $0[0].decode(String.self), try $0[1].decode(Int64.self), try $0[2].decode(String.self),
                            try $0[3].decode(String.self)
                        )
                    }
                    position = 0
                    exhausted = sorted.count < 5000
                    if sorted.isEmpty { return nil }
                }
                defer { position += 1 }
                return sorted[position]
            },
            payload: { venue, seq in
                try session.value("SELECT payload FROM record WHERE venue = \(venue) AND seq = \(seq)", as: String.self)
            }, personOf: CheckinSummary.personKeys(roster)
        ) { sessionID, person, group in
            summary.addDuplicates(session: sessionID, person: person, group)
        }
        try session.execute("CLOSE sanmin_checkins")
        return summary
    }

    func correctionFacts() throws -> [CorrectionFact] {
        var facts: [CorrectionFact] = []
        try session.forEachRow(
            "SELECT venue, seq, payload FROM record WHERE kind = 'correction' ORDER BY venue COLLATE \"C\", seq"
        ) { row in
            guard case .correction(let correction) = try RecordPayload.decode(json: try row[2].decode(String.self))
            else { return }
            facts.append(
                CorrectionFact(
                    venue: try row[0].decode(String.self), seq: try row[1].decode(Int64.self),
                    target: correction.target, reason: correction.reason, operatorName: correction.operator,
                    at: correction.at, replaced: correction.replacement != nil))
        }
        return facts
    }

    func nodes() throws -> [EnrolledNode] {
        try session.rows(
            "SELECT id, venue, epoch, publicKey, enrolledAt FROM node ORDER BY venue COLLATE \"C\", epoch"
        ).map(PostgresStore.node)
    }

    /// Each node, in the SQLite store's order, with its venue's head and its own last heartbeat.
    func nodeFacts() throws -> [NodeFact] {
        let contacts = try contacts()
        var revoked: [String: (at: String, reason: String)] = [:]
        for row in try session.rows("SELECT nodeID, revokedAt, reason FROM revocation") {
            revoked[try row[0].decode(String.self)] = (try row[1].decode(String.self), try row[2].decode(String.self))
        }
        var epochs: [String: Int64] = [:]
        for row in try session.rows("SELECT venue, MAX(epoch) FROM node GROUP BY venue") {
            epochs[try row[0].decode(String.self)] = try row[1].decode(Int64.self)
        }
        let heads = Dictionary(uniqueKeysWithValues: try chainHeads().map { ($0.venue, $0) })
        return try nodes().map { node in
            let contact = contacts[node.id]
            let head = heads[node.venue]
            return NodeFact(
                venue: node.venue, node: node.id,
                current: AggregatorDatabase.fencing(
                    node, revoked: revoked[node.id], currentEpoch: epochs[node.venue] ?? 0) == nil,
                heldSeq: head?.seq ?? 0, heldHash: head?.hash ?? RecordChain.genesis,
                declaredSeq: contact?.declaredSeq, declaredHash: contact?.declaredHash,
                lastContact: contact.flatMap { try? Date($0.lastContactAt, strategy: .iso8601) })
        }
    }

    func contacts() throws -> [String: NodeContact] {
        Dictionary(
            uniqueKeysWithValues: try session.rows(
                """
                SELECT nodeID, lastContactAt, declaredSeq, declaredHash, pending, freeDiskBytes, version, nodeClock
                FROM nodeContact
                """
            ).map { row in
                let contact = NodeContact(
                    nodeID: try row[0].decode(String.self), lastContactAt: try row[1].decode(String.self),
                    declaredSeq: try row[2].decode(Int64?.self), declaredHash: try row[3].decode(String?.self),
                    pending: try row[4].decode(Int64?.self), freeDiskBytes: try row[5].decode(Int64?.self),
                    version: try row[6].decode(String?.self), nodeClock: try row[7].decode(String?.self))
                return (contact.nodeID, contact)
            })
    }

    func outsideTallies() throws -> [OutsideTally] {
        let rows = try session.rows("SELECT id, entry, signature, publicKey, replaces FROM outsideTally ORDER BY id")
        var replacedBy: [Int64: Int64] = [:]
        for row in rows {
            if let replaces = try row[4].decode(Int64?.self) { replacedBy[replaces] = try row[0].decode(Int64.self) }
        }
        return try rows.map { row in
            let id = try row[0].decode(Int64.self)
            return try AggregatorDatabase.outsideTally(
                id: id, json: try row[1].decode(String.self), signature: try row[2].decode(String.self),
                publicKey: try row[3].decode(String.self), replacedBy: replacedBy[id])
        }
    }

    /// A row of venue, session, department, mark and count.
    private static func tally(_ row: PostgresRandomAccessRow) throws -> Totals.Tally {
        Totals.Tally(
            venue: try row[0].decode(String.self), session: try row[1].decode(String.self),
            department: try row[2].decode(String.self), mark: try row[3].decode(String.self),
            count: Int(try row[4].decode(Int64.self)))
    }

    func boxTallies(boxes: [String]) throws -> [Totals.Tally] {
        guard !boxes.isEmpty else { return [] }
        return try session.rows(
            """
            SELECT venue, session, department, mark, SUM(count)::bigint FROM boxTally
            WHERE box = ANY(\(boxes)) AND count != 0
            GROUP BY venue, session, department, mark
            ORDER BY venue COLLATE "C", session COLLATE "C", department COLLATE "C", mark COLLATE "C"
            """
        ).map(Self.tally)
    }

    func resultsRelease() throws -> (at: String, by: String)? {
        try session.rows("SELECT releasedAt, releasedBy FROM resultsRelease ORDER BY id LIMIT 1").first.map {
            (try $0[0].decode(String.self), try $0[1].decode(String.self))
        }
    }
}

extension PostgresStore: ReportReads {
    /// Reads on one session, in one snapshot (a cursor needs a transaction; several statements must agree).
    private func reading<T>(_ body: (PostgresReads) throws -> T) throws -> T {
        try connections.withTransaction(isolation: .snapshot) { session in try body(PostgresReads(session: session)) }
    }

    public func withReportSnapshot<T>(_ body: (any ReportReads) throws -> T) throws -> T {
        try reading { reads in try body(reads) }
    }

    public func chainHeads() throws -> [ChainHead] {
        try connections.withSession { session in try PostgresReads(session: session).chainHeads() }
    }

    public func alarms() throws -> [Alarm] { try reading { try $0.alarms() } }
    public func totals(eventID: String) throws -> Totals { try reading { try $0.totals(eventID: eventID) } }
    public func formTotals() throws -> FormTotals { try reading { try $0.formTotals() } }
    public func roster() throws -> [RosterEntry] { try reading { try $0.roster() } }
    public func checkinSummary(roster: [RosterEntry]) throws -> CheckinSummary {
        try reading { try $0.checkinSummary(roster: roster) }
    }
    public func correctionFacts() throws -> [CorrectionFact] { try reading { try $0.correctionFacts() } }
    public func nodeFacts() throws -> [NodeFact] { try reading { try $0.nodeFacts() } }
    public func contacts() throws -> [String: NodeContact] { try reading { try $0.contacts() } }
    public func outsideTallies() throws -> [OutsideTally] { try reading { try $0.outsideTallies() } }
    public func boxTallies(boxes: [String]) throws -> [Totals.Tally] { try reading { try $0.boxTallies(boxes: boxes) } }
    public func resultsRelease() throws -> (at: String, by: String)? { try reading { try $0.resultsRelease() } }

    /// What the report is computed from, in one string (as `AggregatorDatabase.reportKey`): read from the database
    /// every aggregator shares, so a merge through another aggregator changes it too. Rows counted rather than their
    /// largest id: ids are handed out when rows are inserted, not in the order their transactions commit.
    public func reportKey(event: LoadedEvent) throws -> String {
        try reading { reads in
            let heads = try reads.chainHeads().map { "\($0.venue) \($0.seq) \($0.hash)" }
            let row = try reads.session.rows(
                """
                SELECT concat_ws(' ', (SELECT COUNT(*) FROM alarm), (SELECT COUNT(*) FROM heldOutDecision),
                       (SELECT COUNT(*) FROM node), (SELECT COUNT(*) FROM revocation),
                       (SELECT MAX(id) FROM rosterImport), (SELECT COUNT(*) FROM eventVersion),
                       (SELECT COUNT(*) FROM resultsRelease), (SELECT COUNT(*) FROM outsideTally)),
                       (SELECT string_agg(nodeID || ' ' || lastContactAt || ' ' || coalesce(declaredSeq::text, '') || ' '
                                          || coalesce(declaredHash, ''), ';' ORDER BY nodeID) FROM nodeContact)
                """
            ).first
            let tables = try row.map { [try $0[0].decode(String?.self) ?? "", try $0[1].decode(String?.self) ?? ""] }
            return ([event.digest] + heads + (tables ?? [])).joined(separator: "\n")
        }
    }

    /// Imports the central roster (as `AggregatorDatabase.importRoster`), whole or not at all.
    public func importRoster(_ entries: [RosterEntry], file: String, digest: String) throws {
        try connections.withTransaction(locking: "roster") { session in
            guard
                let importID = try session.value(
                    """
                    INSERT INTO rosterImport (importedAt, file, digest, entries)
                    VALUES (\(AggregatorDatabase.timestamp()), \(file), \(digest), \(Int64(entries.count))) RETURNING id
                    """, as: Int64.self)
            else { throw AggregatorError("the roster import was not recorded") }
            // A thousand rows a statement.
            var start = 0
            while start < entries.count {
                let part = entries[start..<min(start + 1_000, entries.count)]
                start += part.count
                try session.execute(
                    """
                    INSERT INTO rosterEntry (importID, repID, name, personKey, category, venue, sessions, cardCode, reserve)
                    SELECT \(importID), rep, name, person, category, venue, sessions, NULLIF(card, ''), reserve
                    FROM unnest(\(part.map(\.repID)), \(part.map(\.name)), \(part.map(\.personKey)),
                        \(part.map(\.category)), \(part.map(\.venue)), \(part.map { $0.sessions.joined(separator: ";") }),
                        \(part.map { $0.cardCode ?? "" }), \(part.map(\.reserve)))
                        AS u(rep, name, person, category, venue, sessions, card, reserve)
                    """)
            }
            try Self.notifyChange(session)
        }
    }

    /// Releases the results of a confidential event (once: a second release is not recorded again).
    public func releaseResults(by name: String) throws {
        try connections.withTransaction(locking: "results release") { session in
            guard try PostgresReads(session: session).resultsRelease() == nil else { return }
            try session.execute(
                "INSERT INTO resultsRelease (releasedAt, releasedBy) VALUES (\(AggregatorDatabase.timestamp()), \(name))"
            )
            try Self.notifyChange(session)
        }
    }
}
