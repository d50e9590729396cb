import DaemonSupport
import Foundation
import HTTPTypes
import Hummingbird
import Shared

/// Boxes opened and closed, and paper ballots keyed twice, from the desk.
extension DeskController {
    struct BoxBody: Decodable {
        var session: String
        var box: String
        var issued: Int?
        var returned: Int?
        /// A phone box: the slips not handed out, counted back (issued = printed - unused; returned = cast).
        var unused: Int?
        /// The clerk saw the warnings and saves anyway.
        var confirm: Bool?
        /// The other forms found in it (issue #17), by kind: `suggestion`, `survey`, `discipline`.
        var forms: [String: Int]?
    }

    struct RecordAnswer: Encodable {
        var seq: Int64
        var hash: String
        /// Closing a phone box: the ballots cast on phones, appended after the closing record.
        var ballots: Int?
    }

    func checkSession(_ session: String) throws {
        let event = venue.event.definition
        guard event.session(session) != nil else {
            throw DeskError(
                .badRequest, "unknown_session",
                "unknown session \"\(session)\": the event's sessions are "
                    + event.sessions.map(\.id).joined(separator: ", "))
        }
    }

    /// Appends one record from the desk: refused records answer 409 with the chain's rule as the code (400
    /// `invalid` when the record does not fit the event).
    func save(_ payload: RecordPayload) async throws -> RecordAnswer {
        let database = self.database
        let event = venue.event.definition
        do {
            let saved = try await offload { try database.append([payload], event: event) }
            return RecordAnswer(
                seq: saved[0].seq, hash: saved[0].hash, ballots: saved.count > 1 ? saved.count - 1 : nil)
        } catch let error as AppendError {
            if let rule = error.rejection.rule { throw DeskError(.conflict, rule.rawValue, error.rejection.message) }
            throw DeskError(.badRequest, "invalid", error.rejection.message)
        }
    }

    @Sendable func openBox(_ request: Request, context: DeskRequestContext) async throws -> Response {
        let clerk = try clerk(context, [.count, .lead])
        let body = try await body(BoxBody.self, request, example: #"{"session": "S1", "box": "B1"}"#)
        try checkSession(body.session)
        let answer = try await save(
            .boxOpened(
                .init(session: body.session, box: body.box, at: Date().formatted(.iso8601), clerk: clerk.attribution)))
        return try DeskJSON.response(answer)
    }

    /// What the clerk is warned of before closing a box with these counts (the plans' rule: 发放与回收数量一致,
    /// 票数与到会人数一致).
    func closingWarnings(session: String, box: String, issued: Int, returned: Int) async throws -> [String] {
        let database = self.database
        let (attendance, boxes) = try await offload {
            (try database.attendance(), try database.boxes(session: session))
        }
        let checkedIn = attendance[session]?.values.reduce(0, +) ?? 0
        let others = boxes.filter { $0.box != box && $0.closedSeq != nil }
        var warnings: [String] = []
        if issued != returned {
            warnings.append("issued_vs_returned:\(issued) issued, \(returned) returned")
        }
        let allReturned = returned + others.reduce(0) { $0 + ($1.returned ?? 0) }
        if allReturned != checkedIn {
            warnings.append(
                "returned_vs_checked_in:\(allReturned) returned into the session's boxes, \(checkedIn) checked in")
        }
        return warnings
    }

    @Sendable func closeBox(_ request: Request, context: DeskRequestContext) async throws -> Response {
        let clerk = try clerk(context, [.count, .lead])
        let body = try await body(
            BoxBody.self, request, example: #"{"session": "S1", "box": "B1", "issued": 120, "returned": 120}"#)
        try checkSession(body.session)
        let database = self.database
        let (session, boxID) = (body.session, body.box)
        let phone = try await offload { try database.phoneBox(session: session, box: boxID) }
        // Only the kinds counted (a count of 0 says so too); none given: the closing names no forms.
        var forms: [String: Int]? = nil
        for (kind, count) in body.forms ?? [:] {
            guard RecordPayload.FormKind(rawValue: kind) != nil else {
                throw DeskError(
                    .badRequest, "bad_request",
                    "unknown form \"\(kind)\": the forms are "
                        + RecordPayload.FormKind.allCases.map(\.rawValue).joined(separator: ", "))
            }
            forms = (forms ?? [:]).merging([kind: count]) { $1 }
        }
        let issued: Int
        let returned: Int
        if let phone {
            // A phone box returns the ballots cast with its codes; its issued are the slips handed out.
            if let unused = body.unused {
                guard (0...phone.printed).contains(unused) else {
                    throw DeskError(
                        .badRequest, "bad_request",
                        "unused slips must be 0 to the \(phone.printed) codes printed, not \(unused)")
                }
                issued = phone.printed - unused
            } else if let given = body.issued {
                issued = given
            } else {
                throw DeskError(
                    .badRequest, "bad_request",
                    "closing a phone box needs the unused slips counted back (\(phone.printed) codes printed)")
            }
            returned = body.returned ?? phone.cast
            // Its other forms are those sent on phones (issue #17): it holds no paper.
            if let given = forms, given.filter({ $0.value != 0 }) != phone.forms {
                throw DeskError(
                    .badRequest, "bad_request",
                    "box \(body.box) is a phone box: its forms are those sent on phones ("
                        + (phone.forms.isEmpty
                            ? "none"
                            : phone.forms.sorted { $0.key < $1.key }.map { "\($0.value) \($0.key)" }.joined(
                                separator: ", "))
                        + "); leave the form counts empty")
            }
            forms = phone.forms.isEmpty ? nil : phone.forms
        } else {
            guard body.unused == nil else {
                throw DeskError(
                    .badRequest, "bad_request",
                    "box \(body.box) has no voting codes: give the numbers issued and returned")
            }
            if body.issued == nil, body.returned == nil, forms != nil {
                // A box of other forms only (the entrance box of surveys and suggestions) holds no ballot.
                (issued, returned) = (0, 0)
            } else {
                guard let given = body.issued, let givenReturned = body.returned else {
                    throw DeskError(.badRequest, "bad_request", "closing a box needs the numbers issued and returned")
                }
                (issued, returned) = (given, givenReturned)
            }
        }
        // A box of forms only has no ballots to weigh against the check-ins.
        let formsOnly = phone == nil && body.issued == nil && body.returned == nil
        let warnings =
            formsOnly
            ? [] : try await closingWarnings(session: body.session, box: body.box, issued: issued, returned: returned)
        if !warnings.isEmpty && body.confirm != true {
            struct Confirmation: Encodable {
                var error: APIErrorBody.Detail
                var warnings: [String]
            }
            return try DeskJSON.response(
                Confirmation(
                    error: APIErrorBody(
                        code: APIErrorCode(rawValue: "needs_confirmation"),
                        message: "the counts do not agree: confirm to save them as they are"
                    ).error,
                    warnings: warnings), status: .conflict)
        }
        let answer = try await save(
            .boxClosed(
                .init(
                    session: body.session, box: body.box, issued: issued, returned: returned,
                    at: Date().formatted(.iso8601), clerk: clerk.attribution, forms: forms)))
        return try DeskJSON.response(answer)
    }

    struct PaperBody: Decodable {
        var session: String
        var box: String
        var paper: Int
        var status: RecordPayload.BallotStatus
        var marks: [String: String]?
    }

    static let paperExample =
        #"{"session": "S1", "box": "B1", "paper": 1, "status": "valid", "marks": {"D01": "satisfied"}}"#

    @Sendable func keyingProgress(_ request: Request, context: DeskRequestContext) async throws -> Response {
        let clerk = try clerk(context, [.count, .lead])
        guard let session = request.uri.queryParameters["session"].map(String.init),
            let box = request.uri.queryParameters["box"].map(String.init)
        else { throw DeskError(.badRequest, "bad_request", "give ?session=S1&box=B1") }
        let database = self.database
        let progress = try await offload {
            try database.keyingProgress(session: session, box: box, clerkID: clerk.id)
        }
        return try DeskJSON.response(progress)
    }

    @Sendable func keyPaper(_ request: Request, context: DeskRequestContext) async throws -> Response {
        let clerk = try clerk(context, [.count, .lead])
        let body = try await body(PaperBody.self, request, example: Self.paperExample)
        try checkSession(body.session)
        let database = self.database
        let event = venue.event.definition
        let answer = try await desk {
            try database.keyPaper(
                clerk: clerk, session: body.session, box: body.box, paper: body.paper,
                reading: PaperReading(status: body.status, marks: body.marks ?? [:]), event: event)
        }
        return try DeskJSON.response(answer)
    }

    @Sendable func resolvePaper(_ request: Request, context: DeskRequestContext) async throws -> Response {
        let lead = try clerk(context)
        let body = try await body(PaperBody.self, request, example: Self.paperExample)
        try checkSession(body.session)
        let database = self.database
        let event = venue.event.definition
        let answer = try await desk {
            try database.resolvePaper(
                lead: lead, session: body.session, box: body.box, paper: body.paper,
                reading: PaperReading(status: body.status, marks: body.marks ?? [:]), event: event)
        }
        context.logger.info(
            "paper decided by the lead",
            metadata: ["clerk.id": "\(lead.id)", "paper": "\(body.paper)", "seq": "\(answer.ballotSeq ?? 0)"])
        return try DeskJSON.response(answer)
    }

    /// Runs a store call off the event loop, turning its `DeskRefusal` into the desk's error answer.
    func desk<T: Sendable>(_ work: @escaping @Sendable () throws -> T) async throws -> T {
        do {
            return try await offload(work)
        } catch let refusal as DeskRefusal {
            throw DeskError(refusal)
        }
    }
}

extension DeskError {
    init(_ refusal: DeskRefusal) {
        let status: HTTPResponse.Status =
            switch refusal.kind {
            case .invalid: .badRequest
            case .forbidden: .forbidden
            case .notFound: .notFound
            case .conflict: .conflict
            }
        self.init(status, refusal.code, refusal.message)
    }
}
