import DaemonSupport
import Foundation
import HTTPTypes
import Hummingbird
import Shared

/// The check-in desk: one field a scanner types into, one answer, green or red and why.
extension DeskController {
    struct CheckinBody: Decodable {
        var session: String
        /// A card code, a roster id or an ID-card number, as scanned or typed.
        var scanned: String
        /// For a walk-in, where the event allows them.
        var category: String?
    }

    /// The answer to a check-in, admitted (200) or refused (409 or 400 with `error`). It never holds an ID-card
    /// number: a representative is named by roster id and name.
    struct CheckinAnswer: Encodable {
        struct Earlier: Encodable {
            var seq: Int64
            var at: String?
            var clerk: String?
        }
        struct ErrorPart: Encodable {
            var code: String
            var message: String
        }
        var admitted: Bool
        var error: ErrorPart?
        var rep: String?
        var name: String?
        var category: String?
        var walkin: Bool?
        /// A reserve (备选代表), admitted in an absentee's place.
        var reserve: Bool?
        var seq: Int64?
        var at: String?
        /// Who was checked in before (already_checked_in).
        var earlier: Earlier?
        /// Checked in for the session now, and the venue's quota for it.
        var checkedIn: Int
        var quota: Int?

        enum CodingKeys: String, CodingKey {
            case admitted, error, rep, name, category, walkin, reserve, seq, at, earlier, quota
            case checkedIn = "checked_in"
        }
    }

    @Sendable func checkin(_ request: Request, context: DeskRequestContext) async throws -> Response {
        let clerk = try clerk(context)
        let body = try await body(
            CheckinBody.self, request, limit: 4_096, example: #"{"session": "S1", "scanned": "2021-0001"}"#)
        let event = venue.event.definition
        guard event.session(body.session) != nil else {
            throw DeskError(
                .badRequest, "unknown_session",
                "unknown session \"\(body.session)\": the event's sessions are "
                    + event.sessions.map(\.id).joined(separator: ", "))
        }
        let scanned = body.scanned.trimmingCharacters(in: .whitespacesAndNewlines)
        guard !scanned.isEmpty, scanned.count <= 64 else {
            throw DeskError(.badRequest, "bad_request", "scan a card, or type a roster id or an ID-card number")
        }
        let database = self.database
        let venue = self.venue
        let rosters = self.rosters
        let now = Date().formatted(.iso8601)
        let (status, answer): (HTTPResponse.Status, CheckinAnswer) = try await offload {
            let desk = try rosters.desk(database, venue: venue)
            let quota = event.quota(venue: venue.venue, session: body.session).map { $0.counts.values.reduce(0, +) }
            func checkedIn() throws -> Int { try database.attendance()[body.session]?.values.reduce(0, +) ?? 0 }
            func refused(_ code: String, _ message: String, rep: String? = nil, earlier: EarlierCheckin? = nil) throws
                -> (HTTPResponse.Status, CheckinAnswer)
            {
                let entry = rep.flatMap { desk.entry(rep: $0) }
                return (
                    code == CheckinRefusal.Reason.invalid.rawValue ? .badRequest : .conflict,
                    CheckinAnswer(
                        admitted: false, error: .init(code: code, message: message), rep: rep, name: entry?.name,
                        category: entry?.category,
                        earlier: earlier.map { .init(seq: $0.seq, at: $0.at, clerk: $0.clerk) },
                        checkedIn: try checkedIn(), quota: quota)
                )
            }
            let payload: RecordPayload.Checkin
            do {
                payload = try desk.judge(
                    desk.request(session: body.session, scanned: scanned, category: body.category), at: now,
                    clerk: clerk.attribution)
            } catch let error as CheckinRefusal {
                return try refused(error.reason.rawValue, error.message)
            }
            do {
                let saved = try database.appendCheckin(payload, event: event, desk: desk)
                let entry = desk.entry(rep: payload.rep)
                return (
                    .ok,
                    CheckinAnswer(
                        admitted: true, rep: payload.rep, name: entry?.name, category: payload.category,
                        walkin: payload.walkin ?? false,
                        reserve: payload.walkin != true && entry?.reserve == true ? true : nil, seq: saved.first?.seq,
                        at: now, checkedIn: try checkedIn(),
                        quota: quota)
                )
            } catch let refusal as CheckinRefusal {
                return try refused(refusal.reason.rawValue, refusal.message, rep: payload.rep)
            } catch let error as AppendError {
                // Another desk may have checked them in a moment ago: the chain's rule decides, in one transaction.
                if error.rejection.rule == .duplicateCheckin {
                    let earlier = try database.earlierCheckin(
                        session: payload.session, rep: payload.rep, person: payload.person)
                    let when = earlier.map {
                        " at \($0.at ?? "?") by \($0.clerk ?? "the command line") (record \($0.seq))"
                    }
                    return try refused(
                        CheckinRefusal.Reason.alreadyCheckedIn.rawValue,
                        "\(payload.rep) is checked in already for session \(payload.session)\(when ?? "")",
                        rep: payload.rep, earlier: earlier)
                }
                return try refused(CheckinRefusal.Reason.invalid.rawValue, error.rejection.message)
            }
        }
        if answer.admitted {
            context.logger.info(
                "checked in at the desk", metadata: ["clerk.id": "\(clerk.id)", "seq": "\(answer.seq ?? 0)"])
        }
        return try DeskJSON.response(answer, status: status)
    }
}
