import Foundation
import Shared
import Testing

/// The payload encoder of this release writes byte for byte what Foundation's JSONEncoder writes (sorted
/// keys, slashes not escaped): hashes and the aggregator's strict check depend on it.
@Suite struct CanonicalJSONTests {
    static let alphabet: [Unicode.Scalar] = (0...0x7F).compactMap(Unicode.Scalar.init)
        + ["王", "芳", "满", "意", "\u{2028}", "\u{2029}", "\u{FEFF}", "😀", "é", "\u{10FFFF}"]

    func text(_ random: inout SplitMix64, length: Int = 12) -> String {
        var result = String.UnicodeScalarView()
        for _ in 0..<Int(random.next(UInt64(length)) + 1) { result.append(Self.alphabet[Int(random.next(UInt64(Self.alphabet.count)))]) }
        return String(result)
    }

    func payload(_ random: inout SplitMix64, depth: Int = 0) -> RecordPayload {
        switch random.next(depth == 0 ? 6 : 5) {
        case 0:
            return .checkin(.init(session: text(&random), rep: text(&random), category: text(&random),
                                  at: random.next(2) == 0 ? nil : text(&random), person: random.next(2) == 0 ? nil : text(&random),
                                  walkin: [nil, true, false][Int(random.next(3))]))
        case 1: return .boxOpened(.init(session: text(&random), box: text(&random), at: random.next(2) == 0 ? nil : text(&random)))
        case 2:
            return .boxClosed(.init(session: text(&random), box: text(&random), issued: Int(random.next(200_000)) - 100_000,
                                    returned: Int(random.next(1_000)), at: nil))
        case 3:
            var marks: [String: String] = [:]
            for _ in 0..<random.next(5) { marks[text(&random, length: 4)] = text(&random) }
            return .ballot(.init(session: text(&random), box: text(&random), status: .valid, marks: marks))
        case 4:
            return .imported(.init(file: text(&random), form: "ballots",
                                   groups: (0..<random.next(3)).map { _ in
                                       .init(session: text(&random), box: text(&random), rows: Int(random.next(500)), digest: text(&random))
                                   }, at: text(&random)))
        default:
            return .correction(.init(target: Int64(random.next(1 << 40)), reason: text(&random), operator: text(&random),
                                     replacement: random.next(3) == 0 ? nil : payload(&random, depth: 1),
                                     at: random.next(2) == 0 ? nil : text(&random)))
        }
    }

    @Test func theOwnEncoderWritesWhatFoundationWrites() throws {
        var random = SplitMix64(seed: 11)
        for _ in 0..<3_000 {
            let value = payload(&random)
            for version in [1, 2] {
                let own = value.canonicalJSON(version: version)
                #expect(own == value.foundationCanonicalJSON(version: version), "\(value)")
                if value.kind.since <= version { #expect(try RecordPayload.decodeStrict(json: own).payload == value) }
            }
        }
    }
}
