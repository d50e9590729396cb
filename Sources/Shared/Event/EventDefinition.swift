import Foundation

/// One citizen-evaluation event (活动): its ballot marks, departments, groups, sessions, venues,
/// representative categories and quotas, as loaded from an event file (see docs/event-format.md).
public struct EventDefinition: Codable, Sendable, Equatable {
    public var format: Int
    public var id: String
    public var title: String
    public var titleEn: String?
    public var marks: [Mark]
    public var groups: [Group]
    public var departments: [Department]
    public var sessions: [Session]
    public var venues: [Venue]
    public var categories: [Category]
    public var quotas: [Quota]
    /// Quotas stated for several venues together ("600 residents across the district venues"), checked jointly.
    public var jointQuotas: [JointQuota]?
    /// Reserve representatives (备选/替补代表), who take the place of absentees.
    public var reserves: ReserveRule?
    /// Boxes with a role: a box that serves one representative category gives results per category.
    public var boxes: [Box]?
    /// Whether someone not on a venue's roster may check in (recorded as a walk-in, counted apart).
    public var walkInsAllowed: Bool?
    /// Department results stay hidden (dashboard, API) until an admin releases them.
    public var resultsConfidential: Bool?
    /// Reconciliation settings (see docs/reconciliation.md).
    public var reconciliation: ReconciliationSettings?
    /// The suggestion form, the opinion survey and the discipline survey (see docs/forms.md).
    public var forms: Forms?
    public var notes: [String]?

    enum CodingKeys: String, CodingKey {
        case format, id, title
        case titleEn = "title_en"
        case marks, groups, departments, sessions, venues, categories, quotas
        case jointQuotas = "joint_quotas"
        case reserves
        case boxes
        case walkInsAllowed = "walk_ins_allowed"
        case resultsConfidential = "results_confidential"
        case reconciliation
        case forms
        case notes
    }

    /// How reserves (备选/替补代表) are allowed: a percentage above each quota unless a quota lists its own reserve
    /// counts, and whether a reserve may fill an absentee's place in any category (default: only in their own).
    public struct ReserveRule: Codable, Sendable, Equatable {
        public var percent: Double?
        public var anyCategory: Bool?

        enum CodingKeys: String, CodingKey {
            case percent
            case anyCategory = "any_category"
        }

        public init(percent: Double? = nil, anyCategory: Bool? = nil) {
            self.percent = percent
            self.anyCategory = anyCategory
        }
    }

    /// A quota over several venues together, per category; each venue's own quota (its share) stays optional.
    public struct JointQuota: Codable, Sendable, Equatable {
        public var id: String
        public var name: String?
        public var venues: [String]
        public var sessions: Selection
        public var counts: [String: Int]
        /// Reserves allowed per category over these venues (else the event's percentage).
        public var reserves: [String: Int]?
        public var source: String?

        public init(
            id: String, name: String? = nil, venues: [String], sessions: Selection, counts: [String: Int],
            reserves: [String: Int]? = nil, source: String? = nil
        ) {
            self.id = id
            self.name = name
            self.venues = venues
            self.sessions = sessions
            self.counts = counts
            self.reserves = reserves
            self.source = source
        }
    }

    /// A ballot box id used at the venues, and the category it serves, if only one.
    public struct Box: Codable, Sendable, Equatable {
        public var id: String
        public var category: String?
    }

    public struct ReconciliationSettings: Codable, Sendable, Equatable {
        /// A node not heard from for longer than this is reported silent (default 600).
        public var silentNodeSeconds: Int?

        enum CodingKeys: String, CodingKey {
            case silentNodeSeconds = "silent_node_seconds"
        }
    }

    /// A mark a representative can give a department (满意, 基本满意, 不满意, 不了解 …).
    public struct Mark: Codable, Sendable, Equatable {
        public var id: String
        public var labelZh: String
        public var labelEn: String
        public var weight: Double
        /// Counts towards the satisfaction rate (default: a weight above 0).
        public var positive: Bool?
        /// Left out of the denominator of rates and scores, like 不了解 "don't know" (default false).
        public var excludedFromDenominator: Bool?

        enum CodingKeys: String, CodingKey {
            case id
            case labelZh = "label_zh"
            case labelEn = "label_en"
            case weight, positive
            case excludedFromDenominator = "excluded_from_denominator"
        }

        public init(
            id: String, labelZh: String, labelEn: String, weight: Double, positive: Bool? = nil,
            excludedFromDenominator: Bool? = nil
        ) {
            self.id = id
            self.labelZh = labelZh
            self.labelEn = labelEn
            self.weight = weight
            self.positive = positive
            self.excludedFromDenominator = excludedFromDenominator
        }

        public var isPositive: Bool { positive ?? (weight > 0) }
        public var isExcluded: Bool { excludedFromDenominator ?? false }
    }

    /// A group (组) of departments that report in the same session.
    public struct Group: Codable, Sendable, Equatable {
        public var id: String
        public var name: String
    }

    /// A department (述职部门) that is evaluated.
    public struct Department: Codable, Sendable, Equatable {
        public var id: String
        public var name: String
        public var group: String?
        /// Evaluated outside the public sessions (internally, by city organs): on no session's ballot; the central
        /// office enters its tallies as attributed, signed entries, and it is ranked with the others.
        public var evaluatedOutside: Bool?

        enum CodingKeys: String, CodingKey {
            case id, name, group
            case evaluatedOutside = "evaluated_outside"
        }

        public init(id: String, name: String, group: String? = nil, evaluatedOutside: Bool? = nil) {
            self.id = id
            self.name = name
            self.group = group
            self.evaluatedOutside = evaluatedOutside
        }

        public var isEvaluatedOutside: Bool { evaluatedOutside ?? false }
    }

    /// Every item, or the listed ids: `"all"` or `["G1", "G2"]` in the file. A session's ballot selects
    /// groups of departments this way, a quota column selects sessions.
    public enum Selection: Codable, Sendable, Equatable {
        case all
        case some([String])

        public init(from decoder: any Decoder) throws {
            let container = try decoder.singleValueContainer()
            if let word = try? container.decode(String.self) {
                guard word == "all" else {
                    throw DecodingError.dataCorruptedError(
                        in: container, debugDescription: "expected \"all\" or a list of ids, found \"\(word)\"")
                }
                self = .all
            } else {
                self = .some(try container.decode([String].self))
            }
        }

        public func encode(to encoder: any Encoder) throws {
            var container = encoder.singleValueContainer()
            switch self {
            case .all: try container.encode("all")
            case .some(let ids): try container.encode(ids)
            }
        }

        public func contains(_ id: String) -> Bool {
            switch self {
            case .all: true
            case .some(let ids): ids.contains(id)
            }
        }
    }

    /// A session (场次): a date, a time of day (a half-day session: 上午 09:00–12:00), and the departments on its
    /// ballot. Date and times are for display and ordering; nothing is refused by the clock.
    public struct Session: Codable, Sendable, Equatable {
        public var id: String
        public var name: String?
        public var date: String?
        /// When it starts and ends, `HH:MM` on a 24-hour clock (optional).
        public var start: String?
        public var end: String?
        /// The groups whose departments are on this session's ballot.
        public var ballot: Selection

        public init(
            id: String, name: String? = nil, date: String? = nil, start: String? = nil, end: String? = nil,
            ballot: Selection
        ) {
            self.id = id
            self.name = name
            self.date = date
            self.start = start
            self.end = end
            self.ballot = ballot
        }

        /// When it takes place, as shown: `2022-01-11 09:00–12:00`, `2022-01-11`, `09:00–12:00`, or nil.
        public var schedule: String? {
            let time: String? =
                switch (start, end) {
                case (let start?, let end?): "\(start)–\(end)"
                case (let start?, nil): "\(start)–"
                case (nil, let end?): "–\(end)"
                case (nil, nil): nil
                }
            let parts = [date, time].compactMap { $0 }
            return parts.isEmpty ? nil : parts.joined(separator: " ")
        }

        /// `HH:MM` on a 24-hour clock.
        public static func isTime(_ text: String) -> Bool {
            let parts = text.split(separator: ":", omittingEmptySubsequences: false)
            guard parts.count == 2, parts.allSatisfy({ $0.count == 2 && $0.allSatisfy(\.isASCII) }),
                let hours = Int(parts[0]), let minutes = Int(parts[1])
            else { return false }
            return (0...23).contains(hours) && (0...59).contains(minutes)
        }
    }

    /// The sessions in the order they take place: by date, then start (sessions without them keep the file's order,
    /// after those with them on the same footing).
    public var sessionsInOrder: [Session] {
        sessions.enumerated().sorted { a, b in
            let left = (a.element.date ?? "\u{10FFFF}", a.element.start ?? "\u{10FFFF}", a.offset)
            let right = (b.element.date ?? "\u{10FFFF}", b.element.start ?? "\u{10FFFF}", b.offset)
            return left < right
        }.map(\.element)
    }

    public enum VenueKind: String, Codable, Sendable, Equatable {
        case main
        case branch
    }

    /// A venue: the main venue (主会场) or a branch venue (分会场).
    public struct Venue: Codable, Sendable, Equatable {
        public var id: String
        public var name: String
        public var kind: VenueKind
        /// Weight of this venue's score in the overall score (all venues count alike when no venue has one).
        public var weight: Double?
    }

    /// A representative category (代表类别).
    public struct Category: Codable, Sendable, Equatable {
        public var id: String
        public var name: String
    }

    /// The quota of one venue for one or more sessions: representatives per category, with the total
    /// the source table states (which real plans sometimes contradict).
    public struct Quota: Codable, Sendable, Equatable {
        public var venue: String
        public var sessions: Selection
        public var statedTotal: Int?
        public var counts: [String: Int]
        /// Reserves allowed per category at this venue (else the event's percentage of each count).
        public var reserves: [String: Int]?
        public var source: String?

        enum CodingKeys: String, CodingKey {
            case venue, sessions
            case statedTotal = "stated_total"
            case counts, reserves, source
        }
    }
}

extension EventDefinition {
    /// The departments on the ballot of `sessionID`, in event order; nil for an unknown session.
    public func ballotDepartments(session sessionID: String) -> [Department]? {
        guard let session = sessions.first(where: { $0.id == sessionID }) else { return nil }
        let public_ = departments.filter { !$0.isEvaluatedOutside }
        switch session.ballot {
        case .all:
            return public_
        case .some(let groupIDs):
            return public_.filter { department in department.group.map(groupIDs.contains) ?? false }
        }
    }

    public func venue(_ id: String) -> Venue? { venues.first { $0.id == id } }
    public func session(_ id: String) -> Session? { sessions.first { $0.id == id } }
    public func mark(_ id: String) -> Mark? { marks.first { $0.id == id } }
    public func category(_ id: String) -> Category? { categories.first { $0.id == id } }

    /// The quota of a venue for a session: category → count (nil when the event sets none).
    public func quota(venue: String, session: String) -> Quota? {
        quotas.first { $0.venue == venue && $0.sessions.contains(session) }
    }
}

extension EventDefinition {
    /// Whether a reserve fills an absentee's place in any category (else only in their own).
    public var reservesFillAnyCategory: Bool { reserves?.anyCategory ?? false }

    /// The joint quotas that cover `venue` in `session`.
    public func jointQuotas(venue: String, session: String) -> [JointQuota] {
        (jointQuotas ?? []).filter { $0.venues.contains(venue) && $0.sessions.contains(session) }
    }

    /// The joint quota that covers `category` at `venue` in `session`, if any.
    public func jointQuota(venue: String, session: String, category: String) -> JointQuota? {
        jointQuotas(venue: venue, session: session).first { $0.counts[category] != nil }
    }

    /// Reserves allowed for a quota's category: its own figure, else the event's percentage of the count (rounded
    /// up); nil when the plan says nothing.
    public func reserveAllowance(counts: [String: Int], reserves: [String: Int]?, category: String) -> Int? {
        if let stated = reserves?[category] { return stated }
        guard let percent = self.reserves?.percent, let count = counts[category] else { return nil }
        return Int((Double(count) * percent / 100).rounded(.up))
    }
}
