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
    public var message: String
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

    public init(venue: String, session: String, quota: Int, checkedIn: Int, walkIns: Int, rate: Double?) {
        self.venue = venue
        self.session = session
        self.quota = quota
        self.checkedIn = checkedIn
        self.walkIns = walkIns
        self.rate = rate
    }

    enum CodingKeys: String, CodingKey {
        case venue, session, quota
        case checkedIn = "checked_in"
        case walkIns = "walk_ins"
        case rate
    }
}

/// Everything reconciliation looks at.
public struct ReconciliationInput: Sendable {
    public var event: LoadedEvent
    public var totals: Totals
    public var roster: [RosterEntry]
    public var checkins: [CheckinFact]
    public var corrections: [CorrectionFact]
    public var nodes: [NodeFact]
    /// kind, venue, seq, message of each alarm.
    public var alarms: [(kind: String, venue: String?, seq: Int64?, message: String)]
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
        self.corrections = corrections
        self.nodes = nodes
        self.alarms = alarms
        self.now = now
        self.venues = venues
    }
}

/// Check-ins counted in one pass: per venue and session (all, walk-ins) and per category (walk-ins left out).
private struct CheckinCounts {
    var all: [String: Int] = [:]
    var walkIns: [String: Int] = [:]
    var regular: [String: Int] = [:]

    static func key(_ parts: String...) -> String { parts.joined(separator: "\u{1F}") }

    init(_ checkins: [CheckinFact]) {
        for fact in checkins {
            let place = Self.key(fact.venue, fact.session)
            all[place, default: 0] += 1
            if fact.walkin {
                walkIns[place, default: 0] += 1
            } else {
                regular[Self.key(fact.venue, fact.session, fact.category), default: 0] += 1
            }
        }
    }
}

/// Reconciles every count across venues, sessions and boxes (docs/reconciliation.md).
public enum Reconciliation {
    public static func attendance(_ input: ReconciliationInput) -> [AttendanceRow] {
        let event = input.event.definition
        let counts = CheckinCounts(input.checkins)
        var rows: [AttendanceRow] = []
        for venue in event.venues where input.venues?.contains(venue.id) ?? true {
            for session in event.sessions {
                let quota = event.quota(venue: venue.id, session: session.id)?.counts.values.reduce(0, +) ?? 0
                let here = counts.all[CheckinCounts.key(venue.id, session.id)] ?? 0
                let walkIns = counts.walkIns[CheckinCounts.key(venue.id, session.id)] ?? 0
                let regular = here - walkIns
                rows.append(
                    AttendanceRow(
                        venue: venue.id, session: session.id, quota: quota, checkedIn: here,
                        walkIns: walkIns,
                        rate: quota > 0 ? Double(regular) * 100 / Double(quota) : nil))
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
            actual: Int? = nil, _ message: String
        ) {
            guard inScope(venue) else { return }
            findings.append(
                Finding(
                    kind: kind, severity: severity, venue: venue, session: session, box: box,
                    category: category, seqs: seqs, expected: expected, actual: actual, message: message))
        }

        // The event file's own contradictions.
        for warning in input.event.warnings where warning.code == .quotaTotalMismatch {
            let index = Int(warning.location.dropFirst("quotas[".count).prefix { $0.isNumber }) ?? -1
            let quota = event.quotas.indices.contains(index) ? event.quotas[index] : nil
            add(
                .quotaContradiction, .warning, venue: quota?.venue, expected: quota?.statedTotal,
                actual: quota?.counts.values.reduce(0, +), "event file \(warning.location): \(warning.message)")
        }

        // Attendance and roster against quota, per category (check-ins and roster counted once, not per category).
        let counts = CheckinCounts(input.checkins)
        var listedCount: [String: Int] = [:]
        for entry in input.roster {
            for session in Set(entry.sessions) {
                listedCount[CheckinCounts.key(entry.venue, session, entry.category), default: 0] += 1
            }
        }
        for venue in event.venues where inScope(venue.id) {
            for session in event.sessions {
                guard let quota = event.quota(venue: venue.id, session: session.id) else { continue }
                // Before a session's first check-in there is nothing to compare yet.
                let started = (counts.all[CheckinCounts.key(venue.id, session.id)] ?? 0) > 0
                for category in event.categories {
                    let expected = quota.counts[category.id] ?? 0
                    let checkedIn = counts.regular[CheckinCounts.key(venue.id, session.id, category.id)] ?? 0
                    if started && checkedIn != expected {
                        add(
                            .attendanceVsQuota, checkedIn > expected ? .warning : .info, venue: venue.id,
                            session: session.id, category: category.id, expected: expected, actual: checkedIn,
                            "\(checkedIn) checked in against a quota of \(expected)")
                    }
                    guard !input.roster.isEmpty else { continue }
                    let listed = listedCount[CheckinCounts.key(venue.id, session.id, category.id)] ?? 0
                    if listed != expected {
                        add(
                            .rosterVsQuota, .warning, venue: venue.id, session: session.id, category: category.id,
                            expected: expected, actual: listed,
                            "the roster lists \(listed) against a quota of \(expected)")
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
                            + "(测评票数与参与人数不一致)")
                }
            }
        }
        for box in boxes where inScope(box.venue) {
            if box.closed == 0 {
                add(
                    .boxNotClosed, .warning, venue: box.venue, session: box.session, box: box.box,
                    actual: box.valid + box.blank + box.spoiled,
                    "box \(box.box) has no closing record (issued and returned unknown); "
                        + "\(box.valid + box.blank + box.spoiled) ballots entered from it")
                continue
            }
            if box.returned != box.issued {
                add(
                    .returnedVsIssued, .error, venue: box.venue, session: box.session, box: box.box,
                    expected: box.issued, actual: box.returned,
                    "\(box.returned) returned of \(box.issued) issued (回收与发放测评票数量不一致)")
            }
            let entered = box.valid + box.blank + box.spoiled
            if entered == 0 && box.returned > 0 {
                // Closed, its ballots not entered yet: counting comes after closing.
                add(
                    .enteredVsReturned, .warning, venue: box.venue, session: box.session, box: box.box,
                    expected: box.returned, actual: 0,
                    "box \(box.box) is closed with \(box.returned) returned and not counted yet (no ballot entered)")
            } else if entered != box.returned {
                add(
                    .enteredVsReturned, .error, venue: box.venue, session: box.session, box: box.box,
                    expected: box.returned, actual: entered,
                    "\(entered) ballots entered (\(box.valid) valid, \(box.blank) blank, \(box.spoiled) spoiled) "
                        + "of \(box.returned) returned")
            }
        }

        // People: the same person twice, anyone not on the roster, walk-ins.
        let effective = input.checkins
        let personOf = Dictionary(input.roster.map { ($0.repID, $0.personKey) }, uniquingKeysWith: { a, _ in a })
        var bySessionPerson: [String: [CheckinFact]] = [:]
        for checkin in effective {
            guard let person = checkin.person ?? personOf[checkin.rep] else { continue }
            bySessionPerson["\(checkin.session)/\(person)", default: []].append(checkin)
        }
        for (_, group) in bySessionPerson.filter({ $0.value.count > 1 }).sorted(by: { $0.key < $1.key }) {
            let places = group.map { "\($0.venue) record \($0.seq) (\($0.rep))" }.joined(separator: ", ")
            for checkin in group {
                add(
                    .duplicatePerson, .error, venue: checkin.venue, session: checkin.session,
                    category: checkin.category,
                    seqs: [checkin.seq], expected: 1, actual: group.count,
                    "the same person checked in \(group.count) times for session \(checkin.session): \(places)")
            }
        }
        if !input.roster.isEmpty {
            let listed = Set(input.roster.map(\.repID))
            for checkin in effective where !checkin.walkin && !listed.contains(checkin.rep) {
                add(
                    .notOnRoster, .warning, venue: checkin.venue, session: checkin.session, category: checkin.category,
                    seqs: [checkin.seq], "\(checkin.rep) checked in but is not on the roster")
            }
        }
        var walkIns: [String: [Int64]] = [:]
        for checkin in effective where checkin.walkin {
            walkIns["\(checkin.venue)/\(checkin.session)", default: []].append(checkin.seq)
        }
        for (key, seqs) in walkIns.sorted(by: { $0.key < $1.key }) {
            let parts = key.split(separator: "/").map(String.init)
            add(
                .walkIn, .info, venue: parts[0], session: parts[1], seqs: seqs, actual: seqs.count,
                "\(seqs.count) walk-in(s), counted apart from the roster")
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
                            + "\(node.heldSeq): records \(node.heldSeq + 1)…\(declared) are missing")
                } else if declared < node.heldSeq || (declared == node.heldSeq && node.declaredHash != node.heldHash) {
                    add(
                        .nodeDiverged, .error, venue: node.venue, seqs: [declared], expected: Int(node.heldSeq),
                        actual: Int(declared),
                        "node \(node.node.prefix(8)) declares head \(declared) "
                            + "(\(node.declaredHash?.prefix(12) ?? "")…) but the aggregator holds \(node.heldSeq) "
                            + "(\(node.heldHash.prefix(12))…): the node's store is not the one that sent the records")
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
                        ?? "node \(node.node.prefix(8)) has never been heard from")
            }
        }
        for alarm in input.alarms {
            add(.alarm, .error, venue: alarm.venue, seqs: alarm.seq.map { [$0] }, "\(alarm.kind): \(alarm.message)")
        }
        for correction in input.corrections {
            add(
                .correction, .info, venue: correction.venue, seqs: [correction.seq, correction.target],
                "record \(correction.seq) by \(correction.operatorName)\(correction.at.map { " at \($0)" } ?? "") "
                    + "\(correction.replaced ? "replaces" : "voids") record \(correction.target): \(correction.reason)")
        }
        return findings.sorted { a, b in
            (a.severity, a.venue ?? "", a.session ?? "", a.kind.rawValue) < (
                b.severity, b.venue ?? "", b.session ?? "", b.kind.rawValue
            )
        }
    }
}
