import ArgumentParser
import DaemonSupport
import Foundation
import Shared

extension VenueNodeCommand {
    struct Report: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "The venue's own reconciliation, offline: attendance against quota, boxes, people, corrections.",
            discussion: "Example: venue-node report --data-dir DIR --lang en")

        @OptionGroup var data: DataDirectoryOption
        @Flag(help: "Print JSON.") var json = false
        @Option(help: "The report's language.") var lang = LanguageArgument(.zh)
        @Flag(help: "List every finding, attendance per category included.") var allFindings = false

        func run() throws {
            let (directory, database) = try data.open()
            let input = try database.reconciliationInput(event: directory.event, venue: directory.configuration.venue)
            let attendance = Reconciliation.attendance(input)
            let findings = Reconciliation.findings(input)
            if json {
                struct Body: Encodable {
                    var venue: String
                    var attendance: [AttendanceRow]
                    var findings: [Finding]
                }
                let body = Body(venue: directory.configuration.venue, attendance: attendance, findings: findings)
                print(try JSONCoding.string(body, .pretty))
                return
            }
            let language = lang.language
            print(ReportText.sessions(event: directory.event.definition, language: language))
            print("")
            print(ReportText.attendance(attendance, event: directory.event.definition, language: language))
            print("")
            print(ReportText.findings(findings, language: language, all: allFindings))
        }
    }
}
