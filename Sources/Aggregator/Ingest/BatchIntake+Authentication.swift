import Crypto
import Foundation
import Shared

/// Who signed a request, and whether that key may still speak for its venue.
extension Intake {
    /// Checks a signed POST: JSON, a known key, a valid signature over the exact body, a current key.
    func authenticatePost(_ request: SignedRequest) throws -> EnrolledNode {
        try Self.requireJSON(request)
        let keyID = try Self.keyID(request)
        guard let node = try database.node(id: keyID),
            let publicKey = NodeIdentity.publicKey(base64: node.publicKey)
        else {
            throw APIError(
                .forbidden, .unknownNode,
                "node \(keyID) is not enrolled; enrol its public key with "
                    + "`aggregator nodes add`")
        }
        try verifySignature(request, method: "POST", key: publicKey)
        // An authentic request from a retired key: refused and kept as evidence.
        if let fenced = try database.fence(node) {
            let evidence = SignedEvidence(
                contentDigest: request.contentDigest ?? "",
                signatureInput: request.signatureInput ?? "",
                signature: request.signature ?? "", body: request.body)
            try database.raiseAlarm(
                kind: fenced.body.error.code.rawValue, node: node, message: fenced.body.error.message,
                evidence: evidence.json, once: false, oncePerNode: true)
            throw fenced
        }
        return node
    }

    /// Authenticates a signed request without a body (reads a node may make about its own venue):
    /// a valid signature over the method, path and (when given) query, made within `maxSignatureAge`
    /// seconds, by a venue's current node.
    public func authenticate(
        _ request: SignedRequest, method: String, query: String? = nil,
        now: Int64 = Int64(Date().timeIntervalSince1970)
    ) throws -> EnrolledNode {
        let keyID = try Self.keyID(request)
        guard let node = try database.node(id: keyID),
            let publicKey = NodeIdentity.publicKey(base64: node.publicKey)
        else {
            throw APIError(.forbidden, .unknownNode, "node \(keyID) is not enrolled")
        }
        try verifySignature(request, method: method, query: query, key: publicKey, now: now)
        if let fenced = try database.fence(node) {
            // An authentic read from a retired or revoked key: the key is in someone's hands. Kept as evidence,
            // with an alarm, the first time (a node retrying every few seconds does not fill the disk).
            let evidence = try? JSONCoding.string(
                ReadEvidence(
                    method: method, path: request.path, query: query,
                    signatureInput: request.signatureInput ?? "",
                    signature: request.signature ?? ""))
            try database.raiseAlarm(
                kind: fenced.body.error.code.rawValue, node: node,
                message: "signed read \(method) \(request.path): " + fenced.body.error.message,
                evidence: evidence, once: false, oncePerNode: true)
            throw fenced
        }
        return node
    }

    /// Verifies the digest and the signature with `key`, then the signature's age.
    func verifySignature(
        _ request: SignedRequest, method: String, query: String? = nil,
        key: Curve25519.Signing.PublicKey, now: Int64 = Int64(Date().timeIntervalSince1970)
    ) throws {
        do {
            try MessageSignature.verify(
                method: method, path: request.path, query: query, body: request.body,
                contentDigest: request.contentDigest, signatureInput: request.signatureInput,
                signature: request.signature, publicKey: key)
        } catch {
            throw Self.apiError(error)
        }
        try checkFreshness(request, now: now)
    }

    /// Refuses a request signed more than `maxSignatureAge` seconds away from the aggregator's clock.
    func checkFreshness(_ request: SignedRequest, now: Int64 = Int64(Date().timeIntervalSince1970)) throws {
        let created: Int64
        do {
            created = try MessageSignature.created(signatureInput: request.signatureInput)
        } catch {
            throw Self.apiError(error)
        }
        let (skew, overflow) = now.subtractingReportingOverflow(created)
        guard !overflow, skew.magnitude <= UInt64(maxSignatureAge) else {
            throw APIError(
                .unauthorized, .staleSignature,
                "the request was signed at \(created), more than "
                    + "\(maxSignatureAge) s from the aggregator's clock (\(now))")
        }
    }

    /// The key id the request's `Signature-Input` claims.
    static func keyID(_ request: SignedRequest) throws -> String {
        do {
            return try MessageSignature.keyID(signatureInput: request.signatureInput)
        } catch {
            throw apiError(error)
        }
    }

    static func requireJSON(_ request: SignedRequest) throws {
        guard let contentType = request.contentType,
            contentType.split(separator: ";").first?.trimmingCharacters(in: .whitespaces).lowercased()
                == "application/json"
        else {
            throw APIError(.unsupportedMediaType, .unsupportedMediaType, "a request body must be application/json")
        }
    }

    static func apiError(_ failure: MessageSignature.Failure) -> APIError {
        switch failure.reason {
        case .missing: APIError(.unauthorized, .missingSignature, failure.message)
        case .malformed: APIError(.badRequest, .malformedSignature, failure.message)
        case .digestMismatch: APIError(.badRequest, .digestMismatch, failure.message)
        case .badSignature: APIError(.unauthorized, .badSignature, failure.message)
        }
    }
}

/// An authentic signed read, kept as evidence.
private struct ReadEvidence: Encodable {
    var method: String
    var path: String
    var query: String?
    var signatureInput: String
    var signature: String
}
