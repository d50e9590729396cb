import Crypto
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
    /// Imports a CSV file of check-ins or ballots, all rows or none, after an import record (`importRows`): the
    /// command line's `import` and the desk's upload both come here. Check-ins are judged against the roster by
    /// `desk`; ballots are saved in a random order (nothing of the order in which they were typed, which might follow
    /// the check-in desk, is kept). Throws `ImportError` naming the line, or `NodeDatabase.AlreadyImported`.
    public static func importFile(
        _ bytes: Data, file: String, checkins: Bool, again: Bool, clerk: String? = nil,
        desk: () throws -> CheckinDesk, database: NodeDatabase, event: EventDefinition
    ) throws -> [ChainedRecord] {
        var rows: [(line: Int, payload: RecordPayload)] = []
        let name = Self.recordedName(file)
        do {
            let table = try CSVTable(data: bytes)
            if checkins {
                let desk = try desk()
                let now = Date().formatted(.iso8601)
                for (line, request) in try CSVImport.checkins(table) {
                    do {
                        rows.append((line, .checkin(try desk.judge(request, at: now))))
                    } catch {
                        throw ImportError(file: file, line: line, message: error.message)
                    }
                }
            } else {
                rows = try CSVImport.ballots(table).shuffled()
            }
        } catch let error as CSVTable.ParseError {
            throw ImportError(file: file, line: error.line, message: error.message)
        }
        do {
            return try database.importRows(
                rows.map(\.payload), form: checkins ? "checkins" : "ballots", file: name,
                bytesDigest: SHA256.hash(data: bytes).hexString, again: again, event: event, clerk: clerk)
        } catch let error as AppendError {
            throw ImportError(
                file: file, line: error.index >= 0 ? rows[error.index].line : 1, message: error.rejection.message)
        }
    }

    /// The file's name as the import record keeps it: no directory, one line of at most 120 characters, no control
    /// or formatting characters (a line break, a right-to-left override); `import.csv` when nothing is left.
    static func recordedName(_ file: String) -> String {
        let base = URL(filePath: file).lastPathComponent
        var scalars = String.UnicodeScalarView()
        for scalar in base.unicodeScalars where scalars.count < 120 {
            let category = scalar.properties.generalCategory
            if ![.control, .format, .lineSeparator, .paragraphSeparator].contains(category) { scalars.append(scalar) }
        }
        let kept = String(scalars).trimmingCharacters(in: .whitespaces)
        return kept.isEmpty ? "import.csv" : kept
    }

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
