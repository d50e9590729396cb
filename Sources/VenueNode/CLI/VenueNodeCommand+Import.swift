import ArgumentParser
import Foundation
import Shared

extension VenueNodeCommand {
    struct Import: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Import check-ins, ballots or other forms from a CSV file, all rows or none.",
            discussion: """
                Check-ins: columns session and one of rep, card_code, id_number, and category (needed without a
                roster). Ballots: columns session,box,status followed by one column per
                department id (status valid|blank|spoiled; a valid row has a mark in every department on its session's
                ballot). Forms (suggestions and surveys, docs/forms.md): columns session,box,kind, then a survey's answers
                in columns named by its questions (safety, service:D01 …), a suggestion's text, departments (D01;D02),
                topic, contact and consent. Example: venue-node import --data-dir DIR --ballots scanner-export.csv
                """)

        @OptionGroup var data: DataDirectoryOption
        @Flag(help: "The file holds check-ins.") var checkins = false
        @Flag(help: "The file holds ballots.") var ballots = false
        @Flag(help: "The file holds suggestions and surveys.") var forms = false
        @Flag(
            help: "Import rows that were imported before for the same box (refused otherwise: they would count twice).")
        var again = false
        @Argument(help: "The CSV file (UTF-8 or GB18030).") var file: String

        func validate() throws {
            guard [checkins, ballots, forms].filter({ $0 }).count == 1 else {
                throw ValidationError("give exactly one of --checkins, --ballots, --forms")
            }
        }

        func run() throws {
            let (directory, database) = try data.open()
            let bytes = try InputFile.read(file)
            let saved = try appending(directory) {
                try CSVImport.importFile(
                    bytes, file: file, checkins: checkins, forms: forms, again: again,
                    desk: { try directory.checkinDesk(database) },
                    database: database, event: directory.event.definition)
            }
            print(
                "imported \(saved.count - 1) record(s) from \(file) (import record \(saved.first?.seq ?? 0)); "
                    + "last sequence \(saved.last?.seq ?? 0)")
        }
    }
}
