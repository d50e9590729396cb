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

/// Turns check-in requests into check-in records: finds the representative on the roster in force,
/// refuses whoever is not on this venue's roster for the session (unless the event allows walk-ins,
/// which are recorded as such), and carries the person key so duplicates can be found across venues.
public struct CheckinDesk {
    public var event: EventDefinition
    public var venue: String
    public var roster: [RosterEntry]
    /// Needed only to check someone in by ID-card number.
    public var keyer: () throws -> PersonKeyer

    public init(event: EventDefinition, venue: String, roster: [RosterEntry], keyer: @escaping () throws -> PersonKeyer)
    {
        self.event = event
        self.venue = venue
        self.roster = roster
        self.keyer = keyer
    }

    public func checkin(_ request: CheckinRequest, at: String? = nil) throws -> RecordPayload.Checkin {
        var request = request
        // An ID-card number typed where a roster id or card code goes is looked up through its keyed
        // hash, as --id-number is: it is never stored in clear.
        for value in [request.rep, request.card].compactMap({ $0 }) where IDNumberShape.appears(in: value) {
            guard request.idNumber == nil else {
                throw RecordRejection(
                    "give the ID-card number once (--id-number), not also as a roster id or card code",
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
            do { number = try IDCardNumber(idNumber) } catch { throw RecordRejection("id number: \(error)") }
            personKey = try keyer().key(for: number)
            masked = number.masked
        }
        guard !roster.isEmpty else {
            // No roster imported: the desk records what it is told.
            guard let rep = request.rep ?? request.card ?? personKey.map({ "id-\($0.prefix(12))" }),
                let category = request.category
            else {
                throw RecordRejection("no roster is imported: give --rep (or --id-number) and --category")
            }
            return RecordPayload.Checkin(
                session: request.session, rep: rep, category: category, at: at,
                person: personKey)
        }
        let found: RosterEntry?
        let asked: String
        if let rep = request.rep {
            found = roster.first { $0.repID == rep }
            asked = "representative \(rep)"
        } else if let card = request.card {
            found = roster.first { $0.cardCode == card }
            asked = "card \(card)"
        } else if let personKey {
            found = roster.first { $0.personKey == personKey }
            asked = "ID \(masked ?? "")"
        } else {
            throw RecordRejection("give a roster id, a card code or an ID-card number")
        }
        if let entry = found, let personKey, entry.personKey != personKey {
            throw RecordRejection("the ID card \(masked ?? "") is not that of \(asked) on the roster")
        }
        let refusal: String?
        if let entry = found {
            if let category = request.category, category != entry.category {
                throw RecordRejection("\(asked) is in category \(entry.category) on the roster, not \(category)")
            }
            if entry.venue != venue {
                refusal = "\(asked) is on the roster of venue \(entry.venue), not \(venue)"
            } else if !entry.sessions.contains(request.session) {
                refusal =
                    "\(asked) is on the roster for session(s) \(entry.sessions.joined(separator: ", ")), "
                    + "not \(request.session)"
            } else {
                return RecordPayload.Checkin(
                    session: request.session, rep: entry.repID, category: entry.category,
                    at: at, person: entry.personKey)
            }
        } else {
            refusal = "\(asked) is not on the roster"
        }
        guard event.walkInsAllowed == true else {
            throw RecordRejection((refusal ?? asked) + "; this event allows no walk-ins")
        }
        // A walk-in: identified by ID card, so the same person is still found twice.
        guard let personKey = found?.personKey ?? personKey else {
            throw RecordRejection((refusal ?? asked) + "; a walk-in checks in with an ID-card number (--id-number)")
        }
        guard let category = request.category ?? found?.category else {
            throw RecordRejection((refusal ?? asked) + "; a walk-in needs a category (--category)")
        }
        return RecordPayload.Checkin(
            session: request.session, rep: found?.repID ?? "walkin-\(personKey.prefix(12))",
            category: category, at: at, person: personKey, walkin: true)
    }
}

extension NodeDatabase {
    /// Imports a roster (the venue's file from `aggregator roster export`, or a central file with ID-card
    /// numbers when the secret is at hand), whole or not at all.
    public func importRoster(_ entries: [RosterEntry], file: String, digest: String) throws {
        try write { db in _ = try RosterTables.save(entries, file: file, digest: digest, db: db) }
    }

    public func roster() throws -> [RosterEntry] {
        try writer.read { db in try RosterTables.current(db) }
    }
}
