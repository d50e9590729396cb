import ArgumentParser
import DaemonSupport
import Shared
import VenueNode

/// Entry point: the command tree lives in the VenueNode library, where tests can reach it.
@main
struct VenueNodeMain: AsyncParsableCommand {
    static let configuration = VenueNodeCommand.configuration

    static func main() async {
        do {
            await main(try ConfigFile.expand(Array(CommandLine.arguments.dropFirst())))
        } catch {
            exit(withError: error)
        }
    }
}
