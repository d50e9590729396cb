import Foundation

/// Stable, machine-readable error codes of the aggregator's API (docs/aggregator.md lists them).
///
/// A code is a string, not a closed enum: a node reading an answer from a newer aggregator keeps a code it
/// does not know (and its message) instead of failing to read the answer, and acts on the HTTP status, as it
/// does for every code it has no special handling for. New, more precise codes are added beside the old ones
/// (`refines` names the one they narrow); a code once sent is never renamed.
public struct APIErrorCode: RawRepresentable, Codable, Hashable, Sendable, CustomStringConvertible {
    public let rawValue: String

    public init(rawValue: String) { self.rawValue = rawValue }
    init(_ rawValue: String) { self.rawValue = rawValue }

    public var description: String { rawValue }

    public static let missingSignature = Self("missing_signature")
    public static let malformedSignature = Self("malformed_signature")
    public static let staleSignature = Self("stale_signature")
    public static let digestMismatch = Self("digest_mismatch")
    public static let badSignature = Self("bad_signature")
    public static let unknownNode = Self("unknown_node")
    public static let revokedNode = Self("revoked_node")
    public static let staleEpoch = Self("stale_epoch")
    public static let unsupportedMediaType = Self("unsupported_media_type")
    public static let bodyTooLarge = Self("body_too_large")
    public static let malformedBatch = Self("malformed_batch")
    public static let nodeMismatch = Self("node_mismatch")
    public static let venueMismatch = Self("venue_mismatch")
    public static let eventMismatch = Self("event_mismatch")
    public static let brokenChain = Self("broken_chain")
    public static let sequenceGap = Self("sequence_gap")
    public static let chainConflict = Self("chain_conflict")
    public static let invalidRecord = Self("invalid_record")
    /// A record breaks a rule of the chain (`RecordRule`): the batch is refused whole.
    public static let ruleBreach = Self("rule_breach")
    public static let notFound = Self("not_found")
    public static let resultsConfidential = Self("results_confidential")
    public static let unauthorized = Self("unauthorized")
    public static let forbidden = Self("forbidden")
    public static let enrolmentTokenInvalid = Self("enrolment_token_invalid")
    public static let enrolmentTokenExpired = Self("enrolment_token_expired")
    public static let enrolmentTokenUsed = Self("enrolment_token_used")
    public static let enrolmentTokenRevoked = Self("enrolment_token_revoked")
    public static let tokenRevoked = Self("token_revoked")
    public static let invalidHeartbeat = Self("invalid_heartbeat")
    public static let badRequest = Self("bad_request")
    public static let methodNotAllowed = Self("method_not_allowed")
    public static let rateLimited = Self("rate_limited")
    public static let replayedRequest = Self("replayed_request")
    public static let internalError = Self("internal_error")
    /// A JSON request body (a heartbeat, an enrolment, an admin request) that is not what the endpoint takes.
    /// Release 1 answered `malformed_batch` here.
    public static let invalidBody = Self("invalid_body")
    /// A venue that is not in the installed event. Release 1 answered `venue_mismatch` for an enrolment token
    /// asked for such a venue.
    public static let unknownVenue = Self("unknown_venue")

    /// An enrolment token issued for another venue than the one the node enrols for. Release 1 answered
    /// `venue_mismatch`.
    public static let enrolmentTokenOtherVenue = Self("enrolment_token_other_venue")

    /// A step of a suggestion's handling that cannot be taken as the suggestion stands (closed, not assigned, an
    /// unknown department …): nothing changed (issue #17).
    public static let suggestionRefused = Self("suggestion_refused")

    /// The release-1 code that a newer code narrows, for clients that only know the older one.
    public var refines: APIErrorCode? {
        switch self {
        case .invalidBody: .malformedBatch
        case .unknownVenue, .enrolmentTokenOtherVenue: .venueMismatch
        default: nil
        }
    }

    /// Whether this code is `code` or narrows it: what a client that acts on `code` should test.
    public func means(_ code: APIErrorCode) -> Bool { self == code || refines == code }
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
            case code, message
            case resumeFrom = "resume_from"
            case seq, field
        }
    }

    public var error: Detail

    public init(
        code: APIErrorCode, message: String, resumeFrom: Int64? = nil, seq: Int64? = nil,
        field: String? = nil
    ) {
        self.error = Detail(code: code, message: message, resumeFrom: resumeFrom, seq: seq, field: field)
    }
}
