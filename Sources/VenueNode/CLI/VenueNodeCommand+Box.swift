import ArgumentParser
import Foundation
import Shared

extension VenueNodeCommand {
    struct Box: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Record that ballot boxes were opened or closed.",
            subcommands: [Open.self, Close.self])

        struct Open: ParsableCommand {
            static let configuration = CommandConfiguration(
                abstract: "Record that boxes were opened: one, several, or every box listed in a file.",
                discussion: """
                    Example: venue-node box open --data-dir DIR --session S1 --box B1
                    Several at once, all or none: --box B1 --box B2 --box B3, or --file boxes.csv (a column `box`,
                    and `session` unless --session is given).
                    """)
            @OptionGroup var data: DataDirectoryOption
            @Option(help: "Session id (for --box, or a file without a session column).") var session: String?
            @Option(name: .customLong("box"), help: "Box id, e.g. B1; repeat it for several boxes.") var boxes:
                [String] = []
            @Option(help: "A CSV file of the boxes to open (columns box and, unless --session is given, session).")
            var file: String?

            func validate() throws {
                guard boxes.isEmpty != (file == nil) else {
                    throw ValidationError("give --box (one or more) or --file, one of them")
                }
                if !boxes.isEmpty && session == nil { throw ValidationError("--box needs --session") }
            }

            func run() throws {
                let now = Date().formatted(.iso8601)
                let opened: [(line: Int?, session: String, box: String)]
                if let file {
                    opened = try BoxFile.read(file, session: session, counts: false).map {
                        ($0.line, $0.session, $0.box)
                    }
                } else {
                    opened = boxes.map { (nil, session!, $0) }
                }
                try saveBoxes(
                    opened.map { ($0.line, RecordPayload.boxOpened(.init(session: $0.session, box: $0.box, at: now))) },
                    data: data, file: file)
            }
        }

        struct Close: ParsableCommand {
            static let configuration = CommandConfiguration(
                abstract: "Record that boxes were closed, with the forms issued for each and returned into it.",
                discussion: """
                    Example: venue-node box close --data-dir DIR --session S1 --box B1 --issued 400 --returned 398
                    A phone box (one with voting codes) returns the ballots cast on phones: give the unused slips
                    counted back instead, and its sealed ballots are appended, shuffled, with the closing record:
                    venue-node box close --data-dir DIR --session S1 --box E1 --unused 12
                    Many boxes at once, all or none: --file boxes.csv with columns session (unless --session is
                    given), box, issued, returned (a phone box: unused instead of issued, returned left empty).
                    """)
            @OptionGroup var data: DataDirectoryOption
            @Option(help: "Session id.") var session: String?
            @Option(help: "Box id.") var box: String?
            @Option(help: "Forms issued.") var issued: Int?
            @Option(help: "Forms returned into the box (a phone box: the ballots cast, which it counts itself).")
            var returned: Int?
            @Option(help: "A phone box: the slips not handed out, counted back (issued = printed - unused).")
            var unused: Int?
            @Option(help: "A CSV file of boxes to close (columns session, box, issued, returned[, unused]).")
            var file: String?
            @Option(help: "Suggestion forms found in the box.") var suggestions: Int?
            @Option(help: "Opinion survey forms found in the box.") var surveys: Int?
            @Option(help: "Discipline survey forms found in the box.") var discipline: Int?

            /// The other forms found in the box, by kind (none given: nil).
            var forms: [String: Int]? {
                let given = [
                    (RecordPayload.FormKind.suggestion, suggestions), (.survey, surveys), (.discipline, discipline),
                ].compactMap { kind, count in count.map { (kind.rawValue, $0) } }
                return given.isEmpty ? nil : Dictionary(uniqueKeysWithValues: given)
            }

            func validate() throws {
                if file != nil {
                    guard box == nil, issued == nil, returned == nil, unused == nil, forms == nil else {
                        throw ValidationError("with --file, the counts come from the file: give no --box or counts")
                    }
                } else {
                    guard session != nil, box != nil else {
                        throw ValidationError("give --session and --box, or --file")
                    }
                }
            }

            func run() throws {
                let (_, database) = try data.open()
                let now = Date().formatted(.iso8601)
                let rows: [BoxFile.Row] =
                    try file.map { try BoxFile.read($0, session: session, counts: true) }
                    ?? [
                        .init(
                            line: nil, session: session!, box: box!, issued: issued, returned: returned, unused: unused)
                    ]
                var payloads: [(line: Int?, payload: RecordPayload)] = []
                for row in rows {
                    let phone = try database.phoneBox(session: row.session, box: row.box)
                    let counts = try counts(row, phone: phone)
                    // A phone box's other forms are those sent on phones (issue #17): it holds no paper.
                    if let phone, let forms, forms.filter({ $0.value != 0 }) != phone.forms {
                        throw CommandFailure(
                            "box \(row.box) is a phone box: its forms are those sent on phones ("
                                + (phone.forms.isEmpty
                                    ? "none"
                                    : phone.forms.sorted { $0.key < $1.key }.map { "\($0.value) \($0.key)" }
                                        .joined(separator: ", ")) + "); give no form counts; nothing was saved")
                    }
                    let rowForms = phone.map { $0.forms.isEmpty ? nil : $0.forms } ?? forms
                    payloads.append(
                        (
                            row.line,
                            .boxClosed(
                                .init(
                                    session: row.session, box: row.box, issued: counts.issued,
                                    returned: counts.returned, at: now, forms: rowForms))
                        ))
                }
                try saveBoxes(payloads, data: data, file: file)
            }

            /// Issued and returned for a row: a phone box's from its codes, another's as given.
            func counts(_ row: BoxFile.Row, phone: PhoneBox?) throws -> (issued: Int, returned: Int) {
                let place = row.line.map { "line \($0): " } ?? ""
                if let phone {
                    guard (row.issued == nil) != (row.unused == nil) else {
                        throw CommandFailure(
                            "\(place)box \(row.box) is a phone box (\(phone.printed) codes printed): give the unused "
                                + "slips counted back or the number issued, one of them; nothing was saved")
                    }
                    if let unused = row.unused, !(0...phone.printed).contains(unused) {
                        throw CommandFailure(
                            "\(place)unused \(unused): give 0 to the \(phone.printed) codes printed; nothing was saved")
                    }
                    return (row.issued ?? (phone.printed - row.unused!), row.returned ?? phone.cast)
                }
                guard row.unused == nil else {
                    throw CommandFailure(
                        "\(place)box \(row.box) of session \(row.session) has no voting codes: unused is for phone "
                            + "boxes; give issued and returned; nothing was saved")
                }
                // A box of other forms only (the entrance box of surveys and suggestions) holds no ballot.
                if row.issued == nil, row.returned == nil, forms != nil { return (0, 0) }
                guard let issued = row.issued, let returned = row.returned else {
                    throw CommandFailure("\(place)closing box \(row.box) needs issued and returned; nothing was saved")
                }
                return (issued, returned)
            }
        }
    }
}

/// Saves box records all or none, naming the file's line of a refused one, and prints what was saved.
private func saveBoxes(_ payloads: [(line: Int?, payload: RecordPayload)], data: DataDirectoryOption, file: String?)
    throws
{
    let (directory, database) = try data.open()
    let saved: [ChainedRecord]
    do {
        saved = try appending(directory) {
            try database.append(payloads.map(\.payload), event: directory.event.definition)
        }
    } catch let error as AppendError {
        let place =
            payloads.indices.contains(error.index)
            ? payloads[error.index].line.map { "line \($0) of \(file ?? "")" } : nil
        throw CommandFailure(
            (place.map { "\($0): " } ?? "") + "\(error.rejection.message); nothing was saved")
    }
    var phoneBallots = 0
    for record in saved {
        if record.payload.contains(#""kind":"ballot""#) {
            phoneBallots += 1
        } else {
            print("saved record \(record.seq) (\(record.hash.prefix(16))…)")
        }
    }
    if phoneBallots > 0 {
        print("appended \(phoneBallots) phone ballot(s), shuffled, after the closing record(s)")
    }
}

/// A CSV file of boxes for `box open --file` and `box close --file`: `session` (unless given on the command line),
/// `box`, and to close, `issued` and `returned` (or, for a phone box, `unused`). Every row is checked before
/// anything is saved; a bad one is named by its line.
enum BoxFile {
    struct Row {
        var line: Int?
        var session: String
        var box: String
        var issued: Int?
        var returned: Int?
        var unused: Int?
    }

    static func read(_ path: String, session: String?, counts: Bool) throws -> [Row] {
        let table: CSVTable
        do {
            table = try CSVTable(data: try InputFile.read(path))
        } catch let error as CSVTable.ParseError {
            throw CommandFailure("\(path): \(error); nothing was saved")
        }
        do {
            let boxColumn = try table.column("box")
            let sessionColumn = session == nil ? try table.column("session") : nil
            let issuedColumn = counts ? table.header.firstIndex(of: "issued") : nil
            let returnedColumn = counts ? table.header.firstIndex(of: "returned") : nil
            let unusedColumn = counts ? table.header.firstIndex(of: "unused") : nil
            if counts && returnedColumn == nil && unusedColumn == nil {
                _ = try table.column("returned")
            }
            guard !table.rows.isEmpty else { throw CSVTable.ParseError(line: 2, message: "the file lists no box") }
            var seen: [String: Int] = [:]
            return try table.rows.map { row throws(CSVTable.ParseError) -> Row in
                func field(_ index: Int?) -> String? {
                    guard let index, index < row.fields.count else { return nil }
                    let text = row.fields[index].trimmingCharacters(in: .whitespaces)
                    return text.isEmpty ? nil : text
                }
                func number(_ index: Int?, _ name: String) throws(CSVTable.ParseError) -> Int? {
                    guard let text = field(index) else { return nil }
                    guard let value = Int(text), value >= 0 else {
                        throw CSVTable.ParseError(line: row.line, message: "\(name) \"\(text)\" is not a count")
                    }
                    return value
                }
                guard let box = field(boxColumn) else {
                    throw CSVTable.ParseError(line: row.line, message: "no box id")
                }
                guard let rowSession = session ?? field(sessionColumn) else {
                    throw CSVTable.ParseError(line: row.line, message: "no session id")
                }
                if let earlier = seen.updateValue(row.line, forKey: "\(rowSession)\u{1F}\(box)") {
                    throw CSVTable.ParseError(
                        line: row.line,
                        message: "box \(box) of session \(rowSession) is listed twice (also line \(earlier))")
                }
                return Row(
                    line: row.line, session: rowSession, box: box, issued: try number(issuedColumn, "issued"),
                    returned: try number(returnedColumn, "returned"), unused: try number(unusedColumn, "unused"))
            }
        } catch let error as CSVTable.ParseError {
            throw CommandFailure("\(path): \(error); nothing was saved")
        }
    }
}
