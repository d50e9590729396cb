import DaemonSupport
import Foundation
import HTTPTypes
import Hummingbird
import Shared

/// The central office's handling of suggestions over HTTP (issue #17): the officer (an admin token) lists, triages
/// and reviews; a department (its own token) sees only what is assigned to it and answers. Every step is an appended
/// event; a refused step changes nothing (`422 suggestion_refused`, `403 forbidden`, `404 not_found`).
struct SuggestionsController<Store: AggregatorStore> {
    var intake: Intake<Store>

    func addRoutes(to routes: AccessRoutes) {
        routes.group("v1/suggestions", access: .token(.admin))
            .get("", use: list)
            .get("report", use: report)
            .get(":venue/:seq", use: show)
            .post(":venue/:seq/triage", use: triage)
            .post(":venue/:seq/review", use: review)
            .post(":venue/:seq/feedback", use: feedback)
            .post(":venue/:seq/outstanding", use: outstanding)
        routes.group(access: .open)
            .get("suggestions", use: page)
            .get("suggestions/app.js", use: script)
        routes.group("v1", access: .token(.department))
            .get("whoami", use: whoami)
        routes.group("v1/department/suggestions", access: .departmentToken)
            .get("", use: departmentList)
            .get(":venue/:seq", use: departmentShow)
            .post(":venue/:seq/answer", use: departmentAnswer)
    }

    /// The largest body of a step: an answer or a note of 4,000 characters, in any script.
    static var maxBodyBytes: Int { 65_536 }

    /// The page holds no data (everything on it comes from the API, with the token typed in): served to anyone, never
    /// framed, running no script but its own.
    static var pageHeaders: HTTPFields {
        [
            .cacheControl: "no-store",
            HTTPField.Name("X-Frame-Options")!: "DENY", HTTPField.Name("Referrer-Policy")!: "no-referrer",
            HTTPField.Name("Content-Security-Policy")!:
                "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; "
                + "frame-ancestors 'none'",
        ]
    }

    @Sendable func page(_ request: Request, context: TallyRequestContext) async throws -> Response {
        var headers = Self.pageHeaders
        headers[.contentType] = "text/html; charset=utf-8"
        return Response(
            status: .ok, headers: headers, body: ResponseBody(byteBuffer: ByteBuffer(string: SuggestionsPage.html)))
    }

    @Sendable func script(_ request: Request, context: TallyRequestContext) async throws -> Response {
        var headers = Self.pageHeaders
        headers[.contentType] = "text/javascript; charset=utf-8"
        return Response(
            status: .ok, headers: headers, body: ResponseBody(byteBuffer: ByteBuffer(string: SuggestionsScript.source)))
    }

    /// Who the token presented is (role, and a department's department), what the pages need of the event to name
    /// things (departments, venues, topics), and the aggregator's date (what is overdue).
    struct WhoAmI: Encodable {
        struct Named: Encodable {
            var id: String
            var name: String
        }
        struct Topic: Encodable {
            var id: String
            var label: String
        }
        struct EventNames: Encodable {
            var title: String
            var titleEn: String?
            var departments: [Named]
            var venues: [Named]
            var topics: [Topic]

            enum CodingKeys: String, CodingKey {
                case title, departments, venues, topics
                case titleEn = "title_en"
            }
        }
        var role: String
        var department: String?
        var event: EventNames
        var today: String
    }

    @Sendable func whoami(_ request: Request, context: TallyRequestContext) async throws -> Response {
        let token = request.headers[.authorization].map { String($0.dropFirst("Bearer ".count)) } ?? ""
        let database = intake.database
        let event = intake.event
        let (role, department) = try await offload {
            (try database.role(ofToken: token), try database.department(ofToken: token))
        }
        guard let role else { throw APIError(.unauthorized, .unauthorized, "a bearer token is needed") }
        return try JSONResponse.make(
            WhoAmI(
                role: role.rawValue, department: department,
                event: .init(
                    title: event.title, titleEn: event.titleEn,
                    departments: event.departments.map { .init(id: $0.id, name: $0.name) },
                    venues: event.venues.map { .init(id: $0.id, name: $0.name) },
                    topics: (event.forms?.suggestion?.topics ?? []).map { .init(id: $0.id, label: $0.label) }),
                today: String(Date().formatted(.iso8601).prefix(10))))
    }

    /// `?venue=`, `?department=`, `?topic=`, `?status=`, `?overdue=1`.
    @Sendable func list(_ request: Request, context: TallyRequestContext) async throws -> Response {
        let query = request.uri.queryParameters
        let status = query.get("status")
        if let status, SuggestionItem.Status(rawValue: status) == nil {
            throw APIError(
                .badRequest, .badRequest,
                "status is one of " + SuggestionItem.Status.allCases.map(\.rawValue).joined(separator: ", "))
        }
        let filter = SuggestionFilter(
            venue: query.get("venue"), department: query.get("department"), topic: query.get("topic"),
            status: status.flatMap(SuggestionItem.Status.init(rawValue:)), overdue: query.get("overdue") == "1")
        let today = String(Date().formatted(.iso8601).prefix(10))
        let database = intake.database
        let items = try await offload { try database.suggestions() }.filter { filter.matches($0, today: today) }
        return try JSONResponse.make(items)
    }

    /// The 办理情况报告: `?format=html` (default, printable), `csv` or `json`; `?lang=en` for English.
    @Sendable func report(_ request: Request, context: TallyRequestContext) async throws -> Response {
        let query = request.uri.queryParameters
        let language: ReportLanguage = query.get("lang") == "en" ? .en : .zh
        let format = query.get("format") ?? "html"
        guard ["html", "csv", "json"].contains(format) else {
            throw APIError(.badRequest, .badRequest, "format is html, csv or json")
        }
        let database = intake.database
        let event = intake.event
        let report = SuggestionReport(items: try await offload { try database.suggestions() }, event: event)
        switch format {
        case "json":
            return try JSONResponse.make(report.items)
        case "csv":
            return Response(
                status: .ok, headers: [.contentType: "text/csv; charset=utf-8", .cacheControl: "no-store"],
                body: ResponseBody(byteBuffer: ByteBuffer(string: report.csv())))
        default:
            return Response(
                status: .ok, headers: [.contentType: "text/html; charset=utf-8", .cacheControl: "no-store"],
                body: ResponseBody(byteBuffer: ByteBuffer(string: report.html(event: event, language: language))))
        }
    }

    @Sendable func show(_ request: Request, context: TallyRequestContext) async throws -> Response {
        let id = try Self.id(context)
        let database = intake.database
        return try JSONResponse.make(try await Self.handling { try database.suggestion(id) })
    }

    /// `{"decision": "assign", "lead": "D01", "co": ["D02"], "due": "2026-12-31", "by": "王芳"}`, or `"forward"` with
    /// `"departments"`, `"duplicate"` with `"of"`, `"inadmissible"` with `"reason"`.
    @Sendable func triage(_ request: Request, context: TallyRequestContext) async throws -> Response {
        let event = intake.event
        return try await step(
            request, context, TriageBody.self, what: "a triage",
            expected: #"{"decision": "assign|forward|duplicate|inadmissible", …, "by": "…"}"#
        ) { database, id, body in
            let triage: SuggestionTriage
            switch body.decision {
            case "assign":
                guard let lead = body.lead, let due = body.due else {
                    throw APIError(.badRequest, .invalidBody, "assign needs lead and due")
                }
                triage = .assign(lead: lead, coHandlers: body.co ?? [], due: due)
            case "forward": triage = .forward(departments: body.departments ?? [])
            case "duplicate":
                guard let of = body.of else { throw APIError(.badRequest, .invalidBody, "duplicate needs of") }
                triage = .duplicate(of: of)
            case "inadmissible":
                guard let reason = body.reason else {
                    throw APIError(.badRequest, .invalidBody, "inadmissible needs reason")
                }
                triage = .inadmissible(reason: reason)
            default:
                throw APIError(.badRequest, .invalidBody, "decision is one of assign, forward, duplicate, inadmissible")
            }
            try database.triageSuggestion(id, triage, by: body.by, event: event)
        }
    }

    /// `{"accept": true, "by": …}` or `{"accept": false, "note": "…", "by": …}`.
    @Sendable func review(_ request: Request, context: TallyRequestContext) async throws -> Response {
        return try await step(
            request, context, ReviewBody.self, what: "a review",
            expected: #"{"accept": true|false, "note": "…", "by": "…"}"#
        ) { database, id, body in
            try database.reviewSuggestion(id, accept: body.accept, note: body.note, by: body.by)
        }
    }

    /// `{"text": "…", "by": …}`: the citizen's feedback.
    @Sendable func feedback(_ request: Request, context: TallyRequestContext) async throws -> Response {
        try await step(request, context, TextBody.self, what: "feedback", expected: #"{"text": "…", "by": "…"}"#) {
            database, id, body in
            try database.recordSuggestionFeedback(id, feedback: body.text, by: body.by)
        }
    }

    /// `{"outstanding": true|false, "by": …}`.
    @Sendable func outstanding(_ request: Request, context: TallyRequestContext) async throws -> Response {
        return try await step(
            request, context, OutstandingBody.self, what: "an outstanding mark",
            expected: #"{"outstanding": true|false, "by": "…"}"#
        ) { database, id, body in
            try database.markSuggestionOutstanding(id, body.outstanding, by: body.by)
        }
    }

    /// A text and who writes it: feedback, an answer.
    struct TextBody: Decodable, Sendable {
        var text: String
        var by: String
    }

    /// One step of the officer's on the suggestion the path names: the body read, `apply` run off the serving
    /// threads, and the item as it then stands answered (a refusal as its HTTP answer, nothing changed).
    private func step<Body: Decodable & Sendable>(
        _ request: Request, _ context: TallyRequestContext, _ type: Body.Type, what: String, expected: String,
        _ apply: @escaping @Sendable (Store, String, Body) throws -> Void
    ) async throws -> Response {
        let id = try Self.id(context)
        var request = request
        let body = try await request.jsonBody(type, what: what, expected: expected, limit: Self.maxBodyBytes)
        let database = intake.database
        return try JSONResponse.make(
            try await Self.handling {
                try apply(database, id, body)
                return try database.suggestion(id)
            })
    }

    // MARK: - A department

    @Sendable func departmentList(_ request: Request, context: TallyRequestContext) async throws -> Response {
        let department = try await self.department(request)
        let database = intake.database
        return try JSONResponse.make(try await offload { try database.suggestions(department: department) })
    }

    @Sendable func departmentShow(_ request: Request, context: TallyRequestContext) async throws -> Response {
        let department = try await self.department(request)
        let id = try Self.id(context)
        let database = intake.database
        return try JSONResponse.make(try await Self.handling { try Self.assigned(id, to: department, database) })
    }

    /// `{"text": "…", "by": "…"}`: the lead department's answer.
    @Sendable func departmentAnswer(_ request: Request, context: TallyRequestContext) async throws -> Response {
        let department = try await self.department(request)
        let id = try Self.id(context)
        var request = request
        let body = try await request.jsonBody(
            TextBody.self, what: "an answer", expected: #"{"text": "…", "by": "…"}"#, limit: Self.maxBodyBytes)
        let database = intake.database
        return try JSONResponse.make(
            try await Self.handling {
                _ = try Self.assigned(id, to: department, database)
                try database.answerSuggestion(id, department: department, answer: body.text, by: body.by)
                return try Self.assigned(id, to: department, database)
            })
    }

    /// The item as the department sees it; 403 when it is not assigned to it.
    private static func assigned(_ id: String, to department: String, _ database: Store) throws
        -> SuggestionItem
    {
        // The same answer for an item that does not exist: a department learns nothing of others' items.
        guard let item = try database.suggestions(department: department).first(where: { $0.id == id }) else {
            throw AggregatorError.forbidden(
                "suggestion \(id) is neither assigned nor passed on to department \(department)")
        }
        return item
    }

    /// The department the request's token is bound to.
    private func department(_ request: Request) async throws -> String {
        let token = request.headers[.authorization].map { String($0.dropFirst("Bearer ".count)) } ?? ""
        let database = intake.database
        guard let department = try await offload({ try database.department(ofToken: token) }) else {
            throw APIError(.forbidden, .forbidden, "this needs a department's token")
        }
        return department
    }

    private static func id(_ context: TallyRequestContext) throws -> String {
        "\(try context.parameters.require("venue"))/\(try context.parameters.require("seq"))"
    }

    /// Runs a step off the serving threads, turning a refusal into its HTTP answer.
    private static func handling<T: Sendable>(_ work: @escaping @Sendable () throws -> T) async throws -> T {
        do {
            return try await offload(work)
        } catch let error as AggregatorError {
            switch error.kind {
            case .refused: throw APIError(.unprocessableContent, .suggestionRefused, error.description)
            case .notFound: throw APIError(.notFound, .notFound, error.description)
            case .forbidden: throw APIError(.forbidden, .forbidden, error.description)
            }
        }
    }
}

private struct TriageBody: Decodable, Sendable {
    var decision: String
    var lead: String?
    var co: [String]?
    var due: String?
    var departments: [String]?
    var of: String?
    var reason: String?
    var by: String
}

private struct ReviewBody: Decodable, Sendable {
    var accept: Bool
    var note: String?
    var by: String
}

private struct OutstandingBody: Decodable, Sendable {
    var outstanding: Bool
    var by: String
}
