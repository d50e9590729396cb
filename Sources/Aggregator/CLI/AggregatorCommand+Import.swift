import ArgumentParser
import Crypto
import DaemonSupport
import Foundation
import Shared

extension AggregatorCommand {
    struct Import: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Merge the batches a venue carried on a USB stick (`venue-node export`), as if sent over HTTP.",
            discussion: """
                Every batch is verified first (signature over its exact bytes, the node's key still current, event,
                venue, an unbroken chain): one bad batch and nothing is imported. Then each is merged exactly as
                POST /v1/batches merges it: records already held count nothing, so the same file twice, or a file
                whose records also came over the network, adds nothing. Prints the file's digest (compare it with
                the one read over the phone). With --receipts-out, writes the signed receipts to carry back
                (`venue-node receipts import`). It may run while `aggregator serve` runs on the same directory; the
                dashboard shows the records at its next change.
                Example: aggregator import --data-dir DIR /media/usb/dongsheng.json --receipts-out receipts.json
                """)
        @OptionGroup var data: StoreOption
        @OptionGroup var identity: IdentityKeyOption
        @Argument(help: "The file `venue-node export` wrote.") var file: String
        @Option(help: "Write the receipts for the merged batches to this file (refused if it exists).")
        var receiptsOut: String?
        @Option(help: "Batches signed longer ago than this many hours are refused (as `serve` refuses them).")
        var signatureMaxAgeHours = 168

        func validate() throws {
            guard (1...24 * 30).contains(signatureMaxAgeHours) else {
                throw ValidationError("--signature-max-age-hours must be 1 to 720")
            }
        }

        func run() async throws {
            if let receiptsOut, FileManager.default.fileExists(atPath: receiptsOut) {
                throw AggregatorError("\(receiptsOut) exists: give a new file name; nothing was imported")
            }
            let (database, event) = try data.openWithEvent()
            let bytes = try InputFile.read(file)
            print("file digest \(carriedDigest(bytes))")
            let carried: CarriedBatches
            do {
                carried = try CarriedBatches.read(bytes)
            } catch {
                throw AggregatorError("\(error.description); nothing was imported")
            }
            try await merge(carried, into: database, event: event, key: try data.key(identity))
        }

        /// Verifies every batch, then merges them one by one, as `POST /v1/batches` does, into either store.
        private func merge<Store: AggregatorStore>(
            _ carried: CarriedBatches, into database: Store, event: LoadedEvent, key: Curve25519.Signing.PrivateKey
        ) async throws {
            let intake = Intake(
                database: database, event: event.definition, signingKey: key,
                maxSignatureAge: Int64(signatureMaxAgeHours) * 3600)
            let requests = carried.batches.map {
                SignedNodeRequest(
                    contentType: "application/json", contentDigest: $0.contentDigest,
                    signatureInput: $0.signatureInput, signature: $0.signature, body: $0.body)
            }
            // Every batch verified before any is merged: a tampered or foreign batch imports nothing.
            var sizes: [Int] = []
            var venues: [String] = []
            for (index, request) in requests.enumerated() {
                do {
                    let verified = try intake.verify(request)
                    sizes.append(verified.batch.records.count)
                    venues.append(verified.batch.venue)
                } catch let error as APIError {
                    throw AggregatorError(
                        "batch \(index + 1) of \(requests.count) is refused: \(error.body.error.code.rawValue): "
                            + "\(error.body.error.message); nothing was imported")
                }
            }
            var receipts: [Receipt] = []
            var new = 0
            var venue = carried.venue
            var node = carried.node
            var range: (first: Int64, last: Int64)?
            for (index, request) in requests.enumerated() {
                let merged: MergeResult
                do {
                    merged = try await intake.receiveCounting(request)
                } catch let error as APIError {
                    throw AggregatorError(
                        "batch \(index + 1) of \(requests.count) is refused: \(error.body.error.code.rawValue): "
                            + "\(error.body.error.message); the \(index) batch(es) before it were merged"
                            + (range.map { " (records \($0.first)…\($0.last))" } ?? ""))
                }
                new += merged.newRecords.values.reduce(0, +)
                (venue, node) = (venues[index], merged.ack.node)
                range = (range?.first ?? merged.ack.firstSeq, merged.ack.lastSeq)
                if let receipt = try intake.receipt(for: merged.ack, venue: venue) {
                    receipts.append(receipt)
                }
            }
            let total = sizes.reduce(0, +)
            print(
                "\(requests.count) batch(es) of node \(node), venue \(venue), records "
                    + "\(range?.first ?? 0)…\(range?.last ?? 0): \(new) new record(s) merged, \(total - new) already held"
            )
            if let receiptsOut {
                let file = CarriedReceipts(event: event.definition.id, venue: venue, node: node, receipts: receipts)
                guard
                    FileManager.default.createFile(
                        atPath: receiptsOut, contents: try JSONCoding.data(file, .pretty),
                        attributes: [.posixPermissions: 0o644])
                else { throw AggregatorError("could not write \(receiptsOut)") }
                print(
                    "\(receipts.count) receipt(s) written to \(receiptsOut): carry them back (venue-node receipts import)"
                )
            }
        }
    }
}
