import Foundation

/// What one record of a venue node's chain says. Every act at a venue is one record; nothing is
/// updated or deleted, and a mistake is fixed by a `correction` that refers to the record it corrects.
public indirect enum RecordPayload: Sendable, Equatable {
    case checkin(Checkin)
    case boxOpened(BoxOpened)
    case boxClosed(BoxClosed)
    case ballot(Ballot)
    case correction(Correction)
    /// Marks the start of a CSV import: which rows it brings, per box, so the same rows are not imported
    /// twice (its memory lives on the chain, so `restore` brings it back). Counts nothing itself.
    case imported(Imported)
    /// A form other than the ballot taken out of a box (version 5): a suggestion, an opinion survey or a discipline
    /// survey (issue #17).
    case form(Form)

    public enum Kind: String, Codable, Sendable, CaseIterable {
        case checkin
        case boxOpened = "box_opened"
        case boxClosed = "box_closed"
        case ballot
        case correction
        case imported = "import"
        case form

        /// The first payload version that knows this kind.
        public var since: Int {
            switch self {
            case .imported: 2
            case .form: 5
            default: 1
            }
        }
    }

    /// The payload version this release writes. Version 1 (release 1) carried no `v`; version 2 adds `v`
    /// and the `import` kind; version 3 adds who wrote a record at the venue's desk (`clerk` on check-ins,
    /// boxes and imports; `paper`, `keyers` and `lead` on a ballot keyed from paper); version 4 adds the `nonce` of a
    /// ballot cast on a phone (issue #16), from which its receipt is computed; version 5 adds the `form` kind (suggestions
    /// and surveys, issue #17) and the counts per form of a box's closing (`forms`). An aggregator accepts the versions
    /// it knows and is upgraded before the nodes.
    public static let currentVersion = 5

    /// The first payload version that can carry this payload: its kind's, 3 when it names a clerk, 4 when it is a
    /// ballot cast on a phone.
    public var minimumVersion: Int {
        var version = kind.since
        switch self {
        case .checkin(let value): if value.clerk != nil { version = max(version, 3) }
        case .boxOpened(let value): if value.clerk != nil { version = max(version, 3) }
        case .boxClosed(let value):
            if value.clerk != nil { version = max(version, 3) }
            if value.forms != nil { version = max(version, 5) }
        case .form: break
        case .ballot(let value):
            if value.paper != nil || value.keyers != nil || value.lead != nil { version = max(version, 3) }
            if value.nonce != nil { version = max(version, 4) }
        case .imported(let value):
            if value.clerk != nil { version = max(version, 3) }
            if value.form == "forms" { version = max(version, 5) }
        case .correction(let value):
            if let replacement = value.replacement {
                version = max(version, replacement.minimumVersion)
            }
        }
        return version
    }

    /// A representative checked in at the venue entrance (签到).
    public struct Checkin: Codable, Sendable, Equatable {
        public var session: String
        public var rep: String
        public var category: String
        /// The node's clock when recorded (informational: order comes from the sequence number).
        public var at: String?
        /// The person's key (keyed hash of the ID-card number), when the roster or an ID card identified them.
        public var person: String?
        /// Checked in without being on this venue's roster for this session (only where the event allows it).
        public var walkin: Bool?
        /// The desk clerk who checked them in (`name#id`, version 3); nil from the command line or an import.
        public var clerk: String?

        public init(
            session: String, rep: String, category: String, at: String? = nil, person: String? = nil,
            walkin: Bool? = nil, clerk: String? = nil
        ) {
            self.session = session
            self.rep = rep
            self.category = category
            self.at = at
            self.person = person
            self.walkin = walkin
            self.clerk = clerk
        }
    }

    /// A ballot box (票箱) was opened for a session.
    public struct BoxOpened: Codable, Sendable, Equatable {
        public var session: String
        public var box: String
        public var at: String?
        /// The clerk who opened it at the desk (`name#id`, version 3).
        public var clerk: String?

        public init(session: String, box: String, at: String? = nil, clerk: String? = nil) {
            self.session = session
            self.box = box
            self.at = at
            self.clerk = clerk
        }
    }

    /// A box was closed, with the number of ballots issued for it and returned into it.
    public struct BoxClosed: Codable, Sendable, Equatable {
        public var session: String
        public var box: String
        public var issued: Int
        public var returned: Int
        public var at: String?
        /// The clerk who closed it at the desk (`name#id`, version 3).
        public var clerk: String?
        /// The other forms found in it, by kind (`suggestion`, `survey`, `discipline`; version 5): none may be entered
        /// from a box beyond its count.
        public var forms: [String: Int]?

        public init(
            session: String, box: String, issued: Int, returned: Int, at: String? = nil, clerk: String? = nil,
            forms: [String: Int]? = nil
        ) {
            self.session = session
            self.box = box
            self.issued = issued
            self.returned = returned
            self.at = at
            self.clerk = clerk
            self.forms = forms
        }

        /// How many forms of this kind the box returned (0 when its closing names none).
        public func returned(_ form: FormKind) -> Int { forms?[form.rawValue] ?? 0 }
    }

    /// The forms handed in besides the ballot.
    public enum FormKind: String, Codable, Sendable, CaseIterable {
        /// 意见建议征集表: free text, the departments it concerns, a topic, a contact left with consent.
        case suggestion
        /// 社情民意调查问卷: anonymous, answers to the event's survey questions.
        case survey
        /// 纪律情况调查表: anonymous, answers to the discipline questions; some answers signal a breach.
        case discipline
    }

    /// One form taken out of a box and entered (version 5). Surveys carry nothing about a person; a suggestion
    /// carries its text with ID-card and telephone numbers masked (`PersonalNumbers`), and a contact only when the
    /// citizen consented to be called back.
    public struct Form: Codable, Sendable, Equatable {
        public var session: String
        public var box: String
        public var form: FormKind
        /// Survey and discipline: answer key (a question's id, or `question:department`) → the answer's id.
        public var answers: [String: String]?
        /// Suggestion: what the citizen wrote, numbers masked.
        public var text: String?
        /// Suggestion: the departments it concerns.
        public var departments: [String]?
        /// Suggestion: one of the event's topics.
        public var topic: String?
        /// Suggestion: how to reach the citizen, as given, only with `consent`.
        public var contact: String?
        public var consent: Bool?
        /// The number the counting table gave the paper in its box (1…returned), when keyed from paper.
        public var paper: Int?
        /// The clerk who entered it (`name#id`).
        public var clerk: String?

        public init(
            session: String, box: String, form: FormKind, answers: [String: String]? = nil, text: String? = nil,
            departments: [String]? = nil, topic: String? = nil, contact: String? = nil, consent: Bool? = nil,
            paper: Int? = nil, clerk: String? = nil
        ) {
            self.session = session
            self.box = box
            self.form = form
            self.answers = answers
            self.text = text
            self.departments = departments
            self.topic = topic
            self.contact = contact
            self.consent = consent
            self.paper = paper
            self.clerk = clerk
        }
    }

    public enum BallotStatus: String, Codable, Sendable, CaseIterable {
        /// One mark per department on the session's ballot.
        case valid
        /// Returned with no mark at all (空白票).
        case blank
        /// Unreadable or marked against the rules (废票).
        case spoiled
    }

    /// One evaluation ballot (评议票) taken out of a box. It carries no time and nothing about a person.
    public struct Ballot: Codable, Sendable, Equatable {
        public var session: String
        public var box: String
        public var status: BallotStatus
        /// Department id → mark id; empty unless `status` is `valid`.
        public var marks: [String: String]
        /// Keyed at the desk (version 3): the number the counting table gave the paper in its box (1…returned),
        public var paper: Int?
        /// the two clerks whose passes agreed or differed (`name#id`),
        public var keyers: [String]?
        /// and the lead who decided the paper where the passes differed.
        public var lead: String?
        /// Cast on a phone (version 4): 32 random hexadecimal digits drawn by the node when the ballot was sealed,
        /// so that two equal ballots have different receipts (`receipt`). Says nothing about who cast it or when.
        public var nonce: String?

        public init(
            session: String, box: String, status: BallotStatus, marks: [String: String] = [:], paper: Int? = nil,
            keyers: [String]? = nil, lead: String? = nil, nonce: String? = nil
        ) {
            self.session = session
            self.box = box
            self.status = status
            self.marks = marks
            self.paper = paper
            self.keyers = keyers
            self.lead = lead
            self.nonce = nonce
        }
    }

    /// Supersedes an earlier record: it no longer counts, and `replacement`, if any, counts instead.
    public struct Correction: Codable, Sendable, Equatable {
        /// Sequence number of the record corrected (of this same node).
        public var target: Int64
        public var reason: String
        /// Who made the correction.
        public var `operator`: String
        public var replacement: RecordPayload?
        public var at: String?

        public init(target: Int64, reason: String, operator: String, replacement: RecordPayload?, at: String? = nil) {
            self.target = target
            self.reason = reason
            self.operator = `operator`
            self.replacement = replacement
            self.at = at
        }
    }

    /// A CSV import: the file's name (no directory) and, per session and box (box empty for check-ins),
    /// how many rows it brings and the digest of their multiset.
    public struct Imported: Codable, Sendable, Equatable {
        public struct Group: Codable, Sendable, Equatable {
            public var session: String
            public var box: String
            public var rows: Int
            /// SHA-256 of the rows' canonical payloads, sorted: the same rows in any order, with any line
            /// ends or encoding, give the same digest.
            public var digest: String

            public init(session: String, box: String, rows: Int, digest: String) {
                self.session = session
                self.box = box
                self.rows = rows
                self.digest = digest
            }
        }

        public var file: String
        /// `ballots` or `checkins`.
        public var form: String
        public var groups: [Group]
        public var at: String?
        /// The clerk who uploaded the file at the desk (`name#id`, version 3).
        public var clerk: String?

        public init(file: String, form: String, groups: [Group], at: String? = nil, clerk: String? = nil) {
            self.file = file
            self.form = form
            self.groups = groups
            self.at = at
            self.clerk = clerk
        }
    }

    public var kind: Kind {
        switch self {
        case .checkin: .checkin
        case .boxOpened: .boxOpened
        case .boxClosed: .boxClosed
        case .ballot: .ballot
        case .correction: .correction
        case .imported: .imported
        case .form: .form
        }
    }
}

extension RecordPayload: Codable {
    private enum KindKey: String, CodingKey { case kind }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: KindKey.self)
        switch try container.decode(Kind.self, forKey: .kind) {
        case .checkin: self = .checkin(try Checkin(from: decoder))
        case .boxOpened: self = .boxOpened(try BoxOpened(from: decoder))
        case .boxClosed: self = .boxClosed(try BoxClosed(from: decoder))
        case .ballot: self = .ballot(try Ballot(from: decoder))
        case .correction: self = .correction(try Correction(from: decoder))
        case .imported: self = .imported(try Imported(from: decoder))
        case .form: self = .form(try Form(from: decoder))
        }
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: KindKey.self)
        try container.encode(kind, forKey: .kind)
        switch self {
        case .checkin(let value): try value.encode(to: encoder)
        case .boxOpened(let value): try value.encode(to: encoder)
        case .boxClosed(let value): try value.encode(to: encoder)
        case .ballot(let value): try value.encode(to: encoder)
        case .correction(let value): try value.encode(to: encoder)
        case .imported(let value): try value.encode(to: encoder)
        case .form(let value): try value.encode(to: encoder)
        }
    }
}

extension RecordPayload {
    /// The exact bytes stored and hashed: JSON with sorted keys, so equal payloads give equal bytes.
    /// (Payload keys are single words: no key strategy, which would also rewrite department ids.)
    /// New records carry `"v": currentVersion` at the top level (a correction's replacement does not).
    /// Written by a small encoder of its own (Foundation's `JSONEncoder` was the largest cost of ingest in
    /// the profile); it gives the same bytes as `foundationCanonicalJSON` (`CanonicalJSONTests`).
    public func canonicalJSON(version: Int = RecordPayload.currentVersion) -> String {
        var output = CanonicalWriter()
        output.write(self, version: version)
        return String(decoding: output.bytes, as: UTF8.self)
    }

    /// The same canonical form, written by Foundation's `JSONEncoder` (sorted keys, slashes not escaped).
    public func foundationCanonicalJSON(version: Int = RecordPayload.currentVersion) -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        // Encoding plain strings and integers cannot fail.
        let data = try! encoder.encode(Versioned(payload: self, version: version))
        return String(decoding: data, as: UTF8.self)
    }

    /// Parses payload JSON as stored in a record (any version; unknown fields are ignored).
    public static func decode(json: String) throws -> RecordPayload {
        // Stored payloads are in canonical form: read by the fast path, else by `JSONDecoder`.
        if let fast = fastStrict(json: json) { return fast.payload }
        let decoder = JSONDecoder()
        return try decoder.decode(RecordPayload.self, from: Data(json.utf8))
    }

    /// A payload that is not exactly what this release would write for its version.
    public struct StrictDecodingError: Error, Sendable, CustomStringConvertible {
        public var description: String
    }

    /// Parses payload JSON and checks it strictly, as the aggregator must of what a node sends: a version
    /// this release knows, a kind that version has, and no field the version does not define (the JSON
    /// must be byte for byte the canonical form of what it decodes to).
    public static func decodeStrict(json: String) throws(StrictDecodingError) -> (payload: RecordPayload, version: Int)
    {
        // The fast path: read by `JSONParser`, written again by this release's encoder, byte for byte the same.
        // Anything else takes `JSONDecoder`'s path, which gives the answer (and the message) it always gave.
        if let fast = fastStrict(json: json) { return fast }
        return try decodeStrictWithFoundation(json: json)
    }

    /// `decodeStrict` by `JSONDecoder` alone (the fast path's reference in `CanonicalJSONTests`).
    static func decodeStrictWithFoundation(json: String) throws(StrictDecodingError) -> (
        payload: RecordPayload, version: Int
    ) {
        /// The payload and its version, in one pass over the JSON.
        struct Versioned: Decodable {
            var payload: RecordPayload
            var version: Int
            private enum VersionKey: String, CodingKey { case v }

            init(from decoder: any Decoder) throws {
                payload = try RecordPayload(from: decoder)
                version = try decoder.container(keyedBy: VersionKey.self).decodeIfPresent(Int.self, forKey: .v) ?? 1
            }
        }
        let version: Int
        let payload: RecordPayload
        do {
            (payload, version) = try {
                let decoded = try JSONDecoder().decode(Versioned.self, from: Data(json.utf8))
                return (decoded.payload, decoded.version)
            }()
        } catch {
            throw StrictDecodingError(description: "the payload is not a record: \(error)")
        }
        guard (1...currentVersion).contains(version) else {
            throw StrictDecodingError(
                description: "payload version \(version) is not known to this release (it knows 1…\(currentVersion)): "
                    + "upgrade the aggregator before the nodes")
        }
        guard payload.kind.since <= version else {
            throw StrictDecodingError(
                description:
                    "record kind \"\(payload.kind.rawValue)\" needs payload version \(payload.kind.since), not \(version)"
            )
        }
        guard payload.minimumVersion <= version else {
            throw StrictDecodingError(
                description: payload.minimumVersion == 4
                    ? "a ballot cast on a phone (with a nonce) needs payload version 4, not \(version)"
                    : "a record naming a clerk needs payload version \(payload.minimumVersion), not \(version)")
        }
        // Written by this release's encoder or, as release 1 wrote it, by Foundation's: either canonical form.
        guard
            payload.canonicalJSON(version: version) == json || payload.foundationCanonicalJSON(version: version) == json
        else {
            throw StrictDecodingError(
                description: "the payload has fields that a version \(version) record of kind "
                    + "\"\(payload.kind.rawValue)\" does not define, or is not in canonical form")
        }
        return (payload, version)
    }
}

/// A payload with its version at the top level (`v`, left out for version 1).
private struct Versioned: Encodable {
    var payload: RecordPayload
    var version: Int

    private enum VersionKey: String, CodingKey { case v }

    func encode(to encoder: any Encoder) throws {
        try payload.encode(to: encoder)
        if version > 1 {
            var container = encoder.container(keyedBy: VersionKey.self)
            try container.encode(version, forKey: .v)
        }
    }
}
