import Foundation
import Shared
import Testing

@Suite struct RecordChainTests {
    let records = Fixtures.chain([
        .checkin(.init(session: "S1", rep: "R1", category: "resident")),
        .checkin(.init(session: "S1", rep: "R2", category: "expert")),
        .boxOpened(.init(session: "S1", box: "B1")),
        Fixtures.validBallot(["D01": "satisfied", "D02": "dissatisfied"]),
        .boxClosed(.init(session: "S1", box: "B1", issued: 2, returned: 1)),
    ])

    @Test func anIntactChainVerifies() throws {
        try RecordChain.verify(records)
        #expect(records.map(\.seq) == [1, 2, 3, 4, 5])
        #expect(records[0].prev == RecordChain.genesis)
    }

    @Test func alteringAPayloadIsDetectedAtThatRecord() {
        var altered = records
        altered[3].payload = altered[3].payload.replacingOccurrences(of: "dissatisfied", with: "satisfied")
        #expect(
            throws: ChainError.hashMismatch(
                seq: 4, claimed: records[3].hash,
                computed: RecordChain.hash(
                    seq: 4, prev: records[3].prev,
                    payload: altered[3].payload))
        ) {
            try RecordChain.verify(altered)
        }
    }

    @Test func rehashingAnAlteredRecordBreaksTheNextLink() {
        var altered = records
        altered[1] = ChainedRecord(
            seq: 2, prev: records[1].prev,
            payload: records[1].payload.replacingOccurrences(of: "R2", with: "R9"))
        #expect(throws: ChainError.brokenLink(seq: 3, expectedPrev: altered[1].hash, found: records[1].hash)) {
            try RecordChain.verify(altered)
        }
    }

    @Test func droppingARecordIsDetectedWhereItWas() {
        var dropped = records
        dropped.remove(at: 2)
        #expect(throws: ChainError.sequenceBreak(position: 2, expected: 3, found: 4)) {
            try RecordChain.verify(dropped)
        }
    }

    @Test func reorderingRecordsIsDetected() {
        var reordered = records
        reordered.swapAt(1, 2)
        #expect(throws: ChainError.sequenceBreak(position: 1, expected: 2, found: 3)) {
            try RecordChain.verify(reordered)
        }
    }

    @Test func renumberingAfterADropBreaksTheLink() {
        var renumbered = Array(records.prefix(2)) + records.suffix(2)
        renumbered[2].seq = 3
        renumbered[3].seq = 4
        #expect(throws: ChainError.brokenLink(seq: 3, expectedPrev: records[1].hash, found: records[3].prev)) {
            try RecordChain.verify(renumbered)
        }
    }

    @Test func aChainContinuesFromAGivenHead() throws {
        try RecordChain.verify(Array(records.suffix(2)), afterSeq: 3, afterHash: records[2].hash)
        #expect(throws: ChainError.brokenLink(seq: 4, expectedPrev: records[1].hash, found: records[2].hash)) {
            try RecordChain.verify(Array(records.suffix(2)), afterSeq: 3, afterHash: records[1].hash)
        }
    }

    @Test func equalPayloadsEncodeToEqualBytes() throws {
        let a = RecordPayload.ballot(
            .init(
                session: "S1", box: "B1", status: .valid,
                marks: ["D02": "satisfied", "D01": "dissatisfied"]))
        let b = try RecordPayload.decode(json: a.canonicalJSON())
        #expect(a == b)
        #expect(a.canonicalJSON() == b.canonicalJSON())
        #expect(
            a.canonicalJSON()
                == #"{"box":"B1","kind":"ballot","marks":{"D01":"dissatisfied","D02":"satisfied"},"session":"S1","status":"valid","v":5}"#
        )
        // A ballot keyed at the desk names its paper, its two keyers and the lead who decided it.
        let keyed = RecordPayload.ballot(
            .init(
                session: "S1", box: "B1", status: .blank, paper: 7, keyers: ["王芳#2", "李强#3"], lead: "张伟#1"))
        #expect(
            keyed.canonicalJSON()
                == #"{"box":"B1","keyers":["王芳#2","李强#3"],"kind":"ballot","lead":"张伟#1","marks":{},"paper":7,"session":"S1","status":"blank","v":5}"#
        )
        #expect(try RecordPayload.decodeStrict(json: keyed.canonicalJSON()).payload == keyed)
        // Release 1 wrote no version; such a payload still reads, and strictly.
        let old =
            #"{"box":"B1","kind":"ballot","marks":{"D01":"dissatisfied","D02":"satisfied"},"session":"S1","status":"valid"}"#
        #expect(a.canonicalJSON(version: 1) == old)
        #expect(try RecordPayload.decodeStrict(json: old).version == 1)
        #expect(try RecordPayload.decodeStrict(json: a.canonicalJSON()).payload == a)
    }

    @Test func strictDecodingRefusesWhatTheVersionDoesNotDefine() {
        let checkin = RecordPayload.checkin(.init(session: "S1", rep: "R1", category: "resident")).canonicalJSON()
        let cases: [(String, String)] = [
            (
                checkin.replacingOccurrences(of: #""kind""#, with: #""extra":1,"kind""#),
                "the payload has fields that a version 5 record of kind \"checkin\" does not define, or is not in canonical form"
            ),
            (
                checkin.replacingOccurrences(of: #""v":5"#, with: #""v":6"#),
                "payload version 6 is not known to this release (it knows 1…5): upgrade the aggregator before the nodes"
            ),
            (
                RecordPayload.checkin(.init(session: "S1", rep: "R1", category: "resident", clerk: "王芳#1"))
                    .canonicalJSON(version: 2),
                "a record naming a clerk needs payload version 3, not 2"
            ),
            (
                RecordPayload.ballot(
                    .init(
                        session: "S1", box: "E1", status: .valid, marks: ["D01": "satisfied"],
                        nonce: "0123456789abcdef0123456789abcdef")
                ).canonicalJSON(version: 3),
                "a ballot cast on a phone (with a nonce) needs payload version 4, not 3"
            ),
            (
                #"{"file":"a.csv","form":"ballots","groups":[],"kind":"import"}"#,
                "record kind \"import\" needs payload version 2, not 1"
            ),
            (
                checkin.replacingOccurrences(of: ",", with: ", "),
                "the payload has fields that a version 5 record of kind \"checkin\" does not define, or is not in canonical form"
            ),
        ]
        for (json, message) in cases {
            #expect(throws: RecordPayload.StrictDecodingError.self) { try RecordPayload.decodeStrict(json: json) }
            do {
                _ = try RecordPayload.decodeStrict(json: json)
            } catch {
                #expect(error.description == message, "\(json)")
            }
        }
    }
}
