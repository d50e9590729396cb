import ArgumentParser
import Foundation
import Shared

extension VenueNodeCommand {
    struct Export: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Write the records the aggregator has not acknowledged into one file, to carry on a USB stick.",
            discussion: """
                The records go as the signed batches `sync` would send; `aggregator import FILE` at the central office
                merges them exactly as if they had come over the network, and writes receipts to carry back
                (`venue-node receipts import`). Prints the file's digest (16 hexadecimal characters) to read aloud
                over the phone. The file holds no ID-card number; it holds the venue's anonymous ballots and
                check-ins (with person keys): keep it as you would the ballot boxes (docs/operations.md).
                Example: venue-node export --data-dir DIR --to /media/usb/dongsheng.json
                """)
        @OptionGroup var data: DataDirectoryOption
        @Option(help: "The file to write (refused if it exists).") var to: String
        @Option(help: "Carry from this record on (default: the first one not acknowledged).") var fromSeq: Int64?
        @Option(help: "Records per batch.") var batchSize = 500

        func run() throws {
            guard !FileManager.default.fileExists(atPath: to) else {
                throw CommandFailure("\(to) exists: give a new file name; nothing was written")
            }
            let (directory, database) = try data.open()
            let file: CarriedBatches
            do {
                file = try CarriedRecords.export(
                    directory: directory, database: database, fromSeq: fromSeq, batchSize: batchSize)
            } catch let refusal as CarriedRecords.Refusal {
                throw CommandFailure(refusal.description)
            }
            let bytes = try JSONCoding.data(file, .compact)
            guard FileManager.default.createFile(atPath: to, contents: bytes, attributes: [.posixPermissions: 0o600])
            else { throw CommandFailure("could not write \(to)") }
            print(
                "wrote records \(file.firstSeq)…\(file.lastSeq) of venue \(file.venue) in \(file.batches.count) "
                    + "signed batch(es) to \(to)")
            print("digest \(carriedDigest(bytes)) (read it aloud to the central office)")
        }
    }
}
