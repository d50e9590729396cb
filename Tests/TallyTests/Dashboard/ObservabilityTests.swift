import Aggregator
import Foundation
import GRDB
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Logging
import Shared
import Testing

/// /metrics, /readyz, the dashboard state, and confidential results over HTTP (no socket).
@Suite struct ObservabilityTests {
    let database: AggregatorDatabase
    let intake: BatchIntake
    let signer = TestSigner()
    let metrics = IngestMetrics()

    init() throws {
        let json = Fixtures.smallEventJSON.replacingOccurrences(
            of: #""quotas": ["#,
            with: #""results_confidential": true, "quotas": ["#)
        (database, intake) = try Fixtures.aggregator(eventJSON: json, enrolling: ["east": signer])
    }

    @Test func metricsCountBatchesByOutcomeAndRecordsByKind() async throws {
        let app = try buildApplication(
            intake: intake, settings: AggregatorSettings(), logger: Logger(label: "test"),
            metrics: metrics)
        let records = Fixtures.chain([
            .checkin(.init(session: "S1", rep: "R1", category: "resident")),
            .checkin(.init(session: "S1", rep: "R2", category: "resident")),
            .boxClosed(.init(session: "S1", box: "B1", issued: 1, returned: 1)),
            Fixtures.validBallot(["D01": "satisfied", "D02": "satisfied"]),
        ])
        let body = signer.body(records, venue: "east")
        let token = try database.addToken(name: "prometheus", role: .observer)
        try await app.test(.router) { client in
            for _ in 0..<2 {
                try await client.execute(
                    uri: "/v1/batches", method: .post, headers: signer.postHeaders(body),
                    body: ByteBuffer(bytes: body)
                ) { #expect($0.status == .ok) }
            }
            try await client.execute(
                uri: "/v1/batches", method: .post, headers: [.contentType: "application/json"],
                body: ByteBuffer(string: "{}")
            ) { #expect($0.status == .unauthorized) }
            let heartbeat = try JSONEncoder().encode(
                Heartbeat(
                    node: signer.nodeID, venue: "east", headSeq: 6,
                    headHash: records[2].hash, pending: 2, freeDiskBytes: 1,
                    version: "t", clock: "c"))
            try await client.execute(
                uri: "/v1/heartbeats", method: .post, headers: signer.postHeaders(heartbeat, path: "/v1/heartbeats"),
                body: ByteBuffer(bytes: heartbeat)
            ) { #expect($0.status == .noContent) }
            try await client.execute(uri: "/metrics", method: .get, headers: bearer(token)) { response in
                let text = String(buffer: response.body)
                #expect(text.contains(#"sanmin_batches_total{outcome="accepted"} 2"#), "\(text)")
                #expect(text.contains(#"sanmin_batches_total{outcome="missing_signature"} 1"#))
                #expect(text.contains(#"sanmin_records_total{kind="checkin"} 2"#))
                #expect(text.contains(#"sanmin_records_total{kind="ballot"} 1"#))
                #expect(text.contains(#"sanmin_venue_pending_records{venue="east"} 2"#))
                #expect(text.contains(#"sanmin_venue_held_records{venue="east"} 4"#))
                #expect(text.contains("sanmin_ingest_duration_seconds_count 3"))
            }
            try await client.execute(uri: "/readyz", method: .get, headers: bearer(token)) { #expect($0.status == .ok) }
            try await client.execute(uri: "/healthz", method: .get) { #expect($0.status == .ok) }
        }
    }

    @Test func confidentialResultsStayHiddenUntilReleased() async throws {
        let records = Fixtures.chain([
            .boxClosed(.init(session: "S1", box: "B1", issued: 1, returned: 1)),
            Fixtures.validBallot(["D01": "satisfied", "D02": "dissatisfied"]),
        ])
        _ = try await signer.send(records, venue: "east", to: intake)
        let app = try buildApplication(intake: intake, settings: AggregatorSettings(), logger: Logger(label: "test"))
        let token = try database.addToken(name: "大屏", role: .observer)
        try await app.test(.router) { client in
            try await client.execute(uri: "/v1/results", method: .get, headers: bearer(token)) { response in
                #expect(response.status == .forbidden)
                let body = try JSONDecoder().decode(APIErrorBody.self, from: Data(buffer: response.body))
                #expect(body.error.code == .resultsConfidential)
            }
            try await client.execute(uri: "/v1/totals", method: .get, headers: bearer(token)) { response in
                let totals = try JSONDecoder().decode(Totals.self, from: Data(buffer: response.body))
                #expect(totals.tallies.isEmpty)
                #expect(totals.boxes.first?.valid == 1)
            }
            try await client.execute(uri: "/v1/dashboard", method: .get, headers: bearer(token)) { response in
                let state = try JSONDecoder().decode(DashboardState.self, from: Data(buffer: response.body))
                #expect(state.resultsVisible == false)
                #expect(state.departments.isEmpty)
                #expect(state.totals.first?.valid == 1)
            }
            try database.releaseResults(by: "监督检查组")
            try await client.execute(uri: "/v1/results", method: .get, headers: bearer(token)) {
                #expect($0.status == .ok)
            }
            try await client.execute(uri: "/v1/dashboard", method: .get, headers: bearer(token)) { response in
                let state = try JSONDecoder().decode(DashboardState.self, from: Data(buffer: response.body))
                #expect(state.resultsVisible)
                #expect(state.departments.first { $0.department == "D01" }?.counts == ["satisfied": 1])
            }
        }
    }

    @Test func theHubSendsTheStateAtOnceAndAgainAfterAPublish() async throws {
        let hub = DashboardHub(database: database, logger: Logger(label: "test"))
        var frames = await hub.subscribe().makeAsyncIterator()
        #expect(String(buffer: try #require(await frames.next())) == "retry: 2000\n\n")
        let first = String(buffer: try #require(await frames.next()))
        #expect(first.hasPrefix("id: 1\nevent: state\ndata: {"))
        let records = Fixtures.chain([.checkin(.init(session: "S1", rep: "R1", category: "resident"))])
        _ = try await signer.send(records, venue: "east", to: intake)
        hub.publish()
        let second = String(buffer: try #require(await frames.next()))
        #expect(second.hasPrefix("id: 2\nevent: state\n"))
        #expect(second.contains(#""checked_in":1"#))
    }

    @Test func everyReadNeedsATokenOrANodeSignatureAndOnlyHealthzIsOpen() async throws {
        let app = try buildApplication(intake: intake, settings: AggregatorSettings(), logger: Logger(label: "test"))
        let token = try database.addToken(name: "大屏", role: .observer)
        let admin = try database.addToken(name: "central office", role: .admin)
        #expect(token.hasPrefix("smt_") && token.count > 40)
        #expect(try database.role(ofToken: token) == .observer)
        #expect(try database.role(ofToken: admin) == .admin)
        #expect(try database.role(ofToken: token + "x") == nil)
        let records = Fixtures.chain([.checkin(.init(session: "S1", rep: "R1", category: "resident"))])
        let body = signer.body(records, venue: "east")
        try await app.test(.router) { client in
            for uri in [
                "/v1/totals", "/v1/dashboard", "/v1/reconciliation", "/metrics", "/dashboard", "/readyz",
                "/v1/heads", "/v1/nodes/\(signer.nodeID)/cursor",
            ] {
                try await client.execute(uri: uri, method: .get) { response in
                    #expect(response.status == .unauthorized, "\(uri)")
                }
                try await client.execute(
                    uri: uri, method: .get,
                    headers: [.authorization: "Bearer wrong"]
                ) { #expect($0.status == .unauthorized) }
            }
            for uri in [
                "/v1/totals", "/v1/dashboard", "/v1/reconciliation", "/metrics", "/dashboard", "/readyz",
                "/v1/nodes/\(signer.nodeID)/cursor",
            ] {
                try await client.execute(uri: uri, method: .get, headers: bearer(token)) {
                    #expect($0.status == .ok, "\(uri)")
                }
            }
            try await client.execute(uri: "/dashboard?token=\(token)", method: .get) { #expect($0.status == .ok) }
            try await client.execute(uri: "/healthz", method: .get) { #expect($0.status == .ok) }
            try await client.execute(
                uri: "/v1/batches", method: .post, headers: signer.postHeaders(body),
                body: ByteBuffer(bytes: body)
            ) { #expect($0.status == .ok) }
            let cursor = "/v1/nodes/\(signer.nodeID)/cursor"
            try await client.execute(uri: cursor, method: .get, headers: signer.getHeaders(path: cursor)) {
                #expect($0.status == .ok)
            }
            // A signature that does not verify gets nothing.
            try await client.execute(uri: cursor, method: .get, headers: TestSigner().getHeaders(path: cursor)) {
                #expect($0.status == .forbidden)
            }
            // Admin paths need an admin token.
            let issue = ByteBuffer(string: #"{"venue":"east","valid_hours":2}"#)
            try await client.execute(
                uri: "/v1/admin/enrolment-tokens", method: .post, headers: bearer(token),
                body: issue
            ) { response in
                #expect(response.status == .forbidden)
                let refusal = try JSONDecoder().decode(APIErrorBody.self, from: Data(buffer: response.body))
                #expect(refusal.error.code == .forbidden)
            }
            // However the path is spelt, the route decides: an extra slash does not make an admin path an observer's.
            for uri in ["/v1//admin/enrolment-tokens", "//v1/admin/enrolment-tokens", "/v1/admin//enrolment-tokens"] {
                try await client.execute(uri: uri, method: .post, headers: bearer(token), body: issue) { response in
                    #expect(response.status == .forbidden, "\(uri)")
                }
            }
            // A token in the URL counts only for the dashboard page and its event stream.
            try await client.execute(uri: "/v1/totals?token=\(token)", method: .get) {
                #expect($0.status == .unauthorized)
            }
            try await client.execute(
                uri: "/v1/admin/enrolment-tokens", method: .post, headers: bearer(admin),
                body: issue
            ) { response in
                #expect(response.status == .created)
                #expect(String(buffer: response.body).contains(#""token":"sme_"#))
            }
            try await client.execute(uri: "/v1/admin/roster?venue=east", method: .get, headers: bearer(token)) {
                #expect($0.status == .forbidden)
            }
            try await client.execute(uri: "/v1/admin/roster?venue=east", method: .get, headers: bearer(admin)) {
                #expect($0.status == .ok)
            }
            for uri in ["/v1/admin/roster", "/v1/admin/roster?venue=nowhere"] {
                try await client.execute(uri: uri, method: .get, headers: bearer(admin)) {
                    #expect($0.status == .notFound)
                }
            }
            // An admin revokes a node over HTTP; what it signs afterwards is refused.
            let revoke = "/v1/admin/nodes/\(signer.nodeID)/revoke"
            let reason = ByteBuffer(string: #"{"reason":"laptop stolen"}"#)
            try await client.execute(uri: revoke, method: .post, headers: bearer(token), body: reason) {
                #expect($0.status == .forbidden)
            }
            try await client.execute(uri: revoke, method: .post, headers: bearer(admin), body: reason) {
                #expect($0.status == .noContent)
            }
            try await client.execute(uri: revoke, method: .post, headers: bearer(admin), body: reason) {
                #expect($0.status == .conflict)
            }
            let more = Fixtures.chain(
                [.checkin(.init(session: "S1", rep: "R2", category: "resident"))],
                afterSeq: 1, afterHash: records[0].hash)
            let moreBody = signer.body(more, venue: "east")
            try await client.execute(
                uri: "/v1/batches", method: .post, headers: signer.postHeaders(moreBody),
                body: ByteBuffer(bytes: moreBody)
            ) { response in
                #expect(response.status == .forbidden)
                let refusal = try JSONDecoder().decode(APIErrorBody.self, from: Data(buffer: response.body))
                #expect(refusal.error.code == .revokedNode)
            }
        }
        // The tokens themselves are stored nowhere: only their hashes.
        let stored = try await database.writerForTests.read { db in
            try String.fetchAll(db, sql: "SELECT tokenHash FROM apiToken")
        }
        #expect(stored.count == 2 && !stored.contains { $0.contains(token) || $0.contains(admin) })
    }
}
