import Foundation
import Testing

@testable import Shared

/// The payload encoder of this release writes byte for byte what Foundation's JSONEncoder writes (sorted
/// keys, slashes not escaped): hashes and the aggregator's strict check depend on it.
@Suite struct CanonicalJSONTests {
    static let alphabet: [Unicode.Scalar] =
        (0...0x7F).compactMap(Unicode.Scalar.init)
        + ["王", "芳", "满", "意", "\u{2028}", "\u{2029}", "\u{FEFF}", "😀", "é", "\u{10FFFF}"]

    func text(_ random: inout SplitMix64, length: Int = 12) -> String {
        var result = String.UnicodeScalarView()
        for _ in 0..<Int(random.next(UInt64(length)) + 1) {
            result.append(Self.alphabet[Int(random.next(UInt64(Self.alphabet.count)))])
        }
        return String(result)
    }

    /// A clerk's name on half the payloads (version 3).
    func clerk(_ random: inout SplitMix64) -> String? { random.next(2) == 0 ? nil : text(&random) }

    func payload(_ random: inout SplitMix64, depth: Int = 0) -> RecordPayload {
        switch random.next(depth == 0 ? 6 : 5) {
        case 0:
            return .checkin(
                .init(
                    session: text(&random), rep: text(&random), category: text(&random),
                    at: random.next(2) == 0 ? nil : text(&random), person: random.next(2) == 0 ? nil : text(&random),
                    walkin: [nil, true, false][Int(random.next(3))], clerk: clerk(&random)))
        case 1:
            return .boxOpened(
                .init(
                    session: text(&random), box: text(&random), at: random.next(2) == 0 ? nil : text(&random),
                    clerk: clerk(&random)))
        case 2:
            return .boxClosed(
                .init(
                    session: text(&random), box: text(&random), issued: Int(random.next(200_000)) - 100_000,
                    returned: Int(random.next(1_000)), at: nil, clerk: clerk(&random)))
        case 3:
            var marks: [String: String] = [:]
            for _ in 0..<random.next(5) { marks[text(&random, length: 4)] = text(&random) }
            let keyed = random.next(2) == 0
            return .ballot(
                .init(
                    session: text(&random), box: text(&random), status: .valid, marks: marks,
                    paper: keyed ? Int(random.next(1_000)) + 1 : nil,
                    keyers: keyed ? [text(&random), text(&random)] : nil,
                    lead: keyed && random.next(2) == 0 ? text(&random) : nil))
        case 4:
            return .imported(
                .init(
                    file: text(&random), form: "ballots",
                    groups: (0..<random.next(3)).map { _ in
                        .init(
                            session: text(&random), box: text(&random), rows: Int(random.next(500)),
                            digest: text(&random))
                    }, at: text(&random), clerk: clerk(&random)))
        default:
            return .correction(
                .init(
                    target: Int64(random.next(1 << 40)), reason: text(&random), operator: text(&random),
                    replacement: random.next(3) == 0 ? nil : payload(&random, depth: 1),
                    at: random.next(2) == 0 ? nil : text(&random)))
        }
    }

    @Test func theOwnEncoderWritesWhatFoundationWrites() throws {
        var random = SplitMix64(seed: 11)
        for _ in 0..<3_000 {
            let value = payload(&random)
            for version in [1, 2, 3] {
                let own = value.canonicalJSON(version: version)
                #expect(own == value.foundationCanonicalJSON(version: version), "\(value)")
                if value.minimumVersion <= version {
                    #expect(try RecordPayload.decodeStrict(json: own).payload == value)
                } else {
                    #expect(throws: RecordPayload.StrictDecodingError.self) {
                        try RecordPayload.decodeStrict(json: own)
                    }
                }
            }
        }
    }

    /// Ways a node (or an attacker) could write a payload other than canonically.
    func mutations(of json: String, _ random: inout SplitMix64) -> [String] {
        let replacements: [(String, String)] = [
            (",", ", "), (":", " : "), ("/", "\\/"), ("}", ",\"extra\":1}"), ("\"v\":3", "\"v\":4"),
            ("\"v\":3", "\"v\":3.0"), ("\"v\":3", "\"v\":03"), ("\"v\":3", "\"v\":3,\"v\":3"),
            ("\"v\":3", "\"v\":2"),
            ("\"kind\"", "\"kind\":\"ballot\",\"kind\""), ("\"at\":", "\"at\":null,\"at2\":"), ("a", "\\u0061"),
            ("\\n", "\\u000a"), ("\\u001f", "\\u001F"), ("true", "1"), ("\"issued\":", "\"issued\":-0"),
        ]
        var result: [String] = replacements.map { json.replacingOccurrences(of: $0.0, with: $0.1) }
        result.append(" " + json)
        result.append(json + "\n")
        result.append(String(json.dropLast()))
        result.append("[" + json + "]")
        // A byte changed or dropped at random.
        var bytes = Array(json.utf8)
        if !bytes.isEmpty {
            let at = Int(random.next(UInt64(bytes.count)))
            bytes[at] = UInt8(truncatingIfNeeded: random.next(256))
            result.append(String(decoding: bytes, as: UTF8.self))
            bytes.remove(at: at)
            result.append(String(decoding: bytes, as: UTF8.self))
        }
        return result
    }

    /// The fast path of `decodeStrict` (JSONParser and this release's writer) answers exactly as `JSONDecoder`
    /// and the two canonical forms do: the same payload, or a refusal.
    @Test func theFastPathAcceptsExactlyWhatFoundationAccepts() throws {
        var random = SplitMix64(seed: 12)
        var accepted = 0
        var refused = 0
        for _ in 0..<800 {
            let value = payload(&random)
            for version in [1, 2] {
                let json = value.canonicalJSON(version: version)
                for candidate in [json] + mutations(of: json, &random) {
                    let slow = try? RecordPayload.decodeStrictWithFoundation(json: candidate)
                    let fast = try? RecordPayload.decodeStrict(json: candidate)
                    #expect(fast?.payload == slow?.payload && fast?.version == slow?.version, "\(candidate)")
                    if let quick = RecordPayload.fastStrict(json: candidate) {
                        #expect(quick.payload == slow?.payload, "\(candidate)")
                    }
                    if slow == nil { refused += 1 } else { accepted += 1 }
                }
            }
        }
        #expect(accepted > 1_000 && refused > 5_000)
    }

    /// `Batch.decode` gives what `JSONDecoder` gives, for well-formed bodies in any layout and for broken ones.
    @Test func batchBodiesReadAsFoundationReadsThem() throws {
        var random = SplitMix64(seed: 13)
        var agreed = 0
        for round in 0..<400 {
            let records = (0..<Int(random.next(4))).map { index in
                ChainedRecord(
                    seq: Int64(index + 1), prev: text(&random), hash: text(&random),
                    payload: payload(&random).canonicalJSON())
            }
            let batch = Batch(
                event: text(&random), venue: text(&random), node: text(&random), records: records,
                eventDigest: round % 2 == 0 ? nil : text(&random))
            let encoder = JSONEncoder()
            encoder.outputFormatting = round % 3 == 0 ? [.prettyPrinted] : [.withoutEscapingSlashes]
            let json = String(decoding: try encoder.encode(batch), as: UTF8.self)
            for candidate in [json] + mutations(of: json, &random) + [
                json.replacingOccurrences(of: "\"version\":1", with: "\"version\":1,\"future\":{\"a\":[1,2]}"),
                json.replacingOccurrences(of: "\"seq\":1", with: "\"seq\":9007199254740993"),
                json.replacingOccurrences(of: "\"seq\":1", with: "\"seq\":99999999999999999999"),
            ] {
                let data = Data(candidate.utf8)
                let reference = try? JSONDecoder().decode(Batch.self, from: data)
                let read = try? Batch.decode(data)
                #expect(read == reference, "\(candidate)")
                agreed += 1
            }
            #expect(try Batch.decode(Data(json.utf8)) == batch)
        }
        #expect(agreed > 8_000)
    }

    @Test func theParserReadsEscapesAndRefusesWhatItCannotReadExactly() {
        #expect(
            JSONParser.parse(#"{"a":"\u00e9\ud83d\ude00\n\/","b":[true,false,null,-12]}"#)
                == .object([
                    JSONMember(key: "a", value: .string("é😀\n/")),
                    JSONMember(key: "b", value: .array([.bool(true), .bool(false), .null, .int(-12)])),
                ]))
        for unread in [
            #"{"a":1.5}"#, #"{"a":1e3}"#, #"{"a":-0}"#, #"{"a":01}"#, #"{"a":"\ud800"}"#, #"{"a":"\udc00x"}"#,
            #"{"a":1,"a":2}"#, #"{"a":9223372036854775808}"#, #"{"a":1}x"#, "{\"a\":\"\u{01}\"}",
            String(repeating: "[", count: 40) + String(repeating: "]", count: 40),
        ] {
            #expect(JSONParser.parse(unread) == nil, "\(unread)")
        }
        #expect(JSONParser.parse(#"{"a":-9223372036854775808}"#) == .object([JSONMember(key: "a", value: .int(.min))]))
        // Runs between escapes, raw UTF-8 after an escape, an escape last.
        #expect(
            JSONParser.parse(#"["ab\"cd\\ef\u00e9gh","\nü","x\t"]"#)
                == .array([.string("ab\"cd\\efégh"), .string("\nü"), .string("x\t")]))
        // Invalid UTF-8 in a string, before or after an escape.
        for bytes: [UInt8] in [
            [0x7B, 0x22, 0x61, 0x22, 0x3A, 0x22, 0xFF, 0x22, 0x7D],
            [0x7B, 0x22, 0x61, 0x22, 0x3A, 0x22, 0x5C, 0x6E, 0xFF, 0x22, 0x7D],
        ] {
            #expect(bytes.withUnsafeBufferPointer { JSONParser.parse($0) } == nil)
        }
    }
}
