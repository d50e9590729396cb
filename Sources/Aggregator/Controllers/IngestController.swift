import DaemonSupport
import Foundation
import Hummingbird
import Shared

/// What nodes write, each request signed with the node's key (the intake verifies it before anything else):
/// `POST /v1/batches`, `POST /v1/heartbeats`, `POST /v1/enrolments`.
struct IngestController<Store: IngestStore> {
    var intake: Intake<Store>
    var maxBodyBytes: Int
    var hub: any ChangePublisher
    var metrics: IngestMetrics

    func addRoutes(to routes: AccessRoutes) {
        routes.group("v1", access: .nodeSignature)
            .post("batches", use: receive)
            .post("heartbeats", use: heartbeat)
            .post("enrolments", use: enrol)
    }

    /// A signed batch: verified, merged exactly once, acknowledged with a signed receipt.
    @Sendable func receive(_ request: Request, context: TallyRequestContext) async throws -> Response {
        let start = ContinuousClock.now
        do {
            var request = request
            let body = try await request.body(upTo: maxBodyBytes, what: "a batch")
            let result = try await intake.receiveCounting(try request.signed(body: body))
            metrics.batch(outcome: "accepted", duration: ContinuousClock.now - start)
            for (kind, count) in result.newRecords { metrics.records(kind: kind, count: count) }
            context.logger.info(
                "batch accepted",
                metadata: [
                    "node.id": "\(result.ack.node)", "batch.first": "\(result.ack.firstSeq)",
                    "batch.last": "\(result.ack.lastSeq)", "records.new": "\(result.newRecords.values.reduce(0, +))",
                ])
            if !result.newRecords.isEmpty { hub.publish() }
            var response = try JSONResponse.make(result.ack)
            let intake = self.intake
            if let receipt = try await offload({ () -> Receipt? in
                guard let node = try intake.database.node(id: result.ack.node) else { return nil }
                return try intake.receipt(for: result.ack, venue: node.venue)
            }) {
                response.headers[.receiptSignature] = receipt.signature
            }
            return response
        } catch let error as APIError {
            metrics.batch(outcome: error.body.error.code.rawValue, duration: ContinuousClock.now - start)
            context.logger.notice("batch refused", metadata: ["error.code": "\(error.body.error.code.rawValue)"])
            if [.chainConflict, .staleEpoch, .revokedNode].contains(error.body.error.code) {
                hub.publish()
            }
            throw error
        }
    }

    /// How a node sees itself (head, backlog, disk, clock): kept as its last contact, shown on the dashboard.
    @Sendable func heartbeat(_ request: Request, context: TallyRequestContext) async throws -> Response {
        var request = request
        let signed = try request.signed(body: try await request.body(upTo: 64 << 10, what: "a heartbeat"))
        let intake = self.intake
        let (node, heartbeat, held) = try await offload {
            let (node, heartbeat) = try intake.receiveHeartbeat(signed)
            return (node, heartbeat, try intake.database.cursor(node: node).seq)
        }
        metrics.venue(node.venue, pending: heartbeat.pending, held: held)
        hub.publish()
        return Response(status: .noContent)
    }

    /// A node enrols its key with a one-time token.
    @Sendable func enrol(_ request: Request, context: TallyRequestContext) async throws -> Response {
        var request = request
        let signed = try request.signed(body: try await request.body(upTo: 4_096, what: "an enrolment request"))
        let intake = self.intake
        let response = try await offload { try intake.enrol(signed) }
        context.logger.notice(
            "node enrolled",
            metadata: [
                "node.id": "\(response.node)", "venue": "\(response.venue)", "epoch": "\(response.epoch)",
            ])
        hub.publish()
        return try JSONResponse.make(response)
    }
}
