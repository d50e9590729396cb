import Foundation
import Testing

/// `--identity-key FILE` (issue #20): the aggregator's signing key given as a file, so that several aggregators sign as
/// one. A file named there is never created, is refused when others may read it or when it holds no key, and a node
/// that holds the aggregator's public key accepts the receipts of any aggregator given the same file, and refuses
/// those of an aggregator with another key.
@Suite struct IdentityKeyTests {
    @Test func aggregatorsGivenTheSameKeyFileSignAsOne() async throws {
        let harness = try ProcessHarness()
        defer { harness.cleanUp() }
        let eventURL = harness.workDirectory.appending(
            path: try harness.write(Fixtures.smallEventJSON, to: "event.json"))
        func aggregator(_ arguments: [String]) throws -> ProcessHarness.Output {
            try harness.run("aggregator", arguments)
        }
        func path(_ name: String) -> String { harness.workDirectory.appending(path: name).path }

        // The first aggregator's key, copied out as the shared identity
        #expect(try aggregator(["init", "--data-dir", "a", "--event", eventURL.path]).status == 0)
        let first = try aggregator(["identity", "--data-dir", "a"]).stdout
        try FileManager.default.copyItem(atPath: path("a/aggregator.key"), toPath: path("shared.key"))
        try FileManager.default.setAttributes([.posixPermissions: 0o600], ofItemAtPath: path("shared.key"))

        // A second aggregator given that file: the same public key, and no key of its own written
        let initialized = try aggregator([
            "init", "--data-dir", "b", "--event", eventURL.path, "--identity-key", "shared.key",
        ])
        #expect(initialized.status == 0, "\(initialized.stderr)")
        #expect(try aggregator(["identity", "--data-dir", "b", "--identity-key", "shared.key"]).stdout == first)
        #expect(!FileManager.default.fileExists(atPath: path("b/aggregator.key")))

        // Refused, nothing done: a missing file, one others may read, one that holds no key
        try "not a key\n".write(toFile: path("junk.key"), atomically: true, encoding: .utf8)
        try FileManager.default.setAttributes([.posixPermissions: 0o600], ofItemAtPath: path("junk.key"))
        try FileManager.default.copyItem(atPath: path("shared.key"), toPath: path("open.key"))
        try FileManager.default.setAttributes([.posixPermissions: 0o644], ofItemAtPath: path("open.key"))
        for (file, message) in [
            ("missing.key", "no identity key at missing.key"), ("open.key", "may be read by others (mode 644)"),
            ("junk.key", "junk.key does not hold an aggregator's identity key"),
        ] {
            let refused = try aggregator(["identity", "--data-dir", "b", "--identity-key", file])
            #expect(refused.status != 0 && refused.stderr.contains(message), "\(file): \(refused.stderr)")
            let serve = try aggregator([
                "serve", "--data-dir", "b", "--event", eventURL.path, "--listen", "127.0.0.1:0", "--identity-key", file,
            ])
            #expect(serve.status != 0 && serve.stderr.contains(message), "serve \(file): \(serve.stderr)")
        }
        #expect(!FileManager.default.fileExists(atPath: path("missing.key")))
        #expect(!FileManager.default.fileExists(atPath: path("b/aggregator.key")))

        // A node holding the first aggregator's key syncs with the second, whose receipts it verifies
        let publicKey = first.trimmingCharacters(in: .whitespacesAndNewlines)
        for (dataDir, options) in [("b", ["--identity-key", "shared.key"]), ("c", [])] {
            if dataDir == "c" {
                #expect(try aggregator(["init", "--data-dir", "c", "--event", eventURL.path]).status == 0)
            }
            let (server, port) = try await harness.startAggregator(dataDir: dataDir, event: eventURL, options: options)
            defer { server.terminate() }
            let node = "node-\(dataDir)"
            try harness.createNode(
                node, event: eventURL, venue: "east", aggregatorURL: "http://127.0.0.1:\(port)", aggregatorDir: dataDir,
                options: ["--aggregator-key", publicKey])
            #expect(
                try harness.run("venue-node", ["box", "open", "--data-dir", node, "--session", "S1", "--box", "B1"])
                    .status == 0)
            let synced = try harness.run("venue-node", ["sync", "--data-dir", node])
            if dataDir == "b" {
                #expect(synced.status == 0, "\(synced.stderr)")
            } else {
                // Another key: its receipt is not the aggregator's the node knows
                #expect(
                    synced.status != 0 && (synced.stdout + synced.stderr).contains("carries no valid receipt"),
                    "\(synced.stdout) \(synced.stderr)")
            }
        }
    }
}
