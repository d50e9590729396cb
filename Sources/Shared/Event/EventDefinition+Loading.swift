import Crypto
import Foundation

extension EventDefinition {
    /// Reads, decodes and validates an event file; throws `EventLoadError` listing every issue
    /// when any is an error, and returns the warnings otherwise.
    public static func load(contentsOf url: URL) throws -> LoadedEvent {
        let data: Data
        do {
            data = try InputFile.read(url.path)
        } catch {
            throw EventLoadError(
                file: url.path,
                issues: [
                    EventIssue(severity: .error, code: .invalidJSON, location: "$", message: "\(error)")
                ])
        }
        return try load(data: data, file: url.path)
    }

    /// Decodes and validates event JSON held in memory (see `load(contentsOf:)`).
    public static func load(data: Data, file: String = "<memory>") throws -> LoadedEvent {
        let decoder = JSONDecoder()
        let definition: EventDefinition
        do {
            definition = try decoder.decode(EventDefinition.self, from: data)
        } catch let error as DecodingError {
            throw EventLoadError(file: file, issues: [Self.issue(for: error)])
        } catch {
            throw EventLoadError(
                file: file,
                issues: [
                    EventIssue(severity: .error, code: .invalidJSON, location: "$", message: "\(error)")
                ])
        }
        let issues = definition.validate()
        if issues.contains(where: { $0.severity == .error }) {
            throw EventLoadError(file: file, issues: issues)
        }
        let fileDigest = SHA256.hash(data: data).hexString
        return LoadedEvent(
            definition: definition, warnings: issues,
            digest: canonicalDigest(of: data) ?? fileDigest, fileDigest: fileDigest)
    }

    /// The event's identity: SHA-256 (hex) of its canonical JSON — parsed and encoded again with sorted
    /// keys and no insignificant whitespace — so files that differ only in formatting (indentation, line
    /// ends, key order) are the same event. Nil when `data` is not JSON.
    public static func canonicalDigest(of data: Data) -> String? {
        guard let object = try? JSONSerialization.jsonObject(with: data, options: [.fragmentsAllowed]),
            let canonical = try? JSONSerialization.data(
                withJSONObject: object, options: [.sortedKeys, .withoutEscapingSlashes, .fragmentsAllowed])
        else { return nil }
        return SHA256.hash(data: canonical).hexString
    }

    private static func issue(for error: DecodingError) -> EventIssue {
        func path(_ codingPath: [any CodingKey]) -> String {
            codingPath.reduce("$") { partial, key in
                if let index = key.intValue { return partial + "[\(index)]" }
                return partial + "." + key.stringValue
            }
        }
        switch error {
        case .keyNotFound(let key, let context):
            return EventIssue(
                severity: .error, code: .invalidJSON, location: path(context.codingPath),
                message: "required field \"\(key.stringValue)\" is missing")
        case .typeMismatch(let type, let context):
            return EventIssue(
                severity: .error, code: .invalidJSON, location: path(context.codingPath),
                message: "expected a value of type \(type): \(context.debugDescription)")
        case .valueNotFound(let type, let context):
            return EventIssue(
                severity: .error, code: .invalidJSON, location: path(context.codingPath),
                message: "expected a value of type \(type), found null")
        case .dataCorrupted(let context):
            return EventIssue(
                severity: .error, code: .invalidJSON, location: path(context.codingPath),
                message: context.debugDescription)
        @unknown default:
            return EventIssue(severity: .error, code: .invalidJSON, location: "$", message: "\(error)")
        }
    }
}
