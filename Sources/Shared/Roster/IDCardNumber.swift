import Foundation

/// A mainland resident ID-card number (居民身份证号码, GB 11643-1999): 17 digits and a check
/// character (0–9 or X) computed with ISO 7064 MOD 11-2; digits 7–14 are the birth date.
public struct IDCardNumber: Sendable, Equatable {
    public let value: String

    /// Why a value is not a valid ID-card number.
    public enum Problem: Error, Sendable, Equatable, CustomStringConvertible {
        case length(Int)
        case characters
        case birthDate(String)
        case checkDigit(expected: Character, found: Character)

        public var description: String {
            switch self {
            case .length(let count): "an ID-card number has 18 characters, this one has \(count)"
            case .characters: "an ID-card number is 17 digits and a final digit or X"
            case .birthDate(let date): "the birth date \(date) in the ID-card number is not a plausible date"
            case .checkDigit(let expected, let found):
                "the check character is \(found) but the first 17 digits give \(expected): a digit is mistyped"
            }
        }
    }

    private static let weights = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2]
    private static let checkCharacters: [Character] = ["1", "0", "X", "9", "8", "7", "6", "5", "4", "3", "2"]

    /// Validates `text` (surrounding spaces ignored, a lower-case x accepted). `today` bounds the birth date.
    public init(_ text: String, today: Date = Date()) throws(Problem) {
        let value = text.trimmingCharacters(in: .whitespaces).uppercased()
        let characters = Array(value)
        guard characters.count == 18 else { throw .length(characters.count) }
        guard characters[0..<17].allSatisfy({ $0.isASCII && $0.isNumber }),
            characters[17].isASCII && (characters[17].isNumber || characters[17] == "X")
        else {
            throw .characters
        }
        let expected = Self.checkCharacter(forFirst17: String(characters[0..<17]))
        let birth = String(characters[6..<14])
        guard Self.plausibleBirthDate(birth, today: today) else { throw .birthDate(birth) }
        guard characters[17] == expected else { throw .checkDigit(expected: expected, found: characters[17]) }
        self.value = value
    }

    /// The check character (GB 11643 / ISO 7064 MOD 11-2) of the first 17 digits.
    public static func checkCharacter(forFirst17 digits: String) -> Character {
        let sum = zip(digits.compactMap(\.wholeNumberValue), weights).map(*).reduce(0, +)
        return checkCharacters[sum % 11]
    }

    private static func plausibleBirthDate(_ text: String, today: Date) -> Bool {
        guard let year = Int(text.prefix(4)), let month = Int(text.dropFirst(4).prefix(2)),
            let day = Int(text.suffix(2))
        else { return false }
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = TimeZone(identifier: "Asia/Shanghai")!
        guard year >= 1900, let date = calendar.date(from: DateComponents(year: year, month: month, day: day)),
            calendar.component(.month, from: date) == month, calendar.component(.day, from: date) == day
        else {
            return false
        }
        return date <= today
    }

    /// The same 18 characters with everything but the first 6 and last 2 hidden, for messages.
    public var masked: String { String(value.prefix(6)) + String(repeating: "*", count: 10) + String(value.suffix(2)) }
}

/// A roster that cannot be used; says where and what.
public struct RosterError: Error, Sendable, CustomStringConvertible {
    public var description: String

    public init(_ description: String) { self.description = description }
}
