import Foundation

/// What reconciliation needs from the check-ins in effect: the counts per venue, session and category, the check-ins of
/// representatives not on the roster, the walk-ins, and the people checked in more than once for one session. Gathered
/// one check-in at a time (`add`), so that a store with millions of check-ins streams them instead of holding them; a
/// person's check-ins come from the store's own query (`addDuplicates`), or, for check-ins held in memory, from
/// grouping them (`init(_:roster:)`).
public struct CheckinSummary: Sendable {
    /// Representatives and reserves per venue, session and category (`Reconciliation`'s attendance and quotas).
    private(set) var counts = CheckinCounts()
    /// Check-ins per venue and session as the dashboard shows them, keyed by `PlaceCheckins.key`.
    public private(set) var places: [String: PlaceCheckins] = [:]
    /// Check-ins (not walk-ins) of representatives not on the roster, in the order added; none without a roster.
    public private(set) var notOnRoster: [CheckinFact] = []
    /// Walk-ins per venue and session (keyed `venue/session`), their records in the order added.
    public private(set) var walkIns: [String: WalkIns] = [:]
    /// One person's check-ins for one session, when there is more than one (keyed `session/person`).
    public private(set) var duplicates: [(key: String, checkins: [CheckinFact])] = []
    /// How many check-ins were added.
    public private(set) var count = 0
    private let listed: Set<String>
    private let reserveReps: Set<String>

    public struct WalkIns: Sendable, Equatable {
        public var venue: String
        public var session: String
        public var seqs: [Int64]
    }

    /// An empty summary, against this roster (the one reconciliation is given).
    public init(roster: [RosterEntry]) {
        listed = Set(roster.map(\.repID))
        reserveReps = Reconciliation.reserveReps(roster)
    }

    /// The summary of check-ins held in memory, the same person's check-ins grouped here.
    public init(_ checkins: [CheckinFact], roster: [RosterEntry]) {
        self.init(roster: roster)
        for checkin in checkins { add(checkin) }
        let personOf = Self.personKeys(roster)
        var bySessionPerson: [String: [CheckinFact]] = [:]
        for checkin in checkins {
            guard let person = checkin.person ?? personOf[checkin.rep] else { continue }
            bySessionPerson[Self.duplicateKey(session: checkin.session, person: person), default: []].append(checkin)
        }
        for (key, group) in bySessionPerson where group.count > 1 { duplicates.append((key, group)) }
    }

    /// Takes in one check-in in effect.
    public mutating func add(_ checkin: CheckinFact) {
        count += 1
        counts.add(checkin, reserve: reserveReps.contains(checkin.rep))
        places[PlaceCheckins.key(venue: checkin.venue, session: checkin.session), default: PlaceCheckins()].add(checkin)
        if checkin.walkin {
            walkIns[
                "\(checkin.venue)/\(checkin.session)",
                default: WalkIns(venue: checkin.venue, session: checkin.session, seqs: [])
            ].seqs.append(checkin.seq)
        } else if !listed.isEmpty, !listed.contains(checkin.rep) {
            notOnRoster.append(checkin)
        }
    }

    /// Takes in the check-ins of one person for one session (`person`: the check-in's own key, or its representative's
    /// on the roster), when there is more than one.
    public mutating func addDuplicates(session: String, person: String, _ checkins: [CheckinFact]) {
        guard checkins.count > 1 else { return }
        duplicates.append((Self.duplicateKey(session: session, person: person), checkins))
    }

    /// Each representative's person key on the roster (the first listed, when a representative is listed twice).
    public static func personKeys(_ roster: [RosterEntry]) -> [String: String] {
        Dictionary(roster.map { ($0.repID, $0.personKey) }, uniquingKeysWith: { first, _ in first })
    }

    static func duplicateKey(session: String, person: String) -> String { "\(session)/\(person)" }
}

/// Check-ins in effect at one venue in one session, as the dashboard shows them.
public struct PlaceCheckins: Sendable, Equatable {
    public var checkedIn = 0
    public var walkIns = 0
    /// Category → check-ins of people on the roster (walk-ins left out).
    public var byCategory: [String: Int] = [:]

    public init() {}

    public static func key(venue: String, session: String) -> String { venue + "\n" + session }

    mutating func add(_ checkin: CheckinFact) {
        checkedIn += 1
        if checkin.walkin { walkIns += 1 } else { byCategory[checkin.category, default: 0] += 1 }
    }
}
