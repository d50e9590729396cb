import Foundation

/// Why a record cannot be accepted for an event. The message names the offending value.
public struct RecordRejection: Error, Sendable, Equatable, CustomStringConvertible {
    public var message: String

    public init(_ message: String) { self.message = message }

    public var description: String { message }
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
                throw RecordRejection("unknown session \"\(id)\"; the event's sessions are: "
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
            try requireSession(checkin.session)
            guard Identifier.isValid(checkin.rep) else {
                throw RecordRejection("representative id \"\(checkin.rep)\" must match \(Identifier.pattern)")
            }
            if let person = checkin.person, person.utf8.count != 64 || !person.utf8.allSatisfy({ (48...57).contains($0) || (97...102).contains($0) }) {
                throw RecordRejection("person key \"\(person)\" must be 64 lower-case hexadecimal characters")
            }
            guard event.category(checkin.category) != nil else {
                throw RecordRejection("unknown category \"\(checkin.category)\"; the event's categories are: "
                    + event.categories.map(\.id).joined(separator: ", "))
            }
        case .boxOpened(let box):
            try requireSession(box.session)
            try requireBox(box.box)
        case .boxClosed(let box):
            try requireSession(box.session)
            try requireBox(box.box)
            for (name, value) in [("issued", box.issued), ("returned", box.returned)]
            where value < 0 || value > Self.maximumBoxCount {
                throw RecordRejection("\(name) = \(value) is out of range 0…\(Self.maximumBoxCount)")
            }
        case .ballot(let ballot):
            try requireSession(ballot.session)
            try requireBox(ballot.box)
            try ballot.checkMarks(against: event)
        case .correction(let correction):
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
                try replacement.check(against: event)
            }
        }
    }
}

extension RecordPayload.Ballot {
    func checkMarks(against event: EventDefinition) throws(RecordRejection) {
        guard status == .valid else {
            guard marks.isEmpty else {
                throw RecordRejection("a \(status.rawValue) ballot carries no marks, found \(marks.count)")
            }
            return
        }
        let onBallot = event.ballotDepartments(session: session) ?? []
        let onBallotIDs = Set(onBallot.map(\.id))
        for (department, mark) in marks.sorted(by: { $0.key < $1.key }) {
            guard onBallotIDs.contains(department) else {
                if event.departments.contains(where: { $0.id == department }) {
                    throw RecordRejection("department \(department) is not on the ballot of session \(session)")
                }
                throw RecordRejection("unknown department \(department)")
            }
            guard event.mark(mark) != nil else {
                throw RecordRejection("unknown mark \"\(mark)\" for department \(department); the marks are: "
                    + event.marks.map(\.id).joined(separator: ", "))
            }
        }
        let missing = onBallot.map(\.id).filter { marks[$0] == nil }
        if !missing.isEmpty {
            throw RecordRejection("the ballot of session \(session) has no mark for department(s) "
                + missing.joined(separator: ", "))
        }
    }
}
