import Foundation
import Testing

/// Many boxes opened and closed at once (issue #18): several `--box`, or a CSV file; all or none, a bad row named by
/// its line, nothing saved.
@Suite struct BulkBoxTests {
    @Test func boxesOpenAndCloseInBulkAndABadRowRefusesTheWholeFile() throws {
        let harness = try ProcessHarness()
        defer { harness.cleanUp() }
        let event = try harness.write(Fixtures.smallEventJSON, to: "event.json")
        let created = try harness.run(
            "venue-node",
            ["init", "--data-dir", "n", "--event", event, "--venue", "east", "--aggregator", "http://127.0.0.1:9"])
        #expect(created.status == 0, "\(created.stderr)")
        func records() throws -> Int {
            let status = try harness.run("venue-node", ["status", "--data-dir", "n", "--json"])
            return (try JSONSerialization.jsonObject(with: Data(status.stdout.utf8)) as? [String: Any])?["last_seq"]
                as? Int ?? -1
        }

        let opened = try harness.run(
            "venue-node",
            ["box", "open", "--data-dir", "n", "--session", "S1", "--box", "B1", "--box", "B2", "--box", "B3"])
        #expect(opened.status == 0, "\(opened.stderr)")
        #expect(opened.stdout.split(separator: "\n").count == 3)
        #expect(try records() == 3)
        // Opening B4 and B1 again from a file: B1 is refused by the chain's rule, named by its line; B4 is not opened.
        _ = try harness.write("session,box\nS1,B4\nS1,B1\n", to: "again.csv")
        let twice = try harness.run("venue-node", ["box", "open", "--data-dir", "n", "--file", "again.csv"])
        #expect(twice.status != 0)
        #expect(twice.stderr.contains("line 3 of again.csv:"), "\(twice.stderr)")
        #expect(twice.stderr.contains("nothing was saved"))
        #expect(try records() == 3)

        for (file, message) in [
            ("session,box,issued,returned\nS1,B1,10,10\nS1,B2,x,9\nS1,B3,5,5\n", "line 3: issued \"x\" is not a count"),
            (
                "session,box,issued,returned\nS1,B1,10,10\nS1,B1,10,10\n",
                "line 3: box B1 of session S1 is listed twice (also line 2)"
            ),
            ("session,box,issued\nS1,B1,10\n", "the header has no column \"returned\""),
            (
                "session,box,issued,returned\nS1,B1,10,10\nS1,B2,9,\n",
                "line 3: closing box B2 needs issued and returned"
            ),
            ("session,box,issued,returned\nS1,B1,10,10\nS1,B2,9\n", "line 3: 3 field(s), but the header has 4"),
            ("session,box,issued,returned\nS9,B1,10,10\n", "line 2 of bad.csv: unknown session \"S9\""),
        ] {
            _ = try harness.write(file, to: "bad.csv")
            let refused = try harness.run("venue-node", ["box", "close", "--data-dir", "n", "--file", "bad.csv"])
            #expect(refused.status != 0)
            #expect(refused.stderr.contains(message), "\(refused.stderr)")
            #expect(refused.stderr.contains("nothing was saved"))
            #expect(try records() == 3)
        }
        // A file in GB18030 would do as well; this one is UTF-8 with a byte-order mark and CRLF line ends.
        _ = try harness.write("\u{FEFF}box,issued,returned\r\nB1,10,10\r\nB2,9,9\r\nB3,5,4\r\n", to: "close.csv")
        let closed = try harness.run(
            "venue-node", ["box", "close", "--data-dir", "n", "--session", "S1", "--file", "close.csv"])
        #expect(closed.status == 0, "\(closed.stderr)")
        #expect(try records() == 6)
        let boxes = try harness.run("venue-node", ["report", "--data-dir", "n", "--json"])
        #expect(boxes.status == 0, "\(boxes.stderr)")
    }
}
