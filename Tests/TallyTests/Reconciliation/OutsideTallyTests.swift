import Aggregator
import Crypto
import Foundation
import GRDB
import Shared
import Testing

/// Departments evaluated outside the public sessions (issue #18): on no ballot, their tallies entered at the central
/// office, attributed and signed, and ranked with every other department.
@Suite struct OutsideTallyTests {
    /// The small event with D09, evaluated internally by city organs (in group G2, so it would be on S2's ballot).
    static let eventJSON = Fixtures.smallEventJSON.replacingOccurrences(
        of: #"{"id": "D03", "name": "市公安局", "group": "G2"}"#,
        with:
            #"{"id": "D03", "name": "市公安局", "group": "G2"}, {"id": "D09", "name": "市机关事务局", "group": "G2", "evaluated_outside": true}"#
    )

    /// On both stores (issue #20).
    @Test(arguments: StoreEngine.allCases)
    func anOutsideDepartmentIsEnteredSignedAndRankedWithTheOthers(_ engine: StoreEngine) async throws {
        let east = TestSigner()
        let bed = try StoreBed(engine, eventJSON: Self.eventJSON, enrolling: ["east": east])
        let (database, intake) = (bed.store, bed.intake)
        let event = try EventDefinition.load(data: Data(Self.eventJSON.utf8))
        let key = Curve25519.Signing.PrivateKey()

        // It is on no session's ballot: a ballot of S2 marks D01–D03 only.
        #expect(event.definition.ballotDepartments(session: "S2")?.map(\.id) == ["D01", "D02", "D03"])
        _ = try await east.send(
            Fixtures.chain([
                .boxClosed(.init(session: "S2", box: "B1", issued: 2, returned: 2)),
                .ballot(
                    .init(
                        session: "S2", box: "B1", status: .valid,
                        marks: ["D01": "satisfied", "D02": "dissatisfied", "D03": "basically_satisfied"])),
                .ballot(
                    .init(
                        session: "S2", box: "B1", status: .valid,
                        marks: ["D01": "satisfied", "D02": "dissatisfied", "D03": "satisfied"])),
            ]), venue: "east", to: intake)

        // Before its tally is entered it is unranked, and the report says why.
        var report = try Report.build(database: database, event: event)
        #expect(report.results[0].rows.first { $0.department == "D09" }?.rank == nil)
        #expect(
            report.findings.contains {
                $0.kind == .outsideTally && $0.severity == .warning && $0.message.hasPrefix("department D09")
            })

        // Refusals, each with its code; nothing is saved.
        func refusal(
            _ department: String, _ counts: [String: Int], source: String = "机关工委汇总表", by: String = "王芳",
            reason: String? = nil
        ) -> String? {
            do {
                _ = try database.enterOutsideTally(
                    event: event.definition, department: department, counts: counts, source: source, by: by,
                    reason: reason, key: key)
                return nil
            } catch let error as OutsideTallyRefusal {
                return error.code.rawValue
            } catch {
                return "\(error)"
            }
        }
        #expect(refusal("D77", ["satisfied": 1]) == "unknown_department")
        #expect(refusal("D01", ["satisfied": 1]) == "evaluated_in_sessions")
        #expect(refusal("D09", ["pleased": 1]) == "unknown_mark")
        #expect(refusal("D09", ["satisfied": -3]) == "bad_count")
        #expect(refusal("D09", ["satisfied": 0]) == "no_ballots")
        #expect(refusal("D09", ["satisfied": 1], source: " ") == "missing_field")
        #expect(refusal("D09", ["satisfied": 1], by: "") == "missing_field")
        #expect(try database.outsideTallies().isEmpty)

        // Entered: 7 satisfied, 3 dissatisfied → score 70, rate 70 %, ranked among the others.
        let entry = try database.enterOutsideTally(
            event: event.definition, department: "D09", counts: ["satisfied": 7, "dissatisfied": 3],
            source: "机关工委汇总表", by: "王芳", reason: nil, key: key)
        #expect(entry.verified)
        report = try Report.build(database: database, event: event)
        let overall = report.results[0]
        #expect(overall.rows.map(\.department) == ["D01", "D03", "D09", "D02"])
        #expect(overall.rows.map(\.rank) == [1, 2, 3, 4])
        let d09 = try #require(overall.rows.first { $0.department == "D09" })
        #expect((d09.valid, d09.score, d09.satisfactionRate) == (10, 70, 70))
        // Counted in the overall ranking only: no venue's results hold it.
        #expect(
            report.results.first { $0.scope == "venue:east" }?.rows.first { $0.department == "D09" }?.valid == 0)
        #expect(!report.findings.contains { $0.kind == .outsideTally })

        // A second entry needs a reason, and replaces the first (both kept).
        #expect(refusal("D09", ["satisfied": 9, "dissatisfied": 1]) == "already_entered")
        let corrected = try database.enterOutsideTally(
            event: event.definition, department: "D09", counts: ["satisfied": 9, "dissatisfied": 1],
            source: "机关工委汇总表（更正版）", by: "王芳", reason: "a sheet was added up wrong", key: key)
        #expect(corrected.entry.replaces == entry.id)
        let entries = try database.outsideTallies()
        #expect(entries.map(\.replacedBy) == [corrected.id, nil])
        report = try Report.build(database: database, event: event)
        #expect(report.results[0].rows.first { $0.department == "D09" }?.score == 90)

        // Entries are append-only; one changed behind the database's back no longer verifies and stops counting.
        func execute(_ sql: String) throws {
            switch engine {
            case .sqlite:
                try (database as? AggregatorDatabase)?.writerForTests.write { db in try db.execute(sql: sql) }
            case .postgres: _ = try PostgresServer.start().query(try #require(bed.url), sql)
            }
        }
        #expect(throws: (any Error).self) { try execute("UPDATE outsideTally SET entry = entry") }
        try execute(
            engine == .sqlite
                ? "DROP TRIGGER outsideTally_is_append_only_update"
                : "DROP TRIGGER outsideTally_is_append_only ON outsideTally")
        try execute(
            "UPDATE outsideTally SET entry = replace(entry, '\"satisfied\":9', '\"satisfied\":90') WHERE id = \(corrected.id)"
        )
        report = try Report.build(database: database, event: event)
        #expect(report.results[0].rows.first { $0.department == "D09" }?.rank == nil)
        #expect(report.findings.contains { $0.kind == .outsideTally && $0.severity == .error })
    }
}
