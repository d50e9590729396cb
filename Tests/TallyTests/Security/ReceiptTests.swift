import Crypto
import Foundation
import Shared
import Testing

@testable import VenueNode

@Suite(.serialized) struct ReceiptTests {
    @Test func receiptsProveWhatTheAggregatorAcceptedAndAWrongKeyIsNotBelieved() async throws {
        let harness = try ProcessHarness()
        defer { harness.cleanUp() }
        let eventURL = Fixtures.example("tumed-2021")
        let (aggregator, port) = try await harness.startAggregator(dataDir: "agg", event: eventURL)
        defer { aggregator.terminate() }
        let identity = try harness.run("aggregator", ["identity", "--data-dir", "agg"])
        let key = identity.stdout.trimmingCharacters(in: .whitespacesAndNewlines)
        #expect(NodeIdentity.publicKey(base64: key) != nil)

        for (dir, nodeKey) in [
            ("good", key),
            ("fooled", Curve25519.Signing.PrivateKey().publicKey.rawRepresentation.base64EncodedString()),
        ] {
            let created = try harness.run(
                "venue-node",
                [
                    "init", "--data-dir", dir, "--event", eventURL.path, "--venue", "tumed",
                    "--aggregator", "http://127.0.0.1:\(port)", "--aggregator-key", nodeKey,
                ])
            #expect(created.status == 0, "\(created.stderr)")
            let publicKey = try #require(
                created.stdout.split(separator: "\n").first { $0.hasPrefix("public key:") }?
                    .split(separator: " ").last)
            #expect(
                try harness.run(
                    "aggregator",
                    [
                        "nodes", "add", "--data-dir", "agg", "--venue", "tumed",
                        "--public-key", String(publicKey),
                    ]
                ).status == 0)
            let rows = ["session,rep,category"] + (1...12).map { "S1,\(dir)\($0),party_deputy" }
            let file = try harness.write(rows.joined(separator: "\n") + "\n", to: "\(dir).csv")
            #expect(try harness.run("venue-node", ["import", "--data-dir", dir, "--checkins", file]).status == 0)
        }
        // "fooled" was enrolled last, so it is the venue's current node: sync it first with the wrong key …
        let fooled = try harness.run("venue-node", ["sync", "--data-dir", "fooled", "--batch-size", "5"])
        #expect(fooled.status == 1)
        #expect(fooled.stderr.contains("carries no valid receipt from the aggregator's key"), "\(fooled.stderr)")
        let status = try harness.run("venue-node", ["status", "--data-dir", "fooled", "--json"])
        #expect(status.stdout.contains("\"acknowledged_seq\" : 0"), "\(status.stdout)")

        // … then a node with the right key, enrolled anew: its receipts prove records 1…12 accepted.
        let created = try harness.run(
            "venue-node",
            [
                "init", "--data-dir", "right", "--event", eventURL.path, "--venue",
                "tumed", "--aggregator", "http://127.0.0.1:\(port)", "--aggregator-key", key,
            ])
        let publicKey = try #require(
            created.stdout.split(separator: "\n").first { $0.hasPrefix("public key:") }?
                .split(separator: " ").last)
        #expect(
            try harness.run(
                "aggregator",
                [
                    "nodes", "add", "--data-dir", "agg", "--venue", "tumed",
                    "--public-key", String(publicKey),
                ]
            ).status == 0)
        #expect(try harness.run("venue-node", ["restore", "--data-dir", "right"]).status == 0)
        let rows = ["session,rep,category"] + (20...31).map { "S1,R\($0),party_deputy" }
        #expect(
            try harness.run(
                "venue-node",
                [
                    "import", "--data-dir", "right", "--checkins",
                    try harness.write(rows.joined(separator: "\n") + "\n", to: "r.csv"),
                ]
            ).status == 0)
        #expect(try harness.run("venue-node", ["sync", "--data-dir", "right", "--batch-size", "5"]).status == 0)
        let verified = try harness.run("venue-node", ["receipts", "verify", "--data-dir", "right", "--heads"])
        #expect(verified.status == 0, "\(verified.stdout)\(verified.stderr)")
        #expect(
            verified.stdout.contains("records 1…\(try lastSeq(harness, "right")) of venue tumed are proven accepted"),
            "\(verified.stdout)")
        #expect(verified.stdout.contains("the aggregator's signed head"), "\(verified.stdout)")
    }

    func lastSeq(_ harness: ProcessHarness, _ dir: String) throws -> Int {
        let status = try harness.run("venue-node", ["status", "--data-dir", dir, "--json"])
        let object = try JSONSerialization.jsonObject(with: Data(status.stdout.utf8)) as? [String: Any]
        return object?["last_seq"] as? Int ?? -1
    }

    @Test func aForgedReceiptOrADroppedHeadIsCaught() throws {
        let key = Curve25519.Signing.PrivateKey()
        let records = Fixtures.chain(
            (1...6).map { .checkin(.init(session: "S1", rep: "R\($0)", category: "resident")) })
        let good = try Receipt.sign(
            venue: "east", node: "n", firstSeq: 1, lastSeq: 4, lastHash: records[3].hash, key: key)
        var forged = try Receipt.sign(
            venue: "east", node: "n", firstSeq: 5, lastSeq: 6, lastHash: records[5].hash, key: key)
        forged.lastSeq = 5
        let ok = ReceiptCheck.run(records: records, receipts: [good], venue: "east", key: key.publicKey)
        #expect(ok == ReceiptCheck(receipts: 1, provenThrough: 4, problems: []))
        let tampered = ReceiptCheck.run(records: records, receipts: [good, forged], venue: "east", key: key.publicKey)
        #expect(tampered.provenThrough == 4)
        #expect(
            tampered.problems == ["receipt 2 (records 5…5): the signature does not verify with the aggregator's key"])
        let heads = try SignedHeads.sign(
            event: "e", signedAt: "t", heads: [.init(venue: "east", seq: 2, hash: records[1].hash)],
            key: key)
        let dropped = ReceiptCheck.run(
            records: records, receipts: [good], venue: "east", key: key.publicKey, heads: heads)
        #expect(
            dropped.problems == [
                "the aggregator's signed head of venue east is record 2, below record 4 it "
                    + "acknowledged: records 3…4 were dropped"
            ])
    }
}
