import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Logging
import Shared
import Testing

@testable import Aggregator

/// Several aggregators on one store (issue #20): what one takes in, the others see and respect. On PostgreSQL each
/// replica is its own `PostgresStore` (its own connections) on the same database; on SQLite, where one process holds
/// the file, the replicas are intakes sharing the one store, which must hold the same guarantees.
@Suite struct ReplicaStoreTests {
    /// A second store on the same data: another aggregator process's view.
    static func replica(of bed: StoreBed) throws -> any AggregatorStore {
        guard let url = bed.url else { return bed.store }
        return try PostgresStore(url: url)
    }

    static func intake(_ store: any AggregatorStore) throws -> any IntakeUnderTest {
        let event = Fixtures.smallEvent
        switch store {
        case let database as AggregatorDatabase: return Intake(database: database, event: event)
        case let database as PostgresStore: return Intake(database: database, event: event)
        default: throw CancellationError()
        }
    }

    /// Box B1 of S1 at east, opened and closed, then `ballots` ballots: 1 in 3 marks D02 dissatisfied.
    static func chain(ballots: Int) -> [ChainedRecord] {
        Fixtures.chain(
            [
                .boxOpened(.init(session: "S1", box: "B1")),
                .boxClosed(.init(session: "S1", box: "B1", issued: ballots, returned: ballots)),
            ]
                + (0..<ballots).map {
                    Fixtures.validBallot(["D01": "satisfied", "D02": $0 % 3 == 0 ? "dissatisfied" : "satisfied"])
                })
    }

    @Test(arguments: StoreEngine.allCases)
    func overlappingBatchesSentToTwoReplicasAtOnceMergeExactlyOnce(_ engine: StoreEngine) async throws {
        let signer = TestSigner()
        let bed = try StoreBed(engine, enrolling: ["east": signer])
        let replicas = [bed.store, try Self.replica(of: bed)]
        let intakes = try replicas.map(Self.intake)
        let records = Self.chain(ballots: 240)
        // Windows of 40 records starting every 20: each record travels in two batches, and each batch goes to both
        // replicas, from four senders at once (two per replica), each sending every window in order.
        let windows = stride(from: 0, to: records.count, by: 20).map {
            Array(records[$0..<min($0 + 40, records.count)])
        }
        let refusals = try await withThrowingTaskGroup(of: [String].self) { group in
            for sender in 0..<4 {
                let intake = intakes[sender % 2]
                group.addTask {
                    var refusals: [String] = []
                    for window in windows {
                        // A window that starts past what the store holds is refused with where to resume: the
                        // sender waits for the other senders' batches to land, as a node retries.
                        while true {
                            do {
                                _ = try await intake.receive(signer.request(signer.body(window, venue: "east")))
                                break
                            } catch let error as APIError where error.body.error.code == .sequenceGap {
                                try await Task.sleep(for: .milliseconds(5))
                            } catch {
                                refusals.append("\(error)")
                                break
                            }
                        }
                    }
                    return refusals
                }
            }
            return try await group.reduce(into: []) { $0 += $1 }
        }
        #expect(refusals == [])
        for store in replicas {
            #expect(try store.storedRecords(venue: "east") == records)
            let totals = try store.totals(eventID: "test-2026")
            #expect(
                totals.tallies == [
                    .init(venue: "east", session: "S1", department: "D01", mark: "satisfied", count: 240),
                    .init(venue: "east", session: "S1", department: "D02", mark: "dissatisfied", count: 80),
                    .init(venue: "east", session: "S1", department: "D02", mark: "satisfied", count: 160),
                ])
            #expect(
                totals.boxes == [
                    .init(
                        venue: "east", session: "S1", box: "B1", opened: 1, closed: 1, issued: 240, returned: 240,
                        valid: 240, blank: 0, spoiled: 0)
                ])
            #expect(try store.alarms().isEmpty)
        }
    }

    @Test(arguments: StoreEngine.allCases)
    func aKeyRetiredThroughOneReplicaIsRefusedByTheOther(_ engine: StoreEngine) async throws {
        let old = TestSigner()
        let new = TestSigner()
        let bed = try StoreBed(engine, enrolling: ["east": old])
        let other = try Self.replica(of: bed)
        let records = Self.chain(ballots: 3)
        _ = try await Self.intake(other).receive(old.request(old.body(Array(records[0..<2]), venue: "east")))
        // The venue's node is redeployed: its new key enrolled through the first replica.
        #expect(try bed.store.enroll(venue: "east", publicKeyBase64: new.publicKeyBase64).epoch == 2)
        let refused = try await #require(throws: APIError.self) {
            try await Self.intake(other).receive(old.request(old.body(Array(records[2...]), venue: "east")))
        }
        #expect(refused.body.error.code == .staleEpoch)
        _ = try await Self.intake(other).receive(new.request(new.body(Array(records[2...]), venue: "east")))
        #expect(try bed.store.storedRecords(venue: "east") == records)
        #expect(try bed.store.alarms().map(\.kind) == ["stale_epoch"])
    }

    @Test(arguments: StoreEngine.allCases)
    func aHeartbeatReplayedToTheOtherReplicaIsRefused(_ engine: StoreEngine) async throws {
        let signer = TestSigner()
        let bed = try StoreBed(engine, enrolling: ["east": signer])
        let body = try JSONEncoder().encode(
            Heartbeat(
                node: signer.nodeID, venue: "east", headSeq: 0, headHash: RecordChain.genesis, pending: 0,
                freeDiskBytes: nil, version: "test", clock: "x"))
        let request = signer.request(body, path: "/v1/heartbeats")
        _ = try bed.intake.receiveHeartbeat(request)
        let replayed = try #require(throws: APIError.self) {
            try Self.intake(try Self.replica(of: bed)).receiveHeartbeat(request)
        }
        #expect(replayed.body.error.code == .replayedRequest)
    }
}

extension ReplicaStoreTests {
    /// `signer` asks to be enrolled for `venue` with `token` (as `venue-node init --token` does); "200", or the status
    /// and error code.
    static func enrol(_ intake: any IntakeUnderTest, _ token: String, _ signer: TestSigner, venue: String = "east")
        -> String
    {
        let body = try! JSONEncoder().encode(
            EnrolmentRequest(token: token, venue: venue, publicKey: signer.publicKeyBase64))
        do {
            _ = try intake.enrol(signer.request(body, path: "/v1/enrolments"))
            return "200"
        } catch let error as APIError {
            return "\(error.status.code) \(error.body.error.code.rawValue)"
        } catch {
            return "\(error)"
        }
    }

    @Test(arguments: StoreEngine.allCases)
    func aTokenEnrolsOneKeyOnceWhicheverReplicaIsAsked(_ engine: StoreEngine) async throws {
        let bed = try StoreBed(engine)
        let replicas = [bed.store, try Self.replica(of: bed)]
        let intakes = try replicas.map(Self.intake)
        // Twenty tokens, each presented by two keys at once, one at each replica: one key enrols, once.
        var winners: [TestSigner] = []
        for round in 0..<20 {
            let token = try replicas[round % 2].issueEnrolmentToken(venue: "east", validFor: 3600, now: Date())
            let signers = [TestSigner(), TestSigner()]
            let answers = await withTaskGroup(of: (Int, String).self) { group in
                for index in 0..<2 {
                    group.addTask { (index, Self.enrol(intakes[index], token, signers[index])) }
                }
                return await group.reduce(into: [:]) { $0[$1.0] = $1.1 }
            }
            #expect(answers.values.sorted() == ["200", "409 enrolment_token_used"], "round \(round): \(answers)")
            guard let winner = answers.first(where: { $0.value == "200" })?.key else { continue }
            winners.append(signers[winner])
            // The answer was lost: the same key asks the other replica again and gets the same node.
            #expect(Self.enrol(intakes[1 - winner], token, signers[winner]) == "200")
        }
        let nodes = try replicas[1].nodes()
        #expect(nodes.map(\.id) == winners.map(\.nodeID))
        #expect(nodes.map(\.epoch) == Array(1...Int64(winners.count)))
        #expect(try replicas[0].enrolmentTokens().map { $0.state() } == Array(repeating: "used", count: 20))
    }

    @Test(arguments: StoreEngine.allCases)
    func refusedTokensHaveTheirCodesOnEitherReplicaAndEnrolNothing(_ engine: StoreEngine) async throws {
        let bed = try StoreBed(engine)
        let other = try Self.replica(of: bed)
        let intake = try Self.intake(other)
        let signer = TestSigner()
        let east = try bed.store.issueEnrolmentToken(venue: "east", validFor: 3600, now: Date())
        let expired = try bed.store.issueEnrolmentToken(
            venue: "east", validFor: 60, now: Date().addingTimeInterval(-3600))
        let revoked = try bed.store.issueEnrolmentToken(venue: "east", validFor: 3600, now: Date())
        #expect(
            try other.revokeEnrolmentToken(id: AggregatorDatabase.enrolmentTokenID(of: revoked), reason: "lost")
                == "east")
        #expect(Self.enrol(intake, "sme_made-up", signer) == "401 enrolment_token_invalid")
        #expect(Self.enrol(intake, expired, signer) == "401 enrolment_token_expired")
        #expect(Self.enrol(intake, east, signer, venue: "main") == "403 enrolment_token_other_venue")
        #expect(Self.enrol(intake, revoked, signer) == "401 enrolment_token_revoked")
        #expect(try bed.store.nodes().isEmpty)
        #expect(Self.enrol(intake, east, signer) == "200")
        let used = #expect(throws: AggregatorError.self) {
            try bed.store.revokeEnrolmentToken(id: AggregatorDatabase.enrolmentTokenID(of: east), reason: "late")
        }
        #expect(used?.description.contains("was already used, by node \(signer.nodeID)") == true)
        #expect(
            try bed.store.enrolmentTokens().map { $0.state() }.sorted() == ["expired", "revoked", "used"])
        #expect(throws: AggregatorError.self) {
            try other.issueEnrolmentToken(venue: "nowhere", validFor: 60, now: Date())
        }
    }
}

/// The rate limit across replicas: its buckets are in the shared database.
@Suite struct SharedRateLimitTests {
    @Test func aClientIsLimitedAcrossReplicas() async throws {
        let url = try PostgresServer.start().createDatabase()
        let replicas = [try PostgresStore(url: url), try PostgresStore(url: url)]
        let limit = RateLimit(perSecond: 0.001, burst: 4)
        var taken: [Bool] = []
        for index in 0..<6 { taken.append(try await replicas[index % 2].take("10.0.0.7", limit: limit) == nil) }
        #expect(taken == [true, true, true, true, false, false])
        // Another client has its own bucket; the one refused is told to wait about one token's time (1,000 s here).
        #expect(try await replicas[1].take("10.0.0.8", limit: limit) == nil)
        let wait = try #require(try await replicas[0].take("10.0.0.7", limit: limit))
        #expect(wait > 900 && wait <= 1_000, "\(wait)")
    }

    @Test func twoReplicaRoutersAnswer429OnceTheClientsShareIsSpentAtEither() async throws {
        let url = try PostgresServer.start().createDatabase()
        let settings = AggregatorSettings(rateLimit: .init(perSecond: 0.001, burst: 3))
        var statuses: [HTTPResponse.Status] = []
        for _ in 0..<5 {
            // Each request through another aggregator: a router and a store of its own, on the same database.
            let store = try PostgresStore(url: url)
            let hub = DashboardHub(database: store, logger: Logger(label: "test"))
            let router = buildSharedRouter(
                intake: Intake(database: store, event: Fixtures.smallEvent, signingKey: .init()), settings: settings,
                hub: hub, publisher: hub, metrics: IngestMetrics())
            statuses.append(
                try await Application(router: router).test(.router) { client in
                    try await client.execute(uri: "/v1/identity", method: .get) { $0.status }
                })
        }
        #expect(statuses == [.ok, .ok, .ok, .tooManyRequests, .tooManyRequests])
    }
}

/// The PostgreSQL store itself: its address, its migrations, its append-only tables.
@Suite struct PostgresStoreTests {
    @Test func anAddressThatIsNotPostgreSQLsIsRefusedSayingHowToWriteIt() throws {
        for url in [
            "mysql://tally@127.0.0.1/x", "postgres://127.0.0.1:5432/x", "postgres://tally@127.0.0.1:5432/",
            "postgres://tally@127.0.0.1/x?sslmode=verify-full",
        ] {
            let error = #expect(throws: AggregatorError.self) { try PostgresLocation(url: url) }
            #expect(
                error?.description.contains("postgres://") == true || error?.description.contains("sslmode") == true)
        }
        #expect(
            try PostgresLocation(url: "postgres://tally:secret@db.example:6432/sanmin").description
                == "postgres://tally@db.example:6432/sanmin")
        // A refusal quotes the address without its password.
        let refused = #expect(throws: AggregatorError.self) { try PostgresLocation(url: "postgres://tally:secret@db/") }
        #expect(refused?.description.contains("secret") == false, "\(refused?.description ?? "")")
        #expect(
            refused?.description.contains("postgres://tally:%E2%80%A6@db/") == true, "\(refused?.description ?? "")")
    }

    @Test func aStoreThatCannotConnectSaysWhere() throws {
        let port = ProcessHarness.stablePort()
        let error = #expect(throws: AggregatorError.self) {
            try PostgresStore(url: "postgres://tally@127.0.0.1:\(port)/nothing")
        }
        #expect(
            error?.description.hasPrefix("cannot connect to PostgreSQL at postgres://tally@127.0.0.1:\(port)/nothing")
                == true)
    }

    @Test func replicasStartingTogetherMigrateOnceAndRecordsCannotBeChanged() async throws {
        let url = try PostgresServer.start().createDatabase()
        // Four aggregators start on an empty database at once.
        try await withThrowingTaskGroup(of: Void.self) { group in
            for _ in 0..<4 { group.addTask { _ = try PostgresStore(url: url) } }
            try await group.waitForAll()
        }
        let store = try PostgresStore(url: url)
        let signer = TestSigner()
        try store.install(
            event: try EventDefinition.load(data: Data(Fixtures.smallEventJSON.utf8)),
            json: Data(Fixtures.smallEventJSON.utf8))
        try store.enroll(venue: "east", publicKeyBase64: signer.publicKeyBase64)
        _ = try await Intake(database: store, event: Fixtures.smallEvent).receive(
            signer.request(signer.body(ReplicaStoreTests.chain(ballots: 1), venue: "east")))
        let psql = try PostgresServer.start()
        #expect(
            try psql.query(url, "SELECT name FROM schemaMigration ORDER BY name")
                == PostgresMigrations.migrations.map(\.name).sorted())
        for statement in [
            "UPDATE record SET payload = '{}' WHERE seq = 3", "DELETE FROM record", "DELETE FROM batch",
            "UPDATE node SET epoch = 9", "DELETE FROM eventVersion", "TRUNCATE record CASCADE",
        ] {
            let refused = #expect(throws: (any Error).self) { try psql.query(url, statement) }
            #expect("\(refused.map { "\($0)" } ?? "")".contains("append-only"), "\(statement)")
        }
        #expect(try store.storedRecords(venue: "east").count == 3)
    }

    @Test func aCommandOnADatabaseNoAggregatorRanOnIsRefusedAndCreatesNothing() throws {
        let harness = try ProcessHarness()
        defer { harness.cleanUp() }
        let server = try PostgresServer.start()
        let url = try server.createDatabase()
        let refused = try harness.run("aggregator", ["nodes", "list", "--database", url])
        #expect(refused.status != 0)
        #expect(
            refused.stderr.contains("is not an aggregator's, or not migrated by this release"), "\(refused.stderr)")
        #expect(
            try server.query(url, "SELECT count(*) FROM information_schema.tables WHERE table_schema = 'public'")
                == ["0"])
    }

    @Test func aDatabaseMigratedByANewerReleaseIsRefused() throws {
        let url = try PostgresServer.start().createDatabase()
        _ = try PostgresStore(url: url)
        try PostgresServer.start().query(
            url, "INSERT INTO schemaMigration (name, appliedAt) VALUES ('v99: from the future', 'x')")
        let error = #expect(throws: AggregatorError.self) { try PostgresStore(url: url) }
        #expect(
            error?.description.contains("was migrated by a newer release (it holds migration \"v99: from the future\")")
                == true)
    }
}
