import ArgumentParser
import Foundation
import Shared

extension AggregatorCommand {
    struct Alarms: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List alarms (forked chains …) with their evidence.")
        @OptionGroup var data: StoreOption

        func run() throws {
            let alarms = try data.open().alarms()
            if alarms.isEmpty { print("no alarms") }
            for alarm in alarms {
                print("#\(alarm.id ?? 0) \(alarm.raisedAt) \(alarm.kind): \(alarm.message)")
                if let evidence = alarm.evidence { print("    evidence: \(evidence)") }
            }
        }
    }
}
