import ArgumentParser
import Crypto
import Foundation
import Shared

extension VenueNodeCommand {
    struct Roster: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Import the roster the check-in desk works from.", subcommands: [Import.self])

        struct Import: ParsableCommand {
            static let configuration = CommandConfiguration(
                abstract: "Import a roster CSV, whole or not at all (docs/roster.md).",
                discussion: """
                    The venue's file comes from `aggregator roster export --venue V` (person keys, no ID numbers). A
                    central file with id_number columns needs the roster secret (SANMIN_ROSTER_SECRET). UTF-8 or
                    GB18030. Example: venue-node roster import --data-dir DIR roster-dalate.csv
                    """)
            @OptionGroup var data: DataDirectoryOption
            @Argument(help: "The roster CSV file.") var file: String

            func run() throws {
                let (directory, database) = try data.open()
                let bytes = try InputFile.read(file)
                let header = String(decoding: (try? TextDecoding.utf8(bytes)) ?? bytes, as: UTF8.self)
                    .prefix { $0 != "\n" }
                let keyer = header.contains("id_number") ? try PersonKeyer.fromEnvironment() : nil
                let entries = try RosterCSV.parse(bytes, event: directory.event.definition, keyer: keyer, file: file)
                let here = entries.filter { $0.venue == directory.configuration.venue }.count
                guard here > 0 else {
                    // An empty roster would turn every arrival into a walk-in: surely the wrong file.
                    throw ValidationError(
                        "\(file) lists nobody at venue \(directory.configuration.venue) "
                            + "(\(entries.count) representative(s) in all): nothing imported; export the venue's roster with "
                            + "aggregator roster export --venue \(directory.configuration.venue)")
                }
                try database.importRoster(
                    entries, file: URL(filePath: file).lastPathComponent,
                    digest: SHA256.hash(data: bytes).hexString)
                print(
                    "imported \(entries.count) representative(s), \(here) of them at venue \(directory.configuration.venue)"
                )
            }
        }
    }
}
