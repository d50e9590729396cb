import DaemonSupport
import Foundation
import GRDB
import Shared

extension AggregatorDatabase {
    /// What reconciliation needs from the check-ins in effect (not corrected away; replacements included), against
    /// `roster` (the roster in force, as reconciliation is given it). Nothing grows with the check-ins but what the
    /// report lists: the check-ins are read row by row and only counted, and the same person's check-ins for a session
    /// are found by SQLite sorting them by session and person (on disk when they are many), not in memory.
    public func checkinSummary(roster: [RosterEntry]) throws -> CheckinSummary {
        var summary = CheckinSummary(roster: roster)
        try effectivePayloads(kinds: [.checkin, .correction]) { venue, seq, payload in
            if let checkin = Self.checkin(in: payload) { summary.add(Self.fact(checkin, venue: venue, seq: seq)) }
        }
        try sameSessionAndPerson(personOf: CheckinSummary.personKeys(roster)) { session, person, group in
            summary.addDuplicates(session: session, person: person, group)
        }
        return summary
    }

    /// The check-in a payload puts in effect: its own, or a correction's replacement.
    static func checkin(in payload: RecordPayload) -> RecordPayload.Checkin? {
        switch payload {
        case .checkin(let checkin): checkin
        case .correction(let correction):
            if case .checkin(let checkin)? = correction.replacement { checkin } else { nil }
        default: nil
        }
    }

    static func fact(_ checkin: RecordPayload.Checkin, venue: String, seq: Int64) -> CheckinFact {
        CheckinFact(
            venue: venue, seq: seq, session: checkin.session, rep: checkin.rep, category: checkin.category,
            person: checkin.person, walkin: checkin.walkin ?? false)
    }

    /// Each session and person with more than one check-in in effect, with those check-ins (in venue and record
    /// order). The person is the check-in's own key, else its representative's on the roster in force (the first
    /// venue's, when listed twice). SQLite sorts the check-ins by session and person and only the current group is
    /// held; each check-in of a group is read again and must say what the sort said (a payload is stored in canonical
    /// form, so `json_extract` reads it as the decoder does).
    private func sameSessionAndPerson(
        personOf: [String: String], _ each: (String, String, [CheckinFact]) throws -> Void
    ) throws {
        try reading { db in
            let effective = """
                NOT EXISTS (SELECT 1 FROM supersession s WHERE s.venue = r.venue AND s.target = r.seq)
                AND NOT EXISTS (SELECT 1 FROM heldOutNow h WHERE h.venue = r.venue AND h.seq = r.seq)
                """
            let rows = try Row.fetchCursor(
                db,
                sql: """
                    WITH roster AS (
                        SELECT repID, personKey, MIN(venue) FROM rosterEntry
                        WHERE importID = (SELECT MAX(id) FROM rosterImport) GROUP BY repID
                    ),
                    checkin AS (
                        SELECT r.venue, r.seq, json_extract(r.payload, '$.session') AS session,
                               json_extract(r.payload, '$.person') AS person, json_extract(r.payload, '$.rep') AS rep
                        FROM record r WHERE r.kind = 'checkin' AND \(effective)
                        UNION ALL
                        SELECT r.venue, r.seq, json_extract(r.payload, '$.replacement.session'),
                               json_extract(r.payload, '$.replacement.person'), json_extract(r.payload, '$.replacement.rep')
                        FROM record r
                        WHERE r.kind = 'correction' AND json_extract(r.payload, '$.replacement.kind') = 'checkin'
                          AND \(effective)
                    )
                    SELECT c.venue, c.seq, c.session, COALESCE(c.person, roster.personKey) AS person
                    FROM checkin c LEFT JOIN roster ON roster.repID = c.rep
                    WHERE COALESCE(c.person, roster.personKey) IS NOT NULL
                    ORDER BY c.session, person, c.venue, c.seq
                    """)
            try Self.groupSameSessionAndPerson(
                next: {
                    guard let row = try rows.next() else { return nil }
                    return (row["venue"], row["seq"], row["session"], row["person"])
                },
                payload: { venue, seq in
                    try String.fetchOne(
                        db.cachedStatement(sql: "SELECT payload FROM record WHERE venue = ? AND seq = ?"),
                        arguments: [venue, seq])
                }, personOf: personOf, each)
        }
    }

    /// Groups check-ins sorted by session and person (`next`, nil at the end), and calls `each` for each group of more
    /// than one, each member read again (`payload`) and checked to say what the sort said. Both stores' sorts end here.
    static func groupSameSessionAndPerson(
        next: () throws -> (venue: String, seq: Int64, session: String, person: String)?,
        payload: (String, Int64) throws -> String?, personOf: [String: String],
        _ each: (String, String, [CheckinFact]) throws -> Void
    ) throws {
        var group: [(venue: String, seq: Int64)] = []
        var current: (session: String, person: String)?
        func flush() throws {
            defer { group = [] }
            guard let current, group.count > 1 else { return }
            let facts = try group.map { member in
                guard let json = try payload(member.venue, member.seq),
                    let checkin = Self.checkin(in: try RecordPayload.decode(json: json)),
                    checkin.session == current.session, (checkin.person ?? personOf[checkin.rep]) == current.person
                else {
                    throw AggregatorError(
                        "record \(member.seq) of venue \(member.venue) does not read as the check-in it was sorted as")
                }
                return Self.fact(checkin, venue: member.venue, seq: member.seq)
            }
            try each(current.session, current.person, facts)
        }
        while let row = try next() {
            if let current, current == (row.session, row.person) {
                group.append((row.venue, row.seq))
                continue
            }
            try flush()
            current = (row.session, row.person)
            group = [(row.venue, row.seq)]
        }
        try flush()
    }

    /// Every correction record, with who, when and why.
    public func correctionFacts() throws -> [CorrectionFact] {
        try reading { db in
            try Row.fetchAll(
                db, sql: "SELECT venue, seq, payload FROM record WHERE kind = 'correction' ORDER BY venue, seq")
        }.compactMap { row in
            guard case .correction(let correction) = try RecordPayload.decode(json: row["payload"]) else { return nil }
            return CorrectionFact(
                venue: row["venue"], seq: row["seq"], target: correction.target, reason: correction.reason,
                operatorName: correction.operator, at: correction.at,
                replaced: correction.replacement != nil)
        }
    }

    /// Each node with the head the aggregator holds of its venue and what it last declared.
    public func nodeFacts() throws -> [NodeFact] {
        let contacts = try contacts()
        return try nodes().map { node in
            let cursor = try cursor(node: node)
            let contact = contacts[node.id]
            return NodeFact(
                venue: node.venue, node: node.id, current: try fence(node) == nil, heldSeq: cursor.seq,
                heldHash: cursor.hash, declaredSeq: contact?.declaredSeq, declaredHash: contact?.declaredHash,
                lastContact: contact.flatMap { try? Date($0.lastContactAt, strategy: .iso8601) })
        }
    }

    /// The roster in force.
    public func roster() throws -> [RosterEntry] {
        try reading { db in try RosterTables.current(db) }
    }

    /// Imports the central roster (ID-card numbers already turned into person keys), whole or not at all.
    public func importRoster(_ entries: [RosterEntry], file: String, digest: String) throws {
        try writer.write { db in _ = try RosterTables.save(entries, file: file, digest: digest, db: db) }
    }

    /// Marks given from the listed boxes, as tallies (for results per category).
    public func boxTallies(boxes: [String]) throws -> [Totals.Tally] {
        guard !boxes.isEmpty else { return [] }
        return try reading { db in
            try Row.fetchAll(
                db,
                sql: """
                    SELECT venue, session, department, mark, SUM(count) AS count FROM boxTally
                    WHERE box IN (\(boxes.map { _ in "?" }.joined(separator: ","))) AND count != 0
                    GROUP BY venue, session, department, mark ORDER BY venue, session, department, mark
                    """, arguments: StatementArguments(boxes)
            ).map {
                Totals.Tally(
                    venue: $0["venue"], session: $0["session"], department: $0["department"], mark: $0["mark"],
                    count: $0["count"])
            }
        }
    }

    /// The head of every venue chain: what a report was computed from.
    public func chainHeads() throws -> [ChainHead] {
        try reading { db in try Self.chainHeads(db) }
    }

    /// One indexed lookup per enrolled venue (records come only from enrolled nodes), not a scan of the records.
    static func chainHeads(_ db: Database) throws -> [ChainHead] {
        try String.fetchAll(db, sql: "SELECT DISTINCT venue FROM node ORDER BY venue").compactMap { venue in
            let head = try head(db, venue: venue)
            return head.seq == 0 ? nil : ChainHead(venue: venue, seq: head.seq, hash: head.hash)
        }
    }

    /// Check-ins and corrections still in effect. Each kind is read through its own partial index (the kind
    /// is written into the SQL, not bound, so SQLite can use it): no scan of the ballots.
    private func effectivePayloads(
        kinds: [RecordPayload.Kind], _ each: (String, Int64, RecordPayload) throws -> Void
    ) throws {
        try reading { db in
            let rows = try Row.fetchCursor(
                db,
                sql: kinds.map { kind in
                    """
                    SELECT venue, seq, payload FROM record r
                    WHERE kind = '\(kind.rawValue)'
                      AND NOT EXISTS (SELECT 1 FROM supersession s WHERE s.venue = r.venue AND s.target = r.seq)
                      AND NOT EXISTS (SELECT 1 FROM heldOutNow h WHERE h.venue = r.venue AND h.seq = r.seq)
                    """
                }.joined(separator: " UNION ALL ") + " ORDER BY venue, seq")
            while let row = try rows.next() {
                try each(row[0], row[1], try RecordPayload.decode(json: row[2]))
            }
        }
    }
}

/// The last record of a venue chain.
public struct ChainHead: Codable, Sendable, Equatable {
    public var venue: String
    public var seq: Int64
    public var hash: String
}
