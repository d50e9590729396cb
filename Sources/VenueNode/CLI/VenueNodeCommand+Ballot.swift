import ArgumentParser
import Foundation
import Shared

extension VenueNodeCommand {
    struct Ballot: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Record one evaluation ballot taken out of a box.",
            discussion: """
                Give one mark per department on the session's ballot, or --blank, or --spoiled. Example:
                  venue-node ballot --data-dir DIR --session S1 --box B1 --marks D01=satisfied,D02=dissatisfied,...
                """)

        @OptionGroup var data: DataDirectoryOption
        @Option(help: "Session id.") var session: String
        @Option(help: "Box id.") var box: String
        @Option(help: "DEPT=MARK pairs, comma-separated.") var marks: String?
        @Flag(help: "A blank ballot.") var blank = false
        @Flag(help: "A spoiled ballot.") var spoiled = false

        func validate() throws {
            guard [marks != nil, blank, spoiled].filter({ $0 }).count == 1 else {
                throw ValidationError("give exactly one of --marks, --blank, --spoiled")
            }
        }

        func run() throws {
            var parsed: [String: String] = [:]
            for pair in (marks ?? "").split(separator: ",") {
                let parts = pair.split(separator: "=", maxSplits: 1).map { $0.trimmingCharacters(in: .whitespaces) }
                guard parts.count == 2, !parts[0].isEmpty, !parts[1].isEmpty else {
                    throw ValidationError("\"\(pair)\" is not DEPT=MARK")
                }
                guard parsed[parts[0]] == nil else { throw ValidationError("department \(parts[0]) is marked twice") }
                parsed[parts[0]] = parts[1]
            }
            let status: RecordPayload.BallotStatus = blank ? .blank : spoiled ? .spoiled : .valid
            try save([.ballot(.init(session: session, box: box, status: status, marks: parsed))], data: data)
        }
    }
}
