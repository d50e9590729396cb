import ArgumentParser
import Foundation
import Shared

extension VenueNodeCommand {
    struct Form: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Record one form taken out of a box: a suggestion, an opinion survey or a discipline survey.",
            discussion: """
                The box is closed first, with how many of each form it returned (box close --suggestions N --surveys N
                --discipline N). Surveys are anonymous: only their answers are kept. Examples:
                  venue-node form --data-dir DIR --session S1 --box E1 --kind survey --answers Q1=good,Q2:D01=satisfied
                  venue-node form --data-dir DIR --session S1 --box P1 --kind discipline --answers hint=no
                  venue-node form --data-dir DIR --session S1 --box E1 --kind suggestion --text "…" \\
                    --departments D01,D02 --topic traffic [--contact 13800000000 --consent]
                ID-card and telephone numbers in a suggestion's text are masked before it is saved; a contact is kept,
                as given, only with --consent.
                """)

        @OptionGroup var data: DataDirectoryOption
        @Option(help: "Session id.") var session: String
        @Option(help: "Box id.") var box: String
        @Option(help: "suggestion, survey or discipline.") var kind: String
        @Option(help: "Survey: QUESTION=ANSWER pairs, comma-separated (QUESTION:DEPT for a question per department).")
        var answers: String?
        @Option(help: "Suggestion: its text.") var text: String?
        @Option(help: "Suggestion: the departments it concerns, comma-separated.") var departments: String?
        @Option(help: "Suggestion: its topic.") var topic: String?
        @Option(help: "Suggestion: the citizen's contact (kept only with --consent).") var contact: String?
        @Flag(help: "Suggestion: the citizen consented to be called back.") var consent = false

        func run() throws {
            guard let form = RecordPayload.FormKind(rawValue: kind) else {
                throw ValidationError(
                    "--kind is one of " + RecordPayload.FormKind.allCases.map(\.rawValue).joined(separator: ", "))
            }
            let payload: RecordPayload.Form
            switch form {
            case .survey, .discipline:
                guard text == nil, departments == nil, topic == nil, contact == nil, !consent else {
                    throw ValidationError("a \(kind) form is anonymous: give only --answers")
                }
                payload = .init(session: session, box: box, form: form, answers: try Self.pairs(answers ?? ""))
            case .suggestion:
                guard answers == nil else { throw ValidationError("a suggestion has no --answers") }
                guard contact == nil || consent else {
                    throw ValidationError("a contact is kept only when the citizen consented: add --consent")
                }
                guard let text else { throw ValidationError("a suggestion needs --text") }
                payload = RecordPayload.Form.suggestion(
                    session: session, box: box, text: text,
                    departments: departments.map {
                        $0.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }
                    },
                    topic: topic, contact: contact)
                if payload.text != text { print("ID-card and telephone numbers in the text were masked") }
            }
            try save([.form(payload)], data: data)
        }

        static func pairs(_ text: String) throws -> [String: String] {
            var parsed: [String: String] = [:]
            for pair in text.split(separator: ",") {
                let parts = pair.split(separator: "=", maxSplits: 1).map { $0.trimmingCharacters(in: .whitespaces) }
                guard parts.count == 2, !parts[0].isEmpty, !parts[1].isEmpty else {
                    throw ValidationError("\"\(pair)\" is not QUESTION=ANSWER")
                }
                guard parsed[parts[0]] == nil else { throw ValidationError("question \(parts[0]) is answered twice") }
                parsed[parts[0]] = parts[1]
            }
            return parsed
        }
    }
}
