import Crypto
import DaemonSupport
import Foundation
import Shared

/// Takes a signed batch from the wire to the database: verifies the signature over the raw body
/// before parsing it, checks node, venue, event and chain, then merges. Written against `IngestStore`, so that the
/// same intake serves one aggregator's SQLite file and several aggregators' shared PostgreSQL database.
public struct Intake<Store: IngestStore>: Sendable {
    public var database: Store
    public var event: EventDefinition
    /// Most records one batch may hold.
    public var maxRecords: Int
    /// The aggregator's own key: it signs receipts and published heads (none in some tests).
    public var signingKey: Curve25519.Signing.PrivateKey?
    /// How far a request's signature time (`created`) may be from the aggregator's clock, in seconds.
    /// Generous by default (a week): node clocks may be hours off and nothing else depends on them;
    /// a replayed batch is harmless anyway (it merges as a duplicate), this bounds how old one may be.
    public var maxSignatureAge: Int64

    public init(
        database: Store, event: EventDefinition, maxRecords: Int = 5_000,
        signingKey: Curve25519.Signing.PrivateKey? = nil, maxSignatureAge: Int64 = 7 * 86_400
    ) {
        self.database = database
        self.event = event
        self.maxRecords = maxRecords
        self.signingKey = signingKey
        self.maxSignatureAge = maxSignatureAge
    }

    /// The receipt for an accepted batch, signed with the aggregator's key.
    public func receipt(for ack: BatchAck, venue: String) throws -> Receipt? {
        try signingKey.map {
            try Receipt.sign(
                venue: venue, node: ack.node, firstSeq: ack.firstSeq, lastSeq: ack.lastSeq,
                lastHash: ack.lastHash, key: $0)
        }
    }

    /// The head of every venue chain, signed.
    public func signedHeads(now: Date = Date()) throws -> SignedHeads? {
        guard let key = signingKey else { return nil }
        let heads = try database.chainHeads().map { SignedHeads.Head(venue: $0.venue, seq: $0.seq, hash: $0.hash) }
        return try SignedHeads.sign(event: event.id, signedAt: now.formatted(.iso8601), heads: heads, key: key)
    }

    /// The request parts the intake needs (the same type whichever store the intake writes to).
    public typealias SignedRequest = SignedNodeRequest

    public func receive(_ request: SignedRequest) async throws -> BatchAck {
        try await receiveCounting(request).ack
    }

    /// Like `receive`, also saying how many new records of each kind were merged.
    public func receiveCounting(_ request: SignedRequest) async throws -> MergeResult {
        // Verifying reads the database (the node, its fencing, the event's digests): awaited off the serving threads.
        let verified = try await offload { [self] in try verify(request) }
        return try await database.merge(verified, event: event)
    }

    /// Authenticates a request and reads its batch: signature, node, venue, event, chain, and each record's payload
    /// read and checked against the event (`receive` runs it off the serving threads, then merges).
    public func verify(_ request: SignedRequest) throws -> VerifiedBatch {
        let node = try authenticatePost(request)
        // Only now, with the body authenticated, is it parsed.
        let batch: Batch
        do {
            batch = try Batch.decode(request.body)
        } catch {
            throw APIError(.badRequest, .malformedBatch, "the body is not a batch: \(error)")
        }
        guard batch.version == Batch.currentVersion else {
            throw APIError(.badRequest, .malformedBatch, "batch version \(batch.version) is not supported")
        }
        guard batch.node == node.id else {
            throw APIError(
                .forbidden, .nodeMismatch, "the batch names node \(batch.node) but is signed by node \(node.id)")
        }
        guard batch.venue == node.venue else {
            throw APIError(
                .forbidden, .venueMismatch,
                "node \(node.id) is enrolled for venue \(node.venue), not \(batch.venue)")
        }
        guard batch.event == event.id else {
            throw APIError(
                .unprocessableContent, .eventMismatch,
                "the batch is for event \(batch.event); this aggregator serves \(event.id)")
        }
        if let digest = batch.eventDigest, let installed = try database.acceptedEventDigests(),
            !installed.accepted.contains(digest)
        {
            throw APIError(
                .unprocessableContent, .eventMismatch,
                "the node checked its records against another version of event \(event.id) (its event's "
                    + "SHA-256 is \(digest.prefix(16))…, the aggregator's \(installed.current.prefix(16))…): "
                    + "give both the same event file")
        }
        // Sequence numbers stay far from overflow (2^53: beyond any event's records).
        guard batch.records.allSatisfy({ $0.seq <= 1 << 53 }) else {
            throw APIError(.badRequest, .malformedBatch, "a sequence number is out of range")
        }
        guard let first = batch.records.first, batch.records.count <= maxRecords, first.seq >= 1 else {
            throw APIError(
                .badRequest, .malformedBatch,
                "a batch holds 1 to \(maxRecords) records, numbered from 1; this one holds \(batch.records.count)")
        }
        let layout = BallotLayout(event: event)
        let (hashesMatch, reads) = Self.readRecords(batch.records, event: event, layout: layout)
        do {
            try RecordChain.verify(
                batch.records, afterSeq: first.seq - 1, afterHash: first.prev, hashesMatch: hashesMatch)
        } catch {
            let seq: Int64? =
                switch error {
                case .sequenceBreak(let position, _, _): batch.records[position].seq
                case .brokenLink(let seq, _, _), .hashMismatch(let seq, _, _): seq
                }
            throw APIError(.badRequest, .brokenChain, "the batch's chain is broken: \(error)", seq: seq)
        }
        return VerifiedBatch(
            node: node, batch: batch, reads: reads, layout: layout, body: request.body,
            contentDigest: request.contentDigest ?? "", signatureInput: request.signatureInput ?? "",
            signature: request.signature ?? "")
    }

    /// What each record needs and nothing else does: whether its hash matches its content, its payload read
    /// strictly and checked against the event. Done before the merge, on every core, since the merge itself
    /// takes the writer one batch at a time.
    static func readRecords(_ records: [ChainedRecord], event: EventDefinition, layout: BallotLayout) -> (
        hashesMatch: [Bool], reads: [ReadRecord]
    ) {
        let count = records.count
        var hashesMatch = [Bool](repeating: false, count: count)
        var reads = [ReadRecord?](repeating: nil, count: count)
        let chunks = min(ProcessInfo.processInfo.activeProcessorCount, max(1, count / 64))
        hashesMatch.withUnsafeMutableBufferPointer { hashesBuffer in
            reads.withUnsafeMutableBufferPointer { readsBuffer in
                // Each chunk writes its own slots only, and both arrays outlive the concurrent loop.
                nonisolated(unsafe) let hashesMatch = hashesBuffer
                nonisolated(unsafe) let reads = readsBuffer
                DispatchQueue.concurrentPerform(iterations: chunks) { chunk in
                    var marks: [UInt8] = []
                    for index in (count * chunk / chunks)..<(count * (chunk + 1) / chunks) {
                        hashesMatch[index] = RecordChain.hashMatches(records[index])
                        reads[index] = ReadRecord(records[index], event: event, layout: layout, marks: &marks)
                    }
                }
            }
        }
        // Every slot was written above.
        return (hashesMatch, reads.map { $0! })
    }
}

/// A node's signed request, the parts the intake needs (`Intake.SignedRequest`).
public struct SignedNodeRequest: Sendable {
    public var path: String
    public var contentType: String?
    public var contentDigest: String?
    public var signatureInput: String?
    public var signature: String?
    public var body: Data

    public init(
        path: String = "/v1/batches", contentType: String?, contentDigest: String?, signatureInput: String?,
        signature: String?, body: Data
    ) {
        self.path = path
        self.contentType = contentType
        self.contentDigest = contentDigest
        self.signatureInput = signatureInput
        self.signature = signature
        self.body = body
    }
}

/// The intake of one aggregator on its SQLite file (what `aggregator serve` runs today).
public typealias BatchIntake = Intake<AggregatorDatabase>

/// A record's payload as read before the merge: read strictly, and checked against the event.
struct ReadRecord: Sendable {
    /// The payload and its version, or why it is not one (`RecordPayload.decodeStrict`).
    var decoded: Result<(payload: RecordPayload, version: Int), RecordPayload.StrictDecodingError>
    /// The event's check of the payload (`RecordPayload.check(against:layout:marks:)`): a usual ballot's mark
    /// indices, nil for any other record that passes; or why it does not fit the event.
    var checked: Result<[UInt8]?, RecordRejection>

    init(_ record: ChainedRecord, event: EventDefinition, layout: BallotLayout, marks: inout [UInt8]) {
        decoded = Result { () throws(RecordPayload.StrictDecodingError) in
            try RecordPayload.decodeStrict(json: record.payload)
        }
        guard case .success(let read) = decoded else {
            checked = .success(nil)
            return
        }
        do {
            checked = .success(try read.payload.check(against: event, layout: layout, marks: &marks) ? marks : nil)
        } catch {
            checked = .failure(error)
        }
    }
}
