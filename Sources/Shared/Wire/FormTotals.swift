import Foundation

/// The forms other than the ballot, counted (issue #17): per box and kind, how many its closing says it returned and
/// how many were entered; per survey question (a question's id, or `question:department`) and answer, how many gave it.
/// Every figure is a sum of records of the venue chains, as the other totals.
public struct FormTotals: Codable, Sendable, Equatable {
    public struct Box: Codable, Sendable, Equatable {
        public var venue: String
        public var session: String
        public var box: String
        public var form: RecordPayload.FormKind
        public var returned: Int
        public var entered: Int

        public init(
            venue: String, session: String, box: String, form: RecordPayload.FormKind, returned: Int, entered: Int
        ) {
            self.venue = venue
            self.session = session
            self.box = box
            self.form = form
            self.returned = returned
            self.entered = entered
        }
    }

    public struct Answer: Codable, Sendable, Equatable {
        public var venue: String
        public var session: String
        public var form: RecordPayload.FormKind
        public var question: String
        public var option: String
        public var count: Int

        public init(
            venue: String, session: String, form: RecordPayload.FormKind, question: String, option: String, count: Int
        ) {
            self.venue = venue
            self.session = session
            self.form = form
            self.question = question
            self.option = option
            self.count = count
        }

        /// The question's id (an answer key `question:department` without its department).
        public var questionID: String { String(question.split(separator: ":", maxSplits: 1).first ?? "") }
    }

    public var boxes: [Box]
    public var answers: [Answer]

    public init(boxes: [Box] = [], answers: [Answer] = []) {
        self.boxes = boxes
        self.answers = answers
    }

    /// The form totals of one venue from its counters (a node's own view).
    public init(venue: String, counters: [Counter: Int]) {
        var boxes: [String: Box] = [:]
        var answers: [Answer] = []
        for (counter, value) in counters where value != 0 {
            switch counter {
            case .formsReturned(let session, let box, let form), .formsEntered(let session, let box, let form):
                let key = "\(session)/\(box)/\(form.rawValue)"
                var row =
                    boxes[key] ?? Box(venue: venue, session: session, box: box, form: form, returned: 0, entered: 0)
                if case .formsReturned = counter { row.returned += value } else { row.entered += value }
                boxes[key] = row
            case .answer(let session, let form, let question, let option):
                answers.append(
                    Answer(venue: venue, session: session, form: form, question: question, option: option, count: value)
                )
            default:
                break
            }
        }
        self.init(
            boxes: boxes.values.sorted {
                ($0.session, $0.box, $0.form.rawValue) < ($1.session, $1.box, $1.form.rawValue)
            },
            answers: answers.sorted {
                ($0.session, $0.form.rawValue, $0.question, $0.option) < (
                    $1.session, $1.form.rawValue, $1.question, $1.option
                )
            })
    }
}
