import DaemonSupport
import Foundation
import GRDB
import Shared

/// Who is checking in: a roster id, the code on the representative's card, or an ID-card number.
public struct CheckinRequest: Sendable {
    public var session: String
    public var rep: String?
    public var card: String?
    public var idNumber: String?
    /// Required without a roster, and for walk-ins; checked against the roster otherwise.
    public var category: String?

    public init(
        session: String, rep: String? = nil, card: String? = nil, idNumber: String? = nil,
        category: String? = nil
    ) {
        self.session = session
        self.rep = rep
        self.card = card
        self.idNumber = idNumber
        self.category = category
    }
}

/// Why the desk refused a check-in, for a page to show: the message says it in words (English), the reason lets
/// the page say it in the clerk's language and colour.
public struct CheckinRefusal: Error, Sendable, Equatable, CustomStringConvertible {
    public enum Reason: String, Sendable, Codable {
        /// Nothing on the roster has this id, card code or ID-card number.
        case notOnRoster = "not_on_roster"
        /// On the roster of another venue.
        case otherVenue = "other_venue"
        /// On this venue's roster, for other sessions.
        case otherSession = "other_session"
        /// The category given is not the roster's.
        case otherCategory = "other_category"
        /// The ID card is not that of the representative named.
        case otherPerson = "other_person"
        /// Not an ID-card number, or given twice, or no secret to key it with.
        case badIDNumber = "bad_id_number"
        /// A walk-in where the event allows them, but without what it needs (ID card, category).
        case walkinIncomplete = "walkin_incomplete"
        /// No roster is imported and the request lacks a category.
        case noRoster = "no_roster"
        /// Checked in already for this session (found by the chain's rule, not by the desk).
        case alreadyCheckedIn = "already_checked_in"
        /// A reserve, while every place they could fill is taken.
        case noOpenPlace = "no_open_place"
        /// The record does not fit the event (unknown session, malformed id).
        case invalid
    }

    public var reason: Reason
    public var message: String
    public var rule: RecordRule?

    public init(_ reason: Reason, _ message: String, rule: RecordRule? = nil) {
        self.reason = reason
        self.message = message
        self.rule = rule
    }

    public var description: String { message }
}

/// Turns check-in requests into check-in records: finds the representative on the roster in force,
/// refuses whoever is not on this venue's roster for the session (unless the event allows walk-ins,
/// which are recorded as such), and carries the person key so duplicates can be found across venues.
/// The roster is indexed once, so a check-in costs the same whatever its size.
public struct CheckinDesk: Sendable {
    public var event: EventDefinition
    public var venue: String
    public let roster: [RosterEntry]
    /// Needed only to check someone in by ID-card number.
    public var keyer: @Sendable () throws -> PersonKeyer
    private let byRep: [String: RosterEntry]
    private let byCard: [String: RosterEntry]
    private let byPerson: [String: RosterEntry]

    public init(
        event: EventDefinition, venue: String, roster: [RosterEntry],
        keyer: @escaping @Sendable () throws -> PersonKeyer
    ) {
        self.event = event
        self.venue = venue
        self.roster = roster
        self.keyer = keyer
        // The first entry of each id wins, as a search from the top would find it.
        byRep = Dictionary(roster.map { ($0.repID, $0) }, uniquingKeysWith: { first, _ in first })
        byCard = Dictionary(
            roster.compactMap { entry in entry.cardCode.map { ($0, entry) } }, uniquingKeysWith: { first, _ in first })
        byPerson = Dictionary(roster.map { ($0.personKey, $0) }, uniquingKeysWith: { first, _ in first })
    }

    /// What a scanner or a clerk typed into the desk's one field: a card code when the roster has it, an ID-card
    /// number when it is shaped like one, else a roster id.
    public func request(session: String, scanned: String, category: String? = nil) -> CheckinRequest {
        let value = scanned.trimmingCharacters(in: .whitespacesAndNewlines)
        if byCard[value] != nil { return CheckinRequest(session: session, card: value, category: category) }
        if IDNumberShape.appears(in: value) {
            return CheckinRequest(session: session, idNumber: value, category: category)
        }
        return CheckinRequest(session: session, rep: value, category: category)
    }

    /// The roster entry of a representative, by roster id.
    public func entry(rep: String) -> RosterEntry? { byRep[rep] }

    public func checkin(_ request: CheckinRequest, at: String? = nil) throws -> RecordPayload.Checkin {
        do {
            return try judge(request, at: at)
        } catch {
            throw RecordRejection(error.message, rule: error.rule)
        }
    }

    /// `checkin`, with the refusal's reason.
    public func judge(_ request: CheckinRequest, at: String? = nil, clerk: String? = nil) throws(CheckinRefusal)
        -> RecordPayload.Checkin
    {
        var checkin = try judgeRequest(request, at: at)
        checkin.clerk = clerk
        return checkin
    }

    private func judgeRequest(_ request: CheckinRequest, at: String?) throws(CheckinRefusal) -> RecordPayload.Checkin {
        var request = request
        // An ID-card number typed where a roster id or card code goes is looked up through its keyed
        // hash, as --id-number is: it is never stored in clear.
        for value in [request.rep, request.card].compactMap({ $0 }) where IDNumberShape.appears(in: value) {
            guard request.idNumber == nil else {
                throw CheckinRefusal(
                    .badIDNumber, "give the ID-card number once (--id-number), not also as a roster id or card code",
                    rule: .idNumberInClear)
            }
            request.idNumber = value
            request.rep = nil
            request.card = nil
        }
        var personKey: String?
        var masked: String?
        if let idNumber = request.idNumber {
            let number: IDCardNumber
            do { number = try IDCardNumber(idNumber) } catch {
                throw CheckinRefusal(.badIDNumber, "id number: \(error)")
            }
            do { personKey = try keyer().key(for: number) } catch {
                throw CheckinRefusal(.badIDNumber, "\(error)")
            }
            masked = number.masked
        }
        guard !roster.isEmpty else {
            // No roster imported: the desk records what it is told.
            guard let rep = request.rep ?? request.card ?? personKey.map({ "id-\($0.prefix(12))" }),
                let category = request.category
            else {
                throw CheckinRefusal(.noRoster, "no roster is imported: give --rep (or --id-number) and --category")
            }
            return RecordPayload.Checkin(
                session: request.session, rep: rep, category: category, at: at,
                person: personKey)
        }
        let found: RosterEntry?
        let asked: String
        if let rep = request.rep {
            found = byRep[rep]
            asked = "representative \(rep)"
        } else if let card = request.card {
            found = byCard[card]
            asked = "card \(card)"
        } else if let personKey {
            found = byPerson[personKey]
            asked = "ID \(masked ?? "")"
        } else {
            throw CheckinRefusal(.invalid, "give a roster id, a card code or an ID-card number")
        }
        if let entry = found, let personKey, entry.personKey != personKey {
            throw CheckinRefusal(.otherPerson, "the ID card \(masked ?? "") is not that of \(asked) on the roster")
        }
        let refusal: (reason: CheckinRefusal.Reason, message: String)
        if let entry = found {
            if let category = request.category, category != entry.category {
                throw CheckinRefusal(
                    .otherCategory, "\(asked) is in category \(entry.category) on the roster, not \(category)")
            }
            if entry.venue != venue {
                refusal = (.otherVenue, "\(asked) is on the roster of venue \(entry.venue), not \(venue)")
            } else if !entry.sessions.contains(request.session) {
                refusal = (
                    .otherSession,
                    "\(asked) is on the roster for session(s) \(entry.sessions.joined(separator: ", ")), "
                        + "not \(request.session)"
                )
            } else {
                return RecordPayload.Checkin(
                    session: request.session, rep: entry.repID, category: entry.category,
                    at: at, person: entry.personKey)
            }
        } else {
            refusal = (.notOnRoster, "\(asked) is not on the roster")
        }
        guard event.walkInsAllowed == true else {
            throw CheckinRefusal(refusal.reason, refusal.message + "; this event allows no walk-ins")
        }
        // A walk-in: identified by ID card, so the same person is still found twice.
        guard let personKey = found?.personKey ?? personKey else {
            throw CheckinRefusal(
                .walkinIncomplete, refusal.message + "; a walk-in checks in with an ID-card number (--id-number)")
        }
        guard let category = request.category ?? found?.category else {
            throw CheckinRefusal(.walkinIncomplete, refusal.message + "; a walk-in needs a category (--category)")
        }
        return RecordPayload.Checkin(
            session: request.session, rep: found?.repID ?? "walkin-\(personKey.prefix(12))",
            category: category, at: at, person: personKey, walkin: true)
    }
}

extension NodeDatabase {
    /// Saves a check-in the desk judged. A reserve (备选代表) is admitted only while a place they may fill is open
    /// (docs/roster.md), counted in the same transaction as the save, so two desks cannot both take the last place.
    @discardableResult
    public func appendCheckin(_ payload: RecordPayload.Checkin, event: EventDefinition, desk: CheckinDesk) throws
        -> [ChainedRecord]
    {
        guard payload.walkin != true, desk.entry(rep: payload.rep)?.reserve == true else {
            return try append([.checkin(payload)], event: event)
        }
        return try write { db in
            var state = try Self.ledger(for: [.checkin(payload)], db: db)
            var regular: [String: Int] = [:]
            var reserves: [String: Int] = [:]
            let prefix = payload.session + "\u{1F}"
            let rows = try String.fetchAll(
                db, sql: "SELECT value FROM ledgerEntry WHERE map = 'c' AND substr(key, 1, ?) = ?",
                arguments: [prefix.utf8.count, prefix])
            for value in rows {
                guard let seq = Int64(value), case .checkin(let earlier)? = try Self.contentInEffect(db, seq: seq),
                    earlier.walkin != true
                else { continue }
                if desk.entry(rep: earlier.rep)?.reserve == true {
                    reserves[earlier.category, default: 0] += 1
                } else {
                    regular[earlier.category, default: 0] += 1
                }
            }
            if let open = Reconciliation.openPlaces(
                event: event, venue: desk.venue, session: payload.session, category: payload.category,
                regular: regular, reserves: reserves), open <= 0
            {
                let quota = event.quota(venue: desk.venue, session: payload.session)?.counts ?? [:]
                let filled =
                    event.reservesFillAnyCategory
                    ? "every category's places are filled (\(regular.values.reduce(0, +) + reserves.values.reduce(0, +)) of "
                        + "\(quota.values.reduce(0, +)))"
                    : "every place of category \(payload.category) is filled ("
                        + "\((regular[payload.category] ?? 0) + (reserves[payload.category] ?? 0)) of "
                        + "\(quota[payload.category] ?? 0))"
                throw CheckinRefusal(
                    .noOpenPlace,
                    "\(payload.rep) is a reserve: \(filled); a reserve checks in only in place of an absent representative"
                )
            }
            return try Self.append([.checkin(payload)], to: &state, event: event, db: db)
        }
    }

    /// Imports a roster (the venue's file from `aggregator roster export`, or a central file with ID-card
    /// numbers when the secret is at hand), whole or not at all.
    public func importRoster(_ entries: [RosterEntry], file: String, digest: String) throws {
        try write { db in _ = try RosterTables.save(entries, file: file, digest: digest, db: db) }
    }

    public func roster() throws -> [RosterEntry] {
        try writer.read { db in try RosterTables.current(db) }
    }

    /// Which roster import is in force (0: none), so that a desk can keep the roster it indexed until a new one.
    public func rosterImportID() throws -> Int64 {
        try writer.read { db in try Int64.fetchOne(db, sql: "SELECT MAX(id) FROM rosterImport") ?? 0 }
    }
}
