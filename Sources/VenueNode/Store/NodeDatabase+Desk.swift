import Foundation
import GRDB
import Shared

extension Clerk {
    /// How a record names the clerk who wrote it: `name#id` (the id tells two clerks of the same name apart).
    public var attribution: String { "\(name)#\(id)" }
}

/// A request from the desk the node refuses; nothing was saved. `code` is what the page shows in the clerk's
/// language, `message` says it in English.
public struct DeskRefusal: Error, Sendable, Equatable, CustomStringConvertible {
    public enum Kind: Sendable, Equatable {
        /// The request is malformed or does not fit the event (400).
        case invalid
        /// The clerk's role does not allow it (403).
        case forbidden
        /// Nothing by that name (404).
        case notFound
        /// It contradicts what the node holds (409).
        case conflict
    }

    public var kind: Kind
    public var code: String
    public var message: String
    /// What the clerk is asked to confirm before saving (`needs_confirmation`).
    public var warnings: [String]

    public init(_ kind: Kind, _ code: String, _ message: String, warnings: [String] = []) {
        self.kind = kind
        self.code = code
        self.message = message
        self.warnings = warnings
    }

    public var description: String { message }
}

/// A box of a session as the desk shows it, from the records in effect.
public struct DeskBox: Codable, Sendable, Equatable {
    public var session: String
    public var box: String
    public var openedSeq: Int64?
    public var openedAt: String?
    public var openedBy: String?
    public var closedSeq: Int64?
    public var closedAt: String?
    public var closedBy: String?
    /// The chain's head when the box was closed: the hash of the record that closed it.
    public var closedHash: String?
    public var issued: Int?
    public var returned: Int?
    /// Ballots of the box in effect (keyed, imported, entered, or cast on phones once it closed).
    public var ballots: Int
    /// A phone box (issue #16): voting codes printed for it, and ballots cast with them (sealed until it closes).
    public var printed: Int?
    public var cast: Int?
    /// The other forms (issue #17) its closing says it returned, by kind, and how many of each were entered since.
    public var forms: [String: Int]?
    public var formsEntered: [String: Int]?

    enum CodingKeys: String, CodingKey {
        case session, box, issued, returned, ballots, printed, cast, forms
        case formsEntered = "forms_entered"
        case openedSeq = "opened_seq"
        case openedAt = "opened_at"
        case openedBy = "opened_by"
        case closedSeq = "closed_seq"
        case closedAt = "closed_at"
        case closedBy = "closed_by"
        case closedHash = "closed_hash"
    }
}

/// A check-in found by the chain's rule: who was checked in before, when and by whom.
public struct EarlierCheckin: Codable, Sendable, Equatable {
    public var seq: Int64
    public var rep: String
    public var at: String?
    /// The clerk who checked them in (nil: from the command line or an import).
    public var clerk: String?
}

extension NodeDatabase {
    /// Brings the ledger tables to the chain's head if they are not (the first time after an upgrade or a restore),
    /// so that the desk's reads are as cheap on 10^5 records as on none.
    public func prepareLedger() throws {
        try write { db in
            if try !Self.ledgerIsCurrent(db) { _ = try Self.ledger(for: [], db: db) }
        }
    }

    /// Reads from the ledger tables, rebuilding them first if they are behind.
    func ledgerRead<T>(_ body: (Database) throws -> T) throws -> T {
        if try writer.read({ try Self.ledgerIsCurrent($0) }) { return try writer.read(body) }
        return try write { db in
            if try !Self.ledgerIsCurrent(db) { _ = try Self.ledger(for: [], db: db) }
            return try body(db)
        }
    }

    static func ledgerValue(_ db: Database, map: String, key: String) throws -> String? {
        try String.fetchOne(
            db.cachedStatement(sql: "SELECT value FROM ledgerEntry WHERE map = ? AND key = ?"), arguments: [map, key])
    }

    /// What record `seq` says now (its replacement if corrected), from the ledger.
    static func contentInEffect(_ db: Database, seq: Int64) throws -> RecordPayload? {
        try ledgerValue(db, map: "t", key: "\(seq)").flatMap { try? RecordPayload.decode(json: $0) }
    }

    /// Check-ins per session and category, as counted by the records in effect.
    public func attendance() throws -> [String: [String: Int]] {
        try ledgerRead { db in
            var result: [String: [String: Int]] = [:]
            for row in try Row.fetchAll(db, sql: "SELECT name, value FROM ledgerCount WHERE name LIKE 'attendance:%'") {
                let name: String = row["name"]
                let parts = name.dropFirst("attendance:".count).split(separator: "\u{1F}", maxSplits: 1).map(
                    String.init)
                guard parts.count == 2 else { continue }
                let value: Int = row["value"]
                if value != 0 { result[parts[0], default: [:]][parts[1]] = value }
            }
            return result
        }
    }

    /// The check-in in effect that holds representative `rep` or person `person` in `session`.
    public func earlierCheckin(session: String, rep: String, person: String?) throws -> EarlierCheckin? {
        try ledgerRead { db in
            var seq = try Self.ledgerValue(db, map: "c", key: "\(session)\u{1F}\(rep)").flatMap { Int64($0) }
            if seq == nil, let person {
                seq = try Self.ledgerValue(db, map: "p", key: "\(session)\u{1F}\(person)").flatMap { Int64($0) }
            }
            guard let seq, case .checkin(let checkin)? = try Self.contentInEffect(db, seq: seq) else { return nil }
            return EarlierCheckin(seq: seq, rep: checkin.rep, at: checkin.at, clerk: checkin.clerk)
        }
    }

    /// The boxes opened or closed (in effect), of `session` or of every session, by session and box.
    public func boxes(session: String? = nil) throws -> [DeskBox] {
        try ledgerRead { db in
            var boxes: [String: DeskBox] = [:]
            for row in try Row.fetchAll(db, sql: "SELECT map, key, value FROM ledgerEntry WHERE map IN ('o', 'x', 'b')")
            {
                let key: String = row["key"]
                let parts = key.split(separator: "\u{1F}", maxSplits: 1).map(String.init)
                guard parts.count == 2, session == nil || parts[0] == session else { continue }
                var box = boxes[key] ?? DeskBox(session: parts[0], box: parts[1], ballots: 0)
                let value: String = row["value"]
                switch row["map"] as String {
                case "o":
                    if let seq = Int64(value), case .boxOpened(let opened)? = try Self.contentInEffect(db, seq: seq) {
                        (box.openedSeq, box.openedAt, box.openedBy) = (seq, opened.at, opened.clerk)
                    }
                case "x":
                    if let seq = value.split(separator: ",").first.flatMap({ Int64($0) }),
                        case .boxClosed(let closed)? = try Self.contentInEffect(db, seq: seq)
                    {
                        (box.closedSeq, box.closedAt, box.closedBy) = (seq, closed.at, closed.clerk)
                        (box.issued, box.returned, box.forms) = (closed.issued, closed.returned, closed.forms)
                        box.closedHash = try String.fetchOne(
                            db, sql: "SELECT hash FROM record WHERE seq = ?", arguments: [seq])
                    }
                default: box.ballots = Int(value) ?? 0
                }
                boxes[key] = box
            }
            // Forms entered, per session, box and kind (`session␟box␟kind`).
            for row in try Row.fetchAll(db, sql: "SELECT key, value FROM ledgerEntry WHERE map = 'f'") {
                let parts = (row["key"] as String).split(separator: "\u{1F}").map(String.init)
                guard parts.count == 3, session == nil || parts[0] == session,
                    let count = Int(row["value"] as String), count != 0
                else { continue }
                let key = "\(parts[0])\u{1F}\(parts[1])"
                var box = boxes[key] ?? DeskBox(session: parts[0], box: parts[1], ballots: 0)
                box.formsEntered = (box.formsEntered ?? [:]).merging([parts[2]: count]) { $1 }
                boxes[key] = box
            }
            for row in try Row.fetchAll(
                db,
                sql: """
                    SELECT s.session, s.box, s.printed,
                        (SELECT COUNT(*) FROM sealedBallot b WHERE b.session = s.session AND b.box = s.box) AS cast
                    FROM (SELECT session, box, SUM(codes) AS printed FROM votingSheet GROUP BY session, box) s
                    """)
            where session == nil || row["session"] == session {
                let key = "\(row["session"] as String)\u{1F}\(row["box"] as String)"
                var box = boxes[key] ?? DeskBox(session: row["session"], box: row["box"], ballots: 0)
                (box.printed, box.cast) = (row["printed"], row["cast"])
                boxes[key] = box
            }
            return boxes.values.filter { $0.openedSeq != nil || $0.closedSeq != nil || $0.printed != nil }
                .sorted { ($0.session, $0.box) < ($1.session, $1.box) }
        }
    }

    /// The records `from` on (newest first), at most `limit`, for the lead to choose what to correct.
    public func recentRecords(limit: Int) throws -> [(
        seq: Int64, kind: String, payload: RecordPayload, savedAt: String
    )] {
        try writer.read { db in
            try Row.fetchAll(
                db, sql: "SELECT seq, kind, payload, savedAt FROM record ORDER BY seq DESC LIMIT ?", arguments: [limit]
            ).compactMap { row in
                guard let payload = try? RecordPayload.decode(json: row["payload"]) else { return nil }
                return (row["seq"], row["kind"], payload, row["savedAt"])
            }
        }
    }

    /// Which records were corrected, among `seqs` (record → the correction).
    public func corrections(of seqs: [Int64]) throws -> [Int64: Int64] {
        try ledgerRead { db in
            var result: [Int64: Int64] = [:]
            for seq in seqs {
                if let by = try Self.ledgerValue(db, map: "s", key: "\(seq)").flatMap({ Int64($0) }) {
                    result[seq] = by
                }
            }
            return result
        }
    }

    /// What record `seq` says now (its replacement if it was a correction), or nil when there is no such record.
    public func recentRecord(seq: Int64) throws -> RecordPayload? {
        try ledgerRead { db in try Self.contentInEffect(db, seq: seq) }
    }

    /// The newest receipt the aggregator signed: up to which record, and when it came.
    public func latestReceipt() throws -> (lastSeq: Int64, receivedAt: String)? {
        try writer.read { db in
            try Row.fetchOne(db, sql: "SELECT lastSeq, receivedAt FROM receipt ORDER BY id DESC LIMIT 1").map {
                ($0["lastSeq"], $0["receivedAt"])
            }
        }
    }
}
