import Foundation
import GRDB
import Shared

/// A record kept in its venue's chain but left out of the totals: written by an older release, it
/// breaks a rule the aggregator now enforces (docs/aggregator.md, "Records held out").
public struct HeldOutRecord: Codable, Sendable, Equatable {
    public var venue: String
    public var seq: Int64
    public var rule: String
    public var message: String
    public var heldAt: String
    /// `count` or `exclude`, once an admin has decided.
    public var decision: String?
    public var reason: String?
    public var decidedBy: String?
    /// Corrected by a later record of its venue (then nothing is left to decide).
    public var supersededBy: Int64?
    public var payload: String
}

extension AggregatorDatabase {
    public func heldOutRecords() throws -> [HeldOutRecord] {
        try writer.read { db in
            try Row.fetchAll(
                db,
                sql: """
                    SELECT h.venue, h.seq, h.rule, h.message, h.heldAt, d.decision, d.reason, d.decidedBy,
                           s.bySeq, r.payload
                    FROM heldOut h JOIN record r ON r.venue = h.venue AND r.seq = h.seq
                    LEFT JOIN heldOutDecision d ON d.venue = h.venue AND d.seq = h.seq
                    LEFT JOIN supersession s ON s.venue = h.venue AND s.target = h.seq
                    ORDER BY h.venue, h.seq
                    """
            ).map {
                HeldOutRecord(
                    venue: $0["venue"], seq: $0["seq"], rule: $0["rule"], message: $0["message"],
                    heldAt: $0["heldAt"], decision: $0["decision"], reason: $0["reason"],
                    decidedBy: $0["decidedBy"], supersededBy: $0["bySeq"], payload: $0["payload"])
            }
        }
    }

    /// An admin's decision on a held-out record, final and attributed: `count` adds it to the totals
    /// (unless a later record corrected it), `exclude` leaves it out for good. Returns what was added.
    @discardableResult
    public func decideHeldOut(
        venue: String, seq: Int64, count: Bool, reason: String,
        by: String
    ) throws -> [Counter: Int] {
        for (field, value) in [("reason", reason), ("name", by)] {
            guard !value.trimmingCharacters(in: .whitespaces).isEmpty else {
                throw AggregatorError("a decision needs a \(field)")
            }
            try IDNumberShape.refuse(value, field: field)
        }
        return try writer.write { db in
            guard
                try Int64.fetchOne(
                    db, sql: "SELECT 1 FROM heldOut WHERE venue = ? AND seq = ?",
                    arguments: [venue, seq]) != nil
            else {
                throw AggregatorError(
                    "record \(seq) of venue \(venue) is not held out (see `aggregator held-out list`)")
            }
            if let earlier = try Row.fetchOne(
                db, sql: "SELECT decision, decidedBy, decidedAt FROM heldOutDecision WHERE venue = ? AND seq = ?",
                arguments: [venue, seq])
            {
                throw AggregatorError(
                    "record \(seq) of venue \(venue) was already decided (\(earlier["decision"] as String) by "
                        + "\(earlier["decidedBy"] as String) at \(earlier["decidedAt"] as String)); a decision is final"
                )
            }
            var delta: [Counter: Int] = [:]
            if count {
                // The venue's ledger as it stands, with this record still held out: releasing it there judges
                // it against everything since, exactly as a rebuild will.
                var ledger = try ChainMerge.replayedLedger(in: SQLiteMergeTransaction(db: db), venue: venue)
                guard
                    let json = try String.fetchOne(
                        db, sql: "SELECT payload FROM record WHERE venue = ? AND seq = ?",
                        arguments: [venue, seq])
                else {
                    throw AggregatorError("record \(seq) of venue \(venue) is missing")
                }
                let released: (delta: [Counter: Int], supersedes: Int64?)
                do {
                    released = try ledger.release(seq, payload: try RecordPayload.decode(json: json))
                } catch let refusal as Ledger.ReleaseRefusal {
                    throw AggregatorError(
                        "record \(seq) of venue \(venue) cannot count: \(refusal.description); "
                            + "decide --exclude instead")
                }
                delta = released.delta
                if let target = released.supersedes {
                    try db.execute(
                        sql: "INSERT INTO supersession (venue, target, bySeq) VALUES (?, ?, ?)",
                        arguments: [venue, target, seq])
                }
            }
            try db.execute(
                sql: """
                    INSERT INTO heldOutDecision (venue, seq, decision, reason, decidedBy, decidedAt) VALUES (?, ?, ?, ?, ?, ?)
                    """, arguments: [venue, seq, count ? "count" : "exclude", reason, by, Self.timestamp()])
            for (counter, value) in delta {
                try Self.add(value, to: counter, venue: venue, db: db)
            }
            return delta
        }
    }
}
