import Foundation
import Shared
import Testing

@Suite struct EventDefinitionTests {
    @Test func theOrdosExampleLoadsAndReportsTheDalateQuotaContradiction() throws {
        let loaded = try EventDefinition.load(contentsOf: Fixtures.example("ordos-2021"))
        let event = loaded.definition
        #expect(event.departments.count == 34)
        #expect(event.groups.map { group in event.departments.filter { $0.group == group.id }.count } == [11, 11, 12])
        #expect(event.sessions.count == 3)
        #expect(event.venues.filter { $0.kind == .main }.count == 1)
        #expect(event.venues.filter { $0.kind == .branch }.count == 9)
        #expect(event.sessions.map { event.ballotDepartments(session: $0.id)?.count } == [11, 11, 12])
        // The branch table's 达旗 column adds up to 220 but states 230: reported, not fixed.
        #expect(loaded.warnings.count == 1)
        let warning = try #require(loaded.warnings.first)
        #expect(warning.code == .quotaTotalMismatch)
        #expect(warning.message.contains("\"dalate\""))
        #expect(warning.message.contains("220"))
        #expect(warning.message.contains("230"))
        // Quotas per session over all venues: 100 at the main venue and 1,490 at the branches as printed.
        let perSession = event.venues.map { event.quota(venue: $0.id, session: "S1")?.counts.values.reduce(0, +) ?? 0 }
        #expect(perSession.reduce(0, +) == 1_590)
    }

    @Test func theTumedExampleLoadsWithoutContradiction() throws {
        let loaded = try EventDefinition.load(contentsOf: Fixtures.example("tumed-2021"))
        let event = loaded.definition
        #expect(event.departments.count == 36)
        #expect(event.groups.map { group in event.departments.filter { $0.group == group.id }.count } == [12, 12, 12])
        #expect(event.sessions.count == 3)
        #expect(event.categories.count == 17)
        #expect(event.quota(venue: "tumed", session: "S2")?.counts.values.reduce(0, +) == 200)
        #expect(loaded.warnings.isEmpty)
    }

    @Test func theSmallFixtureLoadsWithoutIssues() throws {
        let loaded = try EventDefinition.load(data: Data(Fixtures.smallEventJSON.utf8))
        #expect(loaded.warnings.isEmpty)
        #expect(loaded.definition.ballotDepartments(session: "S1")?.map(\.id) == ["D01", "D02"])
        #expect(loaded.definition.ballotDepartments(session: "S2")?.map(\.id) == ["D01", "D02", "D03"])
    }

    struct Case: CustomTestStringConvertible, Sendable {
        var name: String
        var find: String
        var replace: String
        var severity: EventIssue.Severity
        var code: EventIssue.Code
        var location: String
        var mentions: [String]

        var testDescription: String { name }
    }

    static let contradictions: [Case] = [
        Case(
            name: "duplicate department id", find: #""id": "D02""#, replace: #""id": "D01""#, severity: .error,
            code: .duplicateID, location: "departments[1].id", mentions: ["D01", "departments[0]"]),
        Case(
            name: "department in an unknown group", find: #""name": "市公安局", "group": "G2""#,
            replace: #""name": "市公安局", "group": "G9""#, severity: .error, code: .unknownReference,
            location: "departments[2].group", mentions: ["D03", "G9"]),
        Case(
            name: "session ballot names an unknown group", find: #""ballot": ["G1"]"#, replace: #""ballot": ["G7"]"#,
            severity: .error, code: .unknownReference, location: "sessions[0].ballot", mentions: ["S1", "G7"]),
        Case(
            name: "quota for an unknown venue", find: #"{"venue": "east""#, replace: #"{"venue": "west""#,
            severity: .error, code: .unknownReference, location: "quotas[1].venue", mentions: ["west"]),
        Case(
            name: "quota for an unknown session", find: #""sessions": ["S1", "S2"]"#,
            replace: #""sessions": ["S1", "S9"]"#, severity: .error, code: .unknownReference,
            location: "quotas[1].sessions", mentions: ["S9"]),
        Case(
            name: "quota for an unknown category", find: #""resident": 4"#, replace: #""retired": 4"#,
            severity: .error, code: .unknownReference, location: "quotas[1].counts.retired", mentions: ["retired"]),
        Case(
            name: "negative quota", find: #""resident": 4, "expert": 0"#, replace: #""resident": 5, "expert": -1"#,
            severity: .error,
            code: .negativeCount, location: "quotas[1].counts.expert", mentions: ["-1"]),
        Case(
            name: "categories do not add up to the stated total", find: #""stated_total": 5"#,
            replace: #""stated_total": 6"#, severity: .warning, code: .quotaTotalMismatch, location: "quotas[0]",
            mentions: ["add up to 5", "stated total is 6"]),
        Case(
            name: "two quotas for one venue and session", find: #"{"venue": "east""#, replace: #"{"venue": "main""#,
            severity: .error, code: .duplicateQuota, location: "quotas[1]", mentions: ["main", "S1, S2", "quotas[0]"]),
        Case(
            name: "id with a space", find: #""id": "D03""#, replace: #""id": "D 3""#, severity: .error,
            code: .invalidID, location: "departments[2].id", mentions: ["D 3"]),
        Case(
            name: "ballot of a group without departments", find: #""ballot": ["G1"]"#, replace: #""ballot": []"#,
            severity: .error, code: .emptyBallot, location: "sessions[0].ballot", mentions: ["S1"]),
        Case(
            name: "unsupported format", find: #""format": 1"#, replace: #""format": 2"#, severity: .error,
            code: .unsupportedFormat, location: "format", mentions: ["2"]),
        Case(
            name: "a weight on some venues only", find: #""kind": "main"}"#, replace: #""kind": "main", "weight": 2}"#,
            severity: .error, code: .missingSection, location: "venues", mentions: ["1 of 2 venues"]),
        Case(
            name: "missing field", find: #""title": "测试活动","#, replace: "", severity: .error,
            code: .invalidJSON, location: "$", mentions: ["title"]),
        Case(
            name: "a session time that is not a time", find: #""date": "2026-01-06","#,
            replace: #""date": "2026-01-06", "start": "9点","#, severity: .error, code: .invalidTime,
            location: "sessions[1].start", mentions: ["\"S2\"", "9点", "09:00"]),
        Case(
            name: "a session that ends before it starts", find: #""date": "2026-01-06","#,
            replace: #""date": "2026-01-06", "start": "14:00", "end": "12:00","#, severity: .error, code: .invalidTime,
            location: "sessions[1].end", mentions: ["ends at 12:00, not after it starts (14:00)"]),
        Case(
            name: "mark weight is text", find: #""weight": 100"#, replace: #""weight": "high""#, severity: .error,
            code: .invalidJSON, location: "$.marks[0].weight", mentions: ["Double"]),
    ]

    @Test(arguments: contradictions)
    func eachContradictionIsReportedWithItsLocationAndValues(_ testCase: Case) throws {
        #expect(Fixtures.smallEventJSON.contains(testCase.find))
        let json = Fixtures.smallEventJSON.replacingOccurrences(of: testCase.find, with: testCase.replace)
        let issues: [EventIssue]
        do {
            issues = try EventDefinition.load(data: Data(json.utf8)).warnings
            #expect(testCase.severity == .warning, "an error must make loading fail")
        } catch let error as EventLoadError {
            issues = error.issues
        }
        #expect(issues.count == 1, "\(issues)")
        let issue = try #require(issues.first)
        #expect(issue.severity == testCase.severity)
        #expect(issue.code == testCase.code)
        #expect(issue.location == testCase.location)
        for text in testCase.mentions {
            #expect(issue.message.contains(text), "\(issue.message) should mention \(text)")
        }
    }

    @Test func halfDaySessionsAreOrderedByDateAndTimeAndShownWithThem() throws {
        // Three sessions written out of order: the afternoon of the 5th, the morning of the 5th, the 6th.
        let json = Fixtures.smallEventJSON.replacingOccurrences(
            of: """
                  "sessions": [
                    {"id": "S1", "name": "第一场", "date": "2026-01-05", "ballot": ["G1"]},
                    {"id": "S2", "name": "第二场", "date": "2026-01-06", "ballot": "all"}
                  ],
                """,
            with: """
                  "sessions": [
                    {"id": "S1", "name": "下午场", "date": "2026-01-05", "start": "14:30", "end": "17:00", "ballot": ["G1"]},
                    {"id": "S2", "name": "第二天", "date": "2026-01-06", "ballot": "all"},
                    {"id": "S0", "name": "上午场", "date": "2026-01-05", "start": "09:00", "end": "12:00", "ballot": ["G2"]}
                  ],
                """)
        #expect(json != Fixtures.smallEventJSON)
        let loaded = try EventDefinition.load(data: Data(json.utf8))
        #expect(loaded.warnings.isEmpty, "\(loaded.warnings)")
        let event = loaded.definition
        #expect(event.sessionsInOrder.map(\.id) == ["S0", "S1", "S2"])
        #expect(
            event.sessionsInOrder.map(\.schedule) == ["2026-01-05 09:00–12:00", "2026-01-05 14:30–17:00", "2026-01-06"])
        let text = ReportText.sessions(event: event, language: .en)
        let lines = text.split(separator: "\n").map(String.init)
        #expect(lines.first == "Sessions")
        #expect(
            lines.dropFirst(2).map { $0.split(separator: " ").first.map(String.init) } == ["S0", "S1", "S2"], "\(text)")
        #expect(lines.last?.hasSuffix("2026-01-06") == true, "\(text)")
        #expect(ReportText.sessionRows(event: event).first == ["S0", "上午场", "2026-01-05 09:00–12:00"])
        // A file without times loads as before.
        let plain = try EventDefinition.load(data: Data(Fixtures.smallEventJSON.utf8))
        #expect(plain.definition.sessions.allSatisfy { $0.start == nil && $0.end == nil })
        #expect(plain.definition.sessionsInOrder.map(\.schedule) == ["2026-01-05", "2026-01-06"])
    }

    @Test func everyIssueOfAFileIsReportedAtOnce() throws {
        let json = Fixtures.smallEventJSON
            .replacingOccurrences(of: #""id": "D02""#, with: #""id": "D01""#)
            .replacingOccurrences(of: #"{"venue": "east""#, with: #"{"venue": "west""#)
            .replacingOccurrences(of: #""stated_total": 5"#, with: #""stated_total": 9"#)
        let error = try #require(throws: EventLoadError.self) { try EventDefinition.load(data: Data(json.utf8)) }
        #expect(error.issues.map(\.code) == [.duplicateID, .quotaTotalMismatch, .unknownReference])
    }
}
