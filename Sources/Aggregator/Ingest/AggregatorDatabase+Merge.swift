import Foundation
import GRDB
import Shared

/// What a merge did: the answer for the node, and the new records per kind (none for a resend).
public struct MergeResult: Sendable {
    public var ack: BatchAck
    public var newRecords: [String: Int]
}

/// A refused but authentic request, kept whole so anyone can verify it again: the body and the
/// three headers its signature stands on.
struct SignedEvidence: Encodable {
    var contentDigest: String
    var signatureInput: String
    var signature: String
    var body: String

    init(_ verified: VerifiedBatch) {
        self.init(
            contentDigest: verified.contentDigest, signatureInput: verified.signatureInput,
            signature: verified.signature, body: verified.body)
    }

    init(contentDigest: String, signatureInput: String, signature: String, body: Data) {
        self.contentDigest = contentDigest
        self.signatureInput = signatureInput
        self.signature = signature
        self.body = String(decoding: body, as: UTF8.self)
    }

    var json: String {
        (try? JSONCoding.string(self)) ?? body
    }
}

/// A batch whose signature has been verified, ready to merge.
public struct VerifiedBatch: Sendable {
    public var node: EnrolledNode
    public var batch: Batch
    /// Each record's payload, read strictly and checked against the event (by position in the batch).
    var reads: [ReadRecord]
    /// The event's ballots as positions, which the reads' mark indices refer to.
    var layout: BallotLayout
    public var body: Data
    public var contentDigest: String
    public var signatureInput: String
    public var signature: String
}

extension AggregatorDatabase {
    /// Merges a verified batch in one transaction: records already held are skipped (after checking
    /// they are the same), new ones are stored and added to the totals. Answers only once the
    /// transaction is committed. Throws `APIError` for a gap, a conflict or an invalid record;
    /// a conflict is recorded as an alarm, with both versions kept.
    public func merge(_ verified: VerifiedBatch, event: EventDefinition) async throws -> MergeResult {
        let outcome = try await writer.write { db in
            try ChainMerge.merge(verified, event: event, in: SQLiteMergeTransaction(db: db))
        }
        return try outcome.get()
    }

    /// Adds `value` to a counter's row of a venue's totals, inside the caller's transaction (the merge's one way of
    /// changing a total; public for the benchmark's storage limit, which stores what a merge stores).
    public static func add(_ value: Int, to counter: Counter, venue: String, db: Database) throws {
        try SQLiteMergeTransaction(db: db).add(value, to: counter, venue: venue)
    }
}

/// The merge of a verified batch into a venue's chain, written once for every engine that can hold the aggregator's
/// data: it reads and writes through a `MergeTransaction`, inside the one transaction the engine opens for it (which
/// holds the venue's chain alone until it ends).
enum ChainMerge {
    /// A `.failure` is a refusal whose alarm and evidence the caller commits; a thrown error writes nothing.
    static func merge<T: MergeTransaction>(
        _ verified: VerifiedBatch, event: EventDefinition, in db: T
    ) throws -> Result<MergeResult, APIError> {
        let batch = verified.batch
        let nodeID = verified.node.id
        let venue = verified.node.venue
        guard let first = batch.records.first, let last = batch.records.last else {
            throw APIError(.badRequest, .malformedBatch, "the batch holds no record")
        }
        // Fencing again inside the transaction: a key retired or revoked since the request was checked.
        if try db.isRevoked(node: nodeID) {
            throw APIError(.forbidden, .revokedNode, "node \(nodeID) was revoked")
        }
        let currentEpoch = try db.currentEpoch(venue: venue)
        if verified.node.epoch < currentEpoch {
            throw APIError(
                .forbidden, .staleEpoch,
                "node \(nodeID) holds epoch \(verified.node.epoch) of venue \(venue), "
                    + "but epoch \(currentEpoch) has been enrolled since: this key is retired")
        }
        let head = try db.head(venue: venue)
        if first.seq > head.seq + 1 {
            throw APIError(
                .conflict, .sequenceGap,
                "the batch starts at record \(first.seq) but the aggregator holds records up to \(head.seq); "
                    + "send from \(head.seq + 1)", resumeFrom: head.seq + 1)
        }
        // Records already held must be the very same records.
        let held =
            first.seq <= head.seq ? try db.recordHashes(venue: venue, seqs: first.seq...min(last.seq, head.seq)) : [:]
        for record in batch.records where record.seq <= head.seq {
            let held = held[record.seq]
            if held != record.hash {
                return .failure(
                    try conflict(db, node: verified.node, offered: record, heldHash: held, verified: verified))
            }
        }
        let fresh = batch.records.filter { $0.seq > head.seq }
        if let firstFresh = fresh.first, firstFresh.prev != head.hash {
            return .failure(
                try conflict(db, node: verified.node, offered: firstFresh, heldHash: head.hash, verified: verified))
        }
        var kinds: [String: Int] = [:]
        if !fresh.isEmpty {
            // Judge every new record first, on the venue's ledger, exactly as the node judges it: a batch
            // that breaks a rule is refused whole and nothing of it is written but the alarm and its evidence.
            // The ledger is loaded as far as these records need it (`ledger(_:venue:head:for:)`). A merge makes no
            // decision: the count the ledger was loaded with still holds when it is saved.
            let payloads = fresh.compactMap { record -> RecordPayload? in
                guard case .success(let decoded) = verified.reads[Int(record.seq - first.seq)].decoded else {
                    return nil
                }
                return decoded.payload
            }
            var (ledger, decisions) = try ledger(in: db, venue: venue, head: head, for: payloads)
            var accepted:
                [(
                    record: ChainedRecord, kind: RecordPayload.Kind, supersedes: Int64?,
                    heldOut: RecordRejection?
                )] = []
            var delta = BatchDelta(layout: verified.layout)
            for record in fresh {
                let read = verified.reads[Int(record.seq - first.seq)]
                switch judge(record, read: read, ledger: &ledger) {
                case .failure(let refusal):
                    return .failure(
                        try refuse(
                            db, node: verified.node, record: record, refusal: refusal,
                            verified: verified))
                case .success(let outcome):
                    delta.add(outcome.effect, usualMarks: outcome.usualMarks)
                    accepted.append((record, outcome.kind, outcome.supersedes, outcome.heldOut))
                    ledger.headHash = record.hash
                }
            }
            let stored = StoredBatch(
                id: nil, venue: venue, nodeID: nodeID, firstSeq: first.seq, lastSeq: last.seq,
                contentDigest: verified.contentDigest, signatureInput: verified.signatureInput,
                signature: verified.signature, body: verified.body, receivedAt: AggregatorDatabase.timestamp())
            let batchID = try db.insert(batch: stored)
            try db.insertRecords(
                venue: venue, accepted.map { ($0.record, $0.kind.rawValue) }, node: nodeID, batch: batchID)
            for entry in accepted {
                if let target = entry.supersedes {
                    try db.insertSupersession(venue: venue, target: target, by: entry.record.seq)
                }
                if let rejection = entry.heldOut {
                    let message =
                        "record \(entry.record.seq) of venue \(venue), written by an older release, breaks the rule "
                        + "\(rejection.rule?.rawValue ?? "?"): \(rejection.message). It is kept in the chain but left out of "
                        + "the totals until an admin decides (aggregator held-out decide)"
                    try db.insertHeldOut(
                        venue: venue, seq: entry.record.seq, rule: rejection.rule?.rawValue ?? "",
                        message: rejection.message, at: AggregatorDatabase.timestamp())
                    try db.insert(
                        alarm: Alarm(
                            id: nil, kind: "held_out", venue: venue, nodeID: nodeID, seq: entry.record.seq,
                            message: message, evidence: nil, raisedAt: AggregatorDatabase.timestamp()))
                }
                kinds[entry.kind == .correction ? "correction" : entry.kind.rawValue, default: 0] += 1
            }
            try db.add(delta.counters, venue: venue)
            // Contact noted in the same transaction, only for a batch that brought something new: a replayed old
            // batch (valid for days) must not make a silent node look alive. A caught-up node reports by heartbeat.
            try db.noteContact(node: nodeID, at: AggregatorDatabase.timestamp())
            try saveLedger(ledger, decisions: decisions, venue: venue, in: db)
        }
        return .success(
            MergeResult(
                ack: BatchAck(
                    node: nodeID, firstSeq: first.seq, lastSeq: last.seq,
                    lastHash: last.hash), newRecords: kinds))
    }

    /// Keeps the whole signed batch as evidence next to the held records and raises an alarm.
    private static func conflict<T: MergeTransaction>(
        _ db: T, node: EnrolledNode, offered: ChainedRecord, heldHash: String?,
        verified: VerifiedBatch
    ) throws -> APIError {
        let evidence = SignedEvidence(verified).json
        let message =
            "node \(node.id) of venue \(node.venue) sent record \(offered.seq) with hash \(offered.hash.prefix(16))… but the aggregator "
            + "holds \(heldHash.map { "hash \($0.prefix(16))…" } ?? "no such record") there: the chain has forked"
        try db.insert(
            alarm: Alarm(
                id: nil, kind: "chain_conflict", venue: node.venue, nodeID: node.id, seq: offered.seq,
                message: message, evidence: evidence, raisedAt: AggregatorDatabase.timestamp()))
        return APIError(.conflict, .chainConflict, message, seq: offered.seq)
    }

    /// Why a record of an authentic batch is refused: the API error, and the rule it breaks if any.
    private struct Refusal: Error {
        var error: APIError
        var rule: String
    }

    private struct Judged {
        var kind: RecordPayload.Kind
        var effect: Ledger.Effect
        /// A usual ballot's mark indices (see `BallotLayout`).
        var usualMarks: [UInt8]? = nil
        var supersedes: Int64?
        var heldOut: RecordRejection?
    }

    /// Judges one new record (`read`: its payload as read and checked against the event before the merge) on the
    /// venue's ledger, and takes it in. A record of the current payload version that breaks a rule is refused;
    /// one of version 1 (written by release 1, whose node did not keep every rule) is taken in but held out of
    /// the totals.
    private static func judge(
        _ record: ChainedRecord, read: ReadRecord, ledger: inout Ledger
    ) -> Result<Judged, Refusal> {
        func refusal(_ code: APIErrorCode, _ rule: String, _ message: String) -> Refusal {
            Refusal(
                error: APIError(.unprocessableContent, code, "record \(record.seq): \(message)", seq: record.seq),
                rule: rule)
        }
        let payload: RecordPayload
        let version: Int
        switch read.decoded {
        case .success(let decoded): (payload, version) = decoded
        case .failure(let error): return .failure(refusal(.invalidRecord, "payload_form", error.description))
        }
        let target: Int64? = if case .correction(let correction) = payload { correction.target } else { nil }
        let supersededBefore = target.flatMap { ledger.supersededBy[$0] }
        do {
            // The event's check (made before the merge) first, then the rules: as `admit` with the event would.
            let usualMarks = try read.checked.get()
            let effect = try ledger.admitEffect(payload, event: nil, mode: .judge)
            let supersedes = target.flatMap {
                ledger.supersededBy[$0] == record.seq && supersededBefore == nil ? $0 : nil
            }
            return .success(
                Judged(kind: payload.kind, effect: effect, usualMarks: usualMarks, supersedes: supersedes, heldOut: nil)
            )
        } catch {
            guard let rule = error.rule else { return .failure(refusal(.invalidRecord, "event", error.message)) }
            // A record of the current version is refused, unless the venue's chain already holds records held out:
            // the node counts those, the aggregator does not, so an honest record that builds on them (a correction
            // of one, a check-in again after one voided it) may break a rule here only. Such a venue is not blocked.
            guard version == 1 || !ledger.heldOut.isEmpty else {
                return .failure(refusal(.ruleBreach, rule.rawValue, error.message))
            }
            ledger.holdOut(payload)
            let supersedes = target.flatMap {
                ledger.supersededBy[$0] == record.seq && supersededBefore == nil ? $0 : nil
            }
            return .success(Judged(kind: payload.kind, effect: .none, supersedes: supersedes, heldOut: error))
        }
    }

    /// A stored record as the ledger took it in: the kind of the original it stands for (a correction's is its
    /// target's, or `correction` when its target did not exist), and its content (a correction's replacement,
    /// counted only if its target existed). Nil when no such record is stored.
    static func storedRecord<T: MergeTransaction>(
        _ seq: Int64, venue: String, in db: T
    ) throws -> (RecordPayload.Kind, RecordPayload?)? {
        guard let json = try db.recordPayload(venue: venue, seq: seq) else { return nil }
        let payload = try RecordPayload.decode(json: json)
        guard case .correction(let correction) = payload else { return (payload.kind, payload) }
        guard correction.target >= 1, correction.target < seq,
            let (targetKind, _) = try storedRecord(correction.target, venue: venue, in: db)
        else { return (.correction, nil) }
        return (targetKind, correction.replacement)
    }

    /// Refuses an authentic batch holding a record that breaks a rule: keeps the whole signed batch as
    /// evidence (once) and raises an alarm naming the rule.
    private static func refuse<T: MergeTransaction>(
        _ db: T, node: EnrolledNode, record: ChainedRecord, refusal: Refusal,
        verified: VerifiedBatch
    ) throws -> APIError {
        let evidence = SignedEvidence(verified).json
        let message =
            "node \(node.id) of venue \(node.venue) sent record \(record.seq) that breaks the rule \(refusal.rule): "
            + refusal.error.body.error.message + "; the batch was refused whole"
        if try !db.hasAlarm(kind: "rule_breach", node: node.id, seq: record.seq, message: message) {
            try db.insert(
                alarm: Alarm(
                    id: nil, kind: "rule_breach", venue: node.venue, nodeID: node.id, seq: record.seq,
                    message: message, evidence: evidence, raisedAt: AggregatorDatabase.timestamp()))
        }
        return refusal.error
    }
}
