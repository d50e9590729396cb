import Crypto
import Foundation

/// One record as it travels and is stored: its place in the node's chain and its payload bytes.
public struct ChainedRecord: Codable, Sendable, Equatable {
    /// Per-node sequence number, from 1, without gaps.
    public var seq: Int64
    /// Hash of the previous record (`RecordChain.genesis` for the first).
    public var prev: String
    /// SHA-256 over sequence, previous hash and payload (see `RecordChain.hash`).
    public var hash: String
    /// The payload JSON exactly as hashed.
    public var payload: String

    public init(seq: Int64, prev: String, hash: String, payload: String) {
        self.seq = seq
        self.prev = prev
        self.hash = hash
        self.payload = payload
    }

    /// Builds the record that follows `prev` (sequence `seq`), computing its hash.
    public init(seq: Int64, prev: String, payload: String) {
        self.init(
            seq: seq, prev: prev, hash: RecordChain.hash(seq: seq, prev: prev, payload: payload), payload: payload)
    }
}

/// Where a chain breaks.
public enum ChainError: Error, Sendable, Equatable, CustomStringConvertible {
    /// The record at `position` has sequence `found` where `expected` was due (dropped or reordered).
    case sequenceBreak(position: Int, expected: Int64, found: Int64)
    /// Record `seq` does not point at the hash of the record before it.
    case brokenLink(seq: Int64, expectedPrev: String, found: String)
    /// Record `seq`'s content does not hash to the hash it claims (altered).
    case hashMismatch(seq: Int64, claimed: String, computed: String)

    public var description: String {
        switch self {
        case .sequenceBreak(let position, let expected, let found):
            "record at position \(position) has sequence \(found), expected \(expected) (a record is missing or out of order)"
        case .brokenLink(let seq, let expectedPrev, let found):
            "record \(seq) links to \(found.prefix(16))…, but the previous record's hash is \(expectedPrev.prefix(16))…"
        case .hashMismatch(let seq, let claimed, let computed):
            "record \(seq) claims hash \(claimed.prefix(16))… but its content hashes to \(computed.prefix(16))… (altered)"
        }
    }
}

/// The hash chain of a node's records.
public enum RecordChain {
    /// The `prev` of a node's first record.
    public static let genesis = String(repeating: "0", count: 64)

    /// SHA-256 (hex) of "sanmin-record-v1", the sequence, the previous hash and the payload, newline-separated.
    public static func hash(seq: Int64, prev: String, payload: String) -> String {
        digest(seq: seq, prev: prev, payload: payload).hexString
    }

    /// The digest `hash` writes in hex, hashed from the strings' own bytes (nothing joined or copied).
    private static func digest(seq: Int64, prev: String, payload: String) -> SHA256Digest {
        var hasher = SHA256()
        for part in ["sanmin-record-v1\n", String(seq), "\n", prev, "\n", payload] {
            let done: Void? = part.utf8.withContiguousStorageIfAvailable {
                hasher.update(bufferPointer: UnsafeRawBufferPointer($0))
            }
            if done == nil { hasher.update(data: Data(part.utf8)) }
        }
        return hasher.finalize()
    }

    /// Whether `record`'s content hashes to the hash it claims: `hash(seq:prev:payload:) == record.hash`,
    /// without building the hex string (ingest checks every record).
    public static func hashMatches(_ record: ChainedRecord) -> Bool {
        let digest = digest(seq: record.seq, prev: record.prev, payload: record.payload)
        let claimed = record.hash.utf8
        guard claimed.count == 64 else { return false }
        let hexDigits: StaticString = "0123456789abcdef"
        return digest.withUnsafeBytes { bytes in
            hexDigits.withUTF8Buffer { hex in
                var position = claimed.startIndex
                for byte in bytes {
                    guard claimed[position] == hex[Int(byte >> 4)] else { return false }
                    position = claimed.index(after: position)
                    guard claimed[position] == hex[Int(byte & 0x0F)] else { return false }
                    position = claimed.index(after: position)
                }
                return true
            }
        }
    }

    /// Verifies that `records` continue the chain whose last record is (`afterSeq`, `afterHash`):
    /// consecutive sequence numbers, each linked to its predecessor, each hash matching its content.
    /// `hashesMatch`, when given, says for each record whether `hashMatches` holds (computed beforehand, e.g.
    /// on several cores).
    public static func verify(
        _ records: [ChainedRecord], afterSeq: Int64 = 0, afterHash: String = genesis, hashesMatch: [Bool]? = nil
    )
        throws(ChainError)
    {
        var expectedSeq = afterSeq + 1
        var expectedPrev = afterHash
        for (position, record) in records.enumerated() {
            guard record.seq == expectedSeq else {
                throw .sequenceBreak(position: position, expected: expectedSeq, found: record.seq)
            }
            guard record.prev == expectedPrev else {
                throw .brokenLink(seq: record.seq, expectedPrev: expectedPrev, found: record.prev)
            }
            guard hashesMatch?[position] ?? hashMatches(record) else {
                let computed = hash(seq: record.seq, prev: record.prev, payload: record.payload)
                throw .hashMismatch(seq: record.seq, claimed: record.hash, computed: computed)
            }
            expectedSeq += 1
            expectedPrev = record.hash
        }
    }
}

extension Sequence where Element == UInt8 {
    /// Lower-case hexadecimal.
    public var hexString: String {
        let digits = Array("0123456789abcdef".utf8)
        var bytes: [UInt8] = []
        for byte in self {
            bytes.append(digits[Int(byte >> 4)])
            bytes.append(digits[Int(byte & 0x0f)])
        }
        return String(decoding: bytes, as: UTF8.self)
    }
}
