import Foundation
import GRDB
import Shared

/// What a retired node recorded after the aggregator's last acknowledgement, in effect at its head:
/// everything the venue's current node must record again so that it counts (docs/operations.md,
/// "A retired node's unsent records").
public struct UnsentRecords: Sendable {
    /// Records after this one were never acknowledged.
    public var afterSeq: Int64
    public var headSeq: Int64
    public var checkins: [RecordPayload.Checkin] = []
    public var boxesOpened: [RecordPayload.BoxOpened] = []
    public var boxesClosed: [RecordPayload.BoxClosed] = []
    public var ballots: [RecordPayload.Ballot] = []
    /// Corrections of records the aggregator already holds: the same target exists on the current node.
    public var corrections: [RecordPayload.Correction] = []

    public var isEmpty: Bool {
        checkins.isEmpty && boxesOpened.isEmpty && boxesClosed.isEmpty && ballots.isEmpty && corrections.isEmpty
    }
}

extension NodeDatabase {
    /// Verifies the whole chain, then collects what records after `afterSeq` leave in effect.
    public func handover(afterSeq: Int64) throws -> UnsentRecords {
        try writer.read { db in
            let state = try Self.loadState(db)  // verifies every hash link on the way
            guard afterSeq >= 0, afterSeq <= state.headSeq else {
                throw RecordRejection("record \(afterSeq) is beyond this node's last record \(state.headSeq)")
            }
            var handover = UnsentRecords(afterSeq: afterSeq, headSeq: state.headSeq)
            for (seq, payload) in state.content.sorted(by: { $0.key < $1.key }) where seq > afterSeq {
                switch payload {
                case .checkin(let value): handover.checkins.append(value)
                case .boxOpened(let value): handover.boxesOpened.append(value)
                case .boxClosed(let value): handover.boxesClosed.append(value)
                case .ballot(let value): handover.ballots.append(value)
                case .correction, .imported: break
                }
            }
            // A correction after the acknowledgement of a record before it: redone on the current node by hand.
            let rows = try StoredRecord.filter(StoredRecord.Columns.seq > afterSeq && Column("kind") == "correction")
                .order(StoredRecord.Columns.seq).fetchAll(db)
            for row in rows {
                if case .correction(let correction) = try RecordPayload.decode(json: row.payload),
                   correction.target <= afterSeq, state.supersededBy[row.seq] == nil {
                    handover.corrections.append(correction)
                }
            }
            return handover
        }
    }
}
