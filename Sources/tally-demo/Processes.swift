import Foundation

/// Runs the `venue-node` and `aggregator` binaries that sit next to this one.
struct Processes {
    let binaries: URL
    let workDirectory: URL

    struct Failure: Error, CustomStringConvertible {
        var description: String
    }

    init(workDirectory: URL) throws {
        let executable = try FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe")
        binaries = URL(filePath: executable).deletingLastPathComponent()
        self.workDirectory = workDirectory
    }

    /// Runs a command to its end; throws with its error output if it fails.
    @discardableResult
    func run(_ binary: String, _ arguments: [String], environment: [String: String] = [:]) throws -> String {
        let process = Process()
        process.executableURL = binaries.appending(path: binary)
        process.environment = ProcessInfo.processInfo.environment.merging(environment) { $1 }
        process.arguments = arguments
        process.currentDirectoryURL = workDirectory
        let output = Pipe()
        let errors = Pipe()
        process.standardOutput = output
        process.standardError = errors
        try process.run()
        let outData = output.fileHandleForReading.readDataToEndOfFile()
        let errData = errors.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        if process.terminationStatus != 0 {
            throw Failure(
                description: "\(binary) \(arguments.joined(separator: " ")) failed:\n"
                    + String(decoding: errData, as: UTF8.self))
        }
        return String(decoding: outData, as: UTF8.self)
    }

    /// Starts `aggregator serve` and waits for the port it listens on.
    func startAggregator(dataDir: String, event: String, port: Int) throws -> (Process, Int) {
        let log = workDirectory.appending(path: "aggregator.log")
        if !FileManager.default.fileExists(atPath: log.path) {
            _ = FileManager.default.createFile(atPath: log.path, contents: nil)
        }
        let handle = try FileHandle(forWritingTo: log)
        handle.seekToEndOfFile()
        let start = handle.offsetInFile
        let process = Process()
        process.executableURL = binaries.appending(path: "aggregator")
        process.arguments = ["serve", "--data-dir", dataDir, "--event", event, "--listen", "127.0.0.1:\(port)"]
        process.currentDirectoryURL = workDirectory
        process.standardOutput = handle
        process.standardError = handle
        try process.run()
        for _ in 0..<600 {
            let data = try Data(contentsOf: log).dropFirst(Int(start))
            if let line = String(decoding: data, as: UTF8.self).split(separator: "\n")
                .first(where: { $0.hasPrefix("listening on ") }), let port = Int(line.split(separator: ":").last ?? "")
            {
                return (process, port)
            }
            guard process.isRunning else { break }
            Thread.sleep(forTimeInterval: 0.05)
        }
        throw Failure(description: "the aggregator did not start; see \(log.path)")
    }
}
