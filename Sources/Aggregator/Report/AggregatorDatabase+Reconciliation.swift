import DaemonSupport
import Foundation
import GRDB
import Shared

extension AggregatorDatabase {
    /// Check-ins in effect (not corrected away; replacements included), from the stored records. Read row by row:
    /// only the facts are held, not the rows nor their payloads.
    public func checkinFacts() throws -> [CheckinFact] {
        var facts: [CheckinFact] = []
        try effectivePayloads(kinds: [.checkin, .correction]) { venue, seq, payload in
            var content = payload
            if case .correction(let correction) = payload {
                guard let replacement = correction.replacement else { return }
                content = replacement
            }
            guard case .checkin(let checkin) = content else { return }
            facts.append(
                CheckinFact(
                    venue: venue, seq: seq, session: checkin.session, rep: checkin.rep,
                    category: checkin.category, person: checkin.person, walkin: checkin.walkin ?? false))
        }
        return facts
    }

    /// Every correction record, with who, when and why.
    public func correctionFacts() throws -> [CorrectionFact] {
        try writer.read { db in
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
        try writer.read { db in try RosterTables.current(db) }
    }

    /// Imports the central roster (ID-card numbers already turned into person keys), whole or not at all.
    public func importRoster(_ entries: [RosterEntry], file: String, digest: String) throws {
        try writer.write { db in _ = try RosterTables.save(entries, file: file, digest: digest, db: db) }
    }

    /// Marks given from the listed boxes, as tallies (for results per category).
    public func boxTallies(boxes: [String]) throws -> [Totals.Tally] {
        guard !boxes.isEmpty else { return [] }
        return try writer.read { db in
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
        try writer.read { db in try Self.chainHeads(db) }
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
        try writer.read { db in
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
