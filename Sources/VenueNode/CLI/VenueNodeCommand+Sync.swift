import ArgumentParser
import DaemonSupport
import Foundation
import Logging
import Shared

extension VenueNodeCommand {
    struct Sync: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Push every pending record to the aggregator; exit 0 only when all are acknowledged.",
            discussion: "Example: venue-node sync --data-dir DIR")

        @OptionGroup var data: DataDirectoryOption
        @Option(help: "Records per batch.") var batchSize = 500
        @Option(help: "Resend from this sequence number on, whatever the aggregator holds.") var fromSeq: Int64?
        @Option(help: "Seconds allowed for the whole of one request.") var timeout = 30
        @OptionGroup var logging: LoggingOptions

        func run() async throws {
            let (directory, database) = try data.open()
            let logger = logging.logger("venue-node.sync")
            let syncer = Syncer(
                directory: directory, database: database,
                client: directory.httpClient(connectTimeout: 5, totalTimeout: timeout),
                batchSize: batchSize, logger: logger)
            let report = try await syncer.sync(fromSeq: fromSeq)
            let head = try database.head()
            print(
                "sent \(report.recordsSent) record(s) in \(report.batchesSent) batch(es); "
                    + "acknowledged through \(report.acknowledgedSeq) of \(head.seq)")
            // Exit 0 only when the aggregator has acknowledged the last record (its acknowledgement is logged),
            // whatever this run sent.
            guard report.acknowledgedSeq >= head.seq, try database.acknowledgedSeq() >= head.seq else {
                throw SyncError(
                    message: "\(head.seq - report.acknowledgedSeq) record(s) are not acknowledged yet",
                    retryable: true)
            }
        }
    }
}
