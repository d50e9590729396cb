import ArgumentParser
import Foundation
import Shared

/// `--role` of `venue-node clerks add`: desk, count or lead.
extension ClerkRole: ExpressibleByArgument {}

extension VenueNodeCommand {
    struct Clerks: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "The desk's clerks and their one-time sign-in codes.",
            discussion: """
                A clerk signs in to the node's desk page with a one-time code (ABCD-EFGH-JKMN-PQRS).
                A session lasts at most 12 hours.
                Roles: desk (check-in), count (boxes and ballots), lead (also corrects records, resolves mismatches).
                See docs/venue-node.md.
                """,
            subcommands: [Add.self, Code.self, List.self, Revoke.self])

        /// `--valid-hours`: how long a new code is valid.
        struct CodeLifetime: ParsableArguments {
            @Option(help: "Hours the sign-in code is valid, 1 to 168 (it signs in once).") var validHours = 24

            func validate() throws {
                guard (1...168).contains(validHours) else {
                    throw ValidationError("--valid-hours \(validHours): give 1 to 168 (a week)")
                }
            }

            var seconds: TimeInterval { TimeInterval(validHours) * 3600 }
        }

        /// What is printed with a code: stdout the code alone, standard error what it is and how to use it.
        static func show(_ code: IssuedSignInCode, for clerk: (name: String, role: ClerkRole), hours: Int, data: String)
        {
            print(code.code)
            let note = """
                the sign-in code above is for clerk \(code.clerkID) (\(clerk.name), \(clerk.role.rawValue)): it signs \
                in once, until \(NodeDatabase.timestamp(code.expiresAt)) (\(hours) hours). It is not shown again (only \
                its hash is kept): give it to \(clerk.name) alone.
                The clerk types it on the node's desk page to sign in; a session lasts 12 hours.
                A new code (a lost one, the next shift): venue-node clerks code --data-dir \(data) --id \(code.clerkID)

                """
            FileHandle.standardError.write(Data(note.utf8))
        }

        struct Add: ParsableCommand {
            static let configuration = CommandConfiguration(
                abstract: "Add a clerk; print their one-time sign-in code (shown once: only its hash is kept).",
                discussion: """
                    Example: venue-node clerks add --data-dir DIR --name "王芳" --role lead
                    The code alone goes to standard output, what to do with it to standard error.
                    """)
            @OptionGroup var data: DataDirectoryOption
            @Option(help: "The clerk's name, as the desk's records will name them.") var name: String
            @Option(help: "desk (check-in), count (boxes and ballots) or lead (also corrects).") var role: ClerkRole
            @OptionGroup var lifetime: CodeLifetime

            func run() throws {
                _ = try NodeDatabase.checkedClerkName(name)
                let (directory, database) = try data.open()
                let (clerk, code) = try appending(directory) {
                    try database.addClerk(name: name, role: role, validFor: lifetime.seconds)
                }
                Clerks.show(code, for: (clerk.name, clerk.role), hours: lifetime.validHours, data: data.path)
            }
        }

        struct Code: ParsableCommand {
            static let configuration = CommandConfiguration(
                abstract: "Issue a fresh one-time sign-in code for a clerk; their earlier unused codes stop working.",
                discussion: """
                    For a lost code, or the next shift (a session lasts at most 12 hours). Sessions already signed in
                    are kept. Example: venue-node clerks code --data-dir DIR --id 3 --valid-hours 2
                    """)
            @OptionGroup var data: DataDirectoryOption
            @Option(help: "The clerk's id (see `venue-node clerks list`).") var id: Int64
            @OptionGroup var lifetime: CodeLifetime

            func run() throws {
                let (directory, database) = try data.open()
                let code = try appending(directory) {
                    try database.issueSignInCode(clerkID: id, validFor: lifetime.seconds)
                }
                guard let clerk = try database.clerks().first(where: { $0.id == id }) else { return }
                Clerks.show(code, for: (clerk.name, clerk.role), hours: lifetime.validHours, data: data.path)
            }
        }

        struct List: ParsableCommand {
            static let configuration = CommandConfiguration(
                abstract: "List clerks: id, name, role, added, and whether revoked (never their codes).",
                discussion: "Example: venue-node clerks list --data-dir DIR --json")
            @OptionGroup var data: DataDirectoryOption
            @Flag(help: "Print JSON.") var json = false

            func run() throws {
                let clerks = try data.open().1.clerks()
                if json {
                    print(try JSONCoding.string(clerks, .pretty))
                    return
                }
                if clerks.isEmpty {
                    print("no clerks (add one: venue-node clerks add --data-dir \(data.path) --name NAME --role lead)")
                    return
                }
                printTable(
                    header: ["id", "name", "role", "added", "state"],
                    rows: clerks.map { clerk in
                        [
                            "\(clerk.id)", clerk.name, clerk.role.rawValue, clerk.createdAt,
                            clerk.revokedAt.map { "revoked \($0): \(clerk.reason ?? "")" } ?? "active",
                        ]
                    })
            }
        }

        struct Revoke: ParsableCommand {
            static let configuration = CommandConfiguration(
                abstract: "Revoke a clerk: their codes no longer sign in and their sessions end now.",
                discussion: """
                    It cannot be undone (add the clerk again to let them back): it asks for confirmation on a terminal;
                    without one, give --yes. The records they wrote stay.
                    Example: venue-node clerks revoke --data-dir DIR --id 3 --reason "left the desk"
                    """)
            @OptionGroup var data: DataDirectoryOption
            @Option(help: "The clerk's id (see `venue-node clerks list`).") var id: Int64
            @Option(help: "Why (required: it is kept with the revocation).") var reason: String
            @Flag(help: "Do not ask for confirmation (needed without a terminal).") var yes = false

            func run() throws {
                _ = try NodeDatabase.checkedRevocationReason(reason)
                let (directory, database) = try data.open()
                guard let clerk = try database.clerks().first(where: { $0.id == id }) else {
                    throw ClerkError("no clerk has id \(id) (see `venue-node clerks list`)")
                }
                if let revokedAt = clerk.revokedAt {
                    throw ClerkError("clerk \(id) (\(clerk.name)) was already revoked at \(revokedAt)")
                }
                try confirm(
                    "revoke clerk \(id) (\(clerk.name), \(clerk.role.rawValue)) for good", yes: yes,
                    otherwise: "nothing was revoked")
                let ended = try appending(directory) { try database.revokeClerk(id: id, reason: reason) }
                print("revoked clerk \(id) (\(clerk.name)): their codes no longer sign in; \(ended) session(s) ended")
            }
        }
    }
}
