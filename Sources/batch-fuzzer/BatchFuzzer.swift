import Crypto
import Foundation
import Shared

/// Fuzzes what the aggregator does with a request before anything is stored: the `Signature-Input`
/// parser, the signature and digest check, the batch decoder, the chain check and the record
/// checks against the event. An input is `SIGNATURE-INPUT "\n\n" BODY`.
///
/// Besides "no crash", it checks two properties: a signature made without the key never verifies,
/// and a record payload that decodes re-encodes to the same canonical JSON.
///
/// Built with `-sanitize=fuzzer -DFUZZING` (scripts/fuzz.sh) it is a libFuzzer target; built plainly it
/// replays the inputs given as files (e.g. a crash libFuzzer saved): `batch-fuzzer FILE…`.
enum BatchFuzzer {
    static let event = try! EventDefinition.load(data: Data(eventJSON.utf8)).definition
    static let key = try! Curve25519.Signing.PrivateKey(rawRepresentation: Data(repeating: 7, count: 32)).publicKey

    static func check(_ input: Data) {
        let separator = Data("\n\n".utf8)
        let (header, body): (String, Data)
        if let range = input.range(of: separator) {
            header = String(decoding: input[..<range.lowerBound], as: UTF8.self)
            body = Data(input[range.upperBound...])
        } else {
            header = ""
            body = input
        }
        // The parser, on anything.
        _ = try? MessageSignature.keyID(signatureInput: header)
        _ = try? MessageSignature.created(signatureInput: header)
        // A signature nobody made with the key must not verify, whatever the header says.
        let forged =
            "sig1=:" + Data(body.prefix(64) + Data(repeating: 0, count: max(0, 64 - body.count))).base64EncodedString()
            + ":"
        if (try? MessageSignature.verify(
            method: "POST", path: "/v1/batches", query: header.isEmpty ? nil : "q",
            body: body, contentDigest: MessageSignature.contentDigest(of: body),
            signatureInput: header, signature: forged, publicKey: key)) != nil
        {
            fatalError("a signature made without the key verified")
        }
        // The decoder and everything after it, as the aggregator runs them once a signature verifies.
        guard let batch = try? JSONDecoder().decode(Batch.self, from: body), let first = batch.records.first else {
            return
        }
        _ = try? RecordChain.verify(batch.records, afterSeq: first.seq &- 1, afterHash: first.prev)
        for record in batch.records.prefix(1_000) {
            guard let payload = try? RecordPayload.decode(json: record.payload) else { continue }
            _ = try? payload.check(against: event)
            let canonical = payload.canonicalJSON()
            guard let again = try? RecordPayload.decode(json: canonical), again.canonicalJSON() == canonical else {
                fatalError("a payload does not survive its own canonical encoding: \(canonical)")
            }
        }
    }

    static let eventJSON = """
        {
          "format": 1, "id": "fuzz-2026", "title": "模糊测试",
          "marks": [
            {"id": "satisfied", "label_zh": "满意", "label_en": "Satisfied", "weight": 100},
            {"id": "basically_satisfied", "label_zh": "基本满意", "label_en": "Basically satisfied", "weight": 60},
            {"id": "dissatisfied", "label_zh": "不满意", "label_en": "Dissatisfied", "weight": 0}
          ],
          "groups": [{"id": "G1", "name": "第一组"}],
          "departments": [{"id": "D01", "name": "市发改委", "group": "G1"}, {"id": "D02", "name": "市教育局", "group": "G1"}],
          "sessions": [{"id": "S1", "name": "第一场", "date": "2026-01-05", "ballot": "all"}],
          "venues": [{"id": "main", "name": "主会场", "kind": "main"}, {"id": "east", "name": "东区分会场", "kind": "branch"}],
          "categories": [{"id": "resident", "name": "社区居民"}],
          "quotas": []
        }
        """
}

#if FUZZING
    @_cdecl("LLVMFuzzerTestOneInput")
    public func fuzzOneInput(_ start: UnsafePointer<UInt8>?, _ count: Int) -> CInt {
        guard let start else { return 0 }
        BatchFuzzer.check(Data(bytes: start, count: count))
        return 0
    }

    public typealias Arguments = UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>

    @_silgen_name("LLVMFuzzerRunDriver")
    func runFuzzerDriver(
        _ argc: UnsafeMutablePointer<CInt>, _ argv: UnsafeMutablePointer<Arguments>,
        _ callback: @convention(c) (UnsafePointer<UInt8>?, Int) -> CInt
    ) -> CInt

    /// SwiftPM links an executable's entry point as `<module>_main`: hand over to libFuzzer's driver.
    @_cdecl("batch_fuzzer_main")
    public func fuzzerMain(_ argc: CInt, _ argv: Arguments) -> CInt {
        var argc = argc
        var argv = argv
        return runFuzzerDriver(&argc, &argv, fuzzOneInput)
    }
#else
    @main struct Replay {
        static func main() throws {
            let files = CommandLine.arguments.dropFirst()
            guard !files.isEmpty else {
                print("usage: batch-fuzzer FILE… (replays inputs; scripts/fuzz.sh runs the fuzzer)")
                return
            }
            for file in files {
                BatchFuzzer.check(try Data(contentsOf: URL(filePath: file)))
                print("ok \(file)")
            }
        }
    }
#endif
