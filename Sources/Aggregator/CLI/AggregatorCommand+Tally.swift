import ArgumentParser
import DaemonSupport
import Foundation
import Shared

extension AggregatorCommand {
    struct Tally: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Tallies of departments evaluated outside the public sessions, entered at the central office.",
            discussion: """
                A department marked "evaluated_outside": true in the event file is on no session's ballot: city
                organs evaluate it internally, and the central office enters its counts here, attributed and
                signed with the aggregator's key, so the report ranks every department together. A correction is
                a new entry, with its reason, that replaces the one in effect. See docs/reconciliation.md. Examples:
                  aggregator tally enter --data-dir DIR --department D20 --count satisfied=120 --count basically_satisfied=30 --source "市直机关工委评议汇总表（2022-01-15）" --by "王芳"
                  aggregator tally list --data-dir DIR
                """,
            subcommands: [Enter.self, List.self])

        struct Enter: ParsableCommand {
            static let configuration = CommandConfiguration(
                abstract: "Enter one department's tally (all marks at once).")
            @OptionGroup var data: StoreOption
            @OptionGroup var identity: IdentityKeyOption
            @Option(help: "Department id (one marked evaluated_outside in the event file).") var department: String
            @Option(help: "MARK=N, once per mark (marks not given count 0).") var count: [String] = []
            @Option(help: "Where the counts come from: the organ and its signed-off sheet.") var source: String
            @Option(help: "Who enters them.") var by: String
            @Option(help: "Why, when this entry corrects the one in effect (required then).") var reason: String?

            func run() throws {
                var counts: [String: Int] = [:]
                for item in count {
                    let parts = item.split(separator: "=", maxSplits: 1).map(String.init)
                    guard parts.count == 2, let value = Int(parts[1].trimmingCharacters(in: .whitespaces)) else {
                        throw AggregatorError("--count \(item): give MARK=N, e.g. satisfied=120; nothing was saved")
                    }
                    let mark = parts[0].trimmingCharacters(in: .whitespaces)
                    guard counts[mark] == nil else {
                        throw AggregatorError("--count \(mark) is given twice; nothing was saved")
                    }
                    counts[mark] = value
                }
                let (database, event) = try data.openWithEvent()
                let key = try data.key(identity)
                let entry = try database.enterOutsideTally(
                    event: event.definition, department: department, counts: counts, source: source, by: by,
                    reason: reason, key: key)
                print(
                    "entered tally \(entry.id) for department \(department): "
                        + event.definition.marks.map { "\($0.id)=\(entry.entry.counts[$0.id] ?? 0)" }
                        .joined(separator: " ")
                        + (entry.entry.replaces.map { " (replaces entry \($0))" } ?? "")
                        + "; signed \(entry.signature.prefix(16))…")
            }
        }

        struct List: ParsableCommand {
            static let configuration = CommandConfiguration(abstract: "List every entry, replaced ones too.")
            @OptionGroup var data: StoreOption
            @OptionGroup var identity: IdentityKeyOption
            @Flag(help: "Print JSON.") var json = false

            func run() throws {
                let database = try data.open()
                let entries = try database.outsideTallies()
                if json {
                    print(try JSONCoding.string(entries, .pretty))
                    return
                }
                if entries.isEmpty { print("no tallies entered") }
                // The key in use here: an entry signed by another key is said so.
                let current = try? data.key(identity).publicKey.rawRepresentation
                    .base64EncodedString()
                for entry in entries {
                    let state =
                        !entry.verified
                        ? "DOES NOT VERIFY"
                        : entry.publicKey == current ? "signed by this aggregator" : "signed by another key"
                    print(
                        "entry \(entry.id): \(entry.entry.department) "
                            + entry.entry.counts.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }
                            .joined(separator: " ")
                            + " by \(entry.entry.enteredBy) at \(entry.entry.enteredAt) [\(state)]"
                            + (entry.replacedBy.map { " replaced by entry \($0)" } ?? " in effect"))
                    print("    source: \(entry.entry.source)" + (entry.entry.reason.map { "; reason: \($0)" } ?? ""))
                }
            }
        }
    }
}
