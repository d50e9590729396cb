import Crypto
import Foundation
import GRDB
import Shared

/// A voting code refused, or a ballot cast with one refused (issue #16); nothing was saved. `code` is what the phone
/// shows in its reader's language, `message` says it in English.
public struct VoteRefusal: Error, Sendable, Equatable, CustomStringConvertible {
    public enum Code: String, Sendable, CaseIterable {
        /// Not 16 letters and digits.
        case codeMalformed = "code_malformed"
        /// No such code was printed on this node.
        case codeUnknown = "code_unknown"
        /// The code has cast its ballot already.
        case codeUsed = "code_used"
        /// The code belongs to another session or box than the ballot the page shows.
        case otherBox = "other_box"
        /// The code's box has not been opened yet.
        case boxNotOpen = "box_not_open"
        /// The code's box was closed: the ballot was not counted.
        case boxClosed = "box_closed"
        /// A department of the session's ballot has no mark.
        case marksMissing = "marks_missing"
        /// A mark the event does not know, or a department not on the ballot.
        case unknownMark = "unknown_mark"
        /// The code has sent this kind of form already (issue #17).
        case formSent = "form_sent"
        /// A form the event does not define, or not as the event defines it (an unknown question or answer, an
        /// empty suggestion, a contact without consent).
        case badForm = "bad_form"
    }

    public var code: Code
    public var message: String
    /// For `code_used` when the same page sends its ballot again: the receipt of the ballot it cast.
    public var receipt: String?

    public init(_ code: Code, _ message: String, receipt: String? = nil) {
        self.code = code
        self.message = message
        self.receipt = receipt
    }

    public var description: String { message }
}

/// Codes printed for a box, and ballots cast with them (sealed until the box closes).
public struct PhoneBox: Codable, Sendable, Equatable {
    public var session: String
    public var box: String
    /// Codes printed, over every sheet.
    public var printed: Int
    /// Ballots cast (sealed, or appended to the chain once the box closed).
    public var cast: Int
    public var sheets: Int
    /// The other forms sent with its codes, by kind (issue #17), sealed like its ballots.
    public var forms: [String: Int] = [:]
}

/// A sheet of voting codes as printed: the codes in clear, which only the sheet ever shows.
public struct PrintedSheet: Sendable, Equatable {
    public var sheet: Int64
    public var session: String
    public var box: String
    public var url: String
    public var codes: [String]
}

/// One-time voting codes: the sign-in codes' form (16 characters of Crockford base32, 80 random bits), kept as
/// SHA-256 of a domain prefix and the code, so that a code's hash is never a sign-in code's.
public enum VotingCode {
    public static func generate() -> String { SignInCode.generate() }

    public static func canonical(_ input: String) -> String? { SignInCode.canonical(input) }

    public static func hash(canonical: String) -> String {
        SHA256.hash(data: Data("sanmin-vote\u{1F}\(canonical)".utf8)).hexString
    }

    /// The URL a slip's QR code holds: the code travels in the fragment, which the browser never sends (no server
    /// log, no Referer holds it).
    public static func url(base: String, code: String) -> String {
        let trimmed = base.hasSuffix("/") ? String(base.dropLast()) : base
        return "\(trimmed)/vote#c=\(code)"
    }
}

extension NodeDatabase {
    /// The most codes one sheet may hold.
    public static let maximumSheet = 5_000

    /// Makes `count` new voting codes for `box` of `session`, all or none, and returns them (the only time they are in
    /// clear). Refused for an unknown session, a box that was closed, or one holding paper ballots.
    public func printCodes(session: String, box: String, count: Int, url: String, event: EventDefinition) throws
        -> PrintedSheet
    {
        guard event.session(session) != nil else {
            throw DeskRefusal(
                .invalid, "unknown_session",
                "unknown session \"\(session)\": the event's sessions are "
                    + event.sessions.map(\.id).joined(separator: ", "))
        }
        guard Identifier.isValid(box) else {
            throw DeskRefusal(.invalid, "invalid", "box id \"\(box)\" must match \(Identifier.pattern)")
        }
        guard (1...Self.maximumSheet).contains(count) else {
            throw DeskRefusal(.invalid, "invalid", "a sheet holds 1…\(Self.maximumSheet) codes, not \(count)")
        }
        guard let parsed = URL(string: url), ["http", "https"].contains(parsed.scheme ?? ""), parsed.host != nil,
            parsed.query == nil, parsed.fragment == nil
        else {
            throw DeskRefusal(
                .invalid, "invalid",
                "the voting URL must be the node's address as phones reach it, like http://192.168.1.10:8080, "
                    + "not \"\(url)\"")
        }
        let codes = (0..<count).map { _ in VotingCode.generate() }
        return try write { db in
            let key = "\(session)\u{1F}\(box)"
            try Self.ensureLedger(db)
            if let ballots = try Self.ledgerValue(db, map: "b", key: key).flatMap({ Int($0) }), ballots > 0 {
                throw DeskRefusal(
                    .conflict, "box_has_paper",
                    "box \(box) of session \(session) holds \(ballots) paper ballot(s): phone ballots go into a box "
                        + "of their own")
            }
            let passes =
                try Int.fetchOne(
                    db, sql: "SELECT COUNT(*) FROM keyedPass WHERE session = ? AND box = ?", arguments: [session, box])
                ?? 0
            if passes > 0 {
                throw DeskRefusal(
                    .conflict, "box_has_paper",
                    "box \(box) of session \(session) has papers keyed at the desk: phone ballots go into a box of "
                        + "their own")
            }
            if try Self.ledgerValue(db, map: "x", key: key) != nil {
                throw DeskRefusal(
                    .conflict, "box_closed", "box \(box) of session \(session) is closed: no more codes for it")
            }
            try db.execute(
                sql: "INSERT INTO votingSheet (session, box, codes, url, printedAt) VALUES (?, ?, ?, ?, ?)",
                arguments: [session, box, count, url, Self.timestamp()])
            let sheet = db.lastInsertedRowID
            let insert = try db.cachedStatement(
                sql: "INSERT INTO votingCode (hash, sheet, session, box) VALUES (?, ?, ?, ?)")
            for code in codes {
                try insert.execute(arguments: [
                    VotingCode.hash(canonical: VotingCode.canonical(code)!), sheet, session, box,
                ])
            }
            return PrintedSheet(sheet: sheet, session: session, box: box, url: url, codes: codes)
        }
    }

    /// Boxes with voting codes, by session and box.
    public func phoneBoxes(session: String? = nil) throws -> [PhoneBox] {
        try writer.read { db in
            var boxes: [PhoneBox] = []
            for row in try Row.fetchAll(
                db,
                sql: """
                    SELECT session, box, SUM(codes) AS printed, COUNT(*) AS sheets FROM votingSheet
                    GROUP BY session, box ORDER BY session, box
                    """)
            where session == nil || row["session"] == session {
                let cast =
                    try Int.fetchOne(
                        db, sql: "SELECT COUNT(*) FROM sealedBallot WHERE session = ? AND box = ?",
                        arguments: [row["session"] as String, row["box"] as String]) ?? 0
                var forms: [String: Int] = [:]
                for count in try Row.fetchAll(
                    db, sql: "SELECT kind, COUNT(*) AS n FROM sealedForm WHERE session = ? AND box = ? GROUP BY kind",
                    arguments: [row["session"] as String, row["box"] as String])
                {
                    forms[count["kind"]] = count["n"]
                }
                boxes.append(
                    PhoneBox(
                        session: row["session"], box: row["box"], printed: row["printed"], cast: cast,
                        sheets: row["sheets"], forms: forms))
            }
            return boxes
        }
    }

    /// The box of a phone box's codes, or nil when no codes were printed for it.
    public func phoneBox(session: String, box: String) throws -> PhoneBox? {
        try phoneBoxes(session: session).first { $0.box == box }
    }

    /// The session and box a code votes in, if it may still vote (else the refusal the phone shows).
    public func ballotOf(code input: String) throws -> (session: String, box: String) {
        guard let canonical = VotingCode.canonical(input) else { throw Self.malformed }
        return try ledgerRead { db in
            let (session, box) = try Self.codeBox(db, hash: VotingCode.hash(canonical: canonical))
            if try Self.sealed(db, codeHash: VotingCode.hash(canonical: canonical)) != nil {
                throw VoteRefusal(.codeUsed, "this code has cast its ballot already: a code votes once")
            }
            try Self.checkOpen(db, session: session, box: box)
            return (session, box)
        }
    }

    /// Casts `marks` with `code` into `box` of `session` (what the page showed): checks the code, the box and the
    /// ballot, then seals the ballot under the code's hash in one durable transaction, so that the code is spent
    /// exactly when its ballot is kept. `submission` is the page's random id for this submission: the same page
    /// sending again is told its receipt. Returns the receipt.
    public func cast(
        code input: String, session: String, box: String, marks: [String: String], submission: String,
        event: EventDefinition
    ) throws -> String {
        guard let canonical = VotingCode.canonical(input) else { throw Self.malformed }
        let codeHash = VotingCode.hash(canonical: canonical)
        var generator = SystemRandomNumberGenerator()
        let nonce = (0..<16).map { _ in String(format: "%02x", UInt8.random(in: 0...255, using: &generator)) }
            .joined()
        let submissionHash = SHA256.hash(data: Data(submission.utf8)).hexString
        return try write { db in
            try Self.ensureLedger(db)
            let owner = try Self.codeBox(db, hash: codeHash)
            if let earlier = try Self.sealed(db, codeHash: codeHash) {
                let same = earlier.submission == submissionHash
                throw VoteRefusal(
                    .codeUsed,
                    same
                        ? "this ballot was cast already (sent twice): it counts once"
                        : "this code has cast its ballot already: a code votes once",
                    receipt: same ? earlier.receipt : nil)
            }
            guard owner.session == session, owner.box == box else {
                throw VoteRefusal(
                    .otherBox,
                    "this code votes in box \(owner.box) of session \(owner.session), not in box \(box) of session "
                        + "\(session): open the page from the code's own slip")
            }
            try Self.checkOpen(db, session: session, box: box)
            try Self.checkMarks(marks, session: session, event: event)
            let ballot = RecordPayload.Ballot(session: session, box: box, status: .valid, marks: marks, nonce: nonce)
            do {
                try RecordPayload.ballot(ballot).check(against: event)
            } catch let rejection as RecordRejection {
                throw VoteRefusal(.unknownMark, rejection.message)
            }
            let receipt = ballot.receipt!
            try db.execute(
                sql: """
                    INSERT INTO sealedBallot (codeHash, session, box, payload, receipt, submission)
                    VALUES (?, ?, ?, ?, ?, ?)
                    """,
                arguments: [
                    codeHash, session, box, RecordPayload.ballot(ballot).canonicalJSON(), receipt, submissionHash,
                ])
            return receipt
        }
    }

    /// The box a code sends its other forms into (issue #17), while it is open, and the kinds it has sent already.
    /// The code may have cast its ballot: the forms are separate, one of each kind per code.
    public func formsOf(code input: String) throws -> (session: String, box: String, sent: [RecordPayload.FormKind]) {
        guard let canonical = VotingCode.canonical(input) else { throw Self.malformed }
        return try ledgerRead { db in
            let (session, box) = try Self.codeBox(db, hash: VotingCode.hash(canonical: canonical))
            try Self.checkOpen(db, session: session, box: box)
            let sent = try RecordPayload.FormKind.allCases.filter { kind in
                try Self.formUse(db, key: Self.formKey(kind, canonical: canonical)) != nil
            }
            return (session, box, sent)
        }
    }

    /// Seals `form` (a survey, a discipline survey or a suggestion, already masked) sent with `code` into its box
    /// until the box closes, as a ballot is sealed: the code, the box and the form are checked, then the code's use
    /// for this kind and the form (under a random id) are kept in one durable transaction. `submission` is the page's random id: the same page
    /// sending again is answered `true` (sent before) and nothing is added. Returns whether it was sent before.
    @discardableResult
    public func sealForm(code input: String, form: RecordPayload.Form, submission: String, event: EventDefinition)
        throws -> Bool
    {
        guard let canonical = VotingCode.canonical(input) else { throw Self.malformed }
        let codeHash = VotingCode.hash(canonical: canonical)
        let key = Self.formKey(form.form, canonical: canonical)
        let submissionHash = SHA256.hash(data: Data(submission.utf8)).hexString
        return try write { db in
            try Self.ensureLedger(db)
            let owner = try Self.codeBox(db, hash: codeHash)
            if let earlier = try Self.formUse(db, key: key) {
                if earlier == submissionHash { return true }
                throw VoteRefusal(.formSent, "this code has sent its \(form.form.rawValue) form already: one per code")
            }
            guard owner.session == form.session, owner.box == form.box else {
                throw VoteRefusal(
                    .otherBox,
                    "this code sends forms into box \(owner.box) of session \(owner.session), not box \(form.box) "
                        + "of session \(form.session)")
            }
            try Self.checkOpen(db, session: form.session, box: form.box)
            do {
                try RecordPayload.form(form).check(against: event)
            } catch let rejection as RecordRejection {
                throw VoteRefusal(.badForm, rejection.message)
            }
            // The use and the form in rows that share nothing: the form's id is random.
            try db.execute(
                sql: "INSERT INTO phoneFormUse (formKey, submission) VALUES (?, ?)", arguments: [key, submissionHash])
            var generator = SystemRandomNumberGenerator()
            let id = (0..<16).map { _ in String(format: "%02x", UInt8.random(in: 0...255, using: &generator)) }
                .joined()
            try db.execute(
                sql: "INSERT INTO sealedForm (id, session, box, kind, payload) VALUES (?, ?, ?, ?, ?)",
                arguments: [id, form.session, form.box, form.form.rawValue, RecordPayload.form(form).canonicalJSON()])
            return false
        }
    }

    /// The mark that a code sent its form of `kind` (not the code's hash, and not where the form is kept).
    static func formKey(_ kind: RecordPayload.FormKind, canonical: String) -> String {
        SHA256.hash(data: Data("sanmin-phone-form:\(kind.rawValue):\(canonical)".utf8)).hexString
    }

    /// The submission a code's form was sent with, if one was.
    static func formUse(_ db: Database, key: String) throws -> String? {
        try String.fetchOne(
            db.cachedStatement(sql: "SELECT submission FROM phoneFormUse WHERE formKey = ?"), arguments: [key])
    }

    static let malformed = VoteRefusal(
        .codeMalformed, "this is not a voting code: a code is 16 letters and digits, like ABCD-EFGH-JKMN-PQRS")

    /// The session and box of the code with `hash` (refused when no such code was printed).
    static func codeBox(_ db: Database, hash: String) throws -> (session: String, box: String) {
        guard
            let row = try Row.fetchOne(
                db.cachedStatement(sql: "SELECT session, box FROM votingCode WHERE hash = ?"), arguments: [hash])
        else {
            throw VoteRefusal(.codeUnknown, "no such voting code at this venue: check the code on the slip")
        }
        return (row["session"], row["box"])
    }

    static func sealed(_ db: Database, codeHash: String) throws -> (receipt: String, submission: String)? {
        try Row.fetchOne(
            db.cachedStatement(sql: "SELECT receipt, submission FROM sealedBallot WHERE codeHash = ?"),
            arguments: [codeHash]
        ).map { ($0["receipt"], $0["submission"]) }
    }

    /// The box takes ballots: opened, not closed (as the records in effect say).
    static func checkOpen(_ db: Database, session: String, box: String) throws {
        let key = "\(session)\u{1F}\(box)"
        if try ledgerValue(db, map: "x", key: key) != nil {
            throw VoteRefusal(
                .boxClosed, "box \(box) of session \(session) was closed: this ballot was not counted")
        }
        if try ledgerValue(db, map: "o", key: key) == nil {
            throw VoteRefusal(
                .boxNotOpen, "box \(box) of session \(session) is not open yet: wait for the call to vote")
        }
    }

    /// Every department of the session's ballot marked with a mark the event knows, and nothing else.
    static func checkMarks(_ marks: [String: String], session: String, event: EventDefinition) throws {
        let onBallot = (event.ballotDepartments(session: session) ?? []).map(\.id)
        for (department, mark) in marks.sorted(by: { $0.key < $1.key }) {
            guard onBallot.contains(department) else {
                throw VoteRefusal(.unknownMark, "department \(department) is not on the ballot of session \(session)")
            }
            guard event.mark(mark) != nil else {
                throw VoteRefusal(.unknownMark, "unknown mark \"\(mark)\" for department \(department)")
            }
        }
        let missing = onBallot.filter { marks[$0] == nil }
        if !missing.isEmpty {
            throw VoteRefusal(
                .marksMissing, "no mark for department(s) \(missing.joined(separator: ", ")): mark every department")
        }
    }

    /// The ledger tables at the chain's head (rebuilt first if they are behind), inside a write.
    static func ensureLedger(_ db: Database) throws {
        if try !ledgerIsCurrent(db) { _ = try ledger(for: [], db: db) }
    }

    /// `payloads` with the sealed ballots of each phone box that one of them closes appended right after it, in a
    /// random order (the chain must not tell the order in which phones voted). A phone box returns exactly the
    /// ballots cast into it: refused otherwise, as is a correction that would make it return another number.
    static func withSealedBallots(_ payloads: [RecordPayload], db: Database) throws -> [(
        index: Int, payload: RecordPayload
    )] {
        var result: [(index: Int, payload: RecordPayload)] = []
        for (index, payload) in payloads.enumerated() {
            result.append((index, payload))
            let closed: RecordPayload.BoxClosed
            let isCorrection: Bool
            switch payload {
            case .boxClosed(let value): (closed, isCorrection) = (value, false)
            case .correction(let correction):
                guard case .boxClosed(let value)? = correction.replacement else { continue }
                (closed, isCorrection) = (value, true)
            default: continue
            }
            let printed =
                try Int.fetchOne(
                    db, sql: "SELECT COUNT(*) FROM votingSheet WHERE session = ? AND box = ?",
                    arguments: [closed.session, closed.box]) ?? 0
            guard printed > 0 else { continue }
            let sealed = try String.fetchAll(
                db, sql: "SELECT payload FROM sealedBallot WHERE session = ? AND box = ?",
                arguments: [closed.session, closed.box])
            guard closed.returned == sealed.count else {
                throw AppendError(
                    index: index,
                    rejection: RecordRejection(
                        "box \(closed.box) of session \(closed.session) is a phone box: it returned the \(sealed.count) "
                            + "ballot(s) cast on phones, not \(closed.returned)"))
            }
            // Its other forms (issue #17): exactly those sent on phones, counted by kind.
            var forms: [String: [String]] = [:]
            for row in try Row.fetchAll(
                db, sql: "SELECT kind, payload FROM sealedForm WHERE session = ? AND box = ?",
                arguments: [closed.session, closed.box])
            {
                forms[row["kind"], default: []].append(row["payload"])
            }
            for kind in RecordPayload.FormKind.allCases.map(\.rawValue)
            where (closed.forms?[kind] ?? 0) != (forms[kind]?.count ?? 0) {
                throw AppendError(
                    index: index,
                    rejection: RecordRejection(
                        "box \(closed.box) of session \(closed.session) is a phone box: it returned the "
                            + "\(forms[kind]?.count ?? 0) \(kind) form(s) sent on phones, not \(closed.forms?[kind] ?? 0)"
                    ))
            }
            if isCorrection { continue }
            var generator = SystemRandomNumberGenerator()
            var ballots = try sealed.map { try RecordPayload.decode(json: $0) }
            ballots.shuffle(using: &generator)
            result += ballots.map { (index, $0) }
            for kind in forms.keys.sorted() {
                var kindForms = try forms[kind]!.map { try RecordPayload.decode(json: $0) }
                kindForms.shuffle(using: &generator)
                result += kindForms.map { (index, $0) }
            }
        }
        return result
    }
}
