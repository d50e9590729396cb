import Foundation
import Shared
import Testing

/// Batches on a USB stick (issue #15), with the real binaries: a venue records with the network down, exports its
/// pending records to a file, the central office imports it (twice: the second adds nothing), receipts are carried
/// back, and when the network returns sync finds nothing left to send. A tampered file, a truncated one, a file for
/// another event and a file from a revoked node are each refused with nothing imported.
@Suite(.serialized) struct CarriedBatchesEndToEndTests {
    @Test func aVenueOfflineForTheWholeDaySendsItsRecordsOnAUSBStick() async throws {
        let harness = try ProcessHarness()
        defer { harness.cleanUp() }
        let eventURL = harness.workDirectory.appending(
            path: try harness.write(Fixtures.smallEventJSON, to: "event.json"))
        // The aggregator is set up, then stopped: the venue never reaches it today.
        var (aggregator, port) = try await harness.startAggregator(dataDir: "agg", event: eventURL)
        aggregator.terminate()
        await harness.waitForExit(aggregator)
        let identity = try harness.run("aggregator", ["identity", "--data-dir", "agg"])
        let aggregatorKey = try #require(identity.stdout.split(separator: "\n").last.map(String.init))
        let created = try harness.run(
            "venue-node",
            [
                "init", "--data-dir", "east", "--event", eventURL.path, "--venue", "east", "--aggregator",
                "http://127.0.0.1:\(port)", "--aggregator-key", aggregatorKey,
            ])
        #expect(created.status == 0, "\(created.stderr)")
        let nodeKey = try #require(
            created.stdout.split(separator: "\n").first { $0.hasPrefix("public key:") }?.split(separator: " ").last)
        #expect(
            try harness.run(
                "aggregator", ["nodes", "add", "--data-dir", "agg", "--venue", "east", "--public-key", String(nodeKey)]
            )
            .status == 0)

        // The venue's day, offline: 4 check-ins, a box of 4 ballots.
        var steps: [[String]] = (1...4).map {
            ["checkin", "--data-dir", "east", "--session", "S1", "--rep", "R\($0)", "--category", "resident"]
        }
        steps.append(["box", "open", "--data-dir", "east", "--session", "S1", "--box", "B1"])
        steps.append([
            "box", "close", "--data-dir", "east", "--session", "S1", "--box", "B1", "--issued", "4", "--returned", "4",
        ])
        for index in 1...4 {
            steps.append([
                "ballot", "--data-dir", "east", "--session", "S1", "--box", "B1", "--marks",
                "D01=satisfied,D02=\(index % 2 == 0 ? "satisfied" : "dissatisfied")",
            ])
        }
        for step in steps {
            let done = try harness.run("venue-node", step)
            #expect(done.status == 0, "\(step): \(done.stderr)")
        }

        // Export: 10 records, in batches of 4, with the digest to read aloud.
        let exported = try harness.run(
            "venue-node", ["export", "--data-dir", "east", "--to", "usb.json", "--batch-size", "4"])
        #expect(exported.status == 0, "\(exported.stderr)")
        #expect(
            exported.stdout.contains("wrote records 1…10 of venue east in 3 signed batch(es) to usb.json"),
            "\(exported.stdout)")
        let bytes = try Data(contentsOf: harness.workDirectory.appending(path: "usb.json"))
        #expect(exported.stdout.contains("digest \(carriedDigest(bytes))"))
        // The file holds no ID-card number and nothing but records of this venue.
        #expect(!String(decoding: bytes, as: UTF8.self).contains("1506"))
        let again = try harness.run("venue-node", ["export", "--data-dir", "east", "--to", "usb.json"])
        #expect(again.status != 0)
        #expect(again.stderr.contains("usb.json exists"))

        func exportCSV() throws -> String {
            try harness.run("aggregator", ["export", "tallies", "--data-dir", "agg", "--csv"]).stdout
        }
        let emptyTallies = try exportCSV()

        // Refused, each with nothing imported: a tampered batch, a truncated file.
        var tampered = try JSONSerialization.jsonObject(with: bytes) as! [String: Any]
        var batches = tampered["batches"] as! [[String: Any]]
        let body = Data(base64Encoded: batches[1]["body"] as! String)!
        batches[1]["body"] = Data(
            String(decoding: body, as: UTF8.self).replacingOccurrences(of: "dissatisfied", with: "satisfied").utf8
        ).base64EncodedString()
        tampered["batches"] = batches
        try JSONSerialization.data(withJSONObject: tampered).write(
            to: harness.workDirectory.appending(path: "tampered.json"))
        let refusedTampered = try harness.run("aggregator", ["import", "--data-dir", "agg", "tampered.json"])
        #expect(refusedTampered.status != 0)
        #expect(
            refusedTampered.stderr.contains("batch 2 of 3 is refused: digest_mismatch"), "\(refusedTampered.stderr)")
        #expect(refusedTampered.stderr.contains("nothing was imported"))
        try bytes.prefix(bytes.count / 2).write(to: harness.workDirectory.appending(path: "truncated.json"))
        let refusedTruncated = try harness.run("aggregator", ["import", "--data-dir", "agg", "truncated.json"])
        #expect(refusedTruncated.status != 0)
        #expect(
            refusedTruncated.stderr.contains("not a complete file of carried batches"), "\(refusedTruncated.stderr)")
        #expect(try exportCSV() == emptyTallies)

        // Imported, with receipts; the same file again adds nothing.
        let imported = try harness.run(
            "aggregator", ["import", "--data-dir", "agg", "usb.json", "--receipts-out", "receipts.json"])
        #expect(imported.status == 0, "\(imported.stderr)")
        #expect(imported.stdout.contains("file digest \(carriedDigest(bytes))"))
        #expect(imported.stdout.contains("3 batch(es) of node"), "\(imported.stdout)")
        #expect(imported.stdout.contains("records 1…10: 10 new record(s) merged, 0 already held"), "\(imported.stdout)")
        #expect(imported.stdout.contains("3 receipt(s) written to receipts.json"))
        let tallies = try exportCSV()
        #expect(
            tallies.split(separator: "\n").map(String.init) == [
                "venue,session,department,mark,count", "east,S1,D01,satisfied,4", "east,S1,D02,dissatisfied,2",
                "east,S1,D02,satisfied,2",
            ])
        let twice = try harness.run("aggregator", ["import", "--data-dir", "agg", "usb.json"])
        #expect(twice.status == 0, "\(twice.stderr)")
        #expect(twice.stdout.contains("0 new record(s) merged, 10 already held"), "\(twice.stdout)")
        #expect(try exportCSV() == tallies)

        // The receipts carried back: records acknowledged; the wrong node's receipts are refused.
        let kept = try harness.run("venue-node", ["receipts", "import", "--data-dir", "east", "receipts.json"])
        #expect(kept.status == 0, "\(kept.stderr)")
        #expect(kept.stdout.contains("kept 3 receipt(s): records 1…10 acknowledged, 0 pending"), "\(kept.stdout)")
        let verified = try harness.run("venue-node", ["receipts", "verify", "--data-dir", "east"])
        #expect(verified.stdout.contains("records 1…10 of venue east are proven accepted"), "\(verified.stdout)")

        // The network comes back: nothing left to send, and the totals are unchanged.
        (aggregator, port) = try await harness.startAggregator(dataDir: "agg", event: eventURL, port: port)
        defer { aggregator.terminate() }
        let synced = try harness.run("venue-node", ["sync", "--data-dir", "east"])
        #expect(synced.status == 0, "\(synced.stderr)")
        #expect(synced.stdout.contains("sent 0 record(s)"), "\(synced.stdout)")
        #expect(try exportCSV() == tallies)

        // A file for another event, and a file from a revoked node: refused.
        var otherEvent = try JSONSerialization.jsonObject(with: Data(Fixtures.smallEventJSON.utf8)) as! [String: Any]
        otherEvent["id"] = "other-2026"
        let otherURL = harness.workDirectory.appending(path: "other.json")
        try JSONSerialization.data(withJSONObject: otherEvent).write(to: otherURL)
        let (other, _) = try await harness.startAggregator(dataDir: "agg2", event: otherURL)
        other.terminate()
        await harness.waitForExit(other)
        #expect(
            try harness.run(
                "aggregator",
                ["nodes", "add", "--data-dir", "agg2", "--venue", "east", "--public-key", String(nodeKey)]
            )
            .status == 0)
        let foreign = try harness.run("aggregator", ["import", "--data-dir", "agg2", "usb.json"])
        #expect(foreign.status != 0)
        #expect(foreign.stderr.contains("event_mismatch"), "\(foreign.stderr)")
        let nodeID = try #require(
            try harness.run("venue-node", ["status", "--data-dir", "east"]).stdout.split(separator: "\n").first?
                .split(separator: " ").last.map(String.init))
        let revoked = try harness.run(
            "aggregator",
            ["nodes", "revoke", "--data-dir", "agg2", "--node", nodeID, "--reason", "laptop stolen", "--yes"])
        #expect(revoked.status == 0, "\(revoked.stderr)")
        let fromRevoked = try harness.run("aggregator", ["import", "--data-dir", "agg2", "usb.json"])
        #expect(fromRevoked.status != 0)
        #expect(fromRevoked.stderr.contains("revoked_node"), "\(fromRevoked.stderr)")
    }
}
