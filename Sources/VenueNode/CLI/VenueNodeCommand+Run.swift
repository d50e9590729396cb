import ArgumentParser
import DaemonSupport
import Foundation
import Logging
import ServiceLifecycle
import Shared

extension VenueNodeCommand {
    struct Run: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Run as a daemon: keep syncing, backing off while the aggregator is unreachable, until SIGTERM.",
            discussion: """
                Under systemd (Type=notify) it says READY=1 once the store is open, pings the watchdog at half of
                WatchdogSec and says STOPPING=1 on shutdown. It locks the data directory (DIR/.lock) while it runs:
                a second `run` on the same directory stops at once, naming the process that holds it. Options can come from a file: --config FILE, with
                lines such as "data-dir = /var/lib/venue-node" (see deploy/venue-node.conf).
                With --desk-listen HOST:PORT it also serves the clerks' desk (http://HOST:PORT/desk, plain HTTP for
                the venue's LAN) and prints "desk listening on HOST:PORT" once bound (port 0 picks a free port).
                The same listener serves the phone ballot box (/vote, docs/voting.md); with --vote-listen HOST:PORT
                the ballot box has a listener of its own instead (say, on the representatives' Wi-Fi only) and
                prints "vote listening on HOST:PORT".
                Example: venue-node run --data-dir /var/lib/venue-node --desk-listen 0.0.0.0:8081
                """)

        @OptionGroup var data: DataDirectoryOption
        @Option(help: "Seconds between syncs when all is well.") var interval = 5
        @Option(help: "Longest wait between retries, in seconds.") var maxBackoff = 300
        @Option(help: "Serve the clerks' desk (a browser page, plain HTTP) on HOST:PORT; off unless given.")
        var deskListen: String?
        @Option(help: "Serve the phone ballot box (/vote) on HOST:PORT of its own, and not on the desk's listener.")
        var voteListen: String?
        @Option(
            help: "Serve this node's chain to its standbys (venue-node standby allow) on HOST:PORT; off unless given.")
        var standbyListen: String?
        @OptionGroup var logging: LoggingOptions

        func validate() throws {
            if let deskListen, DeskServer.parseListen(deskListen) == nil {
                throw ValidationError("--desk-listen must be HOST:PORT, e.g. 0.0.0.0:8081 (found \"\(deskListen)\")")
            }
            if let standbyListen, DeskServer.parseListen(standbyListen) == nil {
                throw ValidationError(
                    "--standby-listen must be HOST:PORT, e.g. 0.0.0.0:8083 (found \"\(standbyListen)\")")
            }
            if let voteListen, DeskServer.parseListen(voteListen) == nil {
                throw ValidationError("--vote-listen must be HOST:PORT, e.g. 0.0.0.0:8082 (found \"\(voteListen)\")")
            }
        }

        func run() async throws {
            // One daemon per data directory, for the life of this process (a second one stops here).
            guard FileManager.default.fileExists(atPath: data.url.appending(path: "node.json").path) else {
                _ = try data.open()  // says what is missing
                return
            }
            let lock = try DataDirectoryLock(directory: data.path, program: "venue-node run")
            defer { withExtendedLifetime(lock) {} }
            let (directory, database) = try data.open()
            if let role = try database.standbyRole(), role.following {
                throw CommandFailure(
                    "this node is a standby following \(role.primaryURL ?? "a primary"): run `venue-node follow`, or "
                        + "`venue-node promote` it if the primary is gone")
            }
            var logger = logging.logger("venue-node")
            logger[metadataKey: "venue.id"] = "\(directory.configuration.venue)"
            logger[metadataKey: "node.id"] = "\(directory.configuration.nodeID)"
            let health = SyncHealth()
            let service = SyncService(
                syncer: Syncer(directory: directory, database: database, logger: logger),
                interval: .seconds(interval), maxBackoff: .seconds(maxBackoff), logger: logger, health: health)
            let watchdog = WatchdogService(notifier: SystemdNotifier())
            var services: [any Service] = [
                service, watchdog, WALCheckpointService(databasePath: directory.databasePath, logger: logger),
            ]
            let venue = DeskVenue(
                event: directory.event, venue: directory.configuration.venue, syncInterval: interval, health: health)
            if deskListen != nil || voteListen != nil {
                // The desk and the ballot box read from the ledger tables: bring them to the head once, now.
                try database.prepareLedger()
            }
            if let deskListen, let (host, port) = DeskServer.parseListen(deskListen) {
                services.append(
                    DeskServer.application(
                        database: database, venue: venue, host: host, port: port, logger: logger,
                        voting: voteListen == nil,
                        onServerRunning: { port in
                            print("desk listening on \(host):\(port)")
                            fflush(nil)
                        }))
            }
            if let voteListen, let (host, port) = DeskServer.parseListen(voteListen) {
                services.append(
                    DeskServer.voteApplication(
                        database: database, venue: venue, host: host, port: port, logger: logger,
                        onServerRunning: { port in
                            print("vote listening on \(host):\(port)")
                            fflush(nil)
                        }))
            }
            if let standbyListen, let (host, port) = DeskServer.parseListen(standbyListen) {
                services.append(
                    StandbyServer.application(
                        database: database, directory: directory, host: host, port: port, logger: logger,
                        onServerRunning: { port in
                            print("standby listening on \(host):\(port)")
                            fflush(nil)
                        }))
            }
            let group = ServiceGroup(
                configuration: .init(
                    services: services, gracefulShutdownSignals: [.sigterm, .sigint], logger: logger))
            // The store is open: under systemd (Type=notify) the unit is now started.
            watchdog.ready()
            try await group.run()
        }
    }
}
