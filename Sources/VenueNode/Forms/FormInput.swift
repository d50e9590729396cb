import Foundation
import Shared

/// One of the other forms as a page sends it (issue #17): the desk's counting table and a phone alike. `form` makes
/// the record's form of it: a survey or discipline survey carries its answers only; a suggestion has its ID-card and
/// telephone numbers masked, and keeps a contact only with consent. What the event's rules say of it (questions,
/// answers, departments, topics) is checked when it is appended or sealed.
struct FormInput: Decodable, Sendable {
    var session: String
    var box: String
    var kind: String
    /// A survey's answers: question (or `question:department`) → answer.
    var answers: [String: String]?
    var text: String?
    var departments: [String]?
    var topic: String?
    var contact: String?
    var consent: Bool?

    /// Why a form as sent cannot be a record: `code` is `bad_request` or `no_consent`.
    struct Refusal: Error {
        var code: String
        var message: String
    }

    /// The form as a record holds it, `clerk` entering it (none on a phone), and whether numbers were masked.
    func form(clerk: String?) throws(Refusal) -> (form: RecordPayload.Form, masked: Bool) {
        guard let kind = RecordPayload.FormKind(rawValue: kind) else {
            throw Refusal(
                code: "bad_request",
                message: "kind is one of " + RecordPayload.FormKind.allCases.map(\.rawValue).joined(separator: ", "))
        }
        switch kind {
        case .survey, .discipline:
            guard text == nil, departments == nil, topic == nil, contact == nil, consent == nil else {
                throw Refusal(
                    code: "bad_request", message: "a \(kind.rawValue) form is anonymous: it carries only its answers")
            }
            return (.init(session: session, box: box, form: kind, answers: answers ?? [:], clerk: clerk), false)
        case .suggestion:
            guard answers == nil else { throw Refusal(code: "bad_request", message: "a suggestion has no answers") }
            let given = contact?.trimmingCharacters(in: .whitespaces).nilIfEmpty
            guard given == nil || consent == true else {
                throw Refusal(
                    code: "no_consent",
                    message: "a contact is kept only with consent to be called back: give the consent, or no contact")
            }
            let text = self.text ?? ""
            let form = RecordPayload.Form.suggestion(
                session: session, box: box, text: text, departments: departments.flatMap { $0.isEmpty ? nil : $0 },
                topic: topic?.nilIfEmpty, contact: given, clerk: clerk)
            return (form, form.text != text)
        }
    }
}

extension String {
    fileprivate var nilIfEmpty: String? { isEmpty ? nil : self }
}
