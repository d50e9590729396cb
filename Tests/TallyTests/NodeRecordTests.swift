import Foundation
import GRDB
import Shared
import Testing

@testable import VenueNode

/// The venue node's own record: what it saves, what it refuses, and that refusals save nothing.
@Suite struct NodeRecordTests {
    let database: NodeDatabase
    let event = Fixtures.smallEvent

    init() throws {
        database = try NodeDatabase(writer: DatabaseQueue())
    }

    @Test func recordsAreChainedFromTheFirst() throws {
        let saved = try database.append(
            [
                .checkin(.init(session: "S1", rep: "R1", category: "resident")),
                .boxOpened(.init(session: "S1", box: "B1")),
            ], event: event)
        #expect(saved.map(\.seq) == [1, 2])
        try RecordChain.verify(try database.allRecords())
        #expect(try database.head().hash == saved[1].hash)
    }

    struct Refusal: CustomTestStringConvertible, Sendable {
        var name: String
        var payload: RecordPayload
        var message: String
        var testDescription: String { name }
    }

    static let refusals: [Refusal] = [
        Refusal(
            name: "a department missing", payload: Fixtures.validBallot(["D01": "satisfied"]),
            message: "the ballot of session S1 has no mark for department(s) D02"),
        Refusal(
            name: "a department not on that session's ballot",
            payload: Fixtures.validBallot(["D01": "satisfied", "D02": "satisfied", "D03": "satisfied"]),
            message: "department D03 is not on the ballot of session S1"),
        Refusal(
            name: "an unknown department", payload: Fixtures.validBallot(["D01": "satisfied", "D99": "satisfied"]),
            message: "unknown department D99"),
        Refusal(
            name: "an unknown mark", payload: Fixtures.validBallot(["D01": "great", "D02": "satisfied"]),
            message:
                "unknown mark \"great\" for department D01; the marks are: satisfied, basically_satisfied, dissatisfied"
        ),
        Refusal(
            name: "a blank ballot with marks",
            payload: .ballot(.init(session: "S1", box: "B1", status: .blank, marks: ["D01": "satisfied"])),
            message: "a blank ballot carries no marks, found 1"),
        Refusal(
            name: "an unknown session", payload: .checkin(.init(session: "S9", rep: "R1", category: "resident")),
            message: "unknown session \"S9\"; the event's sessions are: S1, S2"),
        Refusal(
            name: "an unknown category", payload: .checkin(.init(session: "S1", rep: "R1", category: "vip")),
            message: "unknown category \"vip\"; the event's categories are: resident, expert"),
        Refusal(
            name: "a negative count", payload: .boxClosed(.init(session: "S1", box: "B1", issued: -1, returned: 0)),
            message: "issued = -1 is out of range 0…100000"),
        Refusal(
            name: "a correction of a record that does not exist",
            payload: .correction(.init(target: 7, reason: "x", operator: "王芳", replacement: nil)),
            message: "record 7 does not exist; a correction must refer to an earlier record"),
    ]

    @Test(arguments: refusals)
    func aBadRecordIsRefusedWithAMessageThatNamesIt(_ refusal: Refusal) throws {
        try database.append([.checkin(.init(session: "S2", rep: "R0", category: "expert"))], event: event)
        let error = try #require(throws: AppendError.self) { try database.append([refusal.payload], event: event) }
        #expect(error.rejection.message == refusal.message)
        #expect(try database.head().seq == 1)
    }

    @Test func theSameRepresentativeCannotCheckInTwiceForASession() throws {
        try database.append([.checkin(.init(session: "S1", rep: "R1", category: "resident"))], event: event)
        let error = try #require(throws: AppendError.self) {
            try database.append([.checkin(.init(session: "S1", rep: "R1", category: "expert"))], event: event)
        }
        #expect(error.rejection.message == "representative R1 already checked in for session S1 (record 1)")
        // Another session is another check-in; after voiding the first, the same session is open again.
        try database.append(
            [
                .checkin(.init(session: "S2", rep: "R1", category: "resident")),
                .correction(.init(target: 1, reason: "wrong session", operator: "王芳", replacement: nil)),
                .checkin(.init(session: "S1", rep: "R1", category: "expert")),
            ], event: event)
        #expect(try database.status().checkins == ["S1": 1, "S2": 1])
    }

    @Test func aBoxIsCountedAfterItIsClosed() throws {
        try database.append([.boxOpened(.init(session: "S1", box: "B1"))], event: event)
        let error = try #require(throws: AppendError.self) {
            try database.append([Fixtures.validBallot(["D01": "satisfied", "D02": "satisfied"])], event: event)
        }
        #expect(
            error.rejection.message == "box B1 of session S1 is not closed (opened by record 1): ballots are entered "
                + "after `venue-node box close --session S1 --box B1 --issued N --returned N` records its counts")
        // Nor through a correction whose replacement is a ballot of an open box.
        try database.append(
            [
                .boxOpened(.init(session: "S1", box: "B9")),
                .boxClosed(.init(session: "S1", box: "B2", issued: 2, returned: 2)),
                Fixtures.validBallot(["D01": "satisfied", "D02": "satisfied"], box: "B2"),
            ], event: event)
        #expect(throws: AppendError.self) {
            try database.append(
                [
                    .correction(
                        .init(
                            target: 4, reason: "wrong box", operator: "王芳",
                            replacement: Fixtures.validBallot(
                                ["D01": "satisfied", "D02": "satisfied"],
                                box: "B9")))
                ], event: event)
        }
        try database.append(
            [
                .boxClosed(.init(session: "S1", box: "B1", issued: 1, returned: 1)),
                Fixtures.validBallot(["D01": "satisfied", "D02": "satisfied"]),
                // A box never opened on the node is closed with its counts directly, then counted.
                Fixtures.validBallot(["D01": "dissatisfied", "D02": "satisfied"], box: "B2"),
            ], event: event)
        #expect(try database.head().seq == 7)
    }

    @Test func aRequestIsSavedWholeOrNotAtAll() throws {
        let error = try #require(throws: AppendError.self) {
            try database.append(
                [
                    .checkin(.init(session: "S1", rep: "R1", category: "resident")),
                    .checkin(.init(session: "S1", rep: "R2", category: "resident")),
                    .checkin(.init(session: "S1", rep: "R1", category: "resident")),
                ], event: event)
        }
        #expect(error.index == 2)
        #expect(try database.head().seq == 0)
    }

    @Test func recordsCannotBeUpdatedOrDeletedInTheDatabase() throws {
        try database.append([.checkin(.init(session: "S1", rep: "R1", category: "resident"))], event: event)
        #expect(throws: DatabaseError.self) {
            try database.writer.write { db in try db.execute(sql: "UPDATE record SET payload = '{}'") }
        }
        #expect(throws: DatabaseError.self) {
            try database.writer.write { db in try db.execute(sql: "DELETE FROM record") }
        }
        #expect(try database.head().seq == 1)
    }

    @Test func aBallotCSVWithABadRowIsReportedByLineAndNothingIsImported() throws {
        let csv = """
            session,box,status,D01,D02,D03
            S1,B1,valid,satisfied,dissatisfied,
            S1,B1,blank,,,
            S2,B1,valid,satisfied,satisfied,
            S2,B1,spoiled,,,
            """
        try database.append(
            [
                .boxClosed(.init(session: "S1", box: "B1", issued: 2, returned: 2)),
                .boxClosed(.init(session: "S2", box: "B1", issued: 2, returned: 2)),
            ], event: event)
        let table = try CSVTable(data: Data(csv.utf8))
        let rows = try CSVImport.ballots(table)
        let error = try #require(throws: AppendError.self) {
            try database.append(rows.map(\.payload), event: event)
        }
        #expect(rows[error.index].line == 4)
        #expect(error.rejection.message == "the ballot of session S2 has no mark for department(s) D03")
        #expect(try database.head().seq == 2)
    }

    @Test func aCheckinCSVIsImportedWhole() throws {
        let csv = "\u{FEFF}session,rep,category\r\nS1,R1,resident\r\nS1,\"R2\",expert\r\n"
        let rows = try CSVImport.checkins(CSVTable(data: Data(csv.utf8)))
        let desk = CheckinDesk(event: event, venue: "east", roster: [], keyer: { throw RosterError("no secret") })
        try database.append(try rows.map { .checkin(try desk.checkin($0.request)) }, event: event)
        #expect(try database.status().checkins == ["S1": 2])
    }

    @Test(arguments: [
        ("session,rep\nS1,R1,resident\n", 2, "3 field(s), but the header has 2"),
        ("session,rep,category\nS1,\"R1,resident\n", 2, "a quoted field is not closed before the end of the file"),
        ("", 1, "the file is empty; it needs a header row"),
    ])
    func aMalformedCSVIsReportedByLine(_ text: String, _ line: Int, _ message: String) {
        #expect(throws: CSVTable.ParseError(line: line, message: message)) { try CSVTable(data: Data(text.utf8)) }
    }

    @Test func aFileImportedByTheFirstReleaseIsStillRememberedByItsBytes() throws {
        // Release 1 kept the digest of each imported file's bytes in `importedFile`.
        try database.append([.boxClosed(.init(session: "S1", box: "B1", issued: 5, returned: 5))], event: event)
        let digest = String(repeating: "a", count: 64)
        try database.writer.write { db in
            try db.execute(
                sql: """
                    INSERT INTO importedFile (digest, file, firstSeq, lastSeq, importedAt) VALUES (?, 'scanner.csv', 1, 1, 'T')
                    """, arguments: [digest])
        }
        let ballots = [Fixtures.validBallot(["D01": "satisfied", "D02": "satisfied"])]
        let error = try #require(throws: NodeDatabase.AlreadyImported.self) {
            try database.importRows(
                ballots, form: "ballots", file: "copy.csv", bytesDigest: digest, again: false, event: event)
        }
        #expect(error.file == "scanner.csv" && error.record == 1)
        #expect(try database.head().seq == 1)
        try database.importRows(
            ballots, form: "ballots", file: "copy.csv", bytesDigest: digest, again: true, event: event)
        #expect(try database.head().seq == 3)
    }
}
