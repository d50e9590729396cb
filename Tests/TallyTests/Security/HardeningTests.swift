import Aggregator
import Crypto
import Foundation
import GRDB
import Shared
import Testing

@testable import VenueNode

/// Ordinary mistakes that must not count a ballot twice (issue #11, point 1), ID-card numbers kept out
/// of free fields (point 3), and the node's rules enforced by the aggregator (point 4).
@Suite struct BoxLimitTests {
    let database: NodeDatabase
    let event = Fixtures.smallEvent
    static let ballot = Fixtures.validBallot(["D01": "satisfied", "D02": "dissatisfied"])

    init() throws {
        database = try NodeDatabase(writer: DatabaseQueue())
    }

    func refusal(_ payloads: [RecordPayload]) throws -> AppendError {
        let before = try database.allRecords()
        let error = try #require(throws: AppendError.self) { try database.append(payloads, event: event) }
        #expect(try database.allRecords() == before, "a refusal saves nothing")
        return error
    }

    @Test func aBallotNeedsItsBoxClosedWithItsCounts() throws {
        try database.append([.boxOpened(.init(session: "S1", box: "B1"))], event: event)
        let error = try refusal([Self.ballot])
        #expect(error.rejection.rule == .ballotBoxNotClosed)
        #expect(
            error.rejection.message
                == "box B1 of session S1 is not closed (opened by record 1): ballots are entered after "
                + "`venue-node box close --session S1 --box B1 --issued N --returned N` records its counts")
        // A box never opened on the node is closed with its counts directly, then counted.
        try database.append(
            [
                .boxClosed(.init(session: "S2", box: "B9", issued: 1, returned: 1)),
                Fixtures.validBallot(
                    ["D01": "satisfied", "D02": "satisfied", "D03": "satisfied"],
                    session: "S2", box: "B9"),
            ], event: event)
    }

    @Test func aBoxNeverHoldsMoreBallotsThanItReturned() throws {
        try database.append(
            [.boxClosed(.init(session: "S1", box: "B1", issued: 3, returned: 2)), Self.ballot, Self.ballot],
            event: event)
        let error = try refusal([Self.ballot])
        #expect(error.rejection.rule == .ballotsOverReturned)
        #expect(
            error.rejection.message
                == "box B1 of session S1 returned 2 form(s) (record 1) and already holds 2 ballot(s): one more would make 3"
        )
        // Nor can its counts be lowered below what it holds, or its closing taken away.
        let lower = try refusal([
            .correction(
                .init(
                    target: 1, reason: "miscounted", operator: "王芳",
                    replacement: .boxClosed(.init(session: "S1", box: "B1", issued: 3, returned: 1))))
        ])
        #expect(
            lower.rejection.message
                == "box B1 of session S1 already holds 2 ballot(s): it cannot be said to have returned 1; "
                + "correct its ballots first")
        let void = try refusal([.correction(.init(target: 1, reason: "wrong box", operator: "王芳", replacement: nil))])
        #expect(void.rejection.rule == .ballotsOverReturned)
        // A ballot voided makes room for one more; raising the count too.
        try database.append(
            [.correction(.init(target: 2, reason: "entered twice", operator: "王芳", replacement: nil)), Self.ballot],
            event: event)
        try database.append(
            [
                .correction(
                    .init(
                        target: 1, reason: "recounted", operator: "王芳",
                        replacement: .boxClosed(.init(session: "S1", box: "B1", issued: 3, returned: 3)))),
                Self.ballot,
            ], event: event)
        #expect(try database.status().ballots["S1"] == 3)
    }

    @Test func aBoxIsClosedOnce() throws {
        try database.append([.boxClosed(.init(session: "S1", box: "B1", issued: 3, returned: 3))], event: event)
        let error = try refusal([.boxClosed(.init(session: "S1", box: "B1", issued: 100_000, returned: 3))])
        #expect(error.rejection.rule == .boxClosedTwice)
    }
}

@Suite struct ImportGuardTests {
    let database: NodeDatabase
    let event = Fixtures.smallEvent
    static let rows =
        "session,box,status,D01,D02\nS1,B1,valid,satisfied,dissatisfied\nS1,B1,blank,,\nS1,B1,valid,satisfied,satisfied\n"

    init() throws {
        database = try NodeDatabase(writer: DatabaseQueue())
        try database.append([.boxClosed(.init(session: "S1", box: "B1", issued: 40, returned: 40))], event: event)
    }

    func importBallots(_ bytes: Data, again: Bool = false, into database: NodeDatabase? = nil) throws -> [ChainedRecord]
    {
        let rows = try CSVImport.ballots(try CSVTable(data: bytes)).map(\.payload)
        return try (database ?? self.database).importRows(
            rows, form: "ballots", file: "scan.csv",
            bytesDigest: SHA256.hash(data: bytes).hexString, again: again,
            event: event)
    }

    static let variants: [(String, Data)] = [
        ("CRLF line ends", Data(rows.replacingOccurrences(of: "\n", with: "\r\n").utf8)),
        ("a byte-order mark", Data([0xEF, 0xBB, 0xBF]) + Data(rows.utf8)),
        ("no final newline", Data(rows.dropLast().utf8)),
        (
            "the rows in another order",
            Data(
                ("session,box,status,D01,D02\nS1,B1,valid,satisfied,satisfied\n"
                    + "S1,B1,blank,,\nS1,B1,valid,satisfied,dissatisfied\n").utf8)
        ),
        (
            "the columns in another order",
            Data(
                ("box,session,status,D02,D01\nB1,S1,valid,dissatisfied,satisfied\n"
                    + "B1,S1,blank,,\nB1,S1,valid,satisfied,satisfied\n").utf8)
        ),
        ("the very same bytes", Data(rows.utf8)),
    ]

    @Test(arguments: 0..<variants.count)
    func theSameRowsAreNotImportedTwiceWhateverTheBytes(_ index: Int) throws {
        let saved = try importBallots(Data(Self.rows.utf8))
        #expect(saved.count == 4, "the import record and 3 ballots")
        let before = try database.allRecords()
        let error = try #require(throws: NodeDatabase.AlreadyImported.self) {
            try importBallots(Self.variants[index].1)
        }
        #expect(
            error.description == "the same 3 row(s) for box B1 of session S1 were already imported from scan.csv at "
                + "\(error.importedAt) (import record 2); nothing was imported. Importing them again would count every row "
                + "twice: give --again only if they really are new ballots or check-ins", "\(Self.variants[index].0)")
        #expect(try database.allRecords() == before)
    }

    @Test func aRestoredNodeRemembersWhatWasImported() throws {
        _ = try importBallots(Data(Self.rows.utf8))
        let restored = try NodeDatabase(writer: DatabaseQueue())
        try restored.restore(try database.allRecords())
        #expect(throws: NodeDatabase.AlreadyImported.self) { try importBallots(Data(Self.rows.utf8), into: restored) }
        #expect(try restored.head().seq == 5)
    }

    @Test func againStillStopsAtTheBoxLimit() throws {
        // A box that returned 4: the same 3 rows again (--again) would make 6.
        let database = try NodeDatabase(writer: DatabaseQueue())
        try database.append([.boxClosed(.init(session: "S1", box: "B1", issued: 4, returned: 4))], event: event)
        _ = try importBallots(Data(Self.rows.utf8), into: database)
        let error = try #require(throws: AppendError.self) {
            try importBallots(Data(Self.rows.utf8), again: true, into: database)
        }
        #expect(error.rejection.rule == .ballotsOverReturned)
        #expect(error.index == 1, "the second row of the file is the one too many")
        #expect(try database.status().ballots["S1"] == 3)
    }

    @Test func aDepartmentColumnTwiceIsRefused() throws {
        let bytes = Data("session,box,status,D01,D02,D01\nS1,B1,valid,satisfied,satisfied,dissatisfied\n".utf8)
        let error = try #require(throws: CSVTable.ParseError.self) { try CSVImport.ballots(try CSVTable(data: bytes)) }
        #expect(error.line == 1)
        #expect(error.message == "column \"D01\" appears twice in the header; each column may appear once")
    }
}

@Suite struct IDNumberInClearTests {
    static let number = "150602197005050016"

    @Test func shapesAreFoundInFreeText() {
        #expect(IDNumberShape.appears(in: Self.number))
        #expect(IDNumberShape.appears(in: "代表15060219700505001X说"))
        #expect(IDNumberShape.appears(in: "old 150602700505001"))
        #expect(IDNumberShape.appears(in: "１５０６０２１９７００５０５００１６"))
        #expect(!IDNumberShape.appears(in: "R00015"))
        #expect(!IDNumberShape.appears(in: "13800138000"))
        #expect(!IDNumberShape.appears(in: "2026-01-05T09:30:00Z"))
        #expect(IDNumberShape.masked("rep \(Self.number)") == "rep 1506************16")
    }

    @Test func aRecordCarryingOneIsRefusedAndNamesTheRule() throws {
        let event = Fixtures.smallEvent
        let cases: [(RecordPayload, String)] = [
            (
                .checkin(.init(session: "S1", rep: Self.number, category: "resident")),
                "representative id \"1506************16\" looks like an ID-card number: ID-card numbers are never stored; "
                    + "check in with --id-number (the roster keys it)"
            ),
            (
                .correction(.init(target: 1, reason: "本人 \(Self.number) 重复", operator: "王芳", replacement: nil)),
                "the reason \"本人 1506************16 重复\" holds something shaped like an ID-card number; ID-card numbers "
                    + "are never stored in clear: leave it out"
            ),
            (
                .correction(.init(target: 1, reason: "x", operator: Self.number, replacement: nil)),
                "the operator \"1506************16\" holds something shaped like an ID-card number; ID-card numbers are "
                    + "never stored in clear: leave it out"
            ),
        ]
        for (payload, message) in cases {
            let error = try #require(throws: RecordRejection.self) { try payload.check(against: event) }
            #expect(error.message == message)
            #expect(error.rule == .idNumberInClear)
        }
    }

    @Test func aRepIDThatIsAnIDNumberIsLookedUpThroughTheRoster() throws {
        let keyer = try PersonKeyer(secret: Data(repeating: 7, count: 32))
        let person = keyer.key(for: try IDCardNumber(Self.number))
        let entry = RosterEntry(
            repID: "R0001", name: "张三", personKey: person, category: "resident", venue: "east",
            sessions: ["S1"], cardCode: nil)
        let desk = CheckinDesk(event: Fixtures.smallEvent, venue: "east", roster: [entry], keyer: { keyer })
        let checkin = try desk.checkin(CheckinRequest(session: "S1", rep: Self.number))
        #expect(checkin.rep == "R0001")
        #expect(checkin.person == person)
        #expect(!checkin.rep.contains("1506"))
        // Without a roster the person key stands in for the rep id.
        let bare = CheckinDesk(event: Fixtures.smallEvent, venue: "east", roster: [], keyer: { keyer })
        let walk = try bare.checkin(CheckinRequest(session: "S1", rep: Self.number, category: "resident"))
        #expect(walk.rep == "id-\(person.prefix(12))")
    }
}

/// A stolen node key against the aggregator's rules, and records an older release wrote.
@Suite struct AggregatorRuleTests {
    let database: AggregatorDatabase
    let intake: BatchIntake
    let signer = TestSigner()

    init() throws {
        (database, intake) = try Fixtures.aggregator(enrolling: ["east": signer])
    }

    func send(_ records: [ChainedRecord]) async throws -> BatchAck { try await signer.send(records, to: intake) }

    /// Chains payloads as a release-1 node wrote them (no payload version).
    static func chainV1(_ payloads: [RecordPayload], afterSeq: Int64 = 0, afterHash: String = RecordChain.genesis)
        -> [ChainedRecord]
    {
        var prev = afterHash
        var seq = afterSeq
        return payloads.map { payload in
            seq += 1
            let record = ChainedRecord(seq: seq, prev: prev, payload: payload.canonicalJSON(version: 1))
            prev = record.hash
            return record
        }
    }

    @Test func aBatchBreakingARuleIsRefusedWholeKeptOnceAsEvidenceAndRaisesOneAlarm() async throws {
        let good = Fixtures.chain([.checkin(.init(session: "S1", rep: "R1", category: "resident"))])
        _ = try await send(good)
        let before = try database.totals(eventID: "test-2026")
        let bad = Fixtures.chain(
            [
                .checkin(.init(session: "S1", rep: "R2", category: "resident")),
                .checkin(.init(session: "S1", rep: "R1", category: "resident")),
            ],
            afterSeq: 1, afterHash: good[0].hash)
        for _ in 0..<3 {
            let error = try await #require(throws: APIError.self) { try await send(bad) }
            #expect(error.body.error.code == .ruleBreach)
            #expect(
                error.body.error.message == "record 3: representative R1 already checked in for session S1 (record 1)")
        }
        #expect(try database.totals(eventID: "test-2026") == before)
        #expect(try database.records(venue: "east").count == 1, "nothing of the batch is kept but the evidence")
        let alarms = try database.alarms().filter { $0.kind == "rule_breach" }
        #expect(alarms.count == 1)
        #expect(alarms.first?.message.contains("breaks the rule duplicate_checkin") == true)
        #expect(alarms.first?.evidence?.contains("\"signature\"") == true)
        // The node's honest next batch still goes through.
        _ = try await send(
            Fixtures.chain(
                [.checkin(.init(session: "S1", rep: "R2", category: "resident"))],
                afterSeq: 1, afterHash: good[0].hash))
        #expect(try database.totals(eventID: "test-2026").attendance.first?.checkedIn == 2)
    }

    /// On both stores (issue #20): the decisions are the office's acts, written once.
    @Test(arguments: StoreEngine.allCases)
    func aRecordAnOlderReleaseWroteThatBreaksARuleIsHeldOutUntilAnAdminDecides(_ engine: StoreEngine) async throws {
        let bed = try StoreBed(engine, enrolling: ["east": signer])
        let database = bed.store
        func send(_ records: [ChainedRecord]) async throws -> BatchAck {
            try await signer.send(records, to: bed.intake)
        }
        // Release 1 let a ballot into a box never closed and the same person check in twice.
        let records = Self.chainV1([
            .checkin(.init(session: "S1", rep: "R1", category: "resident")),
            .checkin(.init(session: "S1", rep: "R1", category: "resident")),
            Fixtures.validBallot(["D01": "satisfied", "D02": "dissatisfied"]),
            .boxClosed(.init(session: "S1", box: "B1", issued: 1, returned: 1)),
        ])
        _ = try await send(records)
        let totals = try database.totals(eventID: "test-2026")
        #expect(totals.attendance.first?.checkedIn == 1, "the second check-in is held out")
        #expect(totals.tallies.isEmpty, "the ballot into an unclosed box is held out")
        let held = try database.heldOutRecords()
        #expect(held.map(\.seq) == [2, 3])
        #expect(held.map(\.rule) == ["duplicate_checkin", "ballot_box_not_closed"])
        #expect(try database.alarms().filter { $0.kind == "held_out" }.count == 2)
        // The venue is not blocked by its history: the next (current-version) records are judged as usual.
        _ = try await send(
            Fixtures.chain(
                [.checkin(.init(session: "S1", rep: "R2", category: "expert"))],
                afterSeq: 4, afterHash: records[3].hash))
        // An admin decides: the ballot counts (its box is closed now and has room), the check-in does not.
        try database.decideHeldOut(venue: "east", seq: 3, count: true, reason: "box counted late", by: "王芳")
        try database.decideHeldOut(venue: "east", seq: 2, count: false, reason: "the same person twice", by: "王芳")
        let after = try database.totals(eventID: "test-2026")
        #expect(after.tallies.map(\.count) == [1, 1])
        #expect(after.attendance.map(\.checkedIn).reduce(0, +) == 2)
        #expect(throws: AggregatorError.self) {
            try database.decideHeldOut(venue: "east", seq: 3, count: false, reason: "changed my mind", by: "李四")
        }
        // The ballot now fills the box: one more counts nothing. (The venue keeps an excluded record, which its node
        // counts: a record breaking a rule here is held out rather than refused, so the venue is never blocked.)
        _ = try await send(
            Fixtures.chain(
                [Fixtures.validBallot(["D01": "satisfied", "D02": "satisfied"])],
                afterSeq: 5, afterHash: try database.storedRecords(venue: "east").last!.hash))
        #expect(try database.totals(eventID: "test-2026") == after)
        #expect(try database.heldOutRecords().last?.rule == "ballots_over_returned")
    }

    @Test func aRevokedKeyReadingItsCursorLeavesEvidenceAndOneAlarm() throws {
        try database.revoke(nodeID: signer.nodeID, reason: "laptop stolen")
        for _ in 0..<3 {
            let request = signer.getRequest(path: "/v1/nodes/\(signer.nodeID)/cursor")
            let error = try #require(throws: APIError.self) { try intake.authenticate(request, method: "GET") }
            #expect(error.body.error.code == .revokedNode)
        }
        let alarms = try database.alarms().filter { $0.kind == "revoked_node" }
        #expect(alarms.count == 1)
        #expect(alarms.first?.message.hasPrefix("signed read GET /v1/nodes/\(signer.nodeID)/cursor: node ") == true)
        #expect(alarms.first?.evidence?.contains("\"signature\":\"sig1=:") == true)
    }
}

/// A node whose sync stops for something only an operator can fix tells the central office.
@Suite struct HeartbeatProblemTests {
    @Test func aProblemInAHeartbeatRaisesOneAlarm() throws {
        let signer = TestSigner()
        let (database, intake) = try Fixtures.aggregator(enrolling: ["east": signer])
        for clock in ["2026-01-05T09:00:00Z", "2026-01-05T09:00:05Z"] {
            let heartbeat = Heartbeat(
                node: signer.nodeID, venue: "east", headSeq: 4, headHash: RecordChain.genesis,
                pending: 1, freeDiskBytes: nil, version: sanminVersion, clock: clock,
                problem: "record 3 held by the aggregator differs from this node's: the chains have forked")
            let body = try JSONEncoder().encode(heartbeat)
            try intake.receiveHeartbeat(signer.request(body, path: "/v1/heartbeats"))
        }
        let alarms = try database.alarms().filter { $0.kind == "node_problem" }
        #expect(
            alarms.map(\.message) == [
                "node \(signer.nodeID) of venue east reports: record 3 held by the aggregator "
                    + "differs from this node's: the chains have forked"
            ])
    }
}

/// What the review of the hardening found, each pinned by a test.
@Suite struct HardeningReviewTests {
    let event = Fixtures.smallEvent

    static func chainV1(_ payloads: [RecordPayload], afterSeq: Int64 = 0, afterHash: String = RecordChain.genesis)
        -> [ChainedRecord]
    {
        AggregatorRuleTests.chainV1(payloads, afterSeq: afterSeq, afterHash: afterHash)
    }

    func send(_ records: [ChainedRecord], by signer: TestSigner, to intake: BatchIntake) async throws -> BatchAck {
        try await signer.send(records, to: intake)
    }

    @Test func aCorrectionOfAHeldOutCorrectionIsHeldOutTooAndTheVenueIsNotBlocked() async throws {
        let signer = TestSigner()
        let (database, intake) = try Fixtures.aggregator(enrolling: ["east": signer])
        // Release 1: a check-in, then a correction whose reason holds an ID-card-shaped number (held out).
        let old = Self.chainV1([
            .checkin(.init(session: "S1", rep: "R1", category: "resident")),
            .correction(
                .init(
                    target: 1, reason: "本人 150602197005050016", operator: "王芳",
                    replacement: .checkin(.init(session: "S1", rep: "R1", category: "expert")))),
        ])
        _ = try await send(old, by: signer, to: intake)
        #expect(try database.heldOutRecords().map(\.seq) == [2])
        // The upgraded node corrects record 2 again (for it, record 2 is in effect): held out as well, not refused.
        let next = Fixtures.chain(
            [
                .correction(
                    .init(
                        target: 2, reason: "category again", operator: "王芳",
                        replacement: .checkin(.init(session: "S1", rep: "R1", category: "resident"))))
            ],
            afterSeq: 2, afterHash: old[1].hash)
        _ = try await send(next, by: signer, to: intake)
        #expect(try database.heldOutRecords().map(\.seq) == [2, 3])
        #expect(try database.totals(eventID: "test-2026").attendance.map(\.checkedIn) == [1], "R1 counted once")
        // Record 3 cannot count before the record it corrects is decided.
        #expect(throws: AggregatorError.self) {
            try database.decideHeldOut(venue: "east", seq: 3, count: true, reason: "paper checked", by: "王芳")
        }
    }

    @Test func afterARestartTheLedgerIsRebuiltAndTheBoxLimitHolds() async throws {
        let directory = try Fixtures.temporaryDirectory("sanmin-ledger")
        defer { try? FileManager.default.removeItem(at: directory) }
        let path = directory.appending(path: "aggregator.sqlite").path
        let signer = TestSigner()
        let records = Fixtures.chain([
            .boxClosed(.init(session: "S1", box: "B1", issued: 1, returned: 1)),
            Fixtures.validBallot(["D01": "satisfied", "D02": "satisfied"]),
        ])
        do {
            let (_, intake) = try Fixtures.aggregator(path: path, enrolling: ["east": signer])
            _ = try await send(records, by: signer, to: intake)
        }
        // A new process on the same database: its ledger comes from the stored records.
        let (database, intake) = try Fixtures.aggregator(path: path)
        let over = Fixtures.chain(
            [Fixtures.validBallot(["D01": "dissatisfied", "D02": "satisfied"])], afterSeq: 2,
            afterHash: records[1].hash)
        let error = try await #require(throws: APIError.self) { try await send(over, by: signer, to: intake) }
        #expect(error.body.error.code == .ruleBreach)
        #expect(
            error.body.error.message
                == "record 3: box B1 of session S1 returned 1 form(s) (record 1) and already holds "
                + "1 ballot(s): one more would make 2")
        #expect(try database.totals(eventID: "test-2026").tallies.map(\.count) == [1, 1])
    }

    @Test func countingAHeldOutRecordIsJudgedByTheRules() async throws {
        let signer = TestSigner()
        let (database, intake) = try Fixtures.aggregator(enrolling: ["east": signer])
        // Release 1: a box returned 1, two ballots entered into it (the second held out).
        _ = try await send(
            Self.chainV1([
                .boxClosed(.init(session: "S1", box: "B1", issued: 1, returned: 1)),
                Fixtures.validBallot(["D01": "satisfied", "D02": "satisfied"]),
                Fixtures.validBallot(["D01": "dissatisfied", "D02": "satisfied"]),
            ]),
            by: signer, to: intake)
        #expect(try database.heldOutRecords().map(\.rule) == ["ballots_over_returned"])
        let refused = try #require(throws: AggregatorError.self) {
            try database.decideHeldOut(venue: "east", seq: 3, count: true, reason: "looked fine", by: "王芳")
        }
        #expect(
            refused.description == "record 3 of venue east cannot count: box B1 of session S1 returned 1 form(s) "
                + "(record 1) and already holds 1 ballot(s): one more would make 2; decide --exclude instead")
        #expect(try database.heldOutRecords().first?.decision == nil, "a refused decision is not recorded")
        try database.decideHeldOut(venue: "east", seq: 3, count: false, reason: "one ballot too many", by: "王芳")
        #expect(try database.totals(eventID: "test-2026").tallies.map(\.count) == [1, 1])
    }

    @Test func aHandoverCarriesCorrectionsOfAcknowledgedRecordsOnceAndSkipsWhatTheCurrentNodeHolds() throws {
        let node = try NodeDatabase(writer: DatabaseQueue())
        let ballot = Fixtures.validBallot(["D01": "satisfied", "D02": "satisfied"])
        try node.append(
            [
                .boxClosed(.init(session: "S1", box: "B1", issued: 3, returned: 3)), ballot, ballot,
                .checkin(.init(session: "S1", rep: "R1", category: "resident")),
            ], event: event)
        // Acknowledged through 4; then, unsent: ballot 2 corrected twice, ballot 3 voided, a new check-in corrected.
        let current = try NodeDatabase(writer: DatabaseQueue())
        try current.restore(try node.allRecords())
        try node.append(
            [
                .correction(
                    .init(
                        target: 2, reason: "misread", operator: "王芳",
                        replacement: Fixtures.validBallot(["D01": "dissatisfied", "D02": "satisfied"]))),
                .correction(
                    .init(
                        target: 5, reason: "misread again", operator: "李四",
                        replacement: Fixtures.validBallot(["D01": "basically_satisfied", "D02": "satisfied"]))),
                .correction(.init(target: 3, reason: "spoiled in fact", operator: "王芳", replacement: nil)),
                .checkin(.init(session: "S1", rep: "R2", category: "resident")),
                .correction(
                    .init(
                        target: 8, reason: "category", operator: "王芳",
                        replacement: .checkin(.init(session: "S1", rep: "R2", category: "expert")))),
            ], event: event)
        let handover = try node.handover(afterSeq: 4)
        #expect(handover.ballots.isEmpty, "no replacement is handed over as a new ballot")
        #expect(handover.checkins.map(\.category) == ["expert"], "the new check-in, as finally corrected")
        #expect(handover.corrections.map(\.target) == [2, 3])
        #expect(
            handover.corrections.map(\.replacement) == [
                Fixtures.validBallot(["D01": "basically_satisfied", "D02": "satisfied"]), nil,
            ])
        #expect(handover.corrections.map(\.reason) == ["misread again", "spoiled in fact"])
        #expect(try current.firstHeld(of: handover.records) == nil)
        // Had the aggregator accepted records 5… though the retired node never heard so, the check says so.
        let accepted = try NodeDatabase(writer: DatabaseQueue())
        try accepted.restore(Array(try node.allRecords().prefix(6)))
        #expect(try accepted.firstHeld(of: handover.records)?.seq == 5)
    }

    @Test func anImportWhoseRowsDoNotFitTheEventNamesTheRowInsteadOfCrashing() throws {
        let node = try NodeDatabase(writer: DatabaseQueue())
        let rows = [
            Fixtures.validBallot(["D01": "satisfied", "D02": "satisfied"]),
            .ballot(.init(session: "S7", box: "B1", status: .blank)),
        ]
        let error = try #require(throws: AppendError.self) {
            try node.importRows(rows, form: "ballots", file: "scan.csv", bytesDigest: "x", again: false, event: event)
        }
        #expect(error.index == 1)
        #expect(error.rejection.message == "unknown session \"S7\"; the event's sessions are: S1, S2")
        let named = try #require(throws: AppendError.self) {
            try node.importRows(
                [rows[0]], form: "ballots", file: "scan-150602197005050016.csv", bytesDigest: "y",
                again: false, event: event)
        }
        #expect(named.index == -1, "the file itself: no row to blame")
    }
}
