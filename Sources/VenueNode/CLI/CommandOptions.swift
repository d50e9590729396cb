import ArgumentParser
import DaemonSupport
import Foundation
import Logging
import Shared
import Synchronization

/// The `--data-dir` every command takes.
struct DataDirectoryOption: ParsableArguments {
    @Option(name: .customLong("data-dir"), help: "The node's data directory (made by `venue-node init`).")
    var path: String

    var url: URL { URL(filePath: path) }

    func open() throws -> (NodeDirectory, NodeDatabase) {
        let directory = try NodeDirectory.open(at: url)
        return (directory, try NodeDatabase(path: directory.databasePath))
    }
}

/// Appends records and prints where they went.
func save(_ payloads: [RecordPayload], data: DataDirectoryOption) throws {
    let (directory, database) = try data.open()
    let saved = try appending(directory) { try database.append(payloads, event: directory.event.definition) }
    for record in saved { print("saved record \(record.seq) (\(record.hash.prefix(16))…)") }
}

/// Runs a write, turning storage failures (disk full, I/O errors) into a message an operator can act on.
func appending<T>(_ directory: NodeDirectory, _ write: () throws -> T) throws -> T {
    do {
        return try write()
    } catch {
        if let explained = DurableDatabase.explain(error, path: directory.databasePath) {
            throw DurableDatabase.Failure(description: explained)
        }
        throw error
    }
}
