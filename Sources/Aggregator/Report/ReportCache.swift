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
final class ReportCache: Sendable {
    struct Entry: Sendable {
        var key: String
        var report: Report
        var checkins: [String: CheckinCounts]
        var builtAt: ContinuousClock.Instant
        var buildTime: Duration
    }

    static let maximumAge: Duration = .seconds(5)

    private let last = Mutex<Entry?>(nil)
    /// Held while a report is built: one build at a time, and callers that waited take its result.
    let building = Mutex<Void>(())

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
    /// (`ReportCache`), else built again from the records.
    public func cachedReport(event: LoadedEvent) throws -> (report: Report, checkins: [String: CheckinCounts]) {
        if let entry = reports.entry(key: try reportKey(event: event)) { return (entry.report, entry.checkins) }
        // One build at a time (readers await this off the serving threads, so many may arrive together).
        return try reports.building.withLock { _ in
            // Built by the caller this one waited for, if the inputs have not changed since.
            let key = try reportKey(event: event)
            if let entry = reports.entry(key: key) { return (entry.report, entry.checkins) }
            let started = ContinuousClock.now
            let (report, facts) = try Report.buildWithCheckins(database: self, event: event)
            let checkins = CheckinCounts.count(facts)
            reports.store(
                .init(
                    key: key, report: report, checkins: checkins, builtAt: started,
                    buildTime: started.duration(to: .now)))
            return (report, checkins)
        }
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
