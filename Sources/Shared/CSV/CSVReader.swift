import Foundation

/// A CSV file read into rows (RFC 4180: commas, double-quoted fields with "" escapes, CRLF or LF),
/// each row with the line number it starts on, so errors can say where they are.
public struct CSVTable: Sendable {
    public struct Row: Sendable {
        /// 1-based line number of the row in the file.
        public var line: Int
        public var fields: [String]
    }

    public var header: [String]
    public var rows: [Row]

    /// A malformed file: the line and what is wrong.
    public struct ParseError: Error, Sendable, Equatable, CustomStringConvertible {
        public var line: Int
        public var message: String

        public init(line: Int, message: String) {
            self.line = line
            self.message = message
        }

        public var description: String { "line \(line): \(message)" }
    }

    /// Parses UTF-8 text (a leading byte-order mark is skipped) or GB18030 text. The first row is the header.
    public init(data raw: Data) throws(ParseError) {
        let data: Data
        do {
            data = try TextDecoding.utf8(raw)
        } catch {
            throw ParseError(line: 1, message: "\(error)")
        }
        var bytes = Substring(decoding: data, as: UTF8.self).unicodeScalars[...]
        if bytes.first == "\u{FEFF}" { bytes = bytes.dropFirst() }
        var rows: [Row] = []
        var fields: [String] = []
        var field = String.UnicodeScalarView()
        var line = 1
        var rowStart = 1
        var inQuotes = false
        var fieldWasQuoted = false
        var index = bytes.startIndex
        func endField() {
            fields.append(String(field))
            field = String.UnicodeScalarView()
            fieldWasQuoted = false
        }
        func endRow() {
            endField()
            if !(fields.count == 1 && fields[0].isEmpty) {
                rows.append(Row(line: rowStart, fields: fields))
            }
            fields = []
        }
        while index < bytes.endIndex {
            let scalar = bytes[index]
            bytes.formIndex(after: &index)
            if inQuotes {
                if scalar == "\"" {
                    if index < bytes.endIndex, bytes[index] == "\"" {
                        field.append("\"")
                        bytes.formIndex(after: &index)
                    } else {
                        inQuotes = false
                    }
                } else {
                    if scalar == "\n" { line += 1 }
                    field.append(scalar)
                }
                continue
            }
            switch scalar {
            case ",":
                endField()
            case "\r":
                break
            case "\n":
                endRow()
                line += 1
                rowStart = line
            case "\"":
                guard field.isEmpty, !fieldWasQuoted else {
                    throw ParseError(line: line, message: "a quote inside an unquoted field; quote the whole field")
                }
                inQuotes = true
                fieldWasQuoted = true
            default:
                if fieldWasQuoted {
                    throw ParseError(line: line, message: "text after the closing quote of a field")
                }
                field.append(scalar)
            }
        }
        if inQuotes {
            throw ParseError(line: rowStart, message: "a quoted field is not closed before the end of the file")
        }
        if !field.isEmpty || !fields.isEmpty { endRow() }
        guard let header = rows.first else {
            throw ParseError(line: 1, message: "the file is empty; it needs a header row")
        }
        self.header = header.fields.map { $0.trimmingCharacters(in: .whitespaces) }
        self.rows = Array(rows.dropFirst())
        for row in self.rows where row.fields.count != self.header.count {
            throw ParseError(
                line: row.line,
                message: "\(row.fields.count) field(s), but the header has \(self.header.count)")
        }
    }

    /// Index of a header column, or an error naming the columns that are required.
    public func column(_ name: String) throws(ParseError) -> Int {
        guard let index = header.firstIndex(of: name) else {
            throw ParseError(
                line: 1, message: "the header has no column \"\(name)\" (found: \(header.joined(separator: ",")))")
        }
        return index
    }
}

/// Writes CSV fields, quoting where needed.
public enum CSVWriter {
    public static func line(_ fields: [String]) -> String {
        fields.map { field in
            if field.contains(where: { $0 == "," || $0 == "\"" || $0 == "\n" || $0 == "\r" }) {
                return "\"" + field.replacingOccurrences(of: "\"", with: "\"\"") + "\""
            }
            return field
        }.joined(separator: ",")
    }
}
