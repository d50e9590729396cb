import DaemonSupport
import Foundation
import HTTPTypes
import Hummingbird
import Shared

/// The dashboard page, its state as JSON, and its stream of updates (observer token; the page and the stream
/// also take `?token=`, as a browser's EventSource sends no headers).
struct DashboardController<Store: AggregatorStore> {
    var intake: Intake<Store>
    var hub: DashboardHub

    func addRoutes(to routes: AccessRoutes) {
        routes.group(access: .token(.observer))
            .get("/", use: root)
            .get("v1/dashboard", use: state)
        routes.group(access: .token(.observer, inQuery: true))
            .get("dashboard", use: page)
            .get("v1/events", use: events)
    }

    @Sendable func root(_ request: Request, context: TallyRequestContext) async throws -> Response {
        Response(status: .seeOther, headers: [.location: "/dashboard"])
    }

    @Sendable func page(_ request: Request, context: TallyRequestContext) async throws -> Response {
        Response(
            status: .ok, headers: [.contentType: "text/html; charset=utf-8", .cacheControl: "no-store"],
            body: ResponseBody(byteBuffer: ByteBuffer(string: DashboardPage.html)))
    }

    @Sendable func state(_ request: Request, context: TallyRequestContext) async throws -> Response {
        let database = intake.database
        let state = try await offload {
            guard let event = try database.installedEvent() else {
                throw APIError(.notFound, .notFound, "no event is installed")
            }
            return try DashboardState.build(database: database, event: event)
        }
        return try JSONResponse.make(state)
    }

    @Sendable func events(_ request: Request, context: TallyRequestContext) async throws -> Response {
        let stream = await hub.subscribe()
        var headers: HTTPFields = [.contentType: "text/event-stream", .cacheControl: "no-store"]
        // A proxy in front (nginx) passes each event on at once instead of buffering the stream.
        headers[HTTPField.Name("X-Accel-Buffering")!] = "no"
        return Response(status: .ok, headers: headers, body: ResponseBody(asyncSequence: stream))
    }
}
