import ArgumentParser
import Foundation
import Shared

extension AggregatorCommand {
    struct HeldOut: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "held-out",
            abstract: "Records an older release wrote that break a rule: kept in the chain, left out of the totals.",
            discussion: """
                A node of release 1 did not keep every rule the aggregator now enforces (one check-in per person,
                one close per box, ballots only into a closed box and never more than it returned). Such a
                record is kept in its venue's chain, raises a held_out alarm and counts nothing until an admin
                decides, once and for good. See docs/aggregator.md. Examples:
                  aggregator held-out list --data-dir DIR
                  aggregator held-out decide --data-dir DIR --venue dalate --seq 41 --exclude --reason "checked in twice" --by "王芳"
                """,
            subcommands: [List.self, Decide.self])

        struct List: ParsableCommand {
            static let configuration = CommandConfiguration(abstract: "List held-out records and any decision.")
            @OptionGroup var data: StoreOption
            @Flag(help: "Print JSON.") var json = false

            func run() throws {
                let records = try data.open().heldOutRecords()
                if json {
                    print(try JSONCoding.string(records, .pretty))
                    return
                }
                if records.isEmpty { print("no held-out records") }
                for record in records {
                    let state =
                        record.supersededBy.map { "corrected by record \($0)" }
                        ?? record.decision.map {
                            "decided: \($0) by \(record.decidedBy ?? "?") (\(record.reason ?? ""))"
                        }
                        ?? "undecided"
                    print("\(record.venue) record \(record.seq) [\(record.rule)] \(state)")
                    print("    \(record.message)")
                    print("    payload: \(record.payload)")
                }
            }
        }

        struct Decide: ParsableCommand {
            static let configuration = CommandConfiguration(
                abstract: "Decide, once and attributed, whether a held-out record counts.")
            @OptionGroup var data: StoreOption
            @Option(help: "Venue id.") var venue: String
            @Option(help: "Sequence number of the record in the venue's chain.") var seq: Int64
            @Flag(help: "The record counts after all (judged against the venue's records as they stand).") var count =
                false
            @Flag(help: "The record stays out of the totals for good.") var exclude = false
            @Option(help: "Why (kept with the decision).") var reason: String
            @Option(help: "Who decides.") var by: String

            func validate() throws {
                guard count != exclude else { throw ValidationError("give exactly one of --count, --exclude") }
            }

            func run() throws {
                let delta = try data.open().decideHeldOut(venue: venue, seq: seq, count: count, reason: reason, by: by)
                print(
                    count
                        ? "record \(seq) of venue \(venue) now counts (\(delta.count) total(s) changed)"
                        : "record \(seq) of venue \(venue) stays out of the totals")
            }
        }
    }
}
