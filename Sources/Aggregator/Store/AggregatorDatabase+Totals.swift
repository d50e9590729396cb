import Foundation
import GRDB
import Shared

extension AggregatorDatabase {
    /// The running totals, in a stable order (venue, session, then the rest), zero rows left out.
    public func totals(eventID: String) throws -> Totals {
        try reading { db in
            let tallies = try Row.fetchAll(
                db,
                sql: """
                    SELECT venue, session, department, mark, count FROM tally WHERE count != 0
                    ORDER BY venue, session, department, mark
                    """
            ).map {
                Totals.Tally(
                    venue: $0["venue"], session: $0["session"], department: $0["department"],
                    mark: $0["mark"], count: $0["count"])
            }
            let attendance = try Row.fetchAll(
                db,
                sql: """
                    SELECT venue, session, category, checkedIn FROM attendance WHERE checkedIn != 0
                    ORDER BY venue, session, category
                    """
            ).map {
                Totals.Attendance(
                    venue: $0["venue"], session: $0["session"], category: $0["category"],
                    checkedIn: $0["checkedIn"])
            }
            let boxes = try Row.fetchAll(
                db,
                sql: """
                    SELECT * FROM boxTotal
                    WHERE opened != 0 OR closed != 0 OR issued != 0 OR returned != 0 OR valid != 0 OR blank != 0 OR spoiled != 0
                    ORDER BY venue, session, box
                    """
            ).map {
                Totals.Box(
                    venue: $0["venue"], session: $0["session"], box: $0["box"], opened: $0["opened"],
                    closed: $0["closed"], issued: $0["issued"],
                    returned: $0["returned"], valid: $0["valid"], blank: $0["blank"], spoiled: $0["spoiled"])
            }
            return Totals(event: eventID, tallies: tallies, attendance: attendance, boxes: boxes)
        }
    }

    /// The forms other than the ballot, counted (issue #17): per box and kind, and per survey question and answer;
    /// zero rows left out, in a stable order.
    public func formTotals() throws -> FormTotals {
        try reading { db in
            let boxes = try Row.fetchAll(
                db,
                sql: """
                    SELECT venue, session, box, form, returned, entered FROM formTotal
                    WHERE returned != 0 OR entered != 0 ORDER BY venue, session, box, form
                    """
            ).compactMap { row -> FormTotals.Box? in
                guard let form = RecordPayload.FormKind(rawValue: row["form"]) else { return nil }
                return FormTotals.Box(
                    venue: row["venue"], session: row["session"], box: row["box"], form: form,
                    returned: row["returned"], entered: row["entered"])
            }
            let answers = try Row.fetchAll(
                db,
                sql: """
                    SELECT venue, session, form, question, option, count FROM formAnswer
                    WHERE count != 0 ORDER BY venue, session, form, question, option
                    """
            ).compactMap { row -> FormTotals.Answer? in
                guard let form = RecordPayload.FormKind(rawValue: row["form"]) else { return nil }
                return FormTotals.Answer(
                    venue: row["venue"], session: row["session"], form: form, question: row["question"],
                    option: row["option"], count: row["count"])
            }
            return FormTotals(boxes: boxes, answers: answers)
        }
    }
}
