import Foundation

/// The `venue-node` and `aggregator` binaries next to `tally-bench`, run in one working directory: to its end (its
/// standard output, or a failure with its standard error), or in the background with a log.
struct BenchProcesses {
    let binaries: URL
    let directory: URL

    struct Failure: Error, CustomStringConvertible { var description: String }

    init(directory: URL) throws {
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        binaries = URL(filePath: try FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe"))
            .deletingLastPathComponent()
        self.directory = directory
    }

    func run(_ binary: String, _ arguments: [String]) throws -> String {
        let process = Process()
        process.executableURL = binaries.appending(path: binary)
        process.arguments = arguments
        process.currentDirectoryURL = directory
        let output = Pipe()
        let errors = Pipe()
        process.standardOutput = output
        process.standardError = errors
        try process.run()
        let data = output.fileHandleForReading.readDataToEndOfFile()
        let problem = errors.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        guard process.terminationStatus == 0 else {
            throw Failure(
                description: "\(binary) \(arguments.joined(separator: " ")): "
                    + String(decoding: problem, as: UTF8.self))
        }
        return String(decoding: data, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
    }

    func start(_ binary: String, _ arguments: [String], log: String) throws -> Process {
        let process = Process()
        process.executableURL = binaries.appending(path: binary)
        process.arguments = arguments
        process.currentDirectoryURL = directory
        _ = FileManager.default.createFile(atPath: directory.appending(path: log).path, contents: nil)
        let handle = try FileHandle(forWritingTo: directory.appending(path: log))
        process.standardOutput = handle
        process.standardError = handle
        try process.run()
        return process
    }

    /// Waits until `log` has a line starting with `prefix`, and returns the rest of that line.
    func waitForLine(startingWith prefix: String, in log: String, process: Process) async throws -> String {
        let deadline = ContinuousClock.now + .seconds(60)
        while ContinuousClock.now < deadline {
            let text = (try? String(contentsOf: directory.appending(path: log), encoding: .utf8)) ?? ""
            if let line = text.split(separator: "\n").first(where: { $0.hasPrefix(prefix) }) {
                return String(line.dropFirst(prefix.count))
            }
            guard process.isRunning else { break }
            try await Task.sleep(for: .milliseconds(50))
        }
        throw Failure(description: "no \"\(prefix)\" in \(log)")
    }
}
