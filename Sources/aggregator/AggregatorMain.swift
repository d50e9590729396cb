import Aggregator
import ArgumentParser
import DaemonSupport
import Shared

/// Entry point: the command tree lives in the Aggregator library, where tests can reach it.
@main
struct AggregatorMain: AsyncParsableCommand {
    static let configuration = AggregatorCommand.configuration

    static func main() async {
        do {
            await main(try ConfigFile.expand(Array(CommandLine.arguments.dropFirst())))
        } catch {
            exit(withError: error)
        }
    }
}
