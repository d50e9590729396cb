import Aggregator
import Crypto
import Foundation
import GRDB
import Shared
import Testing

/// The engines the aggregator's store runs on: suites that must hold on both take one as their argument.
enum StoreEngine: String, CaseIterable, Sendable, CustomTestStringConvertible {
    /// One aggregator's SQLite file (in memory here).
    case sqlite
    /// A database of the tests' PostgreSQL server (`PostgresServer`), new for each test.
    case postgres

    var testDescription: String { rawValue }
}

/// What the tests call on an intake, whichever store it writes to.
protocol IntakeUnderTest: Sendable {
    func receive(_ request: SignedNodeRequest) async throws -> BatchAck
    func receiveHeartbeat(_ request: SignedNodeRequest) throws -> (node: EnrolledNode, heartbeat: Heartbeat)
    func authenticate(_ request: SignedNodeRequest, method: String, query: String?, now: Int64) throws -> EnrolledNode
    func enrol(_ request: SignedNodeRequest) throws -> EnrolmentResponse
}

extension Intake: IntakeUnderTest {}

extension IntakeUnderTest {
    func authenticate(_ request: SignedNodeRequest, method: String, now: Int64) throws -> EnrolledNode {
        try authenticate(request, method: method, query: nil, now: now)
    }
}

extension AggregatorStore {
    /// The venue's whole chain as stored.
    func storedRecords(venue: String) throws -> [ChainedRecord] { try records(venue: venue, from: 1, limit: .max) }
}

/// An aggregator's store on one engine, the small event installed, `enrolling` enrolled, and its intake.
struct StoreBed: Sendable {
    let store: any AggregatorStore
    let intake: any IntakeUnderTest
    /// The PostgreSQL database's address (nil on SQLite).
    let url: String?

    init(
        _ engine: StoreEngine, eventJSON: String = Fixtures.smallEventJSON,
        signingKey: Curve25519.Signing.PrivateKey? = nil, enrolling: KeyValuePairs<String, TestSigner> = [:]
    ) throws {
        let loaded = try EventDefinition.load(data: Data(eventJSON.utf8))
        switch engine {
        case .sqlite:
            let database = try AggregatorDatabase(writer: DatabaseQueue())
            (store, url) = (database, nil)
            intake = Intake(database: database, event: loaded.definition, signingKey: signingKey)
        case .postgres:
            let url = try PostgresServer.start().createDatabase()
            let database = try PostgresStore(url: url)
            (store, self.url) = (database, url)
            intake = Intake(database: database, event: loaded.definition, signingKey: signingKey)
        }
        try store.install(event: loaded, json: Data(eventJSON.utf8))
        for (venue, signer) in enrolling { try store.enroll(venue: venue, publicKeyBase64: signer.publicKeyBase64) }
    }
}
