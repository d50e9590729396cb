import Foundation
import HTTPTypes
import Hummingbird
import Shared

/// Gives every error answer the JSON body of `APIError` (`{"error":{"code":…,"message":…}}`), whatever
/// raised it: a body over a route's limit (413), a path no route answers (404), a method not allowed, or an
/// unexpected failure (500, logged). A client then never has to guess from an empty body.
struct ErrorBodyMiddleware<Context: RequestContext>: RouterMiddleware {
    func handle(
        _ request: Request, context: Context,
        next: (Request, Context) async throws -> Response
    ) async throws -> Response {
        do {
            return try await next(request, context)
        } catch let error as APIError {
            throw error
        } catch let error as any HTTPResponseError {
            var message = (error as? HTTPError)?.body ?? ""
            if message.isEmpty { message = Self.message(for: error.status, path: request.uri.path) }
            throw APIError(error.status, Self.code(for: error.status), message)
        } catch is CancellationError {
            throw CancellationError()
        } catch {
            context.logger.error("request failed", metadata: ["error": "\(error)", "path": "\(request.uri.path)"])
            throw APIError(.internalServerError, .internalError, "the aggregator failed to answer; see its log")
        }
    }

    static func code(for status: HTTPResponse.Status) -> APIErrorCode {
        switch status.code {
        case 401: .unauthorized
        case 403: .forbidden
        case 404: .notFound
        case 405: .methodNotAllowed
        case 413: .bodyTooLarge
        case 415: .unsupportedMediaType
        case 429: .rateLimited
        case 500...: .internalError
        default: .badRequest
        }
    }

    static func message(for status: HTTPResponse.Status, path: String) -> String {
        switch status.code {
        case 404: "no such resource: \(path) (see docs/aggregator.md)"
        case 413: "the body is larger than this request may be"
        default: status.reasonPhrase
        }
    }
}
