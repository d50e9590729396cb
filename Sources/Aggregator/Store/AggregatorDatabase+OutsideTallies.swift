import Crypto
import Foundation
import GRDB
import Shared

/// The tally of a department evaluated outside the public sessions (internally, by city organs), as the central
/// office entered it from the organ's signed-off sheet: counts per mark, where they come from, who entered them and
/// when. Signed with the aggregator's key over `entry`, so a later change to the database shows; a correction is a
/// new entry that replaces the one in effect, with its reason.
public struct OutsideTally: Codable, Sendable, Equatable {
    public struct Entry: Codable, Sendable, Equatable {
        public var event: String
        public var department: String
        public var counts: [String: Int]
        public var source: String
        public var enteredBy: String
        public var enteredAt: String
        public var replaces: Int64?
        public var reason: String?

        enum CodingKeys: String, CodingKey {
            case event, department, counts, source
            case enteredBy = "entered_by"
            case enteredAt = "entered_at"
            case replaces, reason
        }
    }

    public var id: Int64
    public var entry: Entry
    /// Ed25519 signature (base64) by the aggregator's key over the entry's canonical JSON.
    public var signature: String
    /// The aggregator's public key that signed it (base64): `aggregator identity` prints the one in use.
    public var publicKey: String
    /// Whether the signature verifies with `publicKey` over the entry as stored.
    public var verified: Bool
    /// The entry that replaced this one, if any.
    public var replacedBy: Int64?

    enum CodingKeys: String, CodingKey {
        case id, entry, signature
        case publicKey = "public_key"
        case verified
        case replacedBy = "replaced_by"
    }
}

/// Why an outside tally was refused; nothing was saved.
public struct OutsideTallyRefusal: Error, CustomStringConvertible, Equatable {
    public enum Code: String, Sendable {
        case unknownDepartment = "unknown_department"
        case evaluatedInSessions = "evaluated_in_sessions"
        case unknownMark = "unknown_mark"
        case badCount = "bad_count"
        case noBallots = "no_ballots"
        case missingField = "missing_field"
        case alreadyEntered = "already_entered"
    }

    public var code: Code
    public var message: String
    public var description: String { "\(code.rawValue): \(message); nothing was saved" }
}

extension AggregatorStore {
    /// Enters the tally of `department`, signed with `key`. A department that has one already needs `reason`: the new
    /// entry replaces the one in effect (append-only, both kept).
    @discardableResult
    public func enterOutsideTally(
        event: EventDefinition, department: String, counts: [String: Int], source: String, by: String,
        reason: String?, key: Curve25519.Signing.PrivateKey, now: Date = Date()
    ) throws -> OutsideTally {
        func refuse(_ code: OutsideTallyRefusal.Code, _ message: String) -> OutsideTallyRefusal {
            OutsideTallyRefusal(code: code, message: message)
        }
        guard let found = event.departments.first(where: { $0.id == department }) else {
            throw refuse(.unknownDepartment, "the event has no department \"\(department)\"")
        }
        guard found.isEvaluatedOutside else {
            throw refuse(
                .evaluatedInSessions,
                "department \(department) is evaluated in the sessions: its ballots come from the venues (mark it "
                    + "\"evaluated_outside\": true in the event file if it is evaluated internally)")
        }
        for (mark, count) in counts.sorted(by: { $0.key < $1.key }) {
            guard event.mark(mark) != nil else {
                throw refuse(
                    .unknownMark,
                    "unknown mark \"\(mark)\"; the event's marks are: " + event.marks.map(\.id).joined(separator: ", "))
            }
            guard (0...AggregatorDatabase.maximumOutsideCount).contains(count) else {
                throw refuse(
                    .badCount, "\(mark)=\(count): a count is between 0 and \(AggregatorDatabase.maximumOutsideCount)")
            }
        }
        guard counts.values.reduce(0, +) > 0 else { throw refuse(.noBallots, "the counts add up to 0") }
        let source = source.trimmingCharacters(in: .whitespacesAndNewlines)
        let by = by.trimmingCharacters(in: .whitespacesAndNewlines)
        let reason = reason?.trimmingCharacters(in: .whitespacesAndNewlines)
        guard !source.isEmpty else { throw refuse(.missingField, "say where the counts come from (--source)") }
        guard !by.isEmpty else { throw refuse(.missingField, "say who enters them (--by)") }
        return try withOffice(writing: true, venue: nil) { office in
            let db = office.transaction
            let current = try db.outsideTallyInEffect(department: department)
            if current != nil, reason?.isEmpty ?? true {
                throw refuse(
                    .alreadyEntered,
                    "department \(department) has a tally already (entry \(current!)): to correct it, give --reason, "
                        + "and the new entry replaces it")
            }
            let entry = OutsideTally.Entry(
                event: event.id, department: department, counts: counts.filter { $0.value > 0 }, source: source,
                enteredBy: by, enteredAt: now.formatted(.iso8601), replaces: current,
                reason: reason?.isEmpty ?? true ? nil : reason)
            let json = try JSONCoding.string(entry)
            let signature = try key.signature(for: Data(json.utf8)).base64EncodedString()
            let publicKey = key.publicKey.rawRepresentation.base64EncodedString()
            let id = try db.insertOutsideTally(
                department: department, entry: json, signature: signature, publicKey: publicKey, replaces: current)
            return OutsideTally(
                id: id, entry: entry, signature: signature, publicKey: publicKey, verified: true,
                replacedBy: nil)
        }
    }
}

extension AggregatorDatabase {
    /// Largest count one mark may have: anything larger is a typing mistake.
    public static let maximumOutsideCount = 1_000_000

    /// Every entry, oldest first, each checked against the key that signed it.
    public func outsideTallies() throws -> [OutsideTally] {
        try reading { db in
            let rows = try Row.fetchAll(db, sql: "SELECT * FROM outsideTally ORDER BY id")
            var replacedBy: [Int64: Int64] = [:]
            for row in rows { if let replaces: Int64 = row["replaces"] { replacedBy[replaces] = row["id"] } }
            return try rows.map { row in
                try Self.outsideTally(
                    id: row["id"], json: row["entry"], signature: row["signature"], publicKey: row["publicKey"],
                    replacedBy: replacedBy[row["id"]])
            }
        }
    }

    /// An entry as stored, its signature checked against the key that signed it (both stores).
    static func outsideTally(id: Int64, json: String, signature: String, publicKey: String, replacedBy: Int64?) throws
        -> OutsideTally
    {
        let key = Data(base64Encoded: publicKey).flatMap { try? Curve25519.Signing.PublicKey(rawRepresentation: $0) }
        let verified =
            key.flatMap { key in Data(base64Encoded: signature).map { key.isValidSignature($0, for: Data(json.utf8)) } }
            ?? false
        return OutsideTally(
            id: id, entry: try JSONDecoder().decode(OutsideTally.Entry.self, from: Data(json.utf8)),
            signature: signature, publicKey: publicKey, verified: verified, replacedBy: replacedBy)
    }

    /// The entries in effect as tallies for scoring (venue and session "outside"): only entries whose signature
    /// verifies count; one that does not is left out, and the report says so.
    static func outsideTallyFacts(_ entries: [OutsideTally]) -> [Totals.Tally] {
        entries.filter { $0.replacedBy == nil && $0.verified }.flatMap {
            tally in
            tally.entry.counts.sorted { $0.key < $1.key }.map {
                Totals.Tally(
                    venue: "outside", session: "outside", department: tally.entry.department, mark: $0.key,
                    count: $0.value)
            }
        }
    }
}
