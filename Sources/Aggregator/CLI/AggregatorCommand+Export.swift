import ArgumentParser
import Foundation
import Shared

extension AggregatorCommand {
    struct Export: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Print the running totals.",
            discussion: "Example: aggregator export tallies --data-dir DIR --csv",
            subcommands: [Tallies.self, Attendance.self, Boxes.self])

        struct Format: ParsableArguments {
            @Flag(help: "CSV for scripts and spreadsheets.") var csv = false
            @Flag(help: "JSON.") var json = false
        }

        struct Tallies: ParsableCommand {
            static let configuration = CommandConfiguration(
                abstract: "Marks per venue, session, department: venue,session,department,mark,count")
            @OptionGroup var data: StoreOption
            @OptionGroup var format: Format

            func run() throws {
                let (database, event) = try data.openWithEvent()
                let totals = try database.totals(eventID: event.definition.id)
                try emit(
                    format, header: ["venue", "session", "department", "mark", "count"], json: totals.tallies,
                    rows: totals.tallies.map { [$0.venue, $0.session, $0.department, $0.mark, "\($0.count)"] })
            }
        }

        struct Attendance: ParsableCommand {
            static let configuration = CommandConfiguration(abstract: "Check-ins: venue,session,category,checked_in")
            @OptionGroup var data: StoreOption
            @OptionGroup var format: Format

            func run() throws {
                let (database, event) = try data.openWithEvent()
                let totals = try database.totals(eventID: event.definition.id)
                try emit(
                    format, header: ["venue", "session", "category", "checked_in"], json: totals.attendance,
                    rows: totals.attendance.map { [$0.venue, $0.session, $0.category, "\($0.checkedIn)"] })
            }
        }

        struct Boxes: ParsableCommand {
            static let configuration = CommandConfiguration(
                abstract: "Boxes: venue,session,box,opened,closed,issued,returned,valid,blank,spoiled")
            @OptionGroup var data: StoreOption
            @OptionGroup var format: Format

            func run() throws {
                let (database, event) = try data.openWithEvent()
                let totals = try database.totals(eventID: event.definition.id)
                try emit(
                    format,
                    header: [
                        "venue", "session", "box", "opened", "closed", "issued", "returned", "valid",
                        "blank", "spoiled",
                    ],
                    json: totals.boxes,
                    rows: totals.boxes.map {
                        [
                            $0.venue, $0.session, $0.box, "\($0.opened)", "\($0.closed)", "\($0.issued)",
                            "\($0.returned)", "\($0.valid)", "\($0.blank)", "\($0.spoiled)",
                        ]
                    })
            }
        }
    }
}

/// Prints totals as a table, CSV (--csv) or JSON (--json).
private func emit(
    _ format: AggregatorCommand.Export.Format, header: [String], json: some Encodable,
    rows: [[String]]
) throws {
    if format.json {
        print(try JSONCoding.string(json, .pretty))
    } else if format.csv {
        print(CSVWriter.line(header))
        for row in rows { print(CSVWriter.line(row)) }
    } else {
        printTable(header: header, rows: rows)
    }
}
