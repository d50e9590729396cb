import ArgumentParser
import DaemonSupport
import Foundation
import Hummingbird
import Logging
import NIOCore
import Shared

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
        @OptionGroup var identity: IdentityKeyOption
        @Option(
            help: ArgumentHelp(
                "Keep the event in this PostgreSQL database, shared with the other aggregators given it (postgres://USER[:PASSWORD]@HOST[:PORT]/DATABASE; needs --identity-key). Serves nodes, the dashboard, totals and reports: see docs/scale.md.",
                valueName: "url"))
        var database: String?
        @Option(help: "The event file (JSON, see docs/event-format.md).") var event: String
        @Option(help: "HOST:PORT to listen on.") var listen = "127.0.0.1:8080"
        @Option(help: "Largest request body, in bytes.") var maxBodyBytes = 8 << 20
        @Option(help: "Serve HTTPS: the certificate chain (PEM). Needs --tls-key.") var tlsCert: String?
        @Option(help: "Serve HTTPS: the certificate's private key (PEM).") var tlsKey: String?
        @Option(help: "Requests per second allowed per client address (0: no limit).") var rateLimit: Double = 20
        @Option(help: "Requests a client may make at once before the rate applies.") var rateBurst: Double = 100
        @Option(help: "Hours a signed request stays valid (node clocks may be off by this much).")
        var signatureMaxAgeHours = 168
        @Option(
            help: "Seconds a client has to send a request's head (from connecting, or from the request's first byte).")
        var headerTimeout: Double = 10
        @Option(help: "Seconds a client has to send a request's body, from the end of its head.")
        var bodyTimeout: Double = 60
        @Option(help: "Seconds a kept-alive connection may stay idle between requests.")
        var idleTimeout: Double = 75
        @Option(help: "Connections one client address (IPv4, or IPv6 /64) may hold open; more are closed at once.")
        var maxConnectionsPerClient = 64
        @Option(help: "Connections held open in all; more are closed at once (keep LimitNOFILE= above it).")
        var maxConnections = 2_048
        @Option(
            help: ArgumentHelp(
                "A reverse proxy (ADDR or ADDR/PREFIX) whose X-Forwarded-For names the client, for the rate limit; repeatable.",
                valueName: "addr"))
        var trustedProxy: [String] = []
        @OptionGroup var logging: LoggingOptions

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
            for (name, value) in [
                ("--header-timeout", headerTimeout), ("--body-timeout", bodyTimeout),
                ("--idle-timeout", idleTimeout),
            ] where !(0.1...3_600).contains(value) {
                throw ValidationError("\(name) must be 0.1 to 3600 seconds (found \(value))")
            }
            guard maxConnectionsPerClient >= 1, maxConnections >= maxConnectionsPerClient else {
                throw ValidationError(
                    "--max-connections-per-client must be at least 1 and --max-connections at "
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
            if database != nil, identity.file == nil {
                throw AggregatorError(
                    "--database needs --identity-key FILE: every aggregator sharing the database signs as one, with "
                        + "the same key file (docs/scale.md); nothing was done")
            }
            // One serve per data directory, for the life of this process (a second one stops here).
            try FileManager.default.createDirectory(
                at: URL(filePath: data.path), withIntermediateDirectories: true,
                attributes: [.posixPermissions: 0o700])
            let lock = try DataDirectoryLock(directory: data.path, program: "aggregator serve")
            defer { withExtendedLifetime(lock) {} }
            var logger = logging.logger("aggregator")
            logger[metadataKey: "event.id"] = "\(loaded.definition.id)"
            for warning in loaded.warnings {
                logger.warning("event file contradicts itself", metadata: ["issue": "\(warning)"])
            }
            let key = try identity.key(dataDirectory: data.path)
            let settings = AggregatorSettings(
                host: host, port: port, maxBodyBytes: maxBodyBytes,
                rateLimit: rateLimit > 0 ? .init(perSecond: rateLimit, burst: rateBurst) : nil,
                tls: tlsCert.map { .init(certificateChain: $0, privateKey: tlsKey ?? "") },
                connectionLimits: .init(perClient: maxConnectionsPerClient, total: maxConnections),
                deadlines: .init(
                    header: .nanoseconds(Int64(headerTimeout * 1e9)),
                    body: .nanoseconds(Int64(bodyTimeout * 1e9)),
                    idle: .nanoseconds(Int64(idleTimeout * 1e9))),
                trustedProxies: try TrustedProxies(parsing: trustedProxy))
            Self.raiseFileLimit(for: maxConnections, logger: logger)
            let connections = ConnectionLimiter(
                limits: settings.connectionLimits,
                trustedProxies: settings.trustedProxies)
            // The watchdog is pinged only while the server still takes connections and answers.
            let selfCheck = SelfCheck(host: host, tls: settings.tls != nil, connections: connections, logger: logger)
            let watchdog = WatchdogService(notifier: SystemdNotifier(), healthCheck: { await selfCheck.run() })
            let onServerRunning: @Sendable (Int) async -> Void = { [tls = settings.tls != nil] port in
                selfCheck.serverRunning(port: port)
                print("listening on \(host):\(port)" + (tls ? " (https)" : ""))
                fflush(nil)
                // The socket is bound: under systemd (Type=notify) the unit is now started.
                watchdog.ready()
            }
            if let database {
                let store = try await Self.connect(database, logger: logger)
                let json = try InputFile.read(event)
                try await offload { try store.install(event: loaded, json: json) }
                logger.notice(
                    "serving the event from the PostgreSQL database the aggregators share",
                    metadata: ["database": "\(store.location)"])
                let intake = Intake(
                    database: store, event: loaded.definition, signingKey: key,
                    maxSignatureAge: Int64(signatureMaxAgeHours) * 3600)
                let app = try buildSharedApplication(
                    intake: intake, settings: settings, logger: logger, services: [watchdog],
                    connections: connections, onServerRunning: onServerRunning)
                try await app.runService()
                try await offload { store.close() }
                return
            }
            let database = try data.open(create: true)
            try database.install(event: loaded, json: InputFile.read(event))
            let intake = BatchIntake(
                database: database, event: loaded.definition, signingKey: key,
                maxSignatureAge: Int64(signatureMaxAgeHours) * 3600)
            if try !database.hasTokens() {
                logger.warning(
                    """
                    no bearer token exists: nobody can read totals or the dashboard until one is made \
                    (aggregator tokens add --role observer)
                    """)
            }
            let app = try buildApplication(
                intake: intake, settings: settings,
                logger: logger,
                services: [watchdog, WALCheckpointService(databasePath: data.databasePath, logger: logger)],
                connections: connections, onServerRunning: onServerRunning)
            try await app.runService()
        }

        /// The shared database, waited for up to a minute while it cannot be reached or is starting (a database
        /// restarted, or the machines booting together), as a node waits for the aggregator. A refusal that waiting
        /// cannot change (a database migrated by a newer release, a bad address) stops at once.
        static func connect(_ url: String, logger: Logger) async throws -> PostgresStore {
            let deadline = ContinuousClock.now + .seconds(60)
            while true {
                do {
                    return try await offload { try PostgresStore(url: url, logger: logger) }
                } catch let error as AggregatorError where !error.description.hasPrefix("cannot connect") {
                    throw error
                } catch {
                    guard ContinuousClock.now < deadline else { throw error }
                    logger.warning("waiting for PostgreSQL", metadata: ["error": "\(error)"])
                    try await Task.sleep(for: .seconds(1))
                }
            }
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
                logger.warning(
                    "the file descriptor limit is below --max-connections",
                    metadata: [
                        "limit": "\(limit.rlim_cur)", "max-connections": "\(connections)",
                        "hint":
                            "raise LimitNOFILE= in the unit (or ulimit -n) above \(needed), or lower --max-connections",
                    ])
            }
        }

        private func parseListen(_ value: String) throws -> (String, Int) {
            guard let colon = value.lastIndex(of: ":"), let port = Int(value[value.index(after: colon)...]),
                (0...65535).contains(port)
            else {
                throw ValidationError("--listen must be HOST:PORT, e.g. 127.0.0.1:8080 (found \"\(value)\")")
            }
            return (String(value[..<colon]), port)
        }
    }
}
