import Foundation

/// The body of `POST /v1/batches`: consecutive records of one node's chain.
public struct Batch: Codable, Sendable, Equatable {
    public static let currentVersion = 1

    public var version: Int
    /// Event id the records belong to.
    public var event: String
    public var venue: String
    /// Node id (the key id of the request's signature).
    public var node: String
    public var records: [ChainedRecord]
    /// SHA-256 of the event file the node checked its records against: the aggregator refuses a batch
    /// checked against another version of the event (it could hold records the aggregator must refuse).
    public var eventDigest: String?

    public init(event: String, venue: String, node: String, records: [ChainedRecord], eventDigest: String? = nil) {
        self.version = Self.currentVersion
        self.event = event
        self.venue = venue
        self.node = node
        self.records = records
        self.eventDigest = eventDigest
    }

    enum CodingKeys: String, CodingKey {
        case version, event, venue, node, records
        case eventDigest = "event_digest"
    }
}

extension Batch {
    /// Reads a batch body: `JSONParser` for a body it reads exactly, else `JSONDecoder` (which gives the same
    /// batch, or the error it always gave). Unknown members are ignored, as `JSONDecoder` ignores them.
    public static func decode(_ body: Data) throws -> Batch {
        if let fast = body.withUnsafeBytes({ raw in fastDecode(raw.bindMemory(to: UInt8.self)) }) { return fast }
        return try JSONDecoder().decode(Batch.self, from: body)
    }

    static func fastDecode(_ bytes: UnsafeBufferPointer<UInt8>) -> Batch? {
        guard case .object(let members)? = JSONParser.parse(bytes) else { return nil }
        var version: Int?
        var event: String?
        var venue: String?
        var node: String?
        var records: [ChainedRecord]?
        var eventDigest: String?
        for member in members {
            switch (member.key, member.value) {
            case ("version", .int(let number)): version = Int(exactly: number)
            case ("event", .string(let text)): event = text
            case ("venue", .string(let text)): venue = text
            case ("node", .string(let text)): node = text
            case ("event_digest", .string(let text)): eventDigest = text
            case ("records", .array(let items)):
                var result: [ChainedRecord] = []
                result.reserveCapacity(items.count)
                for item in items {
                    guard case .object(let fields) = item else { return nil }
                    var seq: Int64?
                    var prev: String?
                    var hash: String?
                    var payload: String?
                    for field in fields {
                        switch (field.key, field.value) {
                        case ("seq", .int(let number)): seq = number
                        case ("prev", .string(let text)): prev = text
                        case ("hash", .string(let text)): hash = text
                        case ("payload", .string(let text)): payload = text
                        case ("seq", _), ("prev", _), ("hash", _), ("payload", _): return nil
                        default: continue
                        }
                    }
                    guard let seq, let prev, let hash, let payload else { return nil }
                    result.append(ChainedRecord(seq: seq, prev: prev, hash: hash, payload: payload))
                }
                records = result
            case ("version", _), ("event", _), ("venue", _), ("node", _), ("event_digest", _), ("records", _):
                return nil
            default:
                continue
            }
        }
        guard let version, let event, let venue, let node, let records else { return nil }
        var batch = Batch(event: event, venue: venue, node: node, records: records, eventDigest: eventDigest)
        batch.version = version
        return batch
    }
}

/// The aggregator's answer to an accepted batch. It depends only on the batch, so sending the same
/// batch again gets the same answer.
public struct BatchAck: Codable, Sendable, Equatable {
    public var status: String
    public var node: String
    public var firstSeq: Int64
    public var lastSeq: Int64
    public var lastHash: String

    public init(node: String, firstSeq: Int64, lastSeq: Int64, lastHash: String) {
        self.status = "accepted"
        self.node = node
        self.firstSeq = firstSeq
        self.lastSeq = lastSeq
        self.lastHash = lastHash
    }

    enum CodingKeys: String, CodingKey {
        case status, node
        case firstSeq = "first_seq"
        case lastSeq = "last_seq"
        case lastHash = "last_hash"
    }
}
