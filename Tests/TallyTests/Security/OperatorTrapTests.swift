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

/// Operator traps at the central office (issue #11, point 8): a mistyped data directory, a revocation
/// without a reason or a confirmation, tokens that could not be taken back, heartbeat figures no node can
/// have, and error answers without a body.
@Suite struct OperatorTrapTests {
    let database: AggregatorDatabase
    let intake: BatchIntake
    let node = TestSigner()

    init() throws {
        (database, intake) = try Fixtures.aggregator(
            signingKey: Curve25519.Signing.PrivateKey(), enrolling: ["east": node])
    }

    /// Every command but `init` and `serve`, with a data directory that holds no aggregator database.
    static let commandsOnAMistypedDirectory: [[String]] = [
        ["nodes", "enroll", "--venue", "east"],
        ["nodes", "add", "--venue", "east", "--public-key", TestSigner().publicKeyBase64],
        ["nodes", "list"],
        ["nodes", "revoke", "--node", "5575479a", "--reason", "stolen", "--yes"],
        ["nodes", "tokens"],
        ["nodes", "tokens", "revoke", "0123456789ab", "--reason", "wrong venue", "--yes"],
        ["identity"],
        ["tokens", "add", "--role", "observer", "--name", "screen"],
        ["tokens", "list"],
        ["tokens", "revoke", "1", "--reason", "lost", "--yes"],
        ["results", "release", "--by", "someone"],
        ["export", "tallies"],
        ["alarms"],
        ["report"],
        ["roster", "export"],
        ["import", "usb.json"],
    ]

    @Test func initMakesAnAggregatorReadyForItsFirstHourAndVenuesAreChecked() throws {
        let harness = try ProcessHarness()
        defer { harness.cleanUp() }
        let event = try harness.write(Fixtures.smallEventJSON, to: "event.json")
        // Before init: refused, naming the step that is missing.
        let early = try harness.run("aggregator", ["nodes", "enroll", "--data-dir", "agg", "--venue", "east"])
        #expect(early.status != 0)
        #expect(early.stderr.contains("`aggregator init --data-dir agg --event FILE` creates one"), "\(early.stderr)")
        let made = try harness.run("aggregator", ["init", "--data-dir", "agg", "--event", event])
        #expect(made.status == 0, "\(made.stderr)")
        #expect(
            made.stdout.contains("aggregator ready in agg for event test-2026 (2 venues: main, east)"), "\(made.stdout)"
        )
        let key = try #require(made.stdout.split(separator: "\n").first { $0.hasPrefix("public key: ") })
        // The same key as `identity` prints, and init again is harmless.
        let identity = try harness.run("aggregator", ["identity", "--data-dir", "agg"])
        #expect(identity.stdout.contains(key.dropFirst("public key: ".count)))
        #expect(try harness.run("aggregator", ["init", "--data-dir", "agg", "--event", event]).status == 0)
        // Then the first hour's commands work, and a venue the event does not have is refused.
        let token = try harness.run("aggregator", ["nodes", "enroll", "--data-dir", "agg", "--venue", "east"])
        #expect(token.status == 0, "\(token.stderr)")
        #expect(token.stdout.hasPrefix("sme_"))
        for command in [
            ["nodes", "enroll", "--data-dir", "agg", "--venue", "west"],
            ["nodes", "add", "--data-dir", "agg", "--venue", "west", "--public-key", TestSigner().publicKeyBase64],
        ] {
            let refused = try harness.run("aggregator", command)
            #expect(refused.status != 0)
            #expect(
                refused.stderr.contains("venue \"west\" is not in event test-2026; its venues are: main, east"),
                "\(refused.stderr)")
            #expect(!refused.stdout.contains("sme_"))
        }
        #expect(
            try harness.run(
                "aggregator", ["tokens", "add", "--data-dir", "agg", "--role", "observer", "--name", "screen"]
            )
            .status == 0)
        // Another event in the same directory: refused.
        var other = try JSONSerialization.jsonObject(with: Data(Fixtures.smallEventJSON.utf8)) as! [String: Any]
        other["id"] = "other-2026"
        try JSONSerialization.data(withJSONObject: other).write(to: harness.workDirectory.appending(path: "other.json"))
        let otherEvent = try harness.run("aggregator", ["init", "--data-dir", "agg", "--event", "other.json"])
        #expect(otherEvent.status != 0, "\(otherEvent.stdout)")
    }

    @Test("A mistyped --data-dir is refused, named, and nothing is created", arguments: commandsOnAMistypedDirectory)
    func aMistypedDataDirectoryIsRefused(_ command: [String]) throws {
        let harness = try ProcessHarness()
        defer { harness.cleanUp() }
        // The real directory exists elsewhere; the operator typed /srv/agg instead of /srv/aggr.
        let result = try harness.run("aggregator", command + ["--data-dir", "aggr"])
        #expect(result.status != 0)
        #expect(result.stderr.contains("aggr holds no aggregator database"), "\(result.stderr)")
        #expect(!result.stdout.contains("sme_") && !result.stdout.contains("smt_"), "\(result.stdout)")
        #expect(!FileManager.default.fileExists(atPath: harness.workDirectory.appending(path: "aggr").path))
    }

    @Test func aRevocationNeedsAReasonAndAConfirmation() throws {
        let harness = try ProcessHarness()
        defer { harness.cleanUp() }
        let directory = harness.workDirectory.appending(path: "agg")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        let stored = try AggregatorDatabase(path: directory.appending(path: "aggregator.sqlite").path, create: true)
        try stored.enroll(venue: "east", publicKeyBase64: node.publicKeyBase64)

        for reason in ["", "   "] {
            let empty = try harness.run(
                "aggregator",
                [
                    "nodes", "revoke", "--data-dir", "agg", "--node", node.nodeID,
                    "--reason", reason, "--yes",
                ])
            #expect(empty.status != 0)
            #expect(empty.stderr.contains("--reason is empty"), "\(empty.stderr)")
        }
        // No terminal (a script) and no --yes: refused, nothing revoked.
        let unconfirmed = try harness.run(
            "aggregator",
            [
                "nodes", "revoke", "--data-dir", "agg", "--node", node.nodeID,
                "--reason", "laptop stolen",
            ])
        #expect(unconfirmed.status != 0)
        #expect(unconfirmed.stderr.contains("add --yes"), "\(unconfirmed.stderr)")
        #expect(try stored.revokedNodeIDs().isEmpty)
        // A node that is not enrolled is named before anything is asked.
        let unknown = try harness.run(
            "aggregator",
            [
                "nodes", "revoke", "--data-dir", "agg", "--node", "feedfacefeedface",
                "--reason", "typo", "--yes",
            ])
        #expect(unknown.status != 0 && unknown.stderr.contains("no node feedfacefeedface is enrolled"))

        let confirmed = try harness.run(
            "aggregator",
            [
                "nodes", "revoke", "--data-dir", "agg", "--node", node.nodeID,
                "--reason", "laptop stolen", "--yes",
            ])
        #expect(confirmed.status == 0, "\(confirmed.stderr)")
        #expect(try stored.revokedNodeIDs() == [node.nodeID])
        // Over HTTP too, an empty reason is refused.
        #expect(throws: AggregatorError.self) { try database.revoke(nodeID: node.nodeID, reason: " \n") }
    }

    @Test func bearerAndEnrolmentTokensAreListedAndRevokedFromTheCommandLine() throws {
        let harness = try ProcessHarness()
        defer { harness.cleanUp() }
        let directory = harness.workDirectory.appending(path: "agg")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        let (stored, _) = try Fixtures.aggregator(path: directory.appending(path: "aggregator.sqlite").path)

        // Bearer tokens.
        let screen = try harness.run(
            "aggregator",
            [
                "tokens", "add", "--data-dir", "agg", "--role", "observer",
                "--name", "大屏",
            ])
        let screenToken = screen.stdout.trimmingCharacters(in: .whitespacesAndNewlines)
        #expect(screen.status == 0 && screenToken.hasPrefix("smt_"))
        #expect(screen.stderr.contains("aggregator tokens revoke --data-dir agg 1 --reason"), "\(screen.stderr)")
        _ = try harness.run("aggregator", ["tokens", "add", "--data-dir", "agg", "--role", "admin", "--name", "王芳"])
        let listed = try harness.run("aggregator", ["tokens", "list", "--data-dir", "agg"])
        #expect(listed.stdout.contains("大屏") && listed.stdout.contains("王芳") && !listed.stdout.contains("smt_"))
        #expect(listed.stdout.components(separatedBy: "active").count == 3, "\(listed.stdout)")
        let unconfirmed = try harness.run(
            "aggregator", ["tokens", "revoke", "--data-dir", "agg", "1", "--reason", "lost"])
        #expect(unconfirmed.status != 0 && unconfirmed.stderr.contains("add --yes"))
        #expect(try stored.role(ofToken: screenToken) == .observer)
        let revoked = try harness.run(
            "aggregator",
            [
                "tokens", "revoke", "--data-dir", "agg", "1", "--reason",
                "screen replaced", "--yes",
            ])
        #expect(revoked.status == 0, "\(revoked.stderr)")
        #expect(try stored.check(bearerToken: screenToken) != .unknown)
        #expect(try stored.role(ofToken: screenToken) == nil)
        let again = try harness.run(
            "aggregator", ["tokens", "revoke", "--data-dir", "agg", "1", "--reason", "x", "--yes"])
        #expect(again.status != 0 && again.stderr.contains("already revoked"), "\(again.stderr)")
        let relisted = try harness.run("aggregator", ["tokens", "list", "--data-dir", "agg"]).stdout
        #expect(relisted.contains("revoked") && relisted.contains("screen replaced"), "\(relisted)")

        // Enrolment tokens: listed with venue, dates and state; an unused one can be revoked, a used one not.
        let issued = try harness.run("aggregator", ["nodes", "enroll", "--data-dir", "agg", "--venue", "east"])
        let enrolmentToken = issued.stdout.trimmingCharacters(in: .whitespacesAndNewlines)
        let id = AggregatorDatabase.enrolmentTokenID(of: enrolmentToken)
        #expect(issued.stderr.contains("id \(id)"), "\(issued.stderr)")
        let used = try stored.issueEnrolmentToken(venue: "main", validFor: 3600)
        _ = try stored.redeemEnrolmentToken(used, venue: "main", key: node.key.publicKey)
        let tokens = try harness.run("aggregator", ["nodes", "tokens", "--data-dir", "agg"]).stdout
        let row = try #require(tokens.split(separator: "\n").first { $0.hasPrefix(id) }, "\(tokens)")
        #expect(row.contains("east") && row.contains(" unused "), "\(row)")
        #expect(tokens.contains(" used ") && tokens.contains("node \(node.nodeID)"), "\(tokens)")
        let usedID = AggregatorDatabase.enrolmentTokenID(of: used)
        let refused = try harness.run(
            "aggregator",
            [
                "nodes", "tokens", "revoke", "--data-dir", "agg", usedID, "--reason",
                "too late", "--yes",
            ])
        #expect(refused.status != 0 && refused.stderr.contains("revoke the node instead"), "\(refused.stderr)")
        let revokedEnrolment = try harness.run(
            "aggregator",
            [
                "nodes", "tokens", "revoke", "--data-dir", "agg", id,
                "--reason", "sent to the wrong venue", "--yes",
            ])
        #expect(revokedEnrolment.status == 0, "\(revokedEnrolment.stderr)")
        let after = try harness.run("aggregator", ["nodes", "tokens", "--data-dir", "agg"]).stdout
        #expect(after.split(separator: "\n").first { $0.hasPrefix(id) }?.contains(" revoked ") == true, "\(after)")
        #expect(throws: EnrolmentRefusal.self) {
            try stored.redeemEnrolmentToken(enrolmentToken, venue: "east", key: TestSigner().key.publicKey)
        }
        // The revocations are records: they cannot be changed or deleted.
        try stored.writerForTests.write { db in
            for table in ["apiTokenRevocation", "enrolmentTokenRevocation"] {
                #expect(throws: DatabaseError.self) { try db.execute(sql: "DELETE FROM \(table)") }
                #expect(throws: DatabaseError.self) { try db.execute(sql: "UPDATE \(table) SET reason = 'x'") }
            }
        }
    }

    @Test func revokedTokensAreRefusedEverywhereWithTheirOwnCode() async throws {
        let observer = try database.addToken(name: "screen", role: .observer)
        let admin = try database.addToken(name: "admin", role: .admin)
        let unused = try database.issueEnrolmentToken(venue: "east", validFor: 3600)
        try database.revokeToken(id: try #require(try database.tokenID(of: observer)), reason: "screen stolen")
        try database.revokeEnrolmentToken(id: AggregatorDatabase.enrolmentTokenID(of: unused), reason: "wrong venue")
        let app = try buildApplication(intake: intake, settings: AggregatorSettings(), logger: Logger(label: "test"))
        try await app.test(.router) { client in
            for uri in ["/v1/totals", "/v1/dashboard", "/metrics", "/dashboard", "/v1/heads"] {
                try await client.execute(uri: uri, method: .get, headers: bearer(observer)) { response in
                    #expect(response.status == .unauthorized, "\(uri)")
                    let body = try JSONDecoder().decode(APIErrorBody.self, from: Data(buffer: response.body))
                    #expect(body.error.code == .tokenRevoked, "\(uri)")
                }
            }
            try await client.execute(uri: "/dashboard?token=\(observer)", method: .get) { response in
                #expect(response.status == .unauthorized)
            }
            try await client.execute(uri: "/v1/totals", method: .get, headers: bearer(admin)) {
                #expect($0.status == .ok)
            }
            // The revoked enrolment token enrols nobody.
            let signer = TestSigner()
            let body = try JSONEncoder().encode(
                EnrolmentRequest(token: unused, venue: "east", publicKey: signer.publicKeyBase64))
            try await client.execute(
                uri: "/v1/enrolments", method: .post,
                headers: signer.postHeaders(body, path: "/v1/enrolments"),
                body: ByteBuffer(bytes: body)
            ) { response in
                #expect(response.status == .unauthorized)
                let refusal = try JSONDecoder().decode(APIErrorBody.self, from: Data(buffer: response.body))
                #expect(refusal.error.code == .enrolmentTokenRevoked)
            }
        }
        #expect(try database.nodes().map(\.id) == [node.nodeID])
        #expect(try database.enrolmentTokens().map { $0.state() } == ["revoked"])
    }

    struct BadHeartbeat: CustomTestStringConvertible, Sendable {
        var field: String
        var change: @Sendable (inout Heartbeat) -> Void
        var testDescription: String { field }
    }

    static let badHeartbeats: [BadHeartbeat] = [
        BadHeartbeat(field: "pending") { $0.pending = -5 },
        BadHeartbeat(field: "pending") { $0.pending = $0.headSeq + 1 },
        BadHeartbeat(field: "head_seq") { $0.headSeq = -1 },
        BadHeartbeat(field: "head_seq") { $0.headSeq = Int64.max },
        BadHeartbeat(field: "head_hash") { $0.headHash = "not a hash" },
        BadHeartbeat(field: "free_disk_bytes") { $0.freeDiskBytes = -1 },
        BadHeartbeat(field: "free_disk_bytes") { $0.freeDiskBytes = Int64.max },
        BadHeartbeat(field: "version") { $0.version = String(repeating: "9", count: 65) },
    ]

    func heartbeatRequest(_ heartbeat: Heartbeat) throws -> (HTTPFields, ByteBuffer) {
        let body = try JSONEncoder().encode(heartbeat)
        return (node.postHeaders(body, path: "/v1/heartbeats"), ByteBuffer(bytes: body))
    }

    var plausible: Heartbeat {
        Heartbeat(
            node: node.nodeID, venue: "east", headSeq: 10, headHash: String(repeating: "ab", count: 32), pending: 3,
            freeDiskBytes: 1 << 30, version: sanminVersion, clock: Date().formatted(.iso8601))
    }

    @Test("A heartbeat no node can have sent is refused with 422 naming the field", arguments: badHeartbeats)
    func anImplausibleHeartbeatIsRefused(_ bad: BadHeartbeat) async throws {
        var heartbeat = plausible
        bad.change(&heartbeat)
        let (headers, body) = try heartbeatRequest(heartbeat)
        let app = try buildApplication(intake: intake, settings: AggregatorSettings(), logger: Logger(label: "test"))
        try await app.test(.router) { client in
            try await client.execute(uri: "/v1/heartbeats", method: .post, headers: headers, body: body) { response in
                #expect(response.status == .unprocessableContent)
                let refusal = try JSONDecoder().decode(APIErrorBody.self, from: Data(buffer: response.body))
                #expect(refusal.error.code == .invalidHeartbeat)
                #expect(refusal.error.field == bad.field)
                #expect(refusal.error.message.hasPrefix(bad.field + ":"), "\(refusal.error.message)")
            }
        }
        #expect(try database.contacts().isEmpty)
    }

    @Test func everyErrorAnswerHasTheJSONErrorBody() async throws {
        let admin = try database.addToken(name: "admin", role: .admin)
        let app = try buildApplication(intake: intake, settings: AggregatorSettings(), logger: Logger(label: "test"))
        try await app.test(.router) { client in
            // A plausible heartbeat is still taken.
            let (headers, body) = try heartbeatRequest(plausible)
            try await client.execute(uri: "/v1/heartbeats", method: .post, headers: headers, body: body) {
                #expect($0.status == .noContent)
            }
            // An oversized heartbeat: 413 with the error body (it used to be empty).
            let big = ByteBuffer(bytes: [UInt8](repeating: UInt8(ascii: " "), count: 70_000))
            try await client.execute(uri: "/v1/heartbeats", method: .post, headers: headers, body: big) { response in
                #expect(response.status == .contentTooLarge)
                let refusal = try JSONDecoder().decode(APIErrorBody.self, from: Data(buffer: response.body))
                #expect(refusal.error.code == .bodyTooLarge)
            }
            // A path no route answers, and a method a route does not take.
            for (uri, method) in [("/v1/nothing-here", HTTPRequest.Method.get), ("/v1/totals", .delete)] {
                try await client.execute(uri: uri, method: method, headers: bearer(admin)) { response in
                    #expect(response.status == .notFound || response.status == .methodNotAllowed, "\(uri)")
                    let refusal = try JSONDecoder().decode(APIErrorBody.self, from: Data(buffer: response.body))
                    #expect(
                        refusal.error.code == (response.status == .notFound ? .notFound : .methodNotAllowed), "\(uri)")
                }
            }
            // The aggregator's key is public: a node reads it before it enrols.
            try await client.execute(uri: "/v1/identity", method: .get) { response in
                #expect(response.status == .ok)
                let identity = try JSONDecoder().decode(AggregatorIdentity.self, from: Data(buffer: response.body))
                #expect(identity.aggregatorKey == intake.signingKey?.publicKey.rawRepresentation.base64EncodedString())
                #expect(identity.event == "test-2026")
            }
        }
    }
}
