import ArgumentParser
import Crypto
import Foundation
import Hummingbird
import Logging
import NIOCore
import Shared

/// `aggregator`: receives signed batches from the venue nodes, merges them and keeps the totals.
public struct AggregatorCommand: AsyncParsableCommand {
    public static let configuration = CommandConfiguration(
        commandName: "aggregator",
        abstract: "Receive the venues' signed batches, merge them idempotently and keep the event's totals.",
        discussion: "See docs/aggregator.md.",
        subcommands: [Serve.self, Identity.self, Nodes.self, Tokens.self, Roster.self, Report.self, Results.self,
                      Export.self, Alarms.self, HeldOut.self, Event.self]
    )

    public init() {}
}

/// The `--data-dir` every command takes.
struct AggregatorDataOption: ParsableArguments {
    @Option(name: .customLong("data-dir"), help: "The aggregator's data directory.") var path: String

    /// Opens the database; only `serve` passes `create` (every other command refuses a directory that holds
    /// no aggregator database: a mistyped --data-dir must not become a second, empty aggregator).
    func open(create: Bool = false) throws -> AggregatorDatabase {
        let url = URL(filePath: path)
        let file = url.appending(path: "aggregator.sqlite")
        if create {
            try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true,
                                                    attributes: [.posixPermissions: 0o700])
        } else {
            try requireDatabase()
        }
        return try AggregatorDatabase(path: file.path, create: create)
    }

    /// Refuses a data directory that holds no aggregator database, naming it.
    func requireDatabase() throws {
        let file = URL(filePath: path).appending(path: "aggregator.sqlite")
        guard FileManager.default.fileExists(atPath: file.path) else {
            throw AggregatorError("\(path) holds no aggregator database (no \(file.path)): check --data-dir; nothing "
                + "was done. `aggregator serve --data-dir \(path) --event FILE` creates one")
        }
    }

    /// The database and the event it serves.
    func openWithEvent() throws -> (AggregatorDatabase, LoadedEvent) {
        let database = try open()
        guard let event = try database.installedEvent() else {
            throw AggregatorError("no event installed in \(path) yet; run `aggregator serve --event FILE` first")
        }
        return (database, event)
    }
}

extension AggregatorCommand {
    struct Serve: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Serve the HTTP API until SIGTERM.",
            discussion: """
                Prints "listening on HOST:PORT" once the socket is bound (port 0 picks a free port); under systemd
                (Type=notify) says READY=1 then, pings the watchdog and says STOPPING=1 on shutdown. Options can come
                from a file: --config FILE (see deploy/aggregator.conf). It locks the data directory (DIR/.lock)
                while it runs: a second serve on the same directory stops at once, naming the process that holds it.
                A request's head must arrive within --header-timeout, its body within --body-timeout, and a kept-alive
                connection may idle for --idle-timeout; a response being written (the dashboard's event stream) has no
                deadline. Connections over --max-connections-per-client or --max-connections are closed at once.
                Example:
                  aggregator serve --data-dir /var/lib/aggregator --event examples/ordos-2021/event.json --listen 0.0.0.0:8080
                """)

        @OptionGroup var data: AggregatorDataOption
        @Option(help: "The event file (JSON, see docs/event-format.md).") var event: String
        @Option(help: "HOST:PORT to listen on.") var listen = "127.0.0.1:8080"
        @Option(help: "Largest request body, in bytes.") var maxBodyBytes = 8 << 20
        @Option(help: "Serve HTTPS: the certificate chain (PEM). Needs --tls-key.") var tlsCert: String?
        @Option(help: "Serve HTTPS: the certificate's private key (PEM).") var tlsKey: String?
        @Option(help: "Requests per second allowed per client address (0: no limit).") var rateLimit: Double = 20
        @Option(help: "Requests a client may make at once before the rate applies.") var rateBurst: Double = 100
        @Option(help: "Hours a signed request stays valid (node clocks may be off by this much).")
        var signatureMaxAgeHours = 168
        @Option(help: "Seconds a client has to send a request's head (from connecting, or from the request's first byte).")
        var headerTimeout: Double = 10
        @Option(help: "Seconds a client has to send a request's body, from the end of its head.")
        var bodyTimeout: Double = 60
        @Option(help: "Seconds a kept-alive connection may stay idle between requests.")
        var idleTimeout: Double = 75
        @Option(help: "Connections one client address (IPv4, or IPv6 /64) may hold open; more are closed at once.")
        var maxConnectionsPerClient = 64
        @Option(help: "Connections held open in all; more are closed at once (keep LimitNOFILE= above it).")
        var maxConnections = 2_048
        @Option(help: ArgumentHelp(
            "A reverse proxy (ADDR or ADDR/PREFIX) whose X-Forwarded-For names the client, for the rate limit; repeatable.",
            valueName: "addr"))
        var trustedProxy: [String] = []

        func validate() throws {
            guard (tlsCert == nil) == (tlsKey == nil) else {
                throw ValidationError("give both --tls-cert and --tls-key, or neither")
            }
            guard maxBodyBytes >= 4_096 else { throw ValidationError("--max-body-bytes must be at least 4096") }
            guard rateLimit >= 0, rateBurst >= 1 else {
                throw ValidationError("--rate-limit must be 0 or more and --rate-burst at least 1")
            }
            guard (1...24 * 30).contains(signatureMaxAgeHours) else {
                throw ValidationError("--signature-max-age-hours must be 1 to 720")
            }
            for (name, value) in [("--header-timeout", headerTimeout), ("--body-timeout", bodyTimeout),
                                  ("--idle-timeout", idleTimeout)] where !(0.1...3_600).contains(value) {
                throw ValidationError("\(name) must be 0.1 to 3600 seconds (found \(value))")
            }
            guard maxConnectionsPerClient >= 1, maxConnections >= maxConnectionsPerClient else {
                throw ValidationError("--max-connections-per-client must be at least 1 and --max-connections at "
                    + "least as many")
            }
            do {
                _ = try TrustedProxies(parsing: trustedProxy)
            } catch {
                throw ValidationError("\(error)")
            }
        }

        func run() async throws {
            let (host, port) = try parseListen(listen)
            let eventURL = URL(filePath: event)
            let loaded = try EventDefinition.load(contentsOf: eventURL)
            // One serve per data directory, for the life of this process (a second one stops here).
            try FileManager.default.createDirectory(at: URL(filePath: data.path), withIntermediateDirectories: true,
                                                    attributes: [.posixPermissions: 0o700])
            let lock = try DataDirectoryLock(directory: data.path, program: "aggregator serve")
            defer { withExtendedLifetime(lock) {} }
            let database = try data.open(create: true)
            try database.install(event: loaded, json: InputFile.read(event))
            var logger = Logger(label: "aggregator")
            logger[metadataKey: "event.id"] = "\(loaded.definition.id)"
            for warning in loaded.warnings {
                logger.warning("event file contradicts itself", metadata: ["issue": "\(warning)"])
            }
            let key = try KeyFile.loadOrCreate(at: URL(filePath: data.path).appending(path: "aggregator.key"))
            let intake = BatchIntake(database: database, event: loaded.definition, signingKey: key,
                                     maxSignatureAge: Int64(signatureMaxAgeHours) * 3600)
            let settings = AggregatorSettings(
                host: host, port: port, maxBodyBytes: maxBodyBytes,
                rateLimit: rateLimit > 0 ? .init(perSecond: rateLimit, burst: rateBurst) : nil,
                tls: tlsCert.map { .init(certificateChain: $0, privateKey: tlsKey ?? "") },
                connectionLimits: .init(perClient: maxConnectionsPerClient, total: maxConnections),
                deadlines: .init(header: .nanoseconds(Int64(headerTimeout * 1e9)),
                                 body: .nanoseconds(Int64(bodyTimeout * 1e9)),
                                 idle: .nanoseconds(Int64(idleTimeout * 1e9))),
                trustedProxies: try TrustedProxies(parsing: trustedProxy))
            Self.raiseFileLimit(for: maxConnections, logger: logger)
            let connections = ConnectionLimiter(limits: settings.connectionLimits,
                                                trustedProxies: settings.trustedProxies)
            // The watchdog is pinged only while the server still takes connections and answers.
            let selfCheck = SelfCheck(host: host, tls: settings.tls != nil, connections: connections, logger: logger)
            let watchdog = WatchdogService(notifier: SystemdNotifier(), healthCheck: { await selfCheck.run() })
            if try !database.hasTokens() {
                logger.warning("""
                    no bearer token exists: nobody can read totals or the dashboard until one is made \
                    (aggregator tokens add --role observer)
                    """)
            }
            let app = try buildApplication(
                intake: intake, settings: settings,
                logger: logger, services: [watchdog], connections: connections,
                onServerRunning: { [tls = settings.tls != nil] port in
                    selfCheck.serverRunning(port: port)
                    print("listening on \(host):\(port)" + (tls ? " (https)" : ""))
                    fflush(nil)
                    // The socket is bound: under systemd (Type=notify) the unit is now started.
                    watchdog.ready()
                })
            try await app.runService()
        }

        /// Every connection holds a file descriptor: the soft limit must exceed the connection cap (plus the
        /// database's files and a margin), or the process runs out of descriptors before the cap applies.
        /// Raises the soft limit up to the hard one if needed (the unit sets LimitNOFILE=); warns if still short.
        static func raiseFileLimit(for connections: Int, logger: Logger) {
            let needed = rlim_t(connections + 256)
            var limit = rlimit()
            guard getrlimit(Int32(RLIMIT_NOFILE.rawValue), &limit) == 0, limit.rlim_cur < needed else { return }
            var raised = limit
            raised.rlim_cur = min(needed, limit.rlim_max)
            if setrlimit(Int32(RLIMIT_NOFILE.rawValue), &raised) == 0 { limit = raised }
            if limit.rlim_cur < needed {
                logger.warning("the file descriptor limit is below --max-connections", metadata: [
                    "limit": "\(limit.rlim_cur)", "max-connections": "\(connections)",
                    "hint": "raise LimitNOFILE= in the unit (or ulimit -n) above \(needed), or lower --max-connections",
                ])
            }
        }

        private func parseListen(_ value: String) throws -> (String, Int) {
            guard let colon = value.lastIndex(of: ":"), let port = Int(value[value.index(after: colon)...]),
                  (0...65535).contains(port) else {
                throw ValidationError("--listen must be HOST:PORT, e.g. 127.0.0.1:8080 (found \"\(value)\")")
            }
            return (String(value[..<colon]), port)
        }
    }

    struct Identity: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Print the aggregator's public key (it signs receipts and heads), creating the key if needed.",
            discussion: """
                Give it to every venue node: venue-node init … --aggregator-key KEY. The private key is kept in
                DIR/aggregator.key (mode 0600). Example: aggregator identity --data-dir /var/lib/aggregator
                """)
        @OptionGroup var data: AggregatorDataOption

        func run() throws {
            try data.requireDatabase()
            let key = try KeyFile.loadOrCreate(at: URL(filePath: data.path).appending(path: "aggregator.key"))
            print(key.publicKey.rawRepresentation.base64EncodedString())
        }
    }

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
            @OptionGroup var data: AggregatorDataOption
            @Option(help: "Venue id.") var venue: String
            @Option(help: "Hours the token stays valid (at most 720).") var validHours = 24

            func run() throws {
                guard (1...720).contains(validHours) else {
                    throw ValidationError("--valid-hours must be 1 to 720")
                }
                let token = try data.open().issueEnrolmentToken(venue: venue, validFor: Int64(validHours) * 3600)
                print(token)
                FileHandle.standardError.write(Data(("one-time token for venue \(venue), valid \(validHours) h "
                    + "(id \(AggregatorDatabase.enrolmentTokenID(of: token)) in `aggregator nodes tokens`); on the node:\n"
                    + "  venue-node init --data-dir DIR --event FILE --venue \(venue) --aggregator URL --token \(token)\n").utf8))
            }
        }

        struct Add: ParsableCommand {
            static let configuration = CommandConfiguration(
                abstract: "Enrol a node: its public key may send records for a venue.",
                discussion: "Example: aggregator nodes add --data-dir DIR --venue dongsheng --public-key KEY")
            @OptionGroup var data: AggregatorDataOption
            @Option(help: "Venue id.") var venue: String
            @Option(help: "The node's public key, as printed by `venue-node init`.") var publicKey: String

            func run() throws {
                let node = try data.open().enroll(venue: venue, publicKeyBase64: publicKey)
                print("enrolled node \(node.id) for venue \(node.venue), epoch \(node.epoch)")
                if node.epoch > 1 {
                    print("the venue's earlier keys (epochs 1…\(node.epoch - 1)) can no longer send records")
                }
            }
        }

        struct List: ParsableCommand {
            static let configuration = CommandConfiguration(abstract: "List enrolled nodes and what they have sent.")
            @OptionGroup var data: AggregatorDataOption

            func run() throws {
                let database = try data.open()
                let revoked = try database.revokedNodeIDs()
                let rows = try database.nodes().map { node in
                    let cursor = try database.cursor(node: node)
                    let state = revoked.contains(node.id) ? "revoked" : try database.fence(node) == nil ? "current" : "retired"
                    return [node.venue, "\(node.epoch)", node.id, state, "\(cursor.seq)", String(cursor.hash.prefix(16)),
                            node.enrolledAt]
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
            @OptionGroup var data: AggregatorDataOption
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
                    abstract: "List enrolment tokens: id, venue, created, expires, state (unused, used, expired, revoked).",
                    discussion: "Example: aggregator nodes tokens --data-dir DIR")
                @OptionGroup var data: AggregatorDataOption

                func run() throws {
                    let now = Date()
                    let rows = try data.open().enrolmentTokens().map { token in
                        let expires = Date(timeIntervalSince1970: TimeInterval(token.expiresAt)).formatted(.iso8601)
                        let state = token.state(now: now)
                        let detail = token.usedBy.map { "node \($0)" } ?? token.revokedAt ?? ""
                        return [token.id, token.venue, token.createdAt, expires, state, detail]
                    }
                    if rows.isEmpty { print("no enrolment tokens"); return }
                    printTable(header: ["id", "venue", "created", "expires", "state", "by/at"], rows: rows)
                }
            }

            struct Revoke: ParsableCommand {
                static let configuration = CommandConfiguration(
                    abstract: "Revoke an unused enrolment token: from now on it enrols nobody (enrolment_token_revoked).",
                    discussion: """
                        ID is the id `aggregator nodes tokens` shows. A used token cannot be revoked: revoke the node it
                        enrolled. It cannot be undone: it asks for confirmation on a terminal; without one, give --yes.
                        Example: aggregator nodes tokens revoke --data-dir DIR 3f2a9c0e11d4 --reason "sent to the wrong venue"
                        """)
                @OptionGroup var data: AggregatorDataOption
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

    struct Export: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Print the running totals.",
            discussion: "Example: aggregator export tallies --data-dir DIR --csv",
            subcommands: [Tallies.self, Attendance.self, Boxes.self])

        struct Format: ParsableArguments {
            @Flag(help: "CSV for scripts and spreadsheets.") var csv = false
            @Flag(help: "JSON.") var json = false
        }

        struct Tallies: ParsableCommand {
            static let configuration = CommandConfiguration(abstract: "Marks per venue, session, department: venue,session,department,mark,count")
            @OptionGroup var data: AggregatorDataOption
            @OptionGroup var format: Format

            func run() throws {
                let (database, event) = try data.openWithEvent()
                let totals = try database.totals(eventID: event.definition.id)
                try emit(format, header: ["venue", "session", "department", "mark", "count"], json: totals.tallies,
                         rows: totals.tallies.map { [$0.venue, $0.session, $0.department, $0.mark, "\($0.count)"] })
            }
        }

        struct Attendance: ParsableCommand {
            static let configuration = CommandConfiguration(abstract: "Check-ins: venue,session,category,checked_in")
            @OptionGroup var data: AggregatorDataOption
            @OptionGroup var format: Format

            func run() throws {
                let (database, event) = try data.openWithEvent()
                let totals = try database.totals(eventID: event.definition.id)
                try emit(format, header: ["venue", "session", "category", "checked_in"], json: totals.attendance,
                         rows: totals.attendance.map { [$0.venue, $0.session, $0.category, "\($0.checkedIn)"] })
            }
        }

        struct Boxes: ParsableCommand {
            static let configuration = CommandConfiguration(
                abstract: "Boxes: venue,session,box,opened,closed,issued,returned,valid,blank,spoiled")
            @OptionGroup var data: AggregatorDataOption
            @OptionGroup var format: Format

            func run() throws {
                let (database, event) = try data.openWithEvent()
                let totals = try database.totals(eventID: event.definition.id)
                try emit(format, header: ["venue", "session", "box", "opened", "closed", "issued", "returned", "valid",
                                          "blank", "spoiled"],
                         json: totals.boxes,
                         rows: totals.boxes.map {
                             [$0.venue, $0.session, $0.box, "\($0.opened)", "\($0.closed)", "\($0.issued)",
                              "\($0.returned)", "\($0.valid)", "\($0.blank)", "\($0.spoiled)"]
                         })
            }
        }
    }

    struct Tokens: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Bearer tokens for people reading the API and the dashboard.",
            subcommands: [Add.self, List.self, Revoke.self])

        struct Add: ParsableCommand {
            static let configuration = CommandConfiguration(
                abstract: "Create a token (printed once; only its hash is kept). From the first token on, every read needs one.",
                discussion: """
                    Roles: observer (dashboard, totals, reconciliation, released results, metrics), admin.
                    Example: aggregator tokens add --data-dir DIR --role observer --name "大屏"
                    Then open http://AGGREGATOR:8080/dashboard?token=TOKEN
                    """)
            @OptionGroup var data: AggregatorDataOption
            @Option(help: "observer or admin.") var role: String
            @Option(help: "Whose token it is.") var name: String

            func validate() throws {
                guard Aggregator.Role(rawValue: role) != nil else { throw ValidationError("--role is observer or admin") }
            }

            func run() throws {
                let database = try data.open()
                let token = try database.addToken(name: name, role: Aggregator.Role(rawValue: role)!)
                print(token)
                if let id = try database.tokenID(of: token) {
                    FileHandle.standardError.write(Data("token \(id) (\(role), \(name)); revoke it with: aggregator tokens revoke --data-dir \(data.path) \(id) --reason …\n".utf8))
                }
            }
        }

        struct List: ParsableCommand {
            static let configuration = CommandConfiguration(
                abstract: "List bearer tokens: id, name, role, created, and whether revoked (never the tokens themselves).",
                discussion: "Example: aggregator tokens list --data-dir DIR")
            @OptionGroup var data: AggregatorDataOption

            func run() throws {
                let rows = try data.open().tokens().map { token in
                    ["\(token.id)", token.name, token.role, token.createdAt,
                     token.revokedAt.map { "revoked \($0): \(token.reason ?? "")" } ?? "active"]
                }
                if rows.isEmpty { print("no bearer tokens"); return }
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
            @OptionGroup var data: AggregatorDataOption
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

    struct Roster: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Import the central roster; export each venue's roster for its check-in desk.",
            subcommands: [Import.self, Export.self])

        struct Import: ParsableCommand {
            static let configuration = CommandConfiguration(
                abstract: "Import the roster CSV, whole or not at all (docs/roster.md).",
                discussion: """
                    Columns: rep_id,name,id_number,category,venue,sessions[,card_code]; UTF-8 (with or without BOM) or
                    GB18030. ID-card numbers are checked (GB 11643) and replaced by keyed hashes at once: the roster
                    secret (base64, at least 16 bytes) comes from SANMIN_ROSTER_SECRET or the file named by
                    SANMIN_ROSTER_SECRET_FILE, and is stored nowhere. Example:
                      SANMIN_ROSTER_SECRET_FILE=/etc/sanmin/roster.secret aggregator roster import --data-dir DIR roster.csv
                    """)
            @OptionGroup var data: AggregatorDataOption
            @Argument(help: "The roster CSV file.") var file: String

            func run() throws {
                let (database, event) = try data.openWithEvent()
                let bytes = try InputFile.read(file)
                let entries = try RosterCSV.parse(bytes, event: event.definition, keyer: try PersonKeyer.fromEnvironment(),
                                                  file: file)
                try database.importRoster(entries, file: URL(filePath: file).lastPathComponent,
                                          digest: SHA256.hash(data: bytes).hexString)
                print("imported \(entries.count) representative(s) from \(file)")
                let perVenue = Dictionary(grouping: entries, by: \.venue).mapValues(\.count)
                for venue in event.definition.venues {
                    print("  \(venue.id): \(perVenue[venue.id] ?? 0)")
                }
            }
        }

        struct Export: ParsableCommand {
            static let configuration = CommandConfiguration(
                abstract: "Write a venue's roster for `venue-node roster import` (person keys, no ID-card numbers).",
                discussion: "Example: aggregator roster export --data-dir DIR --venue dalate > roster-dalate.csv")
            @OptionGroup var data: AggregatorDataOption
            @Option(help: "Venue id (all venues when left out: the node then also knows who belongs elsewhere).")
            var venue: String?

            func run() throws {
                let roster = try data.open().roster().filter { venue == nil || $0.venue == venue }
                print(roster.venueCSV(), terminator: "")
            }
        }
    }

    struct Report: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Reconcile every count and compute each department's score and rank.",
            discussion: """
                Terminal tables by default (Chinese; --lang en for English), or --json, or --csv results|findings
                (UTF-8 with BOM, opens in Excel), or --html FILE (printable, with the digest of the inputs).
                Example: aggregator report --data-dir DIR --html report.html
                """)
        @OptionGroup var data: AggregatorDataOption
        @Flag(help: "Print JSON.") var json = false
        @Option(help: "Print CSV of: results, findings.") var csv: String?
        @Option(help: "Write a printable HTML report to this file.") var html: String?
        @Option(help: "Language: zh or en.") var lang = "zh"
        @Flag(help: "Terminal: also show results per venue and main/branch.") var allScopes = false
        @Flag(help: "Terminal: list every finding, attendance per category included.") var allFindings = false

        func validate() throws {
            guard ReportLanguage(rawValue: lang) != nil else { throw ValidationError("--lang is zh or en") }
            guard csv == nil || csv == "results" || csv == "findings" else {
                throw ValidationError("--csv is results or findings")
            }
        }

        func run() throws {
            let (database, event) = try data.openWithEvent()
            let report = try Aggregator.Report.build(database: database, event: event)
            let language = ReportLanguage(rawValue: lang) ?? .zh
            if let html {
                try report.html(event: event.definition, language: language)
                    .write(toFile: html, atomically: true, encoding: .utf8)
                print("wrote \(html) (input digest \(report.inputDigest))")
            } else if json {
                let encoder = JSONEncoder()
                encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
                print(String(decoding: try encoder.encode(report), as: UTF8.self))
            } else if let csv {
                print(csv == "results" ? report.resultsCSV(event: event.definition) : report.findingsCSV(), terminator: "")
            } else {
                let scopes = allScopes ? Set(report.results.map(\.scope)) : ["overall"]
                print(report.terminal(event: event.definition, language: language, scopes: scopes,
                                      allFindings: allFindings))
            }
        }
    }

    struct Results: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Release the results of a confidential event.", subcommands: [Release.self])

        struct Release: ParsableCommand {
            static let configuration = CommandConfiguration(
                abstract: "From now on the dashboard and the API show the department results (kept on record).",
                discussion: "Example: aggregator results release --data-dir DIR --by \"监督检查组 张勇\"")
            @OptionGroup var data: AggregatorDataOption
            @Option(help: "Who releases them.") var by: String

            func run() throws {
                let database = try data.open()
                if let release = try database.resultsRelease() {
                    print("the results were already released at \(release.at) by \(release.by)")
                    return
                }
                try database.releaseResults(by: by)
                print("results released by \(by)")
            }
        }
    }

    struct Alarms: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List alarms (forked chains …) with their evidence.")
        @OptionGroup var data: AggregatorDataOption

        func run() throws {
            let alarms = try data.open().alarms()
            if alarms.isEmpty { print("no alarms") }
            for alarm in alarms {
                print("#\(alarm.id ?? 0) \(alarm.raisedAt) \(alarm.kind): \(alarm.message)")
                if let evidence = alarm.evidence { print("    evidence: \(evidence)") }
            }
        }
    }

    struct Event: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Check an event file and list every issue found.",
            discussion: "Exit status 0 when the event is usable (warnings only), 1 otherwise. "
                + "Example: aggregator event --event examples/ordos-2021/event.json")
        @Option(help: "The event file.") var event: String

        func run() throws {
            do {
                let loaded = try EventDefinition.load(contentsOf: URL(filePath: event))
                let definition = loaded.definition
                print("\(definition.id): \(definition.title)")
                print("  \(definition.departments.count) departments in \(definition.groups.count) groups, "
                    + "\(definition.sessions.count) sessions, \(definition.venues.count) venues, "
                    + "\(definition.categories.count) categories, \(definition.quotas.count) quota columns")
                for warning in loaded.warnings { print("  \(warning)") }
                print(loaded.warnings.isEmpty ? "no issues" : "\(loaded.warnings.count) warning(s)")
            } catch let error as EventLoadError {
                print(error.description)
                throw ExitCode.failure
            }
        }
    }
}

private func emit(_ format: AggregatorCommand.Export.Format, header: [String], json: some Encodable,
                  rows: [[String]]) throws {
    if format.json {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        print(String(decoding: try encoder.encode(json), as: UTF8.self))
    } else if format.csv {
        print(CSVWriter.line(header))
        for row in rows { print(CSVWriter.line(row)) }
    } else {
        printTable(header: header, rows: rows)
    }
}

/// Prints rows as an aligned table for people.
func printTable(header: [String], rows: [[String]]) {
    func width(_ text: String) -> Int {
        text.unicodeScalars.reduce(0) { $0 + ($1.properties.isEmojiPresentation || $1.value >= 0x1100 ? 2 : 1) }
    }
    var widths = header.map(width)
    for row in rows { for (index, field) in row.enumerated() { widths[index] = max(widths[index], width(field)) } }
    for row in [header] + rows {
        print(row.enumerated().map { index, field in
            field + String(repeating: " ", count: widths[index] - width(field))
        }.joined(separator: "  "))
    }
}

/// Asks before something that cannot be undone: with `yes`, goes ahead; on a terminal, asks y/N; without a
/// terminal (a script) refuses, so that nothing irreversible happens by accident.
func confirm(_ action: String, yes: Bool) throws {
    if yes { return }
    guard isatty(STDIN_FILENO) == 1 else {
        throw AggregatorError("not confirmed: this would \(action), which cannot be undone. There is no terminal to ask "
            + "on: add --yes to go ahead")
    }
    FileHandle.standardError.write(Data("\(action)? This cannot be undone. [y/N] ".utf8))
    let answer = (readLine() ?? "").trimmingCharacters(in: .whitespaces).lowercased()
    guard answer == "y" || answer == "yes" else {
        throw AggregatorError("not confirmed: nothing was revoked")
    }
}
