import Aggregator
import Foundation
import Shared
import Testing

/// The forms besides the ballot (issue #17): suggestions, opinion surveys and discipline surveys as records of the
/// venue chain, judged alike by node and aggregator, counted exactly, and reconciled against their boxes.
@Suite struct FormRecordTests {
    static let formsJSON = """
        "forms": {
          "survey": {"title": "社情民意调查问卷", "questions": [
            {"id": "safety", "text": "您对本市治安状况的评价", "options": [
              {"id": "good", "label": "好"}, {"id": "fair", "label": "一般"}, {"id": "poor", "label": "差"}]},
            {"id": "service", "text": "您对该部门服务的评价", "per_department": true, "options": [
              {"id": "satisfied", "label": "满意", "score": 100}, {"id": "fair", "label": "一般", "score": 60},
              {"id": "unknown", "label": "不了解"}]}
          ]},
          "discipline": {"questions": [
            {"id": "hint", "text": "是否有人暗示您如何评议", "text_en": "Did anyone hint how to rate",
             "options": [{"id": "yes", "label": "有", "label_en": "yes"}, {"id": "no", "label": "没有", "label_en": "no"}],
             "breach": ["yes"]}
          ]},
          "suggestion": {"topics": [{"id": "traffic", "label": "交通"}]},
          "weights": {"evaluation": 80, "survey": 20}
        },
        """

    /// The small event with the forms section.
    static var eventJSON: String {
        Fixtures.smallEventJSON.replacingOccurrences(of: #""quotas": ["#, with: formsJSON + #""quotas": ["#)
    }

    @Test func theFormsSectionIsReadAndItsMistakesNamed() throws {
        let loaded = try EventDefinition.load(data: Data(Self.eventJSON.utf8))
        let event = loaded.definition
        #expect(event.forms?.survey?.questions.map(\.id) == ["safety", "service"])
        // Session S1's ballot lists D01 and D02: the question per department is answered once for each.
        #expect(event.answerKeys(.survey, session: "S1").map(\.key) == ["safety", "service:D01", "service:D02"])
        #expect(event.answerKeys(.discipline, session: "S1").map(\.key) == ["hint"])

        let broken = Self.eventJSON.replacingOccurrences(of: #""breach": ["yes"]"#, with: #""breach": ["maybe"]"#)
        #expect(throws: (any Error).self) { try EventDefinition.load(data: Data(broken.utf8)) }
        let issues = try JSONDecoder().decode(EventDefinition.self, from: Data(broken.utf8)).validate()
        #expect(issues.map(\.location) == ["forms.discipline.questions[0].breach"])
    }

    @Test func numbersThatIdentifyAPersonAreMasked() {
        #expect(PersonalNumbers.masked("请联系13812345678") == "请联系138******78")
        #expect(PersonalNumbers.masked("身份证150602198001011234") == "身份证150*************34")
        #expect(PersonalNumbers.masked("证号15060219800101123X。") == "证号150*************3X。")
        #expect(PersonalNumbers.masked("电话 0477-8581234") == "电话 047*-*****34")
        #expect(PersonalNumbers.masked("2021年第3期，共120人") == "2021年第3期，共120人")
        #expect(!PersonalNumbers.appear(in: PersonalNumbers.masked("138 1234 5678 和 13912345678")))
    }

    @Test func formsAreJudgedCountedAndReconciled() async throws {
        let east = TestSigner()
        let (database, intake) = try Fixtures.aggregator(eventJSON: Self.eventJSON, enrolling: ["east": east])
        let event = intake.event
        func survey(_ answers: [String: String], box: String = "E1") -> RecordPayload {
            .form(.init(session: "S1", box: box, form: .survey, answers: answers))
        }
        var ledger = Ledger()
        var records: [ChainedRecord] = []
        /// Judges a record as the node does and, when it is taken, sends it; returns the node's refusal.
        func enter(_ payload: RecordPayload) async throws -> RecordRejection? {
            do {
                try ledger.admit(payload, event: event)
            } catch {
                return error
            }
            let record = ChainedRecord(
                seq: ledger.headSeq, prev: records.last?.hash ?? RecordChain.genesis, payload: payload.canonicalJSON())
            records.append(record)
            _ = try await east.send([record], venue: "east", to: intake)
            return nil
        }

        // Not closed yet: no form may be entered.
        #expect(try await enter(survey(["safety": "good"]))?.rule == .formBoxNotClosed)
        #expect(
            try await enter(
                .boxClosed(
                    .init(session: "S1", box: "E1", issued: 0, returned: 0, forms: ["survey": 3, "suggestion": 2])))
                == nil)
        #expect(try await enter(survey(["safety": "good", "service:D01": "satisfied", "service:D02": "fair"])) == nil)
        #expect(try await enter(survey(["safety": "fair", "service:D01": "unknown"])) == nil)
        #expect(try await enter(survey(["safety": "good"])) == nil)
        // The box returned 3 surveys: a fourth is refused.
        #expect(try await enter(survey(["safety": "poor"]))?.rule == .formsOverReturned)
        // Unknown question, unknown answer, a question per department for a department not on the ballot.
        #expect(try await enter(survey(["weather": "good"]))?.message.hasPrefix("unknown question \"weather\"") == true)
        #expect(try await enter(survey(["safety": "great"]))?.message.hasPrefix("unknown answer \"great\"") == true)
        #expect(try await enter(survey(["service:D03": "fair"]))?.message.hasPrefix("unknown question") == true)
        // A suggestion: its numbers masked before the record is written; in clear it is refused.
        let suggestion = RecordPayload.Form.suggestion(
            session: "S1", box: "E1", text: "路口拥堵，请回电13812345678", departments: ["D01"], topic: "traffic",
            contact: "王先生 13812345678")
        #expect(suggestion.text == "路口拥堵，请回电138******78")
        #expect(suggestion.consent == true)
        #expect(try await enter(.form(suggestion)) == nil)
        var clear = suggestion
        clear.text = "请回电13812345678"
        #expect(try await enter(.form(clear))?.rule == .idNumberInClear)
        var noConsent = suggestion
        noConsent.consent = nil
        #expect(try await enter(.form(noConsent))?.message.hasPrefix("a contact is kept only") == true)
        var unknownDepartment = suggestion
        unknownDepartment.departments = ["D09"]
        #expect(try await enter(.form(unknownDepartment))?.message.hasPrefix("unknown department D09") == true)

        // Discipline surveys into the podium box: one answer signals a breach.
        #expect(
            try await enter(
                .boxClosed(.init(session: "S1", box: "P1", issued: 0, returned: 0, forms: ["discipline": 2]))) == nil)
        #expect(
            try await enter(.form(.init(session: "S1", box: "P1", form: .discipline, answers: ["hint": "yes"]))) == nil)
        #expect(
            try await enter(.form(.init(session: "S1", box: "P1", form: .discipline, answers: ["hint": "no"]))) == nil)
        // A closing that would say fewer forms than the box already holds is refused.
        let closingSeq = Int64(1)
        #expect(
            try await enter(
                .correction(
                    .init(
                        target: closingSeq, reason: "recount", operator: "王芳",
                        replacement: .boxClosed(
                            .init(session: "S1", box: "E1", issued: 0, returned: 0, forms: ["survey": 2]))))
            )?.rule == .formsOverReturned)
        // A survey corrected: its answers move from one option to the other.
        #expect(
            try await enter(
                .correction(
                    .init(target: 4, reason: "misread", operator: "王芳", replacement: survey(["safety": "poor"]))))
                == nil)

        let totals = try database.formTotals()
        #expect(
            totals.boxes.map { "\($0.box) \($0.form.rawValue) \($0.entered)/\($0.returned)" } == [
                "E1 suggestion 1/2", "E1 survey 3/3", "P1 discipline 2/2",
            ])
        #expect(
            totals.answers.map { "\($0.form.rawValue) \($0.question)=\($0.option) \($0.count)" } == [
                "discipline hint=no 1", "discipline hint=yes 1",
                "survey safety=fair 1", "survey safety=good 1", "survey safety=poor 1",
                "survey service:D01=satisfied 1", "survey service:D01=unknown 1", "survey service:D02=fair 1",
            ])
        // The node counts the same.
        #expect(FormTotals(venue: "east", counters: ledger.totals) == totals)

        let report = try Report.build(database: database, event: try #require(try database.installedEvent()))
        let forms = report.findings.filter { $0.kind == .formsVsReturned || $0.kind == .disciplineBreach }
        #expect(
            forms.map { "\($0.kind.rawValue) \($0.box ?? "-") \($0.expected ?? -1) \($0.actual ?? -1)" } == [
                "discipline_breach - -1 1", "forms_vs_returned E1 2 1",
            ])
        // The survey's results: per department the average score of the answers about it (不了解 left out); with the
        // event's weights (evaluation 80, survey 20) the combined score ranks the departments.
        let surveys = try #require(report.surveys)
        #expect(
            surveys.departments.map { "\($0.department) \($0.answers) \($0.surveyResult ?? -1)" } == [
                "D01 1 100.0", "D02 1 60.0", "D03 0 -1.0",
            ])
        #expect(surveys.answers.first { $0.question == "safety" && $0.option == "good" }?.places == ["east/S1": 1])
        let combined = SurveyResults(forms: totals, event: event, scores: ["D01": 80, "D02": 50, "D03": 90])
        #expect(
            combined.departments.map { "\($0.department) \($0.combined ?? -1) \($0.rank ?? 0)" } == [
                "D01 84.0 1", "D02 52.0 2", "D03 -1.0 0",
            ])
        #expect(
            report.terminal(event: event, language: .zh).contains("社情民意调查结果")
                && report.html(event: event, language: .en).contains("id=\"survey-departments\""))
        #expect(forms.first?.messageZh == "1 份纪律情况调查表对“是否有人暗示您如何评议”答“有”：须在本会场本场次核查")
    }

    @Test func aFormRecordIsWrittenInCanonicalFormAndReadBackStrictly() throws {
        let payloads: [RecordPayload] = [
            .form(
                .init(
                    session: "S1", box: "E1", form: .survey,
                    answers: ["service:D02": "fair", "safety": "good", "service:D01": "satisfied"])),
            .form(
                .suggestion(
                    session: "S1", box: "E1", text: "“引号”\\和\n换行", departments: ["D02", "D01"], topic: "traffic",
                    contact: "王先生", paper: 3, clerk: "王芳#1")),
            .boxClosed(.init(session: "S1", box: "E1", issued: 0, returned: 0, forms: ["survey": 3, "discipline": 1])),
        ]
        for payload in payloads {
            let json = payload.canonicalJSON()
            #expect(json == payload.foundationCanonicalJSON())
            let read = try RecordPayload.decodeStrict(json: json)
            #expect(read.payload == payload && read.version == 5)
        }
        #expect(
            payloads[0].canonicalJSON()
                == #"{"answers":{"safety":"good","service:D01":"satisfied","service:D02":"fair"},"box":"E1","form":"survey","kind":"form","session":"S1","v":5}"#
        )
        // A form needs version 5: written as version 4 it is refused.
        #expect(throws: RecordPayload.StrictDecodingError.self) {
            try RecordPayload.decodeStrict(json: payloads[0].canonicalJSON(version: 4))
        }
    }
}
