import Foundation
import GRDB
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Shared
import Testing

@testable import VenueNode

/// The desk's HTTP server (issue #14, second piece): the page, sign-in with a one-time code (cookie, throttle),
/// who is signed in, and sign-out behind the CSRF rule.
@Suite struct DeskServerTests {
    let database: NodeDatabase
    let throttle = SignInThrottle()

    init() throws {
        database = try NodeDatabase(writer: DatabaseQueue())
    }

    func app() -> some ApplicationProtocol {
        Application(
            router: DeskServer.router(
                database: database,
                venue: DeskVenue(
                    event: try! EventDefinition.load(data: Data(Fixtures.smallEventJSON.utf8)),
                    venue: "east"),
                throttle: throttle))
    }

    func codeFor(_ name: String, role: ClerkRole = .desk) throws -> String {
        try database.addClerk(name: name, role: role).code.code
    }

    static let csrfHeader = HTTPField.Name("X-CSRF-Token")!

    static func signInBody(_ code: String) -> ByteBuffer {
        ByteBuffer(string: #"{"code": "\#(code)"}"#)
    }

    static let jsonHeaders: HTTPFields = [.contentType: "application/json"]

    /// The error code of a JSON error body.
    static func errorCode(_ response: TestResponse) -> String? {
        let body = try? JSONDecoder().decode(APIErrorBody.self, from: Data(response.body.readableBytesView))
        return body?.error.code.rawValue
    }

    struct SessionBody: Decodable {
        struct ClerkBody: Decodable {
            var name: String
            var role: String
        }
        var clerk: ClerkBody
        var csrf_token: String
        var expires_at: String
    }

    static func session(_ response: TestResponse) -> SessionBody? {
        try? JSONDecoder().decode(SessionBody.self, from: Data(response.body.readableBytesView))
    }

    /// The token of a `sanmin_desk=TOKEN; …` Set-Cookie.
    static func token(_ setCookie: String?) -> String? {
        guard let setCookie, setCookie.hasPrefix("sanmin_desk=") else { return nil }
        return setCookie.dropFirst("sanmin_desk=".count).split(separator: ";").first.map(String.init)
    }

    @Test func signInSetsTheCookieAndAnswersTheClerk() async throws {
        let code = try codeFor("王芳", role: .lead)
        let database = self.database
        try await app().test(.router) { client in
            let response = try await client.execute(
                uri: "/desk/api/sign-in", method: .post, headers: Self.jsonHeaders, body: Self.signInBody(code))
            #expect(response.status == .ok)
            let setCookie = response.headers[.setCookie]
            let token = try #require(Self.token(setCookie))
            let expected = "sanmin_desk=\(token); HttpOnly; SameSite=Strict; Path=/desk; Max-Age=43200"
            #expect(setCookie == expected)
            let body = try #require(Self.session(response))
            #expect(body.clerk.name == "王芳")
            #expect(body.clerk.role == "lead")
            let signedIn = try #require(try database.session(token: token))
            #expect(body.csrf_token == signedIn.csrfToken)
            let expiresAt = signedIn.expiresAt.formatted(.iso8601)
            #expect(body.expires_at == expiresAt)
        }
    }

    @Test func aWrongCodeIsRefusedWithItsCode() async throws {
        _ = try codeFor("李明")
        try await app().test(.router) { client in
            let unknown = try await client.execute(
                uri: "/desk/api/sign-in", method: .post, headers: Self.jsonHeaders,
                body: Self.signInBody("ABCD-EFGH-JKMN-PQRS"))
            #expect(unknown.status == .unauthorized)
            #expect(Self.errorCode(unknown) == "code_unknown")
            #expect(unknown.headers[.setCookie] == nil)
            let malformed = try await client.execute(
                uri: "/desk/api/sign-in", method: .post, headers: Self.jsonHeaders, body: Self.signInBody("1234"))
            #expect(malformed.status == .unauthorized)
            #expect(Self.errorCode(malformed) == "code_malformed")
        }
    }

    @Test func theSixthFailureFromOneClientIsRateLimited() async throws {
        let code = try codeFor("李明")
        try await app().test(.router) { client in
            for _ in 0..<5 {
                let response = try await client.execute(
                    uri: "/desk/api/sign-in", method: .post, headers: Self.jsonHeaders,
                    body: Self.signInBody("ABCD-EFGH-JKMN-PQRS"))
                #expect(response.status == .unauthorized)
            }
            // Refused without looking at the code: even the right one.
            let sixth = try await client.execute(
                uri: "/desk/api/sign-in", method: .post, headers: Self.jsonHeaders, body: Self.signInBody(code))
            #expect(sixth.status == .tooManyRequests)
            #expect(Self.errorCode(sixth) == "rate_limited")
            let retryAfter = Int(sixth.headers[.retryAfter] ?? "") ?? 0
            #expect(retryAfter > 0 && retryAfter <= 300)
        }
    }

    @Test func aSuccessResetsTheThrottle() async throws {
        let code = try codeFor("李明")
        try await app().test(.router) { client in
            for _ in 0..<4 {
                _ = try await client.execute(
                    uri: "/desk/api/sign-in", method: .post, headers: Self.jsonHeaders,
                    body: Self.signInBody("ABCD-EFGH-JKMN-PQRS"))
            }
            let ok = try await client.execute(
                uri: "/desk/api/sign-in", method: .post, headers: Self.jsonHeaders, body: Self.signInBody(code))
            #expect(ok.status == .ok)
        }
        #expect(throttle.clients == 0)
    }

    @Test func aUsedCodeIsRefused() async throws {
        let code = try codeFor("李明")
        try await app().test(.router) { client in
            let first = try await client.execute(
                uri: "/desk/api/sign-in", method: .post, headers: Self.jsonHeaders, body: Self.signInBody(code))
            #expect(first.status == .ok)
            let second = try await client.execute(
                uri: "/desk/api/sign-in", method: .post, headers: Self.jsonHeaders, body: Self.signInBody(code))
            #expect(second.status == .unauthorized)
            #expect(Self.errorCode(second) == "code_used")
        }
    }

    @Test func meAnswersTheClerkOnlyWithTheCookie() async throws {
        let code = try codeFor("张伟", role: .count)
        try await app().test(.router) { client in
            let signIn = try await client.execute(
                uri: "/desk/api/sign-in", method: .post, headers: Self.jsonHeaders, body: Self.signInBody(code))
            let token = try #require(Self.token(signIn.headers[.setCookie]))
            let csrf = Self.session(signIn)?.csrf_token

            let me = try await client.execute(
                uri: "/desk/api/me", method: .get, headers: [.cookie: "sanmin_desk=\(token)"])
            #expect(me.status == .ok)
            let body = try #require(Self.session(me))
            #expect(body.clerk.name == "张伟" && body.clerk.role == "count")
            #expect(body.csrf_token == csrf)

            let anonymous = try await client.execute(uri: "/desk/api/me", method: .get)
            #expect(anonymous.status == .unauthorized)
            #expect(Self.errorCode(anonymous) == "signed_out")
            let forged = try await client.execute(
                uri: "/desk/api/me", method: .get, headers: [.cookie: "sanmin_desk=forged"])
            #expect(forged.status == .unauthorized)
        }
    }

    @Test func signOutNeedsTheCSRFToken() async throws {
        let code = try codeFor("张伟")
        let database = self.database
        try await app().test(.router) { client in
            let signIn = try await client.execute(
                uri: "/desk/api/sign-in", method: .post, headers: Self.jsonHeaders, body: Self.signInBody(code))
            let token = try #require(Self.token(signIn.headers[.setCookie]))
            let csrf = try #require(Self.session(signIn)?.csrf_token)
            let cookie: HTTPFields = [.cookie: "sanmin_desk=\(token)"]

            let without = try await client.execute(uri: "/desk/api/sign-out", method: .post, headers: cookie)
            #expect(without.status == .forbidden)
            #expect(Self.errorCode(without) == "csrf")
            var wrongHeaders = cookie
            wrongHeaders[Self.csrfHeader] = "not-the-token"
            let wrong = try await client.execute(uri: "/desk/api/sign-out", method: .post, headers: wrongHeaders)
            #expect(wrong.status == .forbidden)
            let stillValid = try database.session(token: token) != nil
            #expect(stillValid)

            // Without a session at all: signed out.
            let noCookie = try await client.execute(
                uri: "/desk/api/sign-out", method: .post, headers: [Self.csrfHeader: csrf])
            #expect(noCookie.status == .unauthorized)
            #expect(Self.errorCode(noCookie) == "signed_out")

            var headers = cookie
            headers[Self.csrfHeader] = csrf
            let signOut = try await client.execute(uri: "/desk/api/sign-out", method: .post, headers: headers)
            #expect(signOut.status == .noContent)
            let cleared = signOut.headers[.setCookie]
            #expect(cleared == "sanmin_desk=; HttpOnly; SameSite=Strict; Path=/desk; Max-Age=0")
            let gone = try database.session(token: token) == nil
            #expect(gone)
            let me = try await client.execute(uri: "/desk/api/me", method: .get, headers: cookie)
            #expect(me.status == .unauthorized)
        }
    }

    @Test func thePageIsServedAsHTML() async throws {
        try await app().test(.router) { client in
            let response = try await client.execute(uri: "/desk", method: .get)
            #expect(response.status == .ok)
            let contentType = response.headers[.contentType] ?? ""
            #expect(contentType.hasPrefix("text/html"))
            let html = String(buffer: response.body)
            #expect(html.contains(#"<html lang="zh-CN">"#))
            #expect(html.contains(#"<script src="/desk/app.js"></script>"#))
            #expect(response.headers[HTTPField.Name("Content-Security-Policy")!]?.contains("script-src 'self'") == true)
            // Everything the page needs is served by the node itself: no CDN, nothing from the internet.
            let script = try await client.execute(uri: "/desk/app.js", method: .get)
            #expect(script.headers[.contentType]?.hasPrefix("text/javascript") == true)
            let source = String(buffer: script.body)
            #expect(source.contains("/desk/api/sign-in"))
            for text in [html, source] { #expect(!text.contains("http://") && !text.contains("https://")) }
            let missing = try await client.execute(uri: "/desk/nothing", method: .get)
            #expect(missing.status == .notFound)
            #expect(Self.errorCode(missing) == "not_found")
        }
    }

    @Test func runServesTheDeskWhenAsked() async throws {
        let harness = try ProcessHarness()
        defer { harness.cleanUp() }
        let event = harness.workDirectory.appending(path: try harness.write(Fixtures.smallEventJSON, to: "event.json"))
        let initialised = try harness.run(
            "venue-node",
            [
                "init", "--data-dir", "n", "--event", event.path, "--venue", "east",
                "--aggregator", "http://127.0.0.1:9",
            ])
        #expect(initialised.status == 0, "\(initialised.stderr)")
        let daemon = try harness.start(
            "venue-node",
            ["run", "--data-dir", "n", "--interval", "1", "--max-backoff", "1", "--desk-listen", "127.0.0.1:0"],
            log: "daemon.log")
        defer {
            if daemon.isRunning {
                daemon.terminate()
                daemon.waitUntilExit()
            }
        }
        let line = try await harness.waitForLine(startingWith: "desk listening on 127.0.0.1:", in: "daemon.log")
        let port = try #require(Int(line.split(separator: ":").last ?? ""))
        let reply = try await CurlHTTPClient().send(method: "GET", url: "http://127.0.0.1:\(port)/desk")
        #expect(reply.status == 200)
        let contentType = reply.headers["content-type"] ?? ""
        #expect(contentType.hasPrefix("text/html"))
        let me = try await CurlHTTPClient().send(method: "GET", url: "http://127.0.0.1:\(port)/desk/api/me")
        #expect(me.status == 401)

        daemon.terminate()
        await harness.waitForExit(daemon)
        #expect(daemon.terminationStatus == 0)
    }
}
