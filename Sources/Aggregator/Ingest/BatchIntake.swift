import Crypto
import Foundation
import Shared

/// Takes a signed batch from the wire to the database: verifies the signature over the raw body
/// before parsing it, checks node, venue, event and chain, then merges.
public struct BatchIntake: Sendable {
    public var database: AggregatorDatabase
    public var event: EventDefinition
    /// Most records one batch may hold.
    public var maxRecords: Int
    /// The aggregator's own key: it signs receipts and published heads (none in some tests).
    public var signingKey: Curve25519.Signing.PrivateKey?

    public init(database: AggregatorDatabase, event: EventDefinition, maxRecords: Int = 5_000,
                signingKey: Curve25519.Signing.PrivateKey? = nil) {
        self.database = database
        self.event = event
        self.maxRecords = maxRecords
        self.signingKey = signingKey
    }

    /// The receipt for an accepted batch, signed with the aggregator's key.
    public func receipt(for ack: BatchAck, venue: String) throws -> Receipt? {
        try signingKey.map {
            try Receipt.sign(venue: venue, node: ack.node, firstSeq: ack.firstSeq, lastSeq: ack.lastSeq,
                             lastHash: ack.lastHash, key: $0)
        }
    }

    /// The head of every venue chain, signed.
    public func signedHeads(now: Date = Date()) throws -> SignedHeads? {
        guard let key = signingKey else { return nil }
        let heads = try database.chainHeads().map { SignedHeads.Head(venue: $0.venue, seq: $0.seq, hash: $0.hash) }
        return try SignedHeads.sign(event: event.id, signedAt: now.formatted(.iso8601), heads: heads, key: key)
    }

    /// The request parts the intake needs.
    public struct SignedRequest: Sendable {
        public var path: String
        public var contentType: String?
        public var contentDigest: String?
        public var signatureInput: String?
        public var signature: String?
        public var body: Data

        public init(path: String = "/v1/batches", contentType: String?, contentDigest: String?, signatureInput: String?,
                    signature: String?, body: Data) {
            self.path = path
            self.contentType = contentType
            self.contentDigest = contentDigest
            self.signatureInput = signatureInput
            self.signature = signature
            self.body = body
        }
    }

    public func receive(_ request: SignedRequest) async throws -> BatchAck {
        try await receiveCounting(request).ack
    }

    /// Like `receive`, also saying how many new records of each kind were merged.
    public func receiveCounting(_ request: SignedRequest) async throws -> MergeResult {
        let verified = try verify(request)
        return try await database.merge(verified, event: event)
    }

    /// Records a node's heartbeat (its own view of its chain, backlog and disk).
    @discardableResult
    public func receiveHeartbeat(_ request: SignedRequest) throws -> (node: EnrolledNode, heartbeat: Heartbeat) {
        let node = try authenticatePost(request)
        let heartbeat: Heartbeat
        do {
            heartbeat = try JSONDecoder().decode(Heartbeat.self, from: request.body)
        } catch {
            throw APIError(.badRequest, .malformedBatch, "the body is not a heartbeat: \(error)")
        }
        guard heartbeat.node == node.id, heartbeat.venue == node.venue else {
            throw APIError(.forbidden, .nodeMismatch, "the heartbeat names node \(heartbeat.node) of venue "
                + "\(heartbeat.venue) but is signed by node \(node.id) of venue \(node.venue)")
        }
        try database.noteContact(node: node, heartbeat: heartbeat)
        return (node, heartbeat)
    }

    /// Checks a signed POST: JSON, a known key, a valid signature over the exact body, a current key.
    func authenticatePost(_ request: SignedRequest) throws -> EnrolledNode {
        guard let contentType = request.contentType,
              contentType.split(separator: ";").first?.trimmingCharacters(in: .whitespaces).lowercased()
                == "application/json" else {
            throw APIError(.unsupportedMediaType, .unsupportedMediaType, "a batch must be sent as application/json")
        }
        let keyID: String
        do {
            keyID = try MessageSignature.keyID(signatureInput: request.signatureInput)
        } catch {
            throw Self.apiError(error)
        }
        guard let node = try database.node(id: keyID),
              let publicKey = NodeIdentity.publicKey(base64: node.publicKey) else {
            throw APIError(.forbidden, .unknownNode, "node \(keyID) is not enrolled; enrol its public key with "
                + "`aggregator nodes add`")
        }
        do {
            try MessageSignature.verify(method: "POST", path: request.path, body: request.body,
                                        contentDigest: request.contentDigest, signatureInput: request.signatureInput,
                                        signature: request.signature, publicKey: publicKey)
        } catch {
            throw Self.apiError(error)
        }
        // An authentic request from a retired key: refused and kept as evidence.
        if let fenced = try database.fence(node) {
            let evidence = SignedEvidence(contentDigest: request.contentDigest ?? "",
                                          signatureInput: request.signatureInput ?? "",
                                          signature: request.signature ?? "", body: request.body)
            try database.raiseAlarm(kind: fenced.body.error.code.rawValue, node: node, message: fenced.body.error.message,
                                    evidence: evidence.json, once: true)
            throw fenced
        }
        return node
    }

    func verify(_ request: SignedRequest) throws -> VerifiedBatch {
        let node = try authenticatePost(request)
        // Only now, with the body authenticated, is it parsed.
        let batch: Batch
        do {
            batch = try JSONDecoder().decode(Batch.self, from: request.body)
        } catch {
            throw APIError(.badRequest, .malformedBatch, "the body is not a batch: \(error)")
        }
        guard batch.version == Batch.currentVersion else {
            throw APIError(.badRequest, .malformedBatch, "batch version \(batch.version) is not supported")
        }
        guard batch.node == node.id else {
            throw APIError(.forbidden, .nodeMismatch, "the batch names node \(batch.node) but is signed by node \(node.id)")
        }
        guard batch.venue == node.venue else {
            throw APIError(.forbidden, .venueMismatch,
                           "node \(node.id) is enrolled for venue \(node.venue), not \(batch.venue)")
        }
        guard batch.event == event.id else {
            throw APIError(.unprocessableContent, .eventMismatch,
                           "the batch is for event \(batch.event); this aggregator serves \(event.id)")
        }
        if let digest = batch.eventDigest, let installed = try database.installedEvent(), digest != installed.digest {
            throw APIError(.unprocessableContent, .eventMismatch,
                           "the node checked its records against another version of event \(event.id) (its file's "
                               + "SHA-256 is \(digest.prefix(16))…, the aggregator's \(installed.digest.prefix(16))…): "
                               + "give both the same event file")
        }
        // Sequence numbers stay far from overflow (2^53: beyond any event's records).
        guard batch.records.allSatisfy({ $0.seq <= 1 << 53 }) else {
            throw APIError(.badRequest, .malformedBatch, "a sequence number is out of range")
        }
        guard let first = batch.records.first, batch.records.count <= maxRecords, first.seq >= 1 else {
            throw APIError(.badRequest, .malformedBatch,
                           "a batch holds 1 to \(maxRecords) records, numbered from 1; this one holds \(batch.records.count)")
        }
        do {
            try RecordChain.verify(batch.records, afterSeq: first.seq - 1, afterHash: first.prev)
        } catch {
            let seq: Int64? = switch error {
            case .sequenceBreak(let position, _, _): batch.records[position].seq
            case .brokenLink(let seq, _, _), .hashMismatch(let seq, _, _): seq
            }
            throw APIError(.badRequest, .brokenChain, "the batch's chain is broken: \(error)", seq: seq)
        }
        return VerifiedBatch(node: node, batch: batch, body: request.body, contentDigest: request.contentDigest ?? "",
                             signatureInput: request.signatureInput ?? "", signature: request.signature ?? "")
    }

    /// Authenticates a signed request without a body (reads a node may make about its own venue):
    /// a valid signature, made within `maxAge` seconds (a week: node clocks may be hours off, and
    /// nothing else depends on them), by the venue's current node.
    public func authenticate(_ request: SignedRequest, method: String, now: Int64 = Int64(Date().timeIntervalSince1970),
                             maxAge: Int64 = 7 * 86_400) throws -> EnrolledNode {
        let keyID: String
        let created: Int64
        do {
            keyID = try MessageSignature.keyID(signatureInput: request.signatureInput)
            created = try MessageSignature.created(signatureInput: request.signatureInput)
        } catch {
            throw Self.apiError(error)
        }
        guard let node = try database.node(id: keyID),
              let publicKey = NodeIdentity.publicKey(base64: node.publicKey) else {
            throw APIError(.forbidden, .unknownNode, "node \(keyID) is not enrolled")
        }
        do {
            try MessageSignature.verify(method: method, path: request.path, body: request.body,
                                        contentDigest: request.contentDigest, signatureInput: request.signatureInput,
                                        signature: request.signature, publicKey: publicKey)
        } catch {
            throw Self.apiError(error)
        }
        let (skew, overflow) = now.subtractingReportingOverflow(created)
        guard !overflow, skew.magnitude <= UInt64(maxAge) else {
            throw APIError(.unauthorized, .staleSignature,
                           "the request was signed at \(created), more than \(maxAge) s from the aggregator's clock (\(now))")
        }
        if let fenced = try database.fence(node) { throw fenced }
        return node
    }

    private static func apiError(_ failure: MessageSignature.Failure) -> APIError {
        switch failure.reason {
        case .missing: APIError(.unauthorized, .missingSignature, failure.message)
        case .malformed: APIError(.badRequest, .malformedSignature, failure.message)
        case .digestMismatch: APIError(.badRequest, .digestMismatch, failure.message)
        case .badSignature: APIError(.unauthorized, .badSignature, failure.message)
        }
    }
}
