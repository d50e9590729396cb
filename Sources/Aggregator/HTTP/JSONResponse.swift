import Foundation
import Hummingbird
import Shared

/// JSON answers, in `JSONCoding`'s compact style.
enum JSONResponse {
    static func make(_ value: some Encodable, status: HTTPResponse.Status = .ok) throws -> Response {
        Response(
            status: status, headers: [.contentType: "application/json; charset=utf-8"],
            body: ResponseBody(byteBuffer: ByteBuffer(bytes: try JSONCoding.data(value))))
    }
}
