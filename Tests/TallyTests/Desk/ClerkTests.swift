import Crypto
import Foundation
import GRDB
import Shared
import Testing

@testable import VenueNode

/// The desk's clerks (issue #14, first piece): clerks and their one-time sign-in codes on the node, 12-hour
/// sessions, the throttle of failed sign-ins, and `venue-node clerks`.
@Suite struct ClerkTests {
    let database: NodeDatabase
    /// 2026-01-05T08:00:00Z.
    let now = Date(timeIntervalSince1970: 1_767_600_000)

    init() throws {
        database = try NodeDatabase(writer: DatabaseQueue())
    }

    func hours(_ count: Double) -> TimeInterval { count * 3600 }

    /// Every row of the clerks' tables, to show that a refusal changed nothing.
    func snapshot() throws -> [String: [Row]] {
        try database.writer.read { db in
            var tables: [String: [Row]] = [:]
            for table in ["clerk", "clerkRevocation", "signInCode", "signInCodeUse", "deskSession"] {
                tables[table] = try Row.fetchAll(db, sql: "SELECT * FROM \(table) ORDER BY rowid")
            }
            return tables
        }
    }

    func sha256(_ text: String) -> String { SHA256.hash(data: Data(text.utf8)).hexString }

    @Test func aCodeSignsInOnceAndTheSecondUseIsRefusedWithItsOwnError() throws {
        let (clerk, code) = try database.addClerk(name: "王芳", role: .lead, now: now)
        #expect(clerk == Clerk(id: 1, name: "王芳", role: .lead, createdAt: "2026-01-05T08:00:00Z"))
        #expect(code.clerkID == 1)
        #expect(code.expiresAt == now.addingTimeInterval(hours(24)))

        let session = try database.signIn(code: code.code, now: now.addingTimeInterval(60))
        #expect(session.clerk == clerk)
        #expect(session.expiresAt == now.addingTimeInterval(60 + hours(12)))
        #expect(session.token != session.csrfToken)
        let signedIn = try #require(try database.session(token: session.token, now: now.addingTimeInterval(120)))
        #expect(signedIn == SignedInClerk(clerk: clerk, csrfToken: session.csrfToken, expiresAt: session.expiresAt))

        let before = try snapshot()
        #expect(throws: SignInError.used) { try database.signIn(code: code.code, now: now.addingTimeInterval(180)) }
        #expect(try snapshot() == before)
        #expect(
            "\(SignInError.used)"
                == "this sign-in code was used already: a code signs in once; ask the lead for a new one")
    }

    @Test func aCodeUsedByManyAtOnceSignsInOnce() async throws {
        let (_, code) = try database.addClerk(name: "Li Lei", role: .desk, now: now)
        let results = await withTaskGroup(of: Result<DeskSession, SignInError>.self) { group in
            for _ in 0..<8 {
                group.addTask { [database, now] in
                    do {
                        return .success(try database.signIn(code: code.code, now: now))
                    } catch {
                        return .failure(error as? SignInError ?? .unknown)
                    }
                }
            }
            return await group.reduce(into: [Result<DeskSession, SignInError>]()) { $0.append($1) }
        }
        #expect(results.filter { if case .success = $0 { true } else { false } }.count == 1)
        #expect(results.filter { if case .failure(.used) = $0 { true } else { false } }.count == 7)
    }

    @Test func anExpiredCodeIsRefused() throws {
        let (_, code) = try database.addClerk(name: "A", role: .count, validFor: hours(1), now: now)
        let before = try snapshot()
        #expect(throws: SignInError.expired) {
            try database.signIn(code: code.code, now: now.addingTimeInterval(hours(1)))
        }
        #expect(try snapshot() == before)
        #expect(throws: SignInError.expired) {
            try database.signIn(code: code.code, now: now.addingTimeInterval(hours(30)))
        }
        // A second before its end it still signs in.
        _ = try database.signIn(code: code.code, now: now.addingTimeInterval(hours(1) - 1))

        let (_, standard) = try database.addClerk(name: "B", role: .count, now: now)
        #expect(throws: SignInError.expired) {
            try database.signIn(code: standard.code, now: now.addingTimeInterval(hours(24)))
        }
    }

    @Test func aRevokedClerksCodesAndSessionsAreRefused() throws {
        let (clerk, first) = try database.addClerk(name: "Li Lei", role: .desk, now: now)
        let session = try database.signIn(code: first.code, now: now)
        let (other, otherCode) = try database.addClerk(name: "王芳", role: .lead, now: now)
        let otherSession = try database.signIn(code: otherCode.code, now: now)
        let fresh = try database.issueSignInCode(clerkID: clerk.id, now: now)

        #expect(
            try database.revokeClerk(id: clerk.id, reason: "  left the desk \n", now: now.addingTimeInterval(60)) == 1)
        #expect(try database.session(token: session.token, now: now.addingTimeInterval(61)) == nil)
        #expect(throws: SignInError.clerkRevoked) {
            try database.signIn(code: fresh.code, now: now.addingTimeInterval(62))
        }
        #expect(
            throws: ClerkError(
                "clerk 1 (Li Lei) was revoked at 2026-01-05T08:01:00Z: no code was issued. Add the clerk again "
                    + "(venue-node clerks add) if they are to sign in"
            )
        ) {
            try database.issueSignInCode(clerkID: clerk.id, now: now)
        }
        #expect(throws: ClerkError("clerk 1 (Li Lei) was already revoked at 2026-01-05T08:01:00Z")) {
            try database.revokeClerk(id: clerk.id, reason: "again", now: now)
        }
        // The other clerk is untouched.
        #expect(try database.session(token: otherSession.token, now: now.addingTimeInterval(61))?.clerk == other)
        #expect(
            try database.clerks() == [
                ClerkListing(
                    id: 1, name: "Li Lei", role: .desk, createdAt: "2026-01-05T08:00:00Z",
                    revokedAt: "2026-01-05T08:01:00Z", reason: "left the desk"),
                ClerkListing(
                    id: 2, name: "王芳", role: .lead, createdAt: "2026-01-05T08:00:00Z", revokedAt: nil, reason: nil),
            ])
    }

    @Test func aSessionLastsTwelveHours() throws {
        let (clerk, code) = try database.addClerk(name: "A", role: .desk, now: now)
        let session = try database.signIn(code: code.code, now: now)
        #expect(session.expiresAt == now.addingTimeInterval(hours(12)))
        #expect(try database.session(token: session.token, now: now.addingTimeInterval(hours(12) - 1))?.clerk == clerk)
        #expect(try database.session(token: session.token, now: now.addingTimeInterval(hours(12))) == nil)
        #expect(try database.session(token: session.token, now: now.addingTimeInterval(hours(13))) == nil)

        // An expired session's row goes at the next sign-in.
        let next = try database.issueSignInCode(clerkID: clerk.id, now: now.addingTimeInterval(hours(13)))
        _ = try database.signIn(code: next.code, now: now.addingTimeInterval(hours(13)))
        #expect(try database.writer.read { try Int.fetchOne($0, sql: "SELECT COUNT(*) FROM deskSession") } == 1)
    }

    @Test func signingOutEndsTheSessionOnly() throws {
        let (_, code) = try database.addClerk(name: "A", role: .desk, now: now)
        let session = try database.signIn(code: code.code, now: now)
        #expect(try database.signOut(token: "not-a-session") == false)
        #expect(try database.session(token: session.token, now: now) != nil)
        #expect(try database.signOut(token: session.token) == true)
        #expect(try database.session(token: session.token, now: now) == nil)
        #expect(try database.signOut(token: session.token) == false)
        #expect(try database.session(token: "", now: now) == nil)
    }

    @Test func aWrongCodeIsRefusedAndNothingChanges() throws {
        let (_, code) = try database.addClerk(name: "A", role: .desk, now: now)
        let before = try snapshot()
        var unknown = SignInCode.generate()
        while unknown == code.code { unknown = SignInCode.generate() }
        #expect(throws: SignInError.unknown) { try database.signIn(code: unknown, now: now) }
        for malformed in [
            "", "ABCD-EFGH-JKMN-PQR", "ABCD-EFGH-JKMN-PQRST", "ABCD-EFGH-JKMN-PQRU", "ABCD_EFGH_JKMN_PQRS", "王芳",
        ] {
            #expect(throws: SignInError.malformed, "\(malformed)") { try database.signIn(code: malformed, now: now) }
        }
        #expect(try snapshot() == before)
        // The right code still signs in.
        _ = try database.signIn(code: code.code, now: now)
    }

    @Test func onlyTheNewestCodeOfAClerkSignsIn() throws {
        let (clerk, first) = try database.addClerk(name: "A", role: .desk, now: now)
        let second = try database.issueSignInCode(clerkID: clerk.id, validFor: hours(2), now: now)
        #expect(second.expiresAt == now.addingTimeInterval(hours(2)))
        #expect(throws: SignInError.replaced) { try database.signIn(code: first.code, now: now) }
        _ = try database.signIn(code: second.code, now: now)
        #expect(throws: ClerkError("no clerk has id 9 (see `venue-node clerks list`)")) {
            try database.issueSignInCode(clerkID: 9, now: now)
        }
        #expect(throws: ClerkError("a sign-in code is valid between 1 minute and 168 hours, not 0.0 seconds")) {
            try database.issueSignInCode(clerkID: clerk.id, validFor: 0, now: now)
        }
    }

    @Test func codesAreSixteenCrockfordCharactersTypedAnyWay() throws {
        let pattern = /^[0-9A-HJKMNP-TV-Z]{4}-[0-9A-HJKMNP-TV-Z]{4}-[0-9A-HJKMNP-TV-Z]{4}-[0-9A-HJKMNP-TV-Z]{4}$/
        let codes = (0..<2000).map { _ in SignInCode.generate() }
        for code in codes { #expect(code.wholeMatch(of: pattern) != nil, "\(code)") }
        #expect(Set(codes).count == codes.count)
        // Every character of the alphabet turns up (80 random bits, 5 per character).
        #expect(Set(codes.joined().filter { $0 != "-" }) == Set(SignInCode.alphabet))

        #expect(SignInCode.canonical("ABCD-EFGH-JKMN-PQRS") == "ABCDEFGHJKMNPQRS")
        for typed in [
            "abcd-efgh-jkmn-pqrs", "ABCDEFGHJKMNPQRS", "abcd efgh jkmn pqrs", " AbCd-EfGh - JkMn-PqRs ",
            "ＡＢＣＤ－ＥＦＧＨ－ＪＫＭＮ－ＰＱＲＳ", "abcd\u{3000}efgh\u{3000}jkmn\u{3000}pqrs", "ABCD–EFGH–JKMN–PQRS",
        ] {
            #expect(SignInCode.canonical(typed) == "ABCDEFGHJKMNPQRS", "\(typed)")
        }
        #expect(SignInCode.canonical("0O1I-1L00-0000-0000") == "0011110000000000")
        for wrong in [
            "ABCD-EFGH-JKMN-PQRU", "ABCD-EFGH-JKMN", "ABCD-EFGH-JKMN-PQRS0",
            "ÄBCD-EFGH-JKMN-PQRS",
        ] {
            #expect(SignInCode.canonical(wrong) == nil, "\(wrong)")
        }

        // The code as a person types it signs in.
        let (clerk, code) = try database.addClerk(name: "A", role: .desk, now: now)
        let typed = " " + code.code.lowercased().replacingOccurrences(of: "-", with: " ") + " "
        #expect(try database.signIn(code: typed, now: now).clerk == clerk)
    }

    @Test func onlyHashesOfCodesAndSessionTokensAreStored() throws {
        let (_, code) = try database.addClerk(name: "A", role: .desk, now: now)
        let canonical = code.code.replacingOccurrences(of: "-", with: "")
        let codeRow = try #require(try database.writer.read { try Row.fetchOne($0, sql: "SELECT * FROM signInCode") })
        #expect(codeRow["codeHash"] as String? == sha256(canonical))
        #expect(codeRow["clerkID"] as Int64? == 1)
        #expect(codeRow["createdAt"] as String? == "2026-01-05T08:00:00Z")
        let codeExpiresAt: Int64 = codeRow["expiresAt"]
        #expect(codeExpiresAt == 1_767_600_000 + 86400)

        let session = try database.signIn(code: code.code, now: now)
        let sessionRow = try #require(
            try database.writer.read { try Row.fetchOne($0, sql: "SELECT * FROM deskSession") })
        #expect(sessionRow["tokenHash"] as String? == sha256(session.token))
        #expect(sessionRow["csrfToken"] as String? == session.csrfToken)
        let sessionExpiresAt: Int64 = sessionRow["expiresAt"]
        #expect(sessionExpiresAt == 1_767_600_000 + 43200)
        #expect(
            try database.writer.read { try String.fetchOne($0, sql: "SELECT codeHash FROM signInCodeUse") }
                == sha256(canonical))

        // Neither the code nor the session token is anywhere in the database.
        let everything = try snapshot().values.flatMap { $0 }.flatMap { row in
            row.databaseValues.compactMap { String.fromDatabaseValue($0) }
        }
        for secret in [code.code, canonical, code.code.lowercased(), session.token] {
            #expect(!everything.contains { $0.contains(secret) }, "\(secret)")
        }
        // Tokens: 32 random bytes, base64url without padding.
        for token in [session.token, session.csrfToken] {
            #expect(token.wholeMatch(of: /[A-Za-z0-9_-]{43}/) != nil, "\(token)")
        }
    }

    @Test func theFactsAreAppendOnlyAndACodeIsUsedOnce() throws {
        let (_, code) = try database.addClerk(name: "A", role: .desk, now: now)
        let session = try database.signIn(code: code.code, now: now)
        try database.revokeClerk(id: 1, reason: "test", now: now)
        let statements = [
            "UPDATE clerk SET role = 'lead'", "DELETE FROM clerk", "UPDATE clerkRevocation SET reason = 'x'",
            "DELETE FROM clerkRevocation", "UPDATE signInCode SET expiresAt = 0", "DELETE FROM signInCode",
            "UPDATE signInCodeUse SET usedAt = 'x'", "DELETE FROM signInCodeUse",
            "INSERT INTO signInCodeUse (codeHash, usedAt) SELECT codeHash, 'again' FROM signInCode",
            "INSERT INTO clerk (name, role, createdAt) VALUES ('B', 'boss', 'now')",
            "INSERT INTO signInCodeUse (codeHash, usedAt) VALUES ('no such code', 'now')",
        ]
        for statement in statements {
            #expect(throws: DatabaseError.self, "\(statement)") {
                try database.writer.write { try $0.execute(sql: statement) }
            }
        }
        // Sessions are state: their rows may go.
        _ = session
        try database.writer.write { try $0.execute(sql: "DELETE FROM deskSession") }
    }

    @Test func namesAndReasonsAreChecked() throws {
        #expect(throws: ClerkError("--name is empty: give the clerk's name (e.g. --name \"王芳\")")) {
            try database.addClerk(name: " \n ", role: .desk, now: now)
        }
        #expect(
            throws: ClerkError("--name contains a control character (a line break or tab): give the name on one line")
        ) {
            try database.addClerk(name: "王\n芳", role: .desk, now: now)
        }
        #expect(throws: ClerkError("--name is 65 characters long: at most 64")) {
            try database.addClerk(name: String(repeating: "x", count: 65), role: .desk, now: now)
        }
        #expect(try snapshot().values.allSatisfy(\.isEmpty))
        let (clerk, _) = try database.addClerk(name: "  王芳 ", role: .desk, now: now)
        #expect(clerk.name == "王芳")
        #expect(
            throws: ClerkError(
                "--reason is empty: a revocation cannot be undone, so say why (e.g. --reason \"left the desk\")")
        ) {
            try database.revokeClerk(id: clerk.id, reason: "  ", now: now)
        }
        #expect(throws: ClerkError("no clerk has id 2 (see `venue-node clerks list`)")) {
            try database.revokeClerk(id: 2, reason: "x", now: now)
        }
        #expect(try database.clerks().map(\.revokedAt) == [nil])
    }

    @Test func onlyLeadMayCorrectAndCSRFTokensAreCompared() throws {
        #expect(ClerkRole.allCases.filter(\.mayCorrect) == [.lead])
        let (_, code) = try database.addClerk(name: "A", role: .count, now: now)
        let session = try database.signIn(code: code.code, now: now)
        let signedIn = try #require(try database.session(token: session.token, now: now))
        #expect(signedIn.clerk.role.mayCorrect == false)
        #expect(signedIn.acceptsCSRF(session.csrfToken))
        #expect(session.acceptsCSRF(session.csrfToken))
        #expect(!signedIn.acceptsCSRF(nil))
        #expect(!signedIn.acceptsCSRF(""))
        #expect(!signedIn.acceptsCSRF(String(session.csrfToken.dropLast())))
        #expect(!signedIn.acceptsCSRF(session.token))
    }

    // MARK: - The throttle of failed sign-ins

    @Test func theThrottleBlocksTheSixthFailureWithinTheWindowAndAllowsAfterIt() {
        let throttle = SignInThrottle()
        #expect(throttle.maxFailures == 5 && throttle.window == 300)
        for second in 0..<5 {
            #expect(throttle.allows("10.0.0.7", now: now.addingTimeInterval(TimeInterval(second * 10))))
            throttle.recordFailure("10.0.0.7", now: now.addingTimeInterval(TimeInterval(second * 10)))
        }
        // The sixth try within 5 minutes of the first failure is refused, until the first is 5 minutes old.
        #expect(throttle.retryAfter("10.0.0.7", now: now.addingTimeInterval(40)) == 260)
        #expect(!throttle.allows("10.0.0.7", now: now.addingTimeInterval(299)))
        #expect(throttle.retryAfter("10.0.0.7", now: now.addingTimeInterval(299.5)) == 1)
        // Another client is not held up.
        #expect(throttle.allows("10.0.0.8", now: now.addingTimeInterval(60)))
        // Once the first failure is 5 minutes old, one more try; failing it blocks again until the second ages.
        #expect(throttle.allows("10.0.0.7", now: now.addingTimeInterval(300)))
        throttle.recordFailure("10.0.0.7", now: now.addingTimeInterval(300))
        #expect(throttle.retryAfter("10.0.0.7", now: now.addingTimeInterval(300)) == 10)
        #expect(throttle.allows("10.0.0.7", now: now.addingTimeInterval(310)))
        // After a whole window without failures, the client starts afresh.
        #expect(throttle.allows("10.0.0.7", now: now.addingTimeInterval(700)))
        throttle.recordFailure("10.0.0.7", now: now.addingTimeInterval(700))
        #expect(throttle.allows("10.0.0.7", now: now.addingTimeInterval(701)))
    }

    @Test func aSuccessfulSignInClearsTheFailuresAndTheThrottleForgetsOldClients() {
        let throttle = SignInThrottle(maxFailures: 2, window: 60, maxClients: 3)
        throttle.recordFailure("a", now: now)
        throttle.recordFailure("a", now: now)
        #expect(!throttle.allows("a", now: now))
        throttle.reset("a")
        #expect(throttle.allows("a", now: now))
        for (index, client) in ["b", "c", "d"].enumerated() {
            throttle.recordFailure(client, now: now.addingTimeInterval(TimeInterval(index)))
        }
        #expect(throttle.clients == 3)
        throttle.recordFailure("e", now: now.addingTimeInterval(10))
        #expect(throttle.clients == 3)
        // The clients past the window go first.
        throttle.recordFailure("f", now: now.addingTimeInterval(100))
        #expect(throttle.clients == 1)
    }

    // MARK: - `venue-node clerks`

    /// A node directory made by `venue-node init` (no aggregator needed).
    func node(_ harness: ProcessHarness) throws {
        let event = try harness.write(Fixtures.smallEventJSON, to: "event.json")
        let created = try harness.run(
            "venue-node",
            [
                "init", "--data-dir", "node", "--event", harness.workDirectory.appending(path: event).path, "--venue",
                "east", "--aggregator", "http://127.0.0.1:9",
            ])
        try #require(created.status == 0, "\(created.stderr)")
    }

    func listed(_ harness: ProcessHarness) throws -> [ClerkListing] {
        let list = try harness.run("venue-node", ["clerks", "list", "--data-dir", "node", "--json"])
        try #require(list.status == 0, "\(list.stderr)")
        return try JSONDecoder().decode([ClerkListing].self, from: Data(list.stdout.utf8))
    }

    @Test func theCommandLineAddsListsAndRevokesClerks() throws {
        let harness = try ProcessHarness()
        defer { harness.cleanUp() }
        try node(harness)
        let empty = try harness.run("venue-node", ["clerks", "list", "--data-dir", "node"])
        #expect(empty.status == 0)
        #expect(empty.stdout == "no clerks (add one: venue-node clerks add --data-dir node --name NAME --role lead)\n")

        // add: the code alone on standard output, what it is on standard error
        let added = try harness.run(
            "venue-node", ["clerks", "add", "--data-dir", "node", "--name", "王芳", "--role", "lead"])
        #expect(added.status == 0, "\(added.stderr)")
        let code = added.stdout.trimmingCharacters(in: .newlines)
        #expect(code.wholeMatch(of: /[0-9A-HJKMNP-TV-Z]{4}(-[0-9A-HJKMNP-TV-Z]{4}){3}/) != nil, "\(added.stdout)")
        #expect(added.stdout == code + "\n")
        let note = added.stderr.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        let expiry = try #require(note.first?.firstMatch(of: /until (\S+) \(24 hours\)/)?.1, "\(added.stderr)")
        let expires = try #require(try? Date(String(expiry), strategy: .iso8601))
        #expect(abs(expires.timeIntervalSinceNow - hours(24)) < 120)
        #expect(
            note == [
                "the sign-in code above is for clerk 1 (王芳, lead): it signs in once, until \(expiry) (24 hours). It is "
                    + "not shown again (only its hash is kept): give it to 王芳 alone.",
                "The clerk types it on the node's desk page to sign in; a session lasts 12 hours.",
                "A new code (a lost one, the next shift): venue-node clerks code --data-dir node --id 1", "",
            ])

        let desk = try harness.run(
            "venue-node",
            ["clerks", "add", "--data-dir", "node", "--name", "Li Lei", "--role", "desk", "--valid-hours", "2"])
        #expect(desk.status == 0, "\(desk.stderr)")
        #expect(desk.stderr.contains("(2 hours)"), "\(desk.stderr)")
        let deskCode = desk.stdout.trimmingCharacters(in: .newlines)

        // list
        let clerks = try listed(harness)
        #expect(clerks.map(\.id) == [1, 2])
        #expect(clerks.map(\.name) == ["王芳", "Li Lei"])
        #expect(clerks.map(\.role) == [.lead, .desk])
        #expect(clerks.allSatisfy { $0.revokedAt == nil && $0.reason == nil })
        let (added1, added2) = (clerks[0].createdAt, clerks[1].createdAt)
        let list = try harness.run("venue-node", ["clerks", "list", "--data-dir", "node"])
        #expect(list.status == 0)
        #expect(
            list.stdout == """
                id  name    role  added                 state
                1   王芳    lead  \(added1)  active
                2   Li Lei  desk  \(added2)  active

                """)

        // The printed codes sign in (the database is the node's own).
        let database = try NodeDatabase(path: harness.workDirectory.appending(path: "node/node.sqlite").path)
        let session = try database.signIn(code: code.lowercased())
        #expect(session.clerk.name == "王芳")
        #expect(session.clerk.role == .lead)

        // code: a fresh code replaces the unused one
        let fresh = try harness.run("venue-node", ["clerks", "code", "--data-dir", "node", "--id", "2"])
        #expect(fresh.status == 0, "\(fresh.stderr)")
        #expect(fresh.stderr.hasPrefix("the sign-in code above is for clerk 2 (Li Lei, desk): it signs in once"))
        let freshCode = fresh.stdout.trimmingCharacters(in: .newlines)
        #expect(throws: SignInError.replaced) { try database.signIn(code: deskCode) }
        let deskSession = try database.signIn(code: freshCode)

        // revoke: refused without a terminal and --yes, changing nothing
        let unconfirmed = try harness.run(
            "venue-node", ["clerks", "revoke", "--data-dir", "node", "--id", "2", "--reason", "left the desk"])
        #expect(unconfirmed.status == 1)
        #expect(
            unconfirmed.stderr
                == "Error: not confirmed: this would revoke clerk 2 (Li Lei, desk) for good, which cannot be undone. "
                + "There is no terminal to ask on: add --yes to go ahead\n")
        #expect(try listed(harness) == clerks)
        #expect(try database.session(token: deskSession.token) != nil)

        let revoked = try harness.run(
            "venue-node",
            ["clerks", "revoke", "--data-dir", "node", "--id", "2", "--reason", " left the desk ", "--yes"])
        #expect(revoked.status == 0, "\(revoked.stderr)")
        #expect(revoked.stdout == "revoked clerk 2 (Li Lei): their codes no longer sign in; 1 session(s) ended\n")
        #expect(try database.session(token: deskSession.token) == nil)
        #expect(try database.session(token: session.token)?.clerk.id == 1)
        let after = try listed(harness)
        let revokedAt = try #require(after[1].revokedAt)
        #expect(after[1].reason == "left the desk")
        let listAfter = try harness.run("venue-node", ["clerks", "list", "--data-dir", "node"])
        #expect(
            listAfter.stdout == """
                id  name    role  added                 state
                1   王芳    lead  \(added1)  active
                2   Li Lei  desk  \(added2)  revoked \(revokedAt): left the desk

                """)
        let codeForRevoked = try harness.run("venue-node", ["clerks", "code", "--data-dir", "node", "--id", "2"])
        #expect(codeForRevoked.status == 1)
        #expect(
            codeForRevoked.stderr
                == "Error: clerk 2 (Li Lei) was revoked at \(revokedAt): no code was issued. Add the clerk again "
                + "(venue-node clerks add) if they are to sign in\n")
        #expect(codeForRevoked.stdout == "")
    }

    @Test func theCommandLineRefusesBadInputAndChangesNothing() throws {
        let harness = try ProcessHarness()
        defer { harness.cleanUp() }
        try node(harness)
        let added = try harness.run(
            "venue-node", ["clerks", "add", "--data-dir", "node", "--name", "王芳", "--role", "lead"])
        try #require(added.status == 0, "\(added.stderr)")
        let before = try listed(harness)

        struct Case {
            var arguments: [String]
            var status: Int32
            var stderr: String
        }
        let cases = [
            Case(
                arguments: ["add", "--name", "A", "--role", "boss"], status: 64,
                stderr:
                    "Error: The value 'boss' is invalid for '--role <role>'. Please provide one of 'desk', 'count' "
                    + "or 'lead'."
            ),
            Case(
                arguments: ["add", "--name", "  ", "--role", "desk"], status: 1,
                stderr: "Error: --name is empty: give the clerk's name (e.g. --name \"王芳\")\n"),
            Case(
                arguments: ["add", "--name", "A", "--role", "desk", "--valid-hours", "0"], status: 64,
                stderr: "Error: --valid-hours 0: give 1 to 168 (a week)"),
            Case(
                arguments: ["code", "--id", "1", "--valid-hours", "169"], status: 64,
                stderr: "Error: --valid-hours 169: give 1 to 168 (a week)"),
            Case(
                arguments: ["code", "--id", "7"], status: 1,
                stderr: "Error: no clerk has id 7 (see `venue-node clerks list`)\n"),
            Case(
                arguments: ["revoke", "--id", "7", "--reason", "x", "--yes"], status: 1,
                stderr: "Error: no clerk has id 7 (see `venue-node clerks list`)\n"),
            Case(
                arguments: ["revoke", "--id", "1", "--reason", " ", "--yes"], status: 1,
                stderr:
                    "Error: --reason is empty: a revocation cannot be undone, so say why (e.g. --reason \"left the "
                    + "desk\")\n"
            ),
            Case(
                arguments: ["revoke", "--id", "1", "--yes"], status: 64,
                stderr: "Error: Missing expected argument '--reason <reason>'"),
        ]
        for test in cases {
            let subcommand = test.arguments[0]
            let result = try harness.run(
                "venue-node", ["clerks", subcommand, "--data-dir", "node"] + test.arguments.dropFirst())
            #expect(result.status == test.status, "\(test.arguments): \(result.stderr)")
            if test.status == 64 {
                #expect(result.stderr.hasPrefix(test.stderr + "\n"), "\(test.arguments): \(result.stderr)")
            } else {
                #expect(result.stderr == test.stderr, "\(test.arguments)")
            }
            #expect(result.stdout == "", "\(test.arguments)")
            #expect(try listed(harness) == before, "\(test.arguments)")
        }
        let codes = try NodeDatabase(path: harness.workDirectory.appending(path: "node/node.sqlite").path)
            .writer.read { try Int.fetchOne($0, sql: "SELECT COUNT(*) FROM signInCode") }
        #expect(codes == 1)

        let missing = try harness.run("venue-node", ["clerks", "list", "--data-dir", "nowhere"])
        #expect(missing.status == 1)
        #expect(try listed(harness) == before)
    }
}
