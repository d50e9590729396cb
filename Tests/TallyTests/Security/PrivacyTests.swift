import Foundation
import GRDB
import Shared
import Testing
import VenueNode

/// Ballots keep nothing that could link them to a person: no person, no time finer than the day,
/// and not the order in which they were typed.
@Suite struct PrivacyTests {
    @Test func importedBallotsAreSavedInARandomOrderWithTheDayOnly() throws {
        let harness = try ProcessHarness()
        defer { harness.cleanUp() }
        let eventFile = try harness.write(Fixtures.smallEventJSON, to: "event.json")
        let eventURL = harness.workDirectory.appending(path: eventFile)
        #expect(
            try harness.run(
                "venue-node",
                [
                    "init", "--data-dir", "east", "--event", eventURL.path, "--venue", "east",
                    "--aggregator", "http://127.0.0.1:9",
                ]
            ).status == 0)
        let marks = ["satisfied", "basically_satisfied", "dissatisfied"]
        var rows = ["session,box,status,D01,D02"]
        for index in 0..<30 { rows.append("S1,B1,valid,\(marks[index % 3]),\(marks[index / 3 % 3])") }
        let file = try harness.write(rows.joined(separator: "\n") + "\n", to: "ballots.csv")
        #expect(
            try harness.run(
                "venue-node",
                [
                    "box", "close", "--data-dir", "east", "--session", "S1", "--box", "B1",
                    "--issued", "30", "--returned", "30",
                ]
            ).status == 0)
        let imported = try harness.run("venue-node", ["import", "--data-dir", "east", "--ballots", file])
        #expect(imported.status == 0, "\(imported.stderr)")

        let queue = try DatabaseQueue(path: harness.workDirectory.appending(path: "east/node.sqlite").path)
        let stored = try queue.read { db in
            try Row.fetchAll(db, sql: "SELECT payload, savedAt FROM record WHERE kind = 'ballot' ORDER BY seq")
        }
        #expect(stored.count == 30)
        let typed = rows.dropFirst().map { row in
            let fields = row.split(separator: ",").map(String.init)
            return RecordPayload.ballot(
                .init(
                    session: "S1", box: "B1", status: .valid,
                    marks: ["D01": fields[3], "D02": fields[4]])
            ).canonicalJSON()
        }
        let saved = stored.map { $0["payload"] as String }
        #expect(saved.sorted() == typed.sorted(), "the same ballots")
        #expect(saved != typed, "not in the order typed")
        for row in stored {
            let savedAt: String = row["savedAt"]
            #expect(savedAt.count == 10 && !savedAt.contains("T"), "only the day: \(savedAt)")
        }
        for payload in saved {
            #expect(!payload.contains("rep") && !payload.contains("person") && !payload.contains("at\""))
        }
    }
}
