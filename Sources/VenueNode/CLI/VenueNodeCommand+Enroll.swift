import ArgumentParser
import DaemonSupport
import Foundation
import Logging
import Shared

extension VenueNodeCommand {
    struct Enroll: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Enrol this node at the aggregator with a one-time token (from `aggregator nodes enroll`).",
            discussion: """
                The node sends its public key with the token, signed with its private key. A token works once; the
                same node may present it again if the answer was lost. Example:
                  venue-node enroll --data-dir /var/lib/venue-node --token sme_…
                """)

        @OptionGroup var data: DataDirectoryOption
        @Option(help: "The one-time enrolment token.") var token: String
        @OptionGroup var logging: LoggingOptions

        func run() async throws {
            let (directory, database) = try data.open()
            try await Self.enrol(
                directory: directory, database: database, token: token,
                logger: logging.logger("venue-node.enroll"))
        }

        static func enrol(directory: NodeDirectory, database: NodeDatabase, token: String, logger: Logger) async throws
        {
            if let configured = directory.configuration.aggregatorKey {
                // Before the token is used: a wrong key must leave it unused and the venue's node in place.
                _ = try await IdentityCheck(
                    baseURL: directory.configuration.aggregatorURL, client: directory.httpClient()
                )
                .verify(expected: configured)
            }
            let syncer = Syncer(directory: directory, database: database, logger: logger)
            let response = try await syncer.enrol(token: token)
            print("enrolled as node \(response.node) for venue \(response.venue), epoch \(response.epoch)")
            if let key = response.aggregatorKey {
                if let configured = directory.configuration.aggregatorKey {
                    guard configured == key else {
                        throw SyncError(
                            message: "the aggregator's key (\(key)) is not the --aggregator-key this node was "
                                + "given (\(configured)): something else may be answering", retryable: false)
                    }
                } else {
                    _ = try directory.recordingAggregatorKey(key)
                    print("aggregator key: \(key) (kept in node.json; compare it with `aggregator identity`)")
                }
            }
        }
    }
}
