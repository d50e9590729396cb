import Foundation
import Shared

/// A suggestion (意见建议) as the central office handles it (issue #17): the form as the venue recorded it, and where
/// its handling stands, derived from the appended events of its handling (集中录入、审核分办、部门研究、归口答复).
public struct SuggestionItem: Codable, Sendable, Equatable {
    public enum Status: String, Codable, Sendable, CaseIterable {
        /// Not triaged yet.
        case new
        /// 转阅件: a general opinion, passed on for reading; nothing more to do.
        case forwarded
        /// 转办件: assigned to a lead department (and co-handling ones), waiting for its answer.
        case assigned
        /// The lead department answered; the officer accepts the answer or sends it back.
        case answered
        /// The answer was accepted: done.
        case closed
        /// The same as another suggestion (named): handled there.
        case duplicate
        /// Not admissible (not a suggestion, out of scope): with the officer's reason.
        case inadmissible

        /// Whether nothing more may change but the citizen's feedback and the outstanding mark.
        public var isFinal: Bool { [.forwarded, .closed, .duplicate, .inadmissible].contains(self) }
    }

    /// One appended event of the handling: what, by whom, when.
    public struct Event: Codable, Sendable, Equatable {
        public var id: Int64
        public var action: String
        public var detail: [String: String]
        public var actor: String
        public var at: String
    }

    public var venue: String
    public var seq: Int64
    public var session: String
    public var box: String
    public var text: String
    public var departments: [String]
    public var topic: String?
    /// Only where the citizen consented to be called back (the form carries none otherwise).
    public var contact: String?
    public var status: Status
    public var lead: String?
    public var coHandlers: [String]
    /// 转阅: the departments it was passed on to for reading.
    public var forwardedTo: [String]
    /// `YYYY-MM-DD`: the answer is due by the end of that day.
    public var due: String?
    public var duplicateOf: String?
    public var answer: String?
    public var answeredBy: String?
    public var feedback: String?
    public var outstanding: Bool
    public var events: [Event]

    /// The record now in effect for it (its first record, or the correction that replaced it).
    public var record: Int64
    /// The correction that voided the suggestion after its handling began (nothing more may be done but reading).
    public var voidedBy: Int64?

    /// `venue/seq`, how the item is named in commands and URLs.
    public var id: String { "\(venue)/\(seq)" }

    /// Not final and past its due date (`today`: `YYYY-MM-DD`).
    public func isOverdue(today: String) -> Bool {
        guard let due, status == .assigned || status == .answered else { return false }
        return due < today
    }

    /// The item as `department` sees it: the citizen's contact (given only with consent to be called back) only for
    /// the lead department, which answers; the feedback and the outstanding mark, the office's own, left out.
    func forDepartment(_ department: String) -> SuggestionItem {
        var item = self
        if lead != department { item.contact = nil }
        item.events = events.filter { ["triage", "answer", "accept", "return"].contains($0.action) }
        return item
    }
}

/// Which suggestions a list shows: by venue, department (concerned, leading, co-handling or reading), topic, status,
/// and overdue ones only; nil shows all.
public struct SuggestionFilter: Sendable {
    public var venue: String?
    public var department: String?
    public var topic: String?
    public var status: SuggestionItem.Status?
    public var overdue = false

    public init(
        venue: String? = nil, department: String? = nil, topic: String? = nil, status: SuggestionItem.Status? = nil,
        overdue: Bool = false
    ) {
        (self.venue, self.department, self.topic, self.status, self.overdue) = (
            venue, department, topic, status, overdue
        )
    }

    /// `today`: `YYYY-MM-DD`.
    public func matches(_ item: SuggestionItem, today: String) -> Bool {
        (venue == nil || item.venue == venue)
            && (department.map { AggregatorDatabase.concerns(item, department: $0) } ?? true)
            && (topic == nil || item.topic == topic) && (status == nil || item.status == status)
            && (!overdue || item.isOverdue(today: today))
    }
}

/// What an officer decides about a new suggestion.
public enum SuggestionTriage: Sendable, Equatable {
    /// 转阅: passed on for reading (to these departments, if any).
    case forward(departments: [String])
    /// 转办: assigned to a lead department, with co-handling departments, due by a date.
    case assign(lead: String, coHandlers: [String], due: String)
    /// The same as another suggestion (`venue/seq`).
    case duplicate(of: String)
    /// Not admissible, with the reason.
    case inadmissible(reason: String)
}

extension AggregatorStore {
    /// Every suggestion in effect (a corrected one as its replacement), with its handling, in venue and record order.
    public func suggestions() throws -> [SuggestionItem] {
        try withOffice(writing: false, venue: nil) { try AggregatorDatabase.suggestions($0.transaction) }
    }

    /// One suggestion, `venue/seq`.
    public func suggestion(_ id: String) throws -> SuggestionItem {
        try withOffice(writing: false, venue: nil) { try AggregatorDatabase.suggestion(id, db: $0.transaction) }
    }

    /// The suggestions assigned to `department` (as lead or co-handler) or passed on to it for reading (转阅), as it
    /// may see them.
    public func suggestions(department: String) throws -> [SuggestionItem] {
        try suggestions().filter {
            AggregatorDatabase.isAssigned($0, to: department) || $0.forwardedTo.contains(department)
        }
        .map { $0.forDepartment(department) }
    }

    /// The officer's triage of a new suggestion. Refused (nothing changes) unless it is new, or for unknown
    /// departments, a due date that is not a date, a duplicate of itself or of an unknown suggestion.
    public func triageSuggestion(_ id: String, _ triage: SuggestionTriage, by actor: String, event: EventDefinition)
        throws
    {
        let actor = try AggregatorDatabase.checkedActor(actor)
        try withOffice(writing: true, venue: nil) { office in
            let db = office.transaction
            let item = try AggregatorDatabase.suggestion(id, db: db)
            try AggregatorDatabase.refuseVoided(item)
            // A new item, or one assigned and not answered (to a department that turns out not to be the right one).
            guard item.status == .new || item.status == .assigned else {
                throw AggregatorError(
                    "suggestion \(id) is \(item.status.rawValue): it was triaged already (\(AggregatorDatabase.last(item)))"
                )
            }
            var detail: [String: String] = [:]
            switch triage {
            case .forward(let departments):
                try AggregatorDatabase.checkDepartments(departments, event: event)
                detail = ["decision": "forward", "departments": departments.joined(separator: ",")]
            case .assign(let lead, let coHandlers, let due):
                try AggregatorDatabase.checkDepartments([lead] + coHandlers, event: event)
                guard !coHandlers.contains(lead) else {
                    throw AggregatorError("department \(lead) leads: it cannot also be a co-handler")
                }
                guard AggregatorDatabase.isDate(due) else {
                    throw AggregatorError("due date \"\(due)\" is not YYYY-MM-DD")
                }
                detail = ["decision": "assign", "lead": lead, "co": coHandlers.joined(separator: ","), "due": due]
            case .duplicate(let of):
                let original = try AggregatorDatabase.suggestion(of, db: db)
                guard original.id != item.id else {
                    throw AggregatorError("suggestion \(id) cannot be a duplicate of itself")
                }
                guard original.status != .duplicate, original.status != .inadmissible, original.voidedBy == nil else {
                    throw AggregatorError(
                        "suggestion \(original.id) is \(original.voidedBy == nil ? original.status.rawValue : "voided"): "
                            + "name the suggestion that is handled" + (original.duplicateOf.map { " (\($0))" } ?? ""))
                }
                detail = ["decision": "duplicate", "of": original.id]
            case .inadmissible(let reason):
                detail = [
                    "decision": "inadmissible", "reason": try AggregatorDatabase.checkedText(reason, field: "reason"),
                ]
            }
            try AggregatorDatabase.append(item, action: "triage", detail: detail, actor: actor, db: db)
        }
    }

    /// A department's answer to a suggestion assigned to it as lead, waiting for one (assigned or sent back).
    public func answerSuggestion(_ id: String, department: String, answer: String, by actor: String) throws {
        let actor = try AggregatorDatabase.checkedActor(actor)
        let answer = try AggregatorDatabase.checkedText(answer, field: "answer")
        try withOffice(writing: true, venue: nil) { office in
            let db = office.transaction
            let item = try AggregatorDatabase.suggestion(id, db: db)
            try AggregatorDatabase.refuseVoided(item)
            guard AggregatorDatabase.isAssigned(item, to: department) else {
                throw AggregatorError.forbidden("suggestion \(id) is not assigned to department \(department)")
            }
            guard item.lead == department else {
                throw AggregatorError(
                    "department \(department) co-handles suggestion \(id): its lead, \(item.lead ?? "?"), answers it")
            }
            guard item.status == .assigned else {
                throw AggregatorError(
                    "suggestion \(id) is \(item.status.rawValue): "
                        + (item.status == .answered
                            ? "its answer waits for the officer"
                            : "it takes no answer (\(AggregatorDatabase.last(item)))"))
            }
            try AggregatorDatabase.append(
                item, action: "answer", detail: ["answer": answer, "department": department], actor: actor, db: db)
        }
    }

    /// The officer accepts a department's answer (the item is closed) or sends it back with a note.
    public func reviewSuggestion(_ id: String, accept: Bool, note: String?, by actor: String) throws {
        let actor = try AggregatorDatabase.checkedActor(actor)
        let note = try note.map { try AggregatorDatabase.checkedText($0, field: "note") }
        if !accept, note == nil { throw AggregatorError("sending an answer back needs a note saying why") }
        try withOffice(writing: true, venue: nil) { office in
            let db = office.transaction
            let item = try AggregatorDatabase.suggestion(id, db: db)
            try AggregatorDatabase.refuseVoided(item)
            guard item.status == .answered else {
                throw AggregatorError(
                    "suggestion \(id) is \(item.status.rawValue): only an answered suggestion is accepted or sent back")
            }
            try AggregatorDatabase.append(
                item, action: accept ? "accept" : "return", detail: note.map { ["note": $0] } ?? [:], actor: actor,
                db: db)
        }
    }

    /// The citizen's feedback on the answer (逐条答复、反馈), once the item is closed.
    public func recordSuggestionFeedback(_ id: String, feedback: String, by actor: String) throws {
        let actor = try AggregatorDatabase.checkedActor(actor)
        let feedback = try AggregatorDatabase.checkedText(feedback, field: "feedback")
        try withOffice(writing: true, venue: nil) { office in
            let db = office.transaction
            let item = try AggregatorDatabase.suggestion(id, db: db)
            guard item.status == .closed else {
                throw AggregatorError(
                    "suggestion \(id) is \(item.status.rawValue): feedback is recorded once its answer is accepted")
            }
            try AggregatorDatabase.append(
                item, action: "feedback", detail: ["feedback": feedback], actor: actor, db: db)
        }
    }

    /// Marks a suggestion outstanding (优秀建议), or takes the mark away.
    public func markSuggestionOutstanding(_ id: String, _ outstanding: Bool, by actor: String) throws {
        let actor = try AggregatorDatabase.checkedActor(actor)
        try withOffice(writing: true, venue: nil) { office in
            let db = office.transaction
            let item = try AggregatorDatabase.suggestion(id, db: db)
            try AggregatorDatabase.refuseVoided(item)
            guard ![.duplicate, .inadmissible].contains(item.status) else {
                throw AggregatorError("suggestion \(id) is \(item.status.rawValue): it cannot be marked outstanding")
            }
            guard item.outstanding != outstanding else {
                throw AggregatorError("suggestion \(id) is \(outstanding ? "already" : "not") marked outstanding")
            }
            try AggregatorDatabase.append(
                item, action: "outstanding", detail: ["outstanding": outstanding ? "yes" : "no"], actor: actor, db: db)
        }
    }
}

extension AggregatorDatabase {
    // MARK: - Reading

    static func isAssigned(_ item: SuggestionItem, to department: String) -> Bool {
        item.lead == department || item.coHandlers.contains(department)
    }

    /// Whether an officer's filter by `department` takes the item: it concerns it, leads or co-handles it, or was
    /// passed on to it.
    public static func concerns(_ item: SuggestionItem, department: String) -> Bool {
        item.departments.contains(department) || isAssigned(item, to: department)
            || item.forwardedTo.contains(department)
    }

    /// The items: one per suggestion form first recorded at a venue, named by that record and carrying its handling,
    /// with the content of the record now in effect (a correction's replacement). A suggestion voided after its handling
    /// began stays listed, marked `voided`, so that no handling is lost from sight.
    fileprivate static func suggestions(_ db: any OfficeTransaction) throws -> [SuggestionItem] {
        var events: [String: [SuggestionItem.Event]] = [:]
        for row in try db.suggestionEvents() {
            let detail = try JSONDecoder().decode([String: String].self, from: Data(row.detail.utf8))
            events["\(row.venue)/\(row.seq)", default: []].append(
                .init(id: row.id, action: row.action, detail: detail, actor: row.actor, at: row.at))
        }
        // Every suggestion form and correction, in venue and record order: a correction's item is its target's.
        var items: [String: SuggestionItem] = [:]
        var order: [String] = []
        var root: [String: Int64] = [:]
        try db.formsAndCorrections { venue, seq, json in
            let payload = try RecordPayload.decode(json: json)
            switch payload {
            case .form(let form) where form.form == .suggestion:
                let id = "\(venue)/\(seq)"
                root[id] = seq
                order.append(id)
                items[id] = item(form, venue: venue, seq: seq, events: events[id] ?? [])
            case .correction(let correction):
                guard let first = root["\(venue)/\(correction.target)"] else { return }
                let id = "\(venue)/\(first)"
                root["\(venue)/\(seq)"] = first
                if case .form(let form)? = correction.replacement, form.form == .suggestion {
                    var replaced = item(form, venue: venue, seq: first, events: events[id] ?? [])
                    replaced.record = seq
                    items[id] = replaced
                } else {
                    items[id]?.voidedBy = seq
                }
            default:
                return
            }
        }
        return order.compactMap { id in
            guard let item = items[id], item.voidedBy == nil || !item.events.isEmpty else { return nil }
            return item
        }
    }

    fileprivate static func suggestion(_ id: String, db: any OfficeTransaction) throws -> SuggestionItem {
        let parts = id.split(separator: "/", maxSplits: 1)
        guard parts.count == 2, let seq = Int64(parts[1]), String(seq) == parts[1], seq > 0 else {
            throw AggregatorError(
                "\"\(id)\" is not a suggestion's id (VENUE/SEQ, as `aggregator suggestions list` shows)")
        }
        guard let item = try suggestions(db).first(where: { $0.venue == parts[0] && $0.seq == seq }) else {
            throw AggregatorError.notFound(
                "no suggestion \(id): record \(seq) of venue \(parts[0]) is not a suggestion form")
        }
        return item
    }

    /// The item the events make of a form: replayed in order.
    fileprivate static func item(
        _ form: RecordPayload.Form, venue: String, seq: Int64, events: [SuggestionItem.Event]
    ) -> SuggestionItem {
        var item = SuggestionItem(
            venue: venue, seq: seq, session: form.session, box: form.box, text: form.text ?? "",
            departments: form.departments ?? [], topic: form.topic, contact: form.consent == true ? form.contact : nil,
            status: .new, lead: nil, coHandlers: [], forwardedTo: [], due: nil, duplicateOf: nil, answer: nil,
            answeredBy: nil, feedback: nil, outstanding: false, events: events, record: seq, voidedBy: nil)
        for event in events {
            switch (event.action, event.detail["decision"]) {
            case ("triage", "forward"):
                item.status = .forwarded
                item.forwardedTo = (event.detail["departments"] ?? "").split(separator: ",").map(String.init)
            case ("triage", "assign"):
                item.status = .assigned
                item.answer = nil
                item.answeredBy = nil
                item.lead = event.detail["lead"]
                item.coHandlers = (event.detail["co"] ?? "").split(separator: ",").map(String.init)
                item.due = event.detail["due"]
            case ("triage", "duplicate"):
                item.status = .duplicate
                item.duplicateOf = event.detail["of"]
            case ("triage", "inadmissible"): item.status = .inadmissible
            case ("answer", _):
                item.status = .answered
                item.answer = event.detail["answer"]
                item.answeredBy = event.actor
            case ("accept", _): item.status = .closed
            case ("return", _):
                item.status = .assigned
                item.answer = nil
                item.answeredBy = nil
            case ("feedback", _): item.feedback = event.detail["feedback"]
            case ("outstanding", _): item.outstanding = event.detail["outstanding"] == "yes"
            default: break
            }
        }
        return item
    }

    // MARK: - Writing

    fileprivate static func append(
        _ item: SuggestionItem, action: String, detail: [String: String], actor: String, db: any OfficeTransaction
    ) throws {
        try db.appendSuggestionEvent(
            venue: item.venue, seq: item.seq, action: action,
            detail: String(decoding: try JSONCoding.data(detail), as: UTF8.self), actor: actor, at: timestamp())
    }

    fileprivate static func refuseVoided(_ item: SuggestionItem) throws {
        if let by = item.voidedBy {
            throw AggregatorError("suggestion \(item.id) was voided by record \(by) of its venue: nothing more is done")
        }
    }

    fileprivate static func last(_ item: SuggestionItem) -> String {
        guard let event = item.events.last else { return "no event" }
        return "\(event.action) by \(event.actor) at \(event.at)"
    }

    fileprivate static func checkDepartments(_ departments: [String], event: EventDefinition) throws {
        for department in departments where !event.departments.contains(where: { $0.id == department }) {
            throw AggregatorError(
                "unknown department \(department); the departments are: "
                    + event.departments.map(\.id).joined(separator: ", "))
        }
        if Set(departments).count != departments.count {
            throw AggregatorError("a department is named twice: \(departments.joined(separator: ", "))")
        }
    }

    fileprivate static func checkedActor(_ actor: String) throws -> String {
        let actor = actor.trimmingCharacters(in: .whitespaces)
        guard !actor.isEmpty, actor.count <= 96 else {
            throw AggregatorError("say who acts (a name of 1…96 characters)")
        }
        try IDNumberShape.refuse(actor, field: "name")
        return actor
    }

    /// Free text of the handling (an answer, a note, a reason): not empty, at most 4,000 characters, its ID-card and
    /// telephone numbers masked as a suggestion's are.
    fileprivate static func checkedText(_ text: String, field: String) throws -> String {
        let text = text.trimmingCharacters(in: .whitespacesAndNewlines)
        guard !text.isEmpty else { throw AggregatorError("the \(field) is empty") }
        guard text.count <= RecordPayload.Form.maximumTextLength else {
            throw AggregatorError("the \(field) is longer than \(RecordPayload.Form.maximumTextLength) characters")
        }
        return PersonalNumbers.masked(text)
    }

    /// A calendar day written `YYYY-MM-DD` (2026-02-31 is not one).
    static func isDate(_ text: String) -> Bool {
        let parts = text.split(separator: "-", omittingEmptySubsequences: false)
        guard parts.count == 3, parts[0].count == 4, parts[1].count == 2, parts[2].count == 2,
            let year = Int(parts[0]), let month = Int(parts[1]), let day = Int(parts[2])
        else { return false }
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = TimeZone(identifier: "UTC")!
        let components = DateComponents(year: year, month: month, day: day)
        return calendar.date(from: components).map {
            calendar.dateComponents([.year, .month, .day], from: $0)
                == DateComponents(year: year, month: month, day: day)
        } ?? false
    }
}
