import DaemonSupport
import Foundation
import GRDB
import Logging
import Shared
import Synchronization

/// The last report built, with the check-ins it was computed from, kept so that readers (the
/// reconciliation and results API, every dashboard) do not rebuild it from the records on each request:
/// a read whose inputs are unchanged costs a few indexed lookups, the same at 10^7 records as at 10^4,
/// and a stream of readers cannot starve the merges of the database's time.
///
/// The inputs are the head of every venue chain and the other tables the report reads (alarms, admin
/// decisions, nodes and their keys, heartbeats, roster and event versions, results release). When they change,
/// the report is built again, but not sooner after the last build than that build took: builds take at most
/// half of the time, however many readers there are and however fast batches arrive. A reader in between gets
/// the previous report, which names its own inputs (every number on it still traces to records), and the build
/// is scheduled for when it is due. A report is also built again after `maximumAge`, as some findings depend on
/// the clock (a node silent for too long); the aged report is given meanwhile.
///
/// A build runs on a thread of its own, one at a time. Once a report exists a reader waits for a build at most
/// `readerPatience` and is then given the previous report; when the build is done `onBuilt` is called (the
/// dashboards are sent the new state). A build that fails is logged, readers keep the previous report, and the
/// next build is not tried before `retryAfterFailure`. Only the very first report is waited for however long it
/// takes (and its failure is the reader's error).
public final class ReportCache: Sendable {
    struct Entry: Sendable {
        var key: String
        var build: ReportBuild
        var builtAt: ContinuousClock.Instant
        var buildTime: Duration

        var report: Report { build.report }
    }

    static let maximumAge: Duration = .seconds(5)
    /// How long a reader waits for a build before it is given the previous report.
    static let readerPatience: Duration = .milliseconds(500)
    /// After a failed build, how long readers keep the previous report before another build is tried.
    let retryAfterFailure: Duration
    /// This cache's `maximumAge` (tests that are not about the clock set it long).
    let maximumAge: Duration

    init(maximumAge: Duration = ReportCache.maximumAge, retryAfterFailure: Duration = .seconds(5)) {
        self.maximumAge = maximumAge
        self.retryAfterFailure = retryAfterFailure
    }

    private let last = Mutex<Entry?>(nil)
    private let inFlight = Mutex<Build?>(nil)
    private let failure = Mutex<(at: ContinuousClock.Instant, error: any Error)?>(nil)
    /// A build is scheduled for when it is due (a read while builds were throttled).
    private let scheduled = Atomic<Bool>(false)
    private let hook = Mutex<(@Sendable () -> Void)?>(nil)
    private let logger = Logger(label: "report-cache")

    /// One build of the report, on its own thread; any number of readers wait for it.
    final class Build: Sendable {
        private let finished = DispatchSemaphore(value: 0)
        private let outcome = Mutex<Result<Entry, any Error>?>(nil)
        /// Someone was given an older report while this was built: the dashboards are told when it is done.
        private let notify = Atomic<Bool>(false)
        private let notified = Atomic<Bool>(false)

        fileprivate func finish(_ result: Result<Entry, any Error>, hook: (@Sendable () -> Void)?) {
            outcome.withLock { $0 = result }
            finished.signal()
            if notify.load(ordering: .acquiring) { tell(hook) }
        }

        /// Tell the dashboards once this build succeeds (at once if it already has).
        fileprivate func notifyWhenDone(_ hook: (@Sendable () -> Void)?) {
            notify.store(true, ordering: .releasing)
            if isFinished { tell(hook) }
        }

        private func tell(_ hook: (@Sendable () -> Void)?) {
            guard case .success = outcome.withLock({ $0 }), !notified.exchange(true, ordering: .acquiringAndReleasing)
            else { return }
            hook?()
        }

        var isFinished: Bool { outcome.withLock { $0 != nil } }

        /// The build's result, or nil when it is still running after `timeout` (nil: wait until it is done).
        func wait(timeout: Duration? = nil) -> Result<Entry, any Error>? {
            if let result = outcome.withLock({ $0 }) { return result }
            if let timeout {
                guard finished.wait(timeout: .now() + .nanoseconds(timeout.cappedNanoseconds)) == .success else {
                    return nil
                }
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
            if entry.key == key, age < maximumAge { return entry }
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

    /// Called (on the build's thread) when a build is done that someone was given an older report for.
    func onBuilt(_ action: @escaping @Sendable () -> Void) { hook.withLock { $0 = action } }

    /// The cached entry for `key`, else the result of a build (the one running, or a new one made by `make`):
    /// waited for at most `patience` when a report was built before (else that previous report), and however
    /// long it takes for the first one.
    func read(
        key: String, patience: Duration = ReportCache.readerPatience,
        make: @escaping @Sendable () throws -> Entry
    ) throws -> Entry {
        if let entry = entry(key: key) {
            if entry.key != key { schedule(at: entry.builtAt + entry.buildTime * 2, key: key, make: make) }
            return entry
        }
        let previous = latest()
        if let failed = failure.withLock({ $0 }), failed.at.duration(to: .now) < retryAfterFailure {
            // A build failed a moment ago: not tried again yet.
            if let previous { return previous }
            throw failed.error
        }
        let build: Build
        switch begin(key: key, make: make) {
        case .built(let entry): return entry
        case .running(let running): build = running
        }
        if let previous {
            // Only older than `maximumAge` (nothing it is computed from changed): no reader waits for the refresh.
            let wait = previous.key == key ? Duration.zero : patience
            if case .success(let entry) = build.wait(timeout: wait) { return entry }
            build.notifyWhenDone(hook.withLock { $0 })
            if case .success(let entry) = build.wait(timeout: .zero) { return entry }
            // Still building, or failed (logged): the newest report there is.
            return latest() ?? previous
        }
        return try build.wait()!.get()
    }

    private enum Begun {
        case built(Entry)
        case running(Build)
    }

    /// Joins the build in flight, or starts one, unless a build just done has made the report for `key`.
    private func begin(key: String, make: @escaping @Sendable () throws -> Entry) -> Begun {
        inFlight.withLock { current -> Begun in
            if let current, !current.isFinished { return .running(current) }
            if let entry = entry(key: key), entry.key == key { return .built(entry) }
            let build = Build()
            current = build
            let thread = Thread { [self] in
                let result = Result { try make() }
                switch result {
                case .success(let entry):
                    store(entry)
                    failure.withLock { $0 = nil }
                case .failure(let error):
                    failure.withLock { $0 = (.now, error) }
                    logger.error(
                        "the report could not be built; readers keep the previous one",
                        metadata: ["error": "\(error)"])
                }
                build.finish(result, hook: hook.withLock { $0 })
            }
            thread.name = "report-build"
            thread.start()
            return .running(build)
        }
    }

    /// A reader was given the previous report while builds were throttled: the build is started when it is due,
    /// and the dashboards are told when it is done.
    private func schedule(at due: ContinuousClock.Instant, key: String, make: @escaping @Sendable () throws -> Entry) {
        guard !scheduled.exchange(true, ordering: .acquiringAndReleasing) else { return }
        let thread = Thread { [self] in
            let wait = ContinuousClock.now.duration(to: due)
            if wait > .zero { Thread.sleep(forTimeInterval: wait.timeInterval) }
            scheduled.store(false, ordering: .releasing)
            switch begin(key: key, make: make) {
            case .built: hook.withLock { $0 }?()
            case .running(let build): build.notifyWhenDone(hook.withLock { $0 })
            }
        }
        thread.name = "report-schedule"
        thread.start()
    }
}

extension AggregatorDatabase {
    /// What the report is computed from, in one string: equal strings, equal inputs (but for the clock).
    public func reportKey(event: LoadedEvent) throws -> String {
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
