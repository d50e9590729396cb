import Aggregator
import Crypto
import Foundation
import GRDB
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Logging
import Shared
import Testing

/// One-time enrolment tokens: a token enrols one key, once, for its venue, before it expires.
@Suite struct EnrolmentTests {
    let database: AggregatorDatabase
    let intake: BatchIntake

    init() throws {
        (database, intake) = try Fixtures.aggregator(signingKey: Curve25519.Signing.PrivateKey())
    }

    /// An enrolment request as `venue-node` sends it, signed by `signer` (or by `signingKey`, to forge).
    func request(
        _ token: String, venue: String = "east", signer: TestSigner,
        signingKey: Curve25519.Signing.PrivateKey? = nil
    ) -> (HTTPFields, Data) {
        let body = try! JSONEncoder().encode(
            EnrolmentRequest(token: token, venue: venue, publicKey: signer.publicKeyBase64))
        return (signer.postHeaders(body, path: "/v1/enrolments", signingKey: signingKey), body)
    }

    /// Sends an enrolment; returns "200" and the body, or the status and the error code ("409 enrolment_token_used").
    func send(_ client: some TestClientProtocol, _ request: (HTTPFields, Data)) async throws -> (String, String) {
        try await client.execute(
            uri: "/v1/enrolments", method: .post, headers: request.0,
            body: ByteBuffer(bytes: request.1)
        ) { response in
            let text = String(buffer: response.body)
            if response.status == .ok { return ("200", text) }
            let code = try JSONDecoder().decode(APIErrorBody.self, from: Data(text.utf8)).error.code.rawValue
            return ("\(response.status.code) \(code)", text)
        }
    }

    @Test func aTokenEnrolsOneKeyOnceAndTheSameKeyMayAskAgain() async throws {
        let token = try database.issueEnrolmentToken(venue: "east", validFor: 3600)
        #expect(token.hasPrefix("sme_"))
        let first = TestSigner()
        let second = TestSigner()
        let app = try buildApplication(intake: intake, settings: AggregatorSettings(), logger: Logger(label: "test"))
        try await app.test(.router) { client in
            let (status, text) = try await send(client, request(token, signer: first))
            #expect(status == "200")
            let answer = try JSONDecoder().decode(EnrolmentResponse.self, from: Data(text.utf8))
            #expect(answer.node == first.nodeID && answer.venue == "east" && answer.epoch == 1)
            #expect(answer.aggregatorKey == intake.signingKey?.publicKey.rawRepresentation.base64EncodedString())
            // The answer was lost: the same key asks again and gets the same node.
            let again = try await send(client, request(token, signer: first)).0
            #expect(again == "200")
            // Another key with the same token: refused, and nothing changes.
            let refused1 = try await send(client, request(token, signer: second)).0
            #expect(refused1 == "409 enrolment_token_used")
        }
        #expect(try database.nodes().map(\.id) == [first.nodeID])
        // Only the token's hash is stored.
        let stored = try await database.writerForTests.read { db in
            try String.fetchAll(db, sql: "SELECT tokenHash FROM enrolmentToken")
        }
        #expect(stored.count == 1 && !stored[0].contains(token.dropFirst(4)))
    }

    @Test func refusedTokensHaveStableCodesAndEnrolNothing() async throws {
        let east = try database.issueEnrolmentToken(venue: "east", validFor: 3600)
        let expired = try database.issueEnrolmentToken(
            venue: "east", validFor: 60,
            now: Date().addingTimeInterval(-3600))
        let signer = TestSigner()
        let app = try buildApplication(intake: intake, settings: AggregatorSettings(), logger: Logger(label: "test"))
        try await app.test(.router) { client in
            let refused2 = try await send(client, request("sme_made-up", signer: signer)).0
            #expect(refused2 == "401 enrolment_token_invalid")
            let refused3 = try await send(client, request(expired, signer: signer)).0
            #expect(refused3 == "401 enrolment_token_expired")
            let refused4 = try await send(client, request(east, venue: "main", signer: signer)).0
            #expect(refused4 == "403 enrolment_token_other_venue")
            // Someone who has the token but not the private key of the key it names.
            let refused5 = try await send(
                client, request(east, signer: signer, signingKey: Curve25519.Signing.PrivateKey())
            ).0
            #expect(refused5 == "401 bad_signature")
            // The token is still good after all that.
            let again = try await send(client, request(east, signer: signer)).0
            #expect(again == "200")
        }
        #expect(try database.nodes().count == 1)
        #expect(throws: AggregatorError.self) { try database.issueEnrolmentToken(venue: "nowhere", validFor: 60) }
    }

    @Test func aNewKeyForTheSameVenueIsItsNextEpochAndFencesTheOldOne() throws {
        let first = TestSigner()
        let second = TestSigner()
        _ = try database.redeemEnrolmentToken(
            try database.issueEnrolmentToken(venue: "east", validFor: 60),
            venue: "east", key: first.key.publicKey)
        let node = try database.redeemEnrolmentToken(
            try database.issueEnrolmentToken(venue: "east", validFor: 60),
            venue: "east", key: second.key.publicKey)
        #expect(node.epoch == 2)
        let old = try #require(try database.node(id: first.nodeID))
        #expect(try database.fence(old)?.body.error.code == .staleEpoch)
    }

    /// The whole path with the real binaries: `aggregator nodes enroll`, `venue-node init --token`, sync.
    @Test func aNodeEnrolsItselfWithATokenAndSyncs() async throws {
        let harness = try ProcessHarness()
        defer { harness.cleanUp() }
        let eventFile = try harness.write(Fixtures.smallEventJSON, to: "event.json")
        let eventURL = harness.workDirectory.appending(path: eventFile)
        let (aggregator, port) = try await harness.startAggregator(dataDir: "agg", event: eventURL)
        defer {
            aggregator.terminate()
            aggregator.waitUntilExit()
        }
        let issued = try harness.run("aggregator", ["nodes", "enroll", "--data-dir", "agg", "--venue", "east"])
        #expect(issued.status == 0, "\(issued.stderr)")
        let token = issued.stdout.trimmingCharacters(in: .whitespacesAndNewlines)
        #expect(token.hasPrefix("sme_") && issued.stderr.contains("--token \(token)"))
        let url = "http://127.0.0.1:\(port)"
        // Over plain http the node must already know the aggregator's key.
        let unkeyed = try harness.run(
            "venue-node",
            [
                "init", "--data-dir", "east", "--event", eventURL.path,
                "--venue", "east", "--aggregator", url, "--token", token,
            ])
        #expect(unkeyed.status != 0 && unkeyed.stderr.contains("--aggregator-key"), "\(unkeyed.stderr)")
        let identity = try harness.run("aggregator", ["identity", "--data-dir", "agg"])
            .stdout.trimmingCharacters(in: .whitespacesAndNewlines)
        let created = try harness.run(
            "venue-node",
            [
                "init", "--data-dir", "east", "--event", eventURL.path,
                "--venue", "east", "--aggregator", url, "--token", token,
                "--aggregator-key", identity,
            ])
        #expect(created.status == 0, "\(created.stderr)")
        #expect(created.stdout.contains("enrolled as node") && created.stdout.contains("epoch 1"))
        #expect(
            try harness.run(
                "venue-node",
                [
                    "checkin", "--data-dir", "east", "--session", "S1", "--rep", "R1",
                    "--category", "resident",
                ]
            ).status == 0)
        let synced = try harness.run("venue-node", ["sync", "--data-dir", "east"])
        #expect(synced.status == 0, "\(synced.stderr)")
        #expect(synced.stdout.contains("acknowledged through 1 of 1"))
        // A second node with the same token: the directory is made, enrolment is refused, exit 2.
        let again = try harness.run(
            "venue-node",
            [
                "init", "--data-dir", "east2", "--event", eventURL.path,
                "--venue", "east", "--aggregator", url, "--token", token,
                "--aggregator-key", identity,
            ])
        #expect(again.status == 2)
        #expect(again.stderr.contains("enrolment_token_used"), "\(again.stderr)")
        #expect(again.stderr.contains("venue-node enroll --data-dir east2"))
    }
}
