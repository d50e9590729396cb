import Foundation
import Testing

#if canImport(Glibc)
    import Glibc
#endif

/// Runs the real `venue-node` and `aggregator` binaries built next to the test bundle.
struct ProcessHarness {
    let binaries: URL
    let workDirectory: URL

    init() throws {
        // The test bundle runs from .build/<configuration>/, where `swift build` puts the executables.
        let executable = try FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe")
        binaries = URL(filePath: executable).deletingLastPathComponent()
        for name in ["venue-node", "aggregator"] {
            let path = binaries.appending(path: name).path
            try #require(
                FileManager.default.isExecutableFile(atPath: path),
                "\(path) is missing: run `swift build` before `swift test` (scripts/test.sh does)")
        }
        workDirectory = try Fixtures.temporaryDirectory("sanmin-e2e")
    }

    struct Output {
        var status: Int32
        var stdout: String
        var stderr: String
    }

    /// Runs a command to its end.
    @discardableResult
    func run(_ binary: String, _ arguments: [String]) throws -> Output {
        try runWith(environment: [:], binary, arguments)
    }

    /// Runs a command to its end with extra environment variables.
    @discardableResult
    func runWith(environment: [String: String], _ binary: String, _ arguments: [String]) throws -> Output {
        let process = Process()
        process.executableURL = binaries.appending(path: binary)
        process.environment = ProcessInfo.processInfo.environment.merging(environment) { $1 }
        process.arguments = arguments
        process.currentDirectoryURL = workDirectory
        let out = workDirectory.appending(path: "out-\(UUID().uuidString)")
        let err = workDirectory.appending(path: "err-\(UUID().uuidString)")
        _ = FileManager.default.createFile(atPath: out.path, contents: nil)
        _ = FileManager.default.createFile(atPath: err.path, contents: nil)
        process.standardOutput = try FileHandle(forWritingTo: out)
        process.standardError = try FileHandle(forWritingTo: err)
        // Never the test runner's terminal: a command that would ask a question must see no terminal.
        process.standardInput = FileHandle.nullDevice
        try process.run()
        process.waitUntilExit()
        return Output(
            status: process.terminationStatus,
            stdout: try String(contentsOf: out, encoding: .utf8),
            stderr: try String(contentsOf: err, encoding: .utf8))
    }

    /// `run` on a thread of its own, so that a long command (one that waits for a lock, say) does not hold
    /// one of the few threads every async test shares.
    func runOffThePool(_ binary: String, _ arguments: [String]) async throws -> Output {
        try await withCheckedThrowingContinuation { continuation in
            Thread.detachNewThread {
                continuation.resume(with: Result { try run(binary, arguments) })
            }
        }
    }

    /// Runs `body` on a thread of its own (for timing that must not wait for a shared thread to be free).
    func onOwnThread<T: Sendable>(_ body: @escaping @Sendable () throws -> T) async throws -> T {
        try await withCheckedThrowingContinuation { continuation in
            Thread.detachNewThread { continuation.resume(with: Result { try body() }) }
        }
    }

    /// Waits for a process to exit without holding a thread every async test shares.
    func waitForExit(_ process: Process) async {
        while process.isRunning { try? await Task.sleep(for: .milliseconds(50)) }
        process.waitUntilExit()
    }

    /// Starts a command in the background, its output going to `log`.
    func start(_ binary: String, _ arguments: [String], log: String, environment: [String: String] = [:]) throws
        -> Process
    {
        try start(executable: binaries.appending(path: binary), arguments, log: log, environment: environment)
    }

    /// Starts any executable in the background, its output going to `log`, with extra environment variables.
    func start(executable: URL, _ arguments: [String], log: String, environment: [String: String] = [:]) throws
        -> Process
    {
        let process = Process()
        process.executableURL = executable
        process.environment = ProcessInfo.processInfo.environment.merging(environment) { $1 }
        process.arguments = arguments
        process.currentDirectoryURL = workDirectory
        let logURL = workDirectory.appending(path: log)
        _ = FileManager.default.createFile(atPath: logURL.path, contents: nil)
        let handle = try FileHandle(forWritingTo: logURL)
        handle.seekToEndOfFile()
        process.standardOutput = handle
        process.standardError = handle
        try process.run()
        return process
    }

    /// Starts `venue-node run` on `dataDir` serving the desk (and `/vote`) on a free loopback port, with `options`
    /// added, and waits until it listens; returns the daemon and the desk's address (`http://127.0.0.1:PORT`).
    func startDesk(_ dataDir: String, options: [String] = ["--interval", "1"]) async throws -> (Process, String) {
        let log = "desk-\(UUID().uuidString).log"
        let daemon = try start(
            "venue-node", ["run", "--data-dir", dataDir, "--desk-listen", "127.0.0.1:0"] + options, log: log)
        let line = try await waitForLine(startingWith: "desk listening on 127.0.0.1:", in: log)
        return (daemon, "http://127.0.0.1:\(line.split(separator: ":").last ?? "")")
    }

    /// Starts `aggregator serve` (with `options` added) and waits until it prints the port it listens on. With no
    /// `port`, it listens on a free port below the kernel's ephemeral range (`stablePort`), so that a test may stop it
    /// and start it again on the same port without another test's port-0 listener taking the port meanwhile.
    func startAggregator(
        dataDir: String, event: URL, port: Int = 0, options: [String] = [],
        environment: [String: String] = [:]
    ) async throws -> (Process, Int) {
        var output = ""
        for _ in 0..<(port == 0 ? 3 : 1) {
            let chosen = port == 0 ? Self.stablePort() : port
            let (started, text) = try await launchAggregator(
                dataDir: dataDir, event: event, port: chosen, options: options, environment: environment)
            if let started { return started }
            output = text
        }
        Issue.record("the aggregator did not start: \(output)")
        throw CancellationError()
    }

    private func launchAggregator(
        dataDir: String, event: URL, port: Int, options: [String], environment: [String: String]
    ) async throws -> (started: (Process, Int)?, output: String) {
        let log = "aggregator-\(UUID().uuidString).log"
        let process = try start(
            "aggregator",
            [
                "serve", "--data-dir", dataDir, "--event", event.path,
                "--listen", "127.0.0.1:\(port)",
            ] + options, log: log,
            environment: environment)
        let deadline = ContinuousClock.now + .seconds(30)
        // The log is read once more after the deadline: on a loaded machine this task may not have run for a
        // while (tests that block a thread hold up the others), though the server started long ago.
        while true {
            let text = (try? String(contentsOf: workDirectory.appending(path: log), encoding: .utf8)) ?? ""
            if let line = text.split(separator: "\n").first(where: { $0.hasPrefix("listening on ") }),
                let port = Int((line.split(separator: ":").last ?? "").prefix(while: \.isNumber))
            {
                return ((process, port), text)
            }
            guard process.isRunning, ContinuousClock.now < deadline else { break }
            try await Task.sleep(for: .milliseconds(50))
        }
        process.terminate()
        process.waitUntilExit()
        return (nil, (try? String(contentsOf: workDirectory.appending(path: log), encoding: .utf8)) ?? "")
    }

    /// A loopback port below the kernel's ephemeral range (32768 and up here), free now; 0 if none was found.
    static func stablePort() -> Int {
        for _ in 0..<50 {
            let candidate = Int.random(in: 20_000..<32_000)
            let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
            guard fd >= 0 else { continue }
            defer { close(fd) }
            var yes: Int32 = 1
            setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &yes, socklen_t(MemoryLayout<Int32>.size))
            var address = sockaddr_in()
            address.sin_family = sa_family_t(AF_INET)
            address.sin_port = in_port_t(UInt16(candidate).bigEndian)
            address.sin_addr.s_addr = inet_addr("127.0.0.1")
            let bound = withUnsafePointer(to: &address) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                    bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size))
                }
            }
            if bound == 0 { return candidate }
        }
        return 0
    }

    /// `startAggregator` for callers that cannot wait asynchronously (the fault proxy's thread).
    func startAggregatorBlocking(dataDir: String, event: URL, port: Int, options: [String] = []) throws -> Process {
        let log = "aggregator-\(UUID().uuidString).log"
        let process = try start(
            "aggregator",
            [
                "serve", "--data-dir", dataDir, "--event", event.path,
                "--listen", "127.0.0.1:\(port)",
            ] + options, log: log)
        let deadline = ContinuousClock.now + .seconds(60)
        var text = ""
        while ContinuousClock.now < deadline {
            text = (try? String(contentsOf: workDirectory.appending(path: log), encoding: .utf8)) ?? ""
            if text.contains("\nlistening on ") || text.hasPrefix("listening on ") { return process }
            guard process.isRunning else { break }
            Thread.sleep(forTimeInterval: 0.02)
        }
        process.terminate()
        process.waitUntilExit()
        throw AggregatorDidNotStart(log: log, output: text, exitStatus: process.terminationStatus)
    }

    struct AggregatorDidNotStart: Error, CustomStringConvertible {
        var log: String
        var output: String
        var exitStatus: Int32
        var description: String { "the aggregator did not start (exit \(exitStatus), \(log)): \(output.suffix(400))" }
    }

    /// Waits until `log` has a line starting with `prefix`; returns that line.
    func waitForLine(startingWith prefix: String, in log: String, timeout: Duration = .seconds(30)) async throws
        -> String
    {
        let deadline = ContinuousClock.now + timeout
        while true {
            let text = (try? String(contentsOf: workDirectory.appending(path: log), encoding: .utf8)) ?? ""
            if let line = text.split(separator: "\n").first(where: { $0.hasPrefix(prefix) }) { return String(line) }
            guard ContinuousClock.now < deadline else { break }
            try await Task.sleep(for: .milliseconds(50))
        }
        Issue.record("no line starting with \"\(prefix)\" in \(log)")
        throw CancellationError()
    }

    /// Waits until `venue-node status` of `dataDir` says nothing is pending (its daemon synced everything); false
    /// when `timeout` passed first.
    func waitUntilSynced(_ dataDir: String, timeout: Duration = .seconds(60)) async throws -> Bool {
        let deadline = ContinuousClock.now + timeout
        while ContinuousClock.now < deadline {
            let status = try run("venue-node", ["status", "--data-dir", dataDir, "--json"])
            let pending = (try? JSONSerialization.jsonObject(with: Data(status.stdout.utf8)) as? [String: Any])?[
                "pending"]
            if pending as? Int == 0 { return true }
            try await Task.sleep(for: .milliseconds(200))
        }
        return false
    }

    /// `venue-node init` a data directory (with `options` added), then enrol its key at the aggregator of `aggregatorDir`;
    /// returns what `aggregator nodes add` printed. `store`: where `aggregator nodes add` finds the aggregator's store
    /// (`--data-dir agg` unless told); on a shared database (which a schedule may be restarting) it is tried again, up
    /// to ten times half a second apart.
    @discardableResult
    func createNode(
        _ dataDir: String, event: URL, venue: String, aggregatorURL: String,
        aggregatorDir: String = "agg", options: [String] = [], store: [String]? = nil
    ) throws -> String {
        let created = try run(
            "venue-node",
            [
                "init", "--data-dir", dataDir, "--event", event.path, "--venue", venue,
                "--aggregator", aggregatorURL,
            ] + options)
        #expect(created.status == 0, "venue-node init: \(created.stderr)")
        let key = try #require(
            created.stdout.split(separator: "\n").first { $0.hasPrefix("public key:") }?
                .split(separator: " ").last, "venue-node init: \(created.stderr)")
        var enrolled = Output(status: -1, stdout: "", stderr: "")
        for attempt in 0..<(store == nil ? 1 : 10) where enrolled.status != 0 {
            if attempt > 0 { Thread.sleep(forTimeInterval: 0.5) }
            enrolled = try run(
                "aggregator",
                ["nodes", "add", "--venue", venue, "--public-key", String(key)]
                    + (store ?? ["--data-dir", aggregatorDir]))
        }
        #expect(enrolled.status == 0, "\(enrolled.stderr)")
        return enrolled.stdout
    }

    func write(_ text: String, to name: String) throws -> String {
        try text.write(to: workDirectory.appending(path: name), atomically: true, encoding: .utf8)
        return name
    }

    func cleanUp() {
        try? FileManager.default.removeItem(at: workDirectory)
    }
}
