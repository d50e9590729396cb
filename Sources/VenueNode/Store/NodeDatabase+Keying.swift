import Foundation
import GRDB
import Shared

/// One clerk's reading of one paper of a closed box (issue #14). A pass is not a ballot: a paper becomes a ballot
/// record when two different clerks' passes agree, or when the lead decides it where they differ.
public struct PaperReading: Codable, Sendable, Equatable {
    public var status: RecordPayload.BallotStatus
    /// Department → mark; empty unless `status` is `valid`.
    public var marks: [String: String]

    public init(status: RecordPayload.BallotStatus, marks: [String: String] = [:]) {
        self.status = status
        self.marks = marks
    }
}

/// What became of a pass or a decision.
public struct KeyingAnswer: Codable, Sendable, Equatable {
    public enum Outcome: String, Codable, Sendable {
        /// The first pass of the paper: it waits for a second clerk.
        case firstPass = "first_pass"
        /// The second pass agreed: the paper is a ballot record now.
        case agreed
        /// The second pass differs: the lead decides.
        case mismatch
        /// The lead decided: the paper is a ballot record now.
        case resolved
    }

    public var outcome: Outcome
    public var paper: Int
    /// The ballot record the paper became.
    public var ballotSeq: Int64?

    enum CodingKeys: String, CodingKey {
        case outcome, paper
        case ballotSeq = "ballot_seq"
    }
}

/// Two passes of a paper that differ, for the lead: what each clerk keyed.
public struct PaperDispute: Codable, Sendable, Equatable {
    public struct Pass: Codable, Sendable, Equatable {
        public var clerk: String
        public var reading: PaperReading
        public var keyedAt: String

        enum CodingKeys: String, CodingKey {
            case clerk, reading
            case keyedAt = "keyed_at"
        }
    }

    public var paper: Int
    public var passes: [Pass]
}

/// The counting table's progress on one box.
public struct KeyingProgress: Codable, Sendable, Equatable {
    public var session: String
    public var box: String
    /// Papers the box returned (nil while it is not closed).
    public var returned: Int?
    /// Papers that are ballot records in effect (agreed, or decided by the lead).
    public var agreed: Int
    /// Papers whose ballot record was voided by a correction: they no longer count, and are not keyed again at the desk.
    public var voided: [Int]
    /// Papers with at least one pass.
    public var keyed: Int
    public var disputes: [PaperDispute]
    /// The lowest paper the asking clerk has not keyed and that is not decided (nil: none left).
    public var nextPaper: Int?
    /// Papers the asking clerk keyed.
    public var keyedByYou: Int

    enum CodingKeys: String, CodingKey {
        case session, box, returned, agreed, voided, keyed, disputes
        case nextPaper = "next_paper"
        case keyedByYou = "keyed_by_you"
    }
}

extension NodeDatabase {
    /// Saves `clerk`'s pass of paper `paper` of a closed box. When another clerk keyed the paper before and the two
    /// agree, the paper becomes a ballot record naming both keyers, in the same transaction. Refused (nothing saved):
    /// a clerk who may not count, a box not closed, a paper outside 1…returned, a reading the ballot does not allow,
    /// a second pass by the same clerk, a paper already decided or waiting for the lead.
    public func keyPaper(
        clerk: Clerk, session: String, box: String, paper: Int, reading: PaperReading, event: EventDefinition,
        now: Date = Date()
    ) throws -> KeyingAnswer {
        guard clerk.role == .count || clerk.role == .lead else {
            throw DeskRefusal(.forbidden, "role", "only counting clerks and the lead key ballots")
        }
        try Self.checkReading(reading, session: session, box: box, event: event)
        return try write { db in
            try Self.checkPaper(db, session: session, box: box, paper: paper)
            let passes = try Self.passes(db, session: session, box: box, paper: paper)
            if passes.contains(where: { $0.clerkID == clerk.id }) {
                throw DeskRefusal(
                    .conflict, "already_keyed",
                    "you keyed paper \(paper) already: the second pass is another clerk's")
            }
            if passes.count >= 2 {
                throw DeskRefusal(
                    .conflict, "paper_disputed", "paper \(paper)'s two passes differ: the lead decides it")
            }
            try db.execute(
                sql: """
                    INSERT INTO keyedPass (session, box, paper, clerkID, status, marks, keyedAt)
                    VALUES (?, ?, ?, ?, ?, ?, ?)
                    """,
                arguments: [
                    session, box, paper, clerk.id, reading.status.rawValue, Self.marksJSON(reading.marks),
                    Self.timestamp(now),
                ])
            guard let first = passes.first else { return KeyingAnswer(outcome: .firstPass, paper: paper) }
            guard first.reading == reading else { return KeyingAnswer(outcome: .mismatch, paper: paper) }
            let seq = try Self.saveBallot(
                db, session: session, box: box, paper: paper, reading: reading,
                keyers: [first.attribution, clerk.attribution], lead: nil, event: event, now: now)
            return KeyingAnswer(outcome: .agreed, paper: paper, ballotSeq: seq)
        }
    }

    /// The lead's decision on a paper whose two passes differ, having looked at the paper: it becomes a ballot record
    /// naming both keyers and the lead. Only a lead decides, and only a disputed paper.
    public func resolvePaper(
        lead: Clerk, session: String, box: String, paper: Int, reading: PaperReading, event: EventDefinition,
        now: Date = Date()
    ) throws -> KeyingAnswer {
        guard lead.role.mayCorrect else {
            throw DeskRefusal(.forbidden, "not_lead", "only the lead decides a paper whose passes differ")
        }
        try Self.checkReading(reading, session: session, box: box, event: event)
        return try write { db in
            try Self.checkPaper(db, session: session, box: box, paper: paper)
            let passes = try Self.passes(db, session: session, box: box, paper: paper)
            guard passes.count == 2 else {
                throw DeskRefusal(
                    .conflict, "not_disputed",
                    "paper \(paper) has \(passes.count) pass(es) and no difference to decide: two clerks key it first")
            }
            let seq = try Self.saveBallot(
                db, session: session, box: box, paper: paper, reading: reading,
                keyers: passes.map(\.attribution), lead: lead, event: event, now: now)
            return KeyingAnswer(outcome: .resolved, paper: paper, ballotSeq: seq)
        }
    }

    /// Where the counting of a box stands, as `clerkID` sees it.
    public func keyingProgress(session: String, box: String, clerkID: Int64) throws -> KeyingProgress {
        let returned = try ledgerRead { db in
            try Self.ledgerValue(db, map: "x", key: "\(session)\u{1F}\(box)")
                .flatMap { $0.split(separator: ",").last.flatMap { Int($0) } }
        }
        return try ledgerRead { db in
            let counted = try Self.countedPapers(db, session: session, box: box)
            let decided = Set(counted.keys)
            let voided = counted.filter { !$0.value }.keys.sorted()
            var byPaper: [Int: [StoredPass]] = [:]
            for pass in try Self.passes(db, session: session, box: box, paper: nil) {
                byPaper[pass.paper, default: []].append(pass)
            }
            let mine = Set(byPaper.filter { $0.value.contains { $0.clerkID == clerkID } }.keys)
            let disputes = byPaper.filter { !decided.contains($0.key) && $0.value.count >= 2 }
                .sorted { $0.key < $1.key }
                .map { paper, passes in
                    PaperDispute(
                        paper: paper,
                        passes: passes.map { .init(clerk: $0.attribution, reading: $0.reading, keyedAt: $0.keyedAt) })
                }
            let next = returned.flatMap { count in
                count >= 1
                    ? (1...count).first { !decided.contains($0) && !mine.contains($0) && (byPaper[$0]?.count ?? 0) < 2 }
                    : nil
            }
            return KeyingProgress(
                session: session, box: box, returned: returned, agreed: decided.count - voided.count, voided: voided,
                keyed: byPaper.count,
                disputes: disputes, nextPaper: next, keyedByYou: mine.count)
        }
    }

    /// The clerks who keyed papers of a box and how many each (for the box record).
    public func keyers(session: String, box: String) throws -> [(clerk: String, papers: Int)] {
        try writer.read { db in
            try Row.fetchAll(
                db,
                sql: """
                    SELECT c.name, c.id, COUNT(*) AS n FROM keyedPass p JOIN clerk c ON c.id = p.clerkID
                    WHERE p.session = ? AND p.box = ? GROUP BY c.id ORDER BY c.id
                    """, arguments: [session, box]
            ).map { row in ("\(row["name"] as String)#\(row["id"] as Int64)", row["n"]) }
        }
    }

    // MARK: - Helpers

    struct StoredPass {
        var paper: Int
        var clerkID: Int64
        var attribution: String
        var reading: PaperReading
        var keyedAt: String
    }

    static func passes(_ db: Database, session: String, box: String, paper: Int?) throws -> [StoredPass] {
        var sql = """
            SELECT p.paper, p.clerkID, c.name, p.status, p.marks, p.keyedAt FROM keyedPass p
            JOIN clerk c ON c.id = p.clerkID WHERE p.session = ? AND p.box = ?
            """
        var arguments: StatementArguments = [session, box]
        if let paper {
            sql += " AND p.paper = ?"
            arguments += [paper]
        }
        return try Row.fetchAll(db, sql: sql + " ORDER BY p.id", arguments: arguments).map { row in
            let marks =
                (try? JSONDecoder().decode([String: String].self, from: Data((row["marks"] as String).utf8))) ?? [:]
            return StoredPass(
                paper: row["paper"], clerkID: row["clerkID"],
                attribution: "\(row["name"] as String)#\(row["clerkID"] as Int64)",
                reading: PaperReading(
                    status: RecordPayload.BallotStatus(rawValue: row["status"]) ?? .spoiled, marks: marks),
                keyedAt: row["keyedAt"])
        }
    }

    static func marksJSON(_ marks: [String: String]) -> String {
        String(decoding: (try? JSONCoding.data(marks)) ?? Data("{}".utf8), as: UTF8.self)
    }

    /// The reading fits the session's ballot: every department marked with a known mark, or blank or spoiled.
    static func checkReading(_ reading: PaperReading, session: String, box: String, event: EventDefinition) throws {
        do {
            try RecordPayload.ballot(.init(session: session, box: box, status: reading.status, marks: reading.marks))
                .check(against: event)
        } catch {
            throw DeskRefusal(.invalid, "bad_paper", error.message)
        }
    }

    /// Each paper of the box that became a ballot record, and whether that ballot still counts (itself, or through
    /// the replacement of a correction) or was voided.
    static func countedPapers(_ db: Database, session: String, box: String) throws -> [Int: Bool] {
        var result: [Int: Bool] = [:]
        for row in try Row.fetchAll(
            db, sql: "SELECT paper, ballotSeq FROM keyedPaper WHERE session = ? AND box = ?", arguments: [session, box])
        {
            result[row["paper"]] = try inEffect(db, seq: row["ballotSeq"])
        }
        return result
    }

    /// Whether record `seq` still counts: its content is in effect, or the correction that superseded it replaced
    /// it with something that is (following corrections of corrections).
    static func inEffect(_ db: Database, seq: Int64) throws -> Bool {
        var current = seq
        for _ in 0..<1_000 {
            if try ledgerValue(db, map: "t", key: "\(current)") != nil { return true }
            guard let by = try ledgerValue(db, map: "s", key: "\(current)").flatMap({ Int64($0) }) else { return false }
            current = by
        }
        return false
    }

    /// The box is closed, the paper is one of its 1…returned, no ballot was made of it yet, and the box's ballots are
    /// keyed, not imported (a box's ballots are either keyed twice or imported, never both).
    static func checkPaper(_ db: Database, session: String, box: String, paper: Int) throws {
        if try !ledgerIsCurrent(db) { _ = try ledger(for: [], db: db) }
        if try Int.fetchOne(
            db, sql: "SELECT COUNT(*) FROM votingSheet WHERE session = ? AND box = ?", arguments: [session, box]) ?? 0
            > 0
        {
            throw DeskRefusal(
                .conflict, "box_is_phone",
                "box \(box) of session \(session) is a phone box: its ballots were cast on phones, it has no papers")
        }
        guard
            let returned = try ledgerValue(db, map: "x", key: "\(session)\u{1F}\(box)")
                .flatMap({ $0.split(separator: ",").last.flatMap { Int($0) } })
        else {
            throw DeskRefusal(
                .conflict, "box_not_closed",
                "box \(box) of session \(session) is not closed: its papers are keyed once its counts are recorded")
        }
        guard paper >= 1, paper <= returned else {
            throw DeskRefusal(
                .invalid, "paper_out_of_range",
                "box \(box) returned \(returned) paper(s): number them 1…\(returned), not \(paper)")
        }
        if let seq = try Int64.fetchOne(
            db, sql: "SELECT ballotSeq FROM keyedPaper WHERE session = ? AND box = ? AND paper = ?",
            arguments: [session, box, paper])
        {
            guard try inEffect(db, seq: seq) else {
                throw DeskRefusal(
                    .conflict, "paper_voided",
                    "paper \(paper)'s ballot (record \(seq)) was voided by a correction: it is not keyed again; if the "
                        + "paper counts after all, the lead corrects that correction with the ballot as its replacement "
                        + "(venue-node correct --replacement)")
            }
            throw DeskRefusal(.conflict, "paper_done", "paper \(paper) is a ballot already (record \(seq))")
        }
        let ballots = try ledgerValue(db, map: "b", key: "\(session)\u{1F}\(box)").flatMap { Int($0) } ?? 0
        let keyed = try countedPapers(db, session: session, box: box).values.filter { $0 }.count
        if ballots > keyed {
            throw DeskRefusal(
                .conflict, "box_has_imported_ballots",
                "box \(box) of session \(session) holds \(ballots - keyed) ballot(s) imported or entered otherwise: a box's "
                    + "ballots are either keyed twice at the desk or imported, never both")
        }
    }

    /// Appends the ballot record a paper became and notes the paper as decided, in the caller's transaction.
    static func saveBallot(
        _ db: Database, session: String, box: String, paper: Int, reading: PaperReading, keyers: [String],
        lead: Clerk?, event: EventDefinition, now: Date
    ) throws -> Int64 {
        let ballot = RecordPayload.ballot(
            .init(
                session: session, box: box, status: reading.status, marks: reading.marks, paper: paper,
                keyers: keyers, lead: lead?.attribution))
        var state = try ledger(for: [ballot], db: db)
        // The paper is noted first, with the lead who decided it (`append` notes every paper ballot, and finds it
        // noted); both or neither are saved.
        try db.execute(
            sql: "INSERT INTO keyedPaper (session, box, paper, ballotSeq, leadID, decidedAt) VALUES (?, ?, ?, ?, ?, ?)",
            arguments: [session, box, paper, state.headSeq + 1, lead?.id, timestamp(now)])
        let saved: [ChainedRecord]
        do {
            saved = try append([ballot], to: &state, event: event, db: db)
        } catch let error as AppendError {
            throw DeskRefusal(.conflict, error.rejection.rule?.rawValue ?? "refused", error.rejection.message)
        }
        return saved[0].seq
    }
}
