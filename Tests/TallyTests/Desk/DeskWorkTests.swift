import Crypto
import Foundation
import GRDB
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Shared
import Testing

@testable import VenueNode

/// The venue's work through the desk's API (issue #14): check-in with its reasons, boxes with their warnings, paper
/// ballots keyed twice and decided by the lead, uploads and corrections, each record naming its clerk; every refusal
/// with its code, changing nothing.
@Suite struct DeskWorkTests {
    let database: NodeDatabase
    let event: LoadedEvent

    init() throws { try self.init(eventJSON: Fixtures.smallEventJSON) }

    init(eventJSON: String) throws {
        event = try EventDefinition.load(data: Data(eventJSON.utf8))
        database = try NodeDatabase(writer: DatabaseQueue())
        let roster =
            (1...5).map { number in
                RosterEntry(
                    repID: "R\(number)", name: "代表\(number)", personKey: Self.personKey("R\(number)"),
                    category: "resident",
                    venue: "east", sessions: ["S1", "S2"], cardCode: "C00\(number)")
            } + [
                RosterEntry(
                    repID: "R9", name: "主会场代表", personKey: Self.personKey("R9"), category: "expert", venue: "main",
                    sessions: ["S1"], cardCode: "C009")
            ]
        try database.importRoster(roster, file: "roster.csv", digest: "test")
    }

    static func personKey(_ seed: String) -> String { SHA256.hash(data: Data(seed.utf8)).hexString }

    func app() -> some ApplicationProtocol {
        Application(router: DeskServer.router(database: database, venue: DeskVenue(event: event, venue: "east")))
    }

    /// A signed-in clerk's cookie and CSRF token, as the page holds them.
    struct Desk {
        var cookie: String
        var csrf: String
        var headers: HTTPFields {
            [.cookie: cookie, HTTPField.Name("X-CSRF-Token")!: csrf, .contentType: "application/json"]
        }
    }

    func signIn(_ client: some TestClientProtocol, _ name: String, _ role: ClerkRole) async throws -> Desk {
        let code = try database.addClerk(name: name, role: role).code.code
        let response = try await client.execute(
            uri: "/desk/api/sign-in", method: .post, headers: [.contentType: "application/json"],
            body: ByteBuffer(string: #"{"code": "\#(code)"}"#))
        let cookie = try #require(response.headers[.setCookie]?.split(separator: ";").first.map(String.init))
        let csrf = try #require(
            (try JSONSerialization.jsonObject(with: Data(response.body.readableBytesView)) as? [String: Any])?[
                "csrf_token"] as? String)
        return Desk(cookie: cookie, csrf: csrf)
    }

    func post(
        _ client: some TestClientProtocol, _ desk: Desk, _ uri: String, _ json: String
    ) async throws -> (status: HTTPResponse.Status, body: [String: Any]) {
        let response = try await client.execute(
            uri: uri, method: .post, headers: desk.headers, body: ByteBuffer(string: json))
        return (
            response.status,
            (try? JSONSerialization.jsonObject(with: Data(response.body.readableBytesView)) as? [String: Any]) ?? [:]
        )
    }

    static func code(_ body: [String: Any]) -> String? { (body["error"] as? [String: Any])?["code"] as? String }

    func payloads() throws -> [RecordPayload] {
        try database.allRecords().map { try RecordPayload.decode(json: $0.payload) }
    }

    @Test func aCheckInIsAdmittedOnceWithItsClerkAndEveryRefusalSaysWhy() async throws {
        try await app().test(.router) { client in
            let desk = try await signIn(client, "王芳", .desk)
            let admitted = try await post(client, desk, "/desk/api/checkin", #"{"session": "S1", "scanned": "C001"}"#)
            #expect(admitted.status == .ok)
            #expect(admitted.body["admitted"] as? Bool == true)
            #expect(admitted.body["rep"] as? String == "R1")
            #expect(admitted.body["name"] as? String == "代表1")
            #expect(admitted.body["checked_in"] as? Int == 1)
            #expect(admitted.body["quota"] as? Int == 4)

            let refusals: [(String, String)] = [
                (#"{"session": "S1", "scanned": "C001"}"#, "already_checked_in"),
                (#"{"session": "S1", "scanned": "R1"}"#, "already_checked_in"),
                (#"{"session": "S1", "scanned": "NOBODY"}"#, "not_on_roster"),
                (#"{"session": "S1", "scanned": "C009"}"#, "other_venue"),
            ]
            for (json, code) in refusals {
                let refused = try await post(client, desk, "/desk/api/checkin", json)
                #expect(refused.status == .conflict, "\(json)")
                #expect(refused.body["admitted"] as? Bool == false)
                #expect(Self.code(refused.body) == code, "\(json)")
                #expect(refused.body["checked_in"] as? Int == 1)
            }
            // Already checked in: when and by whom.
            let again = try await post(client, desk, "/desk/api/checkin", #"{"session": "S1", "scanned": "R1"}"#)
            let earlier = try #require(again.body["earlier"] as? [String: Any])
            #expect(earlier["clerk"] as? String == "王芳#1")
            #expect(earlier["seq"] as? Int == 1)
            let unknown = try await post(client, desk, "/desk/api/checkin", #"{"session": "S9", "scanned": "R2"}"#)
            #expect(unknown.status == .badRequest)
            #expect(Self.code(unknown.body) == "unknown_session")
        }
        // One record, naming its clerk.
        let records = try payloads()
        #expect(records.count == 1)
        guard case .checkin(let checkin)? = records.first else { return }
        #expect(checkin.rep == "R1" && checkin.person == Self.personKey("R1") && checkin.clerk == "王芳#1")
        #expect(try database.attendance() == ["S1": ["resident": 1]])
    }

    @Test func twoDesksCheckingInTheSamePersonAtOnceAdmitThemOnce() async throws {
        try await app().test(.router) { client in
            let first = try await signIn(client, "王芳", .desk)
            let second = try await signIn(client, "李强", .desk)
            let statuses = try await withThrowingTaskGroup(of: HTTPResponse.Status.self) { group in
                for round in 0..<10 {
                    let desk = round.isMultiple(of: 2) ? first : second
                    let scanned = round.isMultiple(of: 2) ? "C002" : "R2"
                    group.addTask {
                        try await post(
                            client, desk, "/desk/api/checkin", #"{"session": "S2", "scanned": "\#(scanned)"}"#
                        )
                        .status
                    }
                }
                return try await group.reduce(into: []) { $0.append($1) }
            }
            #expect(statuses.filter { $0 == .ok }.count == 1)
            #expect(statuses.filter { $0 == .conflict }.count == 9)
        }
        #expect(try database.attendance() == ["S2": ["resident": 1]])
        #expect(try database.allRecords().count == 1)
    }

    @Test func twoDesksGiveTheLastOpenPlaceToOneReserveOnly() async throws {
        // East's quota: 4 residents. The roster: 3 representatives and 4 reserves (issue #18).
        let roster =
            (1...3).map {
                RosterEntry(
                    repID: "R\($0)", name: "代表\($0)", personKey: Self.personKey("R\($0)"), category: "resident",
                    venue: "east", sessions: ["S1"], cardCode: nil)
            }
            + (1...4).map {
                RosterEntry(
                    repID: "X\($0)", name: "备选\($0)", personKey: Self.personKey("X\($0)"), category: "resident",
                    venue: "east", sessions: ["S1"], cardCode: nil, reserve: true)
            }
        try database.importRoster(roster, file: "roster-with-reserves.csv", digest: "test2")
        try await app().test(.router) { client in
            let first = try await signIn(client, "王芳", .desk)
            let second = try await signIn(client, "李强", .desk)
            for rep in ["R1", "R2"] {
                #expect(
                    try await post(client, first, "/desk/api/checkin", #"{"session": "S1", "scanned": "\#(rep)"}"#)
                        .status == .ok)
            }
            // Two places open (R3 absent so far, and the fourth): the first reserve is admitted, said so.
            let reserve = try await post(client, first, "/desk/api/checkin", #"{"session": "S1", "scanned": "X1"}"#)
            #expect(reserve.status == .ok)
            #expect(reserve.body["reserve"] as? Bool == true)
            #expect(reserve.body["checked_in"] as? Int == 3)
            // One place left: three reserves at two desks at once, one admitted.
            let answers = try await withThrowingTaskGroup(of: (HTTPResponse.Status, String?).self) { group in
                for (index, rep) in ["X2", "X3", "X4"].enumerated() {
                    let desk = index.isMultiple(of: 2) ? first : second
                    group.addTask {
                        let answer = try await post(
                            client, desk, "/desk/api/checkin", #"{"session": "S1", "scanned": "\#(rep)"}"#)
                        return (answer.status, Self.code(answer.body))
                    }
                }
                return try await group.reduce(into: []) { $0.append($1) }
            }
            #expect(answers.filter { $0.0 == .ok }.count == 1)
            #expect(answers.filter { $0.0 == .conflict && $0.1 == "no_open_place" }.count == 2)
            // A representative is never held back by reserves: R3 arrives late and is admitted above the quota.
            #expect(
                try await post(client, second, "/desk/api/checkin", #"{"session": "S1", "scanned": "R3"}"#).status
                    == .ok)
        }
        #expect(try database.attendance() == ["S1": ["resident": 5]])
    }

    @Test func theDeskShowsHowFarTheStandbyHasCopied() async throws {
        let standbyKey = Curve25519.Signing.PrivateKey().publicKey.rawRepresentation.base64EncodedString()
        let standby = try database.allowStandby(publicKey: standbyKey)
        try await app().test(.router) { client in
            let desk = try await signIn(client, "王芳", .desk)
            for rep in ["R1", "R2", "R3"] {
                _ = try await post(client, desk, "/desk/api/checkin", #"{"session": "S1", "scanned": "\#(rep)"}"#)
            }
            func standbys() async throws -> [[String: Any]] {
                let response = try await client.execute(uri: "/desk/api/overview", method: .get, headers: desk.headers)
                let body =
                    try JSONSerialization.jsonObject(with: Data(response.body.readableBytesView)) as? [String: Any]
                return body?["standbys"] as? [[String: Any]] ?? []
            }
            // Allowed, not connected yet; then it asks after record 1 of 3: 2 behind.
            var shown = try await standbys()
            #expect(shown.count == 1)
            #expect(shown.first?["node"] as? String == String(standby.prefix(8)))
            #expect(shown.first?["held_seq"] == nil)
            try database.noteStandby(standby, heldSeq: 1, heldHash: try #require(try database.hash(at: 1)))
            shown = try await standbys()
            #expect(shown.first?["held_seq"] as? Int == 1)
            #expect(shown.first?["behind"] as? Int == 2)
        }
    }

    @Test func aBoxIsClosedWithWarningsConfirmedAndOnlyByCountingClerks() async throws {
        try await app().test(.router) { client in
            let desk = try await signIn(client, "王芳", .desk)
            let count = try await signIn(client, "李强", .count)
            for scanned in ["R1", "R2", "R3"] {
                _ = try await post(client, desk, "/desk/api/checkin", #"{"session": "S1", "scanned": "\#(scanned)"}"#)
            }
            let byDesk = try await post(client, desk, "/desk/api/boxes/open", #"{"session": "S1", "box": "B1"}"#)
            #expect(byDesk.status == .forbidden)
            #expect(Self.code(byDesk.body) == "role")
            let opened = try await post(client, count, "/desk/api/boxes/open", #"{"session": "S1", "box": "B1"}"#)
            #expect(opened.status == .ok)
            let twice = try await post(client, count, "/desk/api/boxes/open", #"{"session": "S1", "box": "B1"}"#)
            #expect(twice.status == .conflict)
            #expect(Self.code(twice.body) == "box_opened_twice")

            // 3 checked in, 3 issued, 2 returned: the clerk is warned, and nothing is saved until confirmed.
            let close = #"{"session": "S1", "box": "B1", "issued": 3, "returned": 2}"#
            let warned = try await post(client, count, "/desk/api/boxes/close", close)
            #expect(warned.status == .conflict)
            #expect(Self.code(warned.body) == "needs_confirmation")
            #expect(
                warned.body["warnings"] as? [String] == [
                    "issued_vs_returned:3 issued, 2 returned",
                    "returned_vs_checked_in:2 returned into the session's boxes, 3 checked in",
                ])
            #expect(try database.allRecords().count == 4)
            let confirmed = try await post(
                client, count, "/desk/api/boxes/close",
                #"{"session": "S1", "box": "B1", "issued": 3, "returned": 2, "confirm": true}"#)
            #expect(confirmed.status == .ok)
            // Counts that agree need no confirmation.
            _ = try await post(client, count, "/desk/api/boxes/open", #"{"session": "S2", "box": "B1"}"#)
            let clean = try await post(
                client, count, "/desk/api/boxes/close", #"{"session": "S2", "box": "B1", "issued": 0, "returned": 0}"#)
            #expect(clean.status == .ok)
        }
        let boxes = try database.boxes(session: "S1")
        #expect(boxes.count == 1)
        #expect(boxes[0].openedBy == "李强#2")
        #expect(boxes[0].closedBy == "李强#2")
        #expect(boxes[0].issued == 3 && boxes[0].returned == 2)
        #expect(boxes[0].closedHash == (try database.allRecords()[4].hash))
    }

    /// Keys `paper` as `marks` (D01, D02 for session S1) by `desk`.
    func key(
        _ client: some TestClientProtocol, _ desk: Desk, paper: Int, _ marks: [String], resolve: Bool = false,
        status: String = "valid"
    ) async throws -> (status: HTTPResponse.Status, body: [String: Any]) {
        let markJSON = zip(["D01", "D02"], marks).map { #""\#($0)": "\#($1)""# }.joined(separator: ", ")
        return try await post(
            client, desk, resolve ? "/desk/api/keying/resolve" : "/desk/api/keying",
            #"{"session": "S1", "box": "B1", "paper": \#(paper), "status": "\#(status)", "marks": {\#(markJSON)}}"#)
    }

    @Test func papersKeyedTwiceBecomeBallotsAndTheLeadDecidesDifferences() async throws {
        try await app().test(.router) { client in
            let lead = try await signIn(client, "张伟", .lead)
            let first = try await signIn(client, "王芳", .count)
            let second = try await signIn(client, "李强", .count)
            let notClosed = try await key(client, first, paper: 1, ["satisfied", "satisfied"])
            #expect(notClosed.status == .conflict)
            #expect(Self.code(notClosed.body) == "box_not_closed")
            _ = try await post(client, lead, "/desk/api/boxes/open", #"{"session": "S1", "box": "B1"}"#)
            _ = try await post(
                client, lead, "/desk/api/boxes/close",
                #"{"session": "S1", "box": "B1", "issued": 3, "returned": 3, "confirm": true}"#)
            let progress = try await client.execute(
                uri: "/desk/api/keying?session=S1&box=B1", method: .get, headers: [.cookie: first.cookie])
            let progressBody = String(buffer: progress.body)
            #expect(
                progressBody
                    == #"{"agreed":0,"box":"B1","disputes":[],"keyed":0,"keyed_by_you":0,"next_paper":1,"returned":3,"session":"S1","voided":[]}"#
            )

            #expect(
                try await key(client, first, paper: 1, ["satisfied", "dissatisfied"]).body["outcome"] as? String
                    == "first_pass")
            let agreed = try await key(client, second, paper: 1, ["satisfied", "dissatisfied"])
            #expect(agreed.body["outcome"] as? String == "agreed")
            #expect(agreed.body["ballot_seq"] as? Int == 3)
            #expect(
                try await key(client, first, paper: 2, ["satisfied", "satisfied"]).body["outcome"] as? String
                    == "first_pass")
            let mine = try await key(client, first, paper: 2, ["satisfied", "satisfied"])
            #expect(mine.status == .conflict)
            #expect(Self.code(mine.body) == "already_keyed")
            let differs = try await key(client, second, paper: 2, ["satisfied", "basically_satisfied"])
            #expect(differs.body["outcome"] as? String == "mismatch")

            // Refusals that change nothing.
            let missing = try await post(
                client, first, "/desk/api/keying",
                #"{"session": "S1", "box": "B1", "paper": 3, "status": "valid", "marks": {"D01": "satisfied"}}"#)
            #expect(missing.status == .badRequest)
            #expect(Self.code(missing.body) == "bad_paper")
            let beyond = try await key(client, first, paper: 4, ["satisfied", "satisfied"])
            #expect(Self.code(beyond.body) == "paper_out_of_range")
            let done = try await key(client, lead, paper: 1, ["satisfied", "satisfied"])
            #expect(Self.code(done.body) == "paper_done")
            let byCounter = try await key(client, first, paper: 2, ["satisfied", "satisfied"], resolve: true)
            #expect(byCounter.status == .forbidden)
            #expect(Self.code(byCounter.body) == "not_lead")
            let third = try await key(client, lead, paper: 2, ["satisfied", "satisfied"])
            #expect(Self.code(third.body) == "paper_disputed")
            let stale = try await client.execute(
                uri: "/desk/api/keying/resolve", method: .post,
                headers: [
                    .cookie: lead.cookie, HTTPField.Name("X-CSRF-Token")!: "stale", .contentType: "application/json",
                ],
                body: ByteBuffer(string: #"{"session": "S1", "box": "B1", "paper": 2, "status": "blank"}"#))
            #expect(stale.status == .forbidden)
            #expect(try database.allRecords().count == 3)

            let resolved = try await key(client, lead, paper: 2, ["satisfied", "satisfied"], resolve: true)
            #expect(resolved.body["outcome"] as? String == "resolved")
            let nothingToDecide = try await key(client, lead, paper: 3, [], resolve: true, status: "blank")
            #expect(Self.code(nothingToDecide.body) == "not_disputed")
        }
        let ballots = try payloads().compactMap { payload -> RecordPayload.Ballot? in
            if case .ballot(let ballot) = payload { return ballot } else { return nil }
        }
        #expect(
            ballots == [
                .init(
                    session: "S1", box: "B1", status: .valid, marks: ["D01": "satisfied", "D02": "dissatisfied"],
                    paper: 1, keyers: ["王芳#2", "李强#3"]),
                .init(
                    session: "S1", box: "B1", status: .valid, marks: ["D01": "satisfied", "D02": "satisfied"],
                    paper: 2, keyers: ["王芳#2", "李强#3"], lead: "张伟#1"),
            ])
        let progress = try database.keyingProgress(session: "S1", box: "B1", clerkID: 2)
        #expect(progress.returned == 3 && progress.agreed == 2 && progress.keyed == 2 && progress.disputes.isEmpty)
        #expect(progress.nextPaper == 3)
    }

    /// Uploads `csv` as `form` with `desk`'s session.
    func upload(
        _ client: some TestClientProtocol, _ desk: Desk, _ csv: String, form: String, query: String = ""
    ) async throws -> (status: HTTPResponse.Status, code: String?) {
        let response = try await client.execute(
            uri: "/desk/api/import?form=\(form)&file=f.csv\(query)", method: .post,
            headers: [.cookie: desk.cookie, HTTPField.Name("X-CSRF-Token")!: desk.csrf], body: ByteBuffer(string: csv))
        let body =
            (try? JSONSerialization.jsonObject(with: Data(response.body.readableBytesView)) as? [String: Any]) ?? [:]
        return (response.status, Self.code(body))
    }

    @Test func papersStayWithinTheBoxAndABoxIsKeyedOrImportedNeverBoth() async throws {
        try await app().test(.router) { client in
            let lead = try await signIn(client, "张伟", .lead)
            let first = try await signIn(client, "王芳", .count)
            let second = try await signIn(client, "李强", .count)
            for box in ["B1", "B2"] {
                _ = try await post(client, lead, "/desk/api/boxes/open", #"{"session": "S1", "box": "\#(box)"}"#)
                _ = try await post(
                    client, lead, "/desk/api/boxes/close",
                    #"{"session": "S1", "box": "\#(box)", "issued": 3, "returned": 3, "confirm": true}"#)
            }
            // B1 is keyed: papers 1 and 3 agreed (records 5 and 6).
            for paper in [1, 3] {
                for clerk in [first, second] {
                    _ = try await key(client, clerk, paper: paper, ["satisfied", "satisfied"])
                }
            }
            // Its closing record (2) cannot be corrected to fewer papers than the highest keyed.
            let lower = try await post(
                client, lead, "/desk/api/corrections",
                #"{"target": 2, "reason": "miscounted", "issued": 2, "returned": 2}"#)
            #expect(lower.status == .badRequest)
            let message = (lower.body["error"] as? [String: Any])?["message"] as? String
            #expect(message == "box B1 of session S1 has papers keyed up to number 3: it cannot have returned 2")
            // Ballots are not uploaded into a keyed box, nor by a counting clerk, nor twice with ?again=1.
            let rows = "session,box,status\nS1,B1,blank\n"
            let byCounter = try await upload(client, first, rows, form: "ballots")
            #expect(byCounter.status == .forbidden && byCounter.code == "role")
            let intoKeyed = try await upload(client, lead, rows, form: "ballots")
            #expect(intoKeyed.status == .conflict && intoKeyed.code == "box_is_keyed")
            let b2 = "session,box,status\nS1,B2,blank\n"
            #expect(try await upload(client, lead, b2, form: "ballots").status == .ok)
            let twice = try await upload(client, lead, b2, form: "ballots", query: "&again=1")
            #expect(twice.status == .conflict && twice.code == "already_imported")
            // B2 holds an imported ballot: it is not keyed.
            let mixed = try await post(
                client, first, "/desk/api/keying",
                #"{"session": "S1", "box": "B2", "paper": 1, "status": "blank", "marks": {}}"#)
            #expect(mixed.status == .conflict)
            #expect(Self.code(mixed.body) == "box_has_imported_ballots")

            // A keyed ballot voided by the lead no longer counts as agreed, and its paper is not keyed again.
            let voided = try await post(
                client, lead, "/desk/api/corrections", #"{"target": 5, "reason": "torn paper"}"#)
            #expect(voided.status == .ok)
            let again = try await key(client, lead, paper: 1, ["satisfied", "satisfied"])
            #expect(Self.code(again.body) == "paper_voided")
        }
        let progress = try database.keyingProgress(session: "S1", box: "B1", clerkID: 1)
        #expect(progress.agreed == 1 && progress.voided == [1] && progress.nextPaper == 2)
        #expect(try database.boxes(session: "S1").map(\.ballots) == [1, 1])
        #expect(CSVImport.recordedName("/tmp/a\nb\u{202E}c.csv") == "abc.csv")
        #expect(CSVImport.recordedName(String(repeating: "名", count: 300)).count == 120)
        #expect(CSVImport.recordedName("\u{202E}") == "import.csv")
    }

    @Test func aRestoredNodeNeverMakesASecondBallotOfAPaperAlreadyCounted() throws {
        let first = try database.addClerk(name: "王芳", role: .count).clerk
        let second = try database.addClerk(name: "李强", role: .count).clerk
        try database.append(
            [
                .boxOpened(.init(session: "S1", box: "B1")),
                .boxClosed(.init(session: "S1", box: "B1", issued: 3, returned: 3)),
            ], event: event.definition)
        let reading = PaperReading(status: .valid, marks: ["D01": "satisfied", "D02": "satisfied"])
        for clerk in [first, second] {
            _ = try database.keyPaper(
                clerk: clerk, session: "S1", box: "B1", paper: 1, reading: reading, event: event.definition)
        }
        // The node is lost and restored from the aggregator's copy of its chain: the paper stays counted.
        let restored = try NodeDatabase(writer: DatabaseQueue())
        try restored.restore(try database.allRecords())
        let clerks = try ["赵敏", "孙丽"].map { try restored.addClerk(name: $0, role: .count).clerk }
        for clerk in clerks {
            #expect(throws: DeskRefusal(.conflict, "paper_done", "paper 1 is a ballot already (record 3)")) {
                try restored.keyPaper(
                    clerk: clerk, session: "S1", box: "B1", paper: 1, reading: reading, event: event.definition)
            }
        }
        #expect(try restored.keyingProgress(session: "S1", box: "B1", clerkID: clerks[0].id).nextPaper == 2)
    }

    @Test func onlyTheLeadCorrectsWithAReasonAndUploadsNameTheirClerk() async throws {
        try await app().test(.router) { client in
            let lead = try await signIn(client, "张伟", .lead)
            let desk = try await signIn(client, "王芳", .desk)
            _ = try await post(client, desk, "/desk/api/checkin", #"{"session": "S1", "scanned": "R1"}"#)
            let byDesk = try await post(client, desk, "/desk/api/corrections", #"{"target": 1, "reason": "twice"}"#)
            #expect(byDesk.status == .forbidden)
            #expect(Self.code(byDesk.body) == "not_lead")
            let noReason = try await post(client, lead, "/desk/api/corrections", #"{"target": 1, "reason": "  "}"#)
            #expect(noReason.status == .badRequest)
            #expect(Self.code(noReason.body) == "reason_required")
            let noTarget = try await post(client, lead, "/desk/api/corrections", #"{"target": 9, "reason": "x"}"#)
            #expect(noTarget.status == .conflict)
            #expect(Self.code(noTarget.body) == "bad_correction")
            let voided = try await post(
                client, lead, "/desk/api/corrections", #"{"target": 1, "reason": "wrong person"}"#)
            #expect(voided.status == .ok)

            let csv = "session,rep\nS1,R3\nS1,R4\n"
            let uploaded = try await client.execute(
                uri: "/desk/api/import?form=checkins&file=door.csv", method: .post,
                headers: [.cookie: desk.cookie, HTTPField.Name("X-CSRF-Token")!: desk.csrf],
                body: ByteBuffer(string: csv))
            #expect(uploaded.status == .ok)
            let again = try await client.execute(
                uri: "/desk/api/import?form=checkins&file=door.csv", method: .post,
                headers: [.cookie: desk.cookie, HTTPField.Name("X-CSRF-Token")!: desk.csrf],
                body: ByteBuffer(string: csv))
            #expect(again.status == .conflict)
            let ballotsByDesk = try await client.execute(
                uri: "/desk/api/import?form=ballots&file=b.csv", method: .post,
                headers: [.cookie: desk.cookie, HTTPField.Name("X-CSRF-Token")!: desk.csrf],
                body: ByteBuffer(string: "session,box,status\n"))
            #expect(ballotsByDesk.status == .forbidden)
            let badFile = try await client.execute(
                uri: "/desk/api/import?form=checkins&file=bad.csv", method: .post,
                headers: [.cookie: lead.cookie, HTTPField.Name("X-CSRF-Token")!: lead.csrf],
                body: ByteBuffer(string: "session,rep\nS1,NOBODY\n"))
            #expect(badFile.status == .badRequest)
        }
        let records = try payloads()
        #expect(records.count == 5)
        if case .correction(let correction) = records[1] {
            #expect(
                correction.operator == "张伟#1" && correction.reason == "wrong person" && correction.replacement == nil)
        } else {
            Issue.record("record 2 is not the correction")
        }
        if case .imported(let imported) = records[2] { #expect(imported.clerk == "王芳#2") }
        #expect(try database.attendance() == ["S1": ["resident": 2]])
    }

    @Test func theOtherFormsAreEnteredCountedAndCorrectedAtTheDesk() async throws {
        let desk = try DeskWorkTests(eventJSON: FormRecordTests.eventJSON)
        try await desk.app().test(.router) { client in
            let counter = try await desk.signIn(client, "李强", .count)
            let lead = try await desk.signIn(client, "张伟", .lead)
            let clerk = try await desk.signIn(client, "王芳", .desk)
            // A box of forms only: no ballot numbers, the forms counted
            let closed = try await desk.post(
                client, counter, "/desk/api/boxes/close", #"{"session": "S1", "box": "E1", "forms": {"survey": 1}}"#)
            #expect(closed.status == .ok)
            #expect(
                try await desk.post(
                    client, counter, "/desk/api/boxes/close",
                    #"{"session": "S1", "box": "E2", "forms": {"letter": 1}}"#
                ).status == .badRequest)
            // The suggestion was not counted: refused until the lead corrects the closing
            let suggestion =
                #"{"session": "S1", "box": "E1", "kind": "suggestion", "text": "路灯不亮，电话13812345678", "departments": ["D01"], "topic": "traffic", "contact": "13812345678", "consent": true}"#
            let early = try await desk.post(client, counter, "/desk/api/forms", suggestion)
            #expect(early.status == .conflict && Self.code(early.body) == "forms_over_returned")
            #expect(
                Self.code(
                    try await desk.post(
                        client, counter, "/desk/api/corrections",
                        #"{"target": 1, "reason": "漏点", "forms": {"suggestion": 1}}"#
                    ).body) == "not_lead")
            let corrected = try await desk.post(
                client, lead, "/desk/api/corrections",
                #"{"target": 1, "reason": "漏点意见建议表", "forms": {"suggestion": 1}}"#)
            #expect(corrected.status == .ok)
            // Bad input: each refused with its code, nothing written
            let refusals: [(String, Desk, HTTPResponse.Status, String)] = [
                (
                    #"{"session": "S1", "box": "E1", "kind": "suggestion", "text": "x", "contact": "13812345678"}"#,
                    counter, .badRequest, "no_consent"
                ),
                (#"{"session": "S1", "box": "E1", "kind": "letter"}"#, counter, .badRequest, "bad_request"),
                (
                    #"{"session": "S1", "box": "E1", "kind": "survey", "answers": {"safety": "good"}, "text": "x"}"#,
                    counter, .badRequest, "bad_request"
                ),
                (
                    #"{"session": "S1", "box": "E1", "kind": "survey", "answers": {"safety": "great"}}"#, counter,
                    .badRequest, "invalid"
                ),
                (
                    #"{"session": "S1", "box": "E1", "kind": "suggestion", "text": " "}"#, counter, .badRequest,
                    "invalid"
                ),
                (
                    #"{"session": "S9", "box": "E1", "kind": "survey", "answers": {}}"#, counter, .badRequest,
                    "unknown_session"
                ),
                (
                    #"{"session": "S1", "box": "E1", "kind": "survey", "answers": {"safety": "good"}}"#, clerk,
                    .forbidden, "role"
                ),
            ]
            for (body, who, status, code) in refusals {
                let answer = try await desk.post(client, who, "/desk/api/forms", body)
                #expect(answer.status == status && Self.code(answer.body) == code, "\(body): \(answer)")
            }
            #expect(try desk.payloads().count == 2)
            // Then the suggestion, masked, and the survey; one survey more is refused
            let saved = try await desk.post(client, counter, "/desk/api/forms", suggestion)
            #expect(saved.status == .ok && saved.body["masked"] as? Bool == true)
            let survey =
                #"{"session": "S1", "box": "E1", "kind": "survey", "answers": {"safety": "good", "service:D02": "fair"}}"#
            #expect(try await desk.post(client, counter, "/desk/api/forms", survey).status == .ok)
            let over = try await desk.post(client, counter, "/desk/api/forms", survey)
            #expect(over.status == .conflict && Self.code(over.body) == "forms_over_returned")
            let payloads = try desk.payloads()
            #expect(payloads.count == 4)
            guard case .correction(let correction) = payloads[1], case .boxClosed(let box)? = correction.replacement,
                case .form(let form) = payloads[2], case .form(let answers) = payloads[3]
            else {
                Issue.record("unexpected records \(payloads)")
                return
            }
            #expect(box.issued == 0 && box.returned == 0 && box.forms == ["survey": 1, "suggestion": 1])
            #expect(form.text == "路灯不亮，电话138******78" && form.contact == "13812345678" && form.clerk == "李强#1")
            #expect(answers.answers == ["safety": "good", "service:D02": "fair"])
        }
    }
}
