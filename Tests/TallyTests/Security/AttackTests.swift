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

/// Forged, replayed and malformed requests, over HTTP: each is refused with a stable code and changes
/// nothing — not the records, not the totals.
@Suite struct AttackTests {
    struct Attack: CustomTestStringConvertible, Sendable {
        var name: String
        var status: HTTPResponse.Status
        var code: APIErrorCode
        var testDescription: String { name }
    }

    /// A request as an attacker shapes it.
    struct Shaped {
        var headers: HTTPFields
        var body: Data
    }

    let database: AggregatorDatabase
    let intake: BatchIntake
    let node = TestSigner()
    let revoked = TestSigner()
    let held: [ChainedRecord]

    init() async throws {
        (database, intake) = try Fixtures.aggregator(enrolling: ["east": node, "main": revoked])
        try database.revoke(nodeID: revoked.nodeID, reason: "stolen")
        held = Fixtures.chain([
            .checkin(.init(session: "S1", rep: "R1", category: "resident")),
            .boxClosed(.init(session: "S1", box: "B1", issued: 2, returned: 2)),
            Fixtures.validBallot(["D01": "satisfied", "D02": "dissatisfied"]),
        ])
        _ = try await node.send(held, venue: "east", to: intake)
    }

    /// A correctly signed request with this body.
    func signedBody(_ body: Data, by signer: TestSigner? = nil) -> Shaped {
        let signer = signer ?? node
        return Shaped(headers: signer.postHeaders(body), body: body)
    }

    func next(_ payloads: [RecordPayload]) -> [ChainedRecord] {
        Fixtures.chain(payloads, afterSeq: 3, afterHash: held[2].hash)
    }

    func shape(_ name: String) -> Shaped {
        let fresh = next([.checkin(.init(session: "S1", rep: "R2", category: "resident"))])
        let good = node.body(fresh, venue: "east")
        switch name {
        case "bad signature":
            // One bit of the signature flipped.
            var shaped = signedBody(good)
            let header = shaped.headers[HTTPField.Name("Signature")!]!
            var bytes = Data(base64Encoded: String(header.dropFirst("sig1=:".count).dropLast()))!
            bytes[0] ^= 0x01
            shaped.headers[HTTPField.Name("Signature")!] = "sig1=:\(bytes.base64EncodedString()):"
            return shaped
        case "unknown key":
            return signedBody(TestSigner().body(fresh, venue: "east"), by: TestSigner())
        case "revoked key":
            return signedBody(revoked.body(fresh, venue: "main"), by: revoked)
        case "a batch for another venue":
            return signedBody(node.body(fresh, venue: "main"))
        case "an old batch replayed with a changed body":
            var shaped = signedBody(node.body(held, venue: "east"))
            shaped.body = node.body(
                Fixtures.chain([.checkin(.init(session: "S1", rep: "R9", category: "resident"))]),
                venue: "east")
            return shaped
        case "a changed body with a recomputed digest and the old signature":
            var shaped = signedBody(node.body(held, venue: "east"))
            let forged = node.body(
                Fixtures.chain([.checkin(.init(session: "S1", rep: "R9", category: "resident"))]),
                venue: "east")
            shaped.body = forged
            shaped.headers[HTTPField.Name("Content-Digest")!] = MessageSignature.contentDigest(of: forged)
            return shaped
        case "a forked chain":
            return signedBody(
                node.body(
                    Fixtures.chain(
                        [.checkin(.init(session: "S1", rep: "R7", category: "expert"))],
                        afterSeq: 1, afterHash: held[0].hash), venue: "east"))
        case "a session the event does not have":
            return signedBody(
                node.body(next([.checkin(.init(session: "S9", rep: "R2", category: "resident"))]), venue: "east"))
        case "a box id that is not an id":
            return signedBody(node.body(next([.boxOpened(.init(session: "S1", box: "B 1; DROP"))]), venue: "east"))
        case "a department the event does not have":
            return signedBody(
                node.body(
                    next([Fixtures.validBallot(["D01": "satisfied", "D99": "satisfied"])]),
                    venue: "east"))
        case "a huge count":
            return signedBody(
                node.body(
                    next([.boxClosed(.init(session: "S1", box: "B1", issued: 1 << 40, returned: 0))]),
                    venue: "east"))
        case "a negative count":
            return signedBody(
                node.body(
                    next([.boxClosed(.init(session: "S1", box: "B1", issued: -5, returned: 0))]),
                    venue: "east"))
        case "a sequence number beyond 64 bits":
            return signedBody(
                Data(
                    String(decoding: good, as: UTF8.self)
                        .replacingOccurrences(of: #""seq":4"#, with: #""seq":100000000000000000000000"#).utf8))
        case "a negative sequence number":
            return signedBody(
                Data(
                    String(decoding: good, as: UTF8.self)
                        .replacingOccurrences(of: #""seq":4"#, with: #""seq":-4"#).utf8))
        case "malformed JSON":
            return signedBody(Data("{\"version\":1,\"records\":[}".utf8))
        case "truncated JSON":
            return signedBody(good.prefix(good.count / 2))
        case "deeply nested JSON":
            return signedBody(
                Data((String(repeating: "[", count: 30_000) + String(repeating: "]", count: 30_000)).utf8))
        case "invalid UTF-8":
            var bytes = good
            bytes.replaceSubrange(10..<12, with: [0xC3, 0x28])
            return signedBody(bytes)
        case "the wrong content type":
            var shaped = signedBody(good)
            shaped.headers[.contentType] = "text/plain"
            return shaped
        case "a missing signature header":
            var shaped = signedBody(good)
            shaped.headers[HTTPField.Name("Signature")!] = nil
            return shaped
        case "a duplicated signature header":
            var shaped = signedBody(good)
            shaped.headers.append(
                HTTPField(
                    name: HTTPField.Name("Signature-Input")!,
                    value: shaped.headers[HTTPField.Name("Signature-Input")!]!))
            return shaped
        case "an oversized body":
            return signedBody(Data(repeating: UInt8(ascii: " "), count: 70_000))
        case "a batch signed eight days ago":
            let signed = node.headers(for: good, created: Int64(Date().timeIntervalSince1970) - 8 * 86_400)
            return Shaped(headers: signed.fields(), body: good)
        case "a signature that does not cover the path it is sent to":
            return Shaped(headers: node.postHeaders(good, path: "/v1/heartbeats"), body: good)
        // A stolen node key, used to break the rules the node keeps.
        case "the same person checked in twice in one session":
            return signedBody(
                node.body(next([.checkin(.init(session: "S1", rep: "R1", category: "resident"))]), venue: "east"))
        case "a box closed twice":
            return signedBody(
                node.body(
                    next([.boxClosed(.init(session: "S1", box: "B1", issued: 100_000, returned: 3))]),
                    venue: "east"))
        case "a ballot into a box not closed":
            return signedBody(
                node.body(
                    next([
                        .boxOpened(.init(session: "S1", box: "B2")),
                        Fixtures.validBallot(["D01": "satisfied", "D02": "satisfied"], box: "B2"),
                    ]),
                    venue: "east"))
        case "more ballots than the box returned":
            return signedBody(
                node.body(
                    next([
                        Fixtures.validBallot(["D01": "satisfied", "D02": "satisfied"]),
                        Fixtures.validBallot(["D01": "satisfied", "D02": "satisfied"]),
                    ]), venue: "east"))
        case "an ID-card number as representative id":
            return signedBody(
                node.body(
                    next([.checkin(.init(session: "S1", rep: "150602197005050016", category: "resident"))]),
                    venue: "east"))
        case "a payload with an extra field":
            let payload = RecordPayload.checkin(.init(session: "S1", rep: "R5", category: "resident")).canonicalJSON()
                .replacingOccurrences(of: #""kind":"checkin""#, with: #""kind":"checkin","weight":5"#)
            return signedBody(node.body([ChainedRecord(seq: 4, prev: held[2].hash, payload: payload)], venue: "east"))
        case "a payload version this aggregator does not know":
            let payload = RecordPayload.checkin(.init(session: "S1", rep: "R5", category: "resident")).canonicalJSON()
                .replacingOccurrences(of: #""v":5"#, with: #""v":6"#)
            return signedBody(node.body([ChainedRecord(seq: 4, prev: held[2].hash, payload: payload)], venue: "east"))
        default:
            fatalError("no attack named \(name)")
        }
    }

    static let attacks: [Attack] = [
        Attack(name: "bad signature", status: .unauthorized, code: .badSignature),
        Attack(name: "unknown key", status: .forbidden, code: .unknownNode),
        Attack(name: "revoked key", status: .forbidden, code: .revokedNode),
        Attack(name: "a batch for another venue", status: .forbidden, code: .venueMismatch),
        Attack(name: "an old batch replayed with a changed body", status: .badRequest, code: .digestMismatch),
        Attack(
            name: "a changed body with a recomputed digest and the old signature", status: .unauthorized,
            code: .badSignature),
        Attack(name: "a forked chain", status: .conflict, code: .chainConflict),
        Attack(name: "a session the event does not have", status: .unprocessableContent, code: .invalidRecord),
        Attack(name: "a box id that is not an id", status: .unprocessableContent, code: .invalidRecord),
        Attack(name: "a department the event does not have", status: .unprocessableContent, code: .invalidRecord),
        Attack(name: "a huge count", status: .unprocessableContent, code: .invalidRecord),
        Attack(name: "a negative count", status: .unprocessableContent, code: .invalidRecord),
        Attack(name: "a sequence number beyond 64 bits", status: .badRequest, code: .malformedBatch),
        Attack(name: "a negative sequence number", status: .badRequest, code: .malformedBatch),
        Attack(name: "malformed JSON", status: .badRequest, code: .malformedBatch),
        Attack(name: "truncated JSON", status: .badRequest, code: .malformedBatch),
        Attack(name: "deeply nested JSON", status: .badRequest, code: .malformedBatch),
        Attack(name: "invalid UTF-8", status: .badRequest, code: .malformedBatch),
        Attack(name: "the wrong content type", status: .unsupportedMediaType, code: .unsupportedMediaType),
        Attack(name: "a missing signature header", status: .unauthorized, code: .missingSignature),
        Attack(name: "a duplicated signature header", status: .badRequest, code: .malformedSignature),
        Attack(name: "an oversized body", status: .contentTooLarge, code: .bodyTooLarge),
        Attack(name: "a batch signed eight days ago", status: .unauthorized, code: .staleSignature),
        Attack(
            name: "a signature that does not cover the path it is sent to", status: .unauthorized, code: .badSignature),
        Attack(
            name: "the same person checked in twice in one session", status: .unprocessableContent, code: .ruleBreach),
        Attack(name: "a box closed twice", status: .unprocessableContent, code: .ruleBreach),
        Attack(name: "a ballot into a box not closed", status: .unprocessableContent, code: .ruleBreach),
        Attack(name: "more ballots than the box returned", status: .unprocessableContent, code: .ruleBreach),
        Attack(name: "an ID-card number as representative id", status: .unprocessableContent, code: .ruleBreach),
        Attack(name: "a payload with an extra field", status: .unprocessableContent, code: .invalidRecord),
        Attack(
            name: "a payload version this aggregator does not know", status: .unprocessableContent, code: .invalidRecord
        ),
    ]

    @Test(arguments: attacks)
    func eachAttackIsRefusedWithItsCodeAndChangesNothing(_ attack: Attack) async throws {
        let before = (try database.totals(eventID: "test-2026"), try database.records(venue: "east"))
        let app = try buildApplication(
            intake: intake, settings: AggregatorSettings(maxBodyBytes: 64 << 10),
            logger: Logger(label: "test"))
        let shaped = shape(attack.name)
        try await app.test(.router) { client in
            try await client.execute(
                uri: "/v1/batches", method: .post, headers: shaped.headers,
                body: ByteBuffer(bytes: shaped.body)
            ) { response in
                #expect(response.status == attack.status)
                let body = try JSONDecoder().decode(APIErrorBody.self, from: Data(buffer: response.body))
                #expect(body.error.code == attack.code, "\(body.error.message)")
            }
        }
        #expect(try database.totals(eventID: "test-2026") == before.0)
        #expect(try database.records(venue: "east") == before.1)
        #expect(try database.records(venue: "main").isEmpty)
    }

    /// The same attacks at an aggregator on the shared PostgreSQL database (issue #20): the same status and code each,
    /// nothing changed.
    @Test(arguments: attacks)
    func eachAttackIsRefusedTheSameOnTheSharedDatabase(_ attack: Attack) async throws {
        let store = try PostgresStore(url: try PostgresServer.start().createDatabase())
        defer { store.close() }
        let loaded = try EventDefinition.load(data: Data(Fixtures.smallEventJSON.utf8))
        try store.install(event: loaded, json: Data(Fixtures.smallEventJSON.utf8))
        try store.enroll(venue: "east", publicKeyBase64: node.publicKeyBase64)
        try store.enroll(venue: "main", publicKeyBase64: revoked.publicKeyBase64)
        try store.revoke(nodeID: revoked.nodeID, reason: "stolen")
        let intake = Intake(database: store, event: loaded.definition)
        _ = try await node.send(held, venue: "east", to: intake)
        let before = (try store.totals(eventID: "test-2026"), try store.storedRecords(venue: "east"))
        let hub = DashboardHub(database: store, logger: Logger(label: "test"))
        let router = buildSharedRouter(
            intake: intake, settings: AggregatorSettings(maxBodyBytes: 64 << 10), hub: hub, publisher: hub,
            metrics: IngestMetrics())
        let shaped = shape(attack.name)
        try await Application(router: router).test(.router) { client in
            try await client.execute(
                uri: "/v1/batches", method: .post, headers: shaped.headers, body: ByteBuffer(bytes: shaped.body)
            ) { response in
                #expect(response.status == attack.status)
                let body = try JSONDecoder().decode(APIErrorBody.self, from: Data(buffer: response.body))
                #expect(body.error.code == attack.code, "\(body.error.message)")
            }
        }
        #expect(try store.totals(eventID: "test-2026") == before.0)
        #expect(try store.storedRecords(venue: "east") == before.1)
        #expect(try store.storedRecords(venue: "main").isEmpty)
    }

    @Test func aFloodFromOneAddressIsSlowedWith429AndRetryAfterAndChangesNothing() async throws {
        let before = try database.totals(eventID: "test-2026")
        let app = try buildApplication(
            intake: intake, settings: AggregatorSettings(rateLimit: .init(perSecond: 0.001, burst: 3)),
            logger: Logger(label: "test"))
        let shaped = shape("a batch for another venue")
        try await app.test(.router) { client in
            var statuses: [HTTPResponse.Status] = []
            for _ in 0..<5 {
                try await client.execute(
                    uri: "/v1/batches", method: .post, headers: shaped.headers,
                    body: ByteBuffer(bytes: shaped.body)
                ) { response in
                    statuses.append(response.status)
                    if response.status == .tooManyRequests {
                        let body = try JSONDecoder().decode(APIErrorBody.self, from: Data(buffer: response.body))
                        #expect(body.error.code == .rateLimited)
                        #expect(Int(response.headers[.retryAfter] ?? "") ?? 0 >= 1)
                    }
                }
            }
            #expect(statuses == [.forbidden, .forbidden, .forbidden, .tooManyRequests, .tooManyRequests])
            // The health probe is never limited.
            try await client.execute(uri: "/healthz", method: .get) { #expect($0.status == .ok) }
        }
        #expect(try database.totals(eventID: "test-2026") == before)
    }

    @Test func aSignedReadMustCoverItsQuery() async throws {
        let app = try buildApplication(intake: intake, settings: AggregatorSettings(), logger: Logger(label: "test"))
        let path = "/v1/nodes/\(node.nodeID)/records"
        try await app.test(.router) { client in
            try await client.execute(
                uri: path + "?from=1&limit=10", method: .get,
                headers: node.getHeaders(path: path, query: "from=1&limit=10")
            ) { response in
                #expect(response.status == .ok)
                let page = try JSONDecoder().decode(RecordPage.self, from: Data(buffer: response.body))
                #expect(page.records.count == 3)
            }
            // The same signature with another query: refused.
            try await client.execute(
                uri: path + "?from=2&limit=10", method: .get,
                headers: node.getHeaders(path: path, query: "from=1&limit=10")
            ) { response in
                #expect(response.status == .unauthorized)
                let refusal = try JSONDecoder().decode(APIErrorBody.self, from: Data(buffer: response.body))
                #expect(refusal.error.code == .badSignature)
            }
            // A signature without the query, on a request with one: refused.
            try await client.execute(uri: path + "?from=2", method: .get, headers: node.getHeaders(path: path)) {
                response in
                #expect(response.status == .badRequest)
                let refusal = try JSONDecoder().decode(APIErrorBody.self, from: Data(buffer: response.body))
                #expect(refusal.error.code == .malformedSignature)
            }
        }
    }

    @Test func aReplayedHeartbeatIsRefusedAndDoesNotCountAsContact() throws {
        func heartbeat(clock: String, created: Int64) throws -> BatchIntake.SignedRequest {
            let body = try JSONEncoder().encode(
                Heartbeat(
                    node: node.nodeID, venue: "east", headSeq: 2, headHash: held[1].hash,
                    pending: 0, freeDiskBytes: nil, version: "t", clock: clock))
            return node.request(body, path: "/v1/heartbeats", created: created)
        }
        let now = Int64(Date().timeIntervalSince1970)
        let first = try heartbeat(clock: "2026-11-24T10:00:00Z", created: now)
        try intake.receiveHeartbeat(first)
        let contact = try #require(try database.contacts()[node.nodeID])
        // The same heartbeat again (the captured bytes and signature): refused, and the contact is not refreshed.
        let error = try #require(throws: APIError.self) { try intake.receiveHeartbeat(first) }
        #expect(error.status == .conflict && error.body.error.code == .replayedRequest)
        #expect(try database.contacts()[node.nodeID]?.lastContactAt == contact.lastContactAt)
        // A new heartbeat from a node whose clock was set back by hours is still taken.
        try intake.receiveHeartbeat(try heartbeat(clock: "2026-11-24T07:00:05Z", created: now - 3 * 3600))
    }

    @Test func aReplayedBatchDoesNotCountAsContact() async throws {
        try await database.writerForTests.write { db in
            try db.execute(
                sql: "UPDATE nodeContact SET lastContactAt = '2000-01-01T00:00:00Z' WHERE nodeID = ?",
                arguments: [node.nodeID])
        }
        _ = try await intake.receive(node.request(node.body(held, venue: "east")))
        #expect(try database.contacts()[node.nodeID]?.lastContactAt == "2000-01-01T00:00:00Z")
    }
}
