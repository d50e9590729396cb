import Aggregator
import Foundation
import GRDB
import Shared
import Testing

/// A fixture whose truth is known by construction: every kind of finding, with exact figures, as the
/// aggregator computes them from signed batches, heartbeats, alarms and the roster.
@Suite struct ReconciliationTests {
    /// The small event with a third venue, walk-ins allowed, main's quota stating 6 for 5 places, and the forms
    /// besides the ballot (`FormRecordTests`).
    static let eventJSON = FormRecordTests.eventJSON
        .replacingOccurrences(of: #""stated_total": 5"#, with: #""stated_total": 6"#)
        .replacingOccurrences(
            of: #"{"id": "east", "name": "东区分会场", "kind": "branch"}"#,
            with:
                #"{"id": "east", "name": "东区分会场", "kind": "branch"}, {"id": "west", "name": "西区分会场", "kind": "branch"}"#
        )
        .replacingOccurrences(of: #""quotas": ["#, with: #""walk_ins_allowed": true, "quotas": ["#)
        // and a department evaluated outside the sessions whose tally is not entered yet.
        .replacingOccurrences(
            of: #"{"id": "D03", "name": "市公安局", "group": "G2"}"#,
            with:
                #"{"id": "D03", "name": "市公安局", "group": "G2"}, {"id": "D09", "name": "市机关事务局", "evaluated_outside": true}"#
        )

    struct Key: Hashable, CustomStringConvertible {
        var kind: Finding.Kind
        var severity: Finding.Severity
        var venue: String?
        var session: String?
        var box: String?
        var category: String?
        var expected: Int?
        var actual: Int?

        init(
            _ kind: Finding.Kind, _ severity: Finding.Severity, _ venue: String?, session: String? = nil,
            box: String? = nil, category: String? = nil, _ expected: Int?, _ actual: Int?
        ) {
            (self.kind, self.severity, self.venue, self.session, self.box, self.category, self.expected, self.actual) =
                (kind, severity, venue, session, box, category, expected, actual)
        }

        init(_ finding: Finding) {
            self.init(
                finding.kind, finding.severity, finding.venue, session: finding.session, box: finding.box,
                category: finding.category, finding.expected, finding.actual)
        }

        var description: String {
            "\(kind.rawValue)/\(severity.rawValue)/\(venue ?? "-")/\(session ?? "-")/\(box ?? "-")/\(category ?? "-")/\(expected.map(String.init) ?? "-")/\(actual.map(String.init) ?? "-")"
        }
    }

    /// The store of `bed` given what yields every kind of finding (the roster, main's and east's records, their
    /// heartbeats, a forked batch; west's node enrolled and never heard from). Used by the copy tests too.
    static func sendEveryKindOfFinding(to bed: StoreBed, main: TestSigner, east: TestSigner) async throws {
        let (database, intake) = (bed.store, bed.intake)
        let definition = try #require(try database.installedEvent()).definition
        // The roster: main lists 3 residents and 1 expert (its quota: 3 and 2), east 4 residents.
        let roster = try RosterCSV.parse(
            Data(
                ("rep_id,name,id_number,category,venue,sessions\n"
                    + "M1,甲,\(IDNumbers.make(1)),resident,main,all\nM2,乙,\(IDNumbers.make(2)),resident,main,all\n"
                    + "M3,丙,\(IDNumbers.make(3)),resident,main,all\nM4,丁,\(IDNumbers.make(4)),expert,main,all\n"
                    + (1...4).map { "E\($0),戊\($0),\(IDNumbers.make(10 + $0)),resident,east,S1;S2" }.joined(
                        separator: "\n"))
                    .utf8), event: definition, keyer: IDNumbers.keyer, file: "roster.csv")
        try database.importRoster(roster, file: "roster.csv", digest: "test")
        let person = Dictionary(uniqueKeysWithValues: roster.map { ($0.repID, $0.personKey) })

        func send(_ records: [ChainedRecord], by signer: TestSigner, venue: String) async throws {
            _ = try await signer.send(records, venue: venue, to: intake)
        }
        func heartbeat(_ signer: TestSigner, venue: String, seq: Int64, hash: String) throws {
            let body = try JSONEncoder().encode(
                Heartbeat(
                    node: signer.nodeID, venue: venue, headSeq: seq, headHash: hash,
                    pending: 0, freeDiskBytes: nil, version: "test", clock: "x"))
            _ = try intake.receiveHeartbeat(signer.request(body, path: "/v1/heartbeats"))
        }

        // Main: 4 check-ins (one not on the roster), one voided; box B1 closed with 6 issued, 5 returned and 4
        // ballots entered; box B2 opened and never closed (so nothing entered from it); box B3 closed with its ballot.
        let mainRecords = Fixtures.chain([
            .checkin(.init(session: "S1", rep: "M1", category: "resident", person: person["M1"])),
            .checkin(.init(session: "S1", rep: "M2", category: "resident", person: person["M2"])),
            .checkin(.init(session: "S1", rep: "M4", category: "expert", person: person["M4"])),
            .checkin(.init(session: "S1", rep: "M3", category: "resident", person: person["M3"])),
            .checkin(.init(session: "S1", rep: "X9", category: "expert")),
            .correction(
                .init(target: 4, reason: "wrong session", operator: "王芳", replacement: nil, at: "2026-01-05T09:00:00Z")),
            .boxOpened(.init(session: "S1", box: "B1")),
            .boxClosed(.init(session: "S1", box: "B1", issued: 6, returned: 5)),
            Fixtures.validBallot(["D01": "satisfied", "D02": "satisfied"]),
            Fixtures.validBallot(["D01": "dissatisfied", "D02": "basically_satisfied"]),
            Fixtures.validBallot(["D01": "satisfied", "D02": "dissatisfied"]),
            .ballot(.init(session: "S1", box: "B1", status: .blank)),
            .boxOpened(.init(session: "S1", box: "B2")),
            .boxClosed(.init(session: "S1", box: "B3", issued: 1, returned: 1)),
            Fixtures.validBallot(["D01": "satisfied", "D02": "satisfied"], box: "B3"),
            // The podium box returned 2 discipline surveys; one is entered, answering that someone hinted how to rate.
            .boxClosed(.init(session: "S1", box: "P1", issued: 0, returned: 0, forms: ["discipline": 2])),
            .form(.init(session: "S1", box: "P1", form: .discipline, answers: ["hint": "yes"])),
        ])
        try await send(mainRecords, by: main, venue: "main")
        // Main's node declares a head whose hash differs from what the aggregator holds.
        try heartbeat(main, venue: "main", seq: 17, hash: String(repeating: "f", count: 64))

        // East: one check-in, then M1 (main's) as a walk-in; then a forked record 2; its node declares 5 records.
        let eastRecords = Fixtures.chain([
            .checkin(.init(session: "S1", rep: "E1", category: "resident", person: person["E1"])),
            .checkin(.init(session: "S1", rep: "walkin-1", category: "resident", person: person["M1"], walkin: true)),
        ])
        try await send(eastRecords, by: east, venue: "east")
        let fork = Fixtures.chain(
            [.checkin(.init(session: "S1", rep: "E2", category: "resident"))], afterSeq: 1,
            afterHash: eastRecords[0].hash)
        await #expect(throws: APIError.self) { try await send(fork, by: east, venue: "east") }
        try heartbeat(east, venue: "east", seq: 5, hash: String(repeating: "e", count: 64))
        // West's node is enrolled and never heard from.
    }

    /// On both stores (issue #20): the same findings, figures, results and input digest.
    @Test(arguments: StoreEngine.allCases) func everyKindOfFindingWithExactFigures(_ engine: StoreEngine) async throws {
        let (main, east, west) = (TestSigner(), TestSigner(), TestSigner())
        let bed = try StoreBed(
            engine, eventJSON: Self.eventJSON, enrolling: ["main": main, "east": east, "west": west])
        let database = bed.store
        try await Self.sendEveryKindOfFinding(to: bed, main: main, east: east)

        let report = try Report.build(database: database, event: try #require(try database.installedEvent()))
        let found = report.findings.map(Key.init)
        let expected: [Key] = [
            Key(.quotaContradiction, .warning, "main", 6, 5),
            Key(.attendanceVsQuota, .info, "main", session: "S1", category: "resident", 3, 2),
            Key(.rosterVsQuota, .warning, "main", session: "S1", category: "expert", 2, 1),
            Key(.rosterVsQuota, .warning, "main", session: "S2", category: "expert", 2, 1),
            Key(.issuedVsAttendance, .error, "main", session: "S1", 4, 7),
            Key(.returnedVsIssued, .error, "main", session: "S1", box: "B1", 6, 5),
            Key(.enteredVsReturned, .error, "main", session: "S1", box: "B1", 5, 4),
            Key(.boxNotClosed, .warning, "main", session: "S1", box: "B2", nil, 0),
            Key(.duplicatePerson, .error, "main", session: "S1", category: "resident", 1, 2),
            Key(.duplicatePerson, .error, "east", session: "S1", category: "resident", 1, 2),
            Key(.notOnRoster, .warning, "main", session: "S1", category: "expert", nil, nil),
            Key(.attendanceVsQuota, .info, "east", session: "S1", category: "resident", 4, 1),
            Key(.walkIn, .info, "east", session: "S1", nil, 1),
            Key(.nodeDiverged, .error, "main", 17, 17),
            Key(.formsVsReturned, .error, "main", session: "S1", box: "P1", 2, 1),
            Key(.disciplineBreach, .error, "main", session: "S1", nil, 1),
            Key(.nodeBehind, .warning, "east", 5, 2),
            Key(.nodeSilent, .warning, "west", 600, nil),
            Key(.alarm, .error, "east", nil, nil),
            Key(.correction, .info, "main", nil, nil),
            Key(.outsideTally, .warning, nil, nil, nil),
        ]
        #expect(
            Set(found) == Set(expected),
            "missing: \(Set(expected).subtracting(found)); extra: \(Set(found).subtracting(expected))")
        #expect(found.count == expected.count)
        #expect(Set(Finding.Kind.allCases).subtracting(found.map(\.kind)).isEmpty, "every kind appears")

        // Where to look: record numbers.
        #expect(report.findings.first { $0.kind == .nodeBehind }?.seqs == [3, 5])
        #expect(report.findings.first { $0.kind == .correction }?.seqs == [6, 4])
        #expect(
            report.findings.first { $0.kind == .correction }?.message
                == "record 6 by 王芳 at 2026-01-05T09:00:00Z voids record 4: wrong session")
        #expect(report.findings.first { $0.kind == .alarm }?.seqs == [2])
        #expect(Set(report.findings.filter { $0.kind == .duplicatePerson }.compactMap(\.seqs)) == [[1], [2]])

        // Every finding in Chinese (the report's default) as well as in English, with the same figures.
        #expect(
            report.findings.first { $0.kind == .correction }?.messageZh
                == "第 6 条记录由 王芳 于 2026-01-05T09:00:00Z 作废第 4 条记录：wrong session")
        let returned = try #require(report.findings.first { $0.kind == .returnedVsIssued })
        #expect(returned.message == "5 returned of 6 issued (回收与发放测评票数量不一致)")
        #expect(returned.messageZh == "发出 6 张，回收 5 张（回收与发放测评票数量不一致）")
        for finding in report.findings {
            let zh = try #require(finding.messageZh, "\(finding.kind)")
            #expect(zh.unicodeScalars.contains { (0x4E00...0x9FFF).contains($0.value) }, "\(finding.kind): \(zh)")
            for figure in [finding.expected, finding.actual].compactMap({ $0 }) {
                #expect(zh.contains(String(figure)), "\(finding.kind): \(zh) names \(figure)")
            }
        }
        let zhText = ReportText.findings(report.findings, language: .zh)
        let enText = ReportText.findings(report.findings, language: .en)
        #expect(zhText.contains(returned.messageZh!) && !zhText.contains(returned.message))
        #expect(enText.contains(returned.message) && !enText.contains(returned.messageZh!))
        let event = try #require(try database.installedEvent()).definition
        #expect(report.html(event: event, language: .zh).contains("发出 6 张，回收 5 张"))
        #expect(!report.html(event: event, language: .en).contains("发出 6 张，回收 5 张"))
        let csv = report.findingsCSV()
        #expect(
            csv.hasPrefix(
                "\u{FEFF}severity,kind,venue,session,box,category,records,expected,actual,message,message_zh\r\n"))
        #expect(csv.contains("发出 6 张，回收 5 张"))
        let json = try #require(String(data: try JSONEncoder().encode(returned), encoding: .utf8))
        #expect(json.contains("\"message_zh\":\"发出 6 张，回收 5 张"))

        // Attendance (到位率) and results.
        #expect(
            report.attendance.first { $0.venue == "main" && $0.session == "S1" }
                == AttendanceRow(venue: "main", session: "S1", quota: 5, checkedIn: 4, walkIns: 0, rate: 80))
        #expect(
            report.attendance.first { $0.venue == "east" && $0.session == "S1" }
                == AttendanceRow(venue: "east", session: "S1", quota: 4, checkedIn: 2, walkIns: 1, rate: 25))
        let overall = try #require(report.results.first { $0.scope == "overall" })
        // D03 has no ballots yet, D09 no tally entered: both unranked.
        #expect(overall.rows.map(\.department) == ["D01", "D02", "D03", "D09"])
        #expect(overall.rows.map(\.rank) == [1, 2, nil, nil])
        #expect(overall.rows[0].counts == ["satisfied": 3, "dissatisfied": 1])
        #expect(overall.rows[0].satisfactionRate == 75 && overall.rows[0].score == 75)
        #expect(overall.rows[1].satisfactionRate == 75 && overall.rows[1].score == 65)
        #expect(report.inputs.map(\.seq) == [2, 17])
    }

    @Test func theOrdosQuotaContradictionIsInTheReport() throws {
        let (database, _) = try Fixtures.aggregator(
            eventJSON: String(
                contentsOf: Fixtures.example("ordos-2021"),
                encoding: .utf8))
        let report = try Report.build(database: database, event: try #require(try database.installedEvent()))
        let contradictions = report.findings.filter { $0.kind == .quotaContradiction }
        #expect(contradictions.count == 1)
        #expect(contradictions.first?.venue == "dalate")
        #expect(contradictions.first?.expected == 230)
        #expect(contradictions.first?.actual == 220)
        #expect(contradictions.first?.severity == .warning)
    }

    @Test(arguments: [
        ([70.0, 65.0, 65.0, 60.0, nil], [1, 2, 2, 4, nil]),
        ([50.0, 50.0, 50.0], [1, 1, 1]),
        ([33.33333, 33.333331, 90.0], [2, 2, 1]),
    ])
    func ranksShareTiesAndSkip(_ scores: [Double?], _ ranks: [Int?]) {
        let rows = scores.enumerated().map { index, score in
            DepartmentResult(
                department: String(format: "D%02d", index + 1), name: "", counts: [:], valid: 0,
                denominator: 0, satisfactionRate: nil, score: score, rank: nil)
        }
        let ranked = Scoring.rank(rows)
        #expect(rows.map { row in ranked.first { $0.department == row.department }?.rank } == ranks)
    }

    @Test func excludedMarksAndVenueWeightsFollowTheEventFile() throws {
        var event = Fixtures.smallEvent
        event.marks.append(
            .init(
                id: "unknown", labelZh: "不了解", labelEn: "Don't know", weight: 0, positive: false,
                excludedFromDenominator: true))
        let tallies: [Totals.Tally] = [
            .init(venue: "main", session: "S1", department: "D01", mark: "satisfied", count: 3),
            .init(venue: "main", session: "S1", department: "D01", mark: "unknown", count: 5),
            .init(venue: "east", session: "S1", department: "D01", mark: "dissatisfied", count: 1),
        ]
        let pooled = Scoring.results(event: event, tallies: tallies, scope: "overall").rows.first {
            $0.department == "D01"
        }
        #expect(pooled?.valid == 9 && pooled?.denominator == 4)
        #expect(pooled?.satisfactionRate == 75 && pooled?.score == 75)
        event.venues[0].weight = 3
        event.venues[1].weight = 1
        let weighted = Scoring.results(event: event, tallies: tallies, scope: "overall").rows.first {
            $0.department == "D01"
        }
        #expect(weighted?.score == 75)  // (3 × 100 + 1 × 0) / 4
        #expect(weighted?.satisfactionRate == 75)
    }

    @Test func resultsPerCategoryComeFromTheBoxesThatServeOneCategory() async throws {
        let json = Fixtures.smallEventJSON.replacingOccurrences(
            of: #""quotas": ["#,
            with: #"""
                "boxes": [{"id": "BR", "category": "resident"}, {"id": "BE", "category": "expert"}, {"id": "BX"}],
                "quotas": [
                """#)
        let signer = TestSigner()
        let (database, intake) = try Fixtures.aggregator(eventJSON: json, enrolling: ["east": signer])
        let records = Fixtures.chain([
            .boxClosed(.init(session: "S1", box: "BR", issued: 2, returned: 2)),
            .boxClosed(.init(session: "S1", box: "BE", issued: 1, returned: 1)),
            .boxClosed(.init(session: "S1", box: "BX", issued: 1, returned: 1)),
            Fixtures.validBallot(["D01": "satisfied", "D02": "satisfied"], box: "BR"),
            Fixtures.validBallot(["D01": "satisfied", "D02": "dissatisfied"], box: "BR"),
            Fixtures.validBallot(["D01": "dissatisfied", "D02": "dissatisfied"], box: "BE"),
            Fixtures.validBallot(["D01": "basically_satisfied", "D02": "satisfied"], box: "BX"),
            .correction(
                .init(
                    target: 5, reason: "misread", operator: "王芳",
                    replacement: Fixtures.validBallot(["D01": "satisfied", "D02": "satisfied"], box: "BR"))),
        ])
        _ = try await signer.send(records, venue: "east", to: intake)
        let report = try Report.build(database: database, event: try #require(try database.installedEvent()))
        let residents = try #require(report.results.first { $0.scope == "category:resident" })
        #expect(residents.rows.first { $0.department == "D02" }?.counts == ["satisfied": 2])
        #expect(residents.rows.first { $0.department == "D01" }?.counts == ["satisfied": 2])
        let experts = try #require(report.results.first { $0.scope == "category:expert" })
        #expect(experts.rows.first { $0.department == "D01" }?.counts == ["dissatisfied": 1])
        #expect(report.results.first { $0.scope == "overall" }?.rows.first { $0.department == "D01" }?.valid == 4)
    }

    @Test func aBoxForAnUnknownCategoryIsAnEventError() {
        let json = Fixtures.smallEventJSON.replacingOccurrences(
            of: #""quotas": ["#,
            with: #""boxes": [{"id": "B1", "category": "vip"}], "quotas": ["#)
        let error = #expect(throws: EventLoadError.self) { try EventDefinition.load(data: Data(json.utf8)) }
        #expect(error?.issues.map(\.location) == ["boxes[0].category"])
    }
}

@Suite struct BoxCountingTests {
    /// Counting comes after closing: a closed box with nothing entered yet is a warning ("not counted
    /// yet"); a count that differs from what was returned is an error.
    @Test func aClosedBoxNotYetCountedIsAWarningAndAWrongCountAnError() throws {
        let event = try EventDefinition.load(data: Data(Fixtures.smallEventJSON.utf8))
        let boxes = [
            Totals.Box(venue: "main", session: "S1", box: "B1", issued: 3, returned: 3, valid: 0, blank: 0, spoiled: 0),
            Totals.Box(venue: "main", session: "S1", box: "B2", issued: 2, returned: 2, valid: 1, blank: 0, spoiled: 0),
        ]
        let input = ReconciliationInput(
            event: event,
            totals: Totals(
                event: "test-2026", tallies: [], attendance: [],
                boxes: boxes),
            roster: [], checkins: [], corrections: [], nodes: [], alarms: [], now: Date())
        let entered = Reconciliation.findings(input).filter { $0.kind == .enteredVsReturned }
            .map {
                "\($0.box ?? "") \($0.severity) \($0.expected.map(String.init) ?? "-") \($0.actual.map(String.init) ?? "-")"
            }
        #expect(entered.sorted() == ["B1 warning 3 0", "B2 error 2 1"])
    }
}
