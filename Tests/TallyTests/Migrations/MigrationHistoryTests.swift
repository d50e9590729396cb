import Crypto
import Foundation
import GRDB
import Shared
import Testing

@testable import Aggregator
@testable import VenueNode

/// Migrations only ever grow: a database in the field knows each migration it ran by its name, so a landed
/// migration is never renamed, removed, reordered or edited. Tests/TallyTests/Fixtures/migrations/*.txt list
/// every landed migration (name, a tab, the SHA-256 of its SQL); the code's list must be exactly that list.
@Suite struct MigrationHistoryTests {
    struct Migration: Equatable {
        var name: String
        var digest: String
    }

    static func listed(_ migrations: [(name: String, sql: String)]) -> [Migration] {
        migrations.map { Migration(name: $0.name, digest: SHA256.hash(data: Data($0.sql.utf8)).hexString) }
    }

    static var databases: [(file: String, migrations: [(name: String, sql: String)], migrator: DatabaseMigrator)] {
        [
            ("aggregator.txt", AggregatorDatabase.migrations, AggregatorDatabase.migrator),
            ("node.txt", NodeDatabase.migrations, NodeDatabase.migrator),
        ]
    }

    static func path(_ file: String) -> String { "Tests/TallyTests/Fixtures/migrations/\(file)" }

    /// The landed migrations listed in `file`.
    static func landed(_ file: String) throws -> [Migration] {
        let text = try String(contentsOf: Fixtures.root.appending(path: path(file)), encoding: .utf8)
        return try text.split(separator: "\n").map { line in
            let fields = line.split(separator: "\t", omittingEmptySubsequences: false)
            try #require(fields.count == 2, "\(path(file)): not name<TAB>sha256: \(line)")
            return Migration(name: String(fields[0]), digest: String(fields[1]))
        }
    }

    /// What is wrong with the code's migrations against the landed ones (nothing when the lists are equal).
    static func problems(code: [Migration], landed: [Migration], file: String) -> [String] {
        var problems: [String] = []
        for (index, old) in landed.enumerated() {
            guard let now = code.first(where: { $0.name == old.name }) else {
                problems.append(
                    "a landed migration was removed or renamed: \"\(old.name)\" (line \(index + 1) of "
                        + "\(file)) is not in the code, and databases in the field know it by that name")
                continue
            }
            if now.digest != old.digest {
                problems.append(
                    "migration \"\(old.name)\" changed after it landed: add a new migration instead "
                        + "(its SQL now has SHA-256 \(now.digest), \(file) says \(old.digest))")
            }
        }
        let landedNames = landed.map(\.name)
        if problems.isEmpty, code.prefix(landed.count).map(\.name) != landedNames {
            problems.append(
                "the landed migrations must stay first and in the order of \(file): new migrations go "
                    + "after them")
        }
        for new in code where !landedNames.contains(new.name) {
            problems.append("new migration \"\(new.name)\": append its line to \(file): \(new.name)\t\(new.digest)")
        }
        return problems
    }

    @Test(arguments: [0, 1]) func theCodesMigrationsAreExactlyTheLandedOnes(database: Int) throws {
        let (file, migrations, _) = Self.databases[database]
        let problems = Self.problems(
            code: Self.listed(migrations), landed: try Self.landed(file), file: Self.path(file))
        for problem in problems { Issue.record("\(problem)") }
        #expect(problems.isEmpty)
    }

    /// PostgreSQL's migrations are frozen the same way, in their own file: each digest is of its statements joined.
    @Test func thePostgresStoresMigrationsAreExactlyTheLandedOnes() throws {
        let file = "postgres.txt"
        let code = Self.listed(PostgresMigrations.migrations.map { ($0.name, $0.statements.joined(separator: ";\n")) })
        let problems = Self.problems(code: code, landed: try Self.landed(file), file: Self.path(file))
        for problem in problems { Issue.record("\(problem)") }
        #expect(problems.isEmpty)
    }

    @Test(arguments: [0, 1]) func theMigratorRunsTheListInItsOrder(database: Int) {
        let (_, migrations, migrator) = Self.databases[database]
        #expect(migrator.migrations == migrations.map(\.name))
    }

    @Test func eachWayOfBreakingTheHistoryIsNamed() {
        let landed = [Migration(name: "v1: a", digest: "11"), Migration(name: "v2: b", digest: "22")]
        let file = "FILE"
        #expect(Self.problems(code: landed, landed: landed, file: file).isEmpty)
        #expect(
            Self.problems(code: [landed[0], Migration(name: "v2: b", digest: "99")], landed: landed, file: file)
                == [
                    "migration \"v2: b\" changed after it landed: add a new migration instead (its SQL now has SHA-256 99, "
                        + "FILE says 22)"
                ])
        let renamed = Self.problems(
            code: [landed[0], Migration(name: "v2: b renamed", digest: "22")], landed: landed,
            file: file)
        #expect(renamed.first?.hasPrefix("a landed migration was removed or renamed: \"v2: b\"") == true, "\(renamed)")
        #expect(renamed.last == "new migration \"v2: b renamed\": append its line to FILE: v2: b renamed\t22")
        #expect(
            Self.problems(code: [landed[0]], landed: landed, file: file).first?
                .hasPrefix("a landed migration was removed or renamed: \"v2: b\"") == true)
        let appended = landed + [Migration(name: "v3: c", digest: "33")]
        #expect(
            Self.problems(code: appended, landed: landed, file: file)
                == ["new migration \"v3: c\": append its line to FILE: v3: c\t33"])
        let inserted = [landed[0], Migration(name: "v3: c", digest: "33"), landed[1]]
        #expect(
            Self.problems(code: inserted, landed: landed, file: file).first?
                .hasPrefix("the landed migrations must stay first") == true)
        #expect(Self.problems(code: [landed[1], landed[0]], landed: landed, file: file).count == 1)
    }
}
