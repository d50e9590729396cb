import Foundation
import Shared

/// What the live dashboard shows, as one JSON document (sent whole with every update).
public struct DashboardState: Codable, Sendable, Equatable {
    public struct Label: Codable, Sendable, Equatable {
        public var id: String
        public var zh: String
        public var en: String
    }

    public struct Quota: Codable, Sendable, Equatable {
        public var category: String
        public var quota: Int
        public var checkedIn: Int

        enum CodingKeys: String, CodingKey {
            case category, quota
            case checkedIn = "checked_in"
        }
    }

    public struct VenueSession: Codable, Sendable, Equatable {
        public var session: String
        public var quota: Int
        public var checkedIn: Int
        public var walkIns: Int
        /// Of `checkedIn`, reserves who took an absentee's place.
        public var reserves: Int
        /// Joint quotas this venue shares in this session, with every venue's contribution.
        public var joint: [JointAttendance]
        public var categories: [Quota]
        public var issued: Int
        public var returned: Int
        public var entered: Int

        enum CodingKeys: String, CodingKey {
            case session, quota
            case checkedIn = "checked_in"
            case walkIns = "walk_ins"
            case reserves, joint
            case categories, issued, returned, entered
        }
    }

    public struct Venue: Codable, Sendable, Equatable {
        public var id: String
        public var name: String
        public var kind: String
        public var online: Bool
        public var lastContact: String?
        /// Records the node holds that the aggregator does not have yet (its last heartbeat).
        public var pending: Int64?
        public var heldSeq: Int64
        /// Open errors and warnings about this venue.
        public var findings: Int
        /// Discipline surveys that report a breach (issue #17), per session: each is a finding of the report.
        public var breaches: [Breach]
        public var sessions: [VenueSession]

        enum CodingKeys: String, CodingKey {
            case id, name, kind, online
            case lastContact = "last_contact"
            case pending
            case heldSeq = "held_seq"
            case findings, breaches, sessions
        }
    }

    public struct Breach: Codable, Sendable, Equatable {
        public var session: String
        /// Forms giving a breach answer.
        public var count: Int
    }

    public struct Total: Codable, Sendable, Equatable {
        public var session: String?
        public var quota: Int
        public var checkedIn: Int
        public var valid: Int
        public var blank: Int
        public var spoiled: Int

        enum CodingKeys: String, CodingKey {
            case session, quota
            case checkedIn = "checked_in"
            case valid, blank, spoiled
        }
    }

    public var event: String
    public var title: String
    public var titleEn: String?
    public var generatedAt: String
    public var inputDigest: String
    public var sessions: [Label]
    public var marks: [Label]
    public var categories: [Label]
    public var venues: [Venue]
    public var totals: [Total]
    /// False while the event's results are confidential and not released: `departments` is then empty.
    public var resultsVisible: Bool
    public var departments: [DepartmentResult]

    enum CodingKeys: String, CodingKey {
        case event, title
        case titleEn = "title_en"
        case generatedAt = "generated_at"
        case inputDigest = "input_digest"
        case sessions
        case marks, categories, venues, totals
        case resultsVisible = "results_visible"
        case departments
    }

    /// A venue is online when heard from within this many seconds.
    public static let onlineSeconds: TimeInterval = 60

    /// The dashboard's state from the cached report (`ReportCache`: not rebuilt from the records for every viewer) and
    /// the figures read with it, in one view of the store.
    public static func build(database: some AggregatorStore, event: LoadedEvent, now: Date = Date()) throws
        -> DashboardState
    {
        try build(from: try database.cachedBuild(event: event), event: event, now: now)
    }

    static func build(from build: ReportBuild, event: LoadedEvent, now: Date) throws -> DashboardState {
        let definition = event.definition
        let (report, checkins, totals, contacts) = (build.report, build.places, build.totals, build.contacts)
        let nodes = build.nodes.filter(\.current)
        var venues: [Venue] = []
        for venue in definition.venues {
            let node = nodes.first { $0.venue == venue.id }
            let contact = node.flatMap { contacts[$0.node] }
            var sessions: [VenueSession] = []
            for session in definition.sessions {
                let quota = definition.quota(venue: venue.id, session: session.id)?.counts ?? [:]
                let here = checkins[PlaceCheckins.key(venue: venue.id, session: session.id)] ?? PlaceCheckins()
                let boxes = totals.boxes.filter { $0.venue == venue.id && $0.session == session.id }
                let row = report.attendance.first { $0.venue == venue.id && $0.session == session.id }
                sessions.append(
                    VenueSession(
                        session: session.id, quota: quota.values.reduce(0, +), checkedIn: here.checkedIn,
                        walkIns: here.walkIns, reserves: row?.reserves ?? 0, joint: row?.joint ?? [],
                        categories: definition.categories.compactMap { category in
                            let count = here.byCategory[category.id] ?? 0
                            guard let expected = quota[category.id], expected > 0 || count > 0 else { return nil }
                            return Quota(category: category.id, quota: expected, checkedIn: count)
                        },
                        issued: boxes.map(\.issued).reduce(0, +), returned: boxes.map(\.returned).reduce(0, +),
                        entered: boxes.map { $0.valid + $0.blank + $0.spoiled }.reduce(0, +)))
            }
            venues.append(
                Venue(
                    id: venue.id, name: venue.name, kind: venue.kind.rawValue,
                    online: node?.lastContact.map { now.timeIntervalSince($0) <= onlineSeconds } ?? false,
                    lastContact: contact?.lastContactAt, pending: contact?.pending, heldSeq: node?.heldSeq ?? 0,
                    findings: report.findings.filter { $0.venue == venue.id && $0.severity != .info }.count,
                    breaches: Dictionary(
                        report.findings.filter { $0.venue == venue.id && $0.kind == .disciplineBreach }
                            .map { ($0.session ?? "", $0.actual ?? 0) }, uniquingKeysWith: +
                    ).sorted { $0.key < $1.key }.map { Breach(session: $0.key, count: $0.value) },
                    sessions: sessions))
        }
        func total(_ session: String?) -> Total {
            let rows = venues.flatMap(\.sessions).filter { session == nil || $0.session == session }
            let boxes = totals.boxes.filter { session == nil || $0.session == session }
            return Total(
                session: session, quota: rows.map(\.quota).reduce(0, +),
                checkedIn: rows.map(\.checkedIn).reduce(0, +), valid: boxes.map(\.valid).reduce(0, +),
                blank: boxes.map(\.blank).reduce(0, +), spoiled: boxes.map(\.spoiled).reduce(0, +))
        }
        let visible = build.resultsVisible
        return DashboardState(
            event: definition.id, title: definition.title, titleEn: definition.titleEn, generatedAt: report.generatedAt,
            inputDigest: report.inputDigest,
            // In the order they take place, each with its date and time when the event gives them.
            sessions: definition.sessionsInOrder.map { session in
                let when = session.schedule.map { " · \($0)" } ?? ""
                return Label(id: session.id, zh: (session.name ?? session.id) + when, en: session.id + when)
            },
            marks: definition.marks.map { Label(id: $0.id, zh: $0.labelZh, en: $0.labelEn) },
            categories: definition.categories.map { Label(id: $0.id, zh: $0.name, en: $0.id) },
            venues: venues, totals: [total(nil)] + definition.sessionsInOrder.map { total($0.id) },
            resultsVisible: visible,
            departments: visible ? report.results.first { $0.scope == "overall" }?.rows ?? [] : [])
    }
}
