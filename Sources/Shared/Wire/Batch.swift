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
        case version, event, venue, node, records, eventDigest = "event_digest"
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
        var version: Int?, event: String?, venue: String?, node: String?, records: [ChainedRecord]?
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
                    var seq: Int64?, prev: String?, hash: String?, payload: String?
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
        case status, node, firstSeq = "first_seq", lastSeq = "last_seq", lastHash = "last_hash"
    }
}

/// `GET /v1/nodes/{id}/cursor`: the last record of the node's venue chain that the aggregator holds.
public struct NodeCursor: Codable, Sendable, Equatable {
    public var node: String
    public var venue: String
    /// The node's epoch: its place among the keys enrolled for the venue.
    public var epoch: Int64
    /// 0 when nothing is held yet.
    public var seq: Int64
    /// `RecordChain.genesis` when nothing is held yet.
    public var hash: String

    public init(node: String, venue: String, epoch: Int64, seq: Int64, hash: String) {
        self.node = node
        self.venue = venue
        self.epoch = epoch
        self.seq = seq
        self.hash = hash
    }
}

/// `GET /v1/nodes/{id}/records?from=N`: records of the node's venue chain, for `venue-node restore`.
public struct RecordPage: Codable, Sendable, Equatable {
    public var venue: String
    public var records: [ChainedRecord]
    /// The venue chain's last sequence held by the aggregator.
    public var headSeq: Int64

    public init(venue: String, records: [ChainedRecord], headSeq: Int64) {
        self.venue = venue
        self.records = records
        self.headSeq = headSeq
    }

    enum CodingKeys: String, CodingKey {
        case venue, records, headSeq = "head_seq"
    }
}

/// `POST /v1/heartbeats` (signed like a batch): how the node sees itself, so the central office can
/// tell a venue that is alive but behind, and check the node's own figures against what it holds.
public struct Heartbeat: Codable, Sendable, Equatable {
    public var node: String
    public var venue: String
    /// The node's last record.
    public var headSeq: Int64
    public var headHash: String
    /// Records not yet acknowledged.
    public var pending: Int64
    public var freeDiskBytes: Int64?
    public var version: String
    /// The node's clock (informational).
    public var clock: String
    /// What stops the node's sync and needs an operator (its chain forked from the aggregator's, …).
    public var problem: String?

    public init(node: String, venue: String, headSeq: Int64, headHash: String, pending: Int64, freeDiskBytes: Int64?,
                version: String, clock: String, problem: String? = nil) {
        self.problem = problem
        self.node = node
        self.venue = venue
        self.headSeq = headSeq
        self.headHash = headHash
        self.pending = pending
        self.freeDiskBytes = freeDiskBytes
        self.version = version
        self.clock = clock
    }

    enum CodingKeys: String, CodingKey {
        case node, venue, headSeq = "head_seq", headHash = "head_hash", pending, freeDiskBytes = "free_disk_bytes"
        case version, clock, problem
    }
}

/// The version of this build, reported in heartbeats.
public let sanminVersion = "0.1.0"

/// Stable, machine-readable error codes of the aggregator's API.
public enum APIErrorCode: String, Codable, Sendable {
    case missingSignature = "missing_signature"
    case malformedSignature = "malformed_signature"
    case staleSignature = "stale_signature"
    case digestMismatch = "digest_mismatch"
    case badSignature = "bad_signature"
    case unknownNode = "unknown_node"
    case revokedNode = "revoked_node"
    case staleEpoch = "stale_epoch"
    case unsupportedMediaType = "unsupported_media_type"
    case bodyTooLarge = "body_too_large"
    case malformedBatch = "malformed_batch"
    case nodeMismatch = "node_mismatch"
    case venueMismatch = "venue_mismatch"
    case eventMismatch = "event_mismatch"
    case brokenChain = "broken_chain"
    case sequenceGap = "sequence_gap"
    case chainConflict = "chain_conflict"
    case invalidRecord = "invalid_record"
    /// A record breaks a rule of the chain (`RecordRule`): the batch is refused whole.
    case ruleBreach = "rule_breach"
    case notFound = "not_found"
    case resultsConfidential = "results_confidential"
    case unauthorized
    case forbidden
    case enrolmentTokenInvalid = "enrolment_token_invalid"
    case enrolmentTokenExpired = "enrolment_token_expired"
    case enrolmentTokenUsed = "enrolment_token_used"
    case enrolmentTokenRevoked = "enrolment_token_revoked"
    case tokenRevoked = "token_revoked"
    case invalidHeartbeat = "invalid_heartbeat"
    case badRequest = "bad_request"
    case methodNotAllowed = "method_not_allowed"
    case rateLimited = "rate_limited"
    case replayedRequest = "replayed_request"
    case internalError = "internal_error"
}

/// The JSON body of every error answer: `{"error": {"code": …, "message": …, …}}`.
public struct APIErrorBody: Codable, Sendable, Equatable {
    public struct Detail: Codable, Sendable, Equatable {
        public var code: APIErrorCode
        public var message: String
        /// With `sequence_gap`: the sequence number the node must send next.
        public var resumeFrom: Int64?
        /// The sequence number of the record concerned, where there is one.
        public var seq: Int64?
        /// The field of the request concerned, where there is one (`invalid_heartbeat`).
        public var field: String?

        enum CodingKeys: String, CodingKey {
            case code, message, resumeFrom = "resume_from", seq, field
        }
    }

    public var error: Detail

    public init(code: APIErrorCode, message: String, resumeFrom: Int64? = nil, seq: Int64? = nil,
                field: String? = nil) {
        self.error = Detail(code: code, message: message, resumeFrom: resumeFrom, seq: seq, field: field)
    }
}

/// Totals as `GET /v1/totals` returns them (and the CSV exports print).
public struct Totals: Codable, Sendable, Equatable {
    public struct Tally: Codable, Sendable, Equatable, Hashable {
        public var venue: String
        public var session: String
        public var department: String
        public var mark: String
        public var count: Int

        public init(venue: String, session: String, department: String, mark: String, count: Int) {
            self.venue = venue
            self.session = session
            self.department = department
            self.mark = mark
            self.count = count
        }
    }

    public struct Attendance: Codable, Sendable, Equatable, Hashable {
        public var venue: String
        public var session: String
        public var category: String
        public var checkedIn: Int

        public init(venue: String, session: String, category: String, checkedIn: Int) {
            self.venue = venue
            self.session = session
            self.category = category
            self.checkedIn = checkedIn
        }

        enum CodingKeys: String, CodingKey {
            case venue, session, category, checkedIn = "checked_in"
        }
    }

    public struct Box: Codable, Sendable, Equatable, Hashable {
        public var venue: String
        public var session: String
        public var box: String
        /// Opening and closing records in effect (normally 1 each).
        public var opened: Int
        public var closed: Int
        public var issued: Int
        public var returned: Int
        public var valid: Int
        public var blank: Int
        public var spoiled: Int

        public init(venue: String, session: String, box: String, opened: Int = 1, closed: Int = 1, issued: Int,
                    returned: Int, valid: Int, blank: Int, spoiled: Int) {
            self.venue = venue
            self.session = session
            self.box = box
            self.opened = opened
            self.closed = closed
            self.issued = issued
            self.returned = returned
            self.valid = valid
            self.blank = blank
            self.spoiled = spoiled
        }
    }

    public var event: String
    public var tallies: [Tally]
    public var attendance: [Attendance]
    public var boxes: [Box]

    public init(event: String, tallies: [Tally], attendance: [Attendance], boxes: [Box]) {
        self.event = event
        self.tallies = tallies
        self.attendance = attendance
        self.boxes = boxes
    }
}
