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

    /// Whether the text holds something shaped like an ID-card number, its digits possibly spaced: a number of
    /// exactly 15 digits, or 17 and a digit or X (a telephone number has at most 12).
    public static func idNumberAppears(in text: String) -> Bool {
        runs(text).contains { $0.digits == 15 || $0.digits == 18 }
    }

    /// Characters written between the digits of one number: spaces (also full-width and no-break), hyphens, dots.
    private static let separators: Set<Unicode.Scalar> = ["-", " ", "－", "\u{3000}", "\u{00A0}", ".", "．"]

    /// The text cut into runs: a number (digits, with at most two separators between two digits) or anything else.
    /// A range of years (`2023-2024`, two groups of four digits from 19xx or 20xx) is not a number.
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
            var groups: [Int] = [0]
            while end < scalars.count {
                if isDigit(scalars[end]) {
                    digits += 1
                    groups[groups.count - 1] += 1
                    end += 1
                    continue
                }
                // One or two separators, then a digit: the number goes on.
                var gap = 0
                while end + gap < scalars.count, gap < 2, separators.contains(scalars[end + gap]) { gap += 1 }
                guard gap > 0, end + gap < scalars.count, isDigit(scalars[end + gap]) else { break }
                end += gap
                groups.append(0)
            }
            // An ID-card number's check character.
            if digits == 17, end < scalars.count, ["X", "x", "Ｘ", "ｘ"].contains(scalars[end]) {
                digits += 1
                end += 1
            }
            let run = Array(scalars[index..<end])
            let years =
                groups == [4, 4]
                && run.split(whereSeparator: { !isDigit($0) }).allSatisfy {
                    ["19", "20"].contains(String(String.UnicodeScalarView($0.prefix(2))))
                }
            result.append((run, years ? 0 : digits))
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
