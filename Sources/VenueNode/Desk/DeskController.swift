import DaemonSupport
import Foundation
import HTTPTypes
import Hummingbird
import Shared

/// The desk's routes (issue #14): the page, and sign-in, who-am-I and sign-out for its script. Every POST but
/// sign-in passes `DeskSessionMiddleware`'s CSRF rule.
struct DeskController {
    let database: NodeDatabase
    let throttle: SignInThrottle

    /// The only paths that change something without a session and its CSRF token.
    static let csrfExempt: Set<String> = ["/desk/api/sign-in"]
    /// The largest sign-in body read.
    static let maxSignInBytes = 4_096

    func addRoutes(to router: Router<DeskRequestContext>) {
        router.get("/desk", use: page)
        let api = router.group("/desk/api")
        api.post("sign-in", use: signIn)
        api.get("me", use: me)
        api.post("sign-out", use: signOut)
    }

    /// The clerk and session as the page's script reads them.
    struct SessionAnswer: Encodable {
        struct ClerkAnswer: Encodable {
            var name: String
            var role: String
        }
        var clerk: ClerkAnswer
        var csrfToken: String
        var expiresAt: String

        init(clerk: Clerk, csrfToken: String, expiresAt: Date) {
            self.clerk = ClerkAnswer(name: clerk.name, role: clerk.role.rawValue)
            self.csrfToken = csrfToken
            self.expiresAt = expiresAt.formatted(.iso8601)
        }

        enum CodingKeys: String, CodingKey {
            case clerk
            case csrfToken = "csrf_token"
            case expiresAt = "expires_at"
        }
    }

    struct SignInBody: Decodable {
        var code: String
    }

    @Sendable func page(_ request: Request, context: DeskRequestContext) async throws -> Response {
        Response(
            status: .ok,
            headers: [
                .contentType: "text/html; charset=utf-8", .cacheControl: "no-store",
                HTTPField.Name("X-Frame-Options")!: "DENY", HTTPField.Name("Referrer-Policy")!: "no-referrer",
            ],
            body: ResponseBody(byteBuffer: ByteBuffer(string: DeskPage.html)))
    }

    @Sendable func signIn(_ request: Request, context: DeskRequestContext) async throws -> Response {
        let client = context.clientKey
        if let wait = throttle.retryAfter(client) {
            throw DeskError(
                .tooManyRequests, "rate_limited",
                "too many wrong sign-in codes from this computer: try again in \(Int(wait)) seconds",
                headers: [.retryAfter: "\(Int(wait))"])
        }
        let buffer = try await request.body.collect(upTo: Self.maxSignInBytes)
        guard let body = try? JSONDecoder().decode(SignInBody.self, from: Data(buffer.readableBytesView)) else {
            throw DeskError(.badRequest, "bad_request", #"the body must be JSON: {"code": "ABCD-EFGH-JKMN-PQRS"}"#)
        }
        let database = self.database
        let session: DeskSession
        let now = Date()
        do {
            session = try await offload { try database.signIn(code: body.code, now: now) }
        } catch let error as SignInError {
            throttle.recordFailure(client)
            context.logger.notice(
                "desk sign-in refused", metadata: ["client": "\(client)", "reason": "\(DeskError.code(for: error))"])
            throw DeskError(.unauthorized, DeskError.code(for: error), error.description)
        }
        throttle.reset(client)
        context.logger.info(
            "clerk signed in at the desk",
            metadata: ["clerk.id": "\(session.clerk.id)", "role": "\(session.clerk.role.rawValue)"])
        var response = try DeskJSON.response(
            SessionAnswer(clerk: session.clerk, csrfToken: session.csrfToken, expiresAt: session.expiresAt))
        let maxAge = max(
            0, Int(session.expiresAt.timeIntervalSince1970) - Int(now.timeIntervalSince1970.rounded(.down)))
        response.headers[.setCookie] = Self.cookie(session.token, maxAge: maxAge, request: request)
        return response
    }

    @Sendable func me(_ request: Request, context: DeskRequestContext) async throws -> Response {
        guard let session = context.session else { throw DeskError.signedOut }
        return try DeskJSON.response(
            SessionAnswer(
                clerk: session.clerk.clerk, csrfToken: session.clerk.csrfToken, expiresAt: session.clerk.expiresAt))
    }

    /// Reached only with a session and its CSRF token (`DeskSessionMiddleware`).
    @Sendable func signOut(_ request: Request, context: DeskRequestContext) async throws -> Response {
        guard let session = context.session else { throw DeskError.signedOut }
        let database = self.database
        _ = try await offload { try database.signOut(token: session.token) }
        context.logger.info("clerk signed out at the desk", metadata: ["clerk.id": "\(session.clerk.clerk.id)"])
        return Response(status: .noContent, headers: [.setCookie: Self.cookie("", maxAge: 0, request: request)])
    }

    /// The session cookie: only for the desk's paths, never readable by the page's script, never sent from
    /// another site. `Secure` only when the request came over https: today the node serves plain http on the
    /// venue's LAN, where a Secure cookie would never be sent back.
    static func cookie(_ token: String, maxAge: Int, request: Request) -> String {
        let secure = request.head.scheme == "https" ? "; Secure" : ""
        return "\(DeskSessionMiddleware.cookieName)=\(token); HttpOnly; SameSite=Strict; Path=/desk; Max-Age=\(maxAge)"
            + secure
    }
}
