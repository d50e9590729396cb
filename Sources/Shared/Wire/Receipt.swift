import Crypto
import Foundation

/// The aggregator's signed word that it holds a venue's records up to `lastSeq` (whose hash is
/// `lastHash`): sent with every acknowledgement (the `Receipt-Signature` header, so the JSON answer
/// itself stays the same for a resent batch) and kept by the node as proof.
public struct Receipt: Codable, Sendable, Equatable {
    public var venue: String
    public var node: String
    public var firstSeq: Int64
    public var lastSeq: Int64
    public var lastHash: String
    /// Base64 Ed25519 signature of `signedBytes` by the aggregator's key.
    public var signature: String

    public init(venue: String, node: String, firstSeq: Int64, lastSeq: Int64, lastHash: String, signature: String) {
        self.venue = venue
        self.node = node
        self.firstSeq = firstSeq
        self.lastSeq = lastSeq
        self.lastHash = lastHash
        self.signature = signature
    }

    /// What is signed: a fixed text form, so nothing depends on JSON encoding.
    public static func signedBytes(venue: String, node: String, firstSeq: Int64, lastSeq: Int64, lastHash: String)
        -> Data
    {
        Data("sanmin-receipt-v1\n\(venue)\n\(node)\n\(firstSeq)\n\(lastSeq)\n\(lastHash)".utf8)
    }

    public static func sign(
        venue: String, node: String, firstSeq: Int64, lastSeq: Int64, lastHash: String,
        key: Curve25519.Signing.PrivateKey
    ) throws -> Receipt {
        let signature = try key.signature(
            for: signedBytes(
                venue: venue, node: node, firstSeq: firstSeq,
                lastSeq: lastSeq, lastHash: lastHash))
        return Receipt(
            venue: venue, node: node, firstSeq: firstSeq, lastSeq: lastSeq, lastHash: lastHash,
            signature: signature.base64EncodedString())
    }

    public func isValid(for key: Curve25519.Signing.PublicKey) -> Bool {
        guard let bytes = Data(base64Encoded: signature) else { return false }
        return key.isValidSignature(
            bytes,
            for: Self.signedBytes(
                venue: venue, node: node, firstSeq: firstSeq,
                lastSeq: lastSeq, lastHash: lastHash))
    }
}

/// `GET /v1/heads`: the head of every venue chain, signed by the aggregator (Certificate-Transparency
/// style): once published, the aggregator cannot quietly drop records below a head.
public struct SignedHeads: Codable, Sendable, Equatable {
    public struct Head: Codable, Sendable, Equatable {
        public var venue: String
        public var seq: Int64
        public var hash: String

        public init(venue: String, seq: Int64, hash: String) {
            self.venue = venue
            self.seq = seq
            self.hash = hash
        }
    }

    public var event: String
    public var signedAt: String
    public var heads: [Head]
    public var signature: String

    enum CodingKeys: String, CodingKey {
        case event
        case signedAt = "signed_at"
        case heads, signature
    }

    static func signedBytes(event: String, signedAt: String, heads: [Head]) -> Data {
        Data(
            (["sanmin-heads-v1", event, signedAt] + heads.map { "\($0.venue) \($0.seq) \($0.hash)" })
                .joined(separator: "\n").utf8)
    }

    public static func sign(
        event: String, signedAt: String, heads: [Head],
        key: Curve25519.Signing.PrivateKey
    ) throws -> SignedHeads {
        let signature = try key.signature(for: signedBytes(event: event, signedAt: signedAt, heads: heads))
        return SignedHeads(event: event, signedAt: signedAt, heads: heads, signature: signature.base64EncodedString())
    }

    public func isValid(for key: Curve25519.Signing.PublicKey) -> Bool {
        guard let bytes = Data(base64Encoded: signature) else { return false }
        return key.isValidSignature(bytes, for: Self.signedBytes(event: event, signedAt: signedAt, heads: heads))
    }
}
