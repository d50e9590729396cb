import Foundation

/// Finds text shaped like a mainland ID-card number (17 digits and a digit or X, or an old 15-digit
/// number) inside a free field, so that such a number is never stored in clear: a representative id,
/// a correction's reason or operator, a name, a file name.
public enum IDNumberShape {
    /// Whether `text` holds a run of 17 digits followed by a digit or X, or a run of exactly 15 digits
    /// (ASCII or full-width digits alike).
    public static func appears(in text: String) -> Bool {
        var run = 0
        for scalar in text.unicodeScalars {
            if digitValue(scalar) != nil {
                run += 1
                continue
            }
            if run == 15 || run >= 18 { return true }
            if run == 17 && ["X", "x", "Ｘ", "ｘ"].contains(scalar) { return true }
            run = 0
        }
        return run == 15 || run >= 18
    }

    /// The text with every digit but the first four and the last two of each long digit run masked.
    public static func masked(_ text: String) -> String {
        let scalars = Array(text.unicodeScalars)
        var result = String.UnicodeScalarView()
        var index = 0
        while index < scalars.count {
            var end = index
            while end < scalars.count, digitValue(scalars[end]) != nil { end += 1 }
            if end - index >= 15 {
                for (offset, scalar) in scalars[index..<end].enumerated() {
                    result.append(offset < 4 || offset >= end - index - 2 ? scalar : "*")
                }
                index = end
            } else if end > index {
                result.append(contentsOf: scalars[index..<end])
                index = end
            } else {
                result.append(scalars[index])
                index += 1
            }
        }
        return String(result)
    }

    /// Throws when `text` holds something shaped like an ID-card number.
    public static func refuse(_ text: String, field: String) throws(RecordRejection) {
        guard appears(in: text) else { return }
        throw RecordRejection(
            "the \(field) \"\(masked(text))\" holds something shaped like an ID-card number; "
                + "ID-card numbers are never stored in clear: leave it out", rule: .idNumberInClear)
    }

    private static func digitValue(_ scalar: Unicode.Scalar) -> Int? {
        switch scalar.value {
        case 0x30...0x39: Int(scalar.value - 0x30)
        case 0xFF10...0xFF19: Int(scalar.value - 0xFF10)
        default: nil
        }
    }
}
