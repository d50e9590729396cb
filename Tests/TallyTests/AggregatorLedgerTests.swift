import Aggregator
import Foundation
import GRDB
import Shared
import Testing

/// The aggregator keeps each venue's ledger in tables (loading only what a batch touches) without any record's
/// content, reading a correction's target from the stored records: it must judge every record exactly as the whole
/// ledger does, and its totals must be the whole ledger's.
@Suite struct AggregatorLedgerTests {
    @Test(arguments: [1, 2, 3])
    func everyRecordIsJudgedAsTheWholeLedgerJudgesIt(_ seed: Int) async throws {
        let signer = TestSigner()
        let (database, intake) = try Fixtures.aggregator(enrolling: ["east": signer])
        let generator = LedgerTablesTests()
        let event = Fixtures.smallEvent
        var random = SplitMix64(seed: UInt64(seed))
        var reference = Ledger()
        var accepted = 0
        var corrections = 0
        for _ in 0..<800 {
            let payload = generator.randomPayload(&random, head: reference.headSeq)
            var trial = reference
            let expected = Result { try trial.admit(payload, event: event) }
            // Each record its own batch: every correction's target comes from the stored records.
            let record = ChainedRecord(
                seq: reference.headSeq + 1, prev: reference.headHash, payload: payload.canonicalJSON())
            let sent: Result<BatchAck, any Error>
            do { sent = .success(try await signer.send([record], to: intake)) } catch { sent = .failure(error) }
            switch (expected, sent) {
            case (.success, .success):
                reference = trial
                reference.headHash = record.hash
                accepted += 1
                if case .correction = payload { corrections += 1 }
            case (.failure, .failure(let error)):
                let code = (error as? APIError)?.body.error.code
                #expect(code == .ruleBreach || code == .invalidRecord, "\(payload): \(error)")
            default:
                Issue.record("the aggregator and the whole ledger disagree on \(payload): \(expected) vs \(sent)")
                return
            }
        }
        #expect(
            accepted > 100 && corrections > 10, "enough records and corrections accepted (\(accepted), \(corrections))")
        let totals = try database.totals(eventID: event.id)
        let whole = Totals(event: event.id, venue: "east", counters: reference.totals)
        #expect(totals.tallies == whole.tallies)
        #expect(totals.attendance == whole.attendance)
        #expect(totals.boxes == whole.boxes)
    }

    /// Batches of several records (a correction may name a record stored before or one earlier in its own batch; a
    /// batch with one bad record is refused whole), the aggregator reopened from its file now and then and its ledger
    /// tables thrown away once (rebuilt from the records): every batch is judged as the whole ledger judges it, and at
    /// the end the tables hold exactly the whole ledger's entries, but for the records' contents.
    @Test(arguments: [4, 5])
    func batchesRestartsAndARebuildJudgeAsTheWholeLedger(_ seed: Int) async throws {
        let directory = try Fixtures.temporaryDirectory("ledger-tables")
        defer { try? FileManager.default.removeItem(at: directory) }
        let path = directory.appending(path: "aggregator.sqlite").path
        let signer = TestSigner()
        var (database, intake) = try Fixtures.aggregator(path: path, enrolling: ["east": signer])
        let generator = LedgerTablesTests()
        let event = Fixtures.smallEvent
        var random = SplitMix64(seed: UInt64(seed))
        var reference = Ledger()
        var acceptedBatches = 0
        var refusedBatches = 0
        for round in 0..<300 {
            if round % 60 == 59 {
                (database, intake) = try Fixtures.aggregator(path: path)
            }
            if round == 150 {
                try await database.writerForTests.write { db in
                    try db.execute(sql: "DELETE FROM ledgerEntry")
                    try db.execute(sql: "DELETE FROM ledgerHead")
                }
            }
            var trial = reference
            var records: [ChainedRecord] = []
            var refused = false
            let size = Int(random.next() % 6 + 1)
            for _ in 0..<40 where records.count < size && !refused {
                let payload = generator.randomPayload(&random, head: trial.headSeq)
                do {
                    try trial.admit(payload, event: event)
                } catch {
                    // One batch in a few carries a bad record (refused whole); otherwise drawn again.
                    guard random.next() % 16 == 0 else { continue }
                    refused = true
                }
                let record = ChainedRecord(
                    seq: reference.headSeq + Int64(records.count) + 1,
                    prev: records.last?.hash ?? reference.headHash, payload: payload.canonicalJSON())
                records.append(record)
            }
            guard !records.isEmpty else { continue }
            let sent: Result<BatchAck, any Error>
            do { sent = .success(try await signer.send(records, to: intake)) } catch { sent = .failure(error) }
            switch (refused, sent) {
            case (false, .success):
                reference = trial
                reference.headHash = records.last!.hash
                acceptedBatches += 1
            case (true, .failure(let error)):
                let code = (error as? APIError)?.body.error.code
                #expect(code == .ruleBreach || code == .invalidRecord, "\(error)")
                refusedBatches += 1
            default:
                Issue.record("the aggregator and the whole ledger disagree on a batch of \(records.count): \(sent)")
                return
            }
        }
        #expect(acceptedBatches > 50 && refusedBatches > 10, "\(acceptedBatches) accepted, \(refusedBatches) refused")
        let totals = try database.totals(eventID: event.id)
        let whole = Totals(event: event.id, venue: "east", counters: reference.totals)
        #expect(totals.tallies == whole.tallies)
        #expect(totals.attendance == whole.attendance)
        #expect(totals.boxes == whole.boxes)
        func sorted(_ entries: [LedgerEntry]) -> [String] {
            entries.map { "\($0.map) \($0.key) \($0.value ?? "-")" }.sorted()
        }
        let stored = try await database.writerForTests.read { db in
            try Row.fetchAll(db, sql: "SELECT map, key, value FROM ledgerEntry WHERE venue = 'east'").map {
                LedgerEntry(map: $0["map"], key: $0["key"], value: $0["value"])
            }
        }
        #expect(sorted(stored) == sorted(reference.allEntries(recordContents: false)))
        let head = try database.writerForTests.read { db in
            try Row.fetchOne(db, sql: "SELECT seq, hash FROM ledgerHead WHERE venue = 'east'")
        }
        #expect(head?["seq"] == reference.headSeq && head?["hash"] == reference.headHash)
    }
}
