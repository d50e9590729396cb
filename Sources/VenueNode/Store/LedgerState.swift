import Foundation
import Shared

/// What the node's records amount to so far: the chain head and the records still in effect. Built
/// from the records themselves, so it is never stored and can never disagree with them.
struct LedgerState {
    var headSeq: Int64 = 0
    var headHash: String = RecordChain.genesis
    /// Effective content of each record that still counts (originals not corrected, replacements).
    private(set) var content: [Int64: RecordPayload] = [:]
    /// Kind of the original record each record stands for (a correction: its target's).
    private(set) var rootKind: [Int64: RecordPayload.Kind] = [:]
    /// Corrected record → the correction that superseded it.
    private(set) var supersededBy: [Int64: Int64] = [:]
    private var checkins: [String: Int64] = [:]
    private var persons: [String: Int64] = [:]
    private var openedBoxes: [String: Int64] = [:]
    private var closedBoxes: [String: Int64] = [:]

    /// Checks `payload` as the next record and, if it may follow, takes it in. Without an event
    /// (records read back from the store) only the chain's own rules are checked.
    mutating func admit(_ payload: RecordPayload, event: EventDefinition?) throws(RecordRejection) {
        if let event { try payload.check(against: event) }
        let ballotToAdmit: RecordPayload.Ballot? = switch payload {
        case .ballot(let ballot): ballot
        case .correction(let correction): if case .ballot(let ballot)? = correction.replacement { ballot } else { nil }
        default: nil
        }
        if event != nil, let ballot = ballotToAdmit {
            // Ballots are entered when their box is counted, after it is closed: neither their order nor
            // their time then follows the check-in desk. (Records already stored are not re-judged.)
            let key = Self.key(ballot.session, ballot.box)
            if let opened = openedBoxes[key], closedBoxes[key] == nil {
                throw RecordRejection("box \(ballot.box) of session \(ballot.session) is still open (record \(opened)): "
                    + "enter its ballots when it is counted, after `venue-node box close`")
            }
        }
        let seq = headSeq + 1
        switch payload {
        case .correction(let correction):
            guard correction.target >= 1, correction.target < seq, let kind = rootKind[correction.target] else {
                throw RecordRejection("record \(correction.target) does not exist; a correction must refer to an earlier record")
            }
            if let by = supersededBy[correction.target] {
                throw RecordRejection("record \(correction.target) was already corrected by record \(by); correct record \(by) instead")
            }
            if let replacement = correction.replacement, replacement.kind != kind {
                throw RecordRejection("record \(correction.target) is a \(kind.rawValue); its replacement must be one too, not a \(replacement.kind.rawValue)")
            }
            let old = content.removeValue(forKey: correction.target)
            supersededBy[correction.target] = seq
            if let old { forget(old) }
            if let replacement = correction.replacement {
                try remember(replacement, seq: seq)
                content[seq] = replacement
            }
            rootKind[seq] = kind
        default:
            try remember(payload, seq: seq)
            content[seq] = payload
            rootKind[seq] = payload.kind
        }
        headSeq = seq
    }

    private static func key(_ parts: String...) -> String { parts.joined(separator: "\u{1F}") }

    private mutating func remember(_ payload: RecordPayload, seq: Int64) throws(RecordRejection) {
        switch payload {
        case .checkin(let checkin):
            let key = Self.key(checkin.session, checkin.rep)
            if let earlier = checkins[key] {
                throw RecordRejection("representative \(checkin.rep) already checked in for session \(checkin.session) (record \(earlier))")
            }
            if let person = checkin.person {
                let personKey = Self.key(checkin.session, person)
                if let earlier = persons[personKey] {
                    throw RecordRejection("this person already checked in for session \(checkin.session) (record \(earlier))")
                }
                persons[personKey] = seq
            }
            checkins[key] = seq
        case .boxOpened(let box):
            let key = Self.key(box.session, box.box)
            if let earlier = openedBoxes[key] {
                throw RecordRejection("box \(box.box) of session \(box.session) is already open (record \(earlier))")
            }
            openedBoxes[key] = seq
        case .boxClosed(let box):
            let key = Self.key(box.session, box.box)
            if let earlier = closedBoxes[key] {
                throw RecordRejection("box \(box.box) of session \(box.session) is already closed (record \(earlier)); correct that record to change its counts")
            }
            closedBoxes[key] = seq
        case .ballot, .correction:
            break
        }
    }

    private mutating func forget(_ payload: RecordPayload) {
        switch payload {
        case .checkin(let checkin):
            checkins[Self.key(checkin.session, checkin.rep)] = nil
            if let person = checkin.person { persons[Self.key(checkin.session, person)] = nil }
        case .boxOpened(let box): openedBoxes[Self.key(box.session, box.box)] = nil
        case .boxClosed(let box): closedBoxes[Self.key(box.session, box.box)] = nil
        case .ballot, .correction: break
        }
    }

    /// Sums of the records in effect (the node's own view of its totals).
    var totals: [Counter: Int] {
        var result: [Counter: Int] = [:]
        for payload in content.values {
            for (counter, delta) in payload.contribution { result[counter, default: 0] += delta }
        }
        return result
    }
}
