import Foundation
import Testing

/// The aggregator serves HTTPS with a certificate and key; a node trusts a given CA (libcurl CAINFO)
/// and can pin the aggregator's public key (PINNEDPUBLICKEY). Certificates are made with openssl.
@Suite struct TLSTests {
    /// Runs a shell command in `directory`; returns its output, requiring that it succeeds.
    static func shell(_ command: String, in directory: URL) throws -> String {
        let result = runShell(command, in: directory)
        try #require(result.status == 0, "failed: \(command)\n\(result.output)")
        return result.output.trimmingCharacters(in: .whitespacesAndNewlines)
    }

    /// A private CA and a certificate for 127.0.0.1 in `directory`: ca.pem, server.pem, server.key.
    static func makeCertificates(in directory: URL) throws {
        _ = try Self.shell(
            """
            openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -keyout ca.key -out ca.pem \
              -days 2 -subj /CN=sanmin-test-ca && \
            openssl req -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -keyout server.key -out server.csr \
              -subj /CN=127.0.0.1 && \
            printf 'subjectAltName=IP:127.0.0.1\\n' > san.ext && \
            openssl x509 -req -in server.csr -CA ca.pem -CAkey ca.key -CAcreateserial -out server.pem -days 2 \
              -extfile san.ext
            """, in: directory)
    }

    @Test func nodesSyncOverHTTPSOnlyWithTheRightCAOrPin() async throws {
        try #require(
            FileManager.default.isExecutableFile(atPath: "/usr/bin/openssl"),
            "openssl is needed to make test certificates (scripts/setup.sh installs it)")
        let harness = try ProcessHarness()
        defer { harness.cleanUp() }
        let directory = harness.workDirectory
        try Self.makeCertificates(in: directory)
        let pin =
            "sha256//"
            + (try Self.shell(
                "openssl pkey -in server.key -pubout -outform der | openssl dgst -sha256 -binary | base64",
                in: directory))
        let eventFile = try harness.write(Fixtures.smallEventJSON, to: "event.json")
        let eventURL = directory.appending(path: eventFile)
        let log = "aggregator-tls.log"
        let aggregator = try harness.start(
            "aggregator",
            [
                "serve", "--data-dir", "agg", "--event", eventURL.path, "--listen", "127.0.0.1:0",
                "--tls-cert", "server.pem", "--tls-key", "server.key",
            ], log: log)
        defer {
            aggregator.terminate()
            aggregator.waitUntilExit()
        }
        let line = try await harness.waitForLine(startingWith: "listening on", in: log)
        #expect(line.hasSuffix("(https)"))
        let port = try #require(Int(line.split(separator: ":").last?.prefix(while: \.isNumber) ?? ""))
        let url = "https://127.0.0.1:\(port)"

        func node(_ name: String, venue: String, _ tls: [String]) throws -> ProcessHarness.Output {
            let token = try harness.run("aggregator", ["nodes", "enroll", "--data-dir", "agg", "--venue", venue])
                .stdout.trimmingCharacters(in: .whitespacesAndNewlines)
            return try harness.run(
                "venue-node",
                [
                    "init", "--data-dir", name, "--event", eventURL.path, "--venue", venue,
                    "--aggregator", url, "--token", token,
                ] + tls)
        }
        // The CA given: enrolled, and records sync.
        let trusted = try node("east", venue: "east", ["--ca-file", "ca.pem"])
        #expect(trusted.status == 0, "\(trusted.stderr)")
        // Over https the node learns the aggregator's key from the enrolment answer and keeps it.
        let identity = try harness.run("aggregator", ["identity", "--data-dir", "agg"])
            .stdout.trimmingCharacters(in: .whitespacesAndNewlines)
        let config = try String(contentsOf: directory.appending(path: "east/node.json"), encoding: .utf8)
        #expect(config.contains(identity) && trusted.stdout.contains("aggregator key: \(identity)"))
        #expect(
            try harness.run(
                "venue-node",
                [
                    "checkin", "--data-dir", "east", "--session", "S1", "--rep", "R1",
                    "--category", "resident",
                ]
            ).status == 0)
        let synced = try harness.run("venue-node", ["sync", "--data-dir", "east"])
        #expect(synced.status == 0 && synced.stdout.contains("acknowledged through 1 of 1"), "\(synced.stderr)")
        // No CA: the self-made certificate is not trusted.
        let untrusted = try node("main", venue: "main", [])
        #expect(untrusted.status == 2)
        #expect(untrusted.stderr.lowercased().contains("certificate"), "\(untrusted.stderr)")
        // The right CA but another pinned key: refused.
        let wrongPin = try node(
            "main2", venue: "main",
            [
                "--ca-file", "ca.pem", "--pin-public-key",
                "sha256//" + Data(repeating: 7, count: 32).base64EncodedString(),
            ])
        #expect(wrongPin.status == 2)
        #expect(wrongPin.stderr.lowercased().contains("pinned"), "\(wrongPin.stderr)")
        // The right pin: accepted.
        let pinned = try node("main3", venue: "main", ["--ca-file", "ca.pem", "--pin-public-key", pin])
        #expect(pinned.status == 0, "\(pinned.stderr)")
        // A pin that is not a pin, or a pin on plain http: refused before anything is made.
        let badPin = try harness.run(
            "venue-node",
            [
                "init", "--data-dir", "bad", "--event", eventURL.path, "--venue", "main",
                "--aggregator", url, "--pin-public-key", "abc",
            ])
        #expect(badPin.status != 0 && badPin.stderr.contains("sha256//"))
        #expect(!FileManager.default.fileExists(atPath: directory.appending(path: "bad/node.json").path))
        let plain = try harness.run(
            "venue-node",
            [
                "init", "--data-dir", "plain", "--event", eventURL.path, "--venue",
                "main", "--aggregator", "http://127.0.0.1:\(port)", "--pin-public-key", pin,
            ])
        #expect(plain.status != 0 && plain.stderr.contains("https://"))
    }

    @Test func overHTTPSTheConnectionCapsAndTheHeaderDeadlineApplyToo() async throws {
        try #require(
            FileManager.default.isExecutableFile(atPath: "/usr/bin/openssl"),
            "openssl is needed to make test certificates (scripts/setup.sh installs it)")
        let harness = try ProcessHarness()
        defer { harness.cleanUp() }
        let directory = harness.workDirectory
        try Self.makeCertificates(in: directory)
        let (aggregator, port) = try await harness.startAggregator(
            dataDir: "agg", event: Fixtures.example("tumed-2021"),
            options: [
                "--tls-cert", "server.pem", "--tls-key", "server.key", "--header-timeout", "3",
                "--max-connections-per-client", "2",
            ])
        defer {
            aggregator.terminate()
            aggregator.waitUntilExit()
        }

        /// `openssl s_client` with `text` on its input, which stays open: it ends when the server closes.
        func tlsClient(_ text: String) throws -> (Process, Pipe, Pipe) {
            let process = Process()
            process.executableURL = URL(filePath: "/usr/bin/openssl")
            process.arguments = ["s_client", "-connect", "127.0.0.1:\(port)", "-CAfile", "ca.pem", "-quiet"]
            process.currentDirectoryURL = directory
            let input = Pipe()
            let output = Pipe()
            process.standardInput = input
            process.standardOutput = output
            process.standardError = FileHandle.nullDevice
            try process.run()
            input.fileHandleForWriting.write(Data(text.utf8))
            return (process, input, output)
        }
        func waitForExit(_ process: Process, within limit: Duration) async throws -> Bool {
            let deadline = ContinuousClock.now + limit
            while process.isRunning && ContinuousClock.now < deadline { try await Task.sleep(for: .milliseconds(50)) }
            if process.isRunning { process.terminate() }
            return !process.isRunning || process.terminationReason == .exit
        }

        // A whole request inside TLS is answered
        let (prompt, promptInput, promptOutput) = try tlsClient(
            "GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n")
        #expect(try await waitForExit(prompt, within: .seconds(20)))
        try promptInput.fileHandleForWriting.close()
        let answer = String(decoding: promptOutput.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        #expect(answer.hasPrefix("HTTP/1.1 200") && answer.hasSuffix("ok\n"), "\(answer)")

        // Half a head inside a completed TLS handshake, and a connection that never starts TLS, are closed
        let (slow, slowInput, _) = try tlsClient(SlowlorisTests.halfHead)
        let silent = try RawConnection(port: port)
        #expect(silent.waitForClose(within: .seconds(20)))
        #expect(try await waitForExit(slow, within: .seconds(20)), "the half-sent head inside TLS was not closed")
        try slowInput.fileHandleForWriting.close()

        // Connections over the per-client cap are closed before TLS (at once: well before the 3 s deadline)
        let held = try (0..<3).map { _ in try RawConnection(port: port, from: "127.0.0.2") }
        let deadline = ContinuousClock.now + .seconds(20)
        while !held.contains(where: \.isClosed) && ContinuousClock.now < deadline {
            for connection in held { connection.waitForClose(within: .milliseconds(20)) }
        }
        #expect(held.filter(\.isClosed).count == 1)
    }
}
