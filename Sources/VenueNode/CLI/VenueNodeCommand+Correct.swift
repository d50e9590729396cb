import ArgumentParser
import Foundation
import Shared

extension VenueNodeCommand {
    struct Correct: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Correct an earlier record: it stops counting, and the replacement (if any) counts instead.",
            discussion: """
                Nothing is changed or deleted: the correction is a new record naming the one it corrects. Examples:
                  venue-node correct --data-dir DIR --target 17 --reason "entered twice" --operator "王芳" --void
                  venue-node correct --data-dir DIR --target 40 --reason "miscounted" --operator "王芳" \\
                    --replacement '{"kind":"box_closed","session":"S1","box":"B1","issued":400,"returned":399}'
                """)

        @OptionGroup var data: DataDirectoryOption
        @Option(help: "Sequence number of the record to correct.") var target: Int64
        @Option(help: "Why.") var reason: String
        @Option(help: "Who makes the correction.") var `operator`: String
        @Flag(help: "The record simply stops counting.") var void = false
        @Option(help: "The record that counts instead, as payload JSON.") var replacement: String?

        func validate() throws {
            guard void != (replacement != nil) else {
                throw ValidationError("give exactly one of --void, --replacement")
            }
        }

        func run() throws {
            let payload = try replacement.map { text in
                do { return try RecordPayload.decode(json: text) } catch {
                    throw ValidationError("--replacement is not a record payload: \(error)")
                }
            }
            try save(
                [
                    .correction(
                        .init(
                            target: target, reason: reason, operator: `operator`, replacement: payload,
                            at: Date().formatted(.iso8601)))
                ], data: data)
        }
    }
}
