import Crypto
import Foundation

/// Signs and verifies requests after RFC 9421 (HTTP Message Signatures) with an RFC 9530
/// `Content-Digest`: the signature covers the method, the path and the digest of the exact body,
/// so the aggregator can verify it over the raw bytes before it parses anything.
///
/// Only the profile this system uses is accepted: label `sig1`, components
/// `("@method" "@path" "content-digest")`, or `("@method" "@path" "@query" "content-digest")` for a
/// request with a query (which must then be covered), parameters `created`, `keyid` and `alg="ed25519"`.
public enum MessageSignature {
    public static let label = "sig1"
    public static let components = ["@method", "@path", "content-digest"]
    public static let componentsWithQuery = ["@method", "@path", "@query", "content-digest"]

    /// The headers to add to a request.
    public struct Headers: Sendable, Equatable {
        public var contentDigest: String
        public var signatureInput: String
        public var signature: String
    }

    /// A verification failure, with what was wrong.
    public struct Failure: Error, Sendable, Equatable, CustomStringConvertible {
        public enum Reason: Sendable, Equatable {
            case missing, malformed, digestMismatch, badSignature
        }

        public var reason: Reason
        public var message: String

        public var description: String { message }
    }

    /// `sha-256=:<base64>:` of `body` (RFC 9530).
    public static func contentDigest(of body: some DataProtocol) -> String {
        "sha-256=:" + Data(SHA256.hash(data: body)).base64EncodedString() + ":"
    }

    /// Signs a request whose body is `body`; `query` (without the "?") is covered when given.
    public static func sign(
        method: String, path: String, query: String? = nil, body: some DataProtocol,
        keyID: String, key: Curve25519.Signing.PrivateKey, created: Int64
    ) throws -> Headers {
        let digest = contentDigest(of: body)
        let parameters =
            "("
            + (query == nil ? components : componentsWithQuery).map { "\"\($0)\"" }
            .joined(separator: " ") + ")" + ";created=\(created);keyid=\"\(keyID)\";alg=\"ed25519\""
        let base = signatureBase(
            method: method, path: path, query: query, contentDigest: digest, parameters: parameters)
        let signature = try key.signature(for: Data(base.utf8))
        return Headers(
            contentDigest: digest, signatureInput: "\(label)=\(parameters)",
            signature: "\(label)=:\(signature.base64EncodedString()):")
    }

    /// The key id a request claims, parsed from its `Signature-Input` (to look up the key).
    public static func keyID(signatureInput: String?) throws(Failure) -> String {
        try parseInput(signatureInput).keyID
    }

    /// The `created` time (Unix seconds) a request's `Signature-Input` states.
    public static func created(signatureInput: String?) throws(Failure) -> Int64 {
        try parseInput(signatureInput).created
    }

    /// Verifies the digest against the raw body and the signature against `publicKey`.
    /// A request with a non-empty `query` verifies only if its signature covers it (`@query`).
    public static func verify(
        method: String, path: String, query: String? = nil, body: some DataProtocol,
        contentDigest: String?, signatureInput: String?, signature: String?,
        publicKey: Curve25519.Signing.PublicKey
    ) throws(Failure) {
        let input = try parseInput(signatureInput)
        if let query, !query.isEmpty, !input.coversQuery {
            throw Failure(
                reason: .malformed, message: "the request has a query, which its signature must cover (@query)")
        }
        guard let contentDigest else {
            throw Failure(reason: .missing, message: "the request has no Content-Digest header")
        }
        guard contentDigest == Self.contentDigest(of: body) else {
            throw Failure(reason: .digestMismatch, message: "Content-Digest does not match the body")
        }
        guard let signature else {
            throw Failure(reason: .missing, message: "the request has no Signature header")
        }
        let prefix = "\(label)=:"
        guard signature.hasPrefix(prefix), signature.hasSuffix(":"), signature.count > prefix.count + 1,
            let bytes = Data(base64Encoded: String(signature.dropFirst(prefix.count).dropLast()))
        else {
            throw Failure(reason: .malformed, message: "Signature must be \(label)=:<base64>:")
        }
        let base = signatureBase(
            method: method, path: path, query: input.coversQuery ? (query ?? "") : nil,
            contentDigest: contentDigest, parameters: input.parameters)
        guard publicKey.isValidSignature(bytes, for: Data(base.utf8)) else {
            throw Failure(
                reason: .badSignature, message: "the signature does not verify with the key of node \(input.keyID)")
        }
    }

    static func signatureBase(
        method: String, path: String, query: String?, contentDigest: String,
        parameters: String
    ) -> String {
        ([
            "\"@method\": \(method.uppercased())",
            "\"@path\": \(path)",
        ] + (query.map { ["\"@query\": ?\($0)"] } ?? []) + [
            "\"content-digest\": \(contentDigest)",
            "\"@signature-params\": \(parameters)",
        ]).joined(separator: "\n")
    }

    private static func parseInput(_ header: String?) throws(Failure)
        -> (parameters: String, keyID: String, created: Int64, coversQuery: Bool)
    {
        guard let header else {
            throw Failure(reason: .missing, message: "the request has no Signature-Input header")
        }
        let prefix = "\(label)=("
        let plainList = components.map { "\"\($0)\"" }.joined(separator: " ") + ")"
        let queryList = componentsWithQuery.map { "\"\($0)\"" }.joined(separator: " ") + ")"
        let coversQuery = header.dropFirst(prefix.count).hasPrefix(queryList)
        let expectedList = coversQuery ? queryList : plainList
        guard header.hasPrefix(prefix), header.dropFirst(prefix.count).hasPrefix(expectedList) else {
            throw Failure(
                reason: .malformed,
                message: "Signature-Input must be \(label)=(\(plainList) with parameters created, keyid, alg")
        }
        let parameters = String(header.dropFirst(label.count + 1))
        var keyID: String?
        var algorithm: String?
        var created: Int64?
        let rest = parameters.dropFirst(expectedList.count + 1)  // after "(" and the component list
        guard rest.first == ";" else {
            throw Failure(reason: .malformed, message: "Signature-Input needs the parameters created, keyid and alg")
        }
        for item in rest.dropFirst().split(separator: ";", omittingEmptySubsequences: false) {
            guard let equals = item.firstIndex(of: "=") else {
                throw Failure(reason: .malformed, message: "Signature-Input parameter \"\(item)\" has no value")
            }
            let name = item[..<equals]
            let value = item[item.index(after: equals)...]
            func quoted() throws(Failure) -> String {
                guard value.count >= 2, value.first == "\"", value.last == "\"" else {
                    throw Failure(
                        reason: .malformed, message: "Signature-Input parameter \(name) must be a quoted string")
                }
                return String(value.dropFirst().dropLast())
            }
            switch name {
            case "keyid" where keyID == nil: keyID = try quoted()
            case "alg" where algorithm == nil: algorithm = try quoted()
            case "created" where created == nil: created = Int64(value)
            default:
                throw Failure(
                    reason: .malformed, message: "Signature-Input parameter \"\(name)\" is unknown or repeated")
            }
        }
        guard let keyID, !keyID.isEmpty, algorithm == "ed25519", let created else {
            throw Failure(reason: .malformed, message: "Signature-Input needs created, keyid and alg=\"ed25519\"")
        }
        return (parameters, keyID, created, coversQuery)
    }
}

/// A node's identity: an Ed25519 key pair; its id is derived from the public key.
public enum NodeIdentity {
    /// The node id of a public key: the first 16 bytes of its SHA-256, in hex.
    public static func nodeID(for publicKey: Curve25519.Signing.PublicKey) -> String {
        String(SHA256.hash(data: publicKey.rawRepresentation).hexString.prefix(32))
    }

    /// Parses a public key given as base64 of its 32 raw bytes.
    public static func publicKey(base64: String) -> Curve25519.Signing.PublicKey? {
        guard let data = Data(base64Encoded: base64.trimmingCharacters(in: .whitespacesAndNewlines)) else { return nil }
        return try? Curve25519.Signing.PublicKey(rawRepresentation: data)
    }
}
