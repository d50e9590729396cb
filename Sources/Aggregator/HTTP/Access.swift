import DaemonSupport
import Foundation
import HTTPTypes
import Hummingbird
import Shared

/// Who may call a route. Every route is declared in a group that carries one of these (`AccessRoutes`), so
/// the rule sits where the route is written, and `RouteAccessTests` fails on any route declared without one.
public enum Access: Sendable, Equatable, CustomStringConvertible {
    /// Anyone: only what is public by nature (`/healthz`, the aggregator's public key).
    case open
    /// A node, by its signature over the request, which the handler verifies (batches, heartbeats, enrolment).
    case nodeSignature
    /// A node with a signed GET (the handler verifies it), or else a bearer token of at least `role`.
    case nodeSignatureOrToken(Role)
    /// A bearer token of at least `role` in `Authorization: Bearer …`; with `inQuery`, also `?token=…`
    /// (only where a browser cannot send a header: the dashboard page and its event stream — elsewhere a token
    /// in the URL would end up in logs and Referer headers).
    case token(Role, inQuery: Bool = false)
    /// A department's bearer token (issue #17): the handler reads which department it is bound to.
    case departmentToken

    public var description: String {
        switch self {
        case .open: "open"
        case .nodeSignature: "node signature"
        case .nodeSignatureOrToken(let role): "node signature or \(role.rawValue) token"
        case .token(let role, let inQuery):
            (role == .department ? "any token" : "\(role.rawValue) token") + (inQuery ? " (header or ?token=)" : "")
        case .departmentToken: "department token"
        }
    }
}

/// Enforces one `Access` on the routes of its group.
struct AccessMiddleware<Context: RequestContext>: RouterMiddleware {
    let access: Access
    let database: any AggregatorStore

    func handle(
        _ request: Request, context: Context,
        next: (Request, Context) async throws -> Response
    ) async throws -> Response {
        let needed: Role
        var inQuery = false
        switch access {
        case .open, .nodeSignature:
            return try await next(request, context)
        case .nodeSignatureOrToken(let role):
            if request.headers[.signatureInput] != nil { return try await next(request, context) }
            needed = role
        case .token(let role, let query):
            needed = role
            inQuery = query
        case .departmentToken:
            needed = .department
        }
        var token = inQuery ? request.uri.queryParameters.get("token") : nil
        if let authorization = request.headers[.authorization], authorization.hasPrefix("Bearer ") {
            token = String(authorization.dropFirst("Bearer ".count))
        }
        let database = self.database
        var check = AggregatorDatabase.BearerCheck.unknown
        if let token { check = try await offload { try database.check(bearerToken: token) } }
        let role: Role
        switch check {
        case .valid(let valid):
            role = valid
        case .revoked(let at):
            throw APIError(
                .unauthorized, .tokenRevoked,
                "this bearer token was revoked at \(at) (aggregator tokens "
                    + "revoke); ask for a new one")
        case .unknown:
            throw APIError(
                .unauthorized, .unauthorized,
                "a bearer token is needed (aggregator tokens add; send "
                    + "Authorization: Bearer …" + (inQuery ? ", or ?token=…" : "") + ")")
        }
        guard role >= needed else {
            throw APIError(.forbidden, .forbidden, "this needs an \(needed.rawValue) token")
        }
        if access == .departmentToken, role != .department {
            throw APIError(
                .forbidden, .forbidden,
                "this is a department's page: it needs a department's token (aggregator tokens add --role department)")
        }
        return try await next(request, context)
    }
}

/// A route as declared: method, path (as the router spells it) and who may call it.
public struct DeclaredRoute: Sendable, Hashable, CustomStringConvertible {
    public var method: HTTPRequest.Method
    public var path: String
    public var access: String

    public var description: String { "\(method) \(path) (\(access))" }
}

/// Where the aggregator's routes are declared: each group carries its access rule, and every route added
/// through it is listed in `declared`.
final class AccessRoutes {
    let router: Router<TallyRequestContext>
    let database: any AggregatorStore
    private(set) var declared: [DeclaredRoute] = []

    init(router: Router<TallyRequestContext>, database: any AggregatorStore) {
        self.router = router
        self.database = database
    }

    /// Routes under `path` that only `access` may call.
    func group(_ path: String = "", access: Access) -> AccessGroup {
        AccessGroup(
            routes: self, prefix: path, access: access,
            group: router.group(RouterPath(path)).add(middleware: AccessMiddleware(access: access, database: database)))
    }

    fileprivate func declare(_ method: HTTPRequest.Method, _ prefix: String, _ path: String, _ access: Access) {
        declared.append(
            DeclaredRoute(
                method: method, path: RouterPath(prefix + "/" + path).description,
                access: access.description))
    }
}

/// A group of routes under one access rule.
struct AccessGroup {
    typealias Handler = @Sendable (Request, TallyRequestContext) async throws -> Response

    let routes: AccessRoutes
    let prefix: String
    let access: Access
    let group: RouterGroup<TallyRequestContext>

    @discardableResult
    func get(_ path: String = "", use handler: @escaping Handler) -> Self {
        routes.declare(.get, prefix, path, access)
        group.get(RouterPath(path), use: handler)
        return self
    }

    @discardableResult
    func post(_ path: String = "", use handler: @escaping Handler) -> Self {
        routes.declare(.post, prefix, path, access)
        group.post(RouterPath(path), use: handler)
        return self
    }
}
