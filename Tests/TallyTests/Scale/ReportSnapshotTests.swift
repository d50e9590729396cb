import Aggregator
import DaemonSupport
import Foundation
import Shared
import Synchronization
import Testing

/// The report is read from one view of the store (issue #20): built while batches are merged, every figure of it
/// agrees with the chain heads it names as its inputs, on either engine (SQLite with its WAL readers, PostgreSQL with
/// a `REPEATABLE READ` transaction).
@Suite struct ReportSnapshotTests {
    @Test(arguments: StoreEngine.allCases)
    func aReportBuiltWhileBatchesArriveAgreesWithTheHeadsItNames(_ engine: StoreEngine) async throws {
        let east = TestSigner()
        let loaded = try EventDefinition.load(data: Data(Fixtures.smallEventJSON.utf8))
        let store: any AggregatorStore
        var directory: URL?
        switch engine {
        case .sqlite:
            // A file, so that reads run beside the writer (in memory, one connection would serialise them).
            let folder = FileManager.default.temporaryDirectory.appending(path: "snapshot-\(UUID().uuidString)")
            try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
            directory = folder
            store = try AggregatorDatabase(path: folder.appending(path: "aggregator.sqlite").path, create: true)
        case .postgres:
            store = try PostgresStore(url: try PostgresServer.start().createDatabase())
        }
        defer { if let directory { try? FileManager.default.removeItem(at: directory) } }
        try store.install(event: loaded, json: Data(Fixtures.smallEventJSON.utf8))
        try store.enroll(venue: "east", publicKeyBase64: east.publicKeyBase64)
        let intake = try Self.intake(store, event: loaded.definition)

        // 80 batches of 5 check-ins, each of another representative, while reports are built (from before the first
        // batch until after the last).
        let done = Mutex(false)
        let sender = Task {
            defer { done.withLock { $0 = true } }
            var (seq, hash) = (Int64(0), RecordChain.genesis)
            for batch in 0..<80 {
                let records = Fixtures.chain(
                    (0..<5).map { .checkin(.init(session: "S1", rep: "R\(batch * 5 + $0)", category: "resident")) },
                    afterSeq: seq, afterHash: hash)
                _ = try await east.send(records, venue: "east", to: intake)
                (seq, hash) = (records[4].seq, records[4].hash)
            }
        }
        var (built, midway) = (0, 0)
        while !done.withLock({ $0 }) || built == 0 {
            built += 1
            let report = try await offload { try Report.build(database: store, event: loaded) }
            let seq = report.inputs.first { $0.venue == "east" }?.seq ?? 0
            let row = report.attendance.first { $0.venue == "east" && $0.session == "S1" }
            let checkedIn = Int64(row?.checkedIn ?? 0)
            #expect(checkedIn == seq, "the report counts \(checkedIn) check-ins and names record \(seq)")
            if seq > 0 && seq < 400 { midway += 1 }
        }
        try await sender.value
        let last = try Report.build(database: store, event: loaded)
        #expect(last.inputs.map(\.seq) == [400])
        #expect(last.attendance.first { $0.venue == "east" && $0.session == "S1" }?.checkedIn == 400)
        #expect(midway > 0, "no report was built while the batches were arriving")
        print("\(engine): \(midway) of \(built) reports were built while the batches were arriving")
    }

    static func intake(_ store: any AggregatorStore, event: EventDefinition) throws -> any IntakeUnderTest {
        if let database = store as? AggregatorDatabase { return Intake(database: database, event: event) }
        return Intake(database: try #require(store as? PostgresStore), event: event)
    }
}
