import Foundation
import Shared
import Testing

@testable import Aggregator

/// Readers get the cached report while nothing it is computed from changed, and a new one once a batch (or
/// an alarm, or an admin decision) changes its inputs, never sooner after the last build than that build took.
@Suite struct ReportCacheTests {
    @Test func theReportIsReusedUntilItsInputsChange() async throws {
        let signer = TestSigner()
        let (database, intake) = try Fixtures.aggregator(enrolling: ["east": signer])
        let event = try #require(try database.installedEvent())
        let first = Fixtures.chain([.checkin(.init(session: "S1", rep: "R1", category: "resident"))])
        _ = try await signer.send(first, to: intake)

        let built = try database.cachedReport(event: event)
        #expect(built.checkins[CheckinCounts.key(venue: "east", session: "S1")]?.checkedIn == 1)
        let key = try database.reportKey(event: event)
        let entry = try #require(database.reports.latest())
        #expect(entry.key == key && entry.report.generatedAt == built.report.generatedAt)
        // The rules, on the clock of the entry (no test here depends on how fast the machine is).
        #expect(
            database.reports.entry(key: key, now: entry.builtAt + .seconds(4))?.report.generatedAt
                == built.report.generatedAt,
            "the same inputs: the same report")
        #expect(
            entry.buildTime * 2 > ReportCache.maximumAge
                || database.reports.entry(key: key, now: entry.builtAt + ReportCache.maximumAge) == nil,
            "built again after the maximum age (findings that depend on the clock)")
        #expect(
            database.reports.entry(key: key + "x", now: entry.builtAt + entry.buildTime) != nil,
            "inputs changed, but no sooner after the last build than that build took")
        #expect(database.reports.entry(key: key + "x", now: entry.builtAt + entry.buildTime * 2) == nil)

        let second = Fixtures.chain(
            [.checkin(.init(session: "S1", rep: "R2", category: "resident"))],
            afterSeq: 1, afterHash: first[0].hash)
        _ = try await signer.send(second, to: intake)
        #expect(try database.reportKey(event: event) != key, "a batch changes the inputs")
        // The next build is due once the last one's time has passed again, however long that was.
        let deadline = ContinuousClock.now + .seconds(60)
        var after = try database.cachedReport(event: event)
        while after.report.inputs.first?.seq != 2, ContinuousClock.now < deadline {
            try await Task.sleep(for: .milliseconds(20))
            after = try database.cachedReport(event: event)
        }
        #expect(after.report.inputs.map { "\($0.venue) \($0.seq) \($0.hash)" } == ["east 2 \(second[0].hash)"])
        #expect(after.report.inputDigest != built.report.inputDigest)
        #expect(after.checkins[CheckinCounts.key(venue: "east", session: "S1")]?.checkedIn == 2)
        #expect(
            after.report.inputs == (try Report.build(database: database, event: event)).inputs,
            "the cached report is the one a fresh build gives")
    }
}
