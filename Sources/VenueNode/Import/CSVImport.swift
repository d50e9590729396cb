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
    /// Columns a forms file may have besides the answer keys of the event's surveys.
    static let formColumns = ["session", "box", "kind", "text", "departments", "topic", "contact", "consent"]

    /// `session,box,kind` and, per kind: a survey or discipline survey answers in the columns named by its answer keys
    /// (`safety`, `service:D01`, `hint`; an empty cell is a question left unanswered); a suggestion has `text`, and
    /// optionally `departments` (separated by `;`), `topic`, and `contact` with `consent` = yes. A suggestion's numbers
    /// are masked as `venue-node form` masks them. A column that is neither is refused, as is a cell of another kind.
    public static func forms(_ table: CSVTable, event: EventDefinition) throws(CSVTable.ParseError)
        -> [(line: Int, payload: RecordPayload)]
    {
        try requireDistinctColumns(table)
        let session = try table.column("session")
        let box = try table.column("box")
        let kind = try table.column("kind")
        let answerKeys = Set(
            event.sessions.flatMap { session in
                [RecordPayload.FormKind.survey, .discipline].flatMap { event.answerKeys($0, session: session.id) }
                    .map(\.key)
            })
        for (index, name) in table.header.enumerated() where !formColumns.contains(name.trimmed) {
            guard answerKeys.contains(name.trimmed) else {
                throw CSVTable.ParseError(
                    line: 1,
                    message:
                        "column \"\(name)\" (column \(index + 1)) is neither a survey question of the event nor one of "
                        + formColumns.joined(separator: ", "))
            }
        }
        func column(_ name: String) -> Int? { table.header.firstIndex { $0.trimmed == name } }
        let suggestionColumns = ["text", "departments", "topic", "contact", "consent"].compactMap(column)
        let answerColumns = table.header.indices.filter { answerKeys.contains(table.header[$0].trimmed) }
        var result: [(line: Int, payload: RecordPayload)] = []
        for row in table.rows {
            func cell(_ index: Int?) -> String? {
                guard let index, index < row.fields.count else { return nil }
                let text = row.fields[index].trimmed
                return text.isEmpty ? nil : text
            }
            guard let form = cell(kind).flatMap(RecordPayload.FormKind.init(rawValue:)) else {
                throw CSVTable.ParseError(
                    line: row.line,
                    message: "kind \"\(cell(kind) ?? "")\" must be "
                        + RecordPayload.FormKind.allCases.map(\.rawValue).joined(separator: ", "))
            }
            let place = (session: cell(session) ?? "", box: cell(box) ?? "")
            switch form {
            case .survey, .discipline:
                if let filled = suggestionColumns.first(where: { cell($0) != nil }) {
                    throw CSVTable.ParseError(
                        line: row.line,
                        message: "a \(form.rawValue) form is anonymous: column \(table.header[filled]) must be empty")
                }
                var answers: [String: String] = [:]
                for index in answerColumns {
                    if let answer = cell(index) { answers[table.header[index].trimmed] = answer }
                }
                result.append(
                    (row.line, .form(.init(session: place.session, box: place.box, form: form, answers: answers))))
            case .suggestion:
                if let filled = answerColumns.first(where: { cell($0) != nil }) {
                    throw CSVTable.ParseError(
                        line: row.line, message: "a suggestion answers no survey question (\(table.header[filled]))")
                }
                guard let text = cell(column("text")) else {
                    throw CSVTable.ParseError(line: row.line, message: "a suggestion needs its text")
                }
                let consent = cell(column("consent"))
                guard consent == nil || ["yes", "no", "是", "否"].contains(consent!) else {
                    throw CSVTable.ParseError(line: row.line, message: "consent \"\(consent!)\" must be yes or no")
                }
                let contact = cell(column("contact"))
                if contact != nil, !["yes", "是"].contains(consent ?? "") {
                    throw CSVTable.ParseError(
                        line: row.line,
                        message: "a contact is kept only when the citizen consented to be called back (consent = yes)")
                }
                result.append(
                    (
                        row.line,
                        .form(
                            .suggestion(
                                session: place.session, box: place.box, text: text,
                                departments: cell(column("departments")).map {
                                    $0.split(separator: ";").map { $0.trimmingCharacters(in: .whitespaces) }
                                }, topic: cell(column("topic")), contact: contact))
                    ))
            }
        }
        return result
    }

    /// Imports a CSV file of check-ins or ballots, all rows or none, after an import record (`importRows`): the
    /// command line's `import` and the desk's upload both come here. Check-ins are judged against the roster by
    /// `desk`; ballots are saved in a random order (nothing of the order in which they were typed, which might follow
    /// the check-in desk, is kept). Throws `ImportError` naming the line, or `NodeDatabase.AlreadyImported`.
    public static func importFile(
        _ bytes: Data, file: String, checkins: Bool, forms: Bool = false, again: Bool, clerk: String? = nil,
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
            } else if forms {
                // Surveys are anonymous like ballots: saved in a random order.
                rows = try CSVImport.forms(table, event: event).shuffled()
            } else {
                rows = try CSVImport.ballots(table).shuffled()
            }
        } catch let error as CSVTable.ParseError {
            throw ImportError(file: file, line: error.line, message: error.message)
        }
        do {
            return try database.importRows(
                rows.map(\.payload), form: checkins ? "checkins" : forms ? "forms" : "ballots", file: name,
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
