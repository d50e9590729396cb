import Foundation

extension EventDefinition {
    /// The forms a representative hands in besides the ballot (issue #17), as the plan prints them: the opinion survey
    /// (社情民意调查问卷) and the suggestion form (意见建议征集表) into the boxes at the entrance, the discipline survey
    /// (纪律情况调查表) into the box in front of the podium. Each answered form is a record of its venue's chain
    /// (`RecordPayload.Form`); surveys are anonymous like ballots. docs/forms.md.
    public struct Forms: Codable, Sendable, Equatable {
        public var survey: Questionnaire?
        public var discipline: Questionnaire?
        public var suggestion: SuggestionForm?
        /// How the survey's result per department combines with the evaluation score into a final score.
        public var weights: Weights?

        public init(
            survey: Questionnaire? = nil, discipline: Questionnaire? = nil, suggestion: SuggestionForm? = nil,
            weights: Weights? = nil
        ) {
            self.survey = survey
            self.discipline = discipline
            self.suggestion = suggestion
            self.weights = weights
        }
    }

    /// A survey's questions, in the order printed.
    public struct Questionnaire: Codable, Sendable, Equatable {
        public var title: String?
        public var questions: [Question]

        public init(title: String? = nil, questions: [Question]) {
            self.title = title
            self.questions = questions
        }
    }

    /// One question and the answers it offers. A question asked about each department on the session's ballot
    /// (`per_department`) is answered once per department: its answer's key is `question:department`.
    public struct Question: Codable, Sendable, Equatable {
        public var id: String
        public var text: String
        public var textEn: String?
        public var perDepartment: Bool?
        public var options: [Option]
        /// The discipline survey's answers that signal a breach to investigate (e.g. "someone hinted how to rate").
        public var breach: [String]?

        enum CodingKeys: String, CodingKey {
            case id, text
            case textEn = "text_en"
            case perDepartment = "per_department"
            case options, breach
        }

        public init(
            id: String, text: String, textEn: String? = nil, perDepartment: Bool? = nil, options: [Option],
            breach: [String]? = nil
        ) {
            self.id = id
            self.text = text
            self.textEn = textEn
            self.perDepartment = perDepartment
            self.options = options
            self.breach = breach
        }

        public var isPerDepartment: Bool { perDepartment ?? false }
    }

    public struct Option: Codable, Sendable, Equatable {
        public var id: String
        public var label: String
        public var labelEn: String?
        /// What the answer is worth in the survey's result per department (0–100); none: not scored ("don't know").
        public var score: Double?

        enum CodingKeys: String, CodingKey {
            case id, label
            case labelEn = "label_en"
            case score
        }

        public init(id: String, label: String, labelEn: String? = nil, score: Double? = nil) {
            self.id = id
            self.label = label
            self.labelEn = labelEn
            self.score = score
        }
    }

    /// The suggestion form: free text, the departments it concerns, a topic, and a contact the citizen may leave
    /// with consent to be called back.
    public struct SuggestionForm: Codable, Sendable, Equatable {
        public var topics: [Topic]?

        public init(topics: [Topic]? = nil) { self.topics = topics }
    }

    public struct Topic: Codable, Sendable, Equatable {
        public var id: String
        public var label: String

        public init(id: String, label: String) {
            self.id = id
            self.label = label
        }
    }

    /// Final score = (evaluation × evaluation score + survey × survey result) / (evaluation + survey), per department.
    public struct Weights: Codable, Sendable, Equatable {
        public var evaluation: Double
        public var survey: Double

        public init(evaluation: Double, survey: Double) {
            self.evaluation = evaluation
            self.survey = survey
        }
    }

    /// A survey's questions by kind of form.
    public func questionnaire(_ form: RecordPayload.FormKind) -> Questionnaire? {
        switch form {
        case .survey: forms?.survey
        case .discipline: forms?.discipline
        case .suggestion: nil
        }
    }

    /// Every answer key a form of this kind may carry in `session`, with the question it answers: a question's id, or
    /// `question:department` for each department on the session's ballot when asked per department.
    public func answerKeys(_ form: RecordPayload.FormKind, session: String) -> [(key: String, question: Question)] {
        guard let questionnaire = questionnaire(form) else { return [] }
        let departments = ballotDepartments(session: session)?.map(\.id) ?? []
        return questionnaire.questions.flatMap { question in
            question.isPerDepartment
                ? departments.map { (key: "\(question.id):\($0)", question: question) }
                : [(key: question.id, question: question)]
        }
    }

    /// The checks of the `forms` section (part of `validate`).
    func validateForms(into issues: inout [EventIssue]) {
        guard let forms else { return }
        func error(_ code: EventIssue.Code, _ location: String, _ message: String) {
            issues.append(EventIssue(severity: .error, code: code, location: location, message: message))
        }
        for (name, questionnaire) in [("survey", forms.survey), ("discipline", forms.discipline)] {
            guard let questionnaire else { continue }
            if questionnaire.questions.isEmpty {
                error(.missingSection, "forms.\(name).questions", "the \(name) form lists no question")
            }
            _ = checkIDs(questionnaire.questions.map(\.id), section: "forms.\(name).questions", into: &issues)
            for (index, question) in questionnaire.questions.enumerated() {
                let location = "forms.\(name).questions[\(index)]"
                if question.options.count < 2 {
                    error(
                        .missingSection, "\(location).options",
                        "question \"\(question.id)\" offers \(question.options.count) answer(s); it needs at least two")
                }
                let options = checkIDs(question.options.map(\.id), section: "\(location).options", into: &issues)
                for breach in question.breach ?? [] where !options.contains(breach) {
                    error(
                        .unknownReference, "\(location).breach",
                        "question \"\(question.id)\" names \"\(breach)\" as a breach, which is not one of its answers")
                }
                if question.breach != nil, name != "discipline" {
                    error(
                        .unknownReference, "\(location).breach",
                        "only the discipline survey's answers signal a breach")
                }
                for (optionIndex, option) in question.options.enumerated() {
                    if let score = option.score, !(0...100).contains(score) {
                        error(
                            .negativeCount, "\(location).options[\(optionIndex)].score",
                            "answer \"\(option.id)\" scores \(score); a score is from 0 to 100")
                    }
                }
            }
        }
        if let topics = forms.suggestion?.topics {
            _ = checkIDs(topics.map(\.id), section: "forms.suggestion.topics", into: &issues)
        }
        if let weights = forms.weights {
            if weights.evaluation < 0 || weights.survey < 0 || weights.evaluation + weights.survey <= 0 {
                error(
                    .negativeCount, "forms.weights",
                    "weights \(weights.evaluation) and \(weights.survey) must not be negative and must not both be 0")
            }
            if forms.survey?.questions.contains(where: { $0.isPerDepartment && $0.options.contains { $0.score != nil } }
            )
                != true
            {
                error(
                    .unknownReference, "forms.weights",
                    "weights combine the survey's result per department, but no survey question asked per department "
                        + "has scored answers")
            }
        }
    }
}
