import Foundation
import GRDB
import Shared
import Testing

@testable import VenueNode

/// The node keeps its ledger in tables and loads only what a write touches: it must judge every record
/// exactly as the ledger rebuilt from all records does, and show the same counts.
@Suite struct LedgerTablesTests {
    let event = Fixtures.smallEvent

    /// A random record: check-ins from a small pool (so duplicates happen), boxes opened and closed,
    /// ballots, corrections (voids and replacements) of earlier records.
    func randomPayload(_ random: inout SplitMix64, head: Int64) -> RecordPayload {
        let session = random.next(2) == 0 ? "S1" : "S2"
        let box = "B\(random.next(3))"
        let departments = session == "S1" ? ["D01", "D02"] : ["D01", "D02", "D03"]
        let marks = ["satisfied", "basically_satisfied", "dissatisfied"]
        func ballot() -> RecordPayload {
            random.next(6) == 0
                ? .ballot(.init(session: session, box: box, status: .blank))
                : .ballot(
                    .init(
                        session: session, box: box, status: .valid,
                        marks: Dictionary(uniqueKeysWithValues: departments.map { ($0, marks[Int(random.next(3))]) })))
        }
        switch random.next(10) {
        case 0, 1:
            return .checkin(
                .init(
                    session: session, rep: "R\(random.next(12))", category: random.next(2) == 0 ? "resident" : "expert")
            )
        case 2:
            return .boxOpened(.init(session: session, box: box))
        case 3:
            let returned = Int(random.next(6))
            return .boxClosed(
                .init(session: session, box: box, issued: returned + Int(random.next(2)), returned: returned))
        case 4, 5, 6:
            return ballot()
        default:
            let target = head > 0 ? Int64(1 + random.next(UInt64(head))) : 1
            switch random.next(3) {
            case 0: return .correction(.init(target: target, reason: "void", operator: "王芳", replacement: nil))
            case 1: return .correction(.init(target: target, reason: "fix", operator: "王芳", replacement: ballot()))
            default:
                return .correction(
                    .init(
                        target: target, reason: "fix", operator: "王芳",
                        replacement: .boxClosed(
                            .init(session: session, box: box, issued: 5, returned: Int(random.next(6))))))
            }
        }
    }

    @Test(arguments: [1, 2, 3, 4, 5])
    func theTablesJudgeEveryRecordAsTheWholeLedgerDoes(_ seed: Int) throws {
        var random = SplitMix64(seed: UInt64(seed))
        let node = try NodeDatabase(writer: DatabaseQueue())
        var reference = Ledger()
        var accepted = 0
        for _ in 0..<800 {
            let payload = randomPayload(&random, head: reference.headSeq)
            var trial = reference
            let expected = Result { try trial.admit(payload, event: event) }
            let actual = Result { try node.append([payload], event: event) }
            switch (expected, actual) {
            case (.success, .success(let saved)):
                reference = trial
                reference.headHash = saved[0].hash
                accepted += 1
            case (.failure(let reason), .failure(let error)):
                #expect((error as? AppendError)?.rejection == reason as? RecordRejection, "\(payload)")
            default:
                Issue.record("the tables and the whole ledger disagree on \(payload): \(expected) vs \(actual)")
                return
            }
        }
        #expect(accepted > 100, "enough records were accepted to mean something (\(accepted))")
        // The counts kept with the tables are those of the records.
        let status = try node.status()
        var checkins: [String: Int] = [:]
        var ballots: [String: Int] = [:]
        for (counter, value) in reference.totals where value != 0 {
            switch counter {
            case .attendance(let session, _): checkins[session, default: 0] += value
            case .ballots(let session, _, _): ballots[session, default: 0] += value
            default: break
            }
        }
        #expect(status.checkins.filter { $0.value != 0 } == checkins.filter { $0.value != 0 })
        #expect(status.ballots.filter { $0.value != 0 } == ballots.filter { $0.value != 0 })
        #expect(status.lastSeq == reference.headSeq)
        // And a node restored from these records (tables rebuilt on its first write) agrees.
        let restored = try NodeDatabase(writer: DatabaseQueue())
        try restored.restore(try node.allRecords())
        let probe = RecordPayload.checkin(.init(session: "S1", rep: "NEW", category: "resident"))
        _ = try node.append([probe], event: event)
        _ = try restored.append([probe], event: event)
        #expect(try restored.status().checkins == (try node.status().checkins))
        #expect(try restored.status().ballots == (try node.status().ballots))
    }
}
