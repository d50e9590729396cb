import Foundation

/// A running total that records add to. Every number the aggregator shows is a sum of counter
/// deltas, and every delta comes from one record, so each number traces back to records.
public enum Counter: Hashable, Sendable {
    /// Representatives checked in, per session and category.
    case attendance(session: String, category: String)
    /// Times a box was opened / closed (normally 1 each).
    case boxOpened(session: String, box: String)
    case boxClosed(session: String, box: String)
    /// Forms issued for a box and returned into it, as declared when the box closed.
    case issued(session: String, box: String)
    case returned(session: String, box: String)
    /// Ballots entered from a box, per status (valid, blank, spoiled).
    case ballots(session: String, box: String, status: RecordPayload.BallotStatus)
    /// Marks given to a department.
    case mark(session: String, department: String, mark: String)
}

extension RecordPayload {
    /// What this record adds to the totals. A correction adds nothing itself: the store subtracts
    /// the corrected record's contribution and adds that of the replacement.
    public var contribution: [Counter: Int] {
        switch self {
        case .checkin(let value):
            return [.attendance(session: value.session, category: value.category): 1]
        case .boxOpened(let value):
            return [.boxOpened(session: value.session, box: value.box): 1]
        case .boxClosed(let value):
            return [
                .boxClosed(session: value.session, box: value.box): 1,
                .issued(session: value.session, box: value.box): value.issued,
                .returned(session: value.session, box: value.box): value.returned,
            ]
        case .ballot(let value):
            var result: [Counter: Int] = [.ballots(session: value.session, box: value.box, status: value.status): 1]
            for (department, mark) in value.marks {
                result[.mark(session: value.session, department: department, mark: mark), default: 0] += 1
            }
            return result
        case .correction(let value):
            return value.replacement?.contribution ?? [:]
        }
    }
}
