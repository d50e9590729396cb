import ArgumentParser
import Crypto
import Foundation
import Shared

extension VenueNodeCommand {
    struct Import: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Import check-ins or ballots from a CSV file, all rows or none.",
            discussion: """
                Check-ins: columns session and one of rep, card_code, id_number, and category (needed without a
                roster). Ballots: columns session,box,status followed by one column per
                department id (status valid|blank|spoiled; a valid row has a mark in every department on its session's
                ballot). Example: venue-node import --data-dir DIR --ballots scanner-export.csv
                """)

        @OptionGroup var data: DataDirectoryOption
        @Flag(help: "The file holds check-ins.") var checkins = false
        @Flag(help: "The file holds ballots.") var ballots = false
        @Flag(
            help: "Import rows that were imported before for the same box (refused otherwise: they would count twice).")
        var again = false
        @Argument(help: "The CSV file (UTF-8 or GB18030).") var file: String

        func validate() throws {
            guard checkins != ballots else { throw ValidationError("give exactly one of --checkins, --ballots") }
        }

        func run() throws {
            let (directory, database) = try data.open()
            var rows: [(line: Int, payload: RecordPayload)] = []
            let bytes = try InputFile.read(file)
            do {
                let table = try CSVTable(data: bytes)
                if checkins {
                    let desk = try directory.checkinDesk(database)
                    let now = Date().formatted(.iso8601)
                    for (line, request) in try CSVImport.checkins(table) {
                        do {
                            rows.append((line, .checkin(try desk.checkin(request, at: now))))
                        } catch let rejection as RecordRejection {
                            throw ImportError(file: file, line: line, message: rejection.message)
                        }
                    }
                } else {
                    // Saved in a random order: nothing of the order in which ballots were typed (which might
                    // follow the check-in desk) is kept. Each row keeps its line number for error messages.
                    rows = try CSVImport.ballots(table).shuffled()
                }
            } catch let error as CSVTable.ParseError {
                throw ImportError(file: file, line: error.line, message: error.message)
            }
            do {
                let saved = try appending(directory) {
                    try database.importRows(
                        rows.map(\.payload), form: checkins ? "checkins" : "ballots",
                        file: URL(filePath: file).lastPathComponent,
                        bytesDigest: SHA256.hash(data: bytes).hexString, again: again,
                        event: directory.event.definition)
                }
                print(
                    "imported \(saved.count - 1) record(s) from \(file) (import record \(saved.first?.seq ?? 0)); "
                        + "last sequence \(saved.last?.seq ?? 0)")
            } catch let error as AppendError {
                throw ImportError(
                    file: file, line: error.index >= 0 ? rows[error.index].line : 1, message: error.rejection.message)
            }
        }
    }
}
