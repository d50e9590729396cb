import DaemonSupport
import Foundation
import Hummingbird
import Shared

/// Is the aggregator up (`/healthz`, open), ready to take batches (`/readyz`) and what it measures
/// (`/metrics`, Prometheus text); the last two need an observer token.
struct HealthController {
    var database: any AggregatorStore
    var metrics: IngestMetrics

    func addRoutes(to routes: AccessRoutes) {
        routes.group(access: .open)
            .get("healthz", use: health)
        routes.group(access: .token(.observer))
            .get("readyz", use: ready)
            .get("metrics", use: exposition)
    }

    @Sendable func health(_ request: Request, context: TallyRequestContext) async throws -> Response {
        Response(
            status: .ok, headers: [.contentType: "text/plain; charset=utf-8"],
            body: ResponseBody(byteBuffer: ByteBuffer(string: "ok\n")))
    }

    @Sendable func ready(_ request: Request, context: TallyRequestContext) async throws -> Response {
        let database = self.database
        return try await offload { database.isReady() }
            ? Response(status: .ok, body: ResponseBody(byteBuffer: ByteBuffer(string: "ready\n")))
            : Response(status: .serviceUnavailable, body: ResponseBody(byteBuffer: ByteBuffer(string: "not ready\n")))
    }

    @Sendable func exposition(_ request: Request, context: TallyRequestContext) async throws -> Response {
        Response(
            status: .ok, headers: [.contentType: "text/plain; version=0.0.4; charset=utf-8"],
            body: ResponseBody(byteBuffer: ByteBuffer(string: metrics.exposition())))
    }
}
