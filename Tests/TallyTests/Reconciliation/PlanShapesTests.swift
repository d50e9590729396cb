import Foundation
import GRDB
import Shared
import Testing

@testable import VenueNode

/// Plans as cities write them (issue #18): reserves who take absentees' places, a quota stated for the district
/// venues together, half-day sessions. Exact attendance figures and no spurious findings.
@Suite struct PlanShapesTests {
    /// Main has its own quota (4 cadres, 6 residents, reserves 2 residents); the districts east and west share 10
    /// residents jointly (east's share, 6, is stated; west has none), with 10 % reserves; two half-day sessions.
    static let eventJSON = #"""
        {
          "format": 1, "id": "plan-2026", "title": "计划形态",
          "marks": [{"id": "s", "label_zh": "满意", "label_en": "Satisfied", "weight": 1}],
          "groups": [],
          "departments": [{"id": "D1", "name": "市发改委"}],
          "sessions": [
            {"id": "PM", "name": "下午", "date": "2026-12-01", "start": "14:00", "end": "17:00", "ballot": "all"},
            {"id": "AM", "name": "上午", "date": "2026-12-01", "start": "09:00", "end": "12:00", "ballot": "all"}
          ],
          "venues": [
            {"id": "main", "name": "主会场", "kind": "main"},
            {"id": "east", "name": "东区", "kind": "branch"},
            {"id": "west", "name": "西区", "kind": "branch"}
          ],
          "categories": [{"id": "cadre", "name": "干部"}, {"id": "resident", "name": "居民"}],
          "reserves": {"percent": 10},
          "quotas": [
            {"venue": "main", "sessions": "all", "counts": {"cadre": 4, "resident": 6}, "reserves": {"resident": 2}},
            {"venue": "east", "sessions": "all", "counts": {"resident": 6}}
          ],
          "joint_quotas": [
            {"id": "districts", "name": "区县分会场居民", "venues": ["east", "west"], "sessions": "all",
             "counts": {"resident": 10}}
          ]
        }
        """#

    static func entry(_ rep: String, _ category: String, _ venue: String, reserve: Bool = false) -> RosterEntry {
        RosterEntry(
            repID: rep, name: rep,
            personKey: String(
                (rep.utf8.map { String(format: "%02x", $0) }.joined() + String(repeating: "0", count: 64)).prefix(64)),
            category: category, venue: venue, sessions: ["AM", "PM"], cardCode: nil, reserve: reserve)
    }

    /// Main: 4 cadres, 6 residents and 2 reserve residents; east 6 residents and 1 reserve; west 4 residents.
    static let roster: [RosterEntry] =
        (1...4).map { entry("MC\($0)", "cadre", "main") } + (1...6).map { entry("MR\($0)", "resident", "main") }
        + (1...2).map { entry("MX\($0)", "resident", "main", reserve: true) }
        + (1...6).map { entry("ER\($0)", "resident", "east") } + [entry("EX1", "resident", "east", reserve: true)]
        + (1...4).map { entry("WR\($0)", "resident", "west") }

    static func input(_ event: LoadedEvent, checkedIn: [(venue: String, rep: String)], session: String = "AM")
        -> ReconciliationInput
    {
        let category = Dictionary(uniqueKeysWithValues: roster.map { ($0.repID, $0.category) })
        let checkins = checkedIn.enumerated().map { index, fact in
            CheckinFact(
                venue: fact.venue, seq: Int64(index + 1), session: session, rep: fact.rep,
                category: category[fact.rep]!, person: nil, walkin: false)
        }
        return ReconciliationInput(
            event: event, totals: Totals(event: event.definition.id, tallies: [], attendance: [], boxes: []),
            roster: roster, checkins: checkins, corrections: [], nodes: [], alarms: [], now: Date())
    }

    @Test func reservesFillAbsenteesAndAJointQuotaIsCheckedOverItsVenues() throws {
        let event = try EventDefinition.load(data: Data(Self.eventJSON.utf8))
        #expect(event.warnings.isEmpty)
        // Half-day sessions are listed in the order they take place, with their times.
        #expect(event.definition.sessionsInOrder.map(\.id) == ["AM", "PM"])
        #expect(event.definition.sessionsInOrder.first?.schedule == "2026-12-01 09:00–12:00")

        // Nobody checked in yet: the roster matches every quota (reserves within their allowance), so no finding.
        #expect(Reconciliation.findings(Self.input(event, checkedIn: [])) == [])

        // Main: all 4 cadres, 4 of 6 residents and both reserves in place of the 2 absentees. East: 5 of 6 and its
        // reserve; west: 3 of 4.
        let present: [(venue: String, rep: String)] =
            (1...4).map { ("main", "MC\($0)") } + (1...4).map { ("main", "MR\($0)") }
            + [("main", "MX1"), ("main", "MX2")] + (1...5).map { ("east", "ER\($0)") } + [("east", "EX1")]
            + (1...3).map { ("west", "WR\($0)") }
        let input = Self.input(event, checkedIn: present)
        let attendance = Reconciliation.attendance(input).filter { $0.session == "AM" }
        let main = try #require(attendance.first { $0.venue == "main" })
        #expect(main.quota == 10)
        #expect(main.checkedIn == 10)
        #expect(main.reserves == 2)
        #expect(main.rate == 100)
        let east = try #require(attendance.first { $0.venue == "east" })
        #expect((east.quota, east.checkedIn, east.reserves, east.rate) == (6, 6, 1, 100))
        let west = try #require(attendance.first { $0.venue == "west" })
        #expect((west.quota, west.checkedIn, west.rate) == (0, 3, nil))
        // The joint quota shows at both district venues with every venue's contribution.
        let joint = JointAttendance(
            id: "districts", name: "区县分会场居民", quota: 10, filled: 9, contributions: ["east": 6, "west": 3])
        #expect(east.joint == [joint])
        #expect(west.joint == [joint])
        #expect(main.joint == [])

        // Reserves used, per venue and category.
        #expect(
            Reconciliation.reservesUsed(input) == [
                ReserveRow(venue: "main", session: "AM", category: "resident", attended: 2, elsewhere: 0),
                ReserveRow(venue: "east", session: "AM", category: "resident", attended: 1, elsewhere: 0),
            ])

        // The only findings: the joint quota one short (info), and nothing about reserves or west's missing quota.
        let findings = Reconciliation.findings(input)
        #expect(findings.count == 1)
        let short = try #require(findings.first)
        #expect(short.kind == .attendanceVsQuota)
        #expect(short.severity == .info)
        #expect(short.venue == nil)
        #expect((short.session, short.category, short.expected, short.actual) == ("AM", "resident", 10, 9))
        #expect(short.message == "joint quota districts: 9 checked in against 10 (east 6, west 3)")
    }

    @Test func reservesBeyondTheirAllowanceOnTheRosterAreAWarning() throws {
        let event = try EventDefinition.load(data: Data(Self.eventJSON.utf8))
        // Main lists a third reserve resident: its allowance is 2.
        var input = Self.input(event, checkedIn: [])
        input.roster.append(Self.entry("MX3", "resident", "main", reserve: true))
        let findings = Reconciliation.findings(input)
        #expect(findings.count == 2)  // once per session
        #expect(findings.allSatisfy { $0.kind == .rosterVsQuota && $0.venue == "main" && $0.expected == 2 })
        #expect(findings.first?.message == "the roster lists 3 reserves against an allowance of 2")
    }

    @Test func aReserveFillsAnotherCategoryOnlyWhereThePlanSaysSo() throws {
        let anyCategory = Self.eventJSON.replacingOccurrences(
            of: #""reserves": {"percent": 10}"#, with: #""reserves": {"percent": 10, "any_category": true}"#)
        let event = try EventDefinition.load(data: Data(anyCategory.utf8))
        // Main: 3 of 4 cadres, all 6 residents, and a reserve resident: they fill the absent cadre's place.
        let present: [(venue: String, rep: String)] =
            (1...3).map { ("main", "MC\($0)") } + (1...6).map { ("main", "MR\($0)") } + [("main", "MX1")]
        let input = Self.input(event, checkedIn: present)
        #expect(Reconciliation.findings(input).filter { $0.venue == "main" } == [])
        #expect(
            Reconciliation.reservesUsed(input) == [
                ReserveRow(venue: "main", session: "AM", category: "resident", attended: 1, elsewhere: 1)
            ])
        // Where the plan does not say so, the same attendance is a cadre short and a resident over.
        let strict = try EventDefinition.load(data: Data(Self.eventJSON.utf8))
        let kinds = Reconciliation.findings(Self.input(strict, checkedIn: present)).filter { $0.venue == "main" }
            .map { "\($0.severity.rawValue) \($0.category ?? "") \($0.expected ?? -1) \($0.actual ?? -1)" }
        #expect(kinds == ["warning resident 6 7", "info cadre 4 3"])

        // The desk's count of open places for one more reserve.
        #expect(
            Reconciliation.openPlaces(
                event: event.definition, venue: "main", session: "AM", category: "resident",
                regular: ["cadre": 3, "resident": 6], reserves: ["resident": 1]) == 0)
        #expect(
            Reconciliation.openPlaces(
                event: strict.definition, venue: "main", session: "AM", category: "resident",
                regular: ["cadre": 3, "resident": 5], reserves: [:]) == 1)
        // West has no figure of its own: only the joint quota, which one venue cannot see whole.
        #expect(
            Reconciliation.openPlaces(
                event: strict.definition, venue: "west", session: "AM", category: "resident", regular: [:],
                reserves: [:]) == nil)
    }

    @Test func theDeskAdmitsAReserveOnlyWhileAPlaceIsOpen() throws {
        let event = try EventDefinition.load(data: Data(Self.eventJSON.utf8)).definition
        let database = try NodeDatabase(writer: DatabaseQueue())
        try database.importRoster(Self.roster, file: "roster.csv", digest: "test")
        let desk = CheckinDesk(event: event, venue: "main", roster: Self.roster, keyer: { IDNumbers.keyer })
        func checkin(_ rep: String) throws -> Int64? {
            let payload = try desk.checkin(CheckinRequest(session: "AM", rep: rep))
            return try database.appendCheckin(payload, event: event, desk: desk).first?.seq
        }
        // All 6 residents present: the reserve is refused, and nothing is saved.
        for index in 1...6 { _ = try checkin("MR\(index)") }
        do {
            _ = try checkin("MX1")
            Issue.record("a reserve was admitted with every place filled")
        } catch let refusal as CheckinRefusal {
            #expect(refusal.reason == .noOpenPlace)
            #expect(
                refusal.message
                    == "MX1 is a reserve: every place of category resident is filled (6 of 6); a reserve checks in only "
                    + "in place of an absent representative")
        }
        #expect(try database.attendance()["AM"] == ["resident": 6])
        // A resident's check-in is voided (they left before the ballot): one place opens, for one reserve only.
        let voided = try #require(try database.earlierCheckin(session: "AM", rep: "MR6", person: nil)?.seq)
        try database.append(
            [.correction(.init(target: voided, reason: "left before the ballot", operator: "lead", replacement: nil))],
            event: event)
        #expect(try checkin("MX1") != nil)
        #expect(throws: CheckinRefusal.self) { try checkin("MX2") }
        // A cadre's place is not a resident reserve's under this plan; representatives are never held back.
        #expect(try checkin("MC1") != nil)
        #expect(try database.attendance()["AM"] == ["resident": 6, "cadre": 1])
    }

    @Test func badJointQuotasAndReservesAreRefusedWithTheirPlace() throws {
        let bad = Self.eventJSON
            .replacingOccurrences(of: #""venues": ["east", "west"]"#, with: #""venues": ["east", "north"]"#)
            .replacingOccurrences(of: #""reserves": {"percent": 10}"#, with: #""reserves": {"percent": 150}"#)
            .replacingOccurrences(of: #""reserves": {"resident": 2}"#, with: #""reserves": {"elder": -1}"#)
        do {
            _ = try EventDefinition.load(data: Data(bad.utf8))
            Issue.record("a bad event file loaded")
        } catch let error as EventLoadError {
            let found = error.issues.map { "\($0.code.rawValue) \($0.location)" }
            #expect(
                found == [
                    "negative_count reserves.percent", "unknown_reference quotas[0].reserves.elder",
                    "negative_count quotas[0].reserves.elder", "unknown_reference joint_quotas[0].venues",
                ])
        }
        let overlapping = Self.eventJSON.replacingOccurrences(
            of: #""counts": {"resident": 10}}"#,
            with:
                #""counts": {"resident": 10}}, {"id": "again", "venues": ["west", "main"], "sessions": ["AM"], "counts": {"resident": 1}}"#
        )
        do {
            _ = try EventDefinition.load(data: Data(overlapping.utf8))
            Issue.record("overlapping joint quotas loaded")
        } catch let error as EventLoadError {
            #expect(error.issues.map { "\($0.code.rawValue) \($0.location)" } == ["duplicate_quota joint_quotas[1]"])
        }
    }
}

/// The terminal report's findings (issue #18): errors one by one, warnings and information grouped per venue and
/// kind, every one behind `--all-findings`.
@Suite struct GroupedFindingsTests {
    static func finding(_ kind: Finding.Kind, _ severity: Finding.Severity, _ venue: String?, _ message: String)
        -> Finding
    {
        Finding(kind: kind, severity: severity, venue: venue, session: "S1", message: message)
    }

    @Test func errorsStandAloneAndTheRestIsGroupedByVenueAndKind() {
        let findings =
            [Self.finding(.returnedVsIssued, .error, "east", "19 returned of 20 issued")]
            + [
                Self.finding(.duplicatePerson, .error, "east", "twice A"),
                Self.finding(.duplicatePerson, .error, "east", "twice B"),
            ]
            + (1...30).map {
                Self.finding(.notOnRoster, .warning, "east", "R\($0) checked in but is not on the roster")
            }
            + (1...5).map { Self.finding(.notOnRoster, .warning, "west", "W\($0) checked in but is not on the roster") }
            + [Self.finding(.walkIn, .info, "east", "2 walk-in(s), counted apart from the roster")]
        let groups = ReportText.grouped(findings)
        #expect(groups.map(\.count) == [1, 1, 1, 30, 5, 1])

        let short = ReportText.findings(findings, language: .en, all: false)
        let lines = short.split(separator: "\n")
        #expect(lines.first == "Findings (error 3, warning 35, info 1)")
        #expect(lines.count == 1 + 1 + 6 + 1)  // title, header, six rows, the note
        #expect(short.contains("30 in all, e.g. R1 checked in but is not on the roster"))
        #expect(short.contains("5 in all, e.g. W1 checked in but is not on the roster"))
        #expect(
            lines.last
                == "(35 warnings and information rows are grouped into 2 lines by venue and kind: --all-findings lists each)"
        )

        let all = ReportText.findings(findings, language: .en, all: true)
        #expect(all.split(separator: "\n").count == 1 + 1 + findings.count)
        #expect(all.contains("R30 checked in but is not on the roster"))
        let chinese = ReportText.findings(findings, language: .zh, all: false)
        #expect(chinese.contains("共 30 条，如："))
        #expect(chinese.contains("用 --all-findings 逐条查看"))
    }
}
