import ArgumentParser
import Crypto
import Foundation
import Shared

extension AggregatorCommand {
    struct Roster: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Import the central roster; export each venue's roster for its check-in desk.",
            subcommands: [Import.self, Export.self])

        struct Import: ParsableCommand {
            static let configuration = CommandConfiguration(
                abstract: "Import the roster CSV, whole or not at all (docs/roster.md).",
                discussion: """
                    Columns: rep_id,name,id_number,category,venue,sessions[,card_code]; UTF-8 (with or without BOM) or
                    GB18030. ID-card numbers are checked (GB 11643) and replaced by keyed hashes at once: the roster
                    secret (base64, at least 16 bytes) comes from SANMIN_ROSTER_SECRET or the file named by
                    SANMIN_ROSTER_SECRET_FILE, and is stored nowhere. Example:
                      SANMIN_ROSTER_SECRET_FILE=/etc/sanmin/roster.secret aggregator roster import --data-dir DIR roster.csv
                    """)
            @OptionGroup var data: StoreOption
            @Argument(help: "The roster CSV file.") var file: String

            func run() throws {
                let (database, event) = try data.openWithEvent()
                let bytes = try InputFile.read(file)
                let entries = try RosterCSV.parse(
                    bytes, event: event.definition, keyer: try PersonKeyer.fromEnvironment(),
                    file: file)
                try database.importRoster(
                    entries, file: URL(filePath: file).lastPathComponent,
                    digest: SHA256.hash(data: bytes).hexString)
                print("imported \(entries.count) representative(s) from \(file)")
                let perVenue = Dictionary(grouping: entries, by: \.venue).mapValues(\.count)
                for venue in event.definition.venues {
                    print("  \(venue.id): \(perVenue[venue.id] ?? 0)")
                }
            }
        }

        struct Export: ParsableCommand {
            static let configuration = CommandConfiguration(
                abstract: "Write a venue's roster for `venue-node roster import` (person keys, no ID-card numbers).",
                discussion: "Example: aggregator roster export --data-dir DIR --venue dalate > roster-dalate.csv")
            @OptionGroup var data: StoreOption
            @Option(help: "Venue id (all venues when left out: the node then also knows who belongs elsewhere).")
            var venue: String?

            func run() throws {
                let roster = try data.open().roster().filter { venue == nil || $0.venue == venue }
                print(roster.venueCSV(), terminator: "")
            }
        }
    }
}
