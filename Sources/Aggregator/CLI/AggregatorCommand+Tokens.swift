import ArgumentParser
import Foundation
import Shared

extension AggregatorCommand {
    struct Tokens: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Bearer tokens for people reading the API and the dashboard.",
            subcommands: [Add.self, List.self, Revoke.self])

        struct Add: ParsableCommand {
            static let configuration = CommandConfiguration(
                abstract:
                    "Create a token (printed once; only its hash is kept). From the first token on, every read needs one.",
                discussion: """
                    Roles: observer (dashboard, totals, reconciliation, released results, metrics), admin, and
                    department (only the suggestions assigned to its department, and its answers; needs --department).
                    Example: aggregator tokens add --data-dir DIR --role observer --name "大屏"
                    Then open http://AGGREGATOR:8080/dashboard?token=TOKEN
                    A department: aggregator tokens add --data-dir DIR --role department --department D01 --name "市发改委"
                    """)
            @OptionGroup var data: StoreOption
            @Option(help: "The token's role.") var role: Role
            @Option(help: "Whose token it is.") var name: String
            @Option(help: "A department's token: its department id.") var department: String?

            func run() throws {
                let database = try data.open()
                let token = try database.addToken(name: name, role: role, department: department)
                print(token)
                if let id = try database.tokenID(of: token) {
                    FileHandle.standardError.write(
                        Data(
                            "token \(id) (\(role.rawValue), \(name)); revoke it with: aggregator tokens revoke \(data.where) \(id) --reason …\n"
                                .utf8))
                }
            }
        }

        struct List: ParsableCommand {
            static let configuration = CommandConfiguration(
                abstract:
                    "List bearer tokens: id, name, role, created, and whether revoked (never the tokens themselves).",
                discussion: "Example: aggregator tokens list --data-dir DIR")
            @OptionGroup var data: StoreOption

            func run() throws {
                let rows = try data.open().tokens().map { token in
                    [
                        "\(token.id)", token.name, token.role, token.createdAt,
                        token.revokedAt.map { "revoked \($0): \(token.reason ?? "")" } ?? "active",
                    ]
                }
                if rows.isEmpty {
                    print("no bearer tokens")
                    return
                }
                printTable(header: ["id", "name", "role", "created", "state"], rows: rows)
            }
        }

        struct Revoke: ParsableCommand {
            static let configuration = CommandConfiguration(
                abstract: "Revoke a bearer token: from now on every request with it is refused (401 token_revoked).",
                discussion: """
                    It cannot be undone: it asks for confirmation on a terminal; without one, give --yes.
                    Example: aggregator tokens revoke --data-dir DIR 3 --reason "screen replaced"
                    """)
            @OptionGroup var data: StoreOption
            @Argument(help: "The token's id (see `aggregator tokens list`).") var id: Int64
            @Option(help: "Why (required: it is kept with the revocation).") var reason: String
            @Flag(help: "Do not ask for confirmation (needed without a terminal).") var yes = false

            func run() throws {
                _ = try AggregatorDatabase.checkedReason(reason)
                let database = try data.open()
                guard let token = try database.tokens().first(where: { $0.id == id }) else {
                    throw AggregatorError("no bearer token has id \(id) (see `aggregator tokens list`)")
                }
                try confirm("revoke bearer token \(id) (\(token.role), \(token.name)) for good", yes: yes)
                try database.revokeToken(id: id, reason: reason)
                print("revoked bearer token \(id) (\(token.name))")
            }
        }
    }
}
