import ArgumentParser
import Foundation
import Shared

extension VenueNodeCommand {
    struct Verify: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Verify the node's hash chain from the first record to the last.")

        @OptionGroup var data: DataDirectoryOption

        func run() throws {
            let (_, database) = try data.open()
            let records = try database.allRecords()
            try RecordChain.verify(records)
            print("chain ok: \(records.count) record(s), head \(records.last?.hash ?? RecordChain.genesis)")
        }
    }
}
