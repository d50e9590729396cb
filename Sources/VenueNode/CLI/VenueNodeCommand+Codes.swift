import ArgumentParser
import Foundation
import Shared

extension VenueNodeCommand {
    struct Codes: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "One-time voting codes for a box of phone ballots (see docs/voting.md).",
            subcommands: [Print.self, List.self])

        struct Print: ParsableCommand {
            static let configuration = CommandConfiguration(
                abstract: "Make a sheet of one-time voting codes for a box, as an HTML page to print and cut.",
                discussion: """
                    Example: venue-node codes print --data-dir DIR --session S1 --box E1 --count 230 \\
                        --url http://192.168.1.10:8080 --out codes-E1.html
                    Each slip holds a QR code of the voting page with its code, and the code in letters. Only the
                    codes' hashes are kept on the node: the sheet is the only place they are in clear. Print it, cut
                    it, and hand one slip at random to each representative checked in.
                    """)
            @OptionGroup var data: DataDirectoryOption
            @Option(help: "Session id.") var session: String
            @Option(help: "The phone box's id, e.g. E1.") var box: String
            @Option(help: "How many codes (slips), 1 to \(NodeDatabase.maximumSheet).") var count: Int
            @Option(help: "The node's address as phones on the venue's Wi-Fi reach it, e.g. http://192.168.1.10:8080.")
            var url: String
            @Option(help: "The HTML file to write (refused if it exists).") var out: String
            @Option(help: "Also write the codes, one per line, to this file (for a print shop or a test).")
            var list: String?

            func run() throws {
                for path in [out] + (list.map { [$0] } ?? []) where FileManager.default.fileExists(atPath: path) {
                    throw CommandFailure("\(path) exists: give a new file name; nothing was printed")
                }
                let (directory, database) = try data.open()
                let event = directory.event.definition
                let sheet: PrintedSheet
                do {
                    sheet = try appending(directory) {
                        try database.printCodes(session: session, box: box, count: count, url: url, event: event)
                    }
                } catch let refusal as DeskRefusal {
                    throw CommandFailure("\(refusal.code): \(refusal.message); nothing was printed")
                }
                let html = try VotingSheet.html(sheet, event: event, venue: directory.configuration.venue)
                try write(html, to: out)
                if let list { try write(sheet.codes.joined(separator: "\n") + "\n", to: list) }
                let phone = try database.phoneBox(session: session, box: box)
                print(
                    "sheet \(sheet.sheet): \(sheet.codes.count) voting codes for box \(sheet.box) of session "
                        + "\(sheet.session) written to \(out); the box now has \(phone?.printed ?? sheet.codes.count) "
                        + "code(s) over \(phone?.sheets ?? 1) sheet(s)")
            }

            /// Written readable by the owner only: the codes are in clear.
            func write(_ text: String, to path: String) throws {
                guard
                    FileManager.default.createFile(
                        atPath: path, contents: Data(text.utf8), attributes: [.posixPermissions: 0o600])
                else { throw CommandFailure("could not write \(path)") }
            }
        }

        struct List: ParsableCommand {
            static let configuration = CommandConfiguration(
                abstract: "Boxes with voting codes: codes printed and ballots cast, per box.",
                discussion: "Example: venue-node codes list --data-dir DIR")
            @OptionGroup var data: DataDirectoryOption

            func run() throws {
                let (_, database) = try data.open()
                let boxes = try database.phoneBoxes()
                if boxes.isEmpty { print("no voting codes printed on this node") }
                for box in boxes {
                    print(
                        "session \(box.session) box \(box.box): \(box.printed) code(s) printed on \(box.sheets) "
                            + "sheet(s), \(box.cast) ballot(s) cast")
                }
            }
        }
    }
}
