import Crypto
import Foundation

/// Batches carried on a USB stick (issue #15): what `venue-node export` writes and `aggregator import` merges exactly
/// as if they had arrived over HTTP. Each batch is kept with the headers of the signed POST the node would have sent
/// (its body byte for byte, its digest, its signature), so the aggregator verifies it with the same code; the
/// envelope around them is only a table of contents, trusted for nothing.
public struct CarriedBatches: Codable, Sendable, Equatable {
    public static let formatName = "sanmin-carried-batches"
    public static let currentVersion = 1

    public var format: String
    public var version: Int
    public var event: String
    public var venue: String
    public var node: String
    public var exportedAt: String
    public var firstSeq: Int64
    public var lastSeq: Int64
    public var batches: [SignedBatch]

    public init(event: String, venue: String, node: String, exportedAt: String, batches: [SignedBatch]) {
        self.format = Self.formatName
        self.version = Self.currentVersion
        self.event = event
        self.venue = venue
        self.node = node
        self.exportedAt = exportedAt
        self.batches = batches
        self.firstSeq = 0
        self.lastSeq = 0
    }

    enum CodingKeys: String, CodingKey {
        case format, version, event, venue, node, batches
        case exportedAt = "exported_at"
        case firstSeq = "first_seq"
        case lastSeq = "last_seq"
    }

    /// One batch as the node signed it: the exact body (base64) and the headers of its POST /v1/batches.
    public struct SignedBatch: Codable, Sendable, Equatable {
        public var contentDigest: String
        public var signatureInput: String
        public var signature: String
        public var body: Data

        public init(contentDigest: String, signatureInput: String, signature: String, body: Data) {
            self.contentDigest = contentDigest
            self.signatureInput = signatureInput
            self.signature = signature
            self.body = body
        }

        enum CodingKeys: String, CodingKey {
            case body, signature
            case contentDigest = "content_digest"
            case signatureInput = "signature_input"
        }
    }

    /// Reads a carried file, or says plainly why it is not one (nothing is imported).
    public static func read(_ data: Data) throws(CarriedFileError) -> CarriedBatches {
        let file: CarriedBatches
        do {
            file = try JSONDecoder().decode(CarriedBatches.self, from: data)
        } catch {
            throw CarriedFileError(
                "this is not a complete file of carried batches (truncated, or not made by `venue-node export`): "
                    + "\(error)")
        }
        guard file.format == formatName else {
            throw CarriedFileError("this file's format is \"\(file.format)\", not \(formatName)")
        }
        guard file.version == currentVersion else {
            throw CarriedFileError(
                "carried batches of version \(file.version) are not known to this release (it reads \(currentVersion))")
        }
        guard !file.batches.isEmpty else { throw CarriedFileError("the file holds no batch") }
        return file
    }
}

/// The receipts the aggregator signed for carried batches, carried back to the node (`aggregator import
/// --receipts-out`, `venue-node receipts import`).
public struct CarriedReceipts: Codable, Sendable, Equatable {
    public static let formatName = "sanmin-carried-receipts"

    public var format: String
    public var event: String
    public var venue: String
    public var node: String
    public var receipts: [Receipt]

    public init(event: String, venue: String, node: String, receipts: [Receipt]) {
        self.format = Self.formatName
        self.event = event
        self.venue = venue
        self.node = node
        self.receipts = receipts
    }

    public static func read(_ data: Data) throws(CarriedFileError) -> CarriedReceipts {
        let file: CarriedReceipts
        do {
            file = try JSONDecoder().decode(CarriedReceipts.self, from: data)
        } catch {
            throw CarriedFileError(
                "this is not a complete file of receipts (truncated, or not made by `aggregator import "
                    + "--receipts-out`): \(error)")
        }
        guard file.format == formatName else {
            throw CarriedFileError("this file's format is \"\(file.format)\", not \(formatName)")
        }
        return file
    }
}

/// A carried file that cannot be read; nothing was imported.
public struct CarriedFileError: Error, Sendable, CustomStringConvertible {
    public var description: String
    public init(_ description: String) { self.description = description }
}

/// What is read aloud over the phone to say which file was carried: 16 hexadecimal characters of its SHA-256.
public func carriedDigest(_ data: Data) -> String {
    String(SHA256.hash(data: data).hexString.prefix(16))
}
