import Foundation
import Shared
import Synchronization
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
        #expect(built.checkins[PlaceCheckins.key(venue: "east", session: "S1")]?.checkedIn == 1)
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
        #expect(after.checkins[PlaceCheckins.key(venue: "east", session: "S1")]?.checkedIn == 2)
        #expect(
            after.report.inputs == (try Report.build(database: database, event: event)).inputs,
            "the cached report is the one a fresh build gives")
    }

    /// Counts calls from any thread.
    final class Calls: Sendable {
        let count = Mutex(0)
        func add() { count.withLock { $0 += 1 } }
        var value: Int { count.withLock { $0 } }
    }

    static func entries() throws -> @Sendable (String) -> ReportCache.Entry {
        let (database, _) = try Fixtures.aggregator(enrolling: [:])
        let build = try database.cachedBuild(event: try #require(try database.installedEvent()))
        // Built a second ago in 1 ms: a new build is due as soon as the inputs change.
        return { key in .init(key: key, build: build, builtAt: .now - .seconds(1), buildTime: .milliseconds(1)) }
    }

    /// Once a report exists, a reader waits for a new build at most its patience and is then given the previous
    /// report; readers meanwhile join the same build; when it is done the dashboards are told, once, and the next
    /// reader gets the new report without another build.
    @Test func aReaderWaitsAtMostItsPatienceThenGetsThePreviousReport() async throws {
        let entry = try Self.entries()
        let cache = ReportCache(maximumAge: .seconds(3600))
        let builds = Calls()
        let told = Calls()
        cache.onBuilt { told.add() }
        // The very first report is waited for, however long it takes.
        let first = try cache.read(key: "a", patience: .milliseconds(1)) {
            Thread.sleep(forTimeInterval: 0.2)
            builds.add()
            return entry("a")
        }
        #expect(first.key == "a" && builds.value == 1)

        let gate = DispatchSemaphore(value: 0)
        let start = ContinuousClock.now
        let served = try cache.read(key: "b", patience: .milliseconds(100)) {
            // Bounded, so that a reader that waits for the build (the fault this test is for) fails, not hangs.
            _ = gate.wait(timeout: .now() + 10)
            builds.add()
            return entry("b")
        }
        #expect(served.key == "a", "the previous report, while the new one is built")
        #expect(start.duration(to: .now) >= .milliseconds(100), "after waiting its patience")
        let joined = try cache.read(key: "b", patience: .milliseconds(10)) {
            builds.add()
            return entry("second build")
        }
        #expect(joined.key == "a", "a second reader joins the build in flight")
        gate.signal()
        let deadline = ContinuousClock.now + .seconds(30)
        while told.value == 0, ContinuousClock.now < deadline { try await Task.sleep(for: .milliseconds(10)) }
        #expect(told.value == 1, "the dashboards are told once the build a reader gave up on is done")
        #expect(builds.value == 2)
        let fresh = try cache.read(key: "b") {
            builds.add()
            return entry("third build")
        }
        #expect(fresh.key == "b" && builds.value == 2 && told.value == 1)
    }

    /// A report only older than the maximum age (nothing it is computed from changed) is given at once while it
    /// is built again; the dashboards are told when the new one is done.
    @Test func anAgedReportIsGivenAtOnceWhileItIsBuiltAgain() async throws {
        let entry = try Self.entries()
        let cache = ReportCache(maximumAge: .seconds(2))
        let told = Calls()
        cache.onBuilt { told.add() }
        let old = try cache.read(key: "a") {
            var aged = entry("a")
            aged.builtAt = .now - cache.maximumAge - .seconds(1)
            return aged
        }
        #expect(cache.entry(key: "a") == nil, "too old to be served as current")
        let gate = DispatchSemaphore(value: 0)
        let served = try cache.read(key: "a", patience: .seconds(30)) {
            _ = gate.wait(timeout: .now() + 10)
            return entry("a")
        }
        #expect(served.builtAt == old.builtAt, "the aged report, without waiting for the build")
        gate.signal()
        let deadline = ContinuousClock.now + .seconds(30)
        while told.value == 0, ContinuousClock.now < deadline { try await Task.sleep(for: .milliseconds(10)) }
        #expect(told.value == 1)
        #expect(cache.latest().map { $0.builtAt > old.builtAt } == true)
    }

    /// A build done within the reader's patience is what the reader gets; nobody else needs telling.
    @Test func aBuildDoneInTimeIsWhatTheReaderGets() async throws {
        let entry = try Self.entries()
        let cache = ReportCache(maximumAge: .seconds(3600))
        let told = Calls()
        cache.onBuilt { told.add() }
        _ = try cache.read(key: "a") { entry("a") }
        let read = try cache.read(key: "b", patience: .seconds(30)) { entry("b") }
        #expect(read.key == "b" && cache.latest()?.key == "b")
        try await Task.sleep(for: .milliseconds(50))
        #expect(told.value == 0)
    }

    /// The first report's failure is its reader's error; no build is tried again before `retryAfterFailure`;
    /// once a report exists, a failed build leaves readers with it.
    @Test func aFailedBuildIsNotRetriedAtOnceAndLeavesThePreviousReport() async throws {
        struct Broken: Error {}
        let entry = try Self.entries()
        let cache = ReportCache(maximumAge: .seconds(3600), retryAfterFailure: .milliseconds(300))
        let builds = Calls()
        #expect(throws: Broken.self) {
            try cache.read(key: "a") {
                builds.add()
                throw Broken()
            }
        }
        #expect(throws: Broken.self, "not tried again at once") {
            try cache.read(key: "a") {
                builds.add()
                return entry("a")
            }
        }
        #expect(cache.latest() == nil && builds.value == 1)
        try await Task.sleep(for: .milliseconds(400))
        #expect(try cache.read(key: "a") { entry("a") }.key == "a", "tried again once the wait is over")
        let served = try cache.read(key: "b", patience: .seconds(30)) {
            builds.add()
            throw Broken()
        }
        #expect(served.key == "a", "the previous report, not the error")
        let again = try cache.read(key: "b", patience: .seconds(30)) {
            builds.add()
            return entry("b")
        }
        #expect(again.key == "a" && builds.value == 2, "no build within the wait after a failure")
    }

    /// A read while builds are throttled (inputs changed just after a build) is given the previous report, and
    /// the build is made when it is due; the dashboards are told.
    @Test func aThrottledReadSchedulesTheBuildForWhenItIsDue() async throws {
        let entry = try Self.entries()
        let cache = ReportCache(maximumAge: .seconds(3600))
        let told = Calls()
        cache.onBuilt { told.add() }
        _ = try cache.read(key: "a") {
            var recent = entry("a")
            recent.builtAt = .now
            // Builds are due again 6 s after this one: the read below falls within that, even on a loaded machine.
            recent.buildTime = .seconds(3)
            return recent
        }
        let served = try cache.read(key: "b") {
            var fresh = entry("b")
            fresh.builtAt = .now
            return fresh
        }
        #expect(served.key == "a", "within twice the last build's time: the previous report")
        let deadline = ContinuousClock.now + .seconds(30)
        while told.value == 0, ContinuousClock.now < deadline { try await Task.sleep(for: .milliseconds(10)) }
        #expect(told.value == 1)
        #expect(cache.latest()?.key == "b")
    }

    /// Readers waiting together for the first report all get it.
    @Test func everyReaderWaitingForTheFirstReportGetsIt() async throws {
        let entry = try Self.entries()
        let cache = ReportCache(maximumAge: .seconds(3600))
        let gate = DispatchSemaphore(value: 0)
        let builds = Calls()
        final class Keys: Sendable {
            let list = Mutex<[String]>([])
        }
        let got = Keys()
        for _ in 0..<3 {
            Thread {
                let read = try? cache.read(key: "a") {
                    builds.add()
                    _ = gate.wait(timeout: .now() + 10)
                    return entry("a")
                }
                got.list.withLock { $0.append(read?.key ?? "none") }
            }.start()
        }
        try await Task.sleep(for: .milliseconds(100))
        gate.signal()
        let deadline = ContinuousClock.now + .seconds(30)
        while got.list.withLock({ $0.count }) < 3, ContinuousClock.now < deadline {
            try await Task.sleep(for: .milliseconds(10))
        }
        #expect(got.list.withLock { $0 } == ["a", "a", "a"])
        #expect(builds.value == 1)
    }
}
