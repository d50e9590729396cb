import Foundation
import GRDB
import Shared
import Testing

@testable import VenueNode

/// The other forms sent on phones (issue #17): with the slip's voting code, one survey, one discipline survey and one
/// suggestion per code, sealed like the ballots until the box closes, then appended shuffled after its closing, which
/// must count exactly the forms sent. Every refusal is exact and keeps nothing; a form cannot be joined to its code's
/// ballot from the database.
@Suite struct PhoneFormsTests {
    let database: NodeDatabase
    let event: EventDefinition

    init() throws {
        database = try NodeDatabase(writer: DatabaseQueue())
        event = try EventDefinition.load(data: Data(FormRecordTests.eventJSON.utf8)).definition
    }

    func sealedForms() throws -> Int {
        try database.writer.read { try Int.fetchOne($0, sql: "SELECT COUNT(*) FROM sealedForm") ?? 0 }
    }

    func refusal(_ body: () throws -> Void) -> VoteRefusal.Code? {
        do {
            try body()
            return nil
        } catch {
            return (error as? VoteRefusal)?.code
        }
    }

    func survey(_ answers: [String: String], box: String = "E1") -> RecordPayload.Form {
        .init(session: "S1", box: box, form: .survey, answers: answers)
    }

    @Test func formsAreSealedOncePerCodeAndAppendedShuffledWhenTheBoxCloses() throws {
        let sheet = try database.printCodes(
            session: "S1", box: "E1", count: 3, url: "http://192.168.1.10:8081", event: event)
        let (a, b) = (sheet.codes[0], sheet.codes[1])
        #expect(refusal { _ = try database.formsOf(code: a) } == .boxNotOpen)
        #expect(
            refusal {
                try database.sealForm(code: a, form: survey(["safety": "good"]), submission: "s-a-1", event: event)
            } == .boxNotOpen)
        try database.append([.boxOpened(.init(session: "S1", box: "E1"))], event: event)

        // Code a casts its ballot, then sends a survey, a discipline survey and a suggestion
        _ = try database.cast(
            code: a, session: "S1", box: "E1", marks: ["D01": "satisfied", "D02": "satisfied"], submission: "ballot-a",
            event: event)
        #expect(try database.formsOf(code: a).sent.isEmpty)
        #expect(
            try database.sealForm(
                code: a, form: survey(["safety": "good", "service:D01": "satisfied"]), submission: "survey-a",
                event: event) == false)
        // The same page sending again: told so, nothing added; another page: refused
        #expect(
            try database.sealForm(
                code: a, form: survey(["safety": "good", "service:D01": "satisfied"]), submission: "survey-a",
                event: event) == true)
        #expect(
            refusal {
                try database.sealForm(code: a, form: survey(["safety": "poor"]), submission: "survey-a-2", event: event)
            } == .formSent)
        try database.sealForm(
            code: a, form: .init(session: "S1", box: "E1", form: .discipline, answers: ["hint": "yes"]),
            submission: "discipline-a", event: event)
        try database.sealForm(
            code: a,
            form: .suggestion(
                session: "S1", box: "E1", text: "公交站台缺少遮雨棚，联系13812345678", departments: ["D02"],
                topic: "traffic", contact: "13812345678"),
            submission: "suggestion-a", event: event)
        #expect(try database.formsOf(code: a).sent == [.suggestion, .survey, .discipline])
        #expect(try sealedForms() == 3)

        // Bad forms, and codes that cannot send: refused, nothing kept
        let refusals: [(VoteRefusal.Code, () throws -> Void)] = [
            (
                .badForm,
                { try database.sealForm(code: b, form: survey(["weather": "good"]), submission: "b-1", event: event) }
            ),
            (
                .badForm,
                { try database.sealForm(code: b, form: survey(["safety": "great"]), submission: "b-2", event: event) }
            ),
            (
                .badForm,
                {
                    try database.sealForm(
                        code: b, form: survey(["service:D03": "fair"]), submission: "b-3", event: event)
                }
            ),
            (
                .badForm,
                {
                    try database.sealForm(
                        code: b, form: .suggestion(session: "S1", box: "E1", text: "  "), submission: "b-4",
                        event: event)
                }
            ),
            (
                .badForm,
                {
                    try database.sealForm(
                        code: b, form: .suggestion(session: "S1", box: "E1", text: "x", departments: ["D09"]),
                        submission: "b-5", event: event)
                }
            ),
            (
                .otherBox,
                {
                    try database.sealForm(
                        code: b, form: survey(["safety": "good"], box: "E2"), submission: "b-6", event: event)
                }
            ),
            (
                .codeMalformed,
                { try database.sealForm(code: "ABCD", form: survey([:]), submission: "b-7", event: event) }
            ),
            (
                .codeUnknown,
                {
                    try database.sealForm(
                        code: "ABCD-EFGH-JKMN-PQRS", form: survey([:]), submission: "b-8", event: event)
                }
            ),
        ]
        for (expected, body) in refusals { #expect(refusal(body) == expected) }
        #expect(try sealedForms() == 3)
        // b sends a survey with one question left unanswered
        try database.sealForm(code: b, form: survey(["safety": "fair"]), submission: "survey-b", event: event)

        // Nothing joins a form to its code or its code's ballot: the form's row holds no key derived from the code
        let columns = try database.writer.read { db in try db.columns(in: "sealedForm").map(\.name) }
        #expect(columns == ["id", "session", "box", "kind", "payload"])
        let ids = try database.writer.read { db in try String.fetchAll(db, sql: "SELECT id FROM sealedForm") }
        let keys = try database.writer.read { db in
            try String.fetchAll(
                db,
                sql:
                    "SELECT hash FROM votingCode UNION SELECT codeHash FROM sealedBallot UNION SELECT formKey FROM phoneFormUse"
            )
        }
        #expect(ids.count == 4 && Set(ids).isDisjoint(with: keys))
        let stored = try database.writer.read { db in
            try String.fetchAll(db, sql: "SELECT payload FROM sealedForm").joined(separator: "\n")
        }
        #expect(!stored.contains("公交站台缺少遮雨棚，联系13812345678"))
        #expect(sheet.codes.allSatisfy { !stored.contains(VotingCode.canonical($0)!) })

        // Closing: the forms counted must be exactly those sent
        let phone = try #require(try database.phoneBox(session: "S1", box: "E1"))
        #expect(phone.forms == ["survey": 2, "discipline": 1, "suggestion": 1])
        #expect(throws: AppendError.self) {
            try database.append(
                [.boxClosed(.init(session: "S1", box: "E1", issued: 2, returned: 1))], event: event)
        }
        #expect(throws: AppendError.self) {
            try database.append(
                [.boxClosed(.init(session: "S1", box: "E1", issued: 2, returned: 1, forms: ["survey": 2]))],
                event: event)
        }
        let saved = try database.append(
            [.boxClosed(.init(session: "S1", box: "E1", issued: 2, returned: 1, forms: phone.forms))], event: event)
        let payloads = try saved.map { try RecordPayload.decode(json: $0.payload) }
        #expect(payloads.count == 6)
        let forms = payloads.compactMap { payload -> RecordPayload.Form? in
            if case .form(let form) = payload { return form }
            return nil
        }
        #expect(forms.map(\.form.rawValue).sorted() == ["discipline", "suggestion", "survey", "survey"])
        #expect(
            Set(forms.filter { $0.form == .survey }.map { $0.answers ?? [:] })
                == [["safety": "good", "service:D01": "satisfied"], ["safety": "fair"]])
        let suggestion = try #require(forms.first { $0.form == .suggestion })
        #expect(suggestion.text == "公交站台缺少遮雨棚，联系138******78")
        #expect(suggestion.contact == "13812345678" && suggestion.consent == true)
        #expect(forms.allSatisfy { $0.clerk == nil })

        // Closed: nothing more is sent
        #expect(refusal { _ = try database.formsOf(code: sheet.codes[2]) } == .boxClosed)
        #expect(
            refusal {
                try database.sealForm(
                    code: sheet.codes[2], form: survey(["safety": "good"]), submission: "c", event: event)
            } == .boxClosed)
    }
}
