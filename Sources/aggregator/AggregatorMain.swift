import Aggregator
import ArgumentParser

/// Entry point: the command tree lives in the Aggregator library, where tests can reach it.
@main
struct AggregatorMain: AsyncParsableCommand {
    static let configuration = AggregatorCommand.configuration
}
