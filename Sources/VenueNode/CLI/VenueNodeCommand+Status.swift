import ArgumentParser
import Foundation
import Shared

extension VenueNodeCommand {
    struct Status: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Show local counts and sync state (works offline).",
            discussion: "Example: venue-node status --data-dir DIR --json")

        @OptionGroup var data: DataDirectoryOption
        @Flag(help: "Print JSON.") var json = false

        func run() throws {
            let (directory, database) = try data.open()
            let status = try database.status()
            if json {
                print(try JSONCoding.string(status, .pretty))
                return
            }
            let configuration = directory.configuration
            print("venue:            \(configuration.venue)  node \(configuration.nodeID)")
            print("aggregator:       \(configuration.aggregatorURL)")
            print("records:          \(status.lastSeq)  (head \(status.lastHash.prefix(16))…)")
            print("acknowledged:     \(status.acknowledgedSeq)")
            print("pending:          \(status.pending)")
            print("last sync:        \(status.lastSyncAt ?? "never")")
            print("last error:       \(status.lastError ?? "none")")
            for session in directory.event.definition.sessions {
                print(
                    "session \(session.id): check-ins \(status.checkins[session.id] ?? 0), "
                        + "ballots \(status.ballots[session.id] ?? 0)")
            }
        }
    }
}
