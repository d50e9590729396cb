import ArgumentParser
import Foundation
import Shared

extension VenueNodeCommand {
    struct Checkin: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Record a representative's check-in: by roster id, card code or ID-card number.",
            discussion: """
                With a roster imported, the representative must be on this venue's roster for the session (unless
                the event allows walk-ins); the category comes from the roster. Checking in by ID-card number needs
                the roster secret (SANMIN_ROSTER_SECRET); the number itself is not stored. Examples:
                  venue-node checkin --data-dir DIR --session S1 --rep R0001
                  venue-node checkin --data-dir DIR --session S1 --card 2021-0001
                  venue-node checkin --data-dir DIR --session S1 --id-number 150602199001011234
                """)

        @OptionGroup var data: DataDirectoryOption
        @Option(help: "Session id.") var session: String
        @Option(help: "Roster id.") var rep: String?
        @Option(help: "Code printed on the representative's card.") var card: String?
        @Option(help: "ID-card number (18 characters).") var idNumber: String?
        @Option(help: "Representative category id (needed without a roster, and for walk-ins).") var category: String?

        func validate() throws {
            guard [rep, card, idNumber].compactMap({ $0 }).count == 1 else {
                throw ValidationError("give exactly one of --rep, --card, --id-number")
            }
        }

        func run() throws {
            let (directory, database) = try data.open()
            let desk = try directory.checkinDesk(database)
            let request = CheckinRequest(session: session, rep: rep, card: card, idNumber: idNumber, category: category)
            let payload = try desk.checkin(request, at: Date().formatted(.iso8601))
            let saved = try appending(directory) {
                try database.appendCheckin(payload, event: directory.event.definition, desk: desk)
            }
            for record in saved {
                print(
                    "saved record \(record.seq) (\(record.hash.prefix(16))…): \(payload.rep), \(payload.category)"
                        + (payload.walkin == true ? ", walk-in" : ""))
            }
        }
    }
}
