import DaemonSupport
import Foundation
import Hummingbird
import Shared

/// What an admin token may do over HTTP: issue enrolment tokens, revoke a node, fetch a venue's roster.
struct AdminController<Store: AggregatorStore> {
    var intake: Intake<Store>
    var hub: any ChangePublisher

    func addRoutes(to routes: AccessRoutes) {
        routes.group("v1/admin", access: .token(.admin))
            .post("enrolment-tokens", use: issueEnrolmentToken)
            .post("nodes/:id/revoke", use: revoke)
            .get("roster", use: rosterExport)
    }

    /// A one-time enrolment token for a venue: `{"venue": …, "valid_hours": …}`.
    @Sendable func issueEnrolmentToken(_ request: Request, context: TallyRequestContext) async throws -> Response {
        var request = request
        let body = try await request.jsonBody(
            IssueEnrolmentTokenBody.self, what: "an enrolment token request",
            expected: "{\"venue\": …, \"valid_hours\": 1…720}")
        let hours = body.validHours ?? 24
        guard (1...720).contains(hours) else {
            throw APIError(.badRequest, .invalidBody, "valid_hours must be 1 to 720")
        }
        let database = intake.database
        let token: String
        do {
            token = try await offload {
                try database.issueEnrolmentToken(venue: body.venue, validFor: Int64(hours) * 3600, now: Date())
            }
        } catch let error as AggregatorError {
            // The venue is not in the installed event (the hours were checked above).
            throw APIError(.unprocessableContent, .unknownVenue, error.description)
        }
        return try JSONResponse.make(
            IssueEnrolmentTokenAnswer(token: token, venue: body.venue, validHours: hours), status: .created)
    }

    /// Revokes a node's key: `{"reason": …}`. Nothing it signs is accepted afterwards.
    @Sendable func revoke(_ request: Request, context: TallyRequestContext) async throws -> Response {
        let id = try context.parameters.require("id")
        var request = request
        let body = try await request.jsonBody(RevokeBody.self, what: "a revocation", expected: "{\"reason\": \"…\"}")
        guard !body.reason.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty else {
            throw APIError(.badRequest, .invalidBody, "a revocation needs a reason")
        }
        let database = intake.database
        try await offload {
            guard try database.node(id: id) != nil else {
                throw APIError(.notFound, .unknownNode, "node \(id) is not enrolled")
            }
            do {
                try database.revoke(nodeID: id, reason: body.reason)
            } catch let error as AggregatorError {
                throw APIError(.conflict, .revokedNode, error.description)
            }
        }
        context.logger.notice("node revoked", metadata: ["node.id": "\(id)", "reason": "\(body.reason)"])
        hub.publish()
        return Response(status: .noContent)
    }

    /// A venue's roster for `venue-node roster import` (`?venue=V`, required; person keys, never ID-card
    /// numbers), as CSV.
    @Sendable func rosterExport(_ request: Request, context: TallyRequestContext) async throws -> Response {
        guard let venue = request.uri.queryParameters.get("venue"), intake.event.venue(venue) != nil else {
            throw APIError(
                .notFound, .notFound,
                "give ?venue= with a venue of event \(intake.event.id): "
                    + intake.event.venues.map(\.id).joined(separator: ", "))
        }
        let database = intake.database
        let csv = try await offload { try database.roster().filter { $0.venue == venue }.venueCSV() }
        return Response(
            status: .ok, headers: [.contentType: "text/csv; charset=utf-8", .cacheControl: "no-store"],
            body: ResponseBody(byteBuffer: ByteBuffer(string: csv)))
    }
}

private struct IssueEnrolmentTokenBody: Decodable {
    var venue: String
    var validHours: Int?

    enum CodingKeys: String, CodingKey {
        case venue
        case validHours = "valid_hours"
    }
}

private struct IssueEnrolmentTokenAnswer: Encodable {
    var token: String
    var venue: String
    var validHours: Int

    enum CodingKeys: String, CodingKey {
        case token, venue
        case validHours = "valid_hours"
    }
}

private struct RevokeBody: Decodable { var reason: String }
