import Foundation
import HTTPTypes
import Hummingbird
import Shared

/// Who may call what. Only `/healthz` answers everyone. Nodes write by signature (`POST /v1/batches`,
/// `/v1/heartbeats`, `/v1/enrolments`; the handlers verify it) and may read their own cursor, records
/// and the signed heads with a signed GET. Everything else needs a bearer token (`aggregator tokens add`):
/// `Authorization: Bearer …`, or `?token=…` for the dashboard page and its event stream (a browser's
/// EventSource sends no headers). Admin paths need an admin token.
struct TokenMiddleware<Context: RequestContext>: RouterMiddleware {
    let database: AggregatorDatabase

    enum Access: Equatable {
        /// Anyone.
        case open
        /// The handler verifies the node's signature.
        case nodeSignature
        /// A bearer token of at least this role.
        case token(Role)
    }

    static func access(method: HTTPRequest.Method, path: String, signed: Bool) -> Access {
        if path == "/healthz" { return .open }
        if method == .post, ["/v1/batches", "/v1/heartbeats", "/v1/enrolments"].contains(path) { return .nodeSignature }
        if method == .get, signed, path == "/v1/heads" || path.hasPrefix("/v1/nodes/") { return .nodeSignature }
        if path.hasPrefix("/v1/admin/") { return .token(.admin) }
        return .token(.observer)
    }

    func handle(_ request: Request, context: Context,
                next: (Request, Context) async throws -> Response) async throws -> Response {
        let access = Self.access(method: request.method, path: request.uri.path,
                                 signed: request.headers[.signatureInput] != nil)
        guard case .token(let needed) = access else { return try await next(request, context) }
        var token = request.uri.queryParameters.get("token")
        if let authorization = request.headers[.authorization], authorization.hasPrefix("Bearer ") {
            token = String(authorization.dropFirst("Bearer ".count))
        }
        guard let token, let role = try database.role(ofToken: token) else {
            throw APIError(.unauthorized, .unauthorized, "a bearer token is needed (aggregator tokens add; send "
                + "Authorization: Bearer …, or ?token=… for the dashboard)")
        }
        guard role >= needed else {
            throw APIError(.forbidden, .forbidden, "this needs an \(needed.rawValue) token")
        }
        return try await next(request, context)
    }
}
