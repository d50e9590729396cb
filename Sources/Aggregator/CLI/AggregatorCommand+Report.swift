import ArgumentParser
import DaemonSupport
import Foundation
import Shared

extension AggregatorCommand {
    struct Report: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Reconcile every count and compute each department's score and rank.",
            discussion: """
                Terminal tables by default (Chinese; --lang en for English), or --json, or --csv results|findings
                (UTF-8 with BOM, opens in Excel), or --html FILE (printable, with the digest of the inputs).
                Example: aggregator report --data-dir DIR --html report.html
                """)
        @OptionGroup var data: StoreOption
        @Flag(help: "Print JSON.") var json = false
        @Option(help: "Print CSV of the results or the findings.") var csv: CSVKind?
        @Option(help: "Write a printable HTML report to this file.") var html: String?
        @Option(help: "The report's language.") var lang = LanguageArgument(.zh)
        @Flag(help: "Terminal: also show results per venue and main/branch.") var allScopes = false
        @Flag(help: "Terminal: list every finding, attendance per category included.") var allFindings = false

        /// What `--csv` prints.
        enum CSVKind: String, CaseIterable, ExpressibleByArgument {
            /// Each department's score and rank, per scope.
            case results
            /// Every reconciliation finding.
            case findings
        }

        func run() throws {
            let (database, event) = try data.openWithEvent()
            let report = try Aggregator.Report.build(database: database, event: event)
            let language = lang.language
            if let html {
                try report.html(event: event.definition, language: language)
                    .write(toFile: html, atomically: true, encoding: .utf8)
                print("wrote \(html) (input digest \(report.inputDigest))")
            } else if json {
                print(try JSONCoding.string(report, .pretty))
            } else if let csv {
                switch csv {
                case .results: print(report.resultsCSV(event: event.definition), terminator: "")
                case .findings: print(report.findingsCSV(), terminator: "")
                }
            } else {
                let scopes = allScopes ? Set(report.results.map(\.scope)) : ["overall"]
                print(
                    report.terminal(
                        event: event.definition, language: language, scopes: scopes,
                        allFindings: allFindings))
            }
        }
    }
}
