import Crypto
import Foundation

extension RecordPayload.Ballot {
    /// A ballot cast on a phone (issue #16) carries a nonce of 32 lower-case hexadecimal digits, is valid (the phone
    /// asks for every department's mark), and names no paper, keyer or lead.
    func checkPhone() throws(RecordRejection) {
        guard let nonce else { return }
        guard nonce.utf8.count == 32, nonce.utf8.allSatisfy({ (48...57).contains($0) || (97...102).contains($0) })
        else {
            throw RecordRejection("a phone ballot's nonce must be 32 lower-case hexadecimal digits, found \"\(nonce)\"")
        }
        guard paper == nil, keyers == nil, lead == nil else {
            throw RecordRejection("a ballot cast on a phone names no paper, keyer or lead")
        }
        guard status == .valid else {
            throw RecordRejection(
                "a ballot cast on a phone is valid (a mark for every department), not \(status.rawValue)")
        }
    }

    /// The receipt a phone shows after casting this ballot, and the aggregator publishes: ten characters of
    /// Crockford base32 (50 bits) of SHA-256 over the nonce, session, box and marks, as `ABCDE-FGHJK`. Two equal
    /// ballots have different receipts (their nonces differ); a receipt says nothing of the marks. Nil for a ballot
    /// not cast on a phone.
    public var receipt: String? {
        guard let nonce else { return nil }
        var text = "sanmin-receipt\u{1F}\(nonce)\u{1F}\(session)\u{1F}\(box)"
        for department in marks.keys.sorted(by: { $0.utf8.lexicographicallyPrecedes($1.utf8) }) {
            text += "\u{1F}\(department)=\(marks[department]!)"
        }
        return PhoneReceipt.format(digest: Array(SHA256.hash(data: Data(text.utf8))))
    }
}

/// Receipts of phone ballots as people read and type them.
public enum PhoneReceipt {
    static let alphabet = CrockfordBase32.alphabet
    public static let length = 10

    /// The first 50 bits of `digest` as `ABCDE-FGHJK`.
    static func format(digest: [UInt8]) -> String {
        var bits = 0
        var value: UInt64 = 0
        var characters: [Character] = []
        for byte in digest {
            value = (value << 8) | UInt64(byte)
            bits += 8
            while bits >= 5 && characters.count < length {
                bits -= 5
                characters.append(alphabet[Int((value >> UInt64(bits)) & 31)])
            }
            if characters.count == length { break }
        }
        return String(characters[0..<5]) + "-" + String(characters[5...])
    }

    /// A receipt as typed (any case, with or without the hyphen or spaces; I and L read as 1, O as 0) in its printed
    /// form `ABCDE-FGHJK`, or nil when it is not a receipt.
    public static func canonical(_ input: String) -> String? {
        guard let characters = CrockfordBase32.digits(typed: input), characters.count == length else { return nil }
        return String(characters[0..<5]) + "-" + String(characters[5...])
    }
}

/// Codes people type in Crockford's base32 (sign-in codes, voting codes, receipts).
public enum CrockfordBase32 {
    /// Crockford's base32 digits: no I, L, O or U.
    public static let alphabet = Array("0123456789ABCDEFGHJKMNPQRSTVWXYZ")

    /// The digits of `input` as a person typed it: case, spaces, hyphens (and their look-alikes) and full-width
    /// characters (as a Chinese IME types them) do not matter, and I, L and O are read as 1, 1 and 0. Nil when a
    /// character is none of these.
    public static func digits(typed input: String) -> [Character]? {
        var characters: [Character] = []
        for scalar in input.unicodeScalars {
            var value = scalar.value
            if (0xFF01...0xFF5E).contains(value) { value -= 0xFEE0 }
            guard let ascii = Unicode.Scalar(value) else { return nil }
            if ascii.properties.isWhitespace
                || "-\u{2010}\u{2011}\u{2012}\u{2013}\u{2014}\u{2212}".unicodeScalars.contains(ascii)
            {
                continue
            }
            var character = Character(String(ascii)).uppercased()
            switch character {
            case "I", "L": character = "1"
            case "O": character = "0"
            default: break
            }
            guard character.count == 1, let single = character.first, alphabet.contains(single) else { return nil }
            characters.append(single)
        }
        return characters
    }
}
