import Foundation

/// One problem found in an event file: where it is, what is wrong, and both values when two disagree.
public struct EventIssue: Sendable, Equatable, CustomStringConvertible {
    public enum Severity: String, Sendable {
        /// The event cannot be used until this is fixed.
        case error
        /// The event is usable, but the source contradicts itself here; reports must show it.
        case warning
    }

    public enum Code: String, Sendable {
        case invalidJSON = "invalid_json"
        case unsupportedFormat = "unsupported_format"
        case missingSection = "missing_section"
        case invalidID = "invalid_id"
        case duplicateID = "duplicate_id"
        case unknownReference = "unknown_reference"
        case emptyBallot = "empty_ballot"
        case duplicateQuota = "duplicate_quota"
        case negativeCount = "negative_count"
        case quotaTotalMismatch = "quota_total_mismatch"
        case invalidTime = "invalid_time"
    }

    public var severity: Severity
    public var code: Code
    /// JSON path of the offending value, e.g. `quotas[4].counts`.
    public var location: String
    public var message: String

    public var description: String { "\(severity.rawValue) [\(code.rawValue)] \(location): \(message)" }
}

/// The event file cannot be used: it holds at least one error (all issues found are listed).
public struct EventLoadError: Error, CustomStringConvertible {
    public var file: String
    public var issues: [EventIssue]

    public var description: String {
        let errors = issues.filter { $0.severity == .error }
        return "event file \(file) has \(errors.count) error(s):\n"
            + issues.map { "  " + $0.description }.joined(separator: "\n")
    }
}

/// An event that passed validation, with the contradictions of its source that must be reported.
public struct LoadedEvent: Sendable {
    public var definition: EventDefinition
    public var warnings: [EventIssue]
    /// The event's identity, so node and aggregator can tell they use the same event: SHA-256 (hex) of the
    /// file's canonical JSON (`EventDefinition.canonicalDigest(of:)`): formatting does not change it.
    public var digest: String
    /// SHA-256 (hex) of the file's exact bytes (what nodes before the canonical identity sent).
    public var fileDigest: String
}
