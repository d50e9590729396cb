import DaemonSupport
import Foundation
import Hummingbird
import Shared

/// The other forms entered from paper at the desk (issue #17): suggestions, opinion surveys and discipline surveys,
/// one record each, after their box's closing counted them. Surveys are anonymous: only their answers are kept. A
/// suggestion's ID-card and telephone numbers are masked before the record is written; its contact is kept only with
/// the citizen's consent.
extension DeskController {
    struct FormBody: Decodable {
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
    }

    struct FormAnswer: Encodable {
        var seq: Int64
        var hash: String
        /// Numbers that identify a person were masked in the suggestion's text before it was saved.
        var masked: Bool
    }

    static let formExample =
        #"{"session": "S1", "box": "E1", "kind": "survey", "answers": {"safety": "good"}}"#

    @Sendable func enterForm(_ request: Request, context: DeskRequestContext) async throws -> Response {
        let clerk = try clerk(context, [.count, .lead])
        let body = try await body(FormBody.self, request, example: Self.formExample)
        try checkSession(body.session)
        guard let kind = RecordPayload.FormKind(rawValue: body.kind) else {
            throw DeskError(
                .badRequest, "bad_request",
                "kind is one of " + RecordPayload.FormKind.allCases.map(\.rawValue).joined(separator: ", "))
        }
        let payload: RecordPayload.Form
        var masked = false
        switch kind {
        case .survey, .discipline:
            guard body.text == nil, body.departments == nil, body.topic == nil, body.contact == nil,
                body.consent == nil
            else {
                throw DeskError(
                    .badRequest, "bad_request", "a \(kind.rawValue) form is anonymous: send only its answers")
            }
            payload = .init(
                session: body.session, box: body.box, form: kind, answers: body.answers ?? [:],
                clerk: clerk.attribution)
        case .suggestion:
            guard body.answers == nil else {
                throw DeskError(.badRequest, "bad_request", "a suggestion has no survey answers")
            }
            let contact = body.contact?.trimmingCharacters(in: .whitespaces)
            let given = contact.flatMap { $0.isEmpty ? nil : $0 }
            guard given == nil || body.consent == true else {
                throw DeskError(
                    .badRequest, "no_consent",
                    "a contact is kept only when the citizen consented to be called back: tick the consent, or "
                        + "leave the contact out")
            }
            let text = body.text ?? ""
            payload = RecordPayload.Form.suggestion(
                session: body.session, box: body.box, text: text,
                departments: body.departments.flatMap { $0.isEmpty ? nil : $0 },
                topic: body.topic.flatMap { $0.isEmpty ? nil : $0 }, contact: given, clerk: clerk.attribution)
            masked = payload.text != text
        }
        let saved = try await save(.form(payload))
        context.logger.info(
            "form entered at the desk",
            metadata: ["clerk.id": "\(clerk.id)", "kind": "\(kind.rawValue)", "seq": "\(saved.seq)"])
        return try DeskJSON.response(FormAnswer(seq: saved.seq, hash: saved.hash, masked: masked))
    }
}
