import ArgumentParser
import DaemonSupport
import Foundation
import Shared

extension AggregatorCommand {
    struct Identity: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Print the aggregator's public key (it signs receipts and heads), creating the key if needed.",
            discussion: """
                Give it to every venue node: venue-node init … --aggregator-key KEY. The private key is kept in
                DIR/aggregator.key (mode 0600). Example: aggregator identity --data-dir /var/lib/aggregator
                """)
        @OptionGroup var data: AggregatorDataOption
        @OptionGroup var identity: IdentityKeyOption

        func run() throws {
            try data.requireDatabase()
            let key = try identity.key(dataDirectory: data.path)
            print(key.publicKey.rawRepresentation.base64EncodedString())
        }
    }
}
