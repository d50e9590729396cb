import Foundation
import GRDB
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Shared
import Testing

@testable import VenueNode

/// `/vote` over HTTP (issue #16): the page and its script with the desk's headers, the two calls and their exact
/// refusals, wrong codes slowed down, no desk session or CSRF token needed; and the desk closing a phone box from the
/// unused slips.
@Suite struct VoteServerTests {
    let database: NodeDatabase
    let event = try! EventDefinition.load(data: Data(Fixtures.smallEventJSON.utf8))
    static let json: HTTPFields = [.contentType: "application/json"]

    init() throws {
        database = try NodeDatabase(writer: DatabaseQueue())
    }

    func app(throttle: SignInThrottle = DeskServer.voteThrottle()) -> some ApplicationProtocol {
        Application(
            router: DeskServer.router(
                database: database, venue: DeskVenue(event: event, venue: "east"), voteThrottle: throttle))
    }

    static func object(_ response: TestResponse) -> [String: Any] {
        (try? JSONSerialization.jsonObject(with: Data(response.body.readableBytesView)) as? [String: Any]) ?? [:]
    }

    static func errorCode(_ response: TestResponse) -> String? {
        (object(response)["error"] as? [String: Any])?["code"] as? String
    }

    static func castBody(
        _ code: String, marks: [String: String], submission: String = "sub-0000001", box: String = "E1"
    )
        -> ByteBuffer
    {
        let body: [String: Any] = ["code": code, "session": "S1", "box": box, "marks": marks, "submission": submission]
        return ByteBuffer(bytes: try! JSONSerialization.data(withJSONObject: body))
    }

    @Test func aPhoneOpensItsBallotAndCastsItOnce() async throws {
        let sheet = try database.printCodes(
            session: "S1", box: "E1", count: 3, url: "http://127.0.0.1:8080", event: event.definition)
        try database.append([.boxOpened(.init(session: "S1", box: "E1"))], event: event.definition)
        try await app().test(.router) { client in
            let page = try await client.execute(uri: "/vote", method: .get)
            #expect(page.status == .ok)
            #expect(page.headers[HTTPField.Name("Content-Security-Policy")!]?.contains("script-src 'self'") == true)
            #expect(String(buffer: page.body).contains(#"<script src="/vote/app.js" defer></script>"#))
            let script = try await client.execute(uri: "/vote/app.js", method: .get)
            #expect(script.headers[.contentType] == "text/javascript; charset=utf-8")

            let opened = try await client.execute(
                uri: "/vote/api/open", method: .post, headers: Self.json,
                body: ByteBuffer(string: #"{"code": "\#(sheet.codes[0])"}"#))
            #expect(opened.status == .ok)
            let ballot = Self.object(opened)
            #expect(ballot["session"] as? String == "S1")
            #expect(ballot["box"] as? String == "E1")
            #expect((ballot["departments"] as? [[String: Any]])?.compactMap { $0["id"] as? String } == ["D01", "D02"])
            #expect((ballot["marks"] as? [[String: Any]])?.count == 3)

            let marks = ["D01": "satisfied", "D02": "basically_satisfied"]
            let cast = try await client.execute(
                uri: "/vote/api/cast", method: .post, headers: Self.json,
                body: Self.castBody(sheet.codes[0], marks: marks))
            #expect(cast.status == .ok)
            let receipt = try #require(Self.object(cast)["receipt"] as? String)
            // Sent again by the same page: refused, with its receipt; nothing more is sealed.
            let again = try await client.execute(
                uri: "/vote/api/cast", method: .post, headers: Self.json,
                body: Self.castBody(sheet.codes[0], marks: marks))
            #expect(again.status == .conflict)
            #expect(Self.errorCode(again) == "code_used")
            #expect(Self.object(again)["receipt"] as? String == receipt)

            for (body, status, code) in [
                (
                    Self.castBody(sheet.codes[1], marks: ["D01": "satisfied"]), HTTPResponse.Status.badRequest,
                    "marks_missing"
                ),
                (
                    Self.castBody(sheet.codes[1], marks: ["D01": "satisfied", "D02": "great"]), .badRequest,
                    "unknown_mark"
                ),
                (Self.castBody(sheet.codes[1], marks: marks, box: "E2"), .conflict, "other_box"),
                (Self.castBody("ABCD-EFGH-JKMN-PQRS", marks: marks), .notFound, "code_unknown"),
                (Self.castBody("12345", marks: marks), .badRequest, "code_malformed"),
                (ByteBuffer(string: "not json"), .badRequest, "bad_request"),
                (Self.castBody(sheet.codes[1], marks: marks, submission: "x"), .badRequest, "bad_request"),
            ] {
                let refused = try await client.execute(
                    uri: "/vote/api/cast", method: .post, headers: Self.json, body: body)
                #expect(refused.status == status)
                #expect(Self.errorCode(refused) == code)
            }
            #expect(try database.phoneBox(session: "S1", box: "E1")?.cast == 1)
        }
    }

    @Test func theBallotBoxOnAListenerOfItsOwnServesNoDesk() async throws {
        let app = Application(
            router: DeskServer.voteRouter(database: database, venue: DeskVenue(event: event, venue: "east")))
        try await app.test(.router) { client in
            #expect(try await client.execute(uri: "/vote", method: .get).status == .ok)
            let wrong = try await client.execute(
                uri: "/vote/api/open", method: .post, headers: Self.json,
                body: ByteBuffer(string: #"{"code": "ABCD-EFGH-JKMN-PQRS"}"#))
            #expect(Self.errorCode(wrong) == "code_unknown")
            for path in ["/desk", "/desk/app.js", "/desk/api/me"] {
                let desk = try await client.execute(uri: path, method: .get)
                #expect(desk.status == .notFound)
                #expect(Self.errorCode(desk) == "not_found")
            }
        }
    }

    @Test func wrongCodesFromOnePhoneAreSlowedDown() async throws {
        let throttle = SignInThrottle(maxFailures: 3, window: 300)
        try await app(throttle: throttle).test(.router) { client in
            for _ in 0..<3 {
                let wrong = try await client.execute(
                    uri: "/vote/api/open", method: .post, headers: Self.json,
                    body: ByteBuffer(string: #"{"code": "ABCD-EFGH-JKMN-PQRS"}"#))
                #expect(Self.errorCode(wrong) == "code_unknown")
            }
            let slowed = try await client.execute(
                uri: "/vote/api/open", method: .post, headers: Self.json,
                body: ByteBuffer(string: #"{"code": "ABCD-EFGH-JKMN-PQRS"}"#))
            #expect(slowed.status == .tooManyRequests)
            #expect(Self.errorCode(slowed) == "rate_limited")
            #expect(slowed.headers[.retryAfter] != nil)
        }
    }

    @Test func theDeskClosesAPhoneBoxFromTheUnusedSlips() async throws {
        let sheet = try database.printCodes(
            session: "S1", box: "E1", count: 4, url: "http://127.0.0.1:8080", event: event.definition)
        try database.append([.boxOpened(.init(session: "S1", box: "E1"))], event: event.definition)
        for (index, code) in sheet.codes.prefix(2).enumerated() {
            _ = try database.cast(
                code: code, session: "S1", box: "E1", marks: ["D01": "satisfied", "D02": "satisfied"],
                submission: "page-\(index)-abcdef", event: event.definition)
        }
        let code = try database.addClerk(name: "王芳", role: .count).code.code
        try await app().test(.router) { client in
            let signIn = try await client.execute(
                uri: "/desk/api/sign-in", method: .post, headers: Self.json,
                body: ByteBuffer(string: #"{"code": "\#(code)"}"#))
            let cookie = try #require(signIn.headers[.setCookie]?.split(separator: ";").first.map(String.init))
            let csrf = try #require(Self.object(signIn)["csrf_token"] as? String)
            let headers: HTTPFields = [
                .cookie: cookie, HTTPField.Name("X-CSRF-Token")!: csrf, .contentType: "application/json",
            ]
            let overview = try await client.execute(uri: "/desk/api/overview", method: .get, headers: headers)
            let boxes = try #require(Self.object(overview)["boxes"] as? [[String: Any]])
            #expect(boxes.first?["printed"] as? Int == 4)
            #expect(boxes.first?["cast"] as? Int == 2)

            let tooMany = try await client.execute(
                uri: "/desk/api/boxes/close", method: .post, headers: headers,
                body: ByteBuffer(string: #"{"session": "S1", "box": "E1", "unused": 5}"#))
            #expect(Self.errorCode(tooMany) == "bad_request")
            // 4 printed, 1 counted back: 3 issued, 2 cast — the clerk is asked to confirm.
            let warned = try await client.execute(
                uri: "/desk/api/boxes/close", method: .post, headers: headers,
                body: ByteBuffer(string: #"{"session": "S1", "box": "E1", "unused": 1}"#))
            #expect(Self.errorCode(warned) == "needs_confirmation")
            #expect(
                (Self.object(warned)["warnings"] as? [String])?.first == "issued_vs_returned:3 issued, 2 returned")
            let closed = try await client.execute(
                uri: "/desk/api/boxes/close", method: .post, headers: headers,
                body: ByteBuffer(string: #"{"session": "S1", "box": "E1", "unused": 1, "confirm": true}"#))
            #expect(closed.status == .ok)
            #expect(Self.object(closed)["ballots"] as? Int == 2)
            let box = try #require(try database.boxes(session: "S1").first)
            #expect(box.issued == 3)
            #expect(box.returned == 2)
            #expect(box.ballots == 2)
        }
    }
}
