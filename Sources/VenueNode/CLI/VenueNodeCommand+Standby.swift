import ArgumentParser
import DaemonSupport
import Foundation
import ServiceLifecycle
import Shared

extension VenueNodeCommand {
    /// The primary's side: which standbys may copy its chain.
    struct Standby: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Allow a standby laptop to copy this node's chain (run it with --standby-listen).",
            discussion: """
                On the primary: allow the standby's public key (`venue-node init` on the standby prints it), then
                run the daemon with --standby-listen. See docs/operations.md. Examples:
                  venue-node standby allow --data-dir /var/lib/venue-node --key BASE64
                  venue-node standby list --data-dir /var/lib/venue-node
                """,
            subcommands: [Allow.self, List.self])

        struct Allow: ParsableCommand {
            static let configuration = CommandConfiguration(abstract: "Allow a standby's key.")
            @OptionGroup var data: DataDirectoryOption
            @Option(help: "The standby's public key (base64).") var key: String

            func run() throws {
                let (_, database) = try data.open()
                let nodeID = try database.allowStandby(publicKey: key)
                print("standby \(nodeID) may copy this node's chain (venue-node run --standby-listen HOST:PORT)")
            }
        }

        struct List: ParsableCommand {
            static let configuration = CommandConfiguration(
                abstract: "The standbys allowed and how far each has copied.")
            @OptionGroup var data: DataDirectoryOption
            @Flag(help: "Print JSON.") var json = false

            func run() throws {
                let (_, database) = try data.open()
                let standbys = try database.standbys()
                if json {
                    print(try JSONCoding.string(standbys, .pretty))
                    return
                }
                let head = try database.head().seq
                if standbys.isEmpty { print("no standby allowed") }
                for standby in standbys {
                    print(
                        "\(standby.nodeID) "
                            + (standby.heldSeq.map { "holds \($0) of \(head), last asked \(standby.lastAt ?? "?")" }
                                ?? "has not asked yet"))
                }
            }
        }
    }

    /// The standby's side: copy the primary's chain until promoted.
    struct Follow: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Run as the venue's standby: copy the primary's chain over the LAN until promoted.",
            discussion: """
                On a second laptop, after `venue-node init` for the same venue (a new key; the primary allows it with
                `venue-node standby allow`). Every copied page must be signed by the primary's key and continue this
                copy's chain hash by hash. The token (from `aggregator nodes enroll`, valid for the whole event) is
                kept for `venue-node promote`: the promoted standby enrols with it at its first sync, as the venue's
                next epoch, even if the aggregator is out of reach when it is promoted. Example:
                  venue-node follow --data-dir /var/lib/venue-node --primary http://10.0.0.2:8083 --primary-key BASE64 --token sme_…
                Under systemd: deploy/venue-node-follow.service reads its options from /etc/sanmin/venue-node-follow.conf.
                """)

        @OptionGroup var data: DataDirectoryOption
        @Option(help: "The primary's --standby-listen address, http://HOST:PORT.") var primary: String
        @Option(help: "The primary's public key (base64; `venue-node init` printed it).") var primaryKey: String
        @Option(help: "An enrolment token for this venue, used when this standby is promoted.") var token: String?
        @Option(help: "Seconds between copies.") var interval = 1
        @OptionGroup var logging: LoggingOptions

        func run() async throws {
            guard primary.hasPrefix("http://") || primary.hasPrefix("https://") else {
                throw ValidationError("--primary must be http://HOST:PORT (found \"\(primary)\")")
            }
            let lock = try DataDirectoryLock(directory: data.path, program: "venue-node follow")
            defer { withExtendedLifetime(lock) {} }
            let (directory, database) = try data.open()
            let follower = try StandbyFollower(
                directory: directory, database: database, primaryURL: primary, primaryKey: primaryKey)
            guard NodeIdentity.nodeID(for: follower.primaryKey) != directory.configuration.nodeID else {
                throw CommandFailure("--primary-key is this node's own key: give the primary's")
            }
            try database.follow(primaryURL: primary, primaryKey: primaryKey)
            if let token {
                try EnrolmentToken.keep(token, in: directory)
            }
            let logger = logging.logger("venue-node.follow")
            print(
                "following \(primary) as the standby of venue \(directory.configuration.venue); node \(directory.configuration.nodeID)"
            )
            fflush(nil)
            // Under systemd (deploy/venue-node-follow.service, Type=notify): ready once the store is open, and the
            // watchdog pinged while it runs.
            let watchdog = WatchdogService(notifier: SystemdNotifier())
            let group = ServiceGroup(
                configuration: .init(
                    services: [
                        FollowService(follower: follower, interval: .seconds(interval), logger: logger), watchdog,
                    ],
                    gracefulShutdownSignals: [.sigterm, .sigint], logger: logger))
            watchdog.ready()
            try await group.run()
        }
    }

    /// The standby becomes the venue's node.
    struct Promote: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Make this standby the venue's node, once the primary is gone.",
            discussion: """
                Refused while the primary still answers at its address: two nodes recording for one venue would fork
                its chain. Stop the primary (or take it off the network) first. Then start this node as the venue's
                (`venue-node run`, systemctl start venue-node): its first sync enrols with the token given to
                `follow` as the venue's next epoch, which retires the primary's key at the aggregator, and sends what
                the aggregator does not hold yet. Numbering continues from the last record copied. See
                docs/operations.md. Example:
                  venue-node promote --data-dir /var/lib/venue-node
                """)

        @OptionGroup var data: DataDirectoryOption
        @Flag(help: "Promote even though the primary still answers (it must then never record again).")
        var primaryStillAnswers = false
        @OptionGroup var logging: LoggingOptions

        func run() async throws {
            let (directory, database) = try data.open()
            guard let role = try database.standbyRole(), role.following, let url = role.primaryURL,
                let key = role.primaryKey
            else {
                throw CommandFailure("this node is not a standby following a primary: nothing to promote")
            }
            let follower = try StandbyFollower(
                directory: directory, database: database, primaryURL: url, primaryKey: key)
            if let head = await follower.primaryHead() {
                guard primaryStillAnswers else {
                    throw CommandFailure(
                        "the primary at \(url) still answers (its chain ends at record \(head)): promoting now would "
                            + "give the venue two nodes and fork its chain. Stop the primary (systemctl stop venue-node "
                            + "on it) or take it off the network, then promote; nothing was done")
                }
                // Last copy of what it holds, so that nothing it recorded is left behind.
                _ = try? await follower.copy()
            }
            // With the aggregator in reach: enrol now, and take what the old primary sent that this copy lacks, so
            // the chain continues from the venue's true head. Out of reach: the first sync enrols (docs/operations.md).
            var token = EnrolmentToken.kept(in: directory)
            let hadToken = token != nil
            if let kept = token {
                let syncer = Syncer(
                    directory: directory, database: database,
                    client: directory.httpClient(connectTimeout: 3, totalTimeout: 20),
                    logger: logging.logger("venue-node.promote"))
                do {
                    let response = try await syncer.enrol(token: kept)
                    EnrolmentToken.used(in: directory)
                    token = nil
                    print("enrolled as node \(response.node) for venue \(response.venue), epoch \(response.epoch)")
                    let missing = try await syncer.recordsBeyondHead()
                    if !missing.isEmpty {
                        try database.replicate(missing)
                        print(
                            "took records \(missing.first!.seq)…\(missing.last!.seq) from the aggregator (sent by the old "
                                + "primary, never copied here)")
                    }
                } catch let error as TransportError {
                    print("the aggregator is out of reach now (\(error)): this node enrols at its first sync")
                } catch let error as SyncError where error.retryable {
                    print("the aggregator is out of reach now (\(error.message)): this node enrols at its first sync")
                }
            }
            let head = try database.promote()
            print(
                "promoted: this node is now venue \(directory.configuration.venue)'s node, holding records 1…\(head.seq); "
                    + "the next record is \(head.seq + 1)")
            if token != nil {
                print(
                    "its first sync enrols with the kept token as the venue's next epoch (retiring the old primary's key)"
                )
            } else if !hadToken {
                print("no token was kept: enrol it first (venue-node enroll --token …, from aggregator nodes enroll)")
            }
            print("start it: venue-node run --data-dir \(data.path) (systemctl start venue-node)")
        }
    }
}

/// An enrolment token kept in the data directory (mode 0600) until the node has enrolled with it.
enum EnrolmentToken {
    static func url(_ directory: NodeDirectory) -> URL { directory.url.appending(path: "enrolment.token") }

    static func keep(_ token: String, in directory: NodeDirectory) throws {
        let url = url(directory)
        _ = FileManager.default.createFile(
            atPath: url.path, contents: Data((token + "\n").utf8), attributes: [.posixPermissions: 0o600])
    }

    static func kept(in directory: NodeDirectory) -> String? {
        (try? String(contentsOf: url(directory), encoding: .utf8))?.trimmingCharacters(in: .whitespacesAndNewlines)
    }

    static func used(in directory: NodeDirectory) {
        try? FileManager.default.removeItem(at: url(directory))
    }
}
