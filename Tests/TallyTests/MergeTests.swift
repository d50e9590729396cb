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

/// The aggregator's merge, without a socket: every answer a node can get, and the totals after it, on each engine the
/// store runs on (`StoreEngine`).
@Suite struct MergeTests {
    @Test(arguments: StoreEngine.allCases) func aBatchIsMergedIntoTheTotals(_ engine: StoreEngine) async throws {
        let t = try MergeCase(engine)
        let ack = try await t.send(t.records)
        #expect(ack == BatchAck(node: t.signer.nodeID, firstSeq: 1, lastSeq: 8, lastHash: t.records[7].hash))
        let totals = try t.totals()
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
        let node = try #require(try t.store.node(id: t.signer.nodeID))
        let cursor = try t.store.cursor(node: node)
        #expect(cursor == NodeCursor(node: t.signer.nodeID, venue: "east", epoch: 1, seq: 8, hash: t.records[7].hash))
    }

    @Test(arguments: StoreEngine.allCases) func theSameBatchAgainGetsTheSameAnswerAndCountsOnce(_ engine: StoreEngine)
        async throws
    {
        let t = try MergeCase(engine)
        let first = try await t.send(t.records)
        let after = try t.totals()
        let second = try await t.send(t.records)
        #expect(second == first)
        #expect(try t.totals() == after)
        #expect(try t.store.storedRecords(venue: "east").count == 8)
    }

    @Test(arguments: StoreEngine.allCases) func anOverlappingBatchCountsOnlyItsNewRecords(_ engine: StoreEngine)
        async throws
    {
        let t = try MergeCase(engine)
        _ = try await t.send(Array(t.records[0..<6]))
        #expect(t.count(try t.totals(), "D01", "satisfied") == 2)
        let ack = try await t.send(Array(t.records[3..<8]))
        #expect(ack.firstSeq == 4 && ack.lastSeq == 8)
        let totals = try t.totals()
        #expect(t.count(totals, "D01", "satisfied") == 2)
        #expect(totals.attendance.map(\.checkedIn).reduce(0, +) == 3)
        #expect(totals.boxes.first?.blank == 1)
    }

    @Test(arguments: StoreEngine.allCases) func aBatchThatSkipsAheadIsRefusedWithWhereToResume(_ engine: StoreEngine)
        async throws
    {
        let t = try MergeCase(engine)
        _ = try await t.send(Array(t.records[0..<3]))
        let error = try await t.expectRefused(.conflict, .sequenceGap) { try await t.send(Array(t.records[4..<8])) }
        #expect(error.body.error.resumeFrom == 4)
        #expect(try t.store.storedRecords(venue: "east").count == 3)
    }

    @Test(arguments: StoreEngine.allCases) func aDifferentRecordUnderAHeldSequenceIsAConflictKeptAsEvidence(
        _ engine: StoreEngine
    ) async throws {
        let t = try MergeCase(engine)
        _ = try await t.send(Array(t.records[0..<5]))
        let forked = Fixtures.chain(
            [Fixtures.validBallot(["D01": "dissatisfied", "D02": "dissatisfied"])],
            afterSeq: 4, afterHash: t.records[3].hash)
        let error = try await t.expectRefused(.conflict, .chainConflict) {
            try await t.send(
                forked
                    + Fixtures.chain(
                        [.checkin(.init(session: "S1", rep: "R9", category: "resident"))],
                        afterSeq: 5, afterHash: forked[0].hash))
        }
        #expect(error.body.error.seq == 5)
        let alarms = try t.store.alarms()
        #expect(alarms.count == 1)
        #expect(alarms.first?.kind == "chain_conflict")
        #expect(alarms.first?.seq == 5)
        #expect(alarms.first?.evidence?.contains(forked[0].hash) == true)
        // The held version is still there, unchanged.
        #expect(try t.store.storedRecords(venue: "east")[4] == t.records[4])
    }

    @Test(arguments: StoreEngine.allCases) func aRecordThatDoesNotLinkToTheHeldHeadIsAConflict(_ engine: StoreEngine)
        async throws
    {
        let t = try MergeCase(engine)
        _ = try await t.send(Array(t.records[0..<3]))
        let other = Fixtures.chain(
            [.checkin(.init(session: "S1", rep: "R7", category: "resident"))],
            afterSeq: 3, afterHash: t.records[0].hash)
        _ = try await t.expectRefused(.conflict, .chainConflict) { try await t.send(other) }
        #expect(try t.store.alarms().count == 1)
    }

    @Test(arguments: StoreEngine.allCases) func aBatchSignedWithTheWrongKeyIsRefused(_ engine: StoreEngine) async throws
    {
        let t = try MergeCase(engine)
        _ = try await t.expectRefused(.unauthorized, .badSignature) {
            try await t.send(t.records, signingKey: Curve25519.Signing.PrivateKey())
        }
        #expect(try t.store.storedRecords(venue: "east").isEmpty)
    }

    @Test(arguments: StoreEngine.allCases) func aBatchSignedByANodeWhoseClockIsOffByDaysIsAccepted(
        _ engine: StoreEngine
    ) async throws {
        let t = try MergeCase(engine)
        // Order comes from sequence numbers: the signature's `created` is never compared with the clock.
        let body = t.signer.body(t.records, venue: "east")
        let skewed = t.signer.request(body, created: Int64(Date().timeIntervalSince1970) - 3 * 86_400)
        let ack = try await t.intake.receive(skewed)
        #expect(ack.lastSeq == 8)
    }

    @Test(arguments: StoreEngine.allCases) func aBatchCheckedAgainstAnotherVersionOfTheEventIsRefused(
        _ engine: StoreEngine
    ) async throws {
        let t = try MergeCase(engine)
        let body = try JSONEncoder().encode(
            Batch(
                event: "test-2026", venue: "east", node: t.signer.nodeID, records: t.records,
                eventDigest: String(repeating: "0", count: 64)))
        let request = t.signer.request(body)
        let error = try await t.expectRefused(.unprocessableContent, .eventMismatch) {
            try await t.intake.receive(request)
        }
        #expect(error.body.error.message.contains("another version of event test-2026"))
    }

    @Test(arguments: StoreEngine.allCases) func aBatchFromAnUnknownNodeIsRefused(_ engine: StoreEngine) async throws {
        let t = try MergeCase(engine)
        _ = try await t.expectRefused(.forbidden, .unknownNode) { try await t.send(t.records, signer: TestSigner()) }
    }

    @Test(arguments: StoreEngine.allCases) func aBatchForAnotherVenueIsRefused(_ engine: StoreEngine) async throws {
        let t = try MergeCase(engine)
        _ = try await t.expectRefused(.forbidden, .venueMismatch) { try await t.send(t.records, venue: "main") }
    }

    @Test(arguments: StoreEngine.allCases) func aBatchWithABrokenChainIsRefusedNamingTheRecord(_ engine: StoreEngine)
        async throws
    {
        let t = try MergeCase(engine)
        var altered = t.records
        altered[6].payload = altered[6].payload.replacingOccurrences(of: "blank", with: "spoiled")
        let error = try await t.expectRefused(.badRequest, .brokenChain) { try await t.send(altered) }
        #expect(error.body.error.seq == 7)
    }

    @Test(arguments: StoreEngine.allCases) func aRecordTheEventDoesNotAllowRefusesTheWholeBatch(_ engine: StoreEngine)
        async throws
    {
        let t = try MergeCase(engine)
        let bad =
            t.records
            + Fixtures.chain(
                [Fixtures.validBallot(["D01": "satisfied", "D03": "satisfied"])],
                afterSeq: 8, afterHash: t.records[7].hash)
        let error = try await t.expectRefused(.unprocessableContent, .invalidRecord) { try await t.send(bad) }
        #expect(error.body.error.seq == 9)
        #expect(error.body.error.message.contains("D03"))
        #expect(try t.store.storedRecords(venue: "east").isEmpty)
    }

    @Test(arguments: StoreEngine.allCases) func aCorrectionReplacesWhatItCorrects(_ engine: StoreEngine) async throws {
        let t = try MergeCase(engine)
        _ = try await t.send(t.records)
        let fixes = Fixtures.chain(
            [
                // Ballot 5 was entered wrongly: D02 was satisfied.
                .correction(
                    .init(
                        target: 5, reason: "typing error", operator: "王芳",
                        replacement: Fixtures.validBallot(["D01": "satisfied", "D02": "satisfied"]))),
                // Check-in 8 was a mistake.
                .correction(.init(target: 8, reason: "wrong person", operator: "王芳", replacement: nil)),
            ], afterSeq: 8, afterHash: t.records[7].hash)
        _ = try await t.send(fixes)
        let totals = try t.totals()
        #expect(t.count(totals, "D02", "dissatisfied") == 0)
        #expect(t.count(totals, "D02", "satisfied") == 1)
        #expect(t.count(totals, "D01", "satisfied") == 2)
        #expect(totals.attendance.map(\.checkedIn).reduce(0, +) == 2)
        // A record can be corrected once; a second correction must target the correction.
        let again = Fixtures.chain(
            [.correction(.init(target: 5, reason: "again", operator: "王芳", replacement: nil))],
            afterSeq: 10, afterHash: fixes[1].hash)
        _ = try await t.expectRefused(.unprocessableContent, .ruleBreach) { try await t.send(again) }
    }

    @Test func errorsAnswerJSONWithAStableCodeOverHTTP() async throws {
        let signer = TestSigner()
        let (_, intake) = try Fixtures.aggregator(enrolling: ["east": signer])
        let records = MergeCase.records
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

/// S1 at venue east on one engine: its records, their signer enrolled, and what the merge tests ask of them.
struct MergeCase {
    let bed: StoreBed
    let signer = TestSigner()
    var store: any AggregatorStore { bed.store }
    var intake: any IntakeUnderTest { bed.intake }
    var records: [ChainedRecord] { Self.records }

    /// S1 at venue east: 2 check-ins, box B1 opened and closed, its 3 ballots, 1 more check-in.
    static let records = Fixtures.chain([
        .checkin(.init(session: "S1", rep: "R1", category: "resident")),
        .checkin(.init(session: "S1", rep: "R2", category: "expert")),
        .boxOpened(.init(session: "S1", box: "B1")),
        .boxClosed(.init(session: "S1", box: "B1", issued: 3, returned: 3)),
        Fixtures.validBallot(["D01": "satisfied", "D02": "dissatisfied"]),
        Fixtures.validBallot(["D01": "satisfied", "D02": "basically_satisfied"]),
        .ballot(.init(session: "S1", box: "B1", status: .blank)),
        .checkin(.init(session: "S1", rep: "R3", category: "resident")),
    ])

    init(_ engine: StoreEngine) throws {
        bed = try StoreBed(engine, enrolling: ["east": signer])
    }

    func send(
        _ records: [ChainedRecord], venue: String = "east", signer: TestSigner? = nil,
        signingKey: Curve25519.Signing.PrivateKey? = nil
    ) async throws -> BatchAck {
        let signer = signer ?? self.signer
        return try await intake.receive(signer.request(signer.body(records, venue: venue), signingKey: signingKey))
    }

    func totals() throws -> Totals { try store.totals(eventID: "test-2026") }

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
}

/// Keys of a venue over time: a redeployed node's new key continues the chain; old keys are fenced off. On each
/// engine.
@Suite struct EpochTests {
    @Test(arguments: StoreEngine.allCases) func aNewKeyContinuesTheVenueChainAndTheOldKeyIsRefusedAndKeptAsEvidence(
        _ engine: StoreEngine
    ) async throws {
        let t = try EpochCase(engine)
        let first = try t.store.enroll(venue: "east", publicKeyBase64: t.old.publicKeyBase64)
        #expect(first.epoch == 1)
        let records = Fixtures.chain([
            .checkin(.init(session: "S1", rep: "R1", category: "resident")),
            .checkin(.init(session: "S1", rep: "R2", category: "resident")),
            .checkin(.init(session: "S1", rep: "R3", category: "expert")),
        ])
        _ = try await t.send(Array(records[0..<2]), by: t.old)

        // Given the venue's node is redeployed with a new key
        let second = try t.store.enroll(venue: "east", publicKeyBase64: t.new.publicKeyBase64)
        #expect(second.epoch == 2)
        #expect(
            try t.store.cursor(node: second)
                == NodeCursor(
                    node: t.new.nodeID, venue: "east", epoch: 2, seq: 2,
                    hash: records[1].hash))

        // When the old key sends the next record, it is refused and kept as evidence
        let refused = try await #require(throws: APIError.self) { try await t.send([records[2]], by: t.old) }
        #expect(refused.status == .forbidden)
        #expect(refused.body.error.code == .staleEpoch)
        let alarm = try #require(try t.store.alarms().last)
        #expect(alarm.kind == "stale_epoch")
        #expect(alarm.evidence?.contains(records[2].hash) == true)

        // Then the new key continues the same chain
        let ack = try await t.send([records[2]], by: t.new)
        #expect(ack.lastSeq == 3)
        #expect(try t.store.storedRecords(venue: "east") == records)
        #expect(try t.store.totals(eventID: "test-2026").attendance.map(\.checkedIn).reduce(0, +) == 3)
    }

    @Test(arguments: StoreEngine.allCases) func aRevokedKeyIsRefused(_ engine: StoreEngine) async throws {
        let t = try EpochCase(engine)
        try t.store.enroll(venue: "east", publicKeyBase64: t.old.publicKeyBase64)
        try t.store.revoke(nodeID: t.old.nodeID, reason: "laptop stolen")
        let refused = try await #require(throws: APIError.self) {
            try await t.send(
                Fixtures.chain([.checkin(.init(session: "S1", rep: "R1", category: "resident"))]), by: t.old)
        }
        #expect(refused.body.error.code == .revokedNode)
        #expect(refused.body.error.message.contains("laptop stolen"))
        #expect(try t.store.storedRecords(venue: "east").isEmpty)
    }

    @Test(arguments: StoreEngine.allCases) func readingRecordsBackNeedsAFreshSignatureOfTheCurrentNode(
        _ engine: StoreEngine
    ) throws {
        let t = try EpochCase(engine)
        try t.store.enroll(venue: "east", publicKeyBase64: t.old.publicKeyBase64)
        let path = "/v1/nodes/\(t.old.nodeID)/records"
        func request(_ signer: TestSigner, created: Int64) -> BatchIntake.SignedRequest {
            signer.getRequest(path: path, created: created)
        }
        let now: Int64 = 1_767_225_600
        // A node clock hours off is fine; a signature older than a week is not.
        #expect(
            try t.intake.authenticate(request(t.old, created: now - 10), method: "GET", now: now).id == t.old.nodeID)
        #expect(
            try t.intake.authenticate(request(t.old, created: now + 5 * 3_600), method: "GET", now: now).id
                == t.old.nodeID)
        let stale = try #require(throws: APIError.self) {
            try t.intake.authenticate(request(t.old, created: now - 8 * 86_400), method: "GET", now: now)
        }
        #expect(stale.body.error.code == .staleSignature)
        try t.store.enroll(venue: "east", publicKeyBase64: t.new.publicKeyBase64)
        let retired = try #require(throws: APIError.self) {
            try t.intake.authenticate(request(t.old, created: now), method: "GET", now: now)
        }
        #expect(retired.body.error.code == .staleEpoch)
    }
}

/// A venue's two keys over time, on one engine, neither enrolled yet.
struct EpochCase {
    let bed: StoreBed
    let old = TestSigner()
    let new = TestSigner()
    var store: any AggregatorStore { bed.store }
    var intake: any IntakeUnderTest { bed.intake }

    init(_ engine: StoreEngine) throws {
        bed = try StoreBed(engine)
    }

    func send(_ records: [ChainedRecord], by signer: TestSigner) async throws -> BatchAck {
        try await intake.receive(signer.request(signer.body(records, venue: "east")))
    }
}
