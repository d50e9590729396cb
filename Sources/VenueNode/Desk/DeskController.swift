import DaemonSupport
import Foundation
import HTTPTypes
import Hummingbird
import Shared

/// The desk's routes (issue #14): the page and its script, sign-in, who-am-I and sign-out, and the venue's work
/// (`+Checkin`, `+Counting`, `+Venue`). Every POST but sign-in passes `DeskSessionMiddleware`'s CSRF rule; every
/// route but the page, its script and sign-in needs a signed-in clerk, and each says which roles may use it.
struct DeskController {
    let database: NodeDatabase
    let throttle: SignInThrottle
    let venue: DeskVenue
    let rosters: DeskRosterCache

    /// The only paths that change something without a session and its CSRF token.
    static let csrfExempt: Set<String> = ["/desk/api/sign-in"]
    /// The largest sign-in body read.
    static let maxSignInBytes = 4_096

    func addRoutes(to router: Router<DeskRequestContext>) {
        router.get("/desk", use: page)
        router.get("/desk/app.js", use: script)
        router.get("/desk/box-record", use: boxRecord)
        let api = router.group("/desk/api")
        api.post("sign-in", use: signIn)
        api.get("me", use: me)
        api.post("sign-out", use: signOut)
        api.get("event", use: eventInfo)
        api.get("overview", use: overview)
        api.post("checkin", use: checkin)
        api.post("boxes/open", use: openBox)
        api.post("boxes/close", use: closeBox)
        api.get("keying", use: keyingProgress)
        api.post("keying", use: keyPaper)
        api.post("keying/resolve", use: resolvePaper)
        api.post("forms", use: enterForm)
        api.post("import", use: importCSV)
        api.get("records", use: records)
        api.post("corrections", use: correct)
        api.get("reconciliation", use: reconciliation)
    }

    /// The clerk signed in, with one of `roles` (else 401 `signed_out` or 403 `role`).
    func clerk(_ context: DeskRequestContext, _ roles: Set<ClerkRole> = Set(ClerkRole.allCases)) throws -> Clerk {
        guard let session = context.session else { throw DeskError.signedOut }
        guard roles.contains(session.clerk.clerk.role) else {
            let allowed = ClerkRole.allCases.filter(roles.contains).map(\.rawValue).joined(separator: ", ")
            throw DeskError(
                .forbidden, "role",
                "a clerk of role \(session.clerk.clerk.role.rawValue) may not do this (\(allowed) may)")
        }
        return session.clerk.clerk
    }

    /// A JSON body of at most `limit` bytes (400 `bad_request` naming what was expected otherwise).
    func body<T: Decodable>(_ type: T.Type, _ request: Request, limit: Int = 65_536, example: String) async throws -> T
    {
        let buffer = try await request.body.collect(upTo: limit)
        do {
            return try JSONDecoder().decode(T.self, from: Data(buffer.readableBytesView))
        } catch {
            throw DeskError(.badRequest, "bad_request", "the body must be JSON like \(example)")
        }
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

    /// Headers of every page the desk serves: never framed, no referrer, nothing but the desk's own script.
    static let pageHeaders: HTTPFields = [
        .cacheControl: "no-store",
        HTTPField.Name("X-Frame-Options")!: "DENY", HTTPField.Name("Referrer-Policy")!: "no-referrer",
        HTTPField.Name("Content-Security-Policy")!:
            "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; frame-ancestors 'none'",
    ]

    static func html(_ text: String) -> Response {
        var headers = pageHeaders
        headers[.contentType] = "text/html; charset=utf-8"
        return Response(status: .ok, headers: headers, body: ResponseBody(byteBuffer: ByteBuffer(string: text)))
    }

    @Sendable func page(_ request: Request, context: DeskRequestContext) async throws -> Response {
        Self.html(DeskPage.html)
    }

    @Sendable func script(_ request: Request, context: DeskRequestContext) async throws -> Response {
        Self.javascript(DeskScript.source)
    }

    /// A page's script, with the pages' headers.
    static func javascript(_ source: String) -> Response {
        var headers = pageHeaders
        headers[.contentType] = "text/javascript; charset=utf-8"
        return Response(status: .ok, headers: headers, body: ResponseBody(byteBuffer: ByteBuffer(string: source)))
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
