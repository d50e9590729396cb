import ArgumentParser
import Shared

/// `venue-node`: records a venue's attendance and ballot boxes offline and syncs them to the aggregator.
///
/// One file per subcommand (`VenueNodeCommand+Init.swift`, `+Sync.swift` …); the options and helpers they
/// share are in `CommandOptions.swift`.
public struct VenueNodeCommand: AsyncParsableCommand {
    public static let configuration = CommandConfiguration(
        commandName: "venue-node",
        abstract: "Record a venue's check-ins and ballot boxes offline; sync signed batches to the aggregator.",
        discussion: "Every command but `sync` works without the network. See docs/venue-node.md.",
        version: sanminVersionLine,
        subcommands: [
            Init.self, Enroll.self, Roster.self, Checkin.self, Box.self, Ballot.self, Form.self, Correct.self,
            Import.self,
            Status.self, Report.self,
            Verify.self, Receipts.self,
            Sync.self, Run.self, Restore.self, Handover.self, Clerks.self, Codes.self, Export.self, Standby.self,
            Follow.self, Promote.self,
        ]
    )

    public init() {}
}
