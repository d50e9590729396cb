import Crypto
import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdCore
import HummingbirdTLS
import Logging
import NIOSSL
import ServiceLifecycle
import Shared

/// What `buildApplication` needs.
public struct AggregatorSettings: Sendable {
    public var host: String
    public var port: Int
    /// Largest request body accepted, in bytes.
    public var maxBodyBytes: Int
    /// Requests per client address (nil: no limit).
    public var rateLimit: RateLimit?
    /// Serve HTTPS with this certificate chain and private key (PEM files); nil: plain HTTP.
    public var tls: TLSFiles?
    /// Connections held open per client and in all.
    public var connectionLimits: ConnectionLimits
    /// Deadlines for a request's head and body, and for a kept-alive connection between requests.
    public var deadlines: ConnectionDeadlines
    /// Reverse proxies whose `X-Forwarded-For` names the client (for the rate limit).
    public var trustedProxies: TrustedProxies

    public struct TLSFiles: Sendable {
        public var certificateChain: String
        public var privateKey: String

        public init(certificateChain: String, privateKey: String) {
            self.certificateChain = certificateChain
            self.privateKey = privateKey
        }
    }

    public init(host: String = "127.0.0.1", port: Int = 8080, maxBodyBytes: Int = 8 << 20,
                rateLimit: RateLimit? = .default, tls: TLSFiles? = nil,
                connectionLimits: ConnectionLimits = .default, deadlines: ConnectionDeadlines = .default,
                trustedProxies: TrustedProxies = .none) {
        self.host = host
        self.port = port
        self.maxBodyBytes = maxBodyBytes
        self.rateLimit = rateLimit
        self.tls = tls
        self.connectionLimits = connectionLimits
        self.deadlines = deadlines
        self.trustedProxies = trustedProxies
    }
}

/// The aggregator's routes.
public func buildRouter(intake: BatchIntake, settings: AggregatorSettings, hub: DashboardHub,
                        metrics: IngestMetrics) -> Router<TallyRequestContext> {
    let router = Router(context: TallyRequestContext.self)
    router.add(middleware: ErrorBodyMiddleware())
    if let limit = settings.rateLimit {
        router.add(middleware: RateLimitMiddleware(limit: limit, trustedProxies: settings.trustedProxies))
    }
    router.add(middleware: TokenMiddleware(database: intake.database))
    router.get("/healthz") { _, _ in "ok\n" }
    router.get("/v1/identity") { _, _ -> Response in
        guard let key = intake.signingKey else {
            throw APIError(.notFound, .notFound, "this aggregator has no signing key")
        }
        return try JSONResponse.make(AggregatorIdentity(
            event: intake.event.id, aggregatorKey: key.publicKey.rawRepresentation.base64EncodedString()))
    }
    router.get("/readyz") { _, _ -> Response in
        intake.database.isReady()
            ? Response(status: .ok, body: ResponseBody(byteBuffer: ByteBuffer(string: "ready\n")))
            : Response(status: .serviceUnavailable, body: ResponseBody(byteBuffer: ByteBuffer(string: "not ready\n")))
    }
    router.get("/metrics") { _, _ -> Response in
        Response(status: .ok, headers: [.contentType: "text/plain; version=0.0.4; charset=utf-8"],
                 body: ResponseBody(byteBuffer: ByteBuffer(string: metrics.exposition())))
    }
    DashboardController(intake: intake, hub: hub).addRoutes(to: router)
    BatchController(intake: intake, maxBodyBytes: settings.maxBodyBytes, hub: hub, metrics: metrics)
        .addRoutes(to: router.group("v1"))
    return router
}

/// The aggregator's HTTP application; `onServerRunning` is told the port actually bound. `connections`
/// counts the open connections (the watchdog's self-check reads it); by default one made from `settings`.
public func buildApplication(
    intake: BatchIntake, settings: AggregatorSettings, logger: Logger, services: [any Service] = [],
    metrics: IngestMetrics = IngestMetrics(), connections: ConnectionLimiter? = nil,
    onServerRunning: @escaping @Sendable (Int) async -> Void = { _ in }
) throws -> some ApplicationProtocol {
    let hub = DashboardHub(database: intake.database, logger: logger)
    let limiter = connections ?? ConnectionLimiter(limits: settings.connectionLimits,
                                                   trustedProxies: settings.trustedProxies)
    return Application(
        router: buildRouter(intake: intake, settings: settings, hub: hub, metrics: metrics),
        server: try server(settings, connections: limiter, logger: logger),
        configuration: .init(address: .hostname(settings.host, port: settings.port), serverName: "sanmin-aggregator"),
        services: services + [hub],
        onServerRunning: { channel in await onServerRunning(channel.localAddress?.port ?? settings.port) },
        logger: logger)
}

/// HTTP/1.1, inside TLS when certificate and key are given. Every connection first meets the caps of
/// `connections` (`ConnectionAdmissionHandler`, before TLS), then the deadlines of `settings.deadlines`
/// (`RequestDeadlineHandler`, after HTTP decoding).
func server(_ settings: AggregatorSettings, connections: ConnectionLimiter, logger: Logger) throws -> HTTPServerBuilder {
    let deadlines = settings.deadlines
    // Hummingbird's own idle timeout is left off: one byte now and then would reset it.
    let http = HTTP1Channel.Configuration(
        additionalChannelHandlers: [RequestDeadlineHandler(deadlines: deadlines, limiter: connections, logger: logger)])
    guard let tls = settings.tls else {
        return HTTPServerBuilder { responder in
            GuardedChildChannel(base: HTTP1Channel(responder: responder, configuration: http), limiter: connections)
        }
    }
    let configuration: TLSConfiguration
    do {
        let chain = try NIOSSLCertificate.fromPEMFile(tls.certificateChain)
        let key = try NIOSSLPrivateKey(file: tls.privateKey, format: .pem)
        var tlsConfiguration = TLSConfiguration.makeServerConfiguration(
            certificateChain: chain.map { .certificate($0) }, privateKey: .privateKey(key))
        tlsConfiguration.minimumTLSVersion = .tlsv12
        // Fails here, before the server starts, when certificate and key do not go together.
        _ = try NIOSSLContext(configuration: tlsConfiguration)
        configuration = tlsConfiguration
    } catch {
        throw AggregatorError("cannot use the TLS certificate \(tls.certificateChain) and key \(tls.privateKey): \(error)")
    }
    return HTTPServerBuilder { responder in
        GuardedChildChannel(
            base: try TLSChannel(HTTP1Channel(responder: responder, configuration: http), tlsConfiguration: configuration),
            limiter: connections)
    }
}

/// `POST /v1/batches`, `POST /v1/heartbeats`, `POST /v1/enrolments`, `POST /v1/admin/enrolment-tokens`,
/// `GET /v1/nodes/{id}/cursor`, `GET /v1/nodes/{id}/records`, `GET /v1/totals`, `GET /v1/reconciliation`,
/// `GET /v1/results`, `GET /v1/heads`.
struct BatchController {
    var intake: BatchIntake
    var maxBodyBytes: Int
    var hub: DashboardHub
    var metrics: IngestMetrics

    func addRoutes(to group: RouterGroup<TallyRequestContext>) {
        group.post("batches", use: receive)
        group.post("heartbeats", use: heartbeat)
        group.post("enrolments", use: enrol)
        group.post("admin/enrolment-tokens", use: issueEnrolmentToken)
        group.post("admin/nodes/:id/revoke", use: revoke)
        group.get("admin/roster", use: rosterExport)
        group.get("nodes/:id/cursor", use: cursor)
        group.get("nodes/:id/records", use: records)
        group.get("totals", use: totals)
        group.get("reconciliation", use: reconciliation)
        group.get("results", use: results)
        group.get("heads", use: heads)
    }

    /// A node enrols its key with a one-time token.
    @Sendable func enrol(_ request: Request, context: TallyRequestContext) async throws -> Response {
        var request = request
        let buffer: ByteBuffer
        do {
            buffer = try await request.collectBody(upTo: 4_096)
        } catch {
            throw APIError(.contentTooLarge, .bodyTooLarge, "an enrolment request may be at most 4096 bytes")
        }
        let response = try intake.enrol(try signed(request, body: Data(buffer: buffer)))
        context.logger.notice("node enrolled", metadata: [
            "node.id": "\(response.node)", "venue": "\(response.venue)", "epoch": "\(response.epoch)",
        ])
        hub.publish()
        return try JSONResponse.make(response)
    }

    /// An admin issues an enrolment token over HTTP: `{"venue": …, "valid_hours": …}`.
    @Sendable func issueEnrolmentToken(_ request: Request, context: TallyRequestContext) async throws -> Response {
        struct Body: Decodable {
            var venue: String
            var validHours: Int?

            enum CodingKeys: String, CodingKey { case venue, validHours = "valid_hours" }
        }
        struct Answer: Encodable {
            var token: String
            var venue: String
            var validHours: Int

            enum CodingKeys: String, CodingKey { case token, venue, validHours = "valid_hours" }
        }
        var request = request
        let body: Body
        do {
            body = try JSONDecoder().decode(Body.self, from: Data(buffer: try await request.collectBody(upTo: 4_096)))
        } catch {
            throw APIError(.badRequest, .malformedBatch, "the body must be {\"venue\": …, \"valid_hours\": 1…720}")
        }
        let hours = body.validHours ?? 24
        guard (1...720).contains(hours) else {
            throw APIError(.badRequest, .malformedBatch, "valid_hours must be 1 to 720")
        }
        do {
            let token = try intake.database.issueEnrolmentToken(venue: body.venue, validFor: Int64(hours) * 3600)
            return try JSONResponse.make(Answer(token: token, venue: body.venue, validHours: hours), status: .created)
        } catch let error as AggregatorError {
            throw APIError(.unprocessableContent, .venueMismatch, error.description)
        }
    }

    /// An admin revokes a node's key: `{"reason": …}`. Nothing it signs is accepted afterwards.
    @Sendable func revoke(_ request: Request, context: TallyRequestContext) async throws -> Response {
        struct Body: Decodable { var reason: String }
        let id = try context.parameters.require("id")
        var request = request
        let buffer: ByteBuffer
        do {
            buffer = try await request.collectBody(upTo: 4_096)
        } catch {
            throw APIError(.contentTooLarge, .bodyTooLarge, "a revocation may be at most 4096 bytes")
        }
        let body: Body
        do {
            body = try JSONDecoder().decode(Body.self, from: Data(buffer: buffer))
        } catch {
            throw APIError(.badRequest, .malformedBatch, "the body must be {\"reason\": \"…\"}")
        }
        guard !body.reason.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty else {
            throw APIError(.badRequest, .malformedBatch, "a revocation needs a reason")
        }
        guard try intake.database.node(id: id) != nil else {
            throw APIError(.notFound, .unknownNode, "node \(id) is not enrolled")
        }
        do {
            try intake.database.revoke(nodeID: id, reason: body.reason)
        } catch let error as AggregatorError {
            throw APIError(.conflict, .revokedNode, error.description)
        }
        context.logger.notice("node revoked", metadata: ["node.id": "\(id)", "reason": "\(body.reason)"])
        hub.publish()
        return Response(status: .noContent)
    }

    /// An admin fetches a venue's roster for `venue-node roster import` (`?venue=V`, required; person keys,
    /// never ID-card numbers), as CSV.
    @Sendable func rosterExport(_ request: Request, context: TallyRequestContext) async throws -> Response {
        guard let venue = request.uri.queryParameters.get("venue"), intake.event.venue(venue) != nil else {
            throw APIError(.notFound, .notFound, "give ?venue= with a venue of event \(intake.event.id): "
                + intake.event.venues.map(\.id).joined(separator: ", "))
        }
        let roster = try intake.database.roster().filter { $0.venue == venue }
        return Response(status: .ok, headers: [.contentType: "text/csv; charset=utf-8", .cacheControl: "no-store"],
                        body: ResponseBody(byteBuffer: ByteBuffer(string: roster.venueCSV())))
    }

    /// Every venue chain's head, signed by the aggregator's key. Readable with a token, or by a node
    /// with a signed GET.
    @Sendable func heads(_ request: Request, context: TallyRequestContext) async throws -> Response {
        try authenticateIfSigned(request)
        guard let heads = try intake.signedHeads() else {
            throw APIError(.notFound, .notFound, "this aggregator has no signing key")
        }
        return try JSONResponse.make(heads)
    }

    @Sendable func receive(_ request: Request, context: TallyRequestContext) async throws -> Response {
        let start = ContinuousClock.now
        do {
            var request = request
            let buffer: ByteBuffer
            do {
                buffer = try await request.collectBody(upTo: maxBodyBytes)
            } catch {
                throw APIError(.contentTooLarge, .bodyTooLarge, "a batch may be at most \(maxBodyBytes) bytes")
            }
            let result = try await intake.receiveCounting(try signed(request, body: Data(buffer: buffer)))
            metrics.batch(outcome: "accepted", duration: ContinuousClock.now - start)
            for (kind, count) in result.newRecords { metrics.records(kind: kind, count: count) }
            context.logger.info("batch accepted", metadata: [
                "node.id": "\(result.ack.node)", "batch.first": "\(result.ack.firstSeq)",
                "batch.last": "\(result.ack.lastSeq)", "records.new": "\(result.newRecords.values.reduce(0, +))",
            ])
            if !result.newRecords.isEmpty { hub.publish() }
            var response = try JSONResponse.make(result.ack)
            if let node = try intake.database.node(id: result.ack.node),
               let receipt = try intake.receipt(for: result.ack, venue: node.venue) {
                response.headers[.receiptSignature] = receipt.signature
            }
            return response
        } catch let error as APIError {
            metrics.batch(outcome: error.body.error.code.rawValue, duration: ContinuousClock.now - start)
            context.logger.notice("batch refused", metadata: ["error.code": "\(error.body.error.code.rawValue)"])
            if error.body.error.code == .chainConflict || error.body.error.code == .staleEpoch
                || error.body.error.code == .revokedNode {
                hub.publish()
            }
            throw error
        }
    }

    @Sendable func heartbeat(_ request: Request, context: TallyRequestContext) async throws -> Response {
        var request = request
        let buffer: ByteBuffer
        do {
            buffer = try await request.collectBody(upTo: 64 << 10)
        } catch {
            throw APIError(.contentTooLarge, .bodyTooLarge, "a heartbeat may be at most \(64 << 10) bytes")
        }
        let (node, heartbeat) = try intake.receiveHeartbeat(try signed(request, body: Data(buffer: buffer)))
        metrics.venue(node.venue, pending: heartbeat.pending, held: try intake.database.cursor(node: node).seq)
        hub.publish()
        return Response(status: .noContent)
    }

    private func signed(_ request: Request, body: Data) throws -> BatchIntake.SignedRequest {
        // A header given twice is ambiguous: refuse rather than pick one.
        for name in [HTTPField.Name.contentType, .contentDigest, .signatureInput, .signature]
        where request.headers[values: name].count > 1 {
            throw APIError(.badRequest, .malformedSignature, "the header \(name.rawName) is given more than once")
        }
        return .init(path: request.uri.path, contentType: request.headers[.contentType],
                     contentDigest: request.headers[.contentDigest], signatureInput: request.headers[.signatureInput],
                     signature: request.headers[.signature], body: body)
    }

    @Sendable func cursor(_ request: Request, context: TallyRequestContext) async throws -> Response {
        let id = try context.parameters.require("id")
        if let signer = try authenticateIfSigned(request), signer.id != id {
            throw APIError(.forbidden, .nodeMismatch, "the request is signed by node \(signer.id), not \(id)")
        }
        guard let node = try intake.database.node(id: id) else {
            throw APIError(.notFound, .unknownNode, "node \(id) is not enrolled")
        }
        return try JSONResponse.make(try intake.database.cursor(node: node))
    }

    /// A signed GET (the middleware let it through without a token): the node that signed it.
    @discardableResult
    private func authenticateIfSigned(_ request: Request) throws -> EnrolledNode? {
        guard request.headers[.signatureInput] != nil else { return nil }
        return try intake.authenticate(.init(
            path: request.uri.path, contentType: nil, contentDigest: request.headers[.contentDigest],
            signatureInput: request.headers[.signatureInput], signature: request.headers[.signature], body: Data()),
            method: "GET", query: request.uri.query)
    }

    /// The node's venue chain, for a redeployed node to restore; only its venue's current node may read it.
    @Sendable func records(_ request: Request, context: TallyRequestContext) async throws -> Response {
        let id = try context.parameters.require("id")
        guard let node = try authenticateIfSigned(request) else {
            throw APIError(.unauthorized, .missingSignature, "only the venue's current node may read its records "
                + "(a GET signed with its key)")
        }
        guard node.id == id else {
            throw APIError(.forbidden, .nodeMismatch, "the request is signed by node \(node.id), not \(id)")
        }
        let from = max(1, request.uri.queryParameters.get("from", as: Int64.self) ?? 1)
        let limit = min(5_000, max(1, request.uri.queryParameters.get("limit", as: Int.self) ?? 1_000))
        let records = try intake.database.records(venue: node.venue, from: from, limit: limit)
        let head = try intake.database.cursor(node: node)
        return try JSONResponse.make(RecordPage(venue: node.venue, records: records, headSeq: head.seq))
    }

    /// Attendance, findings and the inputs they were computed from.
    @Sendable func reconciliation(_ request: Request, context: TallyRequestContext) async throws -> Response {
        let report = try await report()
        struct Body: Encodable {
            var event: String
            var generatedAt: String
            var inputDigest: String
            var inputs: [ChainHead]
            var attendance: [AttendanceRow]
            var findings: [Finding]

            enum CodingKeys: String, CodingKey {
                case event, generatedAt = "generated_at", inputDigest = "input_digest", inputs, attendance, findings
            }
        }
        return try JSONResponse.make(Body(event: report.event, generatedAt: report.generatedAt,
                                          inputDigest: report.inputDigest, inputs: report.inputs,
                                          attendance: report.attendance, findings: report.findings))
    }

    /// Scores and ranks per scope (refused while the event's results are confidential and not released).
    @Sendable func results(_ request: Request, context: TallyRequestContext) async throws -> Response {
        guard try intake.database.resultsVisible(event: intake.event) else {
            throw APIError(.forbidden, .resultsConfidential,
                           "the results of this event are confidential until released (aggregator results release)")
        }
        let report = try await report()
        struct Body: Encodable {
            var event: String
            var generatedAt: String
            var inputDigest: String
            var results: [ResultsTable]

            enum CodingKeys: String, CodingKey {
                case event, generatedAt = "generated_at", inputDigest = "input_digest", results
            }
        }
        return try JSONResponse.make(Body(event: report.event, generatedAt: report.generatedAt,
                                          inputDigest: report.inputDigest, results: report.results))
    }

    private func report() async throws -> Report {
        guard let event = try intake.database.installedEvent() else {
            throw APIError(.notFound, .notFound, "no event is installed")
        }
        return try intake.database.cachedReport(event: event).report
    }

    /// Running totals; the per-department tallies are left out while results are confidential.
    @Sendable func totals(_ request: Request, context: TallyRequestContext) async throws -> Response {
        var totals = try intake.database.totals(eventID: intake.event.id)
        if try !intake.database.resultsVisible(event: intake.event) { totals.tallies = [] }
        return try JSONResponse.make(totals)
    }
}

/// The dashboard page, its state as JSON, and its stream of updates.
struct DashboardController {
    var intake: BatchIntake
    var hub: DashboardHub

    func addRoutes(to router: Router<TallyRequestContext>) {
        router.get("/") { _, _ in Response(status: .seeOther, headers: [.location: "/dashboard"]) }
        router.get("/dashboard") { _, _ in
            Response(status: .ok, headers: [.contentType: "text/html; charset=utf-8", .cacheControl: "no-store"],
                     body: ResponseBody(byteBuffer: ByteBuffer(string: DashboardPage.html)))
        }
        router.get("/v1/dashboard") { _, _ -> Response in
            guard let event = try intake.database.installedEvent() else {
                throw APIError(.notFound, .notFound, "no event is installed")
            }
            return try JSONResponse.make(try DashboardState.build(database: intake.database, event: event))
        }
        router.get("/v1/events") { _, _ -> Response in
            let stream = await hub.subscribe()
            return Response(status: .ok,
                            headers: [.contentType: "text/event-stream", .cacheControl: "no-store"],
                            body: ResponseBody(asyncSequence: stream))
        }
    }
}

extension HTTPField.Name {
    static let contentDigest = Self("Content-Digest")!
    static let signatureInput = Self("Signature-Input")!
    static let signature = Self("Signature")!
    static let receiptSignature = Self("Receipt-Signature")!
}
