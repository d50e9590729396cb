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
        self.init(contentDigest: verified.contentDigest, signatureInput: verified.signatureInput,
                  signature: verified.signature, body: verified.body)
    }

    init(contentDigest: String, signatureInput: String, signature: String, body: Data) {
        self.contentDigest = contentDigest
        self.signatureInput = signatureInput
        self.signature = signature
        self.body = String(decoding: body, as: UTF8.self)
    }

    var json: String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return (try? encoder.encode(self)).map { String(decoding: $0, as: UTF8.self) } ?? body
    }
}

/// A batch whose signature has been verified, ready to merge.
public struct VerifiedBatch: Sendable {
    public var node: EnrolledNode
    public var batch: Batch
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
        let outcome = try await writer.write { db in try Self.merge(verified, event: event, db: db) }
        switch outcome {
        case .success(let result):
            // Contact only for a batch that brought something new: a replayed old batch (valid for days)
            // must not make a silent node look alive. A caught-up node still reports by heartbeat.
            if !result.newRecords.isEmpty { try noteContact(node: verified.node) }
            return result
        case .failure(let error):
            throw error
        }
    }

    private static func merge(_ verified: VerifiedBatch, event: EventDefinition,
                              db: Database) throws -> Result<MergeResult, APIError> {
        let batch = verified.batch
        let nodeID = verified.node.id
        let venue = verified.node.venue
        guard let first = batch.records.first, let last = batch.records.last else {
            throw APIError(.badRequest, .malformedBatch, "the batch holds no record")
        }
        // Fencing again inside the transaction: a key retired or revoked since the request was checked.
        if try Int64.fetchOne(db, sql: "SELECT 1 FROM revocation WHERE nodeID = ?", arguments: [nodeID]) != nil {
            throw APIError(.forbidden, .revokedNode, "node \(nodeID) was revoked")
        }
        let currentEpoch = try Int64.fetchOne(db, sql: "SELECT MAX(epoch) FROM node WHERE venue = ?", arguments: [venue]) ?? 0
        if verified.node.epoch < currentEpoch {
            throw APIError(.forbidden, .staleEpoch, "node \(nodeID) holds epoch \(verified.node.epoch) of venue \(venue), "
                + "but epoch \(currentEpoch) has been enrolled since: this key is retired")
        }
        let head = try head(db, venue: venue)
        if first.seq > head.seq + 1 {
            throw APIError(.conflict, .sequenceGap,
                           "the batch starts at record \(first.seq) but the aggregator holds records up to \(head.seq); "
                               + "send from \(head.seq + 1)", resumeFrom: head.seq + 1)
        }
        // Records already held must be the very same records.
        for record in batch.records where record.seq <= head.seq {
            let held = try String.fetchOne(db, sql: "SELECT hash FROM record WHERE venue = ? AND seq = ?",
                                           arguments: [venue, record.seq])
            if held != record.hash {
                return .failure(try conflict(db, node: verified.node, offered: record, heldHash: held, verified: verified))
            }
        }
        let fresh = batch.records.filter { $0.seq > head.seq }
        if let firstFresh = fresh.first, firstFresh.prev != head.hash {
            return .failure(try conflict(db, node: verified.node, offered: firstFresh, heldHash: head.hash, verified: verified))
        }
        var kinds: [String: Int] = [:]
        if !fresh.isEmpty {
            let stored = StoredBatch(id: nil, venue: venue, nodeID: nodeID, firstSeq: first.seq, lastSeq: last.seq,
                                     contentDigest: verified.contentDigest, signatureInput: verified.signatureInput,
                                     signature: verified.signature, body: verified.body, receivedAt: timestamp())
            try stored.insert(db)
            let batchID = db.lastInsertedRowID
            for record in fresh {
                let kind = try apply(record, venue: venue, nodeID: nodeID, batchID: batchID, event: event, db: db)
                kinds[kind.rawValue, default: 0] += 1
            }
        }
        return .success(MergeResult(ack: BatchAck(node: nodeID, firstSeq: first.seq, lastSeq: last.seq,
                                                  lastHash: last.hash), newRecords: kinds))
    }

    /// Keeps the whole signed batch as evidence next to the held records and raises an alarm.
    private static func conflict(_ db: Database, node: EnrolledNode, offered: ChainedRecord, heldHash: String?,
                                 verified: VerifiedBatch) throws -> APIError {
        let evidence = SignedEvidence(verified).json
        let message = "node \(node.id) of venue \(node.venue) sent record \(offered.seq) with hash \(offered.hash.prefix(16))… but the aggregator "
            + "holds \(heldHash.map { "hash \($0.prefix(16))…" } ?? "no such record") there: the chain has forked"
        try Alarm(id: nil, kind: "chain_conflict", venue: node.venue, nodeID: node.id, seq: offered.seq, message: message,
                  evidence: evidence, raisedAt: timestamp()).insert(db)
        return APIError(.conflict, .chainConflict, message, seq: offered.seq)
    }

    /// Stores one new record and adds what it changes to the totals.
    @discardableResult
    private static func apply(_ record: ChainedRecord, venue: String, nodeID: String, batchID: Int64,
                              event: EventDefinition, db: Database) throws -> RecordPayload.Kind {
        func invalid(_ message: String) -> APIError {
            APIError(.unprocessableContent, .invalidRecord, "record \(record.seq): \(message)", seq: record.seq)
        }
        let payload: RecordPayload
        do {
            payload = try RecordPayload.decode(json: record.payload)
        } catch {
            throw invalid("the payload is not a record: \(error)")
        }
        do {
            try payload.check(against: event)
        } catch {
            throw invalid(error.message)
        }
        var delta = payload.contribution
        if case .correction(let correction) = payload {
            guard correction.target >= 1, correction.target < record.seq,
                  let target = try StoredRecord.fetchOne(db, key: ["venue": venue, "seq": correction.target]) else {
                throw invalid("the corrected record \(correction.target) does not exist")
            }
            if let by = try Int64.fetchOne(db, sql: "SELECT bySeq FROM supersession WHERE venue = ? AND target = ?",
                                           arguments: [venue, correction.target]) {
                throw invalid("record \(correction.target) was already corrected by record \(by)")
            }
            let targetPayload = try RecordPayload.decode(json: target.payload)
            let rootKind = try rootKind(of: targetPayload, venue: venue, db: db)
            if let replacement = correction.replacement, replacement.kind != rootKind {
                throw invalid("a \(rootKind.rawValue) can only be replaced by a \(rootKind.rawValue)")
            }
            for (counter, value) in targetPayload.contribution { delta[counter, default: 0] -= value }
            try db.execute(sql: "INSERT INTO supersession (venue, target, bySeq) VALUES (?, ?, ?)",
                           arguments: [venue, correction.target, record.seq])
        }
        try StoredRecord(venue: venue, seq: record.seq, prev: record.prev, hash: record.hash,
                         kind: payload.kind.rawValue, payload: record.payload, nodeID: nodeID, batchID: batchID).insert(db)
        for (counter, value) in delta where value != 0 {
            try add(value, to: counter, venue: venue, db: db)
        }
        return payload.kind
    }

    /// The kind of original record a record stands for (a correction: that of its target, recursively).
    private static func rootKind(of payload: RecordPayload, venue: String, db: Database) throws -> RecordPayload.Kind {
        var current = payload
        while case .correction(let correction) = current {
            guard let target = try StoredRecord.fetchOne(db, key: ["venue": venue, "seq": correction.target]) else {
                break
            }
            current = try RecordPayload.decode(json: target.payload)
        }
        return current.kind
    }

    static func add(_ value: Int, to counter: Counter, venue: String, db: Database) throws {
        switch counter {
        case .attendance(let session, let category):
            try db.execute(sql: """
                INSERT INTO attendance (venue, session, category, checkedIn) VALUES (?, ?, ?, ?)
                ON CONFLICT DO UPDATE SET checkedIn = checkedIn + excluded.checkedIn
                """, arguments: [venue, session, category, value])
        case .mark(let session, let department, let mark):
            try db.execute(sql: """
                INSERT INTO tally (venue, session, department, mark, count) VALUES (?, ?, ?, ?, ?)
                ON CONFLICT DO UPDATE SET count = count + excluded.count
                """, arguments: [venue, session, department, mark, value])
        case .boxMark(let session, let box, let department, let mark):
            try db.execute(sql: """
                INSERT INTO boxTally (venue, session, box, department, mark, count) VALUES (?, ?, ?, ?, ?, ?)
                ON CONFLICT DO UPDATE SET count = count + excluded.count
                """, arguments: [venue, session, box, department, mark, value])
        case .boxOpened(let session, let box):
            try addToBox("opened", value, venue: venue, session: session, box: box, db: db)
        case .boxClosed(let session, let box):
            try addToBox("closed", value, venue: venue, session: session, box: box, db: db)
        case .issued(let session, let box):
            try addToBox("issued", value, venue: venue, session: session, box: box, db: db)
        case .returned(let session, let box):
            try addToBox("returned", value, venue: venue, session: session, box: box, db: db)
        case .ballots(let session, let box, let status):
            try addToBox(status.rawValue, value, venue: venue, session: session, box: box, db: db)
        }
    }

    private static func addToBox(_ column: String, _ value: Int, venue: String, session: String, box: String,
                                 db: Database) throws {
        // `column` is one of the fixed column names above, never input.
        try db.execute(sql: """
            INSERT INTO boxTotal (venue, session, box, \(column)) VALUES (?, ?, ?, ?)
            ON CONFLICT DO UPDATE SET \(column) = \(column) + excluded.\(column)
            """, arguments: [venue, session, box, value])
    }
}
