import Foundation
import GRDB
import Shared

/// What the report and the dashboard read from the store. A store hands them out from one consistent view
/// (`AggregatorStore.withReportSnapshot`), so the numbers of one report, and the dashboard's figures beside them,
/// all come from the same merges.
public protocol ReportReads {
    func totals(eventID: String) throws -> Totals
    func formTotals() throws -> FormTotals
    /// The roster in force (the newest import).
    func roster() throws -> [RosterEntry]
    /// The check-ins in effect, counted against `roster`, with every person checked in twice for a session.
    func checkinSummary(roster: [RosterEntry]) throws -> CheckinSummary
    func correctionFacts() throws -> [CorrectionFact]
    /// Each node with the head held of its venue and what it last declared.
    func nodeFacts() throws -> [NodeFact]
    /// What each node last said about itself, by node id.
    func contacts() throws -> [String: NodeContact]
    func alarms() throws -> [Alarm]
    func chainHeads() throws -> [ChainHead]
    /// Every outside tally entered, oldest first, each checked against the key that signed it.
    func outsideTallies() throws -> [OutsideTally]
    /// Marks given from the listed boxes, as tallies.
    func boxTallies(boxes: [String]) throws -> [Totals.Tally]
    /// When and by whom a confidential event's results were released, if they were.
    func resultsRelease() throws -> (at: String, by: String)?
}

extension ReportReads {
    /// Whether department results may be shown: the event is not confidential, or they were released.
    public func resultsVisible(event: EventDefinition) throws -> Bool {
        if event.resultsConfidential != true { return true }
        return try resultsRelease() != nil
    }
}

/// The report and what the dashboard shows beside it, all read in one view of the store.
public struct ReportBuild: Sendable {
    public var report: Report
    /// The check-ins per venue and session (the dashboard's attendance per category).
    public var places: [String: PlaceCheckins]
    public var totals: Totals
    public var nodes: [NodeFact]
    public var contacts: [String: NodeContact]
    public var resultsVisible: Bool
}

extension AggregatorDatabase: ReportReads {
    /// One read transaction: every read `body` makes runs on its connection (`reading`), so all of them see the same
    /// merges, however many commit meanwhile.
    public func withReportSnapshot<T>(_ body: (any ReportReads) throws -> T) throws -> T {
        try writer.read { _ in try ReportSnapshotScope.inside(self) { try body(self) } }
    }

    /// Runs `read` in the report's snapshot when called inside `withReportSnapshot` (on its connection, in its
    /// transaction), else in a read transaction of its own.
    func reading<T>(_ read: (Database) throws -> T) throws -> T {
        if ReportSnapshotScope.isInside(self) { return try writer.unsafeReentrantRead(read) }
        return try writer.read(read)
    }
}

/// Whether this thread is building a report in a snapshot of one SQLite store (`withReportSnapshot` runs the build on
/// the thread of its read, and the reads of that store made there join that read; another store's do not).
enum ReportSnapshotScope {
    private static func key(_ database: AggregatorDatabase) -> String {
        "sanmin.report-snapshot.\(ObjectIdentifier(database))"
    }

    static func isInside(_ database: AggregatorDatabase) -> Bool {
        Thread.current.threadDictionary[key(database)] != nil
    }

    static func inside<T>(_ database: AggregatorDatabase, _ body: () throws -> T) rethrows -> T {
        let (thread, key) = (Thread.current, key(database))
        let outer = thread.threadDictionary[key]
        thread.threadDictionary[key] = true
        defer { thread.threadDictionary[key] = outer }
        return try body()
    }
}

extension AggregatorStore {
    /// The report and what the dashboard shows beside it: the cached ones while the inputs are unchanged
    /// (`ReportCache`), else built again from the records (waited for at most `ReportCache.readerPatience` once a
    /// report exists: then the previous one, which names its inputs).
    public func cachedBuild(event: LoadedEvent) throws -> ReportBuild {
        // Readers call this off the serving threads, so many may arrive together: one build at a time.
        try reports.read(key: try reportKey(event: event)) { [self] in
            let started = ContinuousClock.now
            let key = try reportKey(event: event)
            let build = try Report.buildWithCheckins(database: self, event: event)
            return .init(key: key, build: build, builtAt: started, buildTime: started.duration(to: .now))
        }.build
    }

    /// The report and the check-ins it was computed from, as cached (`cachedBuild`).
    public func cachedReport(event: LoadedEvent) throws -> (report: Report, checkins: [String: PlaceCheckins]) {
        let build = try cachedBuild(event: event)
        return (build.report, build.places)
    }
}
