import Aggregator
import Foundation
import Shared
import Testing

/// The aggregator summarizes the check-ins for the report without holding them: counted row by row, the same person's
/// check-ins found by SQLite sorting them (`AggregatorDatabase.checkinSummary`). It must say exactly what the
/// summary of the same check-ins held in memory says, on check-ins that carry a person key or take their
/// representative's from the roster, walk-ins, representatives not on the roster, and check-ins voided or replaced
/// by corrections.
@Suite struct CheckinSummaryTests {
    @Test(arguments: [1, 2, 3])
    func theStreamedSummaryIsTheSummaryOfTheCheckinsHeld(_ seed: Int) async throws {
        let signers = ["main": TestSigner(), "east": TestSigner()]
        let (database, intake) = try Fixtures.aggregator(enrolling: [
            "main": signers["main"]!, "east": signers["east"]!,
        ])
        let roster = try RosterCSV.parse(
            Data(
                ("rep_id,name,id_number,category,venue,sessions,reserve\n"
                    + (1...8).map { "M\($0),甲\($0),\(IDNumbers.make($0)),resident,main,all," }.joined(separator: "\n")
                    + "\nM9,乙,\(IDNumbers.make(9)),expert,main,all,yes\n"
                    + (1...6).map { "E\($0),丙\($0),\(IDNumbers.make(20 + $0)),resident,east,S1;S2," }.joined(
                        separator: "\n"))
                    .utf8), event: intake.event, keyer: IDNumbers.keyer, file: "roster.csv")
        try database.importRoster(roster, file: "roster.csv", digest: "test")
        let persons = roster.map(\.personKey)
        let reps = roster.map(\.repID) + ["X1", "X2"]
        var random = SplitMix64(seed: UInt64(seed))
        func pick<T>(_ values: [T]) -> T { values[Int(random.next() % UInt64(values.count))] }
        // The check-ins in effect, kept by the test from what it sends: record → check-in.
        var held: [String: [Int64: CheckinFact]] = [:]
        for venue in ["main", "east"] {
            var ledger = Ledger()
            var records: [ChainedRecord] = []
            var effective: [Int64: CheckinFact] = [:]
            func checkin() -> RecordPayload.Checkin {
                let rep = pick(reps)
                let own = roster.first { $0.repID == rep }?.personKey
                let person: String? =
                    switch random.next() % 4 {
                    case 0: nil
                    case 1: pick(persons)
                    default: own
                    }
                return .init(
                    session: pick(["S1", "S2"]), rep: rep, category: pick(["resident", "expert"]), person: person,
                    walkin: random.next() % 8 == 0 ? true : nil)
            }
            while records.count < 120 {
                let payload: RecordPayload
                if ledger.headSeq > 0, random.next() % 4 == 0 {
                    let target = Int64(1 + random.next() % UInt64(ledger.headSeq))
                    payload = .correction(
                        .init(
                            target: target, reason: "fix", operator: "王芳",
                            replacement: random.next() % 2 == 0 ? nil : .checkin(checkin())))
                } else {
                    payload = .checkin(checkin())
                }
                guard (try? ledger.admit(payload, event: intake.event)) != nil else { continue }
                let seq = ledger.headSeq
                if case .correction(let correction) = payload {
                    effective[correction.target] = nil
                    if case .checkin(let value)? = correction.replacement {
                        effective[seq] = Self.fact(value, venue: venue, seq: seq)
                    }
                } else if case .checkin(let value) = payload {
                    effective[seq] = Self.fact(value, venue: venue, seq: seq)
                }
                let record = ChainedRecord(
                    seq: seq, prev: records.last?.hash ?? RecordChain.genesis, payload: payload.canonicalJSON())
                records.append(record)
            }
            var sent = 0
            while sent < records.count {
                let size = Int(1 + random.next() % 30)
                _ = try await signers[venue]!.send(
                    Array(records[sent..<min(records.count, sent + size)]), venue: venue, to: intake)
                sent += size
            }
            held[venue] = effective
        }
        let facts = held.flatMap { venue, facts in facts.values }.sorted { ($0.venue, $0.seq) < ($1.venue, $1.seq) }
        let inMemory = CheckinSummary(facts, roster: roster)
        let streamed = try database.checkinSummary(roster: roster)

        #expect(streamed.count == facts.count)
        #expect(streamed.places == inMemory.places)
        #expect(streamed.notOnRoster == inMemory.notOnRoster)
        #expect(streamed.walkIns == inMemory.walkIns)
        func groups(_ summary: CheckinSummary) -> [String] {
            summary.duplicates.map { group in
                group.key + " " + group.checkins.map { "\($0.venue):\($0.seq)" }.sorted().joined(separator: ",")
            }.sorted()
        }
        #expect(groups(streamed) == groups(inMemory))
        // Every way in is exercised: groups through a person key taken from the roster, walk-ins, strangers.
        let personOf = CheckinSummary.personKeys(roster)
        #expect(inMemory.duplicates.count >= 3, "\(inMemory.duplicates.count) groups")
        #expect(
            inMemory.duplicates.contains { $0.checkins.contains { $0.person == nil && personOf[$0.rep] != nil } },
            "a group found through the roster's person key")
        #expect(!inMemory.notOnRoster.isEmpty && !inMemory.walkIns.isEmpty)

        // And so the report's figures: the same attendance, reserves and findings either way.
        let event = try #require(try database.installedEvent())
        let totals = try database.totals(eventID: event.definition.id)
        let now = Date()
        let heldInput = ReconciliationInput(
            event: event, totals: totals, roster: roster, checkins: facts, corrections: [], nodes: [], alarms: [],
            now: now)
        let streamedInput = ReconciliationInput(
            event: event, totals: totals, roster: roster, summary: streamed, corrections: [], nodes: [], alarms: [],
            now: now)
        #expect(Reconciliation.attendance(streamedInput) == Reconciliation.attendance(heldInput))
        #expect(Reconciliation.reservesUsed(streamedInput) == Reconciliation.reservesUsed(heldInput))
        #expect(Reconciliation.findings(streamedInput) == Reconciliation.findings(heldInput))
        #expect(Reconciliation.findings(heldInput).contains { $0.kind == .duplicatePerson })
    }

    static func fact(_ checkin: RecordPayload.Checkin, venue: String, seq: Int64) -> CheckinFact {
        CheckinFact(
            venue: venue, seq: seq, session: checkin.session, rep: checkin.rep, category: checkin.category,
            person: checkin.person, walkin: checkin.walkin ?? false)
    }
}
