import ArgumentParser
import Foundation
import Shared

extension AggregatorCommand {
    struct Event: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Check an event file and list every issue found.",
            discussion: "Exit status 0 when the event is usable (warnings only), 1 otherwise. "
                + "Example: aggregator event --event examples/ordos-2021/event.json")
        @Option(help: "The event file.") var event: String

        func run() throws {
            do {
                let loaded = try EventDefinition.load(contentsOf: URL(filePath: event))
                let definition = loaded.definition
                print("\(definition.id): \(definition.title)")
                print(
                    "  \(definition.departments.count) departments in \(definition.groups.count) groups, "
                        + "\(definition.sessions.count) sessions, \(definition.venues.count) venues, "
                        + "\(definition.categories.count) categories, \(definition.quotas.count) quota columns")
                for warning in loaded.warnings { print("  \(warning)") }
                print(loaded.warnings.isEmpty ? "no issues" : "\(loaded.warnings.count) warning(s)")
            } catch let error as EventLoadError {
                print(error.description)
                throw ExitCode.failure
            }
        }
    }
}
