import Crypto
import Foundation

/// One representative (市民代表) on the roster. The ID-card number is gone by now: `personKey`
/// stands for the person (see `PersonKeyer`).
public struct RosterEntry: Codable, Sendable, Equatable {
    public var repID: String
    public var name: String
    public var personKey: String
    public var category: String
    public var venue: String
    /// Sessions the representative attends.
    public var sessions: [String]
    /// The code printed on the representative's card (代表证), if any.
    public var cardCode: String?
    /// A reserve (备选/替补代表): takes an absentee's place, checked in only while a place is open.
    public var reserve: Bool

    public init(
        repID: String, name: String, personKey: String, category: String, venue: String, sessions: [String],
        cardCode: String?, reserve: Bool = false
    ) {
        self.repID = repID
        self.name = name
        self.personKey = personKey
        self.category = category
        self.venue = venue
        self.sessions = sessions
        self.cardCode = cardCode
        self.reserve = reserve
    }

    enum CodingKeys: String, CodingKey {
        case repID, name, personKey, category, venue, sessions, cardCode, reserve
    }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        repID = try container.decode(String.self, forKey: .repID)
        name = try container.decode(String.self, forKey: .name)
        personKey = try container.decode(String.self, forKey: .personKey)
        category = try container.decode(String.self, forKey: .category)
        venue = try container.decode(String.self, forKey: .venue)
        sessions = try container.decode([String].self, forKey: .sessions)
        cardCode = try container.decodeIfPresent(String.self, forKey: .cardCode)
        reserve = try container.decodeIfPresent(Bool.self, forKey: .reserve) ?? false
    }
}

/// The `reserve` column of a roster: empty or no for a representative, yes for a reserve.
public enum ReserveFlag {
    public static func parse(_ text: String) -> Bool? {
        switch text.trimmingCharacters(in: .whitespaces).lowercased() {
        case "", "0", "no", "false", "n", "否": false
        case "1", "yes", "true", "y", "是", "reserve", "备选", "替补": true
        default: nil
        }
    }
}

/// The keyed hash that stands for a person once the roster is imported: HMAC-SHA-256 of the ID-card
/// number under the event's roster secret. Without the secret it cannot be reversed by trying every
/// plausible ID number, and the same person gives the same key at every venue.
public struct PersonKeyer: Sendable {
    private let secret: SymmetricKey

    /// The secret must be at least 16 bytes.
    public init(secret: Data) throws {
        guard secret.count >= 16 else {
            throw RosterError(
                "the roster secret must hold at least 16 bytes (found \(secret.count)); make one with: "
                    + "head -c 32 /dev/urandom | base64")
        }
        self.secret = SymmetricKey(data: secret)
    }

    /// Reads the secret (base64) from `$SANMIN_ROSTER_SECRET`, or from the file `$SANMIN_ROSTER_SECRET_FILE` names.
    public static func fromEnvironment(_ environment: [String: String] = ProcessInfo.processInfo.environment) throws
        -> PersonKeyer
    {
        var text = environment["SANMIN_ROSTER_SECRET"]
        if text == nil, let path = environment["SANMIN_ROSTER_SECRET_FILE"] {
            text = try String(contentsOfFile: path, encoding: .utf8)
        }
        guard let text = text?.trimmingCharacters(in: .whitespacesAndNewlines), !text.isEmpty else {
            throw RosterError(
                "the roster secret is not set: put it (base64) in SANMIN_ROSTER_SECRET, or its file in "
                    + "SANMIN_ROSTER_SECRET_FILE (see docs/roster.md)")
        }
        guard let data = Data(base64Encoded: text) else {
            throw RosterError("the roster secret must be base64 (e.g. head -c 32 /dev/urandom | base64)")
        }
        return try PersonKeyer(secret: data)
    }

    /// The person key of an ID-card number, in hex.
    public func key(for number: IDCardNumber) -> String {
        Data(HMAC<SHA256>.authenticationCode(for: Data(number.value.utf8), using: secret)).hexString
    }
}

/// Reads roster CSV files (docs/roster.md): the central office's, with ID-card numbers, and the
/// venue's, exported by the aggregator with person keys instead.
public enum RosterCSV {
    /// Columns of the central roster.
    public static let columns = [
        "rep_id", "name", "id_number", "category", "venue", "sessions", "card_code", "reserve",
    ]

    /// Parses and checks a whole file; throws `RosterError` listing every bad row (by line) if any.
    /// With a `keyer`, the file has `id_number`; without, it has `person_key` (a venue's roster).
    public static func parse(
        _ data: Data, event: EventDefinition, keyer: PersonKeyer?, file: String,
        today: Date = Date()
    ) throws -> [RosterEntry] {
        let table: CSVTable
        do {
            table = try CSVTable(data: data)
        } catch {
            throw RosterError("\(file):\(error.line): \(error.message)")
        }
        func column(_ name: String) throws -> Int {
            do { return try table.column(name) } catch { throw RosterError("\(file):1: \(error.message)") }
        }
        let repColumn = try column("rep_id")
        let nameColumn = try column("name")
        let idColumn = try column(keyer == nil ? "person_key" : "id_number")
        let categoryColumn = try column("category")
        let venueColumn = try column("venue")
        let sessionsColumn = try column("sessions")
        let cardColumn = table.header.firstIndex(of: "card_code")
        let reserveColumn = table.header.firstIndex(of: "reserve")

        var problems: [String] = []
        var entries: [RosterEntry] = []
        var repLines: [String: Int] = [:]
        var personLines: [String: Int] = [:]
        var cardLines: [String: Int] = [:]
        for row in table.rows {
            func field(_ index: Int) -> String { row.fields[index].trimmingCharacters(in: .whitespaces) }
            func problem(_ message: String) { problems.append("\(file):\(row.line): \(message)") }
            let repID = field(repColumn)
            let before = problems.count
            if IDNumberShape.appears(in: repID) {
                problem(
                    "rep_id \"\(IDNumberShape.masked(repID))\" looks like an ID-card number: it goes in id_number, "
                        + "never in a field kept in clear")
            } else if !Identifier.isValid(repID) {
                problem("rep_id \"\(repID)\" must match \(Identifier.pattern)")
            }
            if let line = repLines[repID] { problem("rep_id \(repID) is already on line \(line)") }
            let name = field(nameColumn)
            if name.isEmpty { problem("the name is empty") }
            if IDNumberShape.appears(in: name) {
                problem(
                    "the name \"\(IDNumberShape.masked(name))\" holds something shaped like an ID-card number: "
                        + "it goes in id_number, never in a field kept in clear")
            }
            var personKey = ""
            var masked = ""
            if let keyer {
                do {
                    let number = try IDCardNumber(field(idColumn), today: today)
                    personKey = keyer.key(for: number)
                    masked = number.masked
                } catch {
                    problem("id_number: \(error)")
                }
            } else {
                personKey = field(idColumn).lowercased()
                if personKey.utf8.count != 64
                    || !personKey.utf8.allSatisfy({ (48...57).contains($0) || (97...102).contains($0) })
                {
                    problem("person_key must be 64 hexadecimal characters")
                }
                masked = "person \(personKey.prefix(8))…"
            }
            if !personKey.isEmpty, let line = personLines[personKey] {
                problem("the same person (\(masked)) is already on line \(line): a person must not be listed twice")
            }
            let category = field(categoryColumn)
            if event.category(category) == nil { problem("unknown category \"\(category)\"") }
            let venue = field(venueColumn)
            if event.venue(venue) == nil { problem("unknown venue \"\(venue)\"") }
            let sessionsText = field(sessionsColumn)
            let sessions =
                sessionsText == "all"
                ? event.sessions.map(\.id)
                : sessionsText.split(whereSeparator: { $0 == ";" || $0 == "|" }).map {
                    $0.trimmingCharacters(in: .whitespaces)
                }
            if sessions.isEmpty { problem("sessions is empty (give session ids separated by ; or \"all\")") }
            for session in sessions where event.session(session) == nil { problem("unknown session \"\(session)\"") }
            let card = cardColumn.map(field).flatMap { $0.isEmpty ? nil : $0 }
            if let card, IDNumberShape.appears(in: card) {
                problem(
                    "card_code \"\(IDNumberShape.masked(card))\" looks like an ID-card number: check in by ID card "
                        + "(--id-number) instead; a card code is kept in clear")
            } else if let card, let line = cardLines[card] {
                problem("card_code \(card) is already on line \(line)")
            }
            let reserveText = reserveColumn.map(field) ?? ""
            let reserve = ReserveFlag.parse(reserveText)
            if reserve == nil {
                problem("reserve \"\(reserveText)\" must be empty or no for a representative, yes for a reserve")
            }
            guard problems.count == before else { continue }
            repLines[repID] = row.line
            personLines[personKey] = row.line
            if let card { cardLines[card] = row.line }
            entries.append(
                RosterEntry(
                    repID: repID, name: name, personKey: personKey, category: category, venue: venue,
                    sessions: sessions, cardCode: card, reserve: reserve ?? false))
        }
        if !problems.isEmpty {
            let shown = problems.prefix(50).joined(separator: "\n")
            throw RosterError(
                "\(problems.count) bad row(s); nothing was imported:\n\(shown)"
                    + (problems.count > 50 ? "\n… and \(problems.count - 50) more" : ""))
        }
        return entries
    }
}
