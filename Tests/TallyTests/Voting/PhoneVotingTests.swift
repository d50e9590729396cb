import Foundation
import GRDB
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Shared
import Testing

@testable import VenueNode

/// The phone ballot box's store (issue #16): codes kept as hashes, each code spent with its sealed ballot, every
/// refusal exact and changing nothing, sealed ballots appended shuffled when the box closes.
@Suite struct PhoneVotingTests {
    let database: NodeDatabase
    let event = Fixtures.smallEvent
    static let url = "http://192.168.1.10:8080"
    /// Every department of S1's ballot (G1: D01, D02).
    static let full = ["D01": "satisfied", "D02": "dissatisfied"]

    init() throws {
        database = try NodeDatabase(writer: DatabaseQueue())
    }

    func open(_ box: String = "E1", session: String = "S1") throws {
        try database.append([.boxOpened(.init(session: session, box: box))], event: event)
    }

    func sealedCount() throws -> Int {
        try database.writer.read { try Int.fetchOne($0, sql: "SELECT COUNT(*) FROM sealedBallot") ?? 0 }
    }

    func refusal(_ body: () throws -> Void) -> VoteRefusal? {
        do {
            try body()
            return nil
        } catch {
            return error as? VoteRefusal
        }
    }

    @Test func printingRefusesWhatCannotBeACodeSheetAndKeepsOnlyHashes() throws {
        func code(_ body: () throws -> Void) -> String? {
            do {
                try body()
                return nil
            } catch {
                return (error as? DeskRefusal)?.code
            }
        }
        #expect(
            code { _ = try database.printCodes(session: "S9", box: "E1", count: 3, url: Self.url, event: event) }
                == "unknown_session")
        #expect(
            code { _ = try database.printCodes(session: "S1", box: "E 1", count: 3, url: Self.url, event: event) }
                == "invalid")
        #expect(
            code { _ = try database.printCodes(session: "S1", box: "E1", count: 0, url: Self.url, event: event) }
                == "invalid")
        #expect(
            code { _ = try database.printCodes(session: "S1", box: "E1", count: 3, url: "192.168.1.10", event: event) }
                == "invalid")
        #expect(try database.phoneBoxes().isEmpty)

        let sheet = try database.printCodes(session: "S1", box: "E1", count: 40, url: Self.url, event: event)
        #expect(sheet.codes.count == 40)
        #expect(Set(sheet.codes).count == 40)
        #expect(sheet.codes.allSatisfy { VotingCode.canonical($0)?.count == 16 })
        let second = try database.printCodes(session: "S1", box: "E1", count: 10, url: Self.url, event: event)
        #expect(second.sheet == sheet.sheet + 1)
        #expect(try database.phoneBoxes() == [PhoneBox(session: "S1", box: "E1", printed: 50, cast: 0, sheets: 2)])

        // No code in clear anywhere in the database, in any table.
        let everything = try database.writer.read { db in
            try String.fetchAll(db, sql: "SELECT name FROM sqlite_master WHERE type = 'table'").flatMap { table in
                try Row.fetchAll(db, sql: "SELECT * FROM \"\(table)\"").map { "\($0)" }
            }.joined(separator: "\n")
        }
        for code in sheet.codes + second.codes {
            #expect(!everything.contains(code))
            #expect(!everything.contains(VotingCode.canonical(code)!))
        }

        // A box holding paper ballots gets no codes.
        try database.append(
            [
                .boxOpened(.init(session: "S1", box: "B1")),
                .boxClosed(.init(session: "S1", box: "B1", issued: 1, returned: 1)),
                Fixtures.validBallot(Self.full),
            ], event: event)
        #expect(
            code { _ = try database.printCodes(session: "S1", box: "B1", count: 3, url: Self.url, event: event) }
                == "box_has_paper")
    }

    @Test func everyRefusalHasItsCodeAndChangesNothing() throws {
        let sheet = try database.printCodes(session: "S1", box: "E1", count: 5, url: Self.url, event: event)
        let other = try database.printCodes(session: "S2", box: "E2", count: 1, url: Self.url, event: event)
        let code = sheet.codes[0]
        func cast(
            _ code: String, session: String = "S1", box: String = "E1", marks: [String: String] = Self.full,
            submission: String = "page-one-0001"
        ) throws -> String {
            try database.cast(
                code: code, session: session, box: box, marks: marks, submission: submission, event: event)
        }
        #expect(refusal { _ = try cast(code) }?.code == .boxNotOpen)
        #expect(refusal { _ = try database.ballotOf(code: code) }?.code == .boxNotOpen)
        try open()
        #expect(refusal { _ = try cast("ABCD-EFGH") }?.code == .codeMalformed)
        #expect(refusal { _ = try cast("ABCD-EFGH-JKMN-PQRS") }?.code == .codeUnknown)
        #expect(refusal { _ = try database.ballotOf(code: "ABCD-EFGH-JKMN-PQRS") }?.code == .codeUnknown)
        #expect(refusal { _ = try cast(other.codes[0]) }?.code == .otherBox)
        #expect(refusal { _ = try cast(code, session: "S2") }?.code == .otherBox)
        #expect(refusal { _ = try cast(code, marks: ["D01": "satisfied"]) }?.code == .marksMissing)
        #expect(refusal { _ = try cast(code, marks: ["D01": "satisfied", "D02": "excellent"]) }?.code == .unknownMark)
        #expect(
            refusal { _ = try cast(code, marks: Self.full.merging(["D03": "satisfied"]) { $1 }) }?.code == .unknownMark)
        #expect(try sealedCount() == 0)

        #expect(try database.ballotOf(code: code) == ("S1", "E1"))
        // Typed by a person: lower case, no hyphens, O for 0 — the same code.
        let typed = code.lowercased().replacingOccurrences(of: "-", with: " ").replacingOccurrences(of: "0", with: "o")
        let receipt = try cast(typed)
        #expect(PhoneReceipt.canonical(receipt) == receipt)
        #expect(try sealedCount() == 1)
        // The same page sending again is told its receipt; another page, nothing; both change nothing.
        let again = refusal { _ = try cast(code) }
        #expect(again?.code == .codeUsed)
        #expect(again?.receipt == receipt)
        let elsewhere = refusal { _ = try cast(code, submission: "page-two-0002") }
        #expect(elsewhere?.code == .codeUsed)
        #expect(elsewhere?.receipt == nil)
        #expect(refusal { _ = try database.ballotOf(code: code) }?.code == .codeUsed)
        #expect(try sealedCount() == 1)
        #expect(try database.phoneBox(session: "S1", box: "E1")?.cast == 1)
    }

    @Test func closingAppendsTheSealedBallotsShuffledAndNothingAfter() throws {
        let sheet = try database.printCodes(session: "S1", box: "E1", count: 30, url: Self.url, event: event)
        try open()
        var receipts: [String] = []
        let marks = ["satisfied", "basically_satisfied", "dissatisfied"]
        for (index, code) in sheet.codes.prefix(24).enumerated() {
            receipts.append(
                try database.cast(
                    code: code, session: "S1", box: "E1",
                    marks: ["D01": marks[index % 3], "D02": marks[(index / 3) % 3]], submission: "page-\(index)-xyz",
                    event: event))
        }
        // Two equal ballots still have different receipts.
        #expect(Set(receipts).count == 24)
        // A phone box returns exactly what was cast.
        #expect(throws: AppendError.self) {
            try database.append([.boxClosed(.init(session: "S1", box: "E1", issued: 30, returned: 30))], event: event)
        }
        let saved = try database.append(
            [.boxClosed(.init(session: "S1", box: "E1", issued: 26, returned: 24))], event: event)
        #expect(saved.count == 25)
        let ballots = try saved.dropFirst().map { record -> RecordPayload.Ballot in
            guard case .ballot(let ballot) = try RecordPayload.decode(json: record.payload) else {
                throw CancellationError()
            }
            // Nothing but the ballot, its box and its nonce: no time, no code, nothing of a person.
            let keys = try JSONSerialization.jsonObject(with: Data(record.payload.utf8)) as! [String: Any]
            #expect(Set(keys.keys) == ["box", "kind", "marks", "nonce", "session", "status", "v"])
            #expect(keys["v"] as? Int == RecordPayload.currentVersion)
            return ballot
        }
        #expect(Set(ballots.compactMap(\.receipt)) == Set(receipts))
        // The chain's order is not the order of casting (24! orders: the same one by chance is out of the question).
        #expect(ballots.compactMap(\.receipt) != receipts)
        #expect(try database.status().ballots["S1"] == 24)

        // After closing: no more votes, no more codes; a correction cannot change what it returned.
        #expect(
            refusal {
                _ = try database.cast(
                    code: sheet.codes[25], session: "S1", box: "E1", marks: Self.full, submission: "late-page-1",
                    event: event)
            }?.code == .boxClosed)
        #expect(throws: DeskRefusal.self) {
            _ = try database.printCodes(session: "S1", box: "E1", count: 1, url: Self.url, event: event)
        }
        #expect(throws: AppendError.self) {
            try database.append(
                [
                    .correction(
                        .init(
                            target: saved[0].seq, reason: "miscounted", operator: "王芳",
                            replacement: .boxClosed(.init(session: "S1", box: "E1", issued: 26, returned: 23))))
                ], event: event)
        }
        // A phone box has no papers to key at the desk.
        let clerk = try database.addClerk(name: "李强", role: .count).clerk
        do {
            _ = try database.keyPaper(
                clerk: clerk, session: "S1", box: "E1", paper: 1,
                reading: PaperReading(status: .valid, marks: Self.full),
                event: event)
            Issue.record("a phone box's paper was keyed")
        } catch {
            #expect((error as? DeskRefusal)?.code == "box_is_phone")
        }
        let box = try #require(try database.boxes(session: "S1").first { $0.box == "E1" })
        #expect((box.printed, box.cast, box.issued, box.returned, box.ballots) == (30, 24, 26, 24, 24))
        // Issued may be corrected (slips miscounted); the ballots are not appended a second time.
        let corrected = try database.append(
            [
                .correction(
                    .init(
                        target: saved[0].seq, reason: "unused slips recounted", operator: "王芳",
                        replacement: .boxClosed(.init(session: "S1", box: "E1", issued: 25, returned: 24))))
            ], event: event)
        #expect(corrected.count == 1)
        #expect(try database.status().ballots["S1"] == 24)
    }

    @Test func aPhoneBallotIsVersion4AndTheAggregatorsStrictReadingKnowsIt() throws {
        let ballot = RecordPayload.ballot(
            .init(
                session: "S1", box: "E1", status: .valid, marks: Self.full,
                nonce: "0123456789abcdef0123456789abcdef"))
        let json = ballot.canonicalJSON()
        #expect(
            json
                == #"{"box":"E1","kind":"ballot","marks":{"D01":"satisfied","D02":"dissatisfied"},"nonce":"0123456789abcdef0123456789abcdef","session":"S1","status":"valid","v":5}"#
        )
        #expect(json == ballot.foundationCanonicalJSON())
        #expect(try RecordPayload.decodeStrict(json: json).version == RecordPayload.currentVersion)
        #expect(throws: RecordPayload.StrictDecodingError.self) {
            try RecordPayload.decodeStrict(json: ballot.canonicalJSON(version: 3))
        }
        // Its receipt is a function of nonce and ballot, the same wherever it is computed.
        if case .ballot(let value) = ballot {
            #expect(value.receipt == "DYZBB-11TXH")
            var other = value
            other.marks["D02"] = "satisfied"
            #expect(other.receipt != value.receipt)
        }
        for bad in [
            RecordPayload.Ballot(session: "S1", box: "E1", status: .valid, marks: Self.full, nonce: "XYZ"),
            RecordPayload.Ballot(session: "S1", box: "E1", status: .blank, nonce: "0123456789abcdef0123456789abcdef"),
            RecordPayload.Ballot(
                session: "S1", box: "E1", status: .valid, marks: Self.full, paper: 1, keyers: ["a#1", "b#2"],
                nonce: "0123456789abcdef0123456789abcdef"),
        ] {
            #expect(throws: RecordRejection.self) { try RecordPayload.ballot(bad).check(against: event) }
        }
        #expect(PhoneReceipt.canonical("dyzbb ll txh") == "DYZBB-11TXH")
        #expect(PhoneReceipt.canonical("DYZBB-11TX") == nil)
    }
}
