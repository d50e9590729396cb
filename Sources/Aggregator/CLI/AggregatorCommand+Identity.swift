import ArgumentParser
import Crypto
import DaemonSupport
import Foundation
import Shared

extension AggregatorCommand {
    struct Identity: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Print the aggregator's public key (it signs receipts and heads), creating the key if needed.",
            discussion: """
                Give it to every venue node: venue-node init … --aggregator-key KEY. The private key is kept in
                DIR/aggregator.key (mode 0600), or in the file every aggregator sharing a PostgreSQL database is
                given (--identity-key FILE, then no --data-dir is needed).
                Example: aggregator identity --data-dir /var/lib/aggregator
                """)
        @Option(name: .customLong("data-dir"), help: "The aggregator's data directory.") var path: String?
        @OptionGroup var identity: IdentityKeyOption

        func validate() throws {
            guard path != nil || identity.file != nil else {
                throw ValidationError(
                    "give --data-dir DIR, or --identity-key FILE (the key file the aggregators sharing a database sign "
                        + "with)")
            }
        }

        func run() throws {
            let key: Curve25519.Signing.PrivateKey
            if let path {
                try AggregatorDataOption(path: path).requireDatabase()
                key = try identity.key(dataDirectory: path)
            } else {
                // A file given is never created: a missing one is refused.
                key = try identity.key(dataDirectory: "")
            }
            print(key.publicKey.rawRepresentation.base64EncodedString())
        }
    }
}
