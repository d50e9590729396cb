import ArgumentParser
import DaemonSupport
import Foundation
import Shared

extension AggregatorCommand {
    struct Migrate: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Copy an aggregator's event from its data directory into a new PostgreSQL database.",
            discussion: """
                Copies everything (chains and their signed batches, alarms and their evidence, totals, the roster's \
                person keys, tokens as their hashes, held-out decisions, outside tallies, suggestions and their \
                handling) in one transaction, and commits only once the copy is proved: the same rows in every table, \
                the same head of every venue chain, the same report (input digest, attendance, findings, results). \
                The aggregator must be stopped (its data directory is locked meanwhile); the database must be empty. \
                Afterwards the directory is sealed (its tables refuse every write, its commands and serve refuse it): \
                serve every replica with --database URL --identity-key DIR/aggregator.key (docs/scale.md).
                Example: aggregator migrate --from /var/lib/sanmin/aggregator --to postgres://tally@db1:5432/tally
                """)
        @Option(help: ArgumentHelp("The aggregator's data directory.", valueName: "dir")) var from: String
        @Option(
            help: ArgumentHelp(
                "The PostgreSQL database (postgres://USER[:PASSWORD]@HOST[:PORT]/DATABASE), empty.", valueName: "url"))
        var to: String

        func run() throws {
            let data = AggregatorDataOption(path: from)
            try data.requireDatabase()
            // No aggregator serves the directory while it is copied (and none starts).
            let lock: DataDirectoryLock
            do {
                lock = try DataDirectoryLock(directory: from, program: "aggregator migrate")
            } catch let held as DataDirectoryLock.Held {
                throw AggregatorError(
                    "the data directory \(from) is in use by "
                        + (held.holder.map { "process \($0)" } ?? "another process")
                        + " (an aggregator serve?): stop it first, so that nothing arrives while the event is copied; "
                        + "nothing was copied")
            }
            defer { withExtendedLifetime(lock) {} }
            let source = try data.open()
            let target = try PostgresStore(url: to)
            defer { target.close() }
            // The marker is written once the source is sealed and before the copy is committed (`copyEvent`).
            let copy = try target.copyEvent(
                from: source,
                moved: {
                    try "\(target.location)\n".write(toFile: data.movedMarkerPath, atomically: true, encoding: .utf8)
                },
                unmoved: { try? FileManager.default.removeItem(atPath: data.movedMarkerPath) })
            print("copied \(from) into \(target.location):")
            for (table, count) in copy.rows where count > 0 { print("  \(table): \(count)") }
            print(
                "proved: \(copy.heads.count) venue chain head(s) equal, the same report (input digest \(copy.inputDigest))"
            )
            for head in copy.heads { print("  \(head.venue): record \(head.seq) \(head.hash.prefix(16))…") }
            print(
                "next: serve every replica with --database \(target.location) --identity-key "
                    + URL(filePath: from).appending(path: "aggregator.key").path)
        }
    }
}
