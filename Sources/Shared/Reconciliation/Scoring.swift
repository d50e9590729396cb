import Foundation

/// One department's result within a scope (overall, a venue, main or branch venues).
public struct DepartmentResult: Codable, Sendable, Equatable {
    public var department: String
    public var name: String
    /// Mark id → number of ballots giving it.
    public var counts: [String: Int]
    /// Ballots with a mark for this department.
    public var valid: Int
    /// Ballots counted in rates and scores (marks excluded from the denominator left out).
    public var denominator: Int
    /// Share of positive marks in the denominator, in percent.
    public var satisfactionRate: Double?
    /// Weighted score: the mark weights averaged over the denominator (0–100 with weights 100/60/0).
    public var score: Double?
    /// 1 for the best score; equal scores share a rank and the next rank skips (1, 2, 2, 4).
    public var rank: Int?

    public init(
        department: String, name: String, counts: [String: Int], valid: Int, denominator: Int,
        satisfactionRate: Double?, score: Double?, rank: Int?
    ) {
        self.department = department
        self.name = name
        self.counts = counts
        self.valid = valid
        self.denominator = denominator
        self.satisfactionRate = satisfactionRate
        self.score = score
        self.rank = rank
    }

    enum CodingKeys: String, CodingKey {
        case department, name, counts, valid, denominator
        case satisfactionRate = "satisfaction_rate"
        case score, rank
    }
}

/// Results of one scope.
public struct ResultsTable: Codable, Sendable, Equatable {
    /// "overall", "main", "branch" or "venue:<id>".
    public var scope: String
    public var rows: [DepartmentResult]
}

/// Turns tallies into scores and ranks, with the weights of the event file (docs/reconciliation.md).
public enum Scoring {
    /// Results over the tallies `include` keeps. With venue weights in the event, a department's score
    /// and rate are the weighted mean of its per-venue values; otherwise counts are pooled.
    public static func results(
        event: EventDefinition, tallies: [Totals.Tally], scope: String,
        include: (Totals.Tally) -> Bool = { _ in true }
    ) -> ResultsTable {
        let kept = tallies.filter(include)
        let weighted = event.venues.contains { $0.weight != nil }
        var rows: [DepartmentResult] = []
        for department in event.departments {
            let mine = kept.filter { $0.department == department.id }
            var counts: [String: Int] = [:]
            for tally in mine { counts[tally.mark, default: 0] += tally.count }
            var row = pooled(event: event, department: department, counts: counts)
            // A department evaluated outside the sessions has no venues to weigh: its tallies count as they are.
            if weighted && !department.isEvaluatedOutside {
                var scoreSum = 0.0
                var rateSum = 0.0
                var weightSum = 0.0
                for venue in event.venues {
                    var venueCounts: [String: Int] = [:]
                    for tally in mine where tally.venue == venue.id {
                        venueCounts[tally.mark, default: 0] += tally.count
                    }
                    let venueRow = pooled(event: event, department: department, counts: venueCounts)
                    guard let score = venueRow.score, let rate = venueRow.satisfactionRate else { continue }
                    let weight = venue.weight ?? 0
                    scoreSum += weight * score
                    rateSum += weight * rate
                    weightSum += weight
                }
                row.score = weightSum > 0 ? scoreSum / weightSum : nil
                row.satisfactionRate = weightSum > 0 ? rateSum / weightSum : nil
            }
            rows.append(row)
        }
        return ResultsTable(scope: scope, rows: rank(rows))
    }

    static func pooled(
        event: EventDefinition, department: EventDefinition.Department,
        counts: [String: Int]
    ) -> DepartmentResult {
        let valid = counts.values.reduce(0, +)
        var denominator = 0
        var positive = 0
        var weightedSum = 0.0
        for mark in event.marks where !mark.isExcluded {
            let count = counts[mark.id] ?? 0
            denominator += count
            if mark.isPositive { positive += count }
            weightedSum += Double(count) * mark.weight
        }
        return DepartmentResult(
            department: department.id, name: department.name, counts: counts, valid: valid, denominator: denominator,
            satisfactionRate: denominator > 0 ? Double(positive) * 100 / Double(denominator) : nil,
            score: denominator > 0 ? weightedSum / Double(denominator) : nil, rank: nil)
    }

    /// Competition ranking by score, highest first; scores equal to 1/10,000 share a rank; departments
    /// without a score come last, unranked. Equal ranks are listed by department id.
    public static func rank(_ rows: [DepartmentResult]) -> [DepartmentResult] {
        func key(_ score: Double?) -> Int? { score.map { Int(($0 * 10_000).rounded()) } }
        var sorted = rows.sorted { a, b in
            switch (key(a.score), key(b.score)) {
            case let (x?, y?) where x != y: return x > y
            case (nil, _?): return false
            case (_?, nil): return true
            default: return a.department < b.department
            }
        }
        for index in sorted.indices where sorted[index].score != nil {
            if index > 0, key(sorted[index - 1].score) == key(sorted[index].score) {
                sorted[index].rank = sorted[index - 1].rank
            } else {
                sorted[index].rank = index + 1
            }
        }
        return sorted
    }
}
