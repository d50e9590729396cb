import Foundation

/// What a venue's records amount to so far: the chain head and the records still in effect, and the
/// rules every next record must keep. The venue node and the aggregator hold the same ledger, built
/// from the records themselves, so they judge a record alike and can never disagree with the records.
///
/// The rules (`RecordRule`): one check-in per representative and per person per session; a box opened
/// once and closed once; ballots only into a box whose counts were recorded at closing, and never more
/// ballots than it returned; corrections refer to an earlier record not yet corrected and replace it
/// with one of its kind.
public struct Ledger: Sendable {
    public var headSeq: Int64 = 0
    public var headHash: String = RecordChain.genesis
    /// Effective content of each record that still counts (originals not corrected, replacements).
    public var content: [Int64: RecordPayload] { contentMap.storage }
    /// Corrected record → the correction that superseded it.
    public var supersededBy: [Int64: Int64] { supersededMap.storage }
    /// Records taken into the chain but held out of the totals (the aggregator's decision; see `holdOut`).
    public private(set) var heldOut: Set<Int64> = []
    private var contentMap = TrackedMap<Int64, RecordPayload>()
    /// Kind of the original record each record stands for (a correction: its target's).
    private var rootKind = TrackedMap<Int64, RecordPayload.Kind>()
    private var supersededMap = TrackedMap<Int64, Int64>()
    private var checkins = TrackedMap<String, Int64>()
    private var persons = TrackedMap<String, Int64>()
    private var openedBoxes = TrackedMap<String, Int64>()
    /// Box → the record in effect that closed it, and the number of forms it returned.
    private var closedBoxes = TrackedMap<String, ClosedBox>()
    /// Box → ballots in effect.
    private var ballotsInBox = TrackedMap<String, Int>()
    /// Box and kind of form → forms of that kind in effect (version 5).
    private var formsInBox = TrackedMap<String, Int>()
    /// Session, box and digest of an import's rows → the import record.
    private var imports = TrackedMap<String, Int64>()

    struct ClosedBox: Sendable, Equatable {
        var seq: Int64
        var returned: Int
        /// Forms other than the ballot it returned, by kind (none: the closing names none).
        var forms: [String: Int] = [:]

        /// `seq,returned`, then `,kind=count;…` when it names forms.
        var encoded: String {
            let base = "\(seq),\(returned)"
            guard !forms.isEmpty else { return base }
            return base + "," + forms.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }.joined(separator: ";")
        }

        init(seq: Int64, returned: Int, forms: [String: Int] = [:]) {
            self.seq = seq
            self.returned = returned
            self.forms = forms
        }

        init?(encoded: String) {
            let parts = encoded.split(separator: ",", omittingEmptySubsequences: false)
            guard parts.count == 2 || parts.count == 3, let seq = Int64(parts[0]), let returned = Int(parts[1]) else {
                return nil
            }
            var forms: [String: Int] = [:]
            if parts.count == 3 {
                for entry in parts[2].split(separator: ";") {
                    let pair = entry.split(separator: "=")
                    guard pair.count == 2, let count = Int(pair[1]) else { return nil }
                    forms[String(pair[0])] = count
                }
            }
            self.init(seq: seq, returned: returned, forms: forms)
        }
    }

    public init() {}

    /// How `admit` treats a record that breaks a rule.
    public enum Mode: Sendable {
        /// Refuse it (a new record): nothing of the ledger changes.
        case judge
        /// Take it in as it is (a record already stored, judged when it was saved, possibly by an older
        /// release with fewer rules): no venue is ever blocked by its own history.
        case replay
    }

    /// What taking a record in does to the totals.
    public enum Effect: Sendable {
        /// Nothing.
        case none
        /// A new record now counts: its `contribution`, each counter once (the usual case; a caller that sums
        /// many records may add it up its own way).
        case adds(RecordPayload)
        /// Counters change by these amounts (a correction: its target's contribution out, its replacement's in).
        case changes([(counter: Counter, value: Int)])

        /// The change to each counter, none of them zero.
        public var delta: [(counter: Counter, value: Int)] {
            switch self {
            case .none: []
            case .adds(let payload): payload.contribution.filter { $0.value != 0 }
            case .changes(let delta): delta
            }
        }
    }

    /// Checks `payload` as the next record against the event (when given) and the rules, and takes it in.
    /// Returns what it changes in the totals. In `.judge` mode a refusal changes nothing.
    @discardableResult
    public mutating func admit(
        _ payload: RecordPayload, event: EventDefinition?,
        mode: Mode = .judge
    ) throws(RecordRejection) -> [(counter: Counter, value: Int)] {
        try admitEffect(payload, event: event, mode: mode).delta
    }

    /// `admit`, saying what the record does to the totals without listing its counters.
    @discardableResult
    public mutating func admitEffect(
        _ payload: RecordPayload, event: EventDefinition?,
        mode: Mode = .judge
    ) throws(RecordRejection) -> Effect {
        if let event, mode == .judge { try payload.check(against: event) }
        let seq = headSeq + 1
        // What the record takes out of effect and what it puts in.
        var removed: (seq: Int64, payload: RecordPayload)?
        let added: RecordPayload?
        let kind: RecordPayload.Kind
        if case .correction(let correction) = payload {
            guard correction.target >= 1, correction.target < seq, let targetKind = rootKind[correction.target] else {
                if mode == .judge {
                    throw RecordRejection(
                        "record \(correction.target) does not exist; a correction must refer to an earlier record",
                        rule: .badCorrection)
                }
                rootKind[seq] = .correction
                headSeq = seq
                return .none
            }
            if mode == .judge {
                if let by = supersededMap[correction.target] {
                    throw RecordRejection(
                        "record \(correction.target) was already corrected by record \(by); correct record \(by) instead",
                        rule: .badCorrection)
                }
                if targetKind == .imported {
                    throw RecordRejection(
                        "record \(correction.target) marks an import; correct the records it brought instead",
                        rule: .badCorrection)
                }
                if let replacement = correction.replacement, replacement.kind != targetKind {
                    throw RecordRejection(
                        "record \(correction.target) is a \(targetKind.rawValue); its replacement must be one too, "
                            + "not a \(replacement.kind.rawValue)", rule: .badCorrection)
                }
            }
            removed = contentMap[correction.target].map { (correction.target, $0) }
            added = correction.replacement
            kind = targetKind
            // A form stays the kind of form it is (a suggestion is not corrected into a survey).
            if mode == .judge, case .form(let old)? = removed?.payload, case .form(let new)? = added,
                old.form != new.form
            {
                throw RecordRejection(
                    "record \(correction.target) is a \(old.form.rawValue) form; its replacement must be one too, "
                        + "not a \(new.form.rawValue) form", rule: .badCorrection)
            }
        } else {
            added = payload
            kind = payload.kind
        }
        if mode == .judge { try checkRules(adding: added, removing: removed, seq: seq) }
        // Nothing below throws: the record is taken in.
        if case .correction(let correction) = payload { supersededMap[correction.target] = seq }
        rootKind[seq] = kind
        headSeq = seq
        guard let removed else {
            // A new record, the usual case: what it adds, each counter once.
            guard let added else { return .none }
            remember(added, seq: seq)
            contentMap[seq] = added
            return .adds(added)
        }
        var delta: [Counter: Int] = [:]
        contentMap[removed.seq] = nil
        forget(removed.payload, seq: removed.seq)
        for (counter, value) in removed.payload.contribution { delta[counter, default: 0] -= value }
        if let added {
            remember(added, seq: seq)
            contentMap[seq] = added
            for (counter, value) in added.contribution { delta[counter, default: 0] += value }
        }
        return .changes(delta.filter { $0.value != 0 }.map { (counter: $0.key, value: $0.value) })
    }

    /// Takes a record into the chain without letting it have any effect: the aggregator holds out a
    /// record an older release wrote that breaks a rule, until an admin decides (a held-out correction
    /// corrects nothing meanwhile).
    public mutating func holdOut(_ payload: RecordPayload) {
        let seq = headSeq + 1
        if case .correction(let correction) = payload {
            rootKind[seq] = rootKind[correction.target] ?? .correction
        } else {
            rootKind[seq] = payload.kind
        }
        heldOut.insert(seq)
        headSeq = seq
    }

    /// Why a held-out record cannot be released.
    public struct ReleaseRefusal: Error, Sendable, CustomStringConvertible {
        public var description: String
    }

    /// An admin decided that held-out record `seq` counts after all: it takes effect now, as it is (a
    /// correction takes its target out of effect, if nothing else corrected it since). Returns the change
    /// to the totals and the record it supersedes, if any.
    public mutating func release(_ seq: Int64, payload: RecordPayload) throws(ReleaseRefusal) -> (
        delta: [Counter: Int], supersedes: Int64?
    ) {
        guard heldOut.contains(seq) else { throw ReleaseRefusal(description: "record \(seq) is not held out") }
        if let by = supersededMap[seq] {
            throw ReleaseRefusal(
                description: "record \(seq) was corrected by record \(by) meanwhile: nothing is left to count")
        }
        var delta: [Counter: Int] = [:]
        var supersedes: Int64?
        let effective: RecordPayload?
        // Judged by the rules against the venue's records as they stand, as a new record would be.
        do {
            if case .correction(let correction) = payload {
                try checkRules(
                    adding: correction.replacement,
                    removing: contentMap[correction.target].map { (correction.target, $0) }, seq: seq)
            } else {
                try checkRules(adding: payload, removing: nil, seq: seq)
            }
        } catch {
            throw ReleaseRefusal(description: error.message)
        }
        if case .correction(let correction) = payload {
            if let by = supersededMap[correction.target] {
                throw ReleaseRefusal(
                    description: "its target, record \(correction.target), was corrected by record \(by) meanwhile")
            }
            guard correction.target < seq, rootKind[correction.target] != nil else {
                throw ReleaseRefusal(description: "its target, record \(correction.target), does not exist")
            }
            if heldOut.contains(correction.target) {
                throw ReleaseRefusal(
                    description: "its target, record \(correction.target), is held out too: decide that one first")
            }
            supersededMap[correction.target] = seq
            supersedes = correction.target
            if let old = contentMap.removeValue(forKey: correction.target) {
                forget(old, seq: correction.target)
                for (counter, value) in old.contribution { delta[counter, default: 0] -= value }
            }
            effective = correction.replacement
        } else {
            effective = payload
        }
        heldOut.remove(seq)
        if let effective {
            remember(effective, seq: seq)
            contentMap[seq] = effective
            for (counter, value) in effective.contribution { delta[counter, default: 0] += value }
        }
        return (delta.filter { $0.value != 0 }, supersedes)
    }

    /// Whether the content and kind of record `seq` are held (a record of this batch, or loaded).
    public func holdsRecord(_ seq: Int64) -> Bool { rootKind[seq] != nil }

    /// Takes in a stored record as `admit` left it: the kind of the original it stands for, and its content
    /// (the payload, or a correction's replacement), which counts unless it was corrected since or is held out.
    public mutating func loadStoredRecord(seq: Int64, rootKind kind: RecordPayload.Kind, content: RecordPayload?) {
        rootKind.load(seq, kind)
        if let content, supersededMap[seq] == nil, !heldOut.contains(seq) { contentMap.load(seq, content) }
    }

    /// The import record that already brought these very rows into this box, if any.
    public func earlierImport(session: String, box: String, digest: String) -> Int64? {
        imports[Self.key(session, box, digest)]
    }

    /// Ballots in effect in a box, and what its closing record says it returned (nil: not closed).
    public func box(session: String, box: String) -> (ballots: Int, returned: Int?) {
        let key = Self.key(session, box)
        return (ballotsInBox[key] ?? 0, closedBoxes[key]?.returned)
    }

    private func checkRules(
        adding added: RecordPayload?, removing removed: (seq: Int64, payload: RecordPayload)?,
        seq: Int64
    ) throws(RecordRejection) {
        let removedSeq = removed?.seq
        // A box whose closing is taken away or changed must still hold no more ballots than it returned.
        if case .boxClosed(let old)? = removed?.payload {
            let key = Self.key(old.session, old.box)
            // Forms held stay within what the closing, changed, says (taken away: none may be held).
            for form in RecordPayload.FormKind.allCases {
                let held = formsInBox[Self.key(old.session, old.box, form.rawValue)] ?? 0
                var still = 0
                if case .boxClosed(let new)? = added, Self.key(new.session, new.box) == key {
                    still = new.returned(form)
                }
                if held > still {
                    throw RecordRejection(
                        "box \(old.box) of session \(old.session) already holds \(held) \(form.rawValue) form(s): its "
                            + "closing cannot say fewer; correct those forms first", rule: .formsOverReturned)
                }
            }
            let held = ballotsInBox[key] ?? 0
            var stillReturned: Int?
            if case .boxClosed(let new)? = added, Self.key(new.session, new.box) == key { stillReturned = new.returned }
            if held > 0, held > (stillReturned ?? -1) {
                throw RecordRejection(
                    stillReturned.map {
                        "box \(old.box) of session \(old.session) already holds \(held) ballot(s): it cannot be said to have returned \($0); "
                            + "correct its ballots first"
                    }
                        ?? "box \(old.box) of session \(old.session) already holds \(held) ballot(s): its closing cannot be taken away; "
                        + "correct its counts with a replacement instead", rule: .ballotsOverReturned)
            }
        }
        switch added {
        case .checkin(let checkin)?:
            if let earlier = checkins[Self.key(checkin.session, checkin.rep)], earlier != removedSeq {
                throw RecordRejection(
                    "representative \(checkin.rep) already checked in for session \(checkin.session) (record \(earlier))",
                    rule: .duplicateCheckin)
            }
            if let person = checkin.person, let earlier = persons[Self.key(checkin.session, person)],
                earlier != removedSeq
            {
                throw RecordRejection(
                    "this person already checked in for session \(checkin.session) (record \(earlier))",
                    rule: .duplicateCheckin)
            }
        case .boxOpened(let box)?:
            if let earlier = openedBoxes[Self.key(box.session, box.box)], earlier != removedSeq {
                throw RecordRejection(
                    "box \(box.box) of session \(box.session) is already open (record \(earlier))",
                    rule: .boxOpenedTwice)
            }
        case .boxClosed(let box)?:
            let key = Self.key(box.session, box.box)
            if let earlier = closedBoxes[key], earlier.seq != removedSeq {
                throw RecordRejection(
                    "box \(box.box) of session \(box.session) is already closed (record \(earlier.seq)); "
                        + "correct that record to change its counts", rule: .boxClosedTwice)
            }
            let held = ballotsInBox[key] ?? 0
            if held > box.returned {
                throw RecordRejection(
                    "box \(box.box) of session \(box.session) already holds \(held) ballot(s), more than the "
                        + "\(box.returned) returned", rule: .ballotsOverReturned)
            }
            for form in RecordPayload.FormKind.allCases {
                let held = formsInBox[Self.key(box.session, box.box, form.rawValue)] ?? 0
                if held > box.returned(form) {
                    throw RecordRejection(
                        "box \(box.box) of session \(box.session) already holds \(held) \(form.rawValue) form(s), more "
                            + "than the \(box.returned(form)) returned", rule: .formsOverReturned)
                }
            }
        case .ballot(let ballot)?:
            let key = Self.key(ballot.session, ballot.box)
            guard let closed = closedBoxes[key] else {
                let opened = openedBoxes[key].map { " (opened by record \($0))" } ?? ""
                throw RecordRejection(
                    "box \(ballot.box) of session \(ballot.session) is not closed\(opened): ballots are entered "
                        + "after `venue-node box close --session \(ballot.session) --box \(ballot.box) --issued N --returned N` "
                        + "records its counts", rule: .ballotBoxNotClosed)
            }
            var held = ballotsInBox[key] ?? 0
            if case .ballot(let old)? = removed?.payload, Self.key(old.session, old.box) == key { held -= 1 }
            if held + 1 > closed.returned {
                throw RecordRejection(
                    "box \(ballot.box) of session \(ballot.session) returned \(closed.returned) form(s) "
                        + "(record \(closed.seq)) and already holds \(held) ballot(s): one more would make \(held + 1)",
                    rule: .ballotsOverReturned)
            }
        case .form(let form)?:
            let key = Self.key(form.session, form.box)
            guard let closed = closedBoxes[key] else {
                throw RecordRejection(
                    "box \(form.box) of session \(form.session) is not closed: forms are entered after its closing "
                        + "records how many of each it returned", rule: .formBoxNotClosed)
            }
            let kind = form.form.rawValue
            var held = formsInBox[Self.key(form.session, form.box, kind)] ?? 0
            if case .form(let old)? = removed?.payload, old.form == form.form, Self.key(old.session, old.box) == key {
                held -= 1
            }
            let returned = closed.forms[kind] ?? 0
            if held + 1 > returned {
                throw RecordRejection(
                    "box \(form.box) of session \(form.session) returned \(returned) \(kind) form(s) (record \(closed.seq)) "
                        + "and already holds \(held): one more would make \(held + 1)", rule: .formsOverReturned)
            }
        case .correction?, .imported?, nil:
            break
        }
    }

    /// The key of a session's representative, person or box (short enough, for usual ids, to need no allocation).
    private static func key(_ first: String, _ second: String) -> String { first + "\u{1F}" + second }
    private static func key(_ first: String, _ second: String, _ third: String) -> String {
        first + "\u{1F}" + second + "\u{1F}" + third
    }

    private mutating func remember(_ payload: RecordPayload, seq: Int64) {
        switch payload {
        case .checkin(let checkin):
            let key = Self.key(checkin.session, checkin.rep)
            if checkins[key] == nil { checkins[key] = seq }
            if let person = checkin.person, persons[Self.key(checkin.session, person)] == nil {
                persons[Self.key(checkin.session, person)] = seq
            }
        case .boxOpened(let box):
            let key = Self.key(box.session, box.box)
            if openedBoxes[key] == nil { openedBoxes[key] = seq }
        case .boxClosed(let box):
            let key = Self.key(box.session, box.box)
            if closedBoxes[key] == nil {
                closedBoxes[key] = ClosedBox(seq: seq, returned: box.returned, forms: box.forms ?? [:])
            }
        case .form(let form):
            formsInBox[Self.key(form.session, form.box, form.form.rawValue), default: 0] += 1
        case .ballot(let ballot):
            ballotsInBox[Self.key(ballot.session, ballot.box), default: 0] += 1
        case .imported(let imported):
            for group in imported.groups {
                imports[Self.key(group.session, group.box, group.digest)] = seq
            }
        case .correction:
            break
        }
    }

    private mutating func forget(_ payload: RecordPayload, seq: Int64) {
        func drop(_ map: inout TrackedMap<String, Int64>, _ key: String) { if map[key] == seq { map[key] = nil } }
        switch payload {
        case .checkin(let checkin):
            drop(&checkins, Self.key(checkin.session, checkin.rep))
            if let person = checkin.person { drop(&persons, Self.key(checkin.session, person)) }
        case .boxOpened(let box): drop(&openedBoxes, Self.key(box.session, box.box))
        case .boxClosed(let box):
            let key = Self.key(box.session, box.box)
            if closedBoxes[key]?.seq == seq { closedBoxes[key] = nil }
        case .ballot(let ballot):
            ballotsInBox[Self.key(ballot.session, ballot.box), default: 0] -= 1
        case .form(let form):
            formsInBox[Self.key(form.session, form.box, form.form.rawValue), default: 0] -= 1
        case .imported, .correction: break
        }
    }

    /// Sums of the records in effect (a node's own view of its totals).
    public var totals: [Counter: Int] {
        var result: [Counter: Int] = [:]
        for payload in contentMap.storage.values {
            for (counter, delta) in payload.contribution { result[counter, default: 0] += delta }
        }
        return result
    }
}

/// A dictionary that can note which keys were written since tracking began, so that a store keeping the
/// ledger in tables writes back only what a new record changed.
struct TrackedMap<Key: Hashable & Sendable, Value: Sendable>: Sendable {
    private(set) var storage: [Key: Value] = [:]
    private(set) var touched: Set<Key> = []
    var tracking = false

    subscript(key: Key) -> Value? {
        get { storage[key] }
        set {
            storage[key] = newValue
            if tracking { touched.insert(key) }
        }
    }

    subscript(key: Key, default value: Value) -> Value {
        get { storage[key] ?? value }
        set { self[key] = newValue }
    }

    @discardableResult
    mutating func removeValue(forKey key: Key) -> Value? {
        if tracking { touched.insert(key) }
        return storage.removeValue(forKey: key)
    }

    /// Sets a value read from a store, without noting it as written.
    mutating func load(_ key: Key, _ value: Value) { storage[key] = value }

    mutating func startTracking() {
        tracking = true
        touched = []
    }
}

/// One entry of a ledger kept in a table: which of its maps, which key, and the value (nil: removed).
public struct LedgerEntry: Sendable, Equatable {
    public var map: String
    public var key: String
    public var value: String?

    public init(map: String, key: String, value: String?) {
        self.map = map
        self.key = key
        self.value = value
    }
}

/// A ledger kept in a table instead of rebuilt from every record: a store loads only the entries that the
/// records to judge touch (`keysNeeded`), judges them, and writes back what changed (`changedEntries`).
/// The rules are the same code either way.
extension Ledger {
    /// Entries needed to judge `payloads`: the keys they touch, and for a correction its target's entries.
    /// After loading those, call it again with the loaded targets' contents (`loadedContents`).
    public static func keysNeeded(for payloads: [RecordPayload]) -> [(map: String, key: String)] {
        var keys: [(map: String, key: String)] = []
        func add(_ payload: RecordPayload) {
            switch payload {
            case .checkin(let checkin):
                keys.append(("c", key(checkin.session, checkin.rep)))
                if let person = checkin.person { keys.append(("p", key(checkin.session, person))) }
            case .boxOpened(let box):
                keys.append(("o", key(box.session, box.box)))
            case .boxClosed(let box):
                keys += [("x", key(box.session, box.box)), ("b", key(box.session, box.box))]
                for form in RecordPayload.FormKind.allCases {
                    keys.append(("f", key(box.session, box.box, form.rawValue)))
                }
            case .ballot(let ballot):
                let box = key(ballot.session, ballot.box)
                keys += [("x", box), ("b", box), ("o", box)]
            case .form(let form):
                keys += [
                    ("x", key(form.session, form.box)), ("f", key(form.session, form.box, form.form.rawValue)),
                ]
            case .imported(let imported):
                for group in imported.groups { keys.append(("i", key(group.session, group.box, group.digest))) }
            case .correction(let correction):
                keys += [("t", "\(correction.target)"), ("k", "\(correction.target)"), ("s", "\(correction.target)")]
                if let replacement = correction.replacement { add(replacement) }
            }
        }
        payloads.forEach(add)
        return keys
    }

    /// The contents loaded so far (to ask `keysNeeded` for what forgetting them touches).
    public var loadedContents: [RecordPayload] { Array(contentMap.storage.values) }

    /// Takes in entries read from a store, as they are.
    public mutating func load(_ entries: [LedgerEntry]) {
        for entry in entries {
            guard let value = entry.value else { continue }
            switch entry.map {
            case "t":
                if let seq = Int64(entry.key), let payload = try? RecordPayload.decode(json: value) {
                    contentMap.load(seq, payload)
                }
            case "k":
                if let seq = Int64(entry.key), let kind = RecordPayload.Kind(rawValue: value) {
                    rootKind.load(seq, kind)
                }
            case "s": if let seq = Int64(entry.key), let by = Int64(value) { supersededMap.load(seq, by) }
            case "c": if let seq = Int64(value) { checkins.load(entry.key, seq) }
            case "p": if let seq = Int64(value) { persons.load(entry.key, seq) }
            case "o": if let seq = Int64(value) { openedBoxes.load(entry.key, seq) }
            case "i": if let seq = Int64(value) { imports.load(entry.key, seq) }
            case "b": if let count = Int(value) { ballotsInBox.load(entry.key, count) }
            case "f": if let count = Int(value) { formsInBox.load(entry.key, count) }
            case "x": if let closed = ClosedBox(encoded: value) { closedBoxes.load(entry.key, closed) }
            default: break
            }
        }
    }

    /// From now on, note what changes (`changedEntries`).
    public mutating func startTracking() {
        contentMap.startTracking()
        rootKind.startTracking()
        supersededMap.startTracking()
        checkins.startTracking()
        persons.startTracking()
        openedBoxes.startTracking()
        closedBoxes.startTracking()
        ballotsInBox.startTracking()
        formsInBox.startTracking()
        imports.startTracking()
    }

    /// Every entry written since `startTracking`, with its value now (nil: removed). Without `recordContents`, the
    /// records' contents and kinds (maps `t` and `k`) are left out: a store that reads those from its records keeps
    /// only what the rules need per representative, person, box, import and correction.
    public func changedEntries(recordContents: Bool = true) -> [LedgerEntry] {
        entries(onlyTouched: true, recordContents: recordContents)
    }

    /// Every entry of the ledger (see `changedEntries` for `recordContents`).
    public func allEntries(recordContents: Bool = true) -> [LedgerEntry] {
        entries(onlyTouched: false, recordContents: recordContents)
    }

    /// Takes in the records held out of the totals (a store that keeps them in a table of its own).
    public mutating func loadHeldOut(_ seqs: some Sequence<Int64>) { heldOut.formUnion(seqs) }

    private func entries(onlyTouched: Bool, recordContents: Bool) -> [LedgerEntry] {
        var result: [LedgerEntry] = []
        func collect<Key, Value>(_ name: String, _ map: TrackedMap<Key, Value>, _ encode: (Value) -> String) {
            let keys = onlyTouched ? Array(map.touched) : Array(map.storage.keys)
            for key in keys { result.append(LedgerEntry(map: name, key: "\(key)", value: map[key].map(encode))) }
        }
        if recordContents {
            collect("t", contentMap) { $0.canonicalJSON() }
            collect("k", rootKind) { $0.rawValue }
        }
        collect("s", supersededMap) { "\($0)" }
        collect("c", checkins) { "\($0)" }
        collect("p", persons) { "\($0)" }
        collect("o", openedBoxes) { "\($0)" }
        collect("i", imports) { "\($0)" }
        collect("b", ballotsInBox) { "\($0)" }
        collect("f", formsInBox) { "\($0)" }
        collect("x", closedBoxes) { $0.encoded }
        return result
    }
}
