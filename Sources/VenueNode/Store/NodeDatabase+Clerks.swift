import Crypto
import Foundation
import GRDB
import Shared

/// What a clerk does at the venue's desk (issue #14).
public enum ClerkRole: String, Sendable, CaseIterable, Codable {
    /// Checks representatives in.
    case desk
    /// Opens and closes boxes and enters ballots.
    case count
    /// What the others do, and corrects records and resolves mismatches.
    case lead

    /// Whether this role may correct records and resolve mismatches: `lead` only.
    public var mayCorrect: Bool { self == .lead }
}

/// A clerk of the desk, as stored in `clerk` (rows are never changed or deleted: a clerk's id is never reused).
public struct Clerk: Sendable, Equatable, Codable {
    public var id: Int64
    public var name: String
    public var role: ClerkRole
    public var createdAt: String
}

/// A clerk as `venue-node clerks list` shows them.
public struct ClerkListing: Sendable, Equatable, Codable {
    public var id: Int64
    public var name: String
    public var role: ClerkRole
    public var createdAt: String
    /// When the clerk was revoked (nil while they may sign in).
    public var revokedAt: String?
    public var reason: String?

    enum CodingKeys: String, CodingKey {
        case id, name, role, reason
        case createdAt = "created_at"
        case revokedAt = "revoked_at"
    }
}

/// A refused administration of clerks (nothing was changed).
public struct ClerkError: Error, Sendable, Equatable, CustomStringConvertible {
    public var message: String
    public init(_ message: String) { self.message = message }
    public var description: String { message }
}

/// Why a sign-in code did not sign anyone in (nothing was changed). The desk decides what to show; each failure
/// counts against the client in `SignInThrottle`.
public enum SignInError: Error, Sendable, Equatable, CustomStringConvertible {
    /// Not 16 letters and digits of a sign-in code.
    case malformed
    /// No code like it was issued on this node.
    case unknown
    /// The code was used already: a code signs in once.
    case used
    /// The code's time ran out before it was used.
    case expired
    /// A newer code was issued for the same clerk since: only the newest signs in.
    case replaced
    /// The clerk was revoked.
    case clerkRevoked

    public var description: String {
        switch self {
        case .malformed: "this is not a sign-in code: a code is 16 letters and digits, like ABCD-EFGH-JKMN-PQRS"
        case .unknown: "no such sign-in code: check it, or ask the lead for a new one"
        case .used: "this sign-in code was used already: a code signs in once; ask the lead for a new one"
        case .expired: "this sign-in code has expired: ask the lead for a new one"
        case .replaced: "a newer sign-in code was issued for this clerk: sign in with that one"
        case .clerkRevoked: "this clerk was revoked: their codes no longer sign in"
        }
    }
}

/// The one-time sign-in codes a lead gives clerks: 16 characters of Crockford base32 (80 random bits) in groups of
/// four, `ABCD-EFGH-JKMN-PQRS`. Typed by a person: case, hyphens, spaces and full-width characters do not matter, and
/// I, L and O are read as 1, 1 and 0. Only the SHA-256 of the code's 16 characters (upper case, no hyphens) is stored.
public enum SignInCode {
    public static let alphabet = CrockfordBase32.alphabet
    public static let length = 16

    /// A new random code, grouped for reading out.
    public static func generate() -> String {
        var generator = SystemRandomNumberGenerator()
        let characters = (0..<length).map { _ in alphabet[Int.random(in: 0..<alphabet.count, using: &generator)] }
        return grouped(String(characters))
    }

    /// `ABCDEFGHJKMNPQRS` as `ABCD-EFGH-JKMN-PQRS`.
    static func grouped(_ canonical: String) -> String {
        let characters = Array(canonical)
        return stride(from: 0, to: characters.count, by: 4).map {
            String(characters[$0..<min($0 + 4, characters.count)])
        }.joined(separator: "-")
    }

    /// The code's 16 characters as stored (hashed), or nil when `input` is not a code.
    public static func canonical(_ input: String) -> String? {
        guard let characters = CrockfordBase32.digits(typed: input), characters.count == length else { return nil }
        return String(characters)
    }

    /// What is stored for a code: SHA-256 (hex) of its canonical form.
    public static func hash(canonical: String) -> String { SHA256.hash(data: Data(canonical.utf8)).hexString }
}

/// A sign-in code as issued: shown once (only its hash is kept).
public struct IssuedSignInCode: Sendable, Equatable {
    /// The code, grouped: `ABCD-EFGH-JKMN-PQRS`.
    public var code: String
    public var clerkID: Int64
    public var expiresAt: Date
}

/// A session begun by a sign-in: what the desk sets in its cookie and its pages. Only the SHA-256 of `token` is
/// stored; `csrfToken` is stored as it is (it proves a request came from a page the desk served, not who sent it).
public struct DeskSession: Sendable, Equatable {
    /// For the session cookie: 32 random bytes, base64url.
    public var token: String
    /// For the desk's forms: 32 random bytes, base64url; every state-changing request must carry it.
    public var csrfToken: String
    public var clerk: Clerk
    public var expiresAt: Date

    /// Whether `presented` is this session's CSRF token (compared in constant time).
    public func acceptsCSRF(_ presented: String?) -> Bool { constantTimeEqual(presented, csrfToken) }
}

/// The clerk behind a session cookie that is still in force.
public struct SignedInClerk: Sendable, Equatable {
    public var clerk: Clerk
    public var csrfToken: String
    public var expiresAt: Date

    /// Whether `presented` is this session's CSRF token (compared in constant time).
    public func acceptsCSRF(_ presented: String?) -> Bool { constantTimeEqual(presented, csrfToken) }
}

/// Equal strings, compared without stopping at the first difference.
func constantTimeEqual(_ presented: String?, _ expected: String) -> Bool {
    guard let presented else { return false }
    let a = Array(presented.utf8)
    let b = Array(expected.utf8)
    var difference: UInt8 = a.count == b.count ? 0 : 1
    for (x, y) in zip(a, b) { difference |= x ^ y }
    return difference == 0
}

extension NodeDatabase {
    /// How long a sign-in code is valid unless told otherwise.
    public static let signInCodeLifetime: TimeInterval = 24 * 3600
    /// The longest a sign-in code may be valid.
    public static let signInCodeLongestLifetime: TimeInterval = 7 * 24 * 3600
    /// How long a desk session lasts: a shift, at most 12 hours, then the clerk signs in with a new code.
    public static let deskSessionLifetime: TimeInterval = 12 * 3600
    /// The longest name a clerk may have.
    public static let clerkNameLimit = 64

    /// Adds a clerk and issues their first sign-in code (valid `validFor` seconds, default 24 hours).
    public func addClerk(
        name: String, role: ClerkRole, validFor: TimeInterval = signInCodeLifetime, now: Date = Date()
    ) throws -> (clerk: Clerk, code: IssuedSignInCode) {
        let name = try Self.checkedClerkName(name)
        try Self.checkCodeLifetime(validFor)
        return try write { db in
            let createdAt = Self.timestamp(now)
            try db.execute(
                sql: "INSERT INTO clerk (name, role, createdAt) VALUES (?, ?, ?)",
                arguments: [name, role.rawValue, createdAt])
            let clerk = Clerk(id: db.lastInsertedRowID, name: name, role: role, createdAt: createdAt)
            return (clerk, try Self.insertCode(db, clerkID: clerk.id, validFor: validFor, now: now))
        }
    }

    /// A new one-time sign-in code for clerk `clerkID` (valid `validFor` seconds, default 24 hours). From now on
    /// only this code signs the clerk in: their earlier unused codes are replaced.
    public func issueSignInCode(
        clerkID: Int64, validFor: TimeInterval = signInCodeLifetime, now: Date = Date()
    ) throws -> IssuedSignInCode {
        try Self.checkCodeLifetime(validFor)
        return try write { db in
            let clerk = try Self.clerkListing(db, id: clerkID)
            if let revokedAt = clerk.revokedAt {
                throw ClerkError(
                    "clerk \(clerkID) (\(clerk.name)) was revoked at \(revokedAt): no code was issued. Add the clerk "
                        + "again (venue-node clerks add) if they are to sign in")
            }
            return try Self.insertCode(db, clerkID: clerkID, validFor: validFor, now: now)
        }
    }

    /// Every clerk added on this node, revoked ones included, by id.
    public func clerks() throws -> [ClerkListing] {
        try writer.read { db in
            try Row.fetchAll(db, sql: Self.clerkListingSQL + " ORDER BY c.id").map(Self.listing)
        }
    }

    /// Revokes clerk `id` for good: their codes no longer sign in and their sessions end now. Returns how many
    /// sessions ended.
    @discardableResult
    public func revokeClerk(id: Int64, reason: String, now: Date = Date()) throws -> Int {
        let reason = try Self.checkedRevocationReason(reason)
        return try write { db in
            let clerk = try Self.clerkListing(db, id: id)
            if let revokedAt = clerk.revokedAt {
                throw ClerkError("clerk \(id) (\(clerk.name)) was already revoked at \(revokedAt)")
            }
            try db.execute(
                sql: "INSERT INTO clerkRevocation (clerkID, reason, revokedAt) VALUES (?, ?, ?)",
                arguments: [id, reason, Self.timestamp(now)])
            try db.execute(sql: "DELETE FROM deskSession WHERE clerkID = ?", arguments: [id])
            return db.changesCount
        }
    }

    /// Signs a clerk in with a one-time code: in one transaction the code is used up and a session of 12 hours
    /// begins. A refused code (`SignInError`) changes nothing.
    public func signIn(code: String, now: Date = Date()) throws -> DeskSession {
        guard let canonical = SignInCode.canonical(code) else { throw SignInError.malformed }
        let codeHash = SignInCode.hash(canonical: canonical)
        return try write { db in
            guard
                let row = try Row.fetchOne(
                    db,
                    sql: """
                        SELECT s.rowid AS position, s.clerkID, s.expiresAt, u.usedAt, r.revokedAt
                        FROM signInCode s
                        LEFT JOIN signInCodeUse u ON u.codeHash = s.codeHash
                        LEFT JOIN clerkRevocation r ON r.clerkID = s.clerkID
                        WHERE s.codeHash = ?
                        """, arguments: [codeHash])
            else { throw SignInError.unknown }
            let clerkID: Int64 = row["clerkID"]
            if (row["usedAt"] as String?) != nil { throw SignInError.used }
            if (row["revokedAt"] as String?) != nil { throw SignInError.clerkRevoked }
            if Self.unixSeconds(now) >= row["expiresAt"] as Int64 { throw SignInError.expired }
            let newest = try Int64.fetchOne(
                db, sql: "SELECT MAX(rowid) FROM signInCode WHERE clerkID = ?", arguments: [clerkID])
            if newest != row["position"] as Int64 { throw SignInError.replaced }

            let createdAt = Self.timestamp(now)
            try db.execute(
                sql: "INSERT INTO signInCodeUse (codeHash, usedAt) VALUES (?, ?)", arguments: [codeHash, createdAt])
            try db.execute(
                sql: "DELETE FROM deskSession WHERE expiresAt <= ?", arguments: [Self.unixSeconds(now)])
            let token = Self.randomDeskToken()
            let csrfToken = Self.randomDeskToken()
            let expiresAt = Self.unixSeconds(now) + Int64(Self.deskSessionLifetime)
            try db.execute(
                sql: """
                    INSERT INTO deskSession (tokenHash, clerkID, csrfToken, createdAt, expiresAt)
                    VALUES (?, ?, ?, ?, ?)
                    """,
                arguments: [Self.deskTokenHash(token), clerkID, csrfToken, createdAt, expiresAt])
            let clerk = try Self.clerkListing(db, id: clerkID)
            return DeskSession(
                token: token, csrfToken: csrfToken,
                clerk: Clerk(id: clerk.id, name: clerk.name, role: clerk.role, createdAt: clerk.createdAt),
                expiresAt: Date(timeIntervalSince1970: TimeInterval(expiresAt)))
        }
    }

    /// The clerk signed in with session `token`, or nil when the session is unknown, ended, expired, or its clerk
    /// was revoked.
    public func session(token: String, now: Date = Date()) throws -> SignedInClerk? {
        try writer.read { db in
            try Row.fetchOne(
                db,
                sql: """
                    SELECT c.id, c.name, c.role, c.createdAt, s.csrfToken, s.expiresAt FROM deskSession s
                    JOIN clerk c ON c.id = s.clerkID
                    WHERE s.tokenHash = ? AND s.expiresAt > ?
                    AND NOT EXISTS (SELECT 1 FROM clerkRevocation r WHERE r.clerkID = s.clerkID)
                    """,
                arguments: [Self.deskTokenHash(token), Self.unixSeconds(now)]
            ).flatMap { row in
                ClerkRole(rawValue: row["role"]).map { role in
                    SignedInClerk(
                        clerk: Clerk(id: row["id"], name: row["name"], role: role, createdAt: row["createdAt"]),
                        csrfToken: row["csrfToken"],
                        expiresAt: Date(timeIntervalSince1970: TimeInterval(row["expiresAt"] as Int64)))
                }
            }
        }
    }

    /// Ends session `token`; whether there was one.
    @discardableResult
    public func signOut(token: String) throws -> Bool {
        try write { db in
            try db.execute(sql: "DELETE FROM deskSession WHERE tokenHash = ?", arguments: [Self.deskTokenHash(token)])
            return db.changesCount > 0
        }
    }

    // MARK: - Helpers

    static let clerkListingSQL = """
        SELECT c.id, c.name, c.role, c.createdAt, r.revokedAt, r.reason FROM clerk c
        LEFT JOIN clerkRevocation r ON r.clerkID = c.id
        """

    static func listing(_ row: Row) -> ClerkListing {
        ClerkListing(
            id: row["id"], name: row["name"], role: ClerkRole(rawValue: row["role"]) ?? .desk,
            createdAt: row["createdAt"], revokedAt: row["revokedAt"], reason: row["reason"])
    }

    static func clerkListing(_ db: Database, id: Int64) throws -> ClerkListing {
        guard let row = try Row.fetchOne(db, sql: clerkListingSQL + " WHERE c.id = ?", arguments: [id]) else {
            throw ClerkError("no clerk has id \(id) (see `venue-node clerks list`)")
        }
        return listing(row)
    }

    static func insertCode(_ db: Database, clerkID: Int64, validFor: TimeInterval, now: Date) throws
        -> IssuedSignInCode
    {
        let code = SignInCode.generate()
        let expiresAt = unixSeconds(now) + Int64(validFor.rounded(.down))
        try db.execute(
            sql: "INSERT INTO signInCode (codeHash, clerkID, createdAt, expiresAt) VALUES (?, ?, ?, ?)",
            arguments: [
                SignInCode.hash(canonical: SignInCode.canonical(code) ?? code), clerkID, timestamp(now), expiresAt,
            ])
        return IssuedSignInCode(
            code: code, clerkID: clerkID, expiresAt: Date(timeIntervalSince1970: TimeInterval(expiresAt)))
    }

    /// A clerk's name, trimmed: not empty, at most `clerkNameLimit` characters, no control characters.
    static func checkedClerkName(_ name: String) throws -> String {
        let trimmed = name.trimmingCharacters(in: .whitespacesAndNewlines)
        guard !trimmed.isEmpty else {
            throw ClerkError("--name is empty: give the clerk's name (e.g. --name \"王芳\")")
        }
        guard trimmed.count <= clerkNameLimit else {
            throw ClerkError("--name is \(trimmed.count) characters long: at most \(clerkNameLimit)")
        }
        guard !trimmed.unicodeScalars.contains(where: { $0.properties.generalCategory == .control }) else {
            throw ClerkError("--name contains a control character (a line break or tab): give the name on one line")
        }
        return trimmed
    }

    /// A revocation's reason, trimmed; an empty one is refused (a revocation cannot be undone: say why).
    static func checkedRevocationReason(_ reason: String) throws -> String {
        let trimmed = reason.trimmingCharacters(in: .whitespacesAndNewlines)
        guard !trimmed.isEmpty else {
            throw ClerkError(
                "--reason is empty: a revocation cannot be undone, so say why (e.g. --reason \"left the desk\")")
        }
        return trimmed
    }

    static func checkCodeLifetime(_ validFor: TimeInterval) throws {
        guard validFor >= 60, validFor <= signInCodeLongestLifetime else {
            throw ClerkError(
                "a sign-in code is valid between 1 minute and \(Int(signInCodeLongestLifetime / 3600)) hours, "
                    + "not \(validFor) seconds")
        }
    }

    static func unixSeconds(_ date: Date) -> Int64 { Int64(date.timeIntervalSince1970.rounded(.down)) }

    /// 32 random bytes, base64url without padding.
    static func randomDeskToken() -> String {
        var generator = SystemRandomNumberGenerator()
        let bytes = (0..<32).map { _ in UInt8.random(in: 0...255, using: &generator) }
        return Data(bytes).base64EncodedString()
            .replacingOccurrences(of: "+", with: "-").replacingOccurrences(of: "/", with: "_")
            .replacingOccurrences(of: "=", with: "")
    }

    static func deskTokenHash(_ token: String) -> String { SHA256.hash(data: Data(token.utf8)).hexString }
}
