import ArgumentParser
import Foundation
import Shared

extension VenueNodeCommand {
    struct Box: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Record that a ballot box was opened or closed.",
            subcommands: [Open.self, Close.self])

        struct Open: ParsableCommand {
            static let configuration = CommandConfiguration(
                abstract: "Record that a box was opened.",
                discussion: "Example: venue-node box open --data-dir DIR --session S1 --box B1")
            @OptionGroup var data: DataDirectoryOption
            @Option(help: "Session id.") var session: String
            @Option(help: "Box id, e.g. B1.") var box: String

            func run() throws {
                try save([.boxOpened(.init(session: session, box: box, at: Date().formatted(.iso8601)))], data: data)
            }
        }

        struct Close: ParsableCommand {
            static let configuration = CommandConfiguration(
                abstract: "Record that a box was closed, with the forms issued for it and returned into it.",
                discussion: """
                    Example: venue-node box close --data-dir DIR --session S1 --box B1 --issued 400 --returned 398
                    A phone box (one with voting codes) returns the ballots cast on phones: give the unused slips
                    counted back instead, and its sealed ballots are appended, shuffled, with the closing record:
                    venue-node box close --data-dir DIR --session S1 --box E1 --unused 12
                    """)
            @OptionGroup var data: DataDirectoryOption
            @Option(help: "Session id.") var session: String
            @Option(help: "Box id.") var box: String
            @Option(help: "Forms issued.") var issued: Int?
            @Option(help: "Forms returned into the box (a phone box: the ballots cast, which it counts itself).")
            var returned: Int?
            @Option(help: "A phone box: the slips not handed out, counted back (issued = printed - unused).")
            var unused: Int?

            func run() throws {
                let (directory, database) = try data.open()
                let phone = try database.phoneBox(session: session, box: box)
                let counts: (issued: Int, returned: Int)
                if let phone {
                    guard (issued == nil) != (unused == nil) else {
                        throw CommandFailure(
                            "box \(box) is a phone box (\(phone.printed) codes printed): give --unused (the slips "
                                + "counted back) or --issued, one of them")
                    }
                    if let unused, !(0...phone.printed).contains(unused) {
                        throw CommandFailure("--unused \(unused): give 0 to the \(phone.printed) codes printed")
                    }
                    counts = (issued ?? (phone.printed - unused!), returned ?? phone.cast)
                } else {
                    guard unused == nil else {
                        throw CommandFailure(
                            "box \(box) of session \(session) has no voting codes: --unused is for phone boxes; give "
                                + "--issued and --returned")
                    }
                    guard let issued, let returned else {
                        throw CommandFailure("closing a box needs --issued and --returned")
                    }
                    counts = (issued, returned)
                }
                let saved = try appending(directory) {
                    try database.append(
                        [
                            .boxClosed(
                                .init(
                                    session: session, box: box, issued: counts.issued, returned: counts.returned,
                                    at: Date().formatted(.iso8601)))
                        ], event: directory.event.definition)
                }
                print("saved record \(saved[0].seq) (\(saved[0].hash.prefix(16))…)")
                if saved.count > 1 {
                    print(
                        "appended the \(saved.count - 1) phone ballot(s) of box \(box), shuffled: records "
                            + "\(saved[1].seq)…\(saved[saved.count - 1].seq)")
                }
            }
        }
    }
}
