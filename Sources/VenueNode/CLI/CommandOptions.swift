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

/// A refusal of a command line, said as it is (exit status 1, no usage text).
struct CommandFailure: Error, CustomStringConvertible {
    var description: String
    init(_ description: String) { self.description = description }
}

/// Asks before something that cannot be undone: with `yes`, goes ahead; on a terminal, asks y/N; without a
/// terminal (a script) refuses, so that nothing irreversible happens by accident.
func confirm(_ action: String, yes: Bool, otherwise: String = "nothing was done") throws {
    if yes { return }
    guard isatty(STDIN_FILENO) == 1 else {
        throw CommandFailure(
            "not confirmed: this would \(action), which cannot be undone. There is no terminal to ask on: add --yes "
                + "to go ahead")
    }
    FileHandle.standardError.write(Data("\(action)? This cannot be undone. [y/N] ".utf8))
    let answer = (readLine() ?? "").trimmingCharacters(in: .whitespaces).lowercased()
    guard answer == "y" || answer == "yes" else { throw CommandFailure("not confirmed: \(otherwise)") }
}

/// Prints rows as an aligned table for people (CJK characters count as two columns).
func printTable(header: [String], rows: [[String]]) {
    func width(_ text: String) -> Int {
        text.unicodeScalars.reduce(0) { $0 + ($1.properties.isEmojiPresentation || $1.value >= 0x1100 ? 2 : 1) }
    }
    var widths = header.map(width)
    for row in rows { for (index, field) in row.enumerated() { widths[index] = max(widths[index], width(field)) } }
    for row in [header] + rows {
        print(
            row.enumerated().map { index, field in
                index == row.count - 1 ? field : field + String(repeating: " ", count: widths[index] - width(field))
            }.joined(separator: "  "))
    }
}
