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

/// The aggregator's merge, without a socket: every answer a node can get, and the totals after it.
@Suite struct MergeTests {
    let database: AggregatorDatabase
    let intake: BatchIntake
    let signer = TestSigner()
    /// S1 at venue east: 2 check-ins, box B1 opened and closed, its 3 ballots, 1 more check-in.
    let records: [ChainedRecord]

    init() throws {
        (database, intake) = try Fixtures.aggregator(enrolling: ["east": signer])
        records = Fixtures.chain([
            .checkin(.init(session: "S1", rep: "R1", category: "resident")),
            .checkin(.init(session: "S1", rep: "R2", category: "expert")),
            .boxOpened(.init(session: "S1", box: "B1")),
            .boxClosed(.init(session: "S1", box: "B1", issued: 3, returned: 3)),
            Fixtures.validBallot(["D01": "satisfied", "D02": "dissatisfied"]),
            Fixtures.validBallot(["D01": "satisfied", "D02": "basically_satisfied"]),
            .ballot(.init(session: "S1", box: "B1", status: .blank)),
            .checkin(.init(session: "S1", rep: "R3", category: "resident")),
        ])
    }

    func send(
        _ records: [ChainedRecord], venue: String = "east", signer: TestSigner? = nil,
        signingKey: Curve25519.Signing.PrivateKey? = nil
    ) async throws -> BatchAck {
        let signer = signer ?? self.signer
        return try await intake.receive(signer.request(signer.body(records, venue: venue), signingKey: signingKey))
    }

    func totals() throws -> Totals { try database.totals(eventID: "test-2026") }

    func count(_ totals: Totals, _ department: String, _ mark: String) -> Int {
        totals.tallies.first { $0.department == department && $0.mark == mark }?.count ?? 0
    }

    /// Expects `operation` to fail with exactly this status and code, and the totals to be as before.
    func expectRefused(
        _ status: HTTPResponse.Status, _ code: APIErrorCode,
        _ operation: () async throws -> BatchAck
    ) async throws -> APIError {
        let before = try totals()
        let error = try await #require(throws: APIError.self) { try await operation() }
        #expect(error.status == status)
        #expect(error.body.error.code == code)
        #expect(try totals() == before)
        return error
    }

    @Test func aBatchIsMergedIntoTheTotals() async throws {
        let ack = try await send(records)
        #expect(ack == BatchAck(node: signer.nodeID, firstSeq: 1, lastSeq: 8, lastHash: records[7].hash))
        let totals = try totals()
        #expect(
            totals.attendance == [
                .init(venue: "east", session: "S1", category: "expert", checkedIn: 1),
                .init(venue: "east", session: "S1", category: "resident", checkedIn: 2),
            ])
        #expect(
            totals.tallies == [
                .init(venue: "east", session: "S1", department: "D01", mark: "satisfied", count: 2),
                .init(venue: "east", session: "S1", department: "D02", mark: "basically_satisfied", count: 1),
                .init(venue: "east", session: "S1", department: "D02", mark: "dissatisfied", count: 1),
            ])
        #expect(
            totals.boxes == [
                .init(
                    venue: "east", session: "S1", box: "B1", issued: 3, returned: 3, valid: 2,
                    blank: 1, spoiled: 0)
            ])
        let node = try #require(try database.node(id: signer.nodeID))
        let cursor = try database.cursor(node: node)
        #expect(cursor == NodeCursor(node: signer.nodeID, venue: "east", epoch: 1, seq: 8, hash: records[7].hash))
    }

    @Test func theSameBatchAgainGetsTheSameAnswerAndCountsOnce() async throws {
        let first = try await send(records)
        let after = try totals()
        let second = try await send(records)
        #expect(second == first)
        #expect(try totals() == after)
        #expect(try database.records(venue: "east").count == 8)
    }

    @Test func anOverlappingBatchCountsOnlyItsNewRecords() async throws {
        _ = try await send(Array(records[0..<6]))
        #expect(count(try totals(), "D01", "satisfied") == 2)
        let ack = try await send(Array(records[3..<8]))
        #expect(ack.firstSeq == 4 && ack.lastSeq == 8)
        let totals = try totals()
        #expect(count(totals, "D01", "satisfied") == 2)
        #expect(totals.attendance.map(\.checkedIn).reduce(0, +) == 3)
        #expect(totals.boxes.first?.blank == 1)
    }

    @Test func aBatchThatSkipsAheadIsRefusedWithWhereToResume() async throws {
        _ = try await send(Array(records[0..<3]))
        let error = try await expectRefused(.conflict, .sequenceGap) { try await send(Array(records[4..<8])) }
        #expect(error.body.error.resumeFrom == 4)
        #expect(try database.records(venue: "east").count == 3)
    }

    @Test func aDifferentRecordUnderAHeldSequenceIsAConflictKeptAsEvidence() async throws {
        _ = try await send(Array(records[0..<5]))
        let forked = Fixtures.chain(
            [Fixtures.validBallot(["D01": "dissatisfied", "D02": "dissatisfied"])],
            afterSeq: 4, afterHash: records[3].hash)
        let error = try await expectRefused(.conflict, .chainConflict) {
            try await send(
                forked
                    + Fixtures.chain(
                        [.checkin(.init(session: "S1", rep: "R9", category: "resident"))],
                        afterSeq: 5, afterHash: forked[0].hash))
        }
        #expect(error.body.error.seq == 5)
        let alarms = try database.alarms()
        #expect(alarms.count == 1)
        #expect(alarms.first?.kind == "chain_conflict")
        #expect(alarms.first?.seq == 5)
        #expect(alarms.first?.evidence?.contains(forked[0].hash) == true)
        // The held version is still there, unchanged.
        #expect(try database.records(venue: "east")[4] == records[4])
    }

    @Test func aRecordThatDoesNotLinkToTheHeldHeadIsAConflict() async throws {
        _ = try await send(Array(records[0..<3]))
        let other = Fixtures.chain(
            [.checkin(.init(session: "S1", rep: "R7", category: "resident"))],
            afterSeq: 3, afterHash: records[0].hash)
        _ = try await expectRefused(.conflict, .chainConflict) { try await send(other) }
        #expect(try database.alarms().count == 1)
    }

    @Test func aBatchSignedWithTheWrongKeyIsRefused() async throws {
        _ = try await expectRefused(.unauthorized, .badSignature) {
            try await send(records, signingKey: Curve25519.Signing.PrivateKey())
        }
        #expect(try database.records(venue: "east").isEmpty)
    }

    @Test func aBatchSignedByANodeWhoseClockIsOffByDaysIsAccepted() async throws {
        // Order comes from sequence numbers: the signature's `created` is never compared with the clock.
        let body = signer.body(records, venue: "east")
        let skewed = signer.request(body, created: Int64(Date().timeIntervalSince1970) - 3 * 86_400)
        let ack = try await intake.receive(skewed)
        #expect(ack.lastSeq == 8)
    }

    @Test func aBatchCheckedAgainstAnotherVersionOfTheEventIsRefused() async throws {
        let body = try JSONEncoder().encode(
            Batch(
                event: "test-2026", venue: "east", node: signer.nodeID, records: records,
                eventDigest: String(repeating: "0", count: 64)))
        let request = signer.request(body)
        let error = try await expectRefused(.unprocessableContent, .eventMismatch) {
            try await intake.receive(request)
        }
        #expect(error.body.error.message.contains("another version of event test-2026"))
    }

    @Test func aBatchFromAnUnknownNodeIsRefused() async throws {
        _ = try await expectRefused(.forbidden, .unknownNode) { try await send(records, signer: TestSigner()) }
    }

    @Test func aBatchForAnotherVenueIsRefused() async throws {
        _ = try await expectRefused(.forbidden, .venueMismatch) { try await send(records, venue: "main") }
    }

    @Test func aBatchWithABrokenChainIsRefusedNamingTheRecord() async throws {
        var altered = records
        altered[6].payload = altered[6].payload.replacingOccurrences(of: "blank", with: "spoiled")
        let error = try await expectRefused(.badRequest, .brokenChain) { try await send(altered) }
        #expect(error.body.error.seq == 7)
    }

    @Test func aRecordTheEventDoesNotAllowRefusesTheWholeBatch() async throws {
        let bad =
            records
            + Fixtures.chain(
                [Fixtures.validBallot(["D01": "satisfied", "D03": "satisfied"])],
                afterSeq: 8, afterHash: records[7].hash)
        let error = try await expectRefused(.unprocessableContent, .invalidRecord) { try await send(bad) }
        #expect(error.body.error.seq == 9)
        #expect(error.body.error.message.contains("D03"))
        #expect(try database.records(venue: "east").isEmpty)
    }

    @Test func aCorrectionReplacesWhatItCorrects() async throws {
        _ = try await send(records)
        let fixes = Fixtures.chain(
            [
                // Ballot 5 was entered wrongly: D02 was satisfied.
                .correction(
                    .init(
                        target: 5, reason: "typing error", operator: "王芳",
                        replacement: Fixtures.validBallot(["D01": "satisfied", "D02": "satisfied"]))),
                // Check-in 8 was a mistake.
                .correction(.init(target: 8, reason: "wrong person", operator: "王芳", replacement: nil)),
            ], afterSeq: 8, afterHash: records[7].hash)
        _ = try await send(fixes)
        let totals = try totals()
        #expect(count(totals, "D02", "dissatisfied") == 0)
        #expect(count(totals, "D02", "satisfied") == 1)
        #expect(count(totals, "D01", "satisfied") == 2)
        #expect(totals.attendance.map(\.checkedIn).reduce(0, +) == 2)
        // A record can be corrected once; a second correction must target the correction.
        let again = Fixtures.chain(
            [.correction(.init(target: 5, reason: "again", operator: "王芳", replacement: nil))],
            afterSeq: 10, afterHash: fixes[1].hash)
        _ = try await expectRefused(.unprocessableContent, .ruleBreach) { try await send(again) }
    }

    @Test func errorsAnswerJSONWithAStableCodeOverHTTP() async throws {
        let app = try buildApplication(intake: intake, settings: AggregatorSettings(), logger: Logger(label: "test"))
        let token = try intake.database.addToken(name: "test", role: .observer)
        try await app.test(.router) { client in
            try await client.execute(
                uri: "/v1/batches", method: .post,
                headers: [.contentType: "application/json"],
                body: ByteBuffer(string: "{}")
            ) { response in
                #expect(response.status == .unauthorized)
                let body = try JSONDecoder().decode(APIErrorBody.self, from: Data(buffer: response.body))
                #expect(body.error.code == .missingSignature)
            }
            let body = signer.body(records, venue: "east")
            let signed = signer.headers(for: body)
            var headers: HTTPFields = [.contentType: "application/json"]
            headers[HTTPField.Name("Content-Digest")!] = signed.contentDigest
            headers[HTTPField.Name("Signature-Input")!] = signed.signatureInput
            headers[HTTPField.Name("Signature")!] = signed.signature
            for _ in 0..<2 {
                try await client.execute(
                    uri: "/v1/batches", method: .post, headers: headers,
                    body: ByteBuffer(bytes: body)
                ) { response in
                    #expect(response.status == .ok)
                    let ack = try JSONDecoder().decode(BatchAck.self, from: Data(buffer: response.body))
                    #expect(ack.lastSeq == 8)
                }
            }
            let cursorPath = "/v1/nodes/\(signer.nodeID)/cursor"
            for headers in [signer.getHeaders(path: cursorPath), bearer(token)] {
                try await client.execute(uri: cursorPath, method: .get, headers: headers) { response in
                    let cursor = try JSONDecoder().decode(NodeCursor.self, from: Data(buffer: response.body))
                    #expect(cursor.seq == 8)
                    #expect(cursor.hash == records[7].hash)
                }
            }
            try await client.execute(uri: cursorPath, method: .get) { #expect($0.status == .unauthorized) }
            try await client.execute(uri: "/v1/nodes/unknown/cursor", method: .get, headers: bearer(token)) {
                response in
                #expect(response.status == .notFound)
            }
            // A node reads only its own cursor.
            try await client.execute(
                uri: "/v1/nodes/unknown/cursor", method: .get,
                headers: signer.getHeaders(path: "/v1/nodes/unknown/cursor")
            ) { response in
                #expect(response.status == .forbidden)
                let body = try JSONDecoder().decode(APIErrorBody.self, from: Data(buffer: response.body))
                #expect(body.error.code == .nodeMismatch)
            }
            try await client.execute(uri: "/v1/totals", method: .get, headers: bearer(token)) { response in
                let totals = try JSONDecoder().decode(Totals.self, from: Data(buffer: response.body))
                #expect(totals.attendance.map(\.checkedIn).reduce(0, +) == 3)
            }
        }
    }
}

/// Keys of a venue over time: a redeployed node's new key continues the chain; old keys are fenced off.
@Suite struct EpochTests {
    let database: AggregatorDatabase
    let intake: BatchIntake
    let old = TestSigner()
    let new = TestSigner()

    init() throws {
        (database, intake) = try Fixtures.aggregator()
    }

    func send(_ records: [ChainedRecord], by signer: TestSigner) async throws -> BatchAck {
        try await signer.send(records, venue: "east", to: intake)
    }

    @Test func aNewKeyContinuesTheVenueChainAndTheOldKeyIsRefusedAndKeptAsEvidence() async throws {
        let first = try database.enroll(venue: "east", publicKeyBase64: old.publicKeyBase64)
        #expect(first.epoch == 1)
        let records = Fixtures.chain([
            .checkin(.init(session: "S1", rep: "R1", category: "resident")),
            .checkin(.init(session: "S1", rep: "R2", category: "resident")),
            .checkin(.init(session: "S1", rep: "R3", category: "expert")),
        ])
        _ = try await send(Array(records[0..<2]), by: old)

        // Given the venue's node is redeployed with a new key
        let second = try database.enroll(venue: "east", publicKeyBase64: new.publicKeyBase64)
        #expect(second.epoch == 2)
        #expect(
            try database.cursor(node: second)
                == NodeCursor(
                    node: new.nodeID, venue: "east", epoch: 2, seq: 2,
                    hash: records[1].hash))

        // When the old key sends the next record, it is refused and kept as evidence
        let refused = try await #require(throws: APIError.self) { try await send([records[2]], by: old) }
        #expect(refused.status == .forbidden)
        #expect(refused.body.error.code == .staleEpoch)
        let alarm = try #require(try database.alarms().last)
        #expect(alarm.kind == "stale_epoch")
        #expect(alarm.evidence?.contains(records[2].hash) == true)

        // Then the new key continues the same chain
        let ack = try await send([records[2]], by: new)
        #expect(ack.lastSeq == 3)
        #expect(try database.records(venue: "east") == records)
        #expect(try database.totals(eventID: "test-2026").attendance.map(\.checkedIn).reduce(0, +) == 3)
    }

    @Test func aRevokedKeyIsRefused() async throws {
        try database.enroll(venue: "east", publicKeyBase64: old.publicKeyBase64)
        try database.revoke(nodeID: old.nodeID, reason: "laptop stolen")
        let refused = try await #require(throws: APIError.self) {
            try await send(Fixtures.chain([.checkin(.init(session: "S1", rep: "R1", category: "resident"))]), by: old)
        }
        #expect(refused.body.error.code == .revokedNode)
        #expect(refused.body.error.message.contains("laptop stolen"))
        #expect(try database.records(venue: "east").isEmpty)
    }

    @Test func readingRecordsBackNeedsAFreshSignatureOfTheCurrentNode() throws {
        try database.enroll(venue: "east", publicKeyBase64: old.publicKeyBase64)
        let path = "/v1/nodes/\(old.nodeID)/records"
        func request(_ signer: TestSigner, created: Int64) -> BatchIntake.SignedRequest {
            signer.getRequest(path: path, created: created)
        }
        let now: Int64 = 1_767_225_600
        // A node clock hours off is fine; a signature older than a week is not.
        #expect(try intake.authenticate(request(old, created: now - 10), method: "GET", now: now).id == old.nodeID)
        #expect(
            try intake.authenticate(request(old, created: now + 5 * 3_600), method: "GET", now: now).id == old.nodeID)
        let stale = try #require(throws: APIError.self) {
            try intake.authenticate(request(old, created: now - 8 * 86_400), method: "GET", now: now)
        }
        #expect(stale.body.error.code == .staleSignature)
        try database.enroll(venue: "east", publicKeyBase64: new.publicKeyBase64)
        let retired = try #require(throws: APIError.self) {
            try intake.authenticate(request(old, created: now), method: "GET", now: now)
        }
        #expect(retired.body.error.code == .staleEpoch)
    }
}
