import Foundation
import Hummingbird
import Shared

/// An error answer of the API: an HTTP status and a JSON body with a stable code.
public struct APIError: Error, HTTPResponseError, CustomStringConvertible {
    public var status: HTTPResponse.Status
    public var body: APIErrorBody

    public init(
        _ status: HTTPResponse.Status, _ code: APIErrorCode, _ message: String, resumeFrom: Int64? = nil,
        seq: Int64? = nil, field: String? = nil
    ) {
        self.status = status
        self.body = APIErrorBody(code: code, message: message, resumeFrom: resumeFrom, seq: seq, field: field)
    }

    public var description: String { "\(status.code) \(body.error.code.rawValue): \(body.error.message)" }

    public func response(from request: Request, context: some RequestContext) throws -> Response {
        try JSONResponse.make(body, status: status)
    }
}
