import Aggregator
import Foundation
import Shared
import Testing

/// The aggregator keeps each venue's ledger between batches without any record's content, reading a
/// correction's target from the stored records: it must judge every record exactly as the whole ledger does,
/// and its totals must be the whole ledger's.
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
}
