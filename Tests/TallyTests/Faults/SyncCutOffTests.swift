import Foundation
import Testing

/// A sync cut off after the batch reached the aggregator (issue #18): the node cannot know whether it was committed,
/// and says so, and that running sync again is safe; the next sync sends nothing twice.
@Suite(.serialized) struct SyncCutOffTests {
    @Test func aBatchWhoseAnswerNeverCameIsSaidToBeMaybeCommittedAndSyncAgainCountsItOnce() async throws {
        let harness = try ProcessHarness()
        defer { harness.cleanUp() }
        let eventURL = harness.workDirectory.appending(
            path: try harness.write(Fixtures.smallEventJSON, to: "event.json"))
        let (aggregator, port) = try await harness.startAggregator(dataDir: "agg", event: eventURL)
        defer { aggregator.terminate() }
        // The node's first connection (the cursor) passes; the second (the batch) reaches the aggregator, which
        // commits it, and its answer is dropped.
        let proxy = try FaultProxy(upstreamPort: port) { $0 == 1 ? .dropResponse : .pass }
        defer { proxy.stop() }
        try harness.createNode("east", event: eventURL, venue: "east", aggregatorURL: "http://127.0.0.1:\(proxy.port)")
        for rep in ["R1", "R2", "R3"] {
            let saved = try harness.run(
                "venue-node",
                ["checkin", "--data-dir", "east", "--session", "S1", "--rep", rep, "--category", "resident"])
            #expect(saved.status == 0, "\(saved.stderr)")
        }
        let cut = try harness.run("venue-node", ["sync", "--data-dir", "east", "--timeout", "5"])
        #expect(cut.status != 0)
        #expect(cut.stderr.contains("was cut off before it answered"), "\(cut.stderr)")
        #expect(cut.stderr.contains("the batch may or may not have been committed"))
        #expect(cut.stderr.contains("Running sync again is safe: the aggregator counts nothing twice"))

        let again = try harness.run("venue-node", ["sync", "--data-dir", "east"])
        #expect(again.status == 0, "\(again.stderr)")
        #expect(
            again.stdout.contains("sent 0 record(s) in 0 batch(es); acknowledged through 3 of 3"), "\(again.stdout)")
        let attendance = try harness.run("aggregator", ["export", "attendance", "--data-dir", "agg", "--csv"])
        #expect(attendance.stdout.contains("east,S1,resident,3"), "\(attendance.stdout)")
    }
}
