import CQRencode
import Foundation

/// A QR code made by libqrencode (Debian's `libqrencode-dev`), drawn as SVG for the sheets of voting codes.
public struct QRCode: Sendable, Equatable {
    /// Modules per side.
    public let width: Int
    /// Row by row, `true` for a dark module.
    public let modules: [Bool]

    public struct Failure: Error, CustomStringConvertible {
        public var description: String
    }

    /// Encodes `text` as 8-bit data with error correction level M (15 % of the code may be lost), in the smallest
    /// version that holds it.
    public init(_ text: String) throws {
        guard let code = QRcode_encodeString8bit(text, 0, QR_ECLEVEL_M) else {
            throw Failure(description: "libqrencode could not encode \(text.utf8.count) bytes: errno \(errno)")
        }
        defer { QRcode_free(code) }
        let width = Int(code.pointee.width)
        // Bit 0 of each byte is the module's colour (1 = dark); the other bits describe what the module is part of.
        let bytes = UnsafeBufferPointer(start: code.pointee.data, count: width * width)
        self.width = width
        self.modules = bytes.map { $0 & 1 == 1 }
    }

    public func isDark(row: Int, column: Int) -> Bool { modules[row * width + column] }

    /// The code as an SVG element `size` CSS pixels wide, with the four-module quiet zone the standard asks for:
    /// one path of unit squares, so that printers draw it sharp at any size.
    public func svg(size: Int, label: String) -> String {
        let side = width + 8
        var path = ""
        for row in 0..<width {
            var column = 0
            while column < width {
                guard isDark(row: row, column: column) else {
                    column += 1
                    continue
                }
                var run = 1
                while column + run < width && isDark(row: row, column: column + run) { run += 1 }
                path += "M\(column + 4) \(row + 4)h\(run)v1h-\(run)z"
                column += run
            }
        }
        return """
            <svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 \(side) \(side)" width="\(size)" height="\(size)" \
            role="img" aria-label="\(label)" shape-rendering="crispEdges"><rect width="\(side)" height="\(side)" \
            fill="#fff"/><path d="\(path)" fill="#000"/></svg>
            """
    }
}
