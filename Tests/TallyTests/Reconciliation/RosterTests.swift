import Foundation
import Shared
import Testing

@testable import VenueNode

/// ID-card numbers for tests: valid check characters, birth dates in 1960–1999.
enum IDNumbers {
    static func make(_ index: Int, region: String = "150602") -> String {
        let body =
            region
            + String(
                format: "%04d%02d%02d%03d", 1960 + index % 40, 1 + (index / 40) % 12,
                1 + (index / 480) % 28, index % 1000)
        return body + String(IDCardNumber.checkCharacter(forFirst17: body))
    }

    static let secret = Data((0..<32).map { UInt8($0 * 7 % 251) })
    static var keyer: PersonKeyer { try! PersonKeyer(secret: secret) }
}

@Suite struct IDCardNumberTests {
    @Test(arguments: ["11010519491231002X", "11010519491231002x", " 150602199001011238 "])
    func aValidNumberIsAccepted(_ text: String) throws {
        #expect(try IDCardNumber(text).value == text.trimmingCharacters(in: .whitespaces).uppercased())
    }

    @Test(arguments: [
        ("15060219900101123", IDCardNumber.Problem.length(17)),
        ("1506021990010112388", .length(19)),
        ("15060219900101123A", .characters),
        ("1506021990O101123X", .characters),
        ("150602199013011236", .birthDate("19901301")),
        ("150602198502291237", .birthDate("19850229")),
        ("150602203001011237", .birthDate("20300101")),
        ("150602199001011239", .checkDigit(expected: "8", found: "9")),
    ])
    func anInvalidNumberIsRefusedWithTheReason(_ text: String, _ problem: IDCardNumber.Problem) {
        #expect(throws: problem) { try IDCardNumber(text) }
    }

    @Test func generatedTestNumbersAreValid() throws {
        for index in 0..<2_000 { _ = try IDCardNumber(IDNumbers.make(index)) }
    }

    @Test func theSamePersonGetsTheSameKeyAndTheKeyDependsOnTheSecret() throws {
        let number = try IDCardNumber("11010519491231002X")
        let key = IDNumbers.keyer.key(for: number)
        #expect(key.count == 64)
        #expect(key == IDNumbers.keyer.key(for: try IDCardNumber("11010519491231002x")))
        #expect(key != (try PersonKeyer(secret: Data(repeating: 1, count: 32))).key(for: number))
        #expect(!key.contains("11010519491231002X"))
        #expect(throws: RosterError.self) { try PersonKeyer(secret: Data(repeating: 1, count: 8)) }
    }
}

@Suite struct RosterImportTests {
    let event = try! EventDefinition.load(contentsOf: Fixtures.example("ordos-2021")).definition

    func csv(_ rows: [String]) -> Data {
        Data((["rep_id,name,id_number,category,venue,sessions,card_code"] + rows).joined(separator: "\n").utf8)
    }

    @Test func aGoodRosterIsReadWithPersonKeysInsteadOfIDNumbers() throws {
        let entries = try RosterCSV.parse(
            csv([
                "R1,张伟,\(IDNumbers.make(1)),makers,dalate,S1,C001",
                "R2,王芳,\(IDNumbers.make(2)),media,main,S1;S2,",
                "R3,李娜,\(IDNumbers.make(3)),media,main,all,C003",
            ]), event: event, keyer: IDNumbers.keyer, file: "r.csv")
        #expect(entries.map(\.repID) == ["R1", "R2", "R3"])
        #expect(entries[0].personKey == IDNumbers.keyer.key(for: try IDCardNumber(IDNumbers.make(1))))
        #expect(entries[1].sessions == ["S1", "S2"])
        #expect(entries[2].sessions == ["S1", "S2", "S3"])
        #expect(entries[1].cardCode == nil)
        #expect(!entries.venueCSV().contains(IDNumbers.make(1)))
    }

    @Test func gb18030AsExcelWritesItIsRead() throws {
        let utf8 = csv(["R1,张伟,\(IDNumbers.make(1)),makers,dalate,S1,C001"])
        let gb = try TextDecoding.convert(utf8, from: "UTF-8", to: "GB18030")
        #expect(gb != utf8)
        let entries = try RosterCSV.parse(gb, event: event, keyer: IDNumbers.keyer, file: "r.csv")
        #expect(entries.first?.name == "张伟")
        let bom = Data([0xEF, 0xBB, 0xBF]) + utf8
        #expect(try RosterCSV.parse(bom, event: event, keyer: IDNumbers.keyer, file: "r.csv").first?.repID == "R1")
    }

    @Test func everyBadRowIsReportedByLineAndNothingIsKept() throws {
        let bad = IDNumbers.make(2).dropLast() + (IDNumbers.make(2).last == "1" ? "2" : "1")
        let error = try #require(throws: RosterError.self) {
            try RosterCSV.parse(
                csv([
                    "R1,张伟,\(IDNumbers.make(1)),makers,dalate,S1,C001",
                    "R2,王芳,\(bad),media,main,S1,",
                    "R3,李娜,\(IDNumbers.make(1)),media,main,S1,",
                    "R4,刘洋,\(IDNumbers.make(4)),astronauts,main,S1,",
                    "R1,陈静,\(IDNumbers.make(5)),media,main,S9,C001",
                ]), event: event, keyer: IDNumbers.keyer, file: "r.csv")
        }
        let lines = error.description.split(separator: "\n").map(String.init)
        #expect(lines.first == "6 bad row(s); nothing was imported:")
        #expect(lines.contains { $0.hasPrefix("r.csv:3: id_number: the check character is") })
        #expect(
            lines.contains(
                "r.csv:4: the same person (150602**********\(IDNumbers.make(1).suffix(2))) is already on line 2: "
                    + "a person must not be listed twice"))
        #expect(lines.contains("r.csv:5: unknown category \"astronauts\""))
        #expect(lines.contains("r.csv:6: rep_id R1 is already on line 2"))
        #expect(lines.contains("r.csv:6: unknown session \"S9\""))
        #expect(lines.contains("r.csv:6: card_code C001 is already on line 2"))
        #expect(!error.description.contains(IDNumbers.make(1)), "no ID number in clear in messages")
    }
}

@Suite struct CheckinDeskTests {
    let event = try! EventDefinition.load(contentsOf: Fixtures.example("ordos-2021")).definition
    var roster: [RosterEntry] {
        try! RosterCSV.parse(
            Data(
                """
                rep_id,name,id_number,category,venue,sessions,card_code
                R1,张伟,\(IDNumbers.make(1)),makers,dalate,S1,C001
                R2,王芳,\(IDNumbers.make(2)),media,main,S1,C002
                """.utf8), event: event, keyer: IDNumbers.keyer, file: "r.csv")
    }

    func desk(walkIns: Bool = false) -> CheckinDesk {
        var event = self.event
        event.walkInsAllowed = walkIns
        return CheckinDesk(event: event, venue: "dalate", roster: roster, keyer: { IDNumbers.keyer })
    }

    @Test func aRepresentativeIsFoundByRosterIDCardOrIDNumber() throws {
        for request in [
            CheckinRequest(session: "S1", rep: "R1"), CheckinRequest(session: "S1", card: "C001"),
            CheckinRequest(session: "S1", idNumber: IDNumbers.make(1)),
        ] {
            let checkin = try desk().checkin(request)
            #expect(checkin.rep == "R1")
            #expect(checkin.category == "makers")
            #expect(checkin.person == roster[0].personKey)
            #expect(checkin.walkin == nil)
        }
    }

    @Test(arguments: [
        (
            CheckinRequest(session: "S1", rep: "R2"),
            "representative R2 is on the roster of venue main, not dalate; this event allows no walk-ins"
        ),
        (
            CheckinRequest(session: "S2", rep: "R1"),
            "representative R1 is on the roster for session(s) S1, not S2; this event allows no walk-ins"
        ),
        (
            CheckinRequest(session: "S1", rep: "R9"),
            "representative R9 is not on the roster; this event allows no walk-ins"
        ),
        (
            CheckinRequest(session: "S1", rep: "R1", category: "media"),
            "representative R1 is in category makers on the roster, not media"
        ),
    ])
    func someoneNotOnThisVenuesRosterIsRefusedWithTheReason(_ request: CheckinRequest, _ message: String) {
        #expect(throws: RecordRejection(message)) { try desk().checkin(request) }
    }

    @Test func anIDCardThatIsNotTheRepresentativesIsRefused() {
        #expect(
            throws: RecordRejection(
                "the ID card 150602**********\(IDNumbers.make(2).suffix(2)) is not that of "
                    + "representative R1 on the roster")
        ) {
            try desk().checkin(CheckinRequest(session: "S1", rep: "R1", idNumber: IDNumbers.make(2)))
        }
    }

    @Test func aWalkInIsRecordedAsSuchWhereTheEventAllowsIt() throws {
        let checkin = try desk(walkIns: true).checkin(
            CheckinRequest(
                session: "S1", idNumber: IDNumbers.make(7),
                category: "media"))
        #expect(checkin.walkin == true)
        #expect(checkin.person == IDNumbers.keyer.key(for: try IDCardNumber(IDNumbers.make(7))))
        #expect(checkin.rep.hasPrefix("walkin-"))
        #expect(throws: RecordRejection.self) {
            try desk(walkIns: true).checkin(CheckinRequest(session: "S1", rep: "R9"))
        }
    }
}
