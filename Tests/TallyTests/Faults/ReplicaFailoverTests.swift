import Foundation
import Testing

/// A node given the aggregator's replicas (issue #20: `venue-node init --replica URL`) reaches the one that answers:
/// past an address nothing listens on and past one that answers 503 (a replica that lost its database, or a load
/// balancer with no backend), within the same sync. When none answers, it says so, naming them; bad replica URLs are
/// refused at init.
@Suite struct ReplicaFailoverTests {
    @Test func aNodeReachesTheReplicaThatAnswers() async throws {
        let harness = try ProcessHarness()
        defer { harness.cleanUp() }
        let eventURL = harness.workDirectory.appending(
            path: try harness.write(Fixtures.smallEventJSON, to: "event.json"))
        let (aggregator, port) = try await harness.startAggregator(dataDir: "agg", event: eventURL)
        defer { aggregator.terminate() }
        // A replica that answers every request 503
        let script = """
            import http.server, sys
            class H(http.server.BaseHTTPRequestHandler):
                def answer(self):
                    self.send_response(503); self.send_header("Content-Length", "0"); self.end_headers()
                do_GET = do_POST = answer
                def log_message(self, *a): pass
            s = http.server.HTTPServer(("127.0.0.1", 0), H)
            print(s.server_address[1], flush=True)
            s.serve_forever()
            """
        let unavailable = Process()
        unavailable.executableURL = URL(filePath: "/usr/bin/python3")
        unavailable.arguments = ["-c", script]
        let pipe = Pipe()
        unavailable.standardOutput = pipe
        try unavailable.run()
        // SIGKILL: the test runner's blocked signals are inherited, and Python would not end on SIGTERM.
        defer {
            kill(unavailable.processIdentifier, SIGKILL)
            unavailable.waitUntilExit()
        }
        let line = String(decoding: pipe.fileHandleForReading.availableData, as: UTF8.self)
        let unavailablePort = try #require(Int(line.trimmingCharacters(in: .whitespacesAndNewlines)))

        func node(_ arguments: [String]) throws -> ProcessHarness.Output { try harness.run("venue-node", arguments) }
        try harness.createNode(
            "n", event: eventURL, venue: "east", aggregatorURL: "http://127.0.0.1:9",
            options: ["--replica", "http://127.0.0.1:\(unavailablePort)", "--replica", "http://127.0.0.1:\(port)/"])
        let status = try node(["status", "--data-dir", "n"])
        #expect(status.stdout.contains("  replica:        http://127.0.0.1:\(port)\n"), "\(status.stdout)")
        for box in ["B1", "B2"] {
            #expect(try node(["box", "open", "--data-dir", "n", "--session", "S1", "--box", box]).status == 0)
        }

        // When it syncs: past the address nothing listens on, past the 503, to the live replica
        let synced = try node(["sync", "--data-dir", "n"])
        #expect(synced.status == 0, "\(synced.stderr)")
        let cursor = FormsEndToEndTests.call(
            "GET", "http://127.0.0.1:\(port)/v1/heads",
            token: try harness.run(
                "aggregator", ["tokens", "add", "--data-dir", "agg", "--role", "observer", "--name", "t"]
            ).stdout.trimmingCharacters(in: .whitespacesAndNewlines))
        #expect(cursor.status == 200 && cursor.text.contains("\"seq\":2"), "\(cursor.text)")

        // Then with every aggregator gone, the failure names them
        aggregator.terminate()
        await harness.waitForExit(aggregator)
        #expect(try node(["box", "open", "--data-dir", "n", "--session", "S1", "--box", "B3"]).status == 0)
        let failed = try node(["sync", "--data-dir", "n"])
        #expect(failed.status != 0, "\(failed.stdout)")
        // (a new process starts with the first: nothing listens there, the second answers 503, the third is gone)
        #expect(
            (failed.stdout + failed.stderr).contains(
                "cannot reach the aggregator at http://127.0.0.1:\(port) (nor its 2 replica(s))"),
            "\(failed.stdout) \(failed.stderr)")

        // Bad replicas are refused at init, nothing created
        for (replicas, message) in [
            (["ftp://127.0.0.1:1"], "aggregator URL \"ftp://127.0.0.1:1\" must look like http://HOST:PORT"),
            (["http://127.0.0.1:9/"], "an aggregator URL is given twice"),
        ] {
            let refused = try node(
                [
                    "init", "--data-dir", "m", "--event", eventURL.path, "--venue", "east", "--aggregator",
                    "http://127.0.0.1:9",
                ]
                    + replicas.flatMap { ["--replica", $0] })
            #expect(refused.status != 0 && refused.stderr.contains(message), "\(refused.stderr)")
            #expect(!FileManager.default.fileExists(atPath: harness.workDirectory.appending(path: "m/node.json").path))
        }
    }
}
