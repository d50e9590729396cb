import ArgumentParser
import DaemonSupport
import Foundation
import Logging
import Shared

extension VenueNodeCommand {
    struct Receipts: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Prove which records the aggregator accepted, from the receipts it signed.",
            subcommands: [Check.self])

        struct Check: AsyncParsableCommand {
            static let configuration = CommandConfiguration(
                commandName: "verify",
                abstract: "Verify every receipt and say which records they prove accepted; with --heads, also check "
                    + "the aggregator's signed heads still cover them.",
                discussion:
                    "Exit status 1 when a receipt or a head does not check. Example: venue-node receipts verify --data-dir DIR --heads"
            )
            @OptionGroup var data: DataDirectoryOption
            @Flag(help: "Fetch the aggregator's signed heads (GET /v1/heads) and check them too.") var heads = false
            @OptionGroup var logging: LoggingOptions

            func run() async throws {
                let (directory, database) = try data.open()
                guard let keyText = directory.configuration.aggregatorKey,
                    let key = NodeIdentity.publicKey(base64: keyText)
                else {
                    throw ValidationError(
                        "this node has no aggregator key: receipts were not kept (venue-node init "
                            + "--aggregator-key)")
                }
                var signedHeads: SignedHeads?
                if heads {
                    signedHeads = try await Syncer(
                        directory: directory, database: database,
                        logger: logging.logger("venue-node.receipts")
                    ).fetchHeads()
                }
                let check = ReceiptCheck.run(
                    records: try database.allRecords(), receipts: try database.receipts(),
                    venue: directory.configuration.venue, key: key, heads: signedHeads)
                print(
                    "\(check.receipts) receipt(s); records 1…\(check.provenThrough) of venue "
                        + "\(directory.configuration.venue) are proven accepted by the aggregator")
                if let signedHeads,
                    let head = signedHeads.heads.first(where: { $0.venue == directory.configuration.venue })
                {
                    print("the aggregator's signed head (\(signedHeads.signedAt)): record \(head.seq)")
                }
                for problem in check.problems { print("problem: \(problem)") }
                if !check.problems.isEmpty { throw ExitCode.failure }
            }
        }
    }
}
