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
                discussion:
                    "Example: venue-node box close --data-dir DIR --session S1 --box B1 --issued 400 --returned 398")
            @OptionGroup var data: DataDirectoryOption
            @Option(help: "Session id.") var session: String
            @Option(help: "Box id.") var box: String
            @Option(help: "Forms issued.") var issued: Int
            @Option(help: "Forms returned into the box.") var returned: Int

            func run() throws {
                try save(
                    [
                        .boxClosed(
                            .init(
                                session: session, box: box, issued: issued, returned: returned,
                                at: Date().formatted(.iso8601)))
                    ], data: data)
            }
        }
    }
}
