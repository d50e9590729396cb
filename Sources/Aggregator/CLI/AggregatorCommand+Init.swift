import ArgumentParser
import DaemonSupport
import Foundation
import Shared

extension AggregatorCommand {
    struct Init: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract:
                "Create an aggregator for an event: its data directory, database and key, with the event installed.",
            discussion: """
                The central office's first step (`serve` does the same when it starts). Then `tokens add`,
                `nodes enroll`, `nodes add` and `roster import` work, each refusing a venue the event does not have.
                Running it again with the same event (or a new version of it) is harmless; another event is refused.
                Example: aggregator init --data-dir /var/lib/aggregator --event examples/ordos-2021/event.json
                """)
        @OptionGroup var data: AggregatorDataOption
        @OptionGroup var identity: IdentityKeyOption
        @Option(help: "The event file (JSON, see docs/event-format.md).") var event: String

        func run() throws {
            let loaded = try EventDefinition.load(contentsOf: URL(filePath: event))
            try FileManager.default.createDirectory(
                at: URL(filePath: data.path), withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
            let lock = try DataDirectoryLock(directory: data.path, program: "aggregator init")
            defer { withExtendedLifetime(lock) {} }
            let database = try data.open(create: true)
            try database.install(event: loaded, json: InputFile.read(event))
            let key = try identity.key(dataDirectory: data.path)
            for warning in loaded.warnings { print("warning: \(warning)") }
            print(
                "aggregator ready in \(data.path) for event \(loaded.definition.id) "
                    + "(\(loaded.definition.venues.count) venues: "
                    + loaded.definition.venues.map(\.id).joined(separator: ", ") + ")")
            print("public key: \(key.publicKey.rawRepresentation.base64EncodedString())")
            print(
                "next: aggregator tokens add, aggregator nodes enroll --venue V, aggregator roster import, "
                    + "aggregator serve")
        }
    }
}

extension AggregatorDataOption {
    /// The database and its event, refusing `venue` when the event has no such venue.
    func openForVenue(_ venue: String) throws -> AggregatorDatabase {
        let (database, event) = try openWithEvent()
        guard event.definition.venue(venue) != nil else {
            throw AggregatorError(
                "venue \"\(venue)\" is not in event \(event.definition.id); its venues are: "
                    + event.definition.venues.map(\.id).joined(separator: ", ") + ". Nothing was done")
        }
        return database
    }
}
