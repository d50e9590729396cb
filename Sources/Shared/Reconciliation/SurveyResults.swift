import Foundation

/// The opinion and discipline surveys' results (issue #17): per question (or question and department) how many gave
/// each answer, overall and per venue and session; and per department the survey's result, the average score of the
/// answers given about it (answers without a score, such as 不了解, left out), combined with the evaluation score by
/// the event's weights into the final score that ranks the departments when weights are set.
public struct SurveyResults: Codable, Sendable, Equatable {
    public struct Answer: Codable, Sendable, Equatable {
        public var form: RecordPayload.FormKind
        /// A question's id, or `question:department`.
        public var question: String
        public var option: String
        public var count: Int
        /// Per `venue/session`.
        public var places: [String: Int]
    }

    public struct Department: Codable, Sendable, Equatable {
        public var department: String
        public var name: String
        /// Scored answers about it.
        public var answers: Int
        /// Their average score (0–100); nil without any.
        public var surveyResult: Double?
        /// The evaluation score of the overall results.
        public var evaluationScore: Double?
        /// `(evaluation × score + survey × result) / (evaluation + survey)`; nil without weights or either figure.
        public var combined: Double?
        /// Rank by the combined score (1 the best; equal scores share a rank); nil without weights or a combined score.
        public var rank: Int?

        enum CodingKeys: String, CodingKey {
            case department, name, answers
            case surveyResult = "survey_result"
            case evaluationScore = "evaluation_score"
            case combined, rank
        }
    }

    public var answers: [Answer]
    public var departments: [Department]
    public var weights: EventDefinition.Weights?

    /// From the form totals and the overall evaluation results (`scores`: department → score).
    public init(forms: FormTotals, event: EventDefinition, scores: [String: Double]) {
        var answers: [String: Answer] = [:]
        for row in forms.answers {
            let key = "\(row.form.rawValue)\u{1F}\(row.question)\u{1F}\(row.option)"
            var answer =
                answers[key]
                ?? Answer(form: row.form, question: row.question, option: row.option, count: 0, places: [:])
            answer.count += row.count
            answer.places["\(row.venue)/\(row.session)", default: 0] += row.count
            answers[key] = answer
        }
        self.answers = answers.values.filter { $0.count != 0 }.sorted {
            ($0.form.rawValue, $0.question, $0.option) < ($1.form.rawValue, $1.question, $1.option)
        }
        weights = event.forms?.weights
        // The survey's result per department: the scored answers to questions asked about it.
        let questions = Dictionary(
            (event.forms?.survey?.questions ?? []).map { ($0.id, $0) }, uniquingKeysWith: { first, _ in first })
        var sums: [String: (total: Double, count: Int)] = [:]
        for row in forms.answers where row.form == .survey {
            let parts = row.question.split(separator: ":", maxSplits: 1).map(String.init)
            guard parts.count == 2, let question = questions[parts[0]], question.isPerDepartment,
                let score = question.options.first(where: { $0.id == row.option })?.score
            else { continue }
            sums[parts[1], default: (0, 0)].total += score * Double(row.count)
            sums[parts[1], default: (0, 0)].count += row.count
        }
        var departments: [Department] = event.departments.map { department in
            let sum = sums[department.id]
            let result = sum.flatMap { $0.count > 0 ? $0.total / Double($0.count) : nil }
            let evaluation = scores[department.id]
            var combined: Double?
            if let weights = event.forms?.weights, let result, let evaluation {
                combined =
                    (weights.evaluation * evaluation + weights.survey * result) / (weights.evaluation + weights.survey)
            }
            return Department(
                department: department.id, name: department.name, answers: sum?.count ?? 0, surveyResult: result,
                evaluationScore: evaluation, combined: combined, rank: nil)
        }
        let ranked = departments.compactMap(\.combined).sorted(by: >)
        for index in departments.indices {
            guard let combined = departments[index].combined else { continue }
            departments[index].rank = 1 + ranked.filter { $0 > combined + 1e-9 }.count
        }
        self.departments = departments
    }
}
