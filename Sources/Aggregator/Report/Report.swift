import Crypto
import Foundation
import Shared

/// The reconciliation and results report: every number traces back to records, and the digest of
/// the inputs (the head of every venue chain) lets a printed copy be matched to the data.
public struct Report: Codable, Sendable {
    public var event: String
    public var title: String
    public var generatedAt: String
    /// The head of every venue chain the report was computed from.
    public var inputs: [ChainHead]
    /// SHA-256 over the event file's digest and every chain head: equal digests, equal inputs.
    public var inputDigest: String
    public var attendance: [AttendanceRow]
    /// Reserves who took absentees' places, per venue, session and category.
    public var reserves: [ReserveRow]
    public var findings: [Finding]
    public var results: [ResultsTable]
    /// Tallies of departments evaluated outside the sessions, as entered at the central office (every entry, the
    /// replaced ones too).
    public var outside: [OutsideTally]
    /// The surveys' answers and, per department, the survey's result and the combined score (issue #17); nil when the
    /// event has no survey form.
    public var surveys: SurveyResults?

    enum CodingKeys: String, CodingKey {
        case event, title
        case generatedAt = "generated_at"
        case inputs
        case inputDigest = "input_digest"
        case attendance, reserves, findings
        case results, outside, surveys
    }

    /// Builds the report from the aggregator's store, all of it from one view of the store
    /// (`AggregatorStore.withReportSnapshot`): every number agrees with the digest of the inputs.
    public static func build(database: some AggregatorStore, event: LoadedEvent, now: Date = Date()) throws -> Report {
        try buildWithCheckins(database: database, event: event, now: now).report
    }

    /// The report, the check-ins it was computed from, and what the dashboard shows beside it, from one view.
    static func buildWithCheckins(database: some AggregatorStore, event: LoadedEvent, now: Date = Date()) throws
        -> ReportBuild
    {
        try database.withReportSnapshot { reads in try build(reads: reads, event: event, now: now) }
    }

    /// The report from `reads`, which must all see one state of the store.
    static func build(reads database: any ReportReads, event: LoadedEvent, now: Date) throws -> ReportBuild {
        let definition = event.definition
        let totals = try database.totals(eventID: definition.id)
        let roster = try database.roster()
        let checkins = try database.checkinSummary(roster: roster)
        var input = ReconciliationInput(
            event: event, totals: totals, roster: roster, summary: checkins,
            corrections: try database.correctionFacts(), nodes: try database.nodeFacts(),
            alarms: try database.alarms().map { ($0.kind, $0.venue, $0.seq, $0.message) }, now: now)
        input.forms = try database.formTotals()
        let heads = try database.chainHeads()
        var hasher = SHA256()
        hasher.update(data: Data("event \(event.digest)\n".utf8))
        for head in heads { hasher.update(data: Data("\(head.venue) \(head.seq) \(head.hash)\n".utf8)) }
        // Departments evaluated outside the sessions: their entered tallies count in the overall ranking only.
        let outside = try database.outsideTallies()
        for entry in outside { hasher.update(data: Data("outside \(entry.id) \(entry.signature)\n".utf8)) }
        let outsideTallies = AggregatorDatabase.outsideTallyFacts(outside)
        var results = [
            Scoring.results(event: definition, tallies: totals.tallies + outsideTallies, scope: "overall")
        ]
        let kind = Dictionary(uniqueKeysWithValues: definition.venues.map { ($0.id, $0.kind) })
        if definition.venues.contains(where: { $0.kind == .main }) {
            results.append(
                Scoring.results(event: definition, tallies: totals.tallies, scope: "main") { kind[$0.venue] == .main })
            results.append(
                Scoring.results(event: definition, tallies: totals.tallies, scope: "branch") {
                    kind[$0.venue] == .branch
                })
        }
        for venue in definition.venues {
            results.append(
                Scoring.results(event: definition, tallies: totals.tallies, scope: "venue:\(venue.id)") {
                    $0.venue == venue.id
                })
        }
        // Per category, from the boxes that serve one category (ballots are anonymous: nothing finer).
        for category in definition.categories {
            let boxes = (definition.boxes ?? []).filter { $0.category == category.id }.map(\.id)
            guard !boxes.isEmpty else { continue }
            results.append(
                Scoring.results(
                    event: definition, tallies: try database.boxTallies(boxes: boxes),
                    scope: "category:\(category.id)"))
        }
        let scores = Dictionary(
            (results.first?.rows ?? []).compactMap { row in row.score.map { (row.department, $0) } },
            uniquingKeysWith: { first, _ in first })
        let surveys =
            definition.forms?.survey == nil && definition.forms?.discipline == nil
            ? nil : SurveyResults(forms: input.forms, event: definition, scores: scores)
        let report = Report(
            event: definition.id, title: definition.title, generatedAt: now.formatted(.iso8601), inputs: heads,
            inputDigest: hasher.finalize().hexString, attendance: Reconciliation.attendance(input),
            reserves: Reconciliation.reservesUsed(input),
            findings: (Reconciliation.findings(input) + Self.outsideFindings(outside, event: definition))
                .sorted(by: Finding.reportOrder), results: results, outside: outside, surveys: surveys)
        return ReportBuild(
            report: report, places: checkins.places, totals: totals, nodes: input.nodes,
            contacts: try database.contacts(), resultsVisible: try database.resultsVisible(event: definition))
    }

    /// A department evaluated outside the sessions without a tally yet (it cannot be ranked), and an entry whose
    /// signature does not verify (left out of the results).
    static func outsideFindings(_ entries: [OutsideTally], event: EventDefinition) -> [Finding] {
        var findings: [Finding] = []
        for department in event.departments where department.isEvaluatedOutside {
            guard entries.contains(where: { $0.entry.department == department.id && $0.replacedBy == nil }) else {
                findings.append(
                    Finding(
                        kind: .outsideTally, severity: .warning,
                        message:
                            "department \(department.id) is evaluated outside the sessions and has no tally entered "
                            + "yet: it is not ranked (aggregator tally enter)",
                        messageZh: "部门 \(department.id) 为场外评议，尚未录入结果：不参加排名（aggregator tally enter）"))
                continue
            }
        }
        for entry in entries where !entry.verified {
            findings.append(
                Finding(
                    kind: .outsideTally, severity: .error,
                    message:
                        "entry \(entry.id) for department \(entry.entry.department) does not verify with the key that "
                        + "signed it: changed after it was entered; left out of the results",
                    messageZh:
                        "部门 \(entry.entry.department) 的录入 \(entry.id) 与签署它的密钥不符：录入后被改动；不计入结果"))
        }
        return findings
    }
}
