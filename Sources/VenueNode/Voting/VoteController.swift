import DaemonSupport
import Foundation
import HTTPTypes
import Hummingbird
import Shared

/// The phone ballot box (issue #16): `/vote`, its script, and two calls, both keyed by the voting code alone (no
/// session, no cookie): `open` tells the page the ballot a code votes on, `cast` seals the ballot. Wrong codes from
/// one client are counted by `throttle` and slowed down.
struct VoteController {
    let database: NodeDatabase
    let venue: DeskVenue
    let throttle: SignInThrottle

    /// The largest body read.
    static let maxBodyBytes = 32_768

    /// The calls that change something without a desk session (`DeskSessionMiddleware` exempts exactly these).
    static let paths: Set<String> = ["/vote/api/open", "/vote/api/cast", "/vote/api/forms", "/vote/api/form"]

    func addRoutes(to router: Router<DeskRequestContext>) {
        router.get("/vote", use: page)
        router.get("/vote/app.js", use: script)
        router.post("/vote/api/open", use: open)
        router.post("/vote/api/cast", use: cast)
        router.post("/vote/api/forms", use: forms)
        router.post("/vote/api/form", use: sendForm)
    }

    @Sendable func page(_ request: Request, context: DeskRequestContext) async throws -> Response {
        DeskController.html(VotePage.html)
    }

    @Sendable func script(_ request: Request, context: DeskRequestContext) async throws -> Response {
        DeskController.javascript(VoteScript.source)
    }

    struct OpenBody: Decodable {
        var code: String
    }

    /// The ballot a code votes on.
    struct BallotAnswer: Encodable {
        struct Department: Encodable {
            var id: String
            var name: String
        }
        struct Mark: Encodable {
            var id: String
            var zh: String
            var en: String
        }
        var event: String
        var eventEn: String
        var venue: String
        var session: String
        var sessionName: String
        var box: String
        var departments: [Department]
        var marks: [Mark]

        enum CodingKeys: String, CodingKey {
            case event, venue, session, box, departments, marks
            case eventEn = "event_en"
            case sessionName = "session_name"
        }
    }

    struct CastBody: Decodable {
        var code: String
        var session: String
        var box: String
        var marks: [String: String]
        /// The page's random id for this submission (the same page sending again is told its receipt).
        var submission: String
    }

    struct CastAnswer: Encodable {
        var receipt: String
    }

    func decode<T: Decodable>(_ type: T.Type, _ request: Request, example: String) async throws -> T {
        let buffer = try await request.body.collect(upTo: Self.maxBodyBytes)
        guard let value = try? JSONDecoder().decode(T.self, from: Data(buffer.readableBytesView)) else {
            throw DeskError(.badRequest, "bad_request", "the body must be JSON like \(example)")
        }
        return value
    }

    /// Refuses a client that sent too many wrong codes lately (429 with Retry-After).
    func checkThrottle(_ context: DeskRequestContext) throws {
        if let wait = throttle.retryAfter(context.clientKey) {
            throw DeskError(
                .tooManyRequests, "rate_limited",
                "too many wrong voting codes from this phone: try again in \(Int(wait)) seconds",
                headers: [.retryAfter: "\(Int(wait))"])
        }
    }

    /// A refusal as the phone reads it; a code that is not one of this venue's counts against the client.
    func refuse(_ refusal: VoteRefusal, context: DeskRequestContext) -> DeskError {
        let status: HTTPResponse.Status
        switch refusal.code {
        case .codeMalformed, .marksMissing, .unknownMark, .badForm: status = .badRequest
        case .codeUnknown: status = .notFound
        case .codeUsed, .otherBox, .boxNotOpen, .boxClosed, .formSent: status = .conflict
        }
        if refusal.code == .codeMalformed || refusal.code == .codeUnknown {
            throttle.recordFailure(context.clientKey)
        }
        context.logger.notice("phone ballot refused", metadata: ["reason": "\(refusal.code.rawValue)"])
        var error = DeskError(status, refusal.code.rawValue, refusal.message)
        error.receipt = refusal.receipt
        return error
    }

    @Sendable func open(_ request: Request, context: DeskRequestContext) async throws -> Response {
        try checkThrottle(context)
        let body = try await decode(OpenBody.self, request, example: #"{"code": "ABCD-EFGH-JKMN-PQRS"}"#)
        let database = self.database
        let place: (session: String, box: String)
        do {
            place = try await offload { try database.ballotOf(code: body.code) }
        } catch let refusal as VoteRefusal {
            throw refuse(refusal, context: context)
        }
        let event = venue.event.definition
        let session = event.session(place.session)
        return try DeskJSON.response(
            BallotAnswer(
                event: event.title, eventEn: event.titleEn ?? event.title,
                venue: event.venue(venue.venue)?.name ?? venue.venue, session: place.session,
                sessionName: session?.name ?? place.session, box: place.box,
                departments: (event.ballotDepartments(session: place.session) ?? []).map {
                    .init(id: $0.id, name: $0.name)
                },
                marks: event.marks.map { .init(id: $0.id, zh: $0.labelZh, en: $0.labelEn) }))
    }

    @Sendable func cast(_ request: Request, context: DeskRequestContext) async throws -> Response {
        try checkThrottle(context)
        let body = try await decode(
            CastBody.self, request,
            example: #"{"code": "…", "session": "S1", "box": "E1", "marks": {"D01": "satisfied"}, "submission": "…"}"#)
        guard (8...128).contains(body.submission.count) else {
            throw DeskError(.badRequest, "bad_request", "submission must be the page's id of 8 to 128 characters")
        }
        let database = self.database
        let event = venue.event.definition
        let receipt: String
        do {
            receipt = try await offload {
                try database.cast(
                    code: body.code, session: body.session, box: body.box, marks: body.marks,
                    submission: body.submission, event: event)
            }
        } catch let refusal as VoteRefusal {
            throw refuse(refusal, context: context)
        }
        // Nothing of the ballot, the code or the client is logged: only that one was cast.
        context.logger.info("phone ballot sealed", metadata: ["session": "\(body.session)", "box": "\(body.box)"])
        return try DeskJSON.response(CastAnswer(receipt: receipt))
    }

    // MARK: - The other forms (issue #17)

    /// What a code may send besides its ballot: the questions of each survey of its session, the suggestion form's
    /// departments and topics, and the kinds this code has sent already.
    struct FormsAnswer: Encodable {
        struct Named: Encodable {
            var id: String
            var name: String
        }
        var session: String
        var box: String
        var surveys: [String: [DeskController.EventAnswer.FormQuestion]]
        /// Whether the event takes suggestions (it has a `forms` section).
        var suggestion: Bool
        var departments: [Named]
        var topics: [Named]
        var sent: [String]
    }

    @Sendable func forms(_ request: Request, context: DeskRequestContext) async throws -> Response {
        try checkThrottle(context)
        let body = try await decode(OpenBody.self, request, example: #"{"code": "ABCD-EFGH-JKMN-PQRS"}"#)
        let database = self.database
        let place: (session: String, box: String, sent: [RecordPayload.FormKind])
        do {
            place = try await offload { try database.formsOf(code: body.code) }
        } catch let refusal as VoteRefusal {
            throw refuse(refusal, context: context)
        }
        let event = venue.event.definition
        return try DeskJSON.response(
            FormsAnswer(
                session: place.session, box: place.box,
                surveys: DeskController.formQuestions(event: event, session: place.session),
                suggestion: event.forms != nil,
                departments: event.departments.map { .init(id: $0.id, name: $0.name) },
                topics: (event.forms?.suggestion?.topics ?? []).map { .init(id: $0.id, name: $0.label) },
                sent: place.sent.map(\.rawValue)))
    }

    /// The code and the page's id of this submission, beside the form (`FormInput`) in the same body.
    struct FormEnvelope: Decodable {
        var code: String
        var submission: String
    }

    struct FormSent: Encodable {
        /// The same page had sent it before: it counts once.
        var again: Bool
    }

    @Sendable func sendForm(_ request: Request, context: DeskRequestContext) async throws -> Response {
        try checkThrottle(context)
        let buffer = try await request.body.collect(upTo: Self.maxBodyBytes)
        let data = Data(buffer.readableBytesView)
        guard let body = try? JSONDecoder().decode(FormEnvelope.self, from: data),
            let input = try? JSONDecoder().decode(FormInput.self, from: data)
        else {
            throw DeskError(
                .badRequest, "bad_request",
                #"the body must be JSON like {"code": "…", "session": "S1", "box": "E1", "kind": "survey", "answers": {…}, "submission": "…"}"#
            )
        }
        guard (8...128).contains(body.submission.count) else {
            throw DeskError(.badRequest, "bad_request", "submission must be the page's id of 8 to 128 characters")
        }
        let form: RecordPayload.Form
        do {
            form = try input.form(clerk: nil).form
        } catch {
            throw refuse(VoteRefusal(.badForm, error.message), context: context)
        }
        // A phone sends a survey with at least one answer (a blank paper form is counted at the desk, not here).
        if form.form != .suggestion, (form.answers ?? [:]).isEmpty {
            throw refuse(
                VoteRefusal(.badForm, "a survey sent from a phone answers at least one question"), context: context)
        }
        let database = self.database
        let event = venue.event.definition
        let again: Bool
        do {
            again = try await offload {
                try database.sealForm(code: body.code, form: form, submission: body.submission, event: event)
            }
        } catch let refusal as VoteRefusal {
            throw refuse(refusal, context: context)
        }
        context.logger.info(
            "phone form sealed",
            metadata: ["session": "\(form.session)", "box": "\(form.box)", "kind": "\(form.form.rawValue)"])
        return try DeskJSON.response(FormSent(again: again))
    }
}
