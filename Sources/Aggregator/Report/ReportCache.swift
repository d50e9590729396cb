import Foundation
import GRDB
import Shared
import Synchronization

/// The last report built, with the check-ins it was computed from, kept so that readers (the
/// reconciliation and results API, every dashboard) do not rebuild it from the records on each request:
/// a read whose inputs are unchanged costs a few indexed lookups, the same at 10^7 records as at 10^4,
/// and a stream of readers cannot starve the merges of the database's time.
///
/// The inputs are the head of every venue chain and the other tables the report reads (alarms, admin
/// decisions, nodes and their keys, heartbeats, roster and event versions, results release). When they change,
/// the report is built again, but not sooner after the last build than that build took: readers spend at most
/// half of the time building, however many there are and however fast batches arrive. A reader in between gets
/// the previous report, which names its own inputs (every number on it still traces to records). A report is
/// also built again after `maximumAge`, as some findings depend on the clock (a node silent for too long).
///
/// A build runs on a thread of its own, one at a time. A reader waits for it at most `readerPatience` when a
/// report was built before, and is then given that previous report (it names its inputs); the build goes on,
/// and when it is done `onBuilt` is called (the dashboard sends the new state). A report only older than
/// `maximumAge` is given at once while it is built again. Only the very first report is waited for however long
/// it takes.
final class ReportCache: Sendable {
    struct Entry: Sendable {
        var key: String
        var report: Report
        var checkins: [String: CheckinCounts]
        var builtAt: ContinuousClock.Instant
        var buildTime: Duration
    }

    static let maximumAge: Duration = .seconds(5)
    /// How long a reader waits for a build before it is given the previous report.
    static let readerPatience: Duration = .milliseconds(500)

    private let last = Mutex<Entry?>(nil)
    private let inFlight = Mutex<Build?>(nil)
    private let hook = Mutex<(@Sendable () -> Void)?>(nil)

    /// One build of the report, on its own thread; any number of readers wait for it.
    final class Build: Sendable {
        private let finished = DispatchSemaphore(value: 0)
        private let outcome = Mutex<Result<Entry, any Error>?>(nil)
        /// A reader stopped waiting and was given the previous report.
        let servedPrevious = Atomic<Bool>(false)

        fileprivate func finish(_ result: Result<Entry, any Error>) {
            outcome.withLock { $0 = result }
            finished.signal()
        }

        var isFinished: Bool { outcome.withLock { $0 != nil } }

        /// The build's result, or nil when it is still running after `timeout` (nil: wait until it is done).
        func wait(timeout: Duration? = nil) -> Result<Entry, any Error>? {
            if let result = outcome.withLock({ $0 }) { return result }
            if let timeout {
                let nanoseconds =
                    timeout.components.seconds * 1_000_000_000 + timeout.components.attoseconds / 1_000_000_000
                guard finished.wait(timeout: .now() + .nanoseconds(Int(nanoseconds))) == .success else { return nil }
            } else {
                finished.wait()
            }
            // Let the next waiter through as well.
            finished.signal()
            return outcome.withLock { $0 }
        }
    }

    func entry(key: String, now: ContinuousClock.Instant = .now) -> Entry? {
        last.withLock { entry in
            guard let entry else { return nil }
            let age = entry.builtAt.duration(to: now)
            if entry.key == key, age < Self.maximumAge { return entry }
            return age < entry.buildTime * 2 ? entry : nil
        }
    }

    /// The last report built, whatever its age.
    func latest() -> Entry? { last.withLock { $0 } }

    func store(_ entry: Entry) {
        last.withLock { current in
            if current == nil || current!.builtAt < entry.builtAt { current = entry }
        }
    }

    /// Called (on the build's thread) when a build that a reader stopped waiting for is done.
    func onBuilt(_ action: @escaping @Sendable () -> Void) { hook.withLock { $0 = action } }

    /// The cached entry for `key`, else the result of a build (the one running, or a new one made by `make`):
    /// waited for at most `patience` when a report was built before (else that previous report), and however
    /// long it takes for the first one.
    func read(
        key: String, patience: Duration = ReportCache.readerPatience,
        make: @escaping @Sendable () throws -> Entry
    ) throws -> Entry {
        if let entry = entry(key: key) { return entry }
        let build = inFlight.withLock { current -> Build in
            if let current, !current.isFinished { return current }
            let build = Build()
            current = build
            let thread = Thread { [self] in
                let result = Result { try make() }
                if case .success(let entry) = result { store(entry) }
                build.finish(result)
                if build.servedPrevious.load(ordering: .acquiring) { hook.withLock { $0 }?() }
            }
            thread.name = "report-build"
            thread.start()
            return build
        }
        if let previous = latest() {
            // Only older than `maximumAge` (nothing it is computed from changed): no reader waits for the refresh.
            let wait = previous.key == key ? Duration.zero : patience
            if let result = build.wait(timeout: wait) { return try result.get() }
            build.servedPrevious.store(true, ordering: .releasing)
            // The build may have finished in between: its report, else the previous one.
            if let result = build.wait(timeout: .zero) { return try result.get() }
            if let previous = latest() { return previous }
        }
        return try build.wait()!.get()
    }
}

/// Check-ins in effect at one venue for one session (`CheckinCounts.key`), counted once per report build.
public struct CheckinCounts: Sendable, Equatable {
    public var checkedIn = 0
    public var walkIns = 0
    /// Category → check-ins of people on the roster (walk-ins left out).
    public var byCategory: [String: Int] = [:]

    public static func key(venue: String, session: String) -> String { venue + "\n" + session }

    static func count(_ facts: [CheckinFact]) -> [String: CheckinCounts] {
        var counts: [String: CheckinCounts] = [:]
        for fact in facts {
            counts[key(venue: fact.venue, session: fact.session), default: CheckinCounts()].add(fact)
        }
        return counts
    }

    private mutating func add(_ fact: CheckinFact) {
        checkedIn += 1
        if fact.walkin { walkIns += 1 } else { byCategory[fact.category, default: 0] += 1 }
    }
}

extension AggregatorDatabase {
    /// The report and the check-ins it was computed from: the cached ones while the inputs are unchanged
    /// (`ReportCache`), else built again from the records (waited for at most `ReportCache.readerPatience` once a
    /// report exists: then the previous one, which names its inputs).
    public func cachedReport(event: LoadedEvent) throws -> (report: Report, checkins: [String: CheckinCounts]) {
        // Readers call this off the serving threads, so many may arrive together: one build at a time.
        let entry = try reports.read(key: try reportKey(event: event)) { [self] in
            let started = ContinuousClock.now
            let key = try reportKey(event: event)
            let (report, facts) = try Report.buildWithCheckins(database: self, event: event)
            return .init(
                key: key, report: report, checkins: CheckinCounts.count(facts), builtAt: started,
                buildTime: started.duration(to: .now))
        }
        return (entry.report, entry.checkins)
    }

    /// What the report is computed from, in one string: equal strings, equal inputs (but for the clock).
    func reportKey(event: LoadedEvent) throws -> String {
        try writer.read { db in
            let heads = try Self.chainHeads(db).map { "\($0.venue) \($0.seq) \($0.hash)" }
            let tables = try Row.fetchOne(
                db,
                sql: """
                    SELECT (SELECT MAX(id) FROM alarm), (SELECT MAX(id) FROM heldOutDecision), (SELECT COUNT(*) FROM node),
                           (SELECT COUNT(*) FROM revocation), (SELECT MAX(id) FROM rosterImport), (SELECT MAX(id) FROM eventVersion),
                           (SELECT MAX(id) FROM resultsRelease), (SELECT MAX(id) FROM outsideTally),
                           (SELECT group_concat(nodeID || ' ' || lastContactAt || ' ' || ifnull(declaredSeq, '') || ' '
                                                || ifnull(declaredHash, ''), ';') FROM nodeContact)
                    """)
            let values = (0..<9).map { index in tables.map { "\($0[index] as DatabaseValue)" } ?? "" }
            return ([event.digest] + heads + values).joined(separator: "\n")
        }
    }
}
