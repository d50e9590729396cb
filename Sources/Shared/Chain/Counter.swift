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
    /// Marks given to a department from one box (results per category, where a box serves one category).
    case boxMark(session: String, box: String, department: String, mark: String)
    /// Forms of a kind other than the ballot a box returned, as declared when it closed (version 5).
    case formsReturned(session: String, box: String, form: RecordPayload.FormKind)
    /// Forms of that kind entered from the box.
    case formsEntered(session: String, box: String, form: RecordPayload.FormKind)
    /// Answers given to a survey's question (a question's id, or `question:department`).
    case answer(session: String, form: RecordPayload.FormKind, question: String, option: String)
}

extension RecordPayload {
    /// What this record adds to the totals, one entry per counter. A correction adds nothing itself: the
    /// store subtracts the corrected record's contribution and adds that of the replacement.
    public var contribution: [(counter: Counter, value: Int)] {
        switch self {
        case .checkin(let value):
            return [(.attendance(session: value.session, category: value.category), 1)]
        case .boxOpened(let value):
            return [(.boxOpened(session: value.session, box: value.box), 1)]
        case .boxClosed(let value):
            var result: [(counter: Counter, value: Int)] = [
                (.boxClosed(session: value.session, box: value.box), 1),
                (.issued(session: value.session, box: value.box), value.issued),
                (.returned(session: value.session, box: value.box), value.returned),
            ]
            for (name, count) in value.forms ?? [:] {
                guard let form = FormKind(rawValue: name) else { continue }
                result.append((.formsReturned(session: value.session, box: value.box, form: form), count))
            }
            return result
        case .form(let value):
            var result: [(counter: Counter, value: Int)] = [
                (.formsEntered(session: value.session, box: value.box, form: value.form), 1)
            ]
            for (question, option) in value.answers ?? [:] {
                result.append(
                    (.answer(session: value.session, form: value.form, question: question, option: option), 1))
            }
            return result
        case .ballot(let value):
            // Departments are the keys of `marks`: each counter below appears once.
            var result: [(counter: Counter, value: Int)] = [
                (.ballots(session: value.session, box: value.box, status: value.status), 1)
            ]
            result.reserveCapacity(1 + 2 * value.marks.count)
            for (department, mark) in value.marks {
                result.append((.mark(session: value.session, department: department, mark: mark), 1))
                result.append((.boxMark(session: value.session, box: value.box, department: department, mark: mark), 1))
            }
            return result
        case .correction(let value):
            return value.replacement?.contribution ?? []
        case .imported:
            return []
        }
    }
}

extension Totals {
    /// The totals of one venue from its counters (a node's own view).
    public init(event: String, venue: String, counters: [Counter: Int]) {
        var tallies: [Totals.Tally] = []
        var attendance: [Totals.Attendance] = []
        var boxes: [String: Totals.Box] = [:]
        func box(_ session: String, _ id: String, _ update: (inout Totals.Box) -> Void) {
            var value =
                boxes["\(session)/\(id)"]
                ?? Totals.Box(
                    venue: venue, session: session, box: id, opened: 0,
                    closed: 0, issued: 0, returned: 0, valid: 0, blank: 0,
                    spoiled: 0)
            update(&value)
            boxes["\(session)/\(id)"] = value
        }
        for (counter, value) in counters where value != 0 {
            switch counter {
            case .attendance(let session, let category):
                attendance.append(.init(venue: venue, session: session, category: category, checkedIn: value))
            case .mark(let session, let department, let mark):
                tallies.append(.init(venue: venue, session: session, department: department, mark: mark, count: value))
            case .boxMark, .formsReturned, .formsEntered, .answer:
                // Forms are shown by the aggregator's form totals (`FormTotals`), not in these rows.
                break
            case .boxOpened(let session, let id): box(session, id) { $0.opened += value }
            case .boxClosed(let session, let id): box(session, id) { $0.closed += value }
            case .issued(let session, let id): box(session, id) { $0.issued += value }
            case .returned(let session, let id): box(session, id) { $0.returned += value }
            case .ballots(let session, let id, let status):
                box(session, id) { box in
                    switch status {
                    case .valid: box.valid += value
                    case .blank: box.blank += value
                    case .spoiled: box.spoiled += value
                    }
                }
            }
        }
        self.init(
            event: event,
            tallies: tallies.sorted { ($0.session, $0.department, $0.mark) < ($1.session, $1.department, $1.mark) },
            attendance: attendance.sorted { ($0.session, $0.category) < ($1.session, $1.category) },
            boxes: boxes.values.sorted { ($0.session, $0.box) < ($1.session, $1.box) })
    }
}
