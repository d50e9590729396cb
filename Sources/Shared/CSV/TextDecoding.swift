import Foundation

/// Turns the bytes of a text file into UTF-8: UTF-8 (with or without a byte-order mark) as it is,
/// anything else read as GB18030, which Excel writes in Chinese locales (via glibc's iconv).
public enum TextDecoding {
    public struct Failure: Error, CustomStringConvertible {
        public var description: String
    }

    /// What an operator is told about a UTF-16 file (Excel's "Unicode text", some Windows tools).
    public static let utf16Message = "this file is UTF-16; save it as UTF-8 (or GB18030)"

    public static func utf8(_ data: Data) throws -> Data {
        // First: ASCII text in UTF-16 is also valid UTF-8 (with a NUL after every character).
        if isUTF16(data) { throw Failure(description: utf16Message) }
        if String(data: data, encoding: .utf8) != nil { return data }
        return try convert(data, from: "GB18030")
    }

    /// Whether `data` looks like UTF-16: a UTF-16 byte-order mark, or NUL bytes in at least a quarter of the
    /// even or of the odd positions of its start (the high bytes of ASCII characters). Text in UTF-8 or
    /// GB18030 has no NUL bytes.
    public static func isUTF16(_ data: Data) -> Bool {
        let bytes = [UInt8](data.prefix(4_096))
        if bytes.starts(with: [0xFF, 0xFE]) || bytes.starts(with: [0xFE, 0xFF]) { return true }
        guard bytes.count >= 4 else { return false }
        let pairs = bytes.count / 2
        let evenNULs = stride(from: 0, to: pairs * 2, by: 2).filter { bytes[$0] == 0 }.count
        let oddNULs = stride(from: 1, to: pairs * 2, by: 2).filter { bytes[$0] == 0 }.count
        return evenNULs * 4 >= pairs || oddNULs * 4 >= pairs
    }

    /// Converts text between encodings with glibc's iconv (e.g. from "GB18030" to "UTF-8").
    public static func convert(_ data: Data, from encoding: String, to target: String = "UTF-8") throws -> Data {
        let descriptor = iconv_open(target, encoding)
        guard descriptor != iconv_t(bitPattern: -1) else {
            throw Failure(description: "this system cannot convert \(encoding) text to \(target) (iconv)")
        }
        defer { iconv_close(descriptor) }
        var input = [UInt8](data)
        var output = [UInt8](repeating: 0, count: data.count * 4 + 16)
        var inLeft = input.count
        var outLeft = output.count
        let result = input.withUnsafeMutableBufferPointer { inBuffer in
            output.withUnsafeMutableBufferPointer { outBuffer in
                var inPointer: UnsafeMutablePointer<CChar>? = UnsafeMutableRawPointer(inBuffer.baseAddress!)
                    .assumingMemoryBound(to: CChar.self)
                var outPointer: UnsafeMutablePointer<CChar>? = UnsafeMutableRawPointer(outBuffer.baseAddress!)
                    .assumingMemoryBound(to: CChar.self)
                return iconv(descriptor, &inPointer, &inLeft, &outPointer, &outLeft)
            }
        }
        guard result != -1, inLeft == 0 else {
            let offset = input.count - inLeft
            throw Failure(description: "the text is not valid \(encoding) (bad byte at offset \(offset))")
        }
        return Data(output[0..<(output.count - outLeft)])
    }
}
