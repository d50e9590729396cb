import ArgumentParser
import Shared

/// `aggregator`: receives signed batches from the venue nodes, merges them and keeps the totals.
///
/// One file per subcommand (`AggregatorCommand+Serve.swift`, `+Nodes.swift` …); the options and helpers they
/// share are in `CommandOptions.swift`.
public struct AggregatorCommand: AsyncParsableCommand {
    public static let configuration = CommandConfiguration(
        commandName: "aggregator",
        abstract: "Receive the venues' signed batches, merge them idempotently and keep the event's totals.",
        discussion: "See docs/aggregator.md.",
        version: sanminVersionLine,
        subcommands: [
            Init.self, Serve.self, Identity.self, Nodes.self, Tokens.self, Roster.self, Report.self, Results.self,
            Export.self, Alarms.self, HeldOut.self, Event.self, Import.self, Tally.self, Suggestions.self,
            Migrate.self,
        ]
    )

    public init() {}
}
