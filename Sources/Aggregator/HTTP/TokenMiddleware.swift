import Foundation
import HTTPTypes
import Hummingbird
import Shared

/// Reads need a bearer token once any exists (`aggregator tokens add`): `Authorization: Bearer …`, or
/// `?token=…` for the dashboard page and its event stream (a browser's EventSource sends no headers).
/// Health probes and the nodes' own endpoints (authenticated by their signatures) are exempt.
struct TokenMiddleware<Context: RequestContext>: RouterMiddleware {
    let database: AggregatorDatabase

    static func isExempt(_ path: String) -> Bool {
        path == "/healthz" || path == "/readyz" || path == "/v1/batches" || path == "/v1/heartbeats"
            || path == "/v1/heads" || path.hasPrefix("/v1/nodes/")
    }

    func handle(_ request: Request, context: Context,
                next: (Request, Context) async throws -> Response) async throws -> Response {
        guard !Self.isExempt(request.uri.path), try database.tokensEnforced() else {
            return try await next(request, context)
        }
        var token = request.uri.queryParameters.get("token")
        if let authorization = request.headers[.authorization], authorization.hasPrefix("Bearer ") {
            token = String(authorization.dropFirst("Bearer ".count))
        }
        guard let token, try database.role(ofToken: token) != nil else {
            throw APIError(.unauthorized, .unauthorized,
                           "a bearer token is needed (Authorization: Bearer …, or ?token=… for the dashboard)")
        }
        return try await next(request, context)
    }
}
