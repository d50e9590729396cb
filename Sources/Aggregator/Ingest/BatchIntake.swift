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
    /// How far a request's signature time (`created`) may be from the aggregator's clock, in seconds.
    /// Generous by default (a week): node clocks may be hours off and nothing else depends on them;
    /// a replayed batch is harmless anyway (it merges as a duplicate), this bounds how old one may be.
    public var maxSignatureAge: Int64

    public init(database: AggregatorDatabase, event: EventDefinition, maxRecords: Int = 5_000,
                signingKey: Curve25519.Signing.PrivateKey? = nil, maxSignatureAge: Int64 = 7 * 86_400) {
        self.database = database
        self.event = event
        self.maxRecords = maxRecords
        self.signingKey = signingKey
        self.maxSignatureAge = maxSignatureAge
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
        if let problem = Self.implausible(heartbeat) {
            throw APIError(.unprocessableContent, .invalidHeartbeat, "\(problem.field): \(problem.message)",
                           field: problem.field)
        }
        do {
            let signedAt = (try? MessageSignature.created(signatureInput: request.signatureInput)) ?? 0
            try database.noteContact(node: node, heartbeat: heartbeat,
                                     replayCheck: (MessageSignature.contentDigest(of: request.body), signedAt, maxSignatureAge))
        } catch is HeartbeatReplay {
            throw APIError(.conflict, .replayedRequest, "node \(node.id) sent this very heartbeat before: a replay is not "
                + "counted as contact")
        }
        if let problem = heartbeat.problem {
            // What stopped the node's own sync (its chain forked from the aggregator's, …): an operator must act.
            try database.raiseAlarm(kind: "node_problem", node: node,
                                    message: "node \(node.id) of venue \(node.venue) reports: \(problem.prefix(500))",
                                    evidence: nil, oncePerNode: true)
        }
        return (node, heartbeat)
    }

    /// The first figure of a heartbeat no node can have sent (a negative count, a backlog larger than the
    /// chain, …), or nil: such values would reach the dashboard and the report as they are.
    static func implausible(_ heartbeat: Heartbeat) -> (field: String, message: String)? {
        let maxSeq: Int64 = 1 << 53
        if !(0..<maxSeq).contains(heartbeat.headSeq) {
            return ("head_seq", "\(heartbeat.headSeq) is not a sequence number (0 to 2^53-1)")
        }
        if heartbeat.headHash.count != 64 || !heartbeat.headHash.allSatisfy({ $0.isHexDigit && !$0.isUppercase }) {
            return ("head_hash", "must be 64 lowercase hex digits")
        }
        if !(0...heartbeat.headSeq).contains(heartbeat.pending) {
            return ("pending", "\(heartbeat.pending) records pending, with \(heartbeat.headSeq) records in all: must be 0 "
                + "to head_seq")
        }
        if let free = heartbeat.freeDiskBytes, !(0...(Int64(1) << 60)).contains(free) {
            return ("free_disk_bytes", "\(free) is not a plausible number of free bytes (0 to 2^60)")
        }
        if heartbeat.version.count > 64 { return ("version", "longer than 64 characters") }
        if heartbeat.clock.count > 64 { return ("clock", "longer than 64 characters") }
        return nil
    }

    /// Checks a signed POST: JSON, a known key, a valid signature over the exact body, a current key.
    func authenticatePost(_ request: SignedRequest) throws -> EnrolledNode {
        try Self.requireJSON(request)
        let keyID = try Self.keyID(request)
        guard let node = try database.node(id: keyID),
              let publicKey = NodeIdentity.publicKey(base64: node.publicKey) else {
            throw APIError(.forbidden, .unknownNode, "node \(keyID) is not enrolled; enrol its public key with "
                + "`aggregator nodes add`")
        }
        try verifySignature(request, method: "POST", key: publicKey)
        // An authentic request from a retired key: refused and kept as evidence.
        if let fenced = try database.fence(node) {
            let evidence = SignedEvidence(contentDigest: request.contentDigest ?? "",
                                          signatureInput: request.signatureInput ?? "",
                                          signature: request.signature ?? "", body: request.body)
            try database.raiseAlarm(kind: fenced.body.error.code.rawValue, node: node, message: fenced.body.error.message,
                                    evidence: evidence.json, oncePerNode: true)
            throw fenced
        }
        return node
    }

    func verify(_ request: SignedRequest) throws -> VerifiedBatch {
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
        if let digest = batch.eventDigest, let installed = try database.acceptedEventDigests(),
           !installed.accepted.contains(digest) {
            throw APIError(.unprocessableContent, .eventMismatch,
                           "the node checked its records against another version of event \(event.id) (its event's "
                               + "SHA-256 is \(digest.prefix(16))…, the aggregator's \(installed.current.prefix(16))…): "
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
    /// a valid signature over the method, path and (when given) query, made within `maxSignatureAge`
    /// seconds, by a venue's current node.
    public func authenticate(_ request: SignedRequest, method: String, query: String? = nil,
                             now: Int64 = Int64(Date().timeIntervalSince1970)) throws -> EnrolledNode {
        let keyID = try Self.keyID(request)
        guard let node = try database.node(id: keyID),
              let publicKey = NodeIdentity.publicKey(base64: node.publicKey) else {
            throw APIError(.forbidden, .unknownNode, "node \(keyID) is not enrolled")
        }
        try verifySignature(request, method: method, query: query, key: publicKey, now: now)
        if let fenced = try database.fence(node) {
            // An authentic read from a retired or revoked key: the key is in someone's hands. Kept as evidence,
            // with an alarm, the first time (a node retrying every few seconds does not fill the disk).
            struct ReadEvidence: Encodable {
                var method: String
                var path: String
                var query: String?
                var signatureInput: String
                var signature: String
            }
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
            let evidence = (try? encoder.encode(ReadEvidence(method: method, path: request.path, query: query,
                                                             signatureInput: request.signatureInput ?? "",
                                                             signature: request.signature ?? "")))
                .map { String(decoding: $0, as: UTF8.self) }
            try database.raiseAlarm(kind: fenced.body.error.code.rawValue, node: node,
                                    message: "signed read \(method) \(request.path): " + fenced.body.error.message,
                                    evidence: evidence, oncePerNode: true)
            throw fenced
        }
        return node
    }

    /// Verifies the digest and the signature with `key`, then the signature's age.
    func verifySignature(_ request: SignedRequest, method: String, query: String? = nil,
                         key: Curve25519.Signing.PublicKey, now: Int64 = Int64(Date().timeIntervalSince1970)) throws {
        do {
            try MessageSignature.verify(method: method, path: request.path, query: query, body: request.body,
                                        contentDigest: request.contentDigest, signatureInput: request.signatureInput,
                                        signature: request.signature, publicKey: key)
        } catch {
            throw Self.apiError(error)
        }
        try checkFreshness(request, now: now)
    }

    /// Refuses a request signed more than `maxSignatureAge` seconds away from the aggregator's clock.
    func checkFreshness(_ request: SignedRequest, now: Int64 = Int64(Date().timeIntervalSince1970)) throws {
        let created: Int64
        do {
            created = try MessageSignature.created(signatureInput: request.signatureInput)
        } catch {
            throw Self.apiError(error)
        }
        let (skew, overflow) = now.subtractingReportingOverflow(created)
        guard !overflow, skew.magnitude <= UInt64(maxSignatureAge) else {
            throw APIError(.unauthorized, .staleSignature, "the request was signed at \(created), more than "
                + "\(maxSignatureAge) s from the aggregator's clock (\(now))")
        }
    }

    /// `POST /v1/enrolments`: enrols the key a one-time token is presented with. The request must be
    /// signed by that key (its node id as `keyid`): only the holder of the private key can enrol it.
    public func enrol(_ request: SignedRequest) throws -> EnrolmentResponse {
        try Self.requireJSON(request)
        let keyID = try Self.keyID(request)
        guard request.body.count <= 4_096 else {
            throw APIError(.contentTooLarge, .bodyTooLarge, "an enrolment request may be at most 4096 bytes")
        }
        // The key to verify with is in the body: a small, flat document, parsed before the signature is checked.
        let enrolment: EnrolmentRequest
        do {
            enrolment = try JSONDecoder().decode(EnrolmentRequest.self, from: request.body)
        } catch {
            throw APIError(.badRequest, .malformedBatch, "the body is not an enrolment request: \(error)")
        }
        guard let key = NodeIdentity.publicKey(base64: enrolment.publicKey) else {
            throw APIError(.badRequest, .malformedBatch, "public_key is not an Ed25519 public key (base64 of 32 bytes)")
        }
        guard NodeIdentity.nodeID(for: key) == keyID else {
            throw APIError(.forbidden, .nodeMismatch, "the request is signed as \(keyID), not by the key it enrols")
        }
        try verifySignature(request, method: "POST", key: key)
        do {
            let node = try database.redeemEnrolmentToken(enrolment.token, venue: enrolment.venue, key: key)
            return EnrolmentResponse(node: node.id, venue: node.venue, epoch: node.epoch,
                                     aggregatorKey: signingKey?.publicKey.rawRepresentation.base64EncodedString())
        } catch let refusal as EnrolmentRefusal {
            switch refusal {
            case .unknownToken: throw APIError(.unauthorized, .enrolmentTokenInvalid, refusal.description)
            case .expired: throw APIError(.unauthorized, .enrolmentTokenExpired, refusal.description)
            case .used: throw APIError(.conflict, .enrolmentTokenUsed, refusal.description)
            case .otherVenue: throw APIError(.forbidden, .venueMismatch, refusal.description)
            case .revoked: throw APIError(.unauthorized, .enrolmentTokenRevoked, refusal.description)
            }
        } catch let error as AggregatorError {
            throw APIError(.conflict, .enrolmentTokenUsed, error.description)
        }
    }

    /// The key id the request's `Signature-Input` claims.
    static func keyID(_ request: SignedRequest) throws -> String {
        do {
            return try MessageSignature.keyID(signatureInput: request.signatureInput)
        } catch {
            throw apiError(error)
        }
    }

    static func requireJSON(_ request: SignedRequest) throws {
        guard let contentType = request.contentType,
              contentType.split(separator: ";").first?.trimmingCharacters(in: .whitespaces).lowercased()
                == "application/json" else {
            throw APIError(.unsupportedMediaType, .unsupportedMediaType, "a request body must be application/json")
        }
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
