import Foundation

/// The one place that says how this software writes JSON (apart from a record's canonical form, which is
/// part of the chain's format and lives in `RecordPayload+CanonicalForm.swift`).
public enum JSONCoding {
    public enum Style: Sendable {
        /// What a node sends (batches, heartbeats, enrolments): fields in declaration order, `/` unescaped.
        case wire
        /// API answers, evidence and stored JSON: keys sorted, `/` unescaped, one line.
        case compact
        /// For people and files they may open (CLI `--json`, node.json): `compact`, indented.
        case pretty
    }

    /// A new encoder in `style`.
    public static func encoder(_ style: Style = .compact) -> JSONEncoder {
        let encoder = JSONEncoder()
        switch style {
        case .wire: encoder.outputFormatting = [.withoutEscapingSlashes]
        case .compact: encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        case .pretty: encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        }
        return encoder
    }

    /// `value` encoded in `style`.
    public static func data(_ value: some Encodable, _ style: Style = .compact) throws -> Data {
        try encoder(style).encode(value)
    }

    /// `value` encoded in `style`, as text.
    public static func string(_ value: some Encodable, _ style: Style = .compact) throws -> String {
        String(decoding: try data(value, style), as: UTF8.self)
    }
}
