import Foundation
import GRDB
import Shared

extension AggregatorDatabase {
    /// The running totals, in a stable order (venue, session, then the rest), zero rows left out.
    public func totals(eventID: String) throws -> Totals {
        try writer.read { db in
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
}
