import Aggregator
import Crypto
import Foundation
import GRDB
import HTTPTypes
import Shared

/// Paths and small fixtures shared by the suites.
enum Fixtures {
    /// The repository's root directory.
    static let root = URL(filePath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent()

    static func example(_ name: String) -> URL { root.appending(path: "examples/\(name)/event.json") }

    /// A small event: 2 sessions (S1 ballots group G1 = D01, D02; S2 ballots all 3 departments),
    /// venues main + east, categories resident and expert, quotas that agree with their totals.
    static let smallEventJSON = """
        {
          "format": 1,
          "id": "test-2026",
          "title": "测试活动",
          "marks": [
            {"id": "satisfied", "label_zh": "满意", "label_en": "Satisfied", "weight": 100},
            {"id": "basically_satisfied", "label_zh": "基本满意", "label_en": "Basically satisfied", "weight": 60},
            {"id": "dissatisfied", "label_zh": "不满意", "label_en": "Dissatisfied", "weight": 0}
          ],
          "groups": [{"id": "G1", "name": "第一组"}, {"id": "G2", "name": "第二组"}],
          "departments": [
            {"id": "D01", "name": "市发改委", "group": "G1"},
            {"id": "D02", "name": "市教育局", "group": "G1"},
            {"id": "D03", "name": "市公安局", "group": "G2"}
          ],
          "sessions": [
            {"id": "S1", "name": "第一场", "date": "2026-01-05", "ballot": ["G1"]},
            {"id": "S2", "name": "第二场", "date": "2026-01-06", "ballot": "all"}
          ],
          "venues": [
            {"id": "main", "name": "主会场", "kind": "main"},
            {"id": "east", "name": "东区分会场", "kind": "branch"}
          ],
          "categories": [{"id": "resident", "name": "社区居民"}, {"id": "expert", "name": "专家学者"}],
          "quotas": [
            {"venue": "main", "sessions": "all", "stated_total": 5, "counts": {"resident": 3, "expert": 2}},
            {"venue": "east", "sessions": ["S1", "S2"], "stated_total": 4, "counts": {"resident": 4, "expert": 0}}
          ]
        }
        """

    static var smallEvent: EventDefinition {
        // The fixture is valid by construction: a failure here is a bug in the loader.
        try! EventDefinition.load(data: Data(smallEventJSON.utf8)).definition
    }

    /// Chains payloads from `afterSeq`/`afterHash` on.
    static func chain(
        _ payloads: [RecordPayload], afterSeq: Int64 = 0,
        afterHash: String = RecordChain.genesis
    ) -> [ChainedRecord] {
        var prev = afterHash
        var seq = afterSeq
        return payloads.map { payload in
            seq += 1
            let record = ChainedRecord(seq: seq, prev: prev, payload: payload.canonicalJSON())
            prev = record.hash
            return record
        }
    }

    static func validBallot(_ marks: [String: String], session: String = "S1", box: String = "B1") -> RecordPayload {
        .ballot(.init(session: session, box: box, status: .valid, marks: marks))
    }
}

/// A test node identity that signs batches like `venue-node` does.
struct TestSigner {
    var key = Curve25519.Signing.PrivateKey()
    var nodeID: String { NodeIdentity.nodeID(for: key.publicKey) }
    var publicKeyBase64: String { key.publicKey.rawRepresentation.base64EncodedString() }

    func body(_ records: [ChainedRecord], venue: String, event: String = "test-2026", node: String? = nil) -> Data {
        let encoder = JSONEncoder()
        // Sorted keys: two calls give the same bytes (the order of an unsorted encoding may differ).
        encoder.outputFormatting = [.withoutEscapingSlashes, .sortedKeys]
        return try! encoder.encode(Batch(event: event, venue: venue, node: node ?? nodeID, records: records))
    }

    /// Signs a POST of `body` to `path` with this signer's key (or `signingKey`, to forge) under this node's key id,
    /// created now (or at `created`).
    func headers(
        for body: Data, path: String = "/v1/batches", signingKey: Curve25519.Signing.PrivateKey? = nil,
        created: Int64? = nil
    ) -> MessageSignature.Headers {
        try! MessageSignature.sign(
            method: "POST", path: path, body: body, keyID: nodeID, key: signingKey ?? key,
            created: created ?? Int64(Date().timeIntervalSince1970))
    }

    /// The HTTP headers of a POST of `body` to `path` signed by this node (or by `signingKey`, to forge).
    func postHeaders(
        _ body: Data, path: String = "/v1/batches",
        signingKey: Curve25519.Signing.PrivateKey? = nil
    ) -> HTTPFields {
        headers(for: body, path: path, signingKey: signingKey).fields()
    }

    /// A POST of `body` to `path` signed by this node, as `BatchIntake` takes it (`receive`, `receiveHeartbeat`).
    func request(
        _ body: Data, path: String = "/v1/batches", signingKey: Curve25519.Signing.PrivateKey? = nil,
        created: Int64? = nil
    ) -> BatchIntake.SignedRequest {
        headers(for: body, path: path, signingKey: signingKey, created: created).request(path: path, body: body)
    }

    /// A GET of `path` signed by this node (created now, or at `created`), as `BatchIntake.authenticate` takes it.
    func getRequest(path: String, created: Int64? = nil) -> BatchIntake.SignedRequest {
        let signed = try! MessageSignature.sign(
            method: "GET", path: path, body: Data(), keyID: nodeID, key: key,
            created: created ?? Int64(Date().timeIntervalSince1970))
        return .init(
            path: path, contentType: nil, contentDigest: signed.contentDigest,
            signatureInput: signed.signatureInput, signature: signed.signature, body: Data())
    }

    /// Headers of a GET signed by this node (method, path and query).
    func getHeaders(path: String, query: String? = nil) -> HTTPFields {
        let signed = try! MessageSignature.sign(
            method: "GET", path: path, query: query, body: Data(), keyID: nodeID,
            key: key, created: Int64(Date().timeIntervalSince1970))
        return signed.fields(contentType: nil)
    }
}

/// `Authorization: Bearer TOKEN`.
func bearer(_ token: String) -> HTTPFields { [.authorization: "Bearer \(token)"] }

/// Runs `command` with /bin/sh (in `directory`); its exit status and its output (stdout and stderr).
@discardableResult
func runShell(_ command: String, in directory: URL? = nil) -> (status: Int32, output: String) {
    let process = Process()
    process.executableURL = URL(filePath: "/bin/sh")
    process.arguments = ["-c", command + " 2>&1"]
    process.currentDirectoryURL = directory
    let pipe = Pipe()
    process.standardOutput = pipe
    guard (try? process.run()) != nil else { return (-1, "cannot run /bin/sh") }
    let data = pipe.fileHandleForReading.readDataToEndOfFile()
    process.waitUntilExit()
    return (process.terminationStatus, String(decoding: data, as: UTF8.self))
}

extension Fixtures {
    /// An aggregator serving `eventJSON` (the small event unless told): in memory, or on `path` (made if missing,
    /// the event installed once). `signingKey` is the aggregator's own key (it signs receipts); each signer of
    /// `enrolling` is enrolled for its venue, in the order given (`["east": node, "main": other]`).
    static func aggregator(
        eventJSON: String = smallEventJSON, path: String? = nil,
        signingKey: Curve25519.Signing.PrivateKey? = nil,
        enrolling: KeyValuePairs<String, TestSigner> = [:]
    ) throws -> (AggregatorDatabase, BatchIntake) {
        let database =
            try path.map { try AggregatorDatabase(path: $0, create: true) }
            ?? AggregatorDatabase(writer: DatabaseQueue())
        let loaded = try EventDefinition.load(data: Data(eventJSON.utf8))
        if try database.installedEvent() == nil { try database.install(event: loaded, json: Data(eventJSON.utf8)) }
        for (venue, signer) in enrolling { try database.enroll(venue: venue, publicKeyBase64: signer.publicKeyBase64) }
        return (database, BatchIntake(database: database, event: loaded.definition, signingKey: signingKey))
    }

    /// A new empty directory under the system's temporary directory, named `prefix` and a UUID.
    static func temporaryDirectory(_ prefix: String) throws -> URL {
        let directory = FileManager.default.temporaryDirectory.appending(path: "\(prefix)-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        return directory
    }

    /// The data directories a past release wrote (Tests/TallyTests/Fixtures/release-N).
    static func release(_ number: Int) -> URL { root.appending(path: "Tests/TallyTests/Fixtures/release-\(number)") }
}

extension ProcessHarness {
    /// A fresh harness holding copies of release `number`'s directories (node, agg), their aggregator started and
    /// the node pointed at it.
    static func startingRelease(_ number: Int) async throws -> (ProcessHarness, Process, Int) {
        let harness = try ProcessHarness()
        for name in ["node", "agg"] {
            try FileManager.default.copyItem(
                at: Fixtures.release(number).appending(path: name),
                to: harness.workDirectory.appending(path: name))
        }
        let event = harness.workDirectory.appending(path: "node/event.json")
        let (aggregator, port) = try await harness.startAggregator(dataDir: "agg", event: event)
        // The node was made against another port: point it at this aggregator.
        let config = harness.workDirectory.appending(path: "node/node.json")
        let text = try String(contentsOf: config, encoding: .utf8)
            .replacing(#/http://127\.0\.0\.1:\d+/#, with: "http://127.0.0.1:\(port)")
        try text.write(to: config, atomically: true, encoding: .utf8)
        return (harness, aggregator, port)
    }
}

extension MessageSignature.Headers {
    /// These signature headers as HTTP fields, after `Content-Type` (none if nil).
    func fields(contentType: String? = "application/json") -> HTTPFields {
        var fields = HTTPFields()
        if let contentType { fields[.contentType] = contentType }
        fields[HTTPField.Name("Content-Digest")!] = contentDigest
        fields[HTTPField.Name("Signature-Input")!] = signatureInput
        fields[HTTPField.Name("Signature")!] = signature
        return fields
    }

    /// These signature headers on a JSON POST of `body` to `path`, as `BatchIntake` takes it.
    func request(path: String = "/v1/batches", body: Data) -> BatchIntake.SignedRequest {
        .init(
            path: path, contentType: "application/json", contentDigest: contentDigest, signatureInput: signatureInput,
            signature: signature, body: body)
    }
}

extension Fixtures {
    /// Where the browser tests keep their screenshots (`DASHBOARD_SCREENSHOTS=DIR`, default .build/artifacts), made if
    /// missing.
    static func screenshots() throws -> URL {
        let directory = URL(
            filePath: ProcessInfo.processInfo.environment["DASHBOARD_SCREENSHOTS"]
                ?? root.appending(path: ".build/artifacts").path)
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        return directory
    }
}

extension TestSigner {
    /// Sends `records` as one signed batch of `venue` to `intake`.
    func send(_ records: [ChainedRecord], venue: String = "east", to intake: any IntakeUnderTest) async throws
        -> BatchAck
    {
        try await intake.receive(request(body(records, venue: venue)))
    }
}
