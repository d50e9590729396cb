import Crypto
import DaemonSupport
import Foundation
import Logging
import Shared
import Synchronization

/// Why a sync did not finish. `retryable` errors (network, server trouble) go away by themselves;
/// the others need an operator.
public struct SyncError: Error, CustomStringConvertible, Sendable {
    public var message: String
    public var retryable: Bool
    public var code: APIErrorCode?
    /// The request ran out of time (the daemon then sends smaller batches).
    public var timedOut = false

    public var description: String { message }
}

/// What one sync achieved.
public struct SyncReport: Sendable, Equatable {
    public var batchesSent: Int
    public var recordsSent: Int
    public var acknowledgedSeq: Int64
    public var lastSeq: Int64
}

/// Pushes a node's pending records to the aggregator: asks for the aggregator's cursor, then sends
/// signed batches from there until everything is acknowledged.
public struct Syncer: Sendable {
    public var directory: NodeDirectory
    public var database: NodeDatabase
    public var client: CurlHTTPClient
    public var batchSize: Int
    public var maxBatchBytes: Int
    public var logger: Logger
    /// Which of the aggregator's URLs is in use (shared by copies of this syncer: the daemon's rounds keep to the one
    /// that answered).
    let endpoints: AggregatorEndpoints

    /// `client` defaults to one that follows node.json's TLS settings (CA file, public key pin).
    public init(
        directory: NodeDirectory, database: NodeDatabase, client: CurlHTTPClient? = nil,
        batchSize: Int = 500, maxBatchBytes: Int = 512 * 1024, logger: Logger
    ) {
        self.directory = directory
        self.database = database
        self.client = client ?? directory.httpClient()
        self.batchSize = max(1, batchSize)
        self.maxBatchBytes = maxBatchBytes
        self.logger = logger
        self.endpoints = AggregatorEndpoints(urls: directory.configuration.aggregatorURLs)
    }

    /// The aggregator URL in use.
    private var base: String { endpoints.current }

    /// Sends everything pending. With `fromSeq`, resends from that record on whatever the
    /// aggregator holds (it ignores what it has already).
    public func sync(fromSeq: Int64? = nil, batchSize: Int? = nil) async throws -> SyncReport {
        if let role = try database.standbyRole() {
            guard !role.following else {
                throw SyncError(
                    message: "this node is a standby following \(role.primaryURL ?? "a primary"): the primary syncs; "
                        + "promote this node first if the primary is gone", retryable: false)
            }
            // A promoted standby enrols with the token kept at `follow` before its first batch: the venue's next
            // epoch, which retires the old primary's key.
            if let token = EnrolmentToken.kept(in: directory) {
                let response = try await enrol(token: token)
                EnrolmentToken.used(in: directory)
                logger.notice(
                    "enrolled as the venue's node after promotion", metadata: ["epoch": "\(response.epoch)"])
            }
        }
        do {
            let report = try await push(fromSeq: fromSeq, batchSize: max(1, batchSize ?? self.batchSize))
            do {
                try await sendHeartbeat()
            } catch {
                logger.notice("heartbeat not delivered", metadata: ["error": "\(error)"])
            }
            return report
        } catch let error as SyncError {
            try? database.logSync(ok: false, message: error.message)
            if !error.retryable {
                // Something an operator must act on (a forked chain, …): the central office hears of it too.
                logger.error("sync stopped", metadata: ["error": "\(error.message)"])
                try? await sendHeartbeat(problem: error.message)
            }
            throw error
        }
    }

    /// Tells the aggregator how this node sees itself (head, backlog, free disk, version, clock), and
    /// what stops its sync, if anything.
    public func sendHeartbeat(problem: String? = nil) async throws {
        let head = try database.head()
        let heartbeat = Heartbeat(
            node: directory.configuration.nodeID, venue: directory.configuration.venue, headSeq: head.seq,
            headHash: head.hash, pending: head.seq - (try database.acknowledgedSeq()),
            freeDiskBytes: DurableDatabase.freeBytes(near: directory.databasePath).map { Int64(clamping: $0) },
            version: sanminVersion, clock: Date().formatted(.iso8601), problem: problem)
        let reply = try await postSigned(path: "/v1/heartbeats", body: try JSONCoding.data(heartbeat, .wire))
        guard reply.status == 204 else { throw apiError(reply) }
    }

    private func push(fromSeq: Int64?, batchSize: Int) async throws -> SyncReport {
        let head = try database.head()
        var next: Int64
        if let fromSeq {
            guard fromSeq <= max(1, head.seq) else {
                let pending = try pendingCount(head: head)
                throw SyncError(
                    message: "--from-seq \(fromSeq) is beyond this node's last record (the head is record "
                        + "\(head.seq)): nothing would be sent, and \(pending) record(s) are pending. "
                        + "Give --from-seq 1 to \(head.seq), or leave it out to send what is pending", retryable: false)
            }
            next = max(1, fromSeq)
        } else {
            let cursor = try await fetchCursor()
            try checkCursor(cursor, head: head)
            let acknowledged = try database.acknowledgedSeq()
            if directory.configuration.aggregatorKey != nil {
                // The cursor answer is not signed: with receipts expected, only a receipt counts as an acknowledgement,
                // so what the cursor claims beyond the last receipt is sent again (the aggregator counts it once
                // and answers with a receipt).
                next = min(cursor.seq, acknowledged) + 1
            } else {
                if cursor.seq != acknowledged {
                    try database.logSync(ok: true, ackedSeq: cursor.seq, ackedHash: cursor.hash)
                }
                next = cursor.seq + 1
            }
        }
        var report = SyncReport(batchesSent: 0, recordsSent: 0, acknowledgedSeq: next - 1, lastSeq: head.seq)
        var gapsFollowed = 0
        while next <= head.seq {
            let records = try database.records(from: next, limit: batchSize, maxBytes: maxBatchBytes)
            guard let last = records.last else { break }
            let reply = try await post(Self.batch(records, directory: directory))
            report.batchesSent += 1
            switch reply.status {
            case 200:
                let ack = try decode(BatchAck.self, reply)
                guard ack.lastSeq == last.seq, ack.lastHash == last.hash else {
                    throw SyncError(
                        message: "the aggregator acknowledged \(ack.lastSeq) (\(ack.lastHash.prefix(12))…) "
                            + "for a batch ending at \(last.seq) (\(last.hash.prefix(12))…)", retryable: false)
                }
                try keepReceipt(for: ack, reply: reply)
                try database.logSync(ok: true, ackedSeq: ack.lastSeq, ackedHash: ack.lastHash)
                report.recordsSent += records.count
                report.acknowledgedSeq = ack.lastSeq
                logger.info(
                    "batch acknowledged", metadata: ["batch.first": "\(ack.firstSeq)", "batch.last": "\(ack.lastSeq)"])
                next = ack.lastSeq + 1
            case 409 where (try? decode(APIErrorBody.self, reply))?.error.code.means(.sequenceGap) == true:
                let body = try decode(APIErrorBody.self, reply)
                guard let resume = body.error.resumeFrom, resume >= 1, resume < next, gapsFollowed < 3 else {
                    throw SyncError(
                        message: "the aggregator keeps answering sequence_gap: \(body.error.message)",
                        retryable: false, code: .sequenceGap)
                }
                gapsFollowed += 1
                logger.notice("aggregator asks to resume earlier", metadata: ["resume.from": "\(resume)"])
                next = resume
            default:
                throw apiError(reply)
            }
        }
        return report
    }

    private func pendingCount(head: (seq: Int64, hash: String)) throws -> Int64 {
        max(0, head.seq - (try database.acknowledgedSeq()))
    }

    /// With the aggregator's key configured, checks the receipt that came with an acknowledgement and
    /// keeps it; an acknowledgement without a valid receipt is not believed.
    private func keepReceipt(for ack: BatchAck, reply: HTTPReply) throws {
        guard let keyText = directory.configuration.aggregatorKey,
            let key = NodeIdentity.publicKey(base64: keyText)
        else { return }
        let receipt = Receipt(
            venue: directory.configuration.venue, node: ack.node, firstSeq: ack.firstSeq,
            lastSeq: ack.lastSeq, lastHash: ack.lastHash,
            signature: reply.headers["receipt-signature"] ?? "")
        guard receipt.isValid(for: key) else {
            throw SyncError(
                message: "the acknowledgement of records \(ack.firstSeq)…\(ack.lastSeq) carries no valid "
                    + "receipt from the aggregator's key: something else may be answering at \(base)", retryable: true)
        }
        try database.saveReceipt(receipt)
    }

    /// The aggregator's signed heads of every venue chain.
    public func fetchHeads() async throws -> SignedHeads {
        let reply = try await signedGet(path: "/v1/heads")
        guard reply.status == 200 else { throw apiError(reply) }
        return try decode(SignedHeads.self, reply)
    }

    /// The aggregator's view of this node's chain.
    public func fetchCursor() async throws -> NodeCursor {
        let reply = try await signedGet(path: "/v1/nodes/\(directory.configuration.nodeID)/cursor")
        guard reply.status == 200 else { throw apiError(reply) }
        return try decode(NodeCursor.self, reply)
    }

    /// Enrols this node's key at the aggregator with a one-time token (`aggregator nodes enroll`). The
    /// same token may be presented again by the same key (if an answer was lost); never by another.
    public func enrol(token: String) async throws -> EnrolmentResponse {
        let request = EnrolmentRequest(
            token: token, venue: directory.configuration.venue,
            publicKey: directory.publicKeyBase64)
        let reply = try await postSigned(path: "/v1/enrolments", body: try JSONCoding.data(request, .wire))
        guard reply.status == 200 else { throw apiError(reply) }
        let response = try decode(EnrolmentResponse.self, reply)
        guard response.node == directory.configuration.nodeID, response.venue == directory.configuration.venue else {
            throw SyncError(
                message: "the aggregator enrolled node \(response.node) of venue \(response.venue), not this "
                    + "node", retryable: false)
        }
        return response
    }

    /// Pulls the venue's records back from the aggregator into an empty store (after a reimage), so
    /// numbering continues without a gap or a duplicate. Returns how many records were restored.
    public func restore(pageSize: Int = 1_000) async throws -> Int {
        guard try database.head().seq == 0 else {
            throw SyncError(
                message: "this node already holds records: restore only fills an empty data directory",
                retryable: false)
        }
        var records: [ChainedRecord] = []
        var head: Int64 = 0
        repeat {
            let path = "/v1/nodes/\(directory.configuration.nodeID)/records"
            let reply = try await signedGet(path: path, query: "from=\(records.count + 1)&limit=\(pageSize)")
            guard reply.status == 200 else { throw apiError(reply) }
            let page = try decode(RecordPage.self, reply)
            guard page.venue == directory.configuration.venue else {
                throw SyncError(message: "the aggregator sent records of venue \(page.venue)", retryable: false)
            }
            head = page.headSeq
            if page.records.isEmpty { break }
            records += page.records
        } while records.count < head
        do {
            try RecordChain.verify(records)
        } catch {
            throw SyncError(message: "the records sent back do not form a chain: \(error)", retryable: false)
        }
        try database.restore(records)
        if let last = records.last { try database.logSync(ok: true, ackedSeq: last.seq, ackedHash: last.hash) }
        return records.count
    }

    /// The venue's records the aggregator holds beyond this node's head (a promoted standby's catch-up: what the old
    /// primary sent before it died, which the standby never copied), in order, checked to continue this chain.
    public func recordsBeyondHead(pageSize: Int = 1_000) async throws -> [ChainedRecord] {
        let head = try database.head()
        var records: [ChainedRecord] = []
        while true {
            let path = "/v1/nodes/\(directory.configuration.nodeID)/records"
            let from = head.seq + Int64(records.count) + 1
            let reply = try await signedGet(path: path, query: "from=\(from)&limit=\(pageSize)")
            guard reply.status == 200 else { throw apiError(reply) }
            let page = try decode(RecordPage.self, reply)
            guard page.venue == directory.configuration.venue else {
                throw SyncError(message: "the aggregator sent records of venue \(page.venue)", retryable: false)
            }
            records += page.records
            if page.records.isEmpty || head.seq + Int64(records.count) >= page.headSeq { break }
        }
        do {
            try RecordChain.verify(records, afterSeq: head.seq, afterHash: head.hash)
        } catch {
            throw SyncError(
                message: "the aggregator's records of the venue do not continue this node's chain (held up to "
                    + "\(head.seq)): \(error)", retryable: false)
        }
        return records
    }

    /// A GET signed with the node's key (method, path and query): the aggregator answers reads only to
    /// its nodes and to holders of a bearer token.
    private func signedGet(path: String, query: String? = nil) async throws -> HTTPReply {
        let signed = try MessageSignature.sign(
            method: "GET", path: path, query: query, body: Data(),
            keyID: directory.configuration.nodeID, key: directory.key,
            created: Int64(Date().timeIntervalSince1970))
        return try await sendPacing(
            method: "GET", path: path + (query.map { "?\($0)" } ?? ""),
            headers: [
                "Content-Digest: \(signed.contentDigest)",
                "Signature-Input: \(signed.signatureInput)",
                "Signature: \(signed.signature)",
            ])
    }

    /// Sends a request to `path` of the aggregator in use; on `429 rate_limited` waits as `Retry-After` says (1 to 10 s
    /// at a time, a minute in all) and sends it again: the same signed request, which the aggregator has not processed.
    /// When the aggregator cannot be reached, or answers that it cannot serve (502, 503, 504), its replicas are tried
    /// in turn (node.json's `aggregator_replicas`), and the one that answers stays in use; a request that may have
    /// reached one before its connection was cut is not sent to another now (the next round resends it, and the
    /// aggregator counts nothing twice).
    private func sendPacing(method: String, path: String, headers: [String], body: Data? = nil) async throws
        -> HTTPReply
    {
        var waited = 0
        var tried = 0
        while true {
            let reply: HTTPReply
            let url = endpoints.current + path
            do {
                reply = try await client.send(method: method, url: url, headers: headers, body: body)
            } catch let error as TransportError {
                let sent = method == "POST" && error.mayHaveBeenReceived
                let failed = endpoints.current
                if endpoints.count > 1 { endpoints.advance(from: failed) }
                tried += 1
                guard !sent, tried < endpoints.count else { throw unreachable(error, sent: sent, at: failed) }
                logger.notice(
                    "aggregator unreachable: trying a replica",
                    metadata: ["failed": "\(failed)", "next": "\(endpoints.current)"])
                continue
            }
            if [502, 503, 504].contains(reply.status), endpoints.count > 1, tried + 1 < endpoints.count {
                let failed = endpoints.current
                endpoints.advance(from: failed)
                tried += 1
                logger.notice(
                    "aggregator cannot serve: trying a replica",
                    metadata: ["failed": "\(failed)", "status": "\(reply.status)", "next": "\(endpoints.current)"])
                continue
            }
            guard reply.status == 429, waited < 60 else { return reply }
            let wait = min(10, max(1, Int(reply.headers["retry-after"] ?? "") ?? 1))
            logger.notice("aggregator asks to slow down", metadata: ["retry.after": "\(wait)"])
            try await Task.sleep(for: .seconds(wait))
            waited += wait
        }
    }

    private func checkCursor(_ cursor: NodeCursor, head: (seq: Int64, hash: String)) throws {
        guard cursor.seq <= head.seq else {
            throw SyncError(
                message: "the aggregator holds \(cursor.seq) records of this node but the node has only "
                    + "\(head.seq): this data directory is not the one that sent them (restore it, or enrol a new node)",
                retryable: false)
        }
        if cursor.seq > 0, try database.hash(at: cursor.seq) != cursor.hash {
            throw SyncError(
                message: "record \(cursor.seq) held by the aggregator differs from this node's: "
                    + "the chains have forked; do not record further and call the central office", retryable: false)
        }
    }

    /// The batch of `records` as this node sends it (over HTTP, or carried in a file).
    static func batch(_ records: [ChainedRecord], directory: NodeDirectory) -> Batch {
        Batch(
            event: directory.configuration.eventID, venue: directory.configuration.venue,
            node: directory.configuration.nodeID, records: records, eventDigest: directory.event.digest)
    }

    /// `body` signed as this node's POST to `path`, now.
    static func sign(path: String, body: Data, directory: NodeDirectory) throws -> MessageSignature.Headers {
        try MessageSignature.sign(
            method: "POST", path: path, body: body, keyID: directory.configuration.nodeID, key: directory.key,
            created: Int64(Date().timeIntervalSince1970))
    }

    private func post(_ batch: Batch) async throws -> HTTPReply {
        return try await postSigned(path: "/v1/batches", body: try JSONCoding.data(batch, .wire))
    }

    private func postSigned(path: String, body: Data) async throws -> HTTPReply {
        let signed = try Self.sign(path: path, body: body, directory: directory)
        return try await sendPacing(
            method: "POST", path: path,
            headers: [
                "Content-Type: application/json",
                "Content-Digest: \(signed.contentDigest)",
                "Signature-Input: \(signed.signatureInput)",
                "Signature: \(signed.signature)",
            ], body: body)
    }

    /// `sent`: the request may have reached the aggregator at `base` before the connection failed (its answer never
    /// came).
    private func unreachable(_ error: TransportError, sent: Bool = false, at base: String) -> SyncError {
        guard sent else {
            return SyncError(
                message: "cannot reach the aggregator at \(base)"
                    + (endpoints.count > 1 ? " (nor its \(endpoints.count - 1) replica(s))" : "")
                    + ": \(error.message)",
                retryable: true, timedOut: error.isTimeout)
        }
        return SyncError(
            message: "the connection to the aggregator at \(base) was cut off before it answered (\(error.message)): "
                + "the batch may or may not have been committed. Running sync again is safe: the aggregator counts "
                + "nothing twice, and this node sends again only what it has not seen acknowledged",
            retryable: true, timedOut: error.isTimeout)
    }

    private func decode<T: Decodable>(_ type: T.Type, _ reply: HTTPReply) throws -> T {
        do {
            return try JSONDecoder().decode(type, from: reply.body)
        } catch {
            throw SyncError(
                message: "the aggregator answered \(reply.status) with a body this node cannot read",
                retryable: true)
        }
    }

    private func apiError(_ reply: HTTPReply) -> SyncError {
        let retryable = reply.status >= 500 || reply.status == 429 || reply.status == 408
        guard let body = try? JSONDecoder().decode(APIErrorBody.self, from: reply.body) else {
            return SyncError(
                message: "the aggregator answered HTTP \(reply.status)"
                    + (endpoints.count > 1 ? " (the last of \(endpoints.count) aggregator URLs tried: \(base))" : ""),
                retryable: retryable)
        }
        var message = "the aggregator refused (\(reply.status) \(body.error.code.rawValue)): \(body.error.message)"
        if body.error.code.means(.unknownNode) {
            message +=
                "; enrol this node with: aggregator nodes add --data-dir DIR --venue "
                + "\(directory.configuration.venue) --public-key \(directory.publicKeyBase64)"
        }
        return SyncError(message: message, retryable: retryable, code: body.error.code)
    }
}

/// The aggregator's URLs (its own, then its replicas') and the one in use: the first at start, the next whenever the
/// one in use fails.
final class AggregatorEndpoints: Sendable {
    private let urls: [String]
    private let index = Mutex(0)

    init(urls: [String]) { self.urls = urls.isEmpty ? [""] : urls }

    var count: Int { urls.count }
    var current: String { urls[index.withLock { $0 }] }

    /// Moves on from `failed` to the next URL (unless another request has moved on already).
    func advance(from failed: String) {
        index.withLock { position in
            if urls[position] == failed { position = (position + 1) % urls.count }
        }
    }
}
