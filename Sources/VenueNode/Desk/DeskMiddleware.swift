import DaemonSupport
import Foundation
import HTTPTypes
import Hummingbird
import Shared

/// A refused desk request: its status and the JSON body the aggregator's errors have too,
/// `{"error":{"code":…,"message":…}}`, plus any headers (`Retry-After`).
public struct DeskError: Error, HTTPResponseError, CustomStringConvertible {
    public var status: HTTPResponse.Status
    public var body: APIErrorBody
    public var headers: HTTPFields
    /// A phone's `code_used` for a ballot it sent again: the receipt of the ballot it cast (in the body as `receipt`).
    public var receipt: String?

    public init(_ status: HTTPResponse.Status, _ code: String, _ message: String, headers: HTTPFields = [:]) {
        self.status = status
        self.body = APIErrorBody(code: APIErrorCode(rawValue: code), message: message)
        self.headers = headers
    }

    public var description: String { "\(status.code) \(body.error.code.rawValue): \(body.error.message)" }

    public func response(from request: Request, context: some RequestContext) throws -> Response {
        var response: Response
        if let receipt {
            response = try DeskJSON.response(WithReceipt(error: body.error, receipt: receipt), status: status)
        } else {
            response = try DeskJSON.response(body, status: status)
        }
        response.headers.append(contentsOf: headers)
        return response
    }

    /// The code the desk answers a refused sign-in code with.
    static func code(for error: SignInError) -> String {
        switch error {
        case .malformed: "code_malformed"
        case .unknown: "code_unknown"
        case .used: "code_used"
        case .expired: "code_expired"
        case .replaced: "code_replaced"
        case .clerkRevoked: "clerk_revoked"
        }
    }

    static let signedOut = DeskError(.unauthorized, "signed_out", "not signed in: sign in with a code from the lead")
    static let csrf = DeskError(
        .forbidden, "csrf", "this request lacks the desk's X-CSRF-Token header for its session: reload the desk page")
}

/// An error body with the receipt of a ballot sent again (`DeskError.receipt`).
private struct WithReceipt: Encodable {
    var error: APIErrorBody.Detail
    var receipt: String
}

/// JSON answers, in `JSONCoding`'s compact style, never cached.
enum DeskJSON {
    static func response(_ value: some Encodable, status: HTTPResponse.Status = .ok) throws -> Response {
        Response(
            status: status,
            headers: [.contentType: "application/json; charset=utf-8", .cacheControl: "no-store"],
            body: ResponseBody(byteBuffer: ByteBuffer(bytes: try JSONCoding.data(value))))
    }
}

/// Gives every error answer of the desk the JSON body of `DeskError`, whatever raised it (as the aggregator's
/// `ErrorBodyMiddleware` does): a path no route answers (404), a method not allowed, an unexpected failure (500,
/// logged).
struct DeskErrorMiddleware<Context: RequestContext>: RouterMiddleware {
    func handle(
        _ request: Request, context: Context,
        next: (Request, Context) async throws -> Response
    ) async throws -> Response {
        do {
            return try await next(request, context)
        } catch let error as DeskError {
            throw error
        } catch let error as any HTTPResponseError {
            var message = (error as? HTTPError)?.body ?? ""
            if message.isEmpty {
                message = error.status == .notFound ? "no such page: \(request.uri.path)" : error.status.reasonPhrase
            }
            throw DeskError(error.status, Self.code(for: error.status), message)
        } catch is CancellationError {
            throw CancellationError()
        } catch {
            context.logger.error("desk request failed", metadata: ["error": "\(error)", "path": "\(request.uri.path)"])
            throw DeskError(.internalServerError, "internal_error", "the venue node failed to answer; see its log")
        }
    }

    static func code(for status: HTTPResponse.Status) -> String {
        switch status.code {
        case 401: "unauthorized"
        case 403: "forbidden"
        case 404: "not_found"
        case 405: "method_not_allowed"
        case 413: "body_too_large"
        case 429: "rate_limited"
        case 500...: "internal_error"
        default: "bad_request"
        }
    }
}

/// Finds the clerk behind the request's session cookie (`context.session`), and is the desk's CSRF rule: every
/// request that may change something (any method but GET and HEAD) must come from a signed-in clerk (else 401
/// `signed_out`) and carry their session's token in `X-CSRF-Token` (else 403 `csrf`) — except the sign-in itself,
/// which has no session yet (`DeskController.csrfExempt`). A route added later under `/desk` gets the rule by being a
/// route; the phone ballot box's two calls (`VoteController.paths`) have no sessions and answer to a voting code.
struct DeskSessionMiddleware: RouterMiddleware {
    typealias Context = DeskRequestContext
    let database: NodeDatabase

    static let cookieName = "sanmin_desk"
    static let csrfHeader = HTTPField.Name("X-CSRF-Token")!

    func handle(
        _ request: Request, context: DeskRequestContext,
        next: (Request, DeskRequestContext) async throws -> Response
    ) async throws -> Response {
        var context = context
        if let token = request.cookies[Self.cookieName]?.value, !token.isEmpty {
            let database = self.database
            if let clerk = try await offload({ try database.session(token: token) }) {
                context.session = (token, clerk)
            }
        }
        let safe = request.method == .get || request.method == .head
        // The phone ballot box's calls have no sessions: they carry a voting code instead. Exempt by their exact
        // paths, so that no other spelling of a path escapes the rule.
        let exempt =
            DeskController.csrfExempt.contains(request.uri.path) || VoteController.paths.contains(request.uri.path)
        if !safe && !exempt {
            guard let session = context.session else { throw DeskError.signedOut }
            guard session.clerk.acceptsCSRF(request.headers[Self.csrfHeader]) else { throw DeskError.csrf }
        }
        return try await next(request, context)
    }
}
