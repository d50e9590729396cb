import Foundation
import GRDB
import Testing

@testable import Aggregator
@testable import VenueNode

/// The second release's data directories (Fixtures/release-2, see its README) opened by this build: the same
/// records and totals, the node's three pending records sent once, the observer token still reads, the node's
/// receipts still verify against the aggregator's key.
@Suite(.serialized) struct Release2MigrationTests {
    static let fixtures = Fixtures.release(2)
    /// The last migration of each database in release 2.
    static let aggregatorLast = "v10: check-ins and corrections found without a scan"
    static let nodeLast = "v5: ledger tables"

    /// Copies the release-2 directories into a fresh harness and starts their aggregator.
    func setUp() async throws -> (ProcessHarness, Process, Int) { try await ProcessHarness.startingRelease(2) }

    func lines(_ text: String) -> [String] { text.split(separator: "\n").map(String.init) }

    /// `export tallies --csv` as release 2 left it: every department of session S1's ballot 4 / 3 / 4.
    static let tallies =
        ["venue,session,department,mark,count"]
        + (1...12).flatMap { number in
            let department = String(format: "D%02d", number)
            return [
                "tumed,S1,\(department),basically_satisfied,3", "tumed,S1,\(department),dissatisfied,4",
                "tumed,S1,\(department),satisfied,4",
            ]
        }

    /// `GET /v1/totals` with a bearer token: the status and the body.
    func totals(port: Int, token: String) throws -> (status: String, body: [String: Any]) {
        let answer = runShell(
            "curl -s -w '\\n%{http_code}' -H 'Authorization: Bearer \(token)' "
                + "http://127.0.0.1:\(port)/v1/totals")
        let parts = lines(answer.output)
        let body = try parts.dropLast().joined(separator: "\n").data(using: .utf8)
            .flatMap { try JSONSerialization.jsonObject(with: $0) as? [String: Any] }
        return (parts.last ?? "", body ?? [:])
    }

    @Test func upgradeOpensTheSecondReleasesDataAndSendsThePendingRecordsOnce() async throws {
        let (harness, aggregator, port) = try await setUp()
        defer {
            aggregator.terminate()
            harness.cleanUp()
        }
        let verify = try harness.run("venue-node", ["verify", "--data-dir", "node"])
        #expect(verify.stdout.hasPrefix("chain ok: 34 record(s)"), "\(verify.stdout)\(verify.stderr)")
        let status = try harness.run("venue-node", ["status", "--data-dir", "node"])
        #expect(status.stdout.contains("acknowledged:     31"), "\(status.stdout)\(status.stderr)")
        #expect(status.stdout.contains("pending:          3"), "\(status.stdout)")
        let receipts = try harness.run("venue-node", ["receipts", "verify", "--data-dir", "node"])
        #expect(receipts.status == 0)
        #expect(
            receipts.stdout.hasPrefix("1 receipt(s); records 1…31 of venue tumed are proven accepted"),
            "\(receipts.stdout)\(receipts.stderr)")

        func exports() throws -> (tallies: [String], attendance: [String], boxes: [String]) {
            (
                lines(try harness.run("aggregator", ["export", "tallies", "--data-dir", "agg", "--csv"]).stdout),
                lines(try harness.run("aggregator", ["export", "attendance", "--data-dir", "agg", "--csv"]).stdout),
                lines(try harness.run("aggregator", ["export", "boxes", "--data-dir", "agg", "--csv"]).stdout)
            )
        }
        let attendanceS1 = [
            "venue,session,category,checked_in", "tumed,S1,cppcc_member,4", "tumed,S1,npc_deputy,4",
            "tumed,S1,party_deputy,4", "tumed,S1,volunteers,1",
        ]
        let boxesHeader = "venue,session,box,opened,closed,issued,returned,valid,blank,spoiled"
        let before = try exports()
        #expect(before.tallies == Self.tallies)
        #expect(before.attendance == attendanceS1)
        #expect(before.boxes == [boxesHeader, "tumed,S1,B1,1,1,13,13,11,1,1"])

        // The observer token made by release 2 still reads the totals; another token does not.
        let token = try String(contentsOf: Self.fixtures.appending(path: "observer-token.txt"), encoding: .utf8)
            .trimmingCharacters(in: .whitespacesAndNewlines)
        let read = try totals(port: port, token: token)
        #expect(read.status == "200")
        #expect((read.body["tallies"] as? [Any])?.count == 36, "\(read.body)")
        #expect(try totals(port: port, token: "smt_not_a_token").status == "401")

        // The pending records are sent once: the correction voids the blank ballot, two check-ins of S2.
        let sync = try harness.run("venue-node", ["sync", "--data-dir", "node"])
        #expect(sync.status == 0, "\(sync.stderr)")
        #expect(
            sync.stdout.contains("sent 3 record(s) in 1 batch(es); acknowledged through 34 of 34"), "\(sync.stdout)")
        let again = try harness.run("venue-node", ["sync", "--data-dir", "node", "--from-seq", "1"])
        #expect(again.status == 0, "\(again.stderr)")
        let after = try exports()
        #expect(after.tallies == Self.tallies)
        #expect(after.attendance == attendanceS1 + ["tumed,S2,cppcc_member,1", "tumed,S2,npc_deputy,1"])
        #expect(after.boxes == [boxesHeader, "tumed,S1,B1,1,1,13,13,11,0,1"])
        #expect(try harness.run("venue-node", ["status", "--data-dir", "node"]).stdout.contains("pending:          0"))
        let proven = try harness.run("venue-node", ["receipts", "verify", "--data-dir", "node"])
        #expect(proven.stdout.contains("records 1…34 of venue tumed are proven accepted"), "\(proven.stdout)")
        let stored = try DatabaseQueue(path: harness.workDirectory.appending(path: "agg/aggregator.sqlite").path)
        let counts = try await stored.read { db in
            (
                try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM record"),
                try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM supersession"),
                try Int.fetchOne(db, sql: "SELECT SUM(count) FROM boxTally")
            )
        }
        #expect(counts.0 == 34)
        #expect(counts.1 == 2)
        #expect(counts.2 == 11 * 12)
        let read2 = try totals(port: port, token: token)
        #expect(read2.status == "200")
        #expect((read2.body["attendance"] as? [Any])?.count == 6, "\(read2.body)")
    }

    /// The schema of each release-2 database is exactly what this build's migrations make up to release 2's last
    /// one, and the database ran exactly those migrations.
    @Test(arguments: [true, false]) func theMigrationsUpToReleaseTwoMakeItsSchema(aggregator: Bool) throws {
        let directory = try Fixtures.temporaryDirectory("sanmin-release2")
        defer { try? FileManager.default.removeItem(at: directory) }
        let file = aggregator ? "agg/aggregator.sqlite" : "node/node.sqlite"
        let copy = directory.appending(path: "copy.sqlite")
        try FileManager.default.copyItem(at: Self.fixtures.appending(path: file), to: copy)
        let migrator = aggregator ? AggregatorDatabase.migrator : NodeDatabase.migrator
        let last = aggregator ? Self.aggregatorLast : Self.nodeLast
        let names = aggregator ? AggregatorDatabase.migrations.map(\.name) : NodeDatabase.migrations.map(\.name)
        let release2 = Array(names.prefix(through: try #require(names.firstIndex(of: last))))
        let fresh = try DatabaseQueue()
        try migrator.migrate(fresh, upTo: last)
        func schema(_ database: DatabaseQueue) throws -> [[String?]] {
            try database.read { db in
                try Row.fetchAll(db, sql: "SELECT type, name, tbl_name, sql FROM sqlite_master ORDER BY name")
                    .map { [$0["type"], $0["name"], $0["tbl_name"], $0["sql"]] }
            }
        }
        let written = try DatabaseQueue(path: copy.path)
        #expect(
            try written.read { db in try String.fetchAll(db, sql: "SELECT identifier FROM grdb_migrations") }
                .sorted() == release2.sorted())
        let writtenSchema = try schema(written)
        #expect(writtenSchema.count > 10)
        #expect(try schema(fresh) == writtenSchema)
    }
}
