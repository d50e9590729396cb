import Foundation

/// Turns the bytes of a text file into UTF-8: UTF-8 (with or without a byte-order mark) as it is,
/// anything else read as GB18030, which Excel writes in Chinese locales (via glibc's iconv).
public enum TextDecoding {
    public struct Failure: Error, CustomStringConvertible {
        public var description: String
    }

    public static func utf8(_ data: Data) throws -> Data {
        if String(data: data, encoding: .utf8) != nil { return data }
        return try convert(data, from: "GB18030")
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
