import DaemonSupport
import Foundation
import Shared
import Testing

/// The systemd units, the notification protocol and the configuration files of deploy/.
@Suite(.serialized) struct SystemdTests {
    static let units = ["venue-node", "aggregator", "venue-node-follow"]
    /// The data directory each unit runs on: the standby's follow unit shares the node's (it becomes the node's).
    static let stateDirectory = [
        "venue-node": "venue-node", "aggregator": "aggregator", "venue-node-follow": "venue-node",
    ]
    static let hasSystemdAnalyze = FileManager.default.isExecutableFile(atPath: "/usr/bin/systemd-analyze")

    @Test(.enabled(if: hasSystemdAnalyze, "needs systemd-analyze (Debian's systemd package)"))
    func theUnitsPassSystemdAnalyzeVerify() throws {
        let harness = try ProcessHarness()
        defer { harness.cleanUp() }
        var paths: [String] = []
        for unit in Self.units {
            // verify checks that ExecStart exists: point it at the binaries just built.
            let text = try String(contentsOf: Fixtures.root.appending(path: "deploy/\(unit).service"), encoding: .utf8)
                .replacingOccurrences(of: "/usr/local/bin/", with: harness.binaries.path + "/")
            paths.append(harness.workDirectory.appending(path: try harness.write(text, to: "\(unit).service")).path)
        }
        let process = Process()
        process.executableURL = URL(filePath: "/usr/bin/systemd-analyze")
        process.arguments = ["verify"] + paths
        let pipe = Pipe()
        process.standardOutput = pipe
        process.standardError = pipe
        try process.run()
        let output = String(decoding: pipe.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        #expect(process.terminationStatus == 0, "\(output)")
        #expect(output.isEmpty, "\(output)")
    }

    static let requiredDirectives = [
        "Type=notify", "WatchdogSec=60s", "Restart=on-failure", "User=sanmin", "UMask=0077", "ProtectSystem=strict",
        "NoNewPrivileges=yes", "SystemCallFilter=@system-service", "RestrictAddressFamilies=AF_INET AF_INET6 AF_UNIX",
        "PrivateTmp=yes", "ProtectHome=yes", "CapabilityBoundingSet=", "MemoryDenyWriteExecute=yes",
    ]

    @Test(arguments: units)
    func eachUnitCarriesTheHardeningAndTheNotifyProtocol(_ unit: String) throws {
        let lines = try String(contentsOf: Fixtures.root.appending(path: "deploy/\(unit).service"), encoding: .utf8)
            .split(separator: "\n").map(String.init)
        for directive in Self.requiredDirectives {
            #expect(lines.contains(directive), "\(unit).service lacks \(directive)")
        }
        #expect(lines.contains("StateDirectory=\(Self.stateDirectory[unit]!)"))
        #expect(lines.contains("EnvironmentFile=-/etc/sanmin/\(unit).env"))
        let binary = unit == "venue-node-follow" ? "venue-node" : unit
        #expect(
            lines.contains {
                $0.hasPrefix("ExecStart=/usr/local/bin/\(binary) ") && $0.hasSuffix("--config /etc/sanmin/\(unit).conf")
            })
        // Every connection holds a file descriptor: the limit is above the aggregator's total connection cap.
        let limit = lines.first { $0.hasPrefix("LimitNOFILE=") }.flatMap { Int($0.dropFirst("LimitNOFILE=".count)) }
        #expect((limit ?? 0) > 2_048 + 256, "\(unit).service needs LimitNOFILE= above --max-connections (2048)")
    }

    /// A datagram socket standing in for systemd's notification socket.
    final class NotifySocket {
        let path: String
        let fd: Int32

        init(path: String) throws {
            self.path = path
            fd = socket(AF_UNIX, Int32(SOCK_DGRAM.rawValue), 0)
            var address = sockaddr_un()
            address.sun_family = sa_family_t(AF_UNIX)
            withUnsafeMutableBytes(of: &address.sun_path) { $0.copyBytes(from: Array(path.utf8)) }
            let bound = withUnsafePointer(to: &address) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                    bind(fd, $0, socklen_t(MemoryLayout<sockaddr_un>.size))
                }
            }
            try #require(bound == 0)
            var timeout = timeval(tv_sec: 0, tv_usec: 200_000)
            setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        }

        /// Messages received until `deadline` or until `until` is satisfied.
        func receive(for duration: Duration, until done: ([String]) -> Bool) -> [String] {
            var messages: [String] = []
            let deadline = ContinuousClock.now + duration
            var buffer = [UInt8](repeating: 0, count: 4096)
            while ContinuousClock.now < deadline && !done(messages) {
                let count = recv(fd, &buffer, buffer.count, 0)
                if count > 0 { messages.append(String(decoding: buffer[0..<count], as: UTF8.self)) }
            }
            return messages
        }

        deinit {
            close(fd)
            unlink(path)
        }
    }

    @Test(arguments: units)
    func theDaemonSaysReadyPingsTheWatchdogAndSaysStoppingOnSIGTERM(_ unit: String) async throws {
        let harness = try ProcessHarness()
        defer { harness.cleanUp() }
        let eventURL = Fixtures.example("tumed-2021")
        let socket = try NotifySocket(path: harness.workDirectory.appending(path: "notify.sock").path)
        let config: String
        if unit == "venue-node-follow" {
            // A standby whose primary does not answer: it keeps trying, and says so, while systemd watches it.
            func initNode(_ dir: String) throws -> String {
                let created = try harness.run(
                    "venue-node",
                    [
                        "init", "--data-dir", dir, "--event", eventURL.path, "--venue", "tumed", "--aggregator",
                        "http://127.0.0.1:9",
                    ])
                return try #require(
                    created.stdout.split(separator: "\n").first { $0.hasPrefix("public key:") }?.split(separator: " ")
                        .last.map(String.init))
            }
            let primaryKey = try initNode("p")
            _ = try initNode("s")
            config = try harness.write(
                "data-dir = s\nprimary = http://127.0.0.1:9\nprimary-key = \(primaryKey)\ninterval = 1\n",
                to: "follow.conf")
        } else if unit == "venue-node" {
            #expect(
                try harness.run(
                    "venue-node",
                    [
                        "init", "--data-dir", "n", "--event", eventURL.path, "--venue",
                        "tumed", "--aggregator", "http://127.0.0.1:9",
                    ]
                ).status == 0)
            config = try harness.write("# test\ndata-dir = n\ninterval = 1\nmax-backoff = 1\n", to: "node.conf")
        } else {
            config = try harness.write(
                "data-dir = agg\nevent = \(eventURL.path)\nlisten = 127.0.0.1:0\n",
                to: "aggregator.conf")
        }
        let arguments =
            ["venue-node": ["run"], "venue-node-follow": ["follow"], "aggregator": ["serve"]][unit]! + [
                "--config", config,
            ]
        let process = try harness.start(
            unit == "venue-node-follow" ? "venue-node" : unit, arguments, log: "daemon.log",
            environment: [
                "NOTIFY_SOCKET": socket.path, "WATCHDOG_USEC": "400000",
            ])
        let started = socket.receive(for: .seconds(20)) { $0.filter { $0 == "WATCHDOG=1" }.count >= 2 }
        #expect(started.first == "READY=1", "\(started)")
        #expect(started.filter { $0 == "WATCHDOG=1" }.count >= 2, "\(started)")
        kill(process.processIdentifier, SIGTERM)
        let stopping = socket.receive(for: .seconds(10)) { $0.contains("STOPPING=1") }
        #expect(stopping.contains("STOPPING=1"), "\(stopping)")
        process.waitUntilExit()
        #expect(process.terminationStatus == 0)
    }

    @Test func aConfigurationFileAddsOptionsTheCommandLineDoesNotGive() throws {
        let harness = try ProcessHarness()
        defer { harness.cleanUp() }
        let file = harness.workDirectory.appending(
            path: try harness.write(
                """
                # comment
                data-dir = /var/lib/venue-node   # trailing comment
                interval = 5
                verbose = true
                quiet = false
                """, to: "x.conf")
        ).path
        #expect(
            try ConfigFile.expand(["run", "--config", file, "--interval", "9"])
                == ["run", "--interval", "9", "--data-dir", "/var/lib/venue-node", "--verbose"])
        let missing = try #require(throws: ConfigFile.Failure.self) {
            try ConfigFile.expand(["run", "--config", "/nope"])
        }
        #expect(missing.description.hasPrefix("cannot read the configuration file /nope"))
        let bad = harness.workDirectory.appending(path: try harness.write("interval 5\n", to: "bad.conf")).path
        let error = try #require(throws: ConfigFile.Failure.self) { try ConfigFile.expand(["run", "--config", bad]) }
        #expect(error.description == "\(bad):1: expected \"option = value\", found \"interval 5\"")
    }
}
