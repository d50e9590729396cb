import Foundation

/// Masks the numbers a citizen may write into free text (a suggestion) that identify a person: ID-card numbers
/// (15 or 18 characters), mobile and landline telephone numbers. Any run of 7 or more digits (ASCII or full-width,
/// single spaces or hyphens allowed between them, an ID-card number's final X included) keeps its first three and
/// last two digits and has the rest replaced by `*`. The node masks a suggestion before it writes the record, so that
/// the chain never holds such a number (issue #17).
public enum PersonalNumbers {
    /// Shortest run of digits masked: a landline number without its area code has 7.
    public static let shortestMasked = 7

    public static func masked(_ text: String) -> String {
        var result = String.UnicodeScalarView()
        for run in runs(text) {
            guard run.digits >= shortestMasked else {
                result.append(contentsOf: run.scalars)
                continue
            }
            var seen = 0
            for scalar in run.scalars {
                if isDigitOrX(scalar) {
                    seen += 1
                    result.append(seen <= 3 || seen > run.digits - 2 ? scalar : "*")
                } else {
                    result.append(scalar)
                }
            }
        }
        return String(result)
    }

    /// Whether the text holds a number that `masked` would mask.
    public static func appear(in text: String) -> Bool { runs(text).contains { $0.digits >= shortestMasked } }

    /// The text cut into runs: a number (digits, with single separators between digits) or anything else.
    private static func runs(_ text: String) -> [(scalars: [Unicode.Scalar], digits: Int)] {
        let scalars = Array(text.unicodeScalars)
        var result: [(scalars: [Unicode.Scalar], digits: Int)] = []
        var index = 0
        while index < scalars.count {
            guard isDigit(scalars[index]) else {
                result.append(([scalars[index]], 0))
                index += 1
                continue
            }
            var end = index
            var digits = 0
            while end < scalars.count {
                if isDigit(scalars[end]) {
                    digits += 1
                    end += 1
                } else if ["-", " ", "－"].contains(scalars[end]), end + 1 < scalars.count, isDigit(scalars[end + 1]) {
                    end += 1
                } else {
                    break
                }
            }
            // An ID-card number's check character.
            if digits == 17, end < scalars.count, ["X", "x", "Ｘ", "ｘ"].contains(scalars[end]) {
                digits += 1
                end += 1
            }
            result.append((Array(scalars[index..<end]), digits))
            index = end
        }
        return result
    }

    private static func isDigit(_ scalar: Unicode.Scalar) -> Bool {
        (0x30...0x39).contains(scalar.value) || (0xFF10...0xFF19).contains(scalar.value)
    }

    private static func isDigitOrX(_ scalar: Unicode.Scalar) -> Bool {
        isDigit(scalar) || ["X", "x", "Ｘ", "ｘ"].contains(scalar)
    }
}
