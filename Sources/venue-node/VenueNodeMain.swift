import ArgumentParser
import VenueNode

/// Entry point: the command tree lives in the VenueNode library, where tests can reach it.
@main
struct VenueNodeMain: AsyncParsableCommand {
    static let configuration = VenueNodeCommand.configuration
}
