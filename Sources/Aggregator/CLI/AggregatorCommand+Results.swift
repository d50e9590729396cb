import ArgumentParser
import Foundation
import Shared

extension AggregatorCommand {
    struct Results: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Release the results of a confidential event.", subcommands: [Release.self])

        struct Release: ParsableCommand {
            static let configuration = CommandConfiguration(
                abstract: "From now on the dashboard and the API show the department results (kept on record).",
                discussion: "Example: aggregator results release --data-dir DIR --by \"监督检查组 张勇\"")
            @OptionGroup var data: StoreOption
            @Option(help: "Who releases them.") var by: String

            func run() throws {
                let database = try data.open()
                if let release = try database.resultsRelease() {
                    print("the results were already released at \(release.at) by \(release.by)")
                    return
                }
                try database.releaseResults(by: by)
                print("results released by \(by)")
            }
        }
    }
}
