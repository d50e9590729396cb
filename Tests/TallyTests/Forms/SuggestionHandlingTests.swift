import Aggregator
import Foundation
import GRDB
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Logging
import Shared
import Testing

/// The central office handles the suggestions from every venue (issue #17): triage, a department's answer through
/// its own token (which sees exactly what is assigned to it), the officer's review, the citizen's feedback. Every
/// step is appended; a refused step answers with its exact code and changes nothing.
@Suite struct SuggestionHandlingTests {
    @Test func fromTriageToFeedbackOverHTTPWithDepartmentTokens() async throws {
        let east = TestSigner()
        let (database, intake) = try Fixtures.aggregator(
            eventJSON: FormRecordTests.eventJSON, enrolling: ["east": east])
        let closing = RecordPayload.boxClosed(
            .init(session: "S1", box: "E1", issued: 0, returned: 0, forms: ["suggestion": 3]))
        let texts = ["东河路口早高峰拥堵，电话13812345678", "希望延长图书馆开放时间", "路口拥堵（同上）"]
        let records = Fixtures.chain(
            [closing]
                + texts.map {
                    .form(
                        .suggestion(
                            session: "S1", box: "E1", text: $0, departments: ["D01"], topic: "traffic",
                            contact: $0.hasPrefix("东河") ? "王先生 13812345678" : nil))
                })
        _ = try await east.send(records, venue: "east", to: intake)
        let admin = try database.addToken(name: "office", role: .admin)
        let d01 = try database.addToken(name: "市发改委", role: .department, department: "D01")
        let d02 = try database.addToken(name: "市教育局", role: .department, department: "D02")
        let d03 = try database.addToken(name: "市公安局", role: .department, department: "D03")
        #expect(throws: AggregatorError.self) { try database.addToken(name: "x", role: .department) }
        #expect(throws: AggregatorError.self) {
            try database.addToken(name: "x", role: .department, department: "D09")
        }
        let app = try buildApplication(
            intake: intake, settings: AggregatorSettings(rateLimit: nil), logger: Logger(label: "test"))
        struct Step {
            var method: HTTPRequest.Method = .post
            var uri: String
            var token: String
            var body: String? = nil
            var expected: String
        }
        let steps: [Step] = [
            Step(method: .get, uri: "/v1/suggestions", token: d01, expected: "403 forbidden"),
            Step(method: .get, uri: "/v1/department/suggestions", token: admin, expected: "403 forbidden"),
            Step(
                uri: "/v1/suggestions/east/2/triage", token: admin,
                body: #"{"decision": "assign", "lead": "D09", "due": "2026-12-31", "by": "王芳"}"#,
                expected: "422 suggestion_refused"),
            Step(
                uri: "/v1/suggestions/east/2/triage", token: admin,
                body: #"{"decision": "assign", "lead": "D01", "co": ["D02"], "due": "31/12", "by": "王芳"}"#,
                expected: "422 suggestion_refused"),
            Step(
                uri: "/v1/suggestions/east/2/triage", token: admin,
                body: #"{"decision": "assign", "lead": "D01", "co": ["D02"], "due": "2026-12-31", "by": "王芳"}"#,
                expected: "200"),
            Step(
                uri: "/v1/suggestions/east/2/triage", token: admin,
                body: #"{"decision": "forward", "by": "王芳"}"#, expected: "422 suggestion_refused"),
            Step(
                uri: "/v1/suggestions/east/3/triage", token: admin,
                body: #"{"decision": "forward", "departments": ["D02"], "by": "王芳"}"#, expected: "200"),
            Step(
                uri: "/v1/suggestions/east/4/triage", token: admin,
                body: #"{"decision": "duplicate", "of": "east/9", "by": "王芳"}"#, expected: "404 not_found"),
            Step(
                uri: "/v1/suggestions/east/4/triage", token: admin,
                body: #"{"decision": "duplicate", "of": "east/2", "by": "王芳"}"#, expected: "200"),
            Step(
                uri: "/v1/suggestions/east/1/triage", token: admin, body: #"{"decision": "forward", "by": "王芳"}"#,
                expected: "404 not_found"),
            // Departments: D01 leads, D02 co-handles, D03 sees nothing.
            Step(method: .get, uri: "/v1/department/suggestions/east/2", token: d03, expected: "403 forbidden"),
            Step(method: .get, uri: "/v1/department/suggestions/east/3", token: d01, expected: "403 forbidden"),
            Step(method: .get, uri: "/v1/department/suggestions/east/3", token: d02, expected: "200"),
            Step(
                uri: "/v1/department/suggestions/east/2/answer", token: d02,
                body: #"{"text": "已研究", "by": "李强"}"#, expected: "422 suggestion_refused"),
            Step(
                uri: "/v1/department/suggestions/east/3/answer", token: d01,
                body: #"{"text": "已研究", "by": "李强"}"#, expected: "403 forbidden"),
            Step(
                uri: "/v1/department/suggestions/east/2/answer", token: d01,
                body: #"{"text": "将优化信号配时，联系电话04778581234", "by": "李强"}"#, expected: "200"),
            Step(
                uri: "/v1/department/suggestions/east/2/answer", token: d01,
                body: #"{"text": "again", "by": "李强"}"#, expected: "422 suggestion_refused"),
            // The officer sends it back, the department answers again, the officer accepts.
            Step(
                uri: "/v1/suggestions/east/2/review", token: admin, body: #"{"accept": false, "by": "王芳"}"#,
                expected: "422 suggestion_refused"),
            Step(
                uri: "/v1/suggestions/east/2/review", token: admin,
                body: #"{"accept": false, "note": "请写明完成时间", "by": "王芳"}"#, expected: "200"),
            Step(
                uri: "/v1/department/suggestions/east/2/answer", token: d01,
                body: #"{"text": "12月底前完成信号配时优化", "by": "李强"}"#, expected: "200"),
            Step(
                uri: "/v1/suggestions/east/2/feedback", token: admin, body: #"{"text": "满意", "by": "王芳"}"#,
                expected: "422 suggestion_refused"),
            Step(
                uri: "/v1/suggestions/east/2/review", token: admin, body: #"{"accept": true, "by": "王芳"}"#,
                expected: "200"),
            Step(
                uri: "/v1/department/suggestions/east/2/answer", token: d01,
                body: #"{"text": "late", "by": "李强"}"#, expected: "422 suggestion_refused"),
            Step(
                uri: "/v1/suggestions/east/2/feedback", token: admin, body: #"{"text": "满意", "by": "王芳"}"#,
                expected: "200"),
            Step(
                uri: "/v1/suggestions/east/2/outstanding", token: admin, body: #"{"outstanding": true, "by": "王芳"}"#,
                expected: "200"),
            Step(
                uri: "/v1/suggestions/east/4/outstanding", token: admin, body: #"{"outstanding": true, "by": "王芳"}"#,
                expected: "422 suggestion_refused"),
            Step(uri: "/v1/suggestions/east/2/review", token: admin, body: "{", expected: "400 invalid_body"),
        ]
        let eventsBefore = try await database.writerForTests.read { db in
            try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM suggestionEvent")
        }
        #expect(eventsBefore == 0)
        let (answers, departmentView): ([String], [SuggestionItem]) = try await app.test(.router) { client in
            var answers: [String] = []
            for step in steps {
                answers.append(
                    try await client.execute(
                        uri: step.uri, method: step.method, headers: [.authorization: "Bearer \(step.token)"],
                        body: step.body.map { ByteBuffer(string: $0) }
                    ) { response in
                        let body = try? JSONDecoder().decode(APIErrorBody.self, from: Data(buffer: response.body))
                        return "\(response.status.code)" + (body.map { " \($0.error.code.rawValue)" } ?? "")
                    })
            }
            let view = try await client.execute(
                uri: "/v1/department/suggestions", method: .get, headers: [.authorization: "Bearer \(d02)"]
            ) { try JSONDecoder().decode([SuggestionItem].self, from: Data(buffer: $0.body)) }
            return (answers, view)
        }
        for (step, answer) in zip(steps, answers) {
            #expect(answer == step.expected, "\(step.method) \(step.uri) \(step.body ?? "")")
        }
        // D02 co-handles east/2 and was passed east/3 for reading: it sees those two, with the contact the citizen
        // consented to give.
        #expect(departmentView.map(\.id) == ["east/2", "east/3"])
        #expect(departmentView.first?.contact == "王先生 13812345678")
        #expect(departmentView.first?.text == "东河路口早高峰拥堵，电话138******78")

        let items = try database.suggestions()
        #expect(items.map(\.status) == [.closed, .forwarded, .duplicate])
        let handled = items[0]
        #expect(handled.lead == "D01" && handled.coHandlers == ["D02"] && handled.due == "2026-12-31")
        #expect(handled.answer == "12月底前完成信号配时优化" && handled.feedback == "满意" && handled.outstanding)
        #expect(
            handled.events.map { "\($0.action) \($0.actor)" } == [
                "triage 王芳", "answer 李强", "return 王芳", "answer 李强", "accept 王芳", "feedback 王芳",
                "outstanding 王芳",
            ])
        // Numbers in an answer are masked like a suggestion's.
        #expect(handled.events[1].detail["answer"] == "将优化信号配时，联系电话047******34")
        #expect(items[2].duplicateOf == "east/2")
        // Refused steps wrote nothing: exactly the accepted ones are events.
        let events = try await database.writerForTests.read { db in
            try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM suggestionEvent")
        }
        #expect(events == 9)
        // Nothing is edited in place.
        await #expect(throws: DatabaseError.self) {
            try await database.writerForTests.write { db in
                try db.execute(sql: "UPDATE suggestionEvent SET actor = 'x'")
            }
        }
        // Overdue: assigned and past its due date.
        #expect(!handled.isOverdue(today: "2027-01-05"))
        var open = handled
        open.status = .assigned
        #expect(open.isOverdue(today: "2027-01-05") && !open.isOverdue(today: "2026-12-31"))
    }
}
