import Foundation
import Shared

/// A CSV file that cannot be imported: the line and what is wrong. Nothing of the file was saved.
public struct ImportError: Error, CustomStringConvertible {
    public var file: String
    public var line: Int
    public var message: String

    public var description: String { "\(file):\(line): \(message); nothing of this file was imported" }
}

/// Bulk entry from CSV exports (ballot scanners, phone platforms). See docs/venue-node.md.
public enum CSVImport {
    /// `session` and one of `rep`, `card_code`, `id_number`, with an optional `category`: one check-in a row.
    public static func checkins(_ table: CSVTable) throws(CSVTable.ParseError) -> [(line: Int, request: CheckinRequest)]
    {
        try requireDistinctColumns(table)
        let session = try table.column("session")
        let rep = table.header.firstIndex(of: "rep")
        let card = table.header.firstIndex(of: "card_code")
        let idNumber = table.header.firstIndex(of: "id_number")
        let category = table.header.firstIndex(of: "category")
        guard rep != nil || card != nil || idNumber != nil else {
            throw CSVTable.ParseError(line: 1, message: "the header needs a rep, card_code or id_number column")
        }
        return table.rows.map { row in
            func field(_ index: Int?) -> String? {
                index.flatMap { row.fields[$0].trimmed.isEmpty ? nil : row.fields[$0].trimmed }
            }
            return (
                row.line,
                CheckinRequest(
                    session: row.fields[session].trimmed, rep: field(rep), card: field(card),
                    idNumber: field(idNumber), category: field(category))
            )
        }
    }

    /// `session,box,status,<department ids…>`: one ballot a row; `status` is valid, blank or spoiled;
    /// a valid ballot has a mark id in the column of every department on its session's ballot and
    /// nothing in the others.
    public static func ballots(_ table: CSVTable) throws(CSVTable.ParseError) -> [(line: Int, payload: RecordPayload)] {
        try requireDistinctColumns(table)
        let session = try table.column("session")
        let box = try table.column("box")
        let status = try table.column("status")
        let departmentColumns = table.header.indices.filter { ![session, box, status].contains($0) }
        var result: [(line: Int, payload: RecordPayload)] = []
        for row in table.rows {
            let statusText = row.fields[status].trimmed
            guard let ballotStatus = RecordPayload.BallotStatus(rawValue: statusText) else {
                throw CSVTable.ParseError(
                    line: row.line,
                    message: "status \"\(statusText)\" must be valid, blank or spoiled")
            }
            var marks: [String: String] = [:]
            for column in departmentColumns where !row.fields[column].trimmed.isEmpty {
                marks[table.header[column]] = row.fields[column].trimmed
            }
            result.append(
                (
                    row.line,
                    .ballot(
                        .init(
                            session: row.fields[session].trimmed, box: row.fields[box].trimmed,
                            status: ballotStatus, marks: marks))
                ))
        }
        return result
    }
}

extension CSVImport {
    /// A column named twice is refused: which of the two would count is a guess.
    static func requireDistinctColumns(_ table: CSVTable) throws(CSVTable.ParseError) {
        var seen: Set<String> = []
        for name in table.header.map(\.trimmed) where !seen.insert(name).inserted {
            throw CSVTable.ParseError(
                line: 1,
                message: "column \"\(name)\" appears twice in the header; "
                    + "each column may appear once")
        }
    }
}

extension String {
    var trimmed: String { trimmingCharacters(in: .whitespaces) }
}
