import Aggregator
import Foundation
import Shared
import Testing

/// Readers get the cached report while nothing it is computed from changed, and a new one as soon as a
/// batch (or an alarm, or an admin decision) changes its inputs.
@Suite struct ReportCacheTests {
    @Test func theReportIsReusedUntilItsInputsChange() async throws {
        let (database, intake) = try Fixtures.aggregator()
        let signer = TestSigner()
        try database.enroll(venue: "east", publicKeyBase64: signer.publicKeyBase64)
        let event = try #require(try database.installedEvent())
        let first = Fixtures.chain([.checkin(.init(session: "S1", rep: "R1", category: "resident"))])
        _ = try await signer.send(first, to: intake)

        let built = try database.cachedReport(event: event)
        try await Task.sleep(for: .milliseconds(20))
        let again = try database.cachedReport(event: event)
        #expect(again.report.generatedAt == built.report.generatedAt, "nothing changed: the same report")
        #expect(built.checkins[CheckinCounts.key(venue: "east", session: "S1")]?.checkedIn == 1)

        let second = Fixtures.chain([.checkin(.init(session: "S1", rep: "R2", category: "resident"))],
                                    afterSeq: 1, afterHash: first[0].hash)
        _ = try await signer.send(second, to: intake)
        try await Task.sleep(for: .milliseconds(50))
        let after = try database.cachedReport(event: event)
        #expect(after.report.inputs.map { "\($0.venue) \($0.seq) \($0.hash)" } == ["east 2 \(second[0].hash)"])
        #expect(after.report.inputDigest != built.report.inputDigest)
        #expect(after.checkins[CheckinCounts.key(venue: "east", session: "S1")]?.checkedIn == 2)
        #expect(after.report.inputs == (try Report.build(database: database, event: event)).inputs,
                "the cached report is the one a fresh build gives")
    }
}
