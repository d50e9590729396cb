import Aggregator
import Crypto
import Foundation
import GRDB
import Shared
import Testing

/// `aggregator migrate --from DIR --to postgres://…` (issue #20): an event copied from one aggregator's SQLite store
/// into a PostgreSQL database, proved by the same rows, chain heads and report, and served from there.
@Suite struct EventCopyTests {
    /// A SQLite store with every kind of finding, an outside tally, a token of each kind, a released result.
    static func source() async throws -> (bed: StoreBed, main: TestSigner, observer: String) {
        let (main, east, west) = (TestSigner(), TestSigner(), TestSigner())
        let bed = try StoreBed(
            .sqlite, eventJSON: ReconciliationTests.eventJSON, enrolling: ["main": main, "east": east, "west": west])
        try await ReconciliationTests.sendEveryKindOfFinding(to: bed, main: main, east: east)
        let database = try #require(bed.store as? AggregatorDatabase)
        let event = try #require(try database.installedEvent())
        _ = try database.enterOutsideTally(
            event: event.definition, department: "D09", counts: ["satisfied": 30, "dissatisfied": 5],
            source: "机关工委汇总表", by: "王芳", reason: nil, key: Curve25519.Signing.PrivateKey())
        let observer = try database.addToken(name: "大屏", role: .observer, department: nil)
        _ = try database.issueEnrolmentToken(venue: "west", validFor: 3600, now: Date())
        try database.releaseResults(by: "监督检查组")
        return (bed, main, observer)
    }

    /// The whole report but for when it was generated.
    static func reportJSON(_ store: some AggregatorStore, now: Date) throws -> String {
        let event = try #require(try store.installedEvent())
        return try JSONCoding.string(try Report.build(database: store, event: event, now: now))
    }

    @Test func aCopiedEventReadsTheSameOnPostgreSQLAndGoesOnFromWhereItWas() async throws {
        let (bed, main, observer) = try await Self.source()
        let source = try #require(bed.store as? AggregatorDatabase)
        let target = try PostgresStore(url: try PostgresServer.start().createDatabase())
        defer { target.close() }

        let copy = try target.copyEvent(from: source)
        let rows = Dictionary(uniqueKeysWithValues: copy.rows.map { ($0.table, $0.count) })
        #expect(rows["record"] == 19 && rows["batch"] == 2 && rows["node"] == 3)
        #expect(rows["rosterEntry"] == 8 && rows["outsideTally"] == 1 && rows["apiToken"] == 1)
        #expect(rows["enrolmentToken"] == 1 && rows["resultsRelease"] == 1 && rows["alarm"] == 1)
        #expect(copy.heads.map(\.seq) == [2, 17])

        // Every number the same: the whole report, the totals, the alarms with their evidence, the outside tally's
        // signature still verifying; the observer's token opens the copy.
        let now = Date()
        #expect(try Self.reportJSON(target, now: now) == Self.reportJSON(source, now: now))
        #expect(try target.totals(eventID: "test-2026") == source.totals(eventID: "test-2026"))
        #expect(try target.alarms().map(\.evidence) == source.alarms().map(\.evidence))
        #expect(try target.outsideTallies().map(\.verified) == [true])
        #expect(try target.check(bearerToken: observer) == .valid(.observer))
        #expect(try target.resultsRelease()?.by == "监督检查组")

        // And it goes on from there: main's next batch merges at 18 and is counted; new rows get new ids.
        let intake = Intake(database: target, event: try #require(try target.installedEvent()).definition)
        let next = Fixtures.chain(
            [.boxOpened(.init(session: "S2", box: "B9"))], afterSeq: 17,
            afterHash: try #require(copy.heads.first { $0.venue == "main" }).hash)
        let ack = try await main.send(next, venue: "main", to: intake)
        #expect(ack.lastSeq == 18)
        #expect(try target.totals(eventID: "test-2026").boxes.contains { $0.box == "B9" && $0.opened == 1 })
        _ = try target.addToken(name: "另一块屏", role: .observer, department: nil)
        #expect(try target.tokens().map(\.id) == [1, 2])

        // The source is sealed: nothing more is written there.
        #expect {
            try source.addToken(name: "迟到的", role: .observer, department: nil)
        } throws: {
            "\($0)".contains("this event was moved to \(target.location) (aggregator migrate)")
        }
        #expect(try source.tokens().count == 1)
    }

    @Test func aCopyIsRefusedIntoADatabaseThatHoldsAnythingAndFromATableItDoesNotKnow() async throws {
        let (bed, _, _) = try await Self.source()
        let source = try #require(bed.store as? AggregatorDatabase)
        let url = try PostgresServer.start().createDatabase()
        let target = try PostgresStore(url: url)
        defer { target.close() }

        // A table a newer release added: refused, nothing copied.
        let newer = try StoreBed(.sqlite)
        let newerSource = try #require(newer.store as? AggregatorDatabase)
        try await newerSource.writerForTests.write { db in try db.execute(sql: "CREATE TABLE futureThing (x TEXT)") }
        #expect {
            try target.copyEvent(from: newerSource)
        } throws: {
            "\($0)".contains("a table this release does not know how to copy (futureThing)")
        }
        #expect(try target.installedEvent() == nil)

        // A column a newer release added: refused, nothing copied.
        try await newerSource.writerForTests.write { db in try db.execute(sql: "DROP TABLE futureThing") }
        try await source.writerForTests.write { db in try db.execute(sql: "ALTER TABLE alarm ADD COLUMN urgency TEXT") }
        #expect {
            try target.copyEvent(from: source)
        } throws: {
            "\($0)".contains("the source's table alarm has a column urgency the database does not")
        }
        #expect(try target.installedEvent() == nil)
        try await source.writerForTests.write { db in try db.execute(sql: "ALTER TABLE alarm DROP COLUMN urgency") }

        // A database that holds anything (here: one token): refused, and it holds just that.
        _ = try target.addToken(name: "先来的", role: .admin, department: nil)
        #expect {
            try target.copyEvent(from: source)
        } throws: {
            "\($0)".contains("is not empty (table apiToken has rows)")
        }
        #expect(try target.installedEvent() == nil && target.tokens().count == 1)
        #expect(try PostgresServer.start().query(url, "SELECT COUNT(*) FROM record") == ["0"])
    }

    /// The command: refused while the aggregator serves the directory, then copies, proves, and the copy is served by
    /// `serve --database` with the directory's key, answering the old observer token with the same input digest.
    @Test func theMigrateCommandCopiesAStoppedAggregatorAndTheCopyIsServed() async throws {
        let harness = try ProcessHarness()
        defer { harness.cleanUp() }
        let eventURL = harness.workDirectory.appending(
            path: try harness.write(Fixtures.smallEventJSON, to: "event.json"))
        let url = try PostgresServer.start().createDatabase()
        let (aggregator, port) = try await harness.startAggregator(dataDir: "agg", event: eventURL)
        _ = try harness.createNode("n", event: eventURL, venue: "east", aggregatorURL: "http://127.0.0.1:\(port)")
        for box in 1...3 {
            let opened = try harness.run(
                "venue-node", ["box", "open", "--data-dir", "n", "--session", "S1", "--box", "B\(box)"])
            #expect(opened.status == 0, "\(opened.stderr)")
        }
        #expect(try harness.run("venue-node", ["sync", "--data-dir", "n"]).status == 0)
        let token = try harness.run(
            "aggregator", ["tokens", "add", "--data-dir", "agg", "--role", "observer", "--name", "screen"])
        let bearer = token.stdout.trimmingCharacters(in: .whitespacesAndNewlines)

        // While it serves: refused, the database left empty.
        let refused = try harness.run("aggregator", ["migrate", "--from", "agg", "--to", url])
        #expect(refused.status != 0)
        #expect(refused.stderr.contains("(an aggregator serve?): stop it first"), "\(refused.stderr)")
        #expect(
            try PostgresServer.start().query(url, "SELECT COUNT(*) FROM pg_tables WHERE schemaname = current_schema()")
                == ["0"], "not even the tables were made")

        // Stopped: copied and proved.
        aggregator.terminate()
        await harness.waitForExit(aggregator)
        let report = try JSONSerialization.jsonObject(
            with: Data(try harness.run("aggregator", ["report", "--data-dir", "agg", "--json"]).stdout.utf8))
        let digest = try #require((report as? [String: Any])?["input_digest"] as? String)
        let migrated = try harness.run("aggregator", ["migrate", "--from", "agg", "--to", url])
        #expect(migrated.status == 0, "\(migrated.stderr)")
        #expect(migrated.stdout.contains("  record: 3\n"), "\(migrated.stdout)")
        #expect(
            migrated.stdout.contains("proved: 1 venue chain head(s) equal, the same report (input digest \(digest))"),
            "\(migrated.stdout)")

        // The directory is not served or written any more: its commands say where the event went.
        let moved = try harness.run(
            "aggregator", ["tokens", "add", "--data-dir", "agg", "--role", "admin", "--name", "x"])
        #expect(moved.status != 0)
        #expect(moved.stderr.contains("the event of agg was moved to postgres://"), "\(moved.stderr)")
        let again = try harness.run("aggregator", ["migrate", "--from", "agg", "--to", url])
        #expect(again.status != 0 && again.stderr.contains("was moved to"), "\(again.stderr)")
        // Its marker lost, the sealed database is still refused.
        try FileManager.default.removeItem(at: harness.workDirectory.appending(path: "agg/moved-to-postgres"))
        let sealed = try harness.run("aggregator", ["report", "--data-dir", "agg"])
        #expect(sealed.status != 0 && sealed.stderr.contains("its database is sealed"), "\(sealed.stderr)")

        // Served from the database, signing with the directory's key: the same digest for the old token.
        let (replica, replicaPort) = try await harness.startAggregator(
            dataDir: "replica", event: eventURL,
            options: [
                "--database", url, "--identity-key", harness.workDirectory.appending(path: "agg/aggregator.key").path,
            ])
        defer { replica.terminate() }
        let answer = try RawConnection(port: replicaPort)
        answer.send(
            "GET /v1/reconciliation HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer \(bearer)\r\nConnection: close\r\n\r\n"
        )
        answer.waitForClose(within: .seconds(20))
        #expect(answer.text.hasPrefix("HTTP/1.1 200"), "\(answer.text)")
        #expect(answer.text.contains(#""input_digest":"\#(digest)""#), "\(answer.text)")
    }
}
