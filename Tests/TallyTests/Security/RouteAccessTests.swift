import Aggregator
import Foundation
import GRDB
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Logging
import Shared
import Testing

/// Who may call what is declared with each route (`Access`): every route the router answers must have been
/// declared through an access group, with exactly the rule listed here.
@Suite struct RouteAccessTests {
    /// Every route and its rule. A new route fails this test until it is added here, with its rule.
    static let expected: Set<String> = [
        "GET /healthz (open)",
        "GET /receipts (open)",
        "GET /v1/receipts (open)",
        "GET /readyz (observer token)",
        "GET /metrics (observer token)",
        "POST /v1/batches (node signature)",
        "POST /v1/heartbeats (node signature)",
        "POST /v1/enrolments (node signature)",
        "GET /v1/identity (open)",
        "GET /v1/heads (node signature or observer token)",
        "GET /v1/nodes/{id}/cursor (node signature or observer token)",
        "GET /v1/nodes/{id}/records (node signature or observer token)",
        "POST /v1/admin/enrolment-tokens (admin token)",
        "POST /v1/admin/nodes/{id}/revoke (admin token)",
        "GET /v1/admin/roster (admin token)",
        "GET /v1/totals (observer token)",
        "GET /v1/reconciliation (observer token)",
        "GET /v1/results (observer token)",
        "GET /v1/suggestions (admin token)",
        "GET /v1/suggestions/report (admin token)",
        "GET /v1/suggestions/{venue}/{seq} (admin token)",
        "POST /v1/suggestions/{venue}/{seq}/triage (admin token)",
        "POST /v1/suggestions/{venue}/{seq}/review (admin token)",
        "POST /v1/suggestions/{venue}/{seq}/feedback (admin token)",
        "POST /v1/suggestions/{venue}/{seq}/outstanding (admin token)",
        "GET /suggestions (open)",
        "GET /suggestions/app.js (open)",
        "GET /v1/whoami (any token)",
        "GET /v1/department/suggestions (department token)",
        "GET /v1/department/suggestions/{venue}/{seq} (department token)",
        "POST /v1/department/suggestions/{venue}/{seq}/answer (department token)",
        "GET / (observer token)",
        "GET /v1/dashboard (observer token)",
        "GET /dashboard (observer token (header or ?token=))",
        "GET /v1/events (observer token (header or ?token=))",
    ]

    func routes() throws -> (router: Router<TallyRequestContext>, declared: [DeclaredRoute]) {
        let (database, intake) = try Fixtures.aggregator()
        var declared: [DeclaredRoute] = []
        let router = buildRouter(
            intake: intake, settings: AggregatorSettings(),
            hub: DashboardHub(database: database, logger: Logger(label: "test")),
            metrics: IngestMetrics()
        ) { declared = $0 }
        return (router, declared)
    }

    @Test func everyRouteIsDeclaredWithItsAccessRule() throws {
        let (router, declared) = try routes()
        let answered = Set(router.routes.map { "\($0.method) \($0.path)" })
        let declaredRoutes = Set(declared.map { "\($0.method) \($0.path)" })
        #expect(
            answered.subtracting(declaredRoutes).isEmpty,
            "routes added without an access group: \(answered.subtracting(declaredRoutes).sorted())")
        #expect(declaredRoutes == answered)
        #expect(declared.count == declaredRoutes.count, "a route declared twice")
        #expect(
            Set(declared.map(\.description)) == Self.expected,
            "changed: \(Set(declared.map(\.description)).symmetricDifference(Self.expected).sorted())")
    }

    @Test func tokensAreCheckedByTheRouteThatAnswers() async throws {
        let (database, intake) = try Fixtures.aggregator()
        let observer = try database.addToken(name: "wall", role: .observer)
        let admin = try database.addToken(name: "office", role: .admin)
        let app = try buildApplication(
            intake: intake, settings: AggregatorSettings(rateLimit: nil),
            logger: Logger(label: "test"))
        struct Case {
            var method: HTTPRequest.Method
            var uri: String
            var headers: HTTPFields = [:]
            var body: String? = nil
            var expected: String
        }
        let cases: [Case] = [
            Case(method: .get, uri: "/healthz", expected: "200"),
            Case(method: .get, uri: "/v1/totals", expected: "401 unauthorized"),
            Case(method: .get, uri: "/v1/totals", headers: bearer(observer), expected: "200"),
            // A token in the URL only where a browser cannot send a header.
            Case(method: .get, uri: "/v1/totals?token=\(observer)", expected: "401 unauthorized"),
            Case(method: .get, uri: "/v1/dashboard?token=\(observer)", expected: "401 unauthorized"),
            Case(method: .get, uri: "/dashboard?token=\(observer)", expected: "200"),
            // The same route however the path is spelled.
            Case(
                method: .get, uri: "/v1//admin/roster?venue=east", headers: bearer(observer), expected: "403 forbidden"),
            Case(method: .get, uri: "//v1/admin/roster?venue=east", expected: "401 unauthorized"),
            Case(method: .get, uri: "/v1/admin/roster?venue=east", headers: bearer(admin), expected: "200"),
            // A path no route answers.
            Case(method: .get, uri: "/v1/nothing-here", headers: bearer(observer), expected: "404 not_found"),
            // Admin bodies: what was wrong, not a "malformed batch".
            Case(
                method: .post, uri: "/v1/admin/enrolment-tokens", headers: bearer(admin), body: "{",
                expected: "400 invalid_body"),
            Case(
                method: .post, uri: "/v1/admin/enrolment-tokens", headers: bearer(admin),
                body: #"{"venue": "east", "valid_hours": 0}"#, expected: "400 invalid_body"),
            Case(
                method: .post, uri: "/v1/admin/enrolment-tokens", headers: bearer(admin),
                body: #"{"venue": "nowhere"}"#, expected: "422 unknown_venue"),
            Case(
                method: .post, uri: "/v1/admin/enrolment-tokens", headers: bearer(observer),
                body: #"{"venue": "east"}"#, expected: "403 forbidden"),
            Case(
                method: .post, uri: "/v1/admin/enrolment-tokens", headers: bearer(admin),
                body: #"{"venue": "east"}"#, expected: "201"),
            Case(
                method: .post, uri: "/v1/admin/nodes/n1/revoke", headers: bearer(admin), body: #"{"reason": " "}"#,
                expected: "400 invalid_body"),
            Case(
                method: .post, uri: "/v1/admin/nodes/n1/revoke", headers: bearer(admin), body: #"{"reason": "lost"}"#,
                expected: "404 unknown_node"),
        ]
        let answers: [String] = try await app.test(.router) { client in
            var answers: [String] = []
            for item in cases {
                let answer = try await client.execute(
                    uri: item.uri, method: item.method, headers: item.headers,
                    body: item.body.map { ByteBuffer(string: $0) }
                ) { response in
                    let body = try? JSONDecoder().decode(APIErrorBody.self, from: Data(buffer: response.body))
                    return "\(response.status.code)" + (body.map { " \($0.error.code.rawValue)" } ?? "")
                }
                answers.append(answer)
            }
            return answers
        }
        for (item, answer) in zip(cases, answers) {
            #expect(answer == item.expected, "\(item.method) \(item.uri)")
        }
        #expect(try database.enrolmentTokens().count == 1)
    }

    @Test func aCodeThisReleaseDoesNotKnowIsKeptWithItsMessage() throws {
        let body = try JSONDecoder().decode(
            APIErrorBody.self,
            from: Data(
                #"{"error": {"code": "some_future_code", "message": "why"}}"#.utf8))
        #expect(body.error.code.rawValue == "some_future_code")
        #expect(body.error.message == "why")
        #expect(!body.error.code.means(.sequenceGap))
        #expect(APIErrorCode.invalidBody.means(.malformedBatch))
        #expect(APIErrorCode.unknownVenue.means(.venueMismatch))
        #expect(
            try String(decoding: JSONEncoder().encode(APIErrorCode.sequenceGap), as: UTF8.self) == #""sequence_gap""#)
    }
}
