import Crypto
import Foundation
import HTTPTypes
import Hummingbird
import Logging
import ServiceLifecycle
import Shared

/// What `buildApplication` needs.
public struct AggregatorSettings: Sendable {
    public var host: String
    public var port: Int
    /// Largest request body accepted, in bytes.
    public var maxBodyBytes: Int

    public init(host: String = "127.0.0.1", port: Int = 8080, maxBodyBytes: Int = 8 << 20) {
        self.host = host
        self.port = port
        self.maxBodyBytes = maxBodyBytes
    }
}

/// The aggregator's routes.
public func buildRouter(intake: BatchIntake, settings: AggregatorSettings, hub: DashboardHub,
                        metrics: IngestMetrics) -> Router<BasicRequestContext> {
    let router = Router(context: BasicRequestContext.self)
    router.add(middleware: TokenMiddleware(database: intake.database))
    router.get("/healthz") { _, _ in "ok\n" }
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

/// The aggregator's HTTP application; `onServerRunning` is told the port actually bound.
public func buildApplication(
    intake: BatchIntake, settings: AggregatorSettings, logger: Logger, services: [any Service] = [],
    metrics: IngestMetrics = IngestMetrics(),
    onServerRunning: @escaping @Sendable (Int) async -> Void = { _ in }
) -> some ApplicationProtocol {
    let hub = DashboardHub(database: intake.database, logger: logger)
    return Application(
        router: buildRouter(intake: intake, settings: settings, hub: hub, metrics: metrics),
        configuration: .init(address: .hostname(settings.host, port: settings.port), serverName: "sanmin-aggregator"),
        services: services + [hub],
        onServerRunning: { channel in await onServerRunning(channel.localAddress?.port ?? settings.port) },
        logger: logger)
}

/// `POST /v1/batches`, `POST /v1/heartbeats`, `GET /v1/nodes/{id}/cursor`, `GET /v1/nodes/{id}/records`,
/// `GET /v1/totals`, `GET /v1/reconciliation`, `GET /v1/results`.
struct BatchController {
    var intake: BatchIntake
    var maxBodyBytes: Int
    var hub: DashboardHub
    var metrics: IngestMetrics

    func addRoutes(to group: RouterGroup<BasicRequestContext>) {
        group.post("batches", use: receive)
        group.post("heartbeats", use: heartbeat)
        group.get("nodes/:id/cursor", use: cursor)
        group.get("nodes/:id/records", use: records)
        group.get("totals", use: totals)
        group.get("reconciliation", use: reconciliation)
        group.get("results", use: results)
        group.get("heads", use: heads)
    }

    /// Every venue chain's head, signed by the aggregator's key.
    @Sendable func heads(_ request: Request, context: BasicRequestContext) async throws -> Response {
        guard let heads = try intake.signedHeads() else {
            throw APIError(.notFound, .notFound, "this aggregator has no signing key")
        }
        return try JSONResponse.make(heads)
    }

    @Sendable func receive(_ request: Request, context: BasicRequestContext) async throws -> Response {
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

    @Sendable func heartbeat(_ request: Request, context: BasicRequestContext) async throws -> Response {
        var request = request
        let buffer = try await request.collectBody(upTo: 64 << 10)
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

    @Sendable func cursor(_ request: Request, context: BasicRequestContext) async throws -> Response {
        let id = try context.parameters.require("id")
        guard let node = try intake.database.node(id: id) else {
            throw APIError(.notFound, .unknownNode, "node \(id) is not enrolled")
        }
        return try JSONResponse.make(try intake.database.cursor(node: node))
    }

    /// The node's venue chain, for a redeployed node to restore; only its venue's current node may read it.
    @Sendable func records(_ request: Request, context: BasicRequestContext) async throws -> Response {
        let id = try context.parameters.require("id")
        let node = try intake.authenticate(.init(
            path: request.uri.path, contentType: nil,
            contentDigest: request.headers[.contentDigest], signatureInput: request.headers[.signatureInput],
            signature: request.headers[.signature], body: Data()), method: "GET")
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
    @Sendable func reconciliation(_ request: Request, context: BasicRequestContext) async throws -> Response {
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
    @Sendable func results(_ request: Request, context: BasicRequestContext) async throws -> Response {
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
        return try Report.build(database: intake.database, event: event)
    }

    /// Running totals; the per-department tallies are left out while results are confidential.
    @Sendable func totals(_ request: Request, context: BasicRequestContext) async throws -> Response {
        var totals = try intake.database.totals(eventID: intake.event.id)
        if try !intake.database.resultsVisible(event: intake.event) { totals.tallies = [] }
        return try JSONResponse.make(totals)
    }
}

/// The dashboard page, its state as JSON, and its stream of updates.
struct DashboardController {
    var intake: BatchIntake
    var hub: DashboardHub

    func addRoutes(to router: Router<BasicRequestContext>) {
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
