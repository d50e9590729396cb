import ArgumentParser
import Foundation
import Shared

extension AggregatorCommand {
    struct Nodes: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Enrol, list and revoke venue nodes; list and revoke enrolment tokens.",
            subcommands: [Enroll.self, Add.self, List.self, Revoke.self, EnrolmentTokens.self])

        struct Enroll: ParsableCommand {
            static let configuration = CommandConfiguration(
                abstract: "Issue a one-time, expiring enrolment token for a venue's node.",
                discussion: """
                    The token is printed once (only its SHA-256 is kept). The node enrols itself with it:
                      venue-node init … --venue V --aggregator URL --token TOKEN
                    A token works once, for one key; a redeployed node of the same venue becomes its next epoch.
                    Example: aggregator nodes enroll --data-dir DIR --venue dongsheng --valid-hours 24
                    """)
            @OptionGroup var data: StoreOption
            @Option(help: "Venue id.") var venue: String
            @Option(help: "Hours the token stays valid (at most 720).") var validHours = 24

            func run() throws {
                guard (1...720).contains(validHours) else {
                    throw ValidationError("--valid-hours must be 1 to 720")
                }
                let token = try data.openForVenue(venue).issueEnrolmentToken(
                    venue: venue, validFor: Int64(validHours) * 3600, now: Date())
                print(token)
                FileHandle.standardError.write(
                    Data(
                        ("one-time token for venue \(venue), valid \(validHours) h "
                            + "(id \(AggregatorDatabase.enrolmentTokenID(of: token)) in `aggregator nodes tokens`); on the node:\n"
                            + "  venue-node init --data-dir DIR --event FILE --venue \(venue) --aggregator URL --token \(token)\n")
                            .utf8))
            }
        }

        struct Add: ParsableCommand {
            static let configuration = CommandConfiguration(
                abstract: "Enrol a node: its public key may send records for a venue.",
                discussion: "Example: aggregator nodes add --data-dir DIR --venue dongsheng --public-key KEY")
            @OptionGroup var data: StoreOption
            @Option(help: "Venue id.") var venue: String
            @Option(help: "The node's public key, as printed by `venue-node init`.") var publicKey: String

            func run() throws {
                let node = try data.openForVenue(venue).enroll(venue: venue, publicKeyBase64: publicKey)
                print("enrolled node \(node.id) for venue \(node.venue), epoch \(node.epoch)")
                if node.epoch > 1 {
                    print("the venue's earlier keys (epochs 1…\(node.epoch - 1)) can no longer send records")
                }
            }
        }

        struct List: ParsableCommand {
            static let configuration = CommandConfiguration(abstract: "List enrolled nodes and what they have sent.")
            @OptionGroup var data: StoreOption

            func run() throws {
                let database = try data.open()
                let revoked = try database.revokedNodeIDs()
                let rows = try database.nodes().map { node in
                    let cursor = try database.cursor(node: node)
                    let state =
                        revoked.contains(node.id) ? "revoked" : try database.fence(node) == nil ? "current" : "retired"
                    return [
                        node.venue, "\(node.epoch)", node.id, state, "\(cursor.seq)", String(cursor.hash.prefix(16)),
                        node.enrolledAt,
                    ]
                }
                printTable(header: ["venue", "epoch", "node", "state", "records", "head", "enrolled"], rows: rows)
            }
        }

        struct Revoke: ParsableCommand {
            static let configuration = CommandConfiguration(
                abstract: "Revoke a node's key: nothing it signs is accepted any more (kept as evidence).",
                discussion: """
                    It cannot be undone: it asks for confirmation on a terminal; without one, give --yes.
                    Example: aggregator nodes revoke --data-dir DIR --node 5575479a… --reason "laptop stolen"
                    """)
            @OptionGroup var data: StoreOption
            @Option(help: "The node id (see `aggregator nodes list`).") var node: String
            @Option(help: "Why (required: it is kept with the revocation).") var reason: String
            @Flag(help: "Do not ask for confirmation (needed without a terminal).") var yes = false

            func run() throws {
                _ = try AggregatorDatabase.checkedReason(reason)
                let database = try data.open()
                guard let enrolled = try database.node(id: node) else {
                    throw AggregatorError("no node \(node) is enrolled (see `aggregator nodes list`)")
                }
                try confirm("revoke node \(node) (venue \(enrolled.venue), epoch \(enrolled.epoch)) for good", yes: yes)
                try database.revoke(nodeID: node, reason: reason)
                print("revoked node \(node)")
            }
        }

        struct EnrolmentTokens: ParsableCommand {
            static let configuration = CommandConfiguration(
                commandName: "tokens",
                abstract: "List enrolment tokens; revoke one that is not used yet.",
                subcommands: [List.self, Revoke.self], defaultSubcommand: List.self)

            struct List: ParsableCommand {
                static let configuration = CommandConfiguration(
                    abstract:
                        "List enrolment tokens: id, venue, created, expires, state (unused, used, expired, revoked).",
                    discussion: "Example: aggregator nodes tokens --data-dir DIR")
                @OptionGroup var data: StoreOption

                func run() throws {
                    let now = Date()
                    let rows = try data.open().enrolmentTokens().map { token in
                        let expires = Date(timeIntervalSince1970: TimeInterval(token.expiresAt)).formatted(.iso8601)
                        let state = token.state(now: now)
                        let detail = token.usedBy.map { "node \($0)" } ?? token.revokedAt ?? ""
                        return [token.id, token.venue, token.createdAt, expires, state, detail]
                    }
                    if rows.isEmpty {
                        print("no enrolment tokens")
                        return
                    }
                    printTable(header: ["id", "venue", "created", "expires", "state", "by/at"], rows: rows)
                }
            }

            struct Revoke: ParsableCommand {
                static let configuration = CommandConfiguration(
                    abstract:
                        "Revoke an unused enrolment token: from now on it enrols nobody (enrolment_token_revoked).",
                    discussion: """
                        ID is the id `aggregator nodes tokens` shows. A used token cannot be revoked: revoke the node it
                        enrolled. It cannot be undone: it asks for confirmation on a terminal; without one, give --yes.
                        Example: aggregator nodes tokens revoke --data-dir DIR 3f2a9c0e11d4 --reason "sent to the wrong venue"
                        """)
                @OptionGroup var data: StoreOption
                @Argument(help: "The token's id (see `aggregator nodes tokens`).") var id: String
                @Option(help: "Why (required: it is kept with the revocation).") var reason: String
                @Flag(help: "Do not ask for confirmation (needed without a terminal).") var yes = false

                func run() throws {
                    _ = try AggregatorDatabase.checkedReason(reason)
                    let database = try data.open()
                    guard let token = try database.enrolmentTokens().first(where: { $0.id == id.lowercased() }) else {
                        throw AggregatorError("no enrolment token has id \(id) (see `aggregator nodes tokens`)")
                    }
                    try confirm("revoke enrolment token \(token.id) for venue \(token.venue) for good", yes: yes)
                    try database.revokeEnrolmentToken(id: id, reason: reason)
                    print("revoked enrolment token \(token.id) (venue \(token.venue))")
                }
            }
        }
    }
}
