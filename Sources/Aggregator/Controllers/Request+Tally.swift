import Foundation
import HTTPTypes
import Hummingbird
import Shared

extension Request {
    /// The whole body, refused with `413 body_too_large` past `limit` bytes (`what` names it in the message).
    mutating func body(upTo limit: Int, what: String) async throws -> Data {
        do {
            return Data(buffer: try await collectBody(upTo: limit))
        } catch {
            throw APIError(.contentTooLarge, .bodyTooLarge, "\(what) may be at most \(limit) bytes")
        }
    }

    /// A small JSON body (at most `limit` bytes) decoded as `T`, or `400 invalid_body` saying what was expected.
    mutating func jsonBody<T: Decodable>(
        _ type: T.Type, what: String, expected: String, limit: Int = 4_096
    ) async throws -> T {
        let data = try await body(upTo: limit, what: what)
        do {
            return try JSONDecoder().decode(type, from: data)
        } catch {
            throw APIError(.badRequest, .invalidBody, "the body must be \(expected)")
        }
    }

    /// The parts of a signed request the intake verifies. A header given twice is ambiguous: refused.
    func signed(body: Data) throws -> BatchIntake.SignedRequest {
        for name in [HTTPField.Name.contentType, .contentDigest, .signatureInput, .signature]
        where headers[values: name].count > 1 {
            throw APIError(.badRequest, .malformedSignature, "the header \(name.rawName) is given more than once")
        }
        return .init(
            path: uri.path, contentType: headers[.contentType], contentDigest: headers[.contentDigest],
            signatureInput: headers[.signatureInput], signature: headers[.signature], body: body)
    }
}

extension Intake {
    /// The node that signed a GET (`Access.nodeSignatureOrToken` let it through without a token), verified;
    /// nil when the request is not signed.
    @discardableResult
    func authenticateIfSigned(_ request: Request) throws -> EnrolledNode? {
        guard request.headers[.signatureInput] != nil else { return nil }
        return try authenticate(
            .init(
                path: request.uri.path, contentType: nil, contentDigest: request.headers[.contentDigest],
                signatureInput: request.headers[.signatureInput], signature: request.headers[.signature], body: Data()),
            method: "GET", query: request.uri.query)
    }
}

extension HTTPField.Name {
    static let contentDigest = Self("Content-Digest")!
    static let signatureInput = Self("Signature-Input")!
    static let signature = Self("Signature")!
    static let receiptSignature = Self("Receipt-Signature")!
}
