import ArgumentParser
import DaemonSupport
import Foundation
import Logging
import Shared

extension VenueNodeCommand {
    struct Restore: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Pull the venue's records back from the aggregator into a new, empty node.",
            discussion: """
                After a reimage that lost the data directory: `venue-node init` a new one (a new key), have the
                central office enrol the new key for the same venue (`aggregator nodes add`, which retires the old
                key), then restore; numbering continues after the last record the aggregator holds. Example:
                  venue-node restore --data-dir /var/lib/venue-node
                """)

        @OptionGroup var data: DataDirectoryOption
        @OptionGroup var logging: LoggingOptions

        func run() async throws {
            let (directory, database) = try data.open()
            let syncer = Syncer(directory: directory, database: database, logger: logging.logger("venue-node.restore"))
            let count = try await syncer.restore()
            print(
                "restored \(count) record(s) of venue \(directory.configuration.venue); the next record is \(count + 1)"
            )
        }
    }
}
