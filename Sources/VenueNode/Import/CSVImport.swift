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
    /// `session,rep,category`: one check-in a row.
    public static func checkins(_ table: CSVTable) throws(CSVTable.ParseError) -> [(line: Int, payload: RecordPayload)] {
        let session = try table.column("session")
        let rep = try table.column("rep")
        let category = try table.column("category")
        let now = Date().formatted(.iso8601)
        return table.rows.map { row in
            (row.line, .checkin(.init(session: row.fields[session].trimmed, rep: row.fields[rep].trimmed,
                                      category: row.fields[category].trimmed, at: now)))
        }
    }

    /// `session,box,status,<department ids…>`: one ballot a row; `status` is valid, blank or spoiled;
    /// a valid ballot has a mark id in the column of every department on its session's ballot and
    /// nothing in the others.
    public static func ballots(_ table: CSVTable) throws(CSVTable.ParseError) -> [(line: Int, payload: RecordPayload)] {
        let session = try table.column("session")
        let box = try table.column("box")
        let status = try table.column("status")
        let departmentColumns = table.header.indices.filter { ![session, box, status].contains($0) }
        var result: [(line: Int, payload: RecordPayload)] = []
        for row in table.rows {
            let statusText = row.fields[status].trimmed
            guard let ballotStatus = RecordPayload.BallotStatus(rawValue: statusText) else {
                throw CSVTable.ParseError(line: row.line,
                                          message: "status \"\(statusText)\" must be valid, blank or spoiled")
            }
            var marks: [String: String] = [:]
            for column in departmentColumns where !row.fields[column].trimmed.isEmpty {
                marks[table.header[column]] = row.fields[column].trimmed
            }
            result.append((row.line, .ballot(.init(session: row.fields[session].trimmed, box: row.fields[box].trimmed,
                                                   status: ballotStatus, marks: marks))))
        }
        return result
    }
}

extension String {
    var trimmed: String { trimmingCharacters(in: .whitespaces) }
}
