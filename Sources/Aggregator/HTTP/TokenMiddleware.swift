import Foundation
import HTTPTypes
import Hummingbird
import Shared

/// Who may call what. Only `/healthz` and `GET /v1/identity` (the aggregator's public key) answer everyone. Nodes write by signature (`POST /v1/batches`,
/// `/v1/heartbeats`, `/v1/enrolments`; the handlers verify it) and may read their own cursor, records
/// and the signed heads with a signed GET. Everything else needs a bearer token (`aggregator tokens add`):
/// `Authorization: Bearer …`, or `?token=…` for the dashboard page and its event stream only (a browser's
/// EventSource sends no headers). Admin paths need an admin token. Paths are judged as routed.
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

    /// The path as the router sees it: empty segments dropped (`/v1//admin/x` is routed as `/v1/admin/x`),
    /// so the policy judges the route that will answer, not the spelling of the request.
    static func routedPath(_ path: String) -> String {
        "/" + path.split(separator: "/", omittingEmptySubsequences: true).joined(separator: "/")
    }

    static func access(method: HTTPRequest.Method, path rawPath: String, signed: Bool) -> Access {
        let path = routedPath(rawPath)
        if path == "/healthz" { return .open }
        // The aggregator's public key: public by nature, read by a node before it enrols (to check the key it
        // was given) and by anyone checking a receipt.
        if method == .get, path == "/v1/identity" { return .open }
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
        // `?token=` only where a browser cannot send a header (the page and its event stream): elsewhere a
        // token in the URL would end up in logs and Referer headers.
        let path = Self.routedPath(request.uri.path)
        var token = path == "/dashboard" || path == "/v1/events" ? request.uri.queryParameters.get("token") : nil
        if let authorization = request.headers[.authorization], authorization.hasPrefix("Bearer ") {
            token = String(authorization.dropFirst("Bearer ".count))
        }
        let check = try token.map { try database.check(bearerToken: $0) } ?? .unknown
        let role: Role
        switch check {
        case .valid(let valid):
            role = valid
        case .revoked(let at):
            throw APIError(.unauthorized, .tokenRevoked, "this bearer token was revoked at \(at) (aggregator tokens "
                + "revoke); ask for a new one")
        case .unknown:
            throw APIError(.unauthorized, .unauthorized, "a bearer token is needed (aggregator tokens add; send "
                + "Authorization: Bearer …, or ?token=… for the dashboard)")
        }
        guard role >= needed else {
            throw APIError(.forbidden, .forbidden, "this needs an \(needed.rawValue) token")
        }
        return try await next(request, context)
    }
}
