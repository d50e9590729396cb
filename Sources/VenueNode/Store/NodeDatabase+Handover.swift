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
    /// Suggestions and surveys (version 5).
    public var forms: [RecordPayload.Form] = []
    /// Corrections of records the aggregator already holds: the same target exists on the current node.
    public var corrections: [RecordPayload.Correction] = []
    /// Sequence and hash of every record after `afterSeq`.
    public var records: [(seq: Int64, hash: String)] = []

    public var isEmpty: Bool {
        checkins.isEmpty && boxesOpened.isEmpty && boxesClosed.isEmpty && ballots.isEmpty && forms.isEmpty
            && corrections.isEmpty
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
            // What each correction after `afterSeq` corrects, to follow a chain of corrections back to its start.
            let corrections = try StoredRecord.filter(
                StoredRecord.Columns.seq > afterSeq && Column("kind") == "correction"
            )
            .order(StoredRecord.Columns.seq).fetchAll(db)
            .compactMap { row -> (seq: Int64, correction: RecordPayload.Correction)? in
                guard case .correction(let correction) = try? RecordPayload.decode(json: row.payload) else {
                    return nil
                }
                return (row.seq, correction)
            }
            let targets = Dictionary(uniqueKeysWithValues: corrections.map { ($0.seq, $0.correction.target) })
            /// The record on or before `afterSeq` that a chain of corrections starting at `seq` goes back to, if any:
            /// the one the current node holds in effect.
            func acknowledgedLink(_ seq: Int64) -> Int64? {
                var current = seq
                while let target = targets[current] {
                    if target <= afterSeq { return target }
                    current = target
                }
                return nil
            }
            for (seq, payload) in state.content.sorted(by: { $0.key < $1.key }) where seq > afterSeq {
                if let link = acknowledgedLink(seq) {
                    // A correction (perhaps of a correction) of a record the current node already holds.
                    handover.corrections.append(
                        .init(target: link, reason: "handover", operator: "handover", replacement: payload))
                    continue
                }
                switch payload {
                case .checkin(let value): handover.checkins.append(value)
                case .boxOpened(let value): handover.boxesOpened.append(value)
                case .boxClosed(let value): handover.boxesClosed.append(value)
                case .ballot(let value): handover.ballots.append(value)
                case .form(let value): handover.forms.append(value)
                case .correction, .imported: break
                }
            }
            // Corrections in effect that void a record the current node holds.
            for (seq, _) in targets.sorted(by: { $0.key < $1.key })
            where state.content[seq] == nil && state.supersededBy[seq] == nil {
                if let link = acknowledgedLink(seq) {
                    handover.corrections.append(
                        .init(target: link, reason: "handover", operator: "handover", replacement: nil))
                }
            }
            // Reasons and operators of the original corrections, where one correction stands for the chain.
            for index in handover.corrections.indices {
                let target = handover.corrections[index].target
                if let last = corrections.last(where: { acknowledgedLink($0.seq) == target }) {
                    handover.corrections[index].reason = last.correction.reason
                    handover.corrections[index].operator = last.correction.operator
                }
            }
            // The handed-over records as the retired node holds them, so the current node can tell whether it has
            // any of them already (a batch the aggregator accepted though its answer was lost).
            handover.records = try StoredRecord.filter(StoredRecord.Columns.seq > afterSeq).order(
                StoredRecord.Columns.seq
            )
            .fetchAll(db).map { ($0.seq, $0.hash) }
            return handover
        }
    }
}

extension NodeDatabase {
    /// The first of `records` (sequence and hash) that this node holds too, if any.
    public func firstHeld(of records: [(seq: Int64, hash: String)]) throws -> (seq: Int64, hash: String)? {
        try writer.read { db in
            for record in records {
                if try String.fetchOne(db, sql: "SELECT hash FROM record WHERE seq = ?", arguments: [record.seq])
                    == record.hash
                {
                    return record
                }
            }
            return nil
        }
    }
}
