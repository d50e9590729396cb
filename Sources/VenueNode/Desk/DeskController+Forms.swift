import DaemonSupport
import Foundation
import Hummingbird
import Shared

/// The other forms entered from paper at the desk (issue #17): suggestions, opinion surveys and discipline surveys,
/// one record each, after their box's closing counted them. Surveys are anonymous: only their answers are kept. A
/// suggestion's ID-card and telephone numbers are masked before the record is written; its contact is kept only with
/// the citizen's consent.
extension DeskController {
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
        let body = try await body(FormInput.self, request, example: Self.formExample)
        try checkSession(body.session)
        let (payload, masked): (RecordPayload.Form, Bool)
        do {
            (payload, masked) = try body.form(clerk: clerk.attribution)
        } catch {
            throw DeskError(.badRequest, error.code, error.message)
        }
        let saved = try await save(.form(payload))
        context.logger.info(
            "form entered at the desk",
            metadata: ["clerk.id": "\(clerk.id)", "kind": "\(payload.form.rawValue)", "seq": "\(saved.seq)"])
        return try DeskJSON.response(FormAnswer(seq: saved.seq, hash: saved.hash, masked: masked))
    }
}
