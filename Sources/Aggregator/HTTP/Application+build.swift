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
public func buildRouter(intake: BatchIntake, settings: AggregatorSettings) -> Router<BasicRequestContext> {
    let router = Router(context: BasicRequestContext.self)
    router.get("/healthz") { _, _ in "ok\n" }
    BatchController(intake: intake, maxBodyBytes: settings.maxBodyBytes).addRoutes(to: router.group("v1"))
    return router
}

/// The aggregator's HTTP application; `onServerRunning` is told the port actually bound.
public func buildApplication(
    intake: BatchIntake, settings: AggregatorSettings, logger: Logger, services: [any Service] = [],
    onServerRunning: @escaping @Sendable (Int) async -> Void = { _ in }
) -> some ApplicationProtocol {
    Application(
        router: buildRouter(intake: intake, settings: settings),
        configuration: .init(address: .hostname(settings.host, port: settings.port), serverName: "sanmin-aggregator"),
        services: services,
        onServerRunning: { channel in await onServerRunning(channel.localAddress?.port ?? settings.port) },
        logger: logger)
}

/// `POST /v1/batches`, `GET /v1/nodes/{id}/cursor`, `GET /v1/totals`.
struct BatchController {
    var intake: BatchIntake
    var maxBodyBytes: Int

    func addRoutes(to group: RouterGroup<BasicRequestContext>) {
        group.post("batches", use: receive)
        group.post("heartbeats", use: heartbeat)
        group.get("nodes/:id/cursor", use: cursor)
        group.get("nodes/:id/records", use: records)
        group.get("totals", use: totals)
        group.get("reconciliation", use: reconciliation)
        group.get("results", use: results)
    }

    @Sendable func receive(_ request: Request, context: BasicRequestContext) async throws -> Response {
        var request = request
        let buffer: ByteBuffer
        do {
            buffer = try await request.collectBody(upTo: maxBodyBytes)
        } catch {
            throw APIError(.contentTooLarge, .bodyTooLarge, "a batch may be at most \(maxBodyBytes) bytes")
        }
        let ack = try await intake.receive(.init(
            path: request.uri.path,
            contentType: request.headers[.contentType],
            contentDigest: request.headers[.contentDigest],
            signatureInput: request.headers[.signatureInput],
            signature: request.headers[.signature],
            body: Data(buffer: buffer)))
        context.logger.info("batch accepted", metadata: ["node.id": "\(ack.node)", "batch.first": "\(ack.firstSeq)",
                                                         "batch.last": "\(ack.lastSeq)"])
        return try JSONResponse.make(ack)
    }

    @Sendable func heartbeat(_ request: Request, context: BasicRequestContext) async throws -> Response {
        var request = request
        let buffer = try await request.collectBody(upTo: 64 << 10)
        try intake.receiveHeartbeat(.init(
            path: request.uri.path, contentType: request.headers[.contentType],
            contentDigest: request.headers[.contentDigest], signatureInput: request.headers[.signatureInput],
            signature: request.headers[.signature], body: Data(buffer: buffer)))
        return Response(status: .noContent)
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

    /// Scores and ranks per scope.
    @Sendable func results(_ request: Request, context: BasicRequestContext) async throws -> Response {
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

    @Sendable func totals(_ request: Request, context: BasicRequestContext) async throws -> Response {
        try JSONResponse.make(try intake.database.totals(eventID: intake.event.id))
    }
}

extension HTTPField.Name {
    static let contentDigest = Self("Content-Digest")!
    static let signatureInput = Self("Signature-Input")!
    static let signature = Self("Signature")!
}
