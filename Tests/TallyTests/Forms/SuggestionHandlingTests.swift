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
            // A department cannot tell a missing item from another's.
            Step(method: .get, uri: "/v1/department/suggestions/east/99", token: d01, expected: "403 forbidden"),
            Step(
                uri: "/v1/department/suggestions/east/99/answer", token: d01, body: #"{"text": "x", "by": "李强"}"#,
                expected: "403 forbidden"),
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
            // Answered: it is not triaged again.
            Step(
                uri: "/v1/suggestions/east/2/triage", token: admin,
                body: #"{"decision": "forward", "by": "王芳"}"#, expected: "422 suggestion_refused"),
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
        // D02 co-handles east/2 and was passed east/3 for reading: it sees those two, and not the citizen's contact,
        // which only the lead department, which answers, is given.
        #expect(departmentView.map(\.id) == ["east/2", "east/3"])
        #expect(departmentView.first?.contact == nil)
        #expect(try database.suggestions(department: "D01").first?.contact == "王先生 13812345678")
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

    /// The 办理情况报告 counts what the items are, checked here item by item: on time, late, overdue, pending, by venue,
    /// lead department and topic; the CSV has one row per item and the page never a contact.
    /// On both stores (issue #20): the handling is the office's acts, written once.
    @Test(arguments: StoreEngine.allCases) func theHandlingReportCountsEveryItemOnce(_ engine: StoreEngine) async throws
    {
        let (east, west) = (TestSigner(), TestSigner())
        let bed = try StoreBed(
            engine,
            eventJSON: FormRecordTests.eventJSON.replacingOccurrences(
                of: #"{"id": "east", "name": "东区分会场", "kind": "branch"}"#,
                with:
                    #"{"id": "east", "name": "东区分会场", "kind": "branch"}, {"id": "west", "name": "西区分会场", "kind": "branch"}"#
            ),
            enrolling: ["east": east, "west": west])
        let (database, intake) = (bed.store, bed.intake)
        func send(_ signer: TestSigner, venue: String, count: Int) async throws {
            let records = Fixtures.chain(
                [.boxClosed(.init(session: "S1", box: "E1", issued: 0, returned: 0, forms: ["suggestion": count]))]
                    + (1...count).map { index in
                        .form(
                            .suggestion(
                                session: "S1", box: "E1", text: "\(venue) 建议 \(index)",
                                topic: index % 2 == 0 ? "traffic" : nil, contact: index == 1 ? "王先生 电话" : nil))
                    })
            _ = try await signer.send(records, venue: venue, to: intake)
        }
        try await send(east, venue: "east", count: 5)
        try await send(west, venue: "west", count: 2)
        let event = try #require(try database.installedEvent()).definition
        let officer = "王芳"
        // east/2: answered on time and closed; east/3: answered late; east/4: overdue; east/5: pending;
        // east/6: forwarded; west/2: duplicate of east/2; west/3: not triaged.
        try database.triageSuggestion(
            "east/2", .assign(lead: "D01", coHandlers: [], due: "2099-12-31"), by: officer, event: event)
        try database.triageSuggestion(
            "east/3", .assign(lead: "D02", coHandlers: ["D01"], due: "2000-01-01"), by: officer, event: event)
        try database.triageSuggestion(
            "east/4", .assign(lead: "D01", coHandlers: [], due: "2000-01-01"), by: officer, event: event)
        try database.triageSuggestion(
            "east/5", .assign(lead: "D02", coHandlers: [], due: "2099-12-31"), by: officer, event: event)
        try database.triageSuggestion("east/6", .forward(departments: ["D03"]), by: officer, event: event)
        try database.triageSuggestion("west/2", .duplicate(of: "east/2"), by: officer, event: event)
        try database.answerSuggestion("east/2", department: "D01", answer: "已办", by: "李强")
        try database.reviewSuggestion("east/2", accept: true, note: nil, by: officer)
        try database.answerSuggestion("east/3", department: "D02", answer: "已办（逾期）", by: "赵六")
        try database.markSuggestionOutstanding("east/2", true, by: officer)

        let items = try database.suggestions()
        let report = SuggestionReport(items: items, event: event)
        let timings = items.map { "\($0.id) \(SuggestionReport.timing($0, today: report.today).rawValue)" }
        #expect(
            timings == [
                "east/2 on_time", "east/3 late", "east/4 overdue", "east/5 pending", "east/6 none", "west/2 none",
                "west/3 none",
            ])
        var overall = SuggestionReport.Counts()
        (overall.total, overall.new, overall.forwarded, overall.assigned) = (7, 1, 1, 4)
        (overall.answered, overall.closed, overall.duplicate, overall.inadmissible) = (1, 1, 1, 0)
        (overall.onTime, overall.late, overall.overdue, overall.outstanding) = (1, 1, 1, 1)
        #expect(report.overall == overall)
        #expect(report.byVenue.map { "\($0.venue) \($0.counts.total)" } == ["east 5", "west 2"])
        #expect(
            report.byDepartment.map {
                "\($0.department) \($0.counts.total) \($0.counts.onTime) \($0.counts.late) \($0.counts.overdue)"
            }
                == ["D01 2 1 0 1", "D02 2 0 1 0"])
        #expect(report.byTopic.map { "\($0.topic) \($0.counts.total)" } == [" 4", "traffic 3"])
        // The sums agree with the items whatever the grouping.
        #expect(report.byVenue.map(\.counts.total).reduce(0, +) == items.count)
        #expect(report.byTopic.map(\.counts.total).reduce(0, +) == items.count)

        let csv = report.csv()
        let lines = csv.dropFirst().split(separator: "\r\n")
        #expect(lines.count == 1 + items.count)
        #expect(lines.first?.hasPrefix("id,venue,session,box,topic,departments,text,type,status,lead") == true)
        #expect(!csv.contains("王先生"))
        let page = report.html(event: event, language: .zh)
        #expect(page.contains("会场征集意见建议办理情况报告") && page.contains("east/2 ★优秀") && !page.contains("王先生"))
        #expect(report.html(event: event, language: .en).contains("Each suggestion and its answer"))
    }

    /// What a venue or an officer may get wrong leaves the handling whole: a suggestion corrected at its venue after
    /// triage keeps its handling, a voided one stays listed with it; a suggestion is not corrected into a survey; a
    /// duplicate names the suggestion handled; ids and dates are read strictly; an assignment not yet answered can be
    /// made again.
    @Test func correctionsAndMistakesKeepTheHandling() async throws {
        let east = TestSigner()
        let (database, intake) = try Fixtures.aggregator(
            eventJSON: FormRecordTests.eventJSON, enrolling: ["east": east])
        let event = intake.event
        var ledger = Ledger()
        var records: [ChainedRecord] = []
        func enter(_ payload: RecordPayload) async throws -> RecordRejection? {
            do { try ledger.admit(payload, event: event) } catch { return error }
            let record = ChainedRecord(
                seq: ledger.headSeq, prev: records.last?.hash ?? RecordChain.genesis, payload: payload.canonicalJSON())
            records.append(record)
            _ = try await east.send([record], venue: "east", to: intake)
            return nil
        }
        func suggestion(_ text: String) -> RecordPayload {
            .form(.suggestion(session: "S1", box: "E1", text: text, departments: ["D01"]))
        }
        #expect(
            try await enter(
                .boxClosed(
                    .init(session: "S1", box: "E1", issued: 0, returned: 0, forms: ["suggestion": 3, "survey": 1])))
                == nil)
        for text in ["路灯不亮", "公交太少", "公交班次少"] { #expect(try await enter(suggestion(text)) == nil) }
        try database.triageSuggestion(
            "east/2", .assign(lead: "D01", coHandlers: [], due: "2099-12-31"), by: "王芳", event: event)
        try database.answerSuggestion("east/2", department: "D01", answer: "已安排维修", by: "李强")

        // Corrected at the venue after triage: the item keeps its name, handling and answer, with the new text.
        #expect(
            try await enter(
                .correction(.init(target: 2, reason: "错字", operator: "王芳", replacement: suggestion("东街路灯不亮"))))
                == nil)
        var item = try database.suggestion("east/2")
        #expect(item.text == "东街路灯不亮" && item.record == 5 && item.status == .answered && item.events.count == 2)
        // Not into a survey.
        let survey = RecordPayload.form(.init(session: "S1", box: "E1", form: .survey, answers: ["safety": "good"]))
        #expect(
            try await enter(.correction(.init(target: 5, reason: "x", operator: "王芳", replacement: survey)))?.rule
                == .badCorrection)

        // Duplicates name the suggestion handled; ids are read strictly; dates are calendar days.
        try database.triageSuggestion("east/4", .duplicate(of: "east/3"), by: "王芳", event: event)
        #expect(throws: AggregatorError.self) {
            try database.triageSuggestion("east/3", .duplicate(of: "east/4"), by: "王芳", event: event)
        }
        #expect(throws: AggregatorError.self) {
            try database.triageSuggestion("east/3", .duplicate(of: "east/03"), by: "王芳", event: event)
        }
        #expect(throws: AggregatorError.self) {
            try database.triageSuggestion(
                "east/3", .assign(lead: "D01", coHandlers: [], due: "2026-02-31"), by: "王芳", event: event)
        }
        // Assigned to the wrong department and not answered: assigned again.
        try database.triageSuggestion(
            "east/3", .assign(lead: "D02", coHandlers: [], due: "2099-12-31"), by: "王芳", event: event)
        try database.triageSuggestion(
            "east/3", .assign(lead: "D03", coHandlers: [], due: "2099-12-31"), by: "王芳", event: event)
        #expect(try database.suggestion("east/3").lead == "D03")
        // Answered: not triaged again.
        #expect(throws: AggregatorError.self) {
            try database.triageSuggestion("east/2", .forward(departments: []), by: "王芳", event: event)
        }

        // Voided at the venue after its handling began: still listed, with its handling, and nothing more is done.
        #expect(try await enter(.correction(.init(target: 3, reason: "重复录入", operator: "王芳", replacement: nil))) == nil)
        item = try database.suggestion("east/3")
        #expect(item.voidedBy == 6 && item.lead == "D03")
        #expect(throws: AggregatorError.self) {
            try database.answerSuggestion("east/3", department: "D03", answer: "x", by: "李强")
        }
        #expect(try database.suggestions().map(\.id) == ["east/2", "east/3", "east/4"])
    }

    @Test func numbersWrittenWithSpacesOrDotsAreMaskedAndYearsAreNot() {
        #expect(PersonalNumbers.masked("电话138　1234　5678") == "电话138　****　**78")
        #expect(PersonalNumbers.masked("138.1234.5678") == "138.****.**78")
        #expect(PersonalNumbers.masked("138  1234  5678") == "138  ****  **78")
        #expect(PersonalNumbers.masked("2023-2024年度") == "2023-2024年度")
        #expect(PersonalNumbers.idNumberAppears(in: "150602 19800101 1234"))
        #expect(!PersonalNumbers.idNumberAppears(in: "138 1234 5678"))
    }

    /// An ID-card or telephone number a citizen writes into a suggestion, or a department into its answer, is in no
    /// byte the aggregator stores: its database file and WAL hold the masked text only.
    @Test func noNumberThatIdentifiesAPersonReachesTheStoredFiles() async throws {
        let directory = try Fixtures.temporaryDirectory("suggestion-leak")
        defer { try? FileManager.default.removeItem(at: directory) }
        let east = TestSigner()
        let (database, intake) = try Fixtures.aggregator(
            eventJSON: FormRecordTests.eventJSON, path: directory.appending(path: "aggregator.sqlite").path,
            enrolling: ["east": east])
        let idNumber = IDNumbers.make(7)
        let records = Fixtures.chain([
            .boxClosed(.init(session: "S1", box: "E1", issued: 0, returned: 0, forms: ["suggestion": 1])),
            .form(
                .suggestion(
                    session: "S1", box: "E1", text: "我的身份证\(idNumber)，电话 139 8765 4321，请联系",
                    departments: ["D01"])),
        ])
        _ = try await east.send(records, venue: "east", to: intake)
        try database.triageSuggestion(
            "east/2", .assign(lead: "D01", coHandlers: [], due: "2099-12-31"), by: "王芳", event: intake.event)
        try database.answerSuggestion("east/2", department: "D01", answer: "已联系\(idNumber)本人", by: "李强")
        let stored = try FileManager.default.contentsOfDirectory(at: directory, includingPropertiesForKeys: nil)
            .map { try Data(contentsOf: $0) }.reduce(Data(), +)
        #expect(stored.count > 10_000)
        for number in [idNumber, "13987654321", "139 8765 4321", String(idNumber.dropFirst(3).prefix(12))] {
            #expect(stored.range(of: Data(number.utf8)) == nil, "\(number) is stored")
        }
        #expect(
            try database.suggestion("east/2").text == "我的身份证150*************\(idNumber.suffix(2))，电话 139 **** **21，请联系")
    }
}
