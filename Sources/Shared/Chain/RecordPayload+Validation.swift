import Foundation

/// Why a record cannot be accepted for an event. The message names the offending value.
public struct RecordRejection: Error, Sendable, Equatable, CustomStringConvertible {
    public var message: String
    /// The rule of the chain the record breaks, where it is one (nil: the record does not fit the event).
    public var rule: RecordRule?

    public init(_ message: String, rule: RecordRule? = nil) {
        self.message = message
        self.rule = rule
    }

    public var description: String { message }
}

/// The rules that node and aggregator both keep over a venue's chain. A record that breaks one is
/// refused by the node; the aggregator refuses a batch holding one (see docs/security.md).
public enum RecordRule: String, Codable, Sendable, CaseIterable {
    /// One check-in per representative, and per person, per session.
    case duplicateCheckin = "duplicate_checkin"
    /// A box is opened at most once and closed at most once (a correction changes its counts).
    case boxOpenedTwice = "box_opened_twice"
    case boxClosedTwice = "box_closed_twice"
    /// Ballots enter only a box whose counts were recorded at closing.
    case ballotBoxNotClosed = "ballot_box_not_closed"
    /// A box never holds more ballots than it returned.
    case ballotsOverReturned = "ballots_over_returned"
    /// Forms other than the ballot enter only a box whose counts were recorded at closing (version 5),
    case formBoxNotClosed = "form_box_not_closed"
    /// and never more of a kind than its closing says it returned.
    case formsOverReturned = "forms_over_returned"
    /// A correction refers to an earlier record, not yet corrected, and replaces it with one of its kind.
    case badCorrection = "bad_correction"
    /// Nothing shaped like an ID-card number is stored in clear.
    case idNumberInClear = "id_number_in_clear"
}

extension RecordPayload {
    /// Largest count a box may declare; anything larger is a typing or forging mistake.
    public static let maximumBoxCount = 100_000

    /// Checks the record against the event: known session, category and departments, a mark for
    /// exactly the departments on that session's ballot, sane counts. Targets of corrections are
    /// checked by the store that holds the chain.
    public func check(against event: EventDefinition) throws(RecordRejection) {
        func requireSession(_ id: String) throws(RecordRejection) {
            guard event.session(id) != nil else {
                throw RecordRejection(
                    "unknown session \"\(id)\"; the event's sessions are: "
                        + event.sessions.map(\.id).joined(separator: ", "))
            }
        }
        func requireBox(_ id: String) throws(RecordRejection) {
            guard Identifier.isValid(id) else {
                throw RecordRejection("box id \"\(id)\" must match \(Identifier.pattern)")
            }
        }
        switch self {
        case .checkin(let checkin):
            try Self.checkClerk(checkin.clerk, field: "clerk")
            try requireSession(checkin.session)
            if IDNumberShape.appears(in: checkin.rep) {
                throw RecordRejection(
                    "representative id \"\(IDNumberShape.masked(checkin.rep))\" looks like an ID-card number: "
                        + "ID-card numbers are never stored; check in with --id-number (the roster keys it)",
                    rule: .idNumberInClear)
            }
            guard Identifier.isValid(checkin.rep) else {
                throw RecordRejection("representative id \"\(checkin.rep)\" must match \(Identifier.pattern)")
            }
            if let person = checkin.person,
                person.utf8.count != 64
                    || !person.utf8.allSatisfy({ (48...57).contains($0) || (97...102).contains($0) })
            {
                throw RecordRejection("person key \"\(person)\" must be 64 lower-case hexadecimal characters")
            }
            guard event.category(checkin.category) != nil else {
                throw RecordRejection(
                    "unknown category \"\(checkin.category)\"; the event's categories are: "
                        + event.categories.map(\.id).joined(separator: ", "))
            }
        case .boxOpened(let box):
            try Self.checkClerk(box.clerk, field: "clerk")
            try requireSession(box.session)
            try requireBox(box.box)
        case .boxClosed(let box):
            try Self.checkClerk(box.clerk, field: "clerk")
            try requireSession(box.session)
            try requireBox(box.box)
            for (name, value) in [("issued", box.issued), ("returned", box.returned)]
            where value < 0 || value > Self.maximumBoxCount {
                throw RecordRejection("\(name) = \(value) is out of range 0…\(Self.maximumBoxCount)")
            }
            for (form, count) in (box.forms ?? [:]).sorted(by: { $0.key < $1.key }) {
                guard FormKind(rawValue: form) != nil else {
                    throw RecordRejection(
                        "a box holds ballots and the forms "
                            + FormKind.allCases.map(\.rawValue).joined(separator: ", ") + ", not \"\(form)\"")
                }
                guard count >= 0, count <= Self.maximumBoxCount else {
                    throw RecordRejection("\(form) = \(count) is out of range 0…\(Self.maximumBoxCount)")
                }
            }
        case .form(let form):
            try requireSession(form.session)
            try requireBox(form.box)
            try Self.checkClerk(form.clerk, field: "clerk")
            try form.check(against: event)
        case .ballot(let ballot):
            try requireSession(ballot.session)
            try requireBox(ballot.box)
            try ballot.checkKeying()
            try ballot.checkPhone()
            try ballot.checkMarks(against: event)
        case .imported(let imported):
            try Self.checkClerk(imported.clerk, field: "clerk")
            try IDNumberShape.refuse(imported.file, field: "file name")
            guard ["ballots", "checkins", "forms"].contains(imported.form) else {
                throw RecordRejection("an import holds ballots, checkins or forms, not \"\(imported.form)\"")
            }
            for group in imported.groups {
                try requireSession(group.session)
                if imported.form != "checkins" { try requireBox(group.box) }
                guard group.rows >= 0, group.rows <= Self.maximumBoxCount else {
                    throw RecordRejection(
                        "an import group of \(group.rows) rows is out of range 0…\(Self.maximumBoxCount)")
                }
            }
        case .correction(let correction):
            try IDNumberShape.refuse(correction.reason, field: "reason")
            try IDNumberShape.refuse(correction.operator, field: "operator")
            guard !correction.reason.trimmingCharacters(in: .whitespaces).isEmpty else {
                throw RecordRejection("a correction needs a reason")
            }
            guard !correction.operator.trimmingCharacters(in: .whitespaces).isEmpty else {
                throw RecordRejection("a correction needs the operator who makes it")
            }
            if let replacement = correction.replacement {
                if case .correction = replacement {
                    throw RecordRejection("a correction's replacement cannot itself be a correction")
                }
                if case .imported = replacement {
                    throw RecordRejection("an import record cannot be replaced")
                }
                try replacement.check(against: event)
            }
        }
    }
}

extension RecordPayload {
    /// The longest clerk a record may name (`name#id`: a name of at most 64 characters and an id).
    public static let maximumClerkLength = 96

    /// A clerk named on a record: not empty, on one line, not too long, nothing shaped like an ID-card number.
    static func checkClerk(_ clerk: String?, field: String) throws(RecordRejection) {
        guard let clerk else { return }
        try IDNumberShape.refuse(clerk, field: field)
        guard !clerk.trimmingCharacters(in: .whitespaces).isEmpty, clerk.count <= maximumClerkLength,
            !clerk.unicodeScalars.contains(where: { $0.properties.generalCategory == .control })
        else {
            throw RecordRejection(
                "\(field) \"\(clerk)\" must be a clerk's name on one line of 1…\(maximumClerkLength) characters")
        }
    }
}

extension RecordPayload.Ballot {
    /// A ballot keyed at the desk names its paper and two different keyers; only such a ballot names a lead.
    func checkKeying() throws(RecordRejection) {
        guard paper != nil || keyers != nil || lead != nil else { return }
        guard let paper, paper >= 1, paper <= RecordPayload.maximumBoxCount else {
            throw RecordRejection(
                "a keyed ballot names its paper, 1…\(RecordPayload.maximumBoxCount), found \(paper.map(String.init) ?? "none")"
            )
        }
        guard let keyers, keyers.count == 2, keyers[0] != keyers[1] else {
            throw RecordRejection("a keyed ballot names the two different clerks who keyed paper \(paper)")
        }
        for keyer in keyers { try RecordPayload.checkClerk(keyer, field: "keyer") }
        try RecordPayload.checkClerk(lead, field: "lead")
    }

    func checkMarks(against event: EventDefinition) throws(RecordRejection) {
        guard status == .valid else {
            guard marks.isEmpty else {
                throw RecordRejection("a \(status.rawValue) ballot carries no marks, found \(marks.count)")
            }
            return
        }
        let onBallot = event.ballotDepartments(session: session) ?? []
        // The usual ballot: every department on it marked with a known mark, and nothing else.
        if marks.count == onBallot.count,
            onBallot.allSatisfy({ department in
                marks[department.id].map { mark in event.marks.contains { $0.id == mark } } ?? false
            })
        {
            return
        }
        let onBallotIDs = Set(onBallot.map(\.id))
        for (department, mark) in marks.sorted(by: { $0.key < $1.key }) {
            guard onBallotIDs.contains(department) else {
                if event.departments.contains(where: { $0.id == department }) {
                    throw RecordRejection("department \(department) is not on the ballot of session \(session)")
                }
                throw RecordRejection("unknown department \(department)")
            }
            guard event.mark(mark) != nil else {
                throw RecordRejection(
                    "unknown mark \"\(mark)\" for department \(department); the marks are: "
                        + event.marks.map(\.id).joined(separator: ", "))
            }
        }
        let missing = onBallot.map(\.id).filter { marks[$0] == nil }
        if !missing.isEmpty {
            throw RecordRejection(
                "the ballot of session \(session) has no mark for department(s) "
                    + missing.joined(separator: ", "))
        }
    }
}

extension RecordPayload.Form {
    /// A suggestion as the node writes it: ID-card and telephone numbers in its text masked (`PersonalNumbers`), the
    /// contact kept as given and only then with consent.
    public static func suggestion(
        session: String, box: String, text: String, departments: [String]? = nil, topic: String? = nil,
        contact: String? = nil, paper: Int? = nil, clerk: String? = nil
    ) -> Self {
        .init(
            session: session, box: box, form: .suggestion, text: PersonalNumbers.masked(text),
            departments: departments?.isEmpty == true ? nil : departments, topic: topic, contact: contact,
            consent: contact == nil ? nil : true, paper: paper, clerk: clerk)
    }

    /// The longest suggestion text (characters) and contact a form may carry.
    public static let maximumTextLength = 4_000
    public static let maximumContactLength = 100

    /// A survey answers only the event's questions, with their answers; a suggestion names known departments and
    /// topic, carries no number that identifies a person in its text, and a contact only with consent.
    func check(against event: EventDefinition) throws(RecordRejection) {
        if let paper, paper < 1 || paper > RecordPayload.maximumBoxCount {
            throw RecordRejection("paper \(paper) is out of range 1…\(RecordPayload.maximumBoxCount)")
        }
        switch form {
        case .survey, .discipline:
            guard event.questionnaire(form) != nil else {
                throw RecordRejection("the event defines no \(form.rawValue) form (its \"forms\" section)")
            }
            guard text == nil, departments == nil, topic == nil, contact == nil, consent == nil else {
                throw RecordRejection("a \(form.rawValue) form is anonymous: it carries only its answers")
            }
            let keys = Dictionary(
                event.answerKeys(form, session: session).map { ($0.key, $0.question) }, uniquingKeysWith: { a, _ in a })
            for (key, answer) in (answers ?? [:]).sorted(by: { $0.key < $1.key }) {
                guard let question = keys[key] else {
                    throw RecordRejection(
                        "unknown question \"\(key)\" for the \(form.rawValue) form of session \(session); its questions are: "
                            + event.answerKeys(form, session: session).map(\.key).joined(separator: ", "))
                }
                guard question.options.contains(where: { $0.id == answer }) else {
                    throw RecordRejection(
                        "unknown answer \"\(answer)\" to question \(key); its answers are: "
                            + question.options.map(\.id).joined(separator: ", "))
                }
            }
        case .suggestion:
            guard answers == nil else { throw RecordRejection("a suggestion carries no survey answers") }
            let text = text ?? ""
            guard !text.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty else {
                throw RecordRejection("a suggestion needs its text")
            }
            guard text.count <= Self.maximumTextLength else {
                throw RecordRejection("a suggestion's text is at most \(Self.maximumTextLength) characters")
            }
            if PersonalNumbers.appear(in: text) {
                throw RecordRejection(
                    "the suggestion's text holds a number that identifies a person (an ID-card or telephone number): "
                        + "it is masked before the record is written", rule: .idNumberInClear)
            }
            for department in departments ?? [] where !event.departments.contains(where: { $0.id == department }) {
                throw RecordRejection(
                    "unknown department \(department); the departments are: "
                        + event.departments.map(\.id).joined(separator: ", "))
            }
            if let topic, !(event.forms?.suggestion?.topics ?? []).contains(where: { $0.id == topic }) {
                throw RecordRejection(
                    "unknown topic \"\(topic)\"; the topics are: "
                        + (event.forms?.suggestion?.topics ?? []).map(\.id).joined(separator: ", "))
            }
            if let contact {
                guard consent == true else {
                    throw RecordRejection("a contact is kept only when the citizen consented to be called back")
                }
                guard !contact.trimmingCharacters(in: .whitespaces).isEmpty, contact.count <= Self.maximumContactLength,
                    !contact.unicodeScalars.contains(where: { $0.properties.generalCategory == .control })
                else {
                    throw RecordRejection(
                        "a contact is one line of 1…\(Self.maximumContactLength) characters")
                }
                try IDNumberShape.refuse(contact, field: "contact")
                if PersonalNumbers.idNumberAppears(in: contact) {
                    throw RecordRejection(
                        "the contact holds something shaped like an ID-card number: a contact is a telephone number "
                            + "or an address, never an ID-card number", rule: .idNumberInClear)
                }
            }
        }
    }
}
