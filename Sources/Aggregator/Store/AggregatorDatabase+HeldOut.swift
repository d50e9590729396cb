import Foundation
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

extension AggregatorStore {
    public func heldOutRecords() throws -> [HeldOutRecord] {
        try withOffice(writing: false, venue: nil) { try $0.transaction.heldOutRecords() }
    }

    /// An admin's decision on a held-out record, final and attributed: `count` adds it to the totals
    /// (unless a later record corrected it), `exclude` leaves it out for good. Returns what was added. Made under the
    /// venue's lock: no merge of the venue runs meanwhile.
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
        return try withOffice(writing: true, venue: venue) { office in
            let db = office.transaction
            guard try db.isHeldOut(venue: venue, seq: seq) else {
                throw AggregatorError(
                    "record \(seq) of venue \(venue) is not held out (see `aggregator held-out list`)")
            }
            if let earlier = try db.heldOutDecision(venue: venue, seq: seq) {
                throw AggregatorError(
                    "record \(seq) of venue \(venue) was already decided (\(earlier.decision) by \(earlier.by) at "
                        + "\(earlier.at)); a decision is final")
            }
            var delta: [Counter: Int] = [:]
            if count {
                // The venue's ledger as it stands, with this record still held out: releasing it there judges
                // it against everything since, exactly as a rebuild will.
                var ledger = try ChainMerge.replayedLedger(in: db, venue: venue)
                guard let json = try db.recordPayload(venue: venue, seq: seq) else {
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
                    try db.insertSupersession(venue: venue, target: target, by: seq)
                }
            }
            try db.insertHeldOutDecision(
                venue: venue, seq: seq, count: count, reason: reason, by: by, at: AggregatorDatabase.timestamp())
            try db.add(delta, venue: venue)
            return delta
        }
    }
}
