import ArgumentParser
import DaemonSupport
import Foundation
import Logging
import Shared

extension VenueNodeCommand {
    struct Receipts: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Prove which records the aggregator accepted, from the receipts it signed.",
            subcommands: [Check.self, Import.self])

        struct Import: ParsableCommand {
            static let configuration = CommandConfiguration(
                abstract: "Keep the receipts carried back from the aggregator (`aggregator import --receipts-out`).",
                discussion: """
                    Each receipt must be signed by the aggregator's key this node knows and cover this node's own
                    records; then those records count as acknowledged, and sync does not send them again.
                    Example: venue-node receipts import --data-dir DIR /media/usb/dongsheng-receipts.json
                    """)
            @OptionGroup var data: DataDirectoryOption
            @Argument(help: "The receipts file.") var file: String

            func run() throws {
                let (directory, database) = try data.open()
                let bytes: Data
                do {
                    bytes = try Data(contentsOf: URL(filePath: file))
                } catch {
                    throw CommandFailure("cannot read \(file): \(error.localizedDescription)")
                }
                do {
                    let carried = try CarriedReceipts.read(bytes)
                    let kept = try appending(directory) {
                        try CarriedRecords.importReceipts(carried, directory: directory, database: database)
                    }
                    print(
                        "kept \(kept.receipts) receipt(s): records 1…\(kept.acknowledgedSeq) acknowledged, "
                            + "\(kept.pending) pending")
                } catch let error as CarriedFileError {
                    throw CommandFailure("\(error.description): nothing was kept")
                } catch let refusal as CarriedRecords.Refusal {
                    throw CommandFailure(refusal.description)
                }
            }
        }

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
