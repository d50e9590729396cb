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
            let role = try database.standbyRole()
            if let role, role.following {
                // A standby's copy: its ledger tables are brought to the head only once it is promoted.
                let head = try database.head()
                print("venue:            \(directory.configuration.venue)  node \(directory.configuration.nodeID)")
                print("standby of:       \(role.primaryURL ?? "?") (since \(role.at))")
                print("records copied:   \(head.seq)  (head \(head.hash.prefix(16))…)")
                return
            }
            let status = try database.status()
            let standbys = try database.standbys()
            if json {
                print(try JSONCoding.string(status, .pretty))
                return
            }
            let configuration = directory.configuration
            print("venue:            \(configuration.venue)  node \(configuration.nodeID)")
            print("aggregator:       \(configuration.aggregatorURL)")
            for replica in configuration.aggregatorReplicas ?? [] { print("  replica:        \(replica)") }
            print("records:          \(status.lastSeq)  (head \(status.lastHash.prefix(16))…)")
            print("acknowledged:     \(status.acknowledgedSeq)")
            print("pending:          \(status.pending)")
            print("last sync:        \(status.lastSyncAt ?? "never")")
            print("last error:       \(status.lastError ?? "none")")
            if let role { print("promoted:         \(role.at), from the standby of \(role.primaryURL ?? "?")") }
            for standby in standbys {
                let held = standby.heldSeq.map { "holds \($0) of \(status.lastSeq) (\(status.lastSeq - $0) behind)" }
                print(
                    "standby \(standby.nodeID.prefix(8)):     "
                        + (held.map { "\($0), last asked \(standby.lastAt ?? "?")" } ?? "has not asked yet"))
            }
            for session in directory.event.definition.sessions {
                print(
                    "session \(session.id): check-ins \(status.checkins[session.id] ?? 0), "
                        + "ballots \(status.ballots[session.id] ?? 0)")
            }
        }
    }
}
