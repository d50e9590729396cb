import Foundation

/// One thing the supervision group must look at: what kind, how serious, the numbers on both sides,
/// and where to look.
public struct Finding: Codable, Sendable, Equatable {
    public enum Severity: String, Codable, Sendable, Comparable {
        case error, warning, info

        private var order: Int { self == .error ? 0 : self == .warning ? 1 : 2 }
        public static func < (a: Severity, b: Severity) -> Bool { a.order < b.order }
    }

    public enum Kind: String, Codable, Sendable, CaseIterable {
        case quotaContradiction = "quota_contradiction"
        case attendanceVsQuota = "attendance_vs_quota"
        case rosterVsQuota = "roster_vs_quota"
        case issuedVsAttendance = "issued_vs_attendance"
        case returnedVsIssued = "returned_vs_issued"
        case enteredVsReturned = "entered_vs_returned"
        case boxNotClosed = "box_not_closed"
        case duplicatePerson = "duplicate_person"
        case notOnRoster = "not_on_roster"
        case walkIn = "walk_in"
        case nodeBehind = "node_behind"
        case nodeDiverged = "node_diverged"
        case nodeSilent = "node_silent"
        case alarm
        case correction
        /// A department evaluated outside the sessions: its tally entered centrally, missing, or not verifying.
        case outsideTally = "outside_tally"
        /// Suggestions or surveys entered from a box against the number its closing says it returned (issue #17).
        case formsVsReturned = "forms_vs_returned"
        /// Discipline surveys answered with an answer that signals a breach, at a venue and session.
        case disciplineBreach = "discipline_breach"
    }

    public var kind: Kind
    public var severity: Severity
    public var venue: String?
    public var session: String?
    public var box: String?
    public var category: String?
    /// Record sequence numbers (of the venue chain) to look at.
    public var seqs: [Int64]?
    /// The number that should be (quota, issued, returned, declared …).
    public var expected: Int?
    /// The number found.
    public var actual: Int?
    /// What was found, in English,
    public var message: String
    /// and in Chinese (nil in reports of older releases: `message` then stands for both).
    public var messageZh: String?

    enum CodingKeys: String, CodingKey {
        case kind, severity, venue, session, box, category, seqs, expected, actual, message
        case messageZh = "message_zh"
    }

    /// What was found, in the report's language.
    public func message(_ language: ReportLanguage) -> String {
        language == .zh ? (messageZh ?? message) : message
    }

    /// The order reports list findings in: by severity, then venue, session and kind.
    public static func reportOrder(_ a: Finding, _ b: Finding) -> Bool {
        (a.severity, a.venue ?? "", a.session ?? "", a.kind.rawValue) < (
            b.severity, b.venue ?? "", b.session ?? "", b.kind.rawValue
        )
    }

    public init(
        kind: Kind, severity: Severity, venue: String? = nil, session: String? = nil, box: String? = nil,
        category: String? = nil, seqs: [Int64]? = nil, expected: Int? = nil, actual: Int? = nil, message: String,
        messageZh: String? = nil
    ) {
        self.kind = kind
        self.severity = severity
        self.venue = venue
        self.session = session
        self.box = box
        self.category = category
        self.seqs = seqs
        self.expected = expected
        self.actual = actual
        self.message = message
        self.messageZh = messageZh
    }
}

/// An effective check-in (not corrected away), as reconciliation needs it.
public struct CheckinFact: Sendable, Equatable {
    public var venue: String
    public var seq: Int64
    public var session: String
    public var rep: String
    public var category: String
    public var person: String?
    public var walkin: Bool

    public init(
        venue: String, seq: Int64, session: String, rep: String, category: String, person: String?, walkin: Bool
    ) {
        self.venue = venue
        self.seq = seq
        self.session = session
        self.rep = rep
        self.category = category
        self.person = person
        self.walkin = walkin
    }
}

/// A correction record: who, when, why, and what it corrects.
public struct CorrectionFact: Sendable, Equatable {
    public var venue: String
    public var seq: Int64
    public var target: Int64
    public var reason: String
    public var operatorName: String
    public var at: String?
    public var replaced: Bool

    public init(
        venue: String, seq: Int64, target: Int64, reason: String, operatorName: String, at: String?,
        replaced: Bool
    ) {
        self.venue = venue
        self.seq = seq
        self.target = target
        self.reason = reason
        self.operatorName = operatorName
        self.at = at
        self.replaced = replaced
    }
}

/// A venue node as the aggregator sees it.
public struct NodeFact: Sendable, Equatable {
    public var venue: String
    public var node: String
    public var current: Bool
    /// The head of the venue chain the aggregator holds.
    public var heldSeq: Int64
    public var heldHash: String
    /// What the node said in its last heartbeat.
    public var declaredSeq: Int64?
    public var declaredHash: String?
    public var lastContact: Date?

    public init(
        venue: String, node: String, current: Bool, heldSeq: Int64, heldHash: String, declaredSeq: Int64?,
        declaredHash: String?, lastContact: Date?
    ) {
        self.venue = venue
        self.node = node
        self.current = current
        self.heldSeq = heldSeq
        self.heldHash = heldHash
        self.declaredSeq = declaredSeq
        self.declaredHash = declaredHash
        self.lastContact = lastContact
    }
}

/// Attendance (到位率) of one venue and session.
public struct AttendanceRow: Codable, Sendable, Equatable {
    public var venue: String
    public var session: String
    public var quota: Int
    public var checkedIn: Int
    /// Of `checkedIn`, those not on the roster (walk-ins), counted apart.
    public var walkIns: Int
    /// checkedIn (without walk-ins) / quota, in percent.
    public var rate: Double?
    /// Of `checkedIn`, reserves who took an absentee's place.
    public var reserves: Int
    /// The joint quotas this venue shares with others in this session (categories its own quota leaves to them).
    public var joint: [JointAttendance]

    public init(
        venue: String, session: String, quota: Int, checkedIn: Int, walkIns: Int, rate: Double?, reserves: Int = 0,
        joint: [JointAttendance] = []
    ) {
        self.venue = venue
        self.session = session
        self.quota = quota
        self.checkedIn = checkedIn
        self.walkIns = walkIns
        self.rate = rate
        self.reserves = reserves
        self.joint = joint
    }

    enum CodingKeys: String, CodingKey {
        case venue, session, quota
        case checkedIn = "checked_in"
        case walkIns = "walk_ins"
        case rate, reserves, joint
    }
}

/// A joint quota in one session: the figure over all its venues, and every venue's contribution.
public struct JointAttendance: Codable, Sendable, Equatable {
    public var id: String
    public var name: String?
    public var quota: Int
    /// Places filled over all its venues (representatives and reserves, walk-ins left out).
    public var filled: Int
    /// venue → places filled there.
    public var contributions: [String: Int]
    public var rate: Double?

    public init(id: String, name: String?, quota: Int, filled: Int, contributions: [String: Int]) {
        self.id = id
        self.name = name
        self.quota = quota
        self.filled = filled
        self.contributions = contributions
        self.rate = quota > 0 ? Double(filled) * 100 / Double(quota) : nil
    }
}

/// Reserves who attended, per venue, session and category: how many took a place, and in which categories.
public struct ReserveRow: Codable, Sendable, Equatable {
    public var venue: String
    public var session: String
    /// The reserves' own category.
    public var category: String
    public var attended: Int
    /// Of `attended`, how many filled a place in another category (where the event allows it).
    public var elsewhere: Int

    public init(venue: String, session: String, category: String, attended: Int, elsewhere: Int) {
        self.venue = venue
        self.session = session
        self.category = category
        self.attended = attended
        self.elsewhere = elsewhere
    }
}

/// Everything reconciliation looks at.
public struct ReconciliationInput: Sendable {
    public var event: LoadedEvent
    public var totals: Totals
    public var roster: [RosterEntry] { didSet { if summaryFromFacts { summarize() } } }
    /// The check-ins in effect, held in memory (a node's own, tests); a store with many gives `summary` instead.
    public var checkins: [CheckinFact] { didSet { summarize() } }
    /// What reconciliation needs from the check-ins, gathered once, for attendance, reserves and findings alike.
    public private(set) var summary: CheckinSummary
    private var summaryFromFacts = true
    var checkinCounts: CheckinCounts { summary.counts }
    public var corrections: [CorrectionFact]
    public var nodes: [NodeFact]
    /// kind, venue, seq, message of each alarm.
    public var alarms: [(kind: String, venue: String?, seq: Int64?, message: String)]
    /// The forms other than the ballot, counted (none: nothing to reconcile).
    public var forms = FormTotals()
    public var now: Date
    /// Only these venues (a node's own report); nil for all.
    public var venues: Set<String>?

    public init(
        event: LoadedEvent, totals: Totals, roster: [RosterEntry], checkins: [CheckinFact],
        corrections: [CorrectionFact], nodes: [NodeFact],
        alarms: [(kind: String, venue: String?, seq: Int64?, message: String)], now: Date,
        venues: Set<String>? = nil
    ) {
        self.event = event
        self.totals = totals
        self.roster = roster
        self.checkins = checkins
        self.summary = CheckinSummary(checkins, roster: roster)
        self.corrections = corrections
        self.nodes = nodes
        self.alarms = alarms
        self.now = now
        self.venues = venues
    }

    /// The input with the check-ins already summarized (`CheckinSummary`, made with the same roster), as a store
    /// streams them: they are not held.
    public init(
        event: LoadedEvent, totals: Totals, roster: [RosterEntry], summary: CheckinSummary,
        corrections: [CorrectionFact], nodes: [NodeFact],
        alarms: [(kind: String, venue: String?, seq: Int64?, message: String)], now: Date,
        venues: Set<String>? = nil
    ) {
        self.init(
            event: event, totals: totals, roster: roster, checkins: [], corrections: corrections, nodes: nodes,
            alarms: alarms, now: now, venues: venues)
        self.summary = summary
        summaryFromFacts = false
    }

    private mutating func summarize() {
        summary = CheckinSummary(checkins, roster: roster)
        summaryFromFacts = true
    }
}

/// Check-ins counted in one pass: per venue and session (all, walk-ins, reserves) and per category (walk-ins left
/// out; representatives and reserves apart).
struct CheckinCounts {
    var all: [String: Int] = [:]
    var walkIns: [String: Int] = [:]
    /// Representatives on the roster (not reserves), per venue, session and category.
    var regular: [String: Int] = [:]
    /// Reserves, per venue, session and category (their own).
    var reserves: [String: Int] = [:]

    static func key(_ parts: String...) -> String { parts.joined(separator: "\u{1F}") }

    mutating func add(_ fact: CheckinFact, reserve: Bool) {
        let place = Self.key(fact.venue, fact.session)
        all[place, default: 0] += 1
        if fact.walkin {
            walkIns[place, default: 0] += 1
        } else if reserve {
            reserves[Self.key(fact.venue, fact.session, fact.category), default: 0] += 1
        } else {
            regular[Self.key(fact.venue, fact.session, fact.category), default: 0] += 1
        }
    }

    /// Places filled per category at a venue in a session: representatives, plus reserves in their own category's
    /// open places, or with `anyCategory` in any category's (in event order), the rest over quota in their own.
    /// Returns the places filled and, per reserve category, how many filled another category.
    func filled(venue: String, session: String, event: EventDefinition) -> (
        filled: [String: Int], elsewhere: [String: Int]
    ) {
        let quota = event.quota(venue: venue, session: session)?.counts ?? [:]
        var filled: [String: Int] = [:]
        var left: [String: Int] = [:]
        for category in event.categories {
            filled[category.id] = regular[Self.key(venue, session, category.id)] ?? 0
            let reserves = self.reserves[Self.key(venue, session, category.id)] ?? 0
            guard reserves > 0 else { continue }
            guard event.reservesFillAnyCategory, let expected = quota[category.id] else {
                filled[category.id, default: 0] += reserves
                continue
            }
            let own = min(reserves, max(0, expected - filled[category.id, default: 0]))
            filled[category.id, default: 0] += own
            if reserves > own { left[category.id] = reserves - own }
        }
        var elsewhere: [String: Int] = [:]
        for (from, count) in left.sorted(by: { $0.key < $1.key }) {
            var remaining = count
            for category in event.categories where remaining > 0 {
                guard let expected = quota[category.id] else { continue }
                let gap = max(0, expected - filled[category.id, default: 0])
                let taken = min(gap, remaining)
                filled[category.id, default: 0] += taken
                remaining -= taken
                elsewhere[from, default: 0] += taken
            }
            filled[from, default: 0] += remaining
        }
        return (filled, elsewhere)
    }
}

/// Reconciles every count across venues, sessions and boxes (docs/reconciliation.md).
public enum Reconciliation {
    /// Places open to one more reserve of `category` at `venue` in `session`, given the representatives (`regular`) and
    /// reserves checked in there per category; nil when the plan gives no figure to check against (no quota for the
    /// session, or a category left to a joint quota, which one venue cannot see whole).
    public static func openPlaces(
        event: EventDefinition, venue: String, session: String, category: String, regular: [String: Int],
        reserves: [String: Int]
    ) -> Int? {
        guard let quota = event.quota(venue: venue, session: session) else { return nil }
        if event.reservesFillAnyCategory {
            let gaps = quota.counts.map { max(0, $0.value - (regular[$0.key] ?? 0)) }.reduce(0, +)
            return gaps - reserves.values.reduce(0, +)
        }
        guard let expected = quota.counts[category] else {
            return event.jointQuota(venue: venue, session: session, category: category) == nil ? 0 : nil
        }
        return expected - (regular[category] ?? 0) - (reserves[category] ?? 0)
    }

    /// The roster's reserves, by roster id.
    static func reserveReps(_ roster: [RosterEntry]) -> Set<String> { Set(roster.filter(\.reserve).map(\.repID)) }

    public static func attendance(_ input: ReconciliationInput) -> [AttendanceRow] {
        let event = input.event.definition
        let counts = input.checkinCounts
        var rows: [AttendanceRow] = []
        for venue in event.venues where input.venues?.contains(venue.id) ?? true {
            for session in event.sessions {
                let quota = event.quota(venue: venue.id, session: session.id)?.counts.values.reduce(0, +) ?? 0
                let here = counts.all[CheckinCounts.key(venue.id, session.id)] ?? 0
                let walkIns = counts.walkIns[CheckinCounts.key(venue.id, session.id)] ?? 0
                let reserves = event.categories.map {
                    counts.reserves[CheckinCounts.key(venue.id, session.id, $0.id)] ?? 0
                }
                .reduce(0, +)
                let regular = here - walkIns
                rows.append(
                    AttendanceRow(
                        venue: venue.id, session: session.id, quota: quota, checkedIn: here,
                        walkIns: walkIns,
                        rate: quota > 0 ? Double(regular) * 100 / Double(quota) : nil, reserves: reserves,
                        joint: event.jointQuotas(venue: venue.id, session: session.id).map {
                            jointAttendance($0, session: session.id, counts: counts, event: event)
                        }))
            }
        }
        return rows
    }

    /// A joint quota's figure in a session, with each venue's contribution (reserves filling their own category).
    static func jointAttendance(
        _ joint: EventDefinition.JointQuota, session: String, counts: CheckinCounts, event: EventDefinition
    ) -> JointAttendance {
        var contributions: [String: Int] = [:]
        for venue in joint.venues {
            contributions[venue] = joint.counts.keys.map { category in
                (counts.regular[CheckinCounts.key(venue, session, category)] ?? 0)
                    + (counts.reserves[CheckinCounts.key(venue, session, category)] ?? 0)
            }.reduce(0, +)
        }
        return JointAttendance(
            id: joint.id, name: joint.name, quota: joint.counts.values.reduce(0, +),
            filled: contributions.values.reduce(0, +), contributions: contributions)
    }

    /// Reserves who attended, per venue, session and their own category.
    public static func reservesUsed(_ input: ReconciliationInput) -> [ReserveRow] {
        let event = input.event.definition
        let counts = input.checkinCounts
        var rows: [ReserveRow] = []
        for venue in event.venues where input.venues?.contains(venue.id) ?? true {
            for session in event.sessions {
                let elsewhere = counts.filled(venue: venue.id, session: session.id, event: event).elsewhere
                for category in event.categories {
                    let attended = counts.reserves[CheckinCounts.key(venue.id, session.id, category.id)] ?? 0
                    guard attended > 0 else { continue }
                    rows.append(
                        ReserveRow(
                            venue: venue.id, session: session.id, category: category.id, attended: attended,
                            elsewhere: elsewhere[category.id] ?? 0))
                }
            }
        }
        return rows
    }

    public static func findings(_ input: ReconciliationInput) -> [Finding] {
        let event = input.event.definition
        func inScope(_ venue: String?) -> Bool {
            venue.map { input.venues?.contains($0) ?? true } ?? (input.venues == nil)
        }
        var findings: [Finding] = []
        func add(
            _ kind: Finding.Kind, _ severity: Finding.Severity, venue: String? = nil, session: String? = nil,
            box: String? = nil, category: String? = nil, seqs: [Int64]? = nil, expected: Int? = nil,
            actual: Int? = nil, _ message: String, zh: String
        ) {
            guard inScope(venue) else { return }
            findings.append(
                Finding(
                    kind: kind, severity: severity, venue: venue, session: session, box: box,
                    category: category, seqs: seqs, expected: expected, actual: actual, message: message,
                    messageZh: zh))
        }

        // The event file's own contradictions.
        for warning in input.event.warnings where warning.code == .quotaTotalMismatch {
            let index = Int(warning.location.dropFirst("quotas[".count).prefix { $0.isNumber }) ?? -1
            let quota = event.quotas.indices.contains(index) ? event.quotas[index] : nil
            add(
                .quotaContradiction, .warning, venue: quota?.venue, expected: quota?.statedTotal,
                actual: quota?.counts.values.reduce(0, +), "event file \(warning.location): \(warning.message)",
                zh: "活动文件 \(warning.location)：\(warning.message)")
        }

        // Attendance and roster against quota, per category (check-ins and roster counted once, not per category).
        // Reserves fill absentees' places; on the roster they are checked against their allowance, not the quota.
        let counts = input.checkinCounts
        var listedCount: [String: Int] = [:]
        var listedReserves: [String: Int] = [:]
        for entry in input.roster {
            for session in Set(entry.sessions) {
                let key = CheckinCounts.key(entry.venue, session, entry.category)
                if entry.reserve { listedReserves[key, default: 0] += 1 } else { listedCount[key, default: 0] += 1 }
            }
        }
        func checkReserves(
            listed: Int, allowance: Int?, venue: String?, session: String, category: String, joint: String?
        ) {
            guard let allowance, listed > allowance else { return }
            add(
                .rosterVsQuota, .warning, venue: venue, session: session, category: category, expected: allowance,
                actual: listed,
                "the roster lists \(listed) reserves against an allowance of \(allowance)"
                    + (joint.map { " (joint quota \($0))" } ?? ""),
                zh: "名单列备选代表 \(listed) 名，允许 \(allowance) 名" + (joint.map { "（联合名额 \($0)）" } ?? ""))
        }
        for venue in event.venues where inScope(venue.id) {
            for session in event.sessions {
                let quota = event.quota(venue: venue.id, session: session.id)
                let joint = event.jointQuotas(venue: venue.id, session: session.id)
                guard quota != nil || !joint.isEmpty else { continue }
                // Before a session's first check-in there is nothing to compare yet.
                let started = (counts.all[CheckinCounts.key(venue.id, session.id)] ?? 0) > 0
                let filled = counts.filled(venue: venue.id, session: session.id, event: event).filled
                for category in event.categories {
                    // A category the venue's own quota leaves to a joint quota is checked jointly, below.
                    if quota?.counts[category.id] == nil && joint.contains(where: { $0.counts[category.id] != nil }) {
                        continue
                    }
                    let expected = quota?.counts[category.id] ?? 0
                    let checkedIn = filled[category.id] ?? 0
                    if started && checkedIn != expected {
                        add(
                            .attendanceVsQuota, checkedIn > expected ? .warning : .info, venue: venue.id,
                            session: session.id, category: category.id, expected: expected, actual: checkedIn,
                            "\(checkedIn) checked in against a quota of \(expected)",
                            zh: "签到 \(checkedIn) 人，名额 \(expected) 人")
                    }
                    guard !input.roster.isEmpty else { continue }
                    let key = CheckinCounts.key(venue.id, session.id, category.id)
                    let listed = listedCount[key] ?? 0
                    if listed != expected {
                        add(
                            .rosterVsQuota, .warning, venue: venue.id, session: session.id, category: category.id,
                            expected: expected, actual: listed,
                            "the roster lists \(listed) against a quota of \(expected)",
                            zh: "名单 \(listed) 人，名额 \(expected) 人")
                    }
                    checkReserves(
                        listed: listedReserves[key] ?? 0,
                        allowance: quota.flatMap {
                            event.reserveAllowance(counts: $0.counts, reserves: $0.reserves, category: category.id)
                        }, venue: venue.id, session: session.id, category: category.id, joint: nil)
                }
            }
        }
        // Joint quotas: checked over all their venues, in the aggregator's report (a venue alone cannot know them).
        if input.venues == nil {
            for joint in event.jointQuotas ?? [] {
                for session in event.sessions where joint.sessions.contains(session.id) {
                    let started = joint.venues.contains { (counts.all[CheckinCounts.key($0, session.id)] ?? 0) > 0 }
                    for (category, expected) in joint.counts.sorted(by: { $0.key < $1.key }) {
                        var byVenue: [String: Int] = [:]
                        var listed = 0
                        var reservesListed = 0
                        for venue in joint.venues {
                            let key = CheckinCounts.key(venue, session.id, category)
                            byVenue[venue] = (counts.regular[key] ?? 0) + (counts.reserves[key] ?? 0)
                            listed += listedCount[key] ?? 0
                            reservesListed += listedReserves[key] ?? 0
                        }
                        let checkedIn = byVenue.values.reduce(0, +)
                        let parts = joint.venues.map { "\($0) \(byVenue[$0] ?? 0)" }
                        if started && checkedIn != expected {
                            add(
                                .attendanceVsQuota, checkedIn > expected ? .warning : .info, session: session.id,
                                category: category, expected: expected, actual: checkedIn,
                                "joint quota \(joint.id): \(checkedIn) checked in against \(expected) "
                                    + "(\(parts.joined(separator: ", ")))",
                                zh: "联合名额 \(joint.id)：签到 \(checkedIn) 人，名额 \(expected) 人"
                                    + "（\(parts.joined(separator: "，"))）")
                        }
                        guard !input.roster.isEmpty else { continue }
                        if listed != expected {
                            add(
                                .rosterVsQuota, .warning, session: session.id, category: category, expected: expected,
                                actual: listed,
                                "joint quota \(joint.id): the roster lists \(listed) against \(expected)",
                                zh: "联合名额 \(joint.id)：名单 \(listed) 人，名额 \(expected) 人")
                        }
                        checkReserves(
                            listed: reservesListed,
                            allowance: event.reserveAllowance(
                                counts: joint.counts, reserves: joint.reserves, category: category),
                            venue: nil, session: session.id, category: category, joint: joint.id)
                    }
                }
            }
        }

        // Boxes: issued against attendance, returned against issued, entered against returned.
        let boxes = input.totals.boxes
        for venue in event.venues where inScope(venue.id) {
            for session in event.sessions {
                let closed = boxes.filter { $0.venue == venue.id && $0.session == session.id && $0.closed > 0 }
                guard !closed.isEmpty else { continue }
                let issued = closed.map(\.issued).reduce(0, +)
                let attendance = counts.all[CheckinCounts.key(venue.id, session.id)] ?? 0
                if issued != attendance {
                    add(
                        .issuedVsAttendance, .error, venue: venue.id, session: session.id, expected: attendance,
                        actual: issued,
                        "\(issued) ballots issued for \(attendance) representatives checked in "
                            + "(测评票数与参与人数不一致)",
                        zh: "发出测评票 \(issued) 张，签到代表 \(attendance) 人（测评票数与参与人数不一致）")
                }
            }
        }
        for box in boxes where inScope(box.venue) {
            if box.closed == 0 {
                add(
                    .boxNotClosed, .warning, venue: box.venue, session: box.session, box: box.box,
                    actual: box.valid + box.blank + box.spoiled,
                    "box \(box.box) has no closing record (issued and returned unknown); "
                        + "\(box.valid + box.blank + box.spoiled) ballots entered from it",
                    zh: "票箱 \(box.box) 没有封箱记录（发出、回收数不明）；已录入 \(box.valid + box.blank + box.spoiled) 张")
                continue
            }
            if box.returned != box.issued {
                add(
                    .returnedVsIssued, .error, venue: box.venue, session: box.session, box: box.box,
                    expected: box.issued, actual: box.returned,
                    "\(box.returned) returned of \(box.issued) issued (回收与发放测评票数量不一致)",
                    zh: "发出 \(box.issued) 张，回收 \(box.returned) 张（回收与发放测评票数量不一致）")
            }
            let entered = box.valid + box.blank + box.spoiled
            if entered == 0 && box.returned > 0 {
                // Closed, its ballots not entered yet: counting comes after closing.
                add(
                    .enteredVsReturned, .warning, venue: box.venue, session: box.session, box: box.box,
                    expected: box.returned, actual: 0,
                    "box \(box.box) is closed with \(box.returned) returned and not counted yet (no ballot entered)",
                    zh: "票箱 \(box.box) 已封箱，回收 \(box.returned) 张，尚未计票（未录入任何一张）")
            } else if entered != box.returned {
                add(
                    .enteredVsReturned, .error, venue: box.venue, session: box.session, box: box.box,
                    expected: box.returned, actual: entered,
                    "\(entered) ballots entered (\(box.valid) valid, \(box.blank) blank, \(box.spoiled) spoiled) "
                        + "of \(box.returned) returned",
                    zh: "录入 \(entered) 张（有效 \(box.valid)、空白 \(box.blank)、废票 \(box.spoiled)），"
                        + "回收 \(box.returned) 张")
            }
        }

        // People: the same person twice, anyone not on the roster, walk-ins.
        let summary = input.summary
        for group in summary.duplicates.sorted(by: { $0.key < $1.key }).map(\.checkins) {
            let places = group.map { "\($0.venue) record \($0.seq) (\($0.rep))" }.joined(separator: ", ")
            let placesZh = group.map { "\($0.venue) 记录 \($0.seq)（\($0.rep)）" }.joined(separator: "，")
            for checkin in group {
                add(
                    .duplicatePerson, .error, venue: checkin.venue, session: checkin.session,
                    category: checkin.category,
                    seqs: [checkin.seq], expected: 1, actual: group.count,
                    "the same person checked in \(group.count) times for session \(checkin.session): \(places)",
                    zh: "同一人在场次 \(checkin.session) 签到 \(group.count) 次：\(placesZh)")
            }
        }
        for checkin in summary.notOnRoster {
            add(
                .notOnRoster, .warning, venue: checkin.venue, session: checkin.session, category: checkin.category,
                seqs: [checkin.seq], "\(checkin.rep) checked in but is not on the roster",
                zh: "\(checkin.rep) 已签到，但不在名单内")
        }
        for (_, walkIns) in summary.walkIns.sorted(by: { $0.key < $1.key }) {
            let seqs = walkIns.seqs
            add(
                .walkIn, .info, venue: walkIns.venue, session: walkIns.session, seqs: seqs, actual: seqs.count,
                "\(seqs.count) walk-in(s), counted apart from the roster", zh: "名单外到场 \(seqs.count) 人，单独计数")
        }

        // Nodes: completeness against their own figures, silence, alarms.
        let silentAfter = TimeInterval(event.reconciliation?.silentNodeSeconds ?? 600)
        for node in input.nodes where node.current && inScope(node.venue) {
            if let declared = node.declaredSeq {
                if declared > node.heldSeq {
                    add(
                        .nodeBehind, .warning, venue: node.venue, seqs: [node.heldSeq + 1, declared],
                        expected: Int(declared), actual: Int(node.heldSeq),
                        "node \(node.node.prefix(8)) holds records up to \(declared); the aggregator has up to "
                            + "\(node.heldSeq): records \(node.heldSeq + 1)…\(declared) are missing",
                        zh: "节点 \(node.node.prefix(8)) 已有记录至第 \(declared) 条，汇总端只有至第 \(node.heldSeq) 条："
                            + "缺第 \(node.heldSeq + 1)…\(declared) 条")
                } else if declared < node.heldSeq || (declared == node.heldSeq && node.declaredHash != node.heldHash) {
                    add(
                        .nodeDiverged, .error, venue: node.venue, seqs: [declared], expected: Int(node.heldSeq),
                        actual: Int(declared),
                        "node \(node.node.prefix(8)) declares head \(declared) "
                            + "(\(node.declaredHash?.prefix(12) ?? "")…) but the aggregator holds \(node.heldSeq) "
                            + "(\(node.heldHash.prefix(12))…): the node's store is not the one that sent the records",
                        zh: "节点 \(node.node.prefix(8)) 声明链头为第 \(declared) 条（\(node.declaredHash?.prefix(12) ?? "")…），"
                            + "汇总端为第 \(node.heldSeq) 条（\(node.heldHash.prefix(12))…）：该节点的数据库不是发出这些记录的那一个")
                }
            }
            let silence = node.lastContact.map { input.now.timeIntervalSince($0) }
            if silence.map({ $0 > silentAfter }) ?? true {
                add(
                    .nodeSilent, .warning, venue: node.venue, expected: Int(silentAfter),
                    actual: silence.map { Int($0) },
                    silence.map {
                        "node \(node.node.prefix(8)) silent for \(Int($0)) s (more than \(Int(silentAfter)) s)"
                    }
                        ?? "node \(node.node.prefix(8)) has never been heard from",
                    zh: silence.map { "节点 \(node.node.prefix(8)) 已 \(Int($0)) 秒无联系（超过 \(Int(silentAfter)) 秒）" }
                        ?? "节点 \(node.node.prefix(8)) 从未联系（无联系超过 \(Int(silentAfter)) 秒即报失联）")
            }
        }
        // Forms other than the ballot: entered against returned, per box and kind; discipline breaches.
        for box in input.forms.boxes where box.entered != box.returned {
            let name = box.form.rawValue
            let nameZh = Self.formZh(box.form)
            if box.entered == 0 {
                add(
                    .formsVsReturned, .warning, venue: box.venue, session: box.session, box: box.box,
                    expected: box.returned, actual: 0,
                    "box \(box.box) returned \(box.returned) \(name) form(s), none entered yet",
                    zh: "票箱 \(box.box) 回收\(nameZh) \(box.returned) 份，尚未录入")
            } else {
                add(
                    .formsVsReturned, .error, venue: box.venue, session: box.session, box: box.box,
                    expected: box.returned, actual: box.entered,
                    "\(box.entered) \(name) form(s) entered of \(box.returned) returned",
                    zh: "录入\(nameZh) \(box.entered) 份，回收 \(box.returned) 份")
            }
        }
        let questions = Dictionary(
            (event.forms?.discipline?.questions ?? []).map { ($0.id, $0) }, uniquingKeysWith: { first, _ in first })
        for answer in input.forms.answers where answer.form == .discipline && answer.count > 0 {
            guard let question = questions[answer.questionID], question.breach?.contains(answer.option) == true,
                let option = question.options.first(where: { $0.id == answer.option })
            else { continue }
            add(
                .disciplineBreach, .error, venue: answer.venue, session: answer.session, actual: answer.count,
                "\(answer.count) discipline survey(s) answered \"\(option.labelEn ?? option.label)\" to \""
                    + "\(question.textEn ?? question.text)\": to investigate at this venue and session",
                zh: "\(answer.count) 份纪律情况调查表对“\(question.text)”答“\(option.label)”：须在本会场本场次核查")
        }
        for alarm in input.alarms {
            add(
                .alarm, .error, venue: alarm.venue, seqs: alarm.seq.map { [$0] }, "\(alarm.kind): \(alarm.message)",
                zh: "\(Self.alarmZh(alarm.kind))：\(alarm.message)")
        }
        for correction in input.corrections {
            add(
                .correction, .info, venue: correction.venue, seqs: [correction.seq, correction.target],
                "record \(correction.seq) by \(correction.operatorName)\(correction.at.map { " at \($0)" } ?? "") "
                    + "\(correction.replaced ? "replaces" : "voids") record \(correction.target): \(correction.reason)",
                zh: "第 \(correction.seq) 条记录由 \(correction.operatorName)\(correction.at.map { " 于 \($0) " } ?? " ")"
                    + "\(correction.replaced ? "替换" : "作废")第 \(correction.target) 条记录：\(correction.reason)")
        }
        return findings.sorted(by: Finding.reportOrder)
    }

    /// A kind of form in Chinese.
    static func formZh(_ form: RecordPayload.FormKind) -> String {
        switch form {
        case .suggestion: "意见建议征集表"
        case .survey: "社情民意调查问卷"
        case .discipline: "纪律情况调查表"
        }
    }

    /// An alarm's kind in Chinese (its message is the aggregator's, in English).
    static func alarmZh(_ kind: String) -> String {
        switch kind {
        case "chain_conflict": "链冲突（chain_conflict）"
        case "rule_breach": "违反规则（rule_breach）"
        case "held_out": "暂不计入（held_out）"
        case "node_problem": "节点报告故障（node_problem）"
        default: kind
        }
    }
}
