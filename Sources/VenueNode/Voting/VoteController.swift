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
    static let paths: Set<String> = ["/vote/api/open", "/vote/api/cast"]

    func addRoutes(to router: Router<DeskRequestContext>) {
        router.get("/vote", use: page)
        router.get("/vote/app.js", use: script)
        router.post("/vote/api/open", use: open)
        router.post("/vote/api/cast", use: cast)
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
        case .codeMalformed, .marksMissing, .unknownMark: status = .badRequest
        case .codeUnknown: status = .notFound
        case .codeUsed, .otherBox, .boxNotOpen, .boxClosed: status = .conflict
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
}
