import ArgumentParser
import DaemonSupport
import Foundation
import Shared

extension VenueNodeCommand {
    struct Init: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Create a node's data directory and Ed25519 key pair; print its public key.",
            discussion: """
                With --token (from `aggregator nodes enroll`), the node enrols itself at once: it sends its public
                key with the one-time token, and keeps the aggregator's key for checking receipts. Example:
                  venue-node init --data-dir /var/lib/venue-node --event examples/ordos-2021/event.json \\
                    --venue dongsheng --aggregator https://tally.example:8443 --ca-file /etc/sanmin/ca.pem --token sme_…
                Without --token, enrol the printed key on the aggregator by hand:
                  aggregator nodes add --venue dongsheng --public-key KEY
                """)

        @OptionGroup var data: DataDirectoryOption
        @Option(help: "The event file (JSON, see docs/event-format.md).") var event: String
        @Option(help: "This node's venue id, as in the event file.") var venue: String
        @Option(help: "The aggregator's base URL (http:// or https://).") var aggregator: String
        @Option(
            help:
                "Another aggregator serving the event from the same database (a replica), tried when the one in use cannot be reached; repeatable."
        )
        var replica: [String] = []
        @Option(help: "The aggregator's public key (`aggregator identity`): receipts are then checked and kept.")
        var aggregatorKey: String?
        @Option(help: "A one-time enrolment token from `aggregator nodes enroll`: enrol this node now.")
        var token: String?
        @Option(help: "https: a CA bundle (PEM) to trust for the aggregator instead of the system's.")
        var caFile: String?
        @Option(help: "https: pin the aggregator's public key, sha256//BASE64 (see docs/security.md).")
        var pinPublicKey: String?
        @OptionGroup var logging: LoggingOptions

        func validate() throws {
            if token != nil, aggregatorKey == nil, !aggregator.lowercased().hasPrefix("https://") {
                throw ValidationError(
                    """
                    over plain http anyone on the way could answer the enrolment with another key: give \
                    --aggregator-key (from `aggregator identity`) or use an https:// aggregator URL
                    """)
            }
        }

        func run() async throws {
            if token != nil, let aggregatorKey {
                // Before anything is created or enrolled: a wrong key must leave the token unused.
                let check = IdentityCheck(
                    baseURL: aggregator,
                    client: CurlHTTPClient(
                        connectTimeout: 5, totalTimeout: 30, caFile: caFile, pinnedPublicKey: pinPublicKey))
                do {
                    _ = try await check.verify(expected: aggregatorKey)
                } catch let error as SyncError {
                    FileHandle.standardError.write(Data("\(error.message). No data directory was created.\n".utf8))
                    throw ExitCode.failure
                }
            }
            let directory = try NodeDirectory.create(
                at: data.url, eventFile: URL(filePath: event), venue: venue,
                aggregator: .init(
                    url: aggregator, key: aggregatorKey, caFile: caFile, pinnedPublicKey: pinPublicKey,
                    replicas: replica))
            let database = try NodeDatabase(path: directory.databasePath, create: true)
            for warning in directory.event.warnings {
                FileHandle.standardError.write(Data("event: \(warning)\n".utf8))
            }
            print("node id:    \(directory.configuration.nodeID)")
            print("venue:      \(venue)")
            print("public key: \(directory.publicKeyBase64)")
            if let token {
                do {
                    try await Enroll.enrol(
                        directory: directory, database: database, token: token,
                        logger: logging.logger("venue-node.enroll"))
                } catch {
                    FileHandle.standardError.write(
                        Data(
                            ("the data directory is created, but enrolment failed: \(error)\n"
                                + "retry with: venue-node enroll --data-dir \(data.path) --token TOKEN\n").utf8))
                    throw ExitCode(2)
                }
            }
        }
    }
}
