import DaemonSupport
import Foundation
import Hummingbird
import Shared

/// What the central office reads with an observer token: running totals, the reconciliation and the
/// results (refused while confidential), all from the cached report (`ReportCache`).
struct ResultsController<Store: AggregatorStore> {
    var intake: Intake<Store>

    func addRoutes(to routes: AccessRoutes) {
        routes.group("v1", access: .token(.observer))
            .get("totals", use: totals)
            .get("reconciliation", use: reconciliation)
            .get("results", use: results)
    }

    /// Running totals; the per-department tallies are left out while results are confidential.
    @Sendable func totals(_ request: Request, context: TallyRequestContext) async throws -> Response {
        let intake = self.intake
        let totals = try await offload {
            var totals = try intake.database.totals(eventID: intake.event.id)
            if try !intake.database.resultsVisible(event: intake.event) { totals.tallies = [] }
            return totals
        }
        return try JSONResponse.make(totals)
    }

    /// Attendance, findings and the inputs they were computed from.
    @Sendable func reconciliation(_ request: Request, context: TallyRequestContext) async throws -> Response {
        let report = try await report()
        return try JSONResponse.make(
            ReconciliationBody(
                event: report.event, generatedAt: report.generatedAt,
                inputDigest: report.inputDigest, inputs: report.inputs,
                attendance: report.attendance, findings: report.findings))
    }

    /// Scores and ranks per scope (refused while the event's results are confidential and not released).
    @Sendable func results(_ request: Request, context: TallyRequestContext) async throws -> Response {
        let intake = self.intake
        guard try await offload({ try intake.database.resultsVisible(event: intake.event) }) else {
            throw APIError(
                .forbidden, .resultsConfidential,
                "the results of this event are confidential until released (aggregator results release)")
        }
        let report = try await report()
        return try JSONResponse.make(
            ResultsBody(
                event: report.event, generatedAt: report.generatedAt,
                inputDigest: report.inputDigest, results: report.results))
    }

    private func report() async throws -> Report {
        let database = intake.database
        return try await offload {
            guard let event = try database.installedEvent() else {
                throw APIError(.notFound, .notFound, "no event is installed")
            }
            return try database.cachedReport(event: event).report
        }
    }
}

/// `GET /v1/reconciliation`.
private struct ReconciliationBody: Encodable {
    var event: String
    var generatedAt: String
    var inputDigest: String
    var inputs: [ChainHead]
    var attendance: [AttendanceRow]
    var findings: [Finding]

    enum CodingKeys: String, CodingKey {
        case event
        case generatedAt = "generated_at"
        case inputDigest = "input_digest"
        case inputs, attendance, findings
    }
}

/// `GET /v1/results`.
private struct ResultsBody: Encodable {
    var event: String
    var generatedAt: String
    var inputDigest: String
    var results: [ResultsTable]

    enum CodingKeys: String, CodingKey {
        case event
        case generatedAt = "generated_at"
        case inputDigest = "input_digest"
        case results
    }
}
