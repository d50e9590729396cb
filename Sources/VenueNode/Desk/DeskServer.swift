import Foundation
import Hummingbird
import Logging
import NIOCore
import Shared
import Synchronization

/// The desk's request context: the basic one, the peer's address (the sign-in throttle counts by it), and the
/// clerk signed in by the request's session cookie, which `DeskSessionMiddleware` fills in before any route runs.
public struct DeskRequestContext: RequestContext, RemoteAddressRequestContext {
    public var coreContext: CoreRequestContextStorage
    public let remoteAddress: SocketAddress?
    /// The session cookie's token and its clerk, when the cookie names a session still in force.
    public var session: (token: String, clerk: SignedInClerk)?

    public init(source: ApplicationRequestContextSource) {
        coreContext = .init(source: source)
        remoteAddress = source.channel.remoteAddress
    }

    /// Who the sign-in throttle counts this request against: the peer's IP address.
    var clientKey: String { remoteAddress?.ipAddress ?? "unknown" }
}

/// What the desk knows of its venue besides the database: the event, the venue, how often the node syncs (to say
/// when it is offline), and where the secret for ID-card numbers comes from.
public struct DeskVenue: Sendable {
    public var event: LoadedEvent
    public var venue: String
    /// Seconds between sync rounds (the node is shown offline when none succeeded for three of them).
    public var syncInterval: Int
    /// The daemon's sync rounds (nil: no daemon syncs, the node is shown offline).
    public var health: SyncHealth?
    public var keyer: @Sendable () throws -> PersonKeyer

    public init(
        event: LoadedEvent, venue: String, syncInterval: Int = 10, health: SyncHealth? = nil,
        keyer: @escaping @Sendable () throws -> PersonKeyer = { try PersonKeyer.fromEnvironment() }
    ) {
        self.event = event
        self.venue = venue
        self.syncInterval = syncInterval
        self.health = health
        self.keyer = keyer
    }
}

/// The check-in desk over the roster in force, indexed once per roster import (a new import is picked up at the
/// next check-in).
final class DeskRosterCache: Sendable {
    private let cached = Mutex<(importID: Int64, desk: CheckinDesk)?>(nil)

    func desk(_ database: NodeDatabase, venue: DeskVenue) throws -> CheckinDesk {
        let importID = try database.rosterImportID()
        if let hit = cached.withLock({ $0 }), hit.importID == importID { return hit.desk }
        let desk = CheckinDesk(
            event: venue.event.definition, venue: venue.venue, roster: try database.roster(), keyer: venue.keyer)
        cached.withLock { $0 = (importID, desk) }
        return desk
    }
}

/// `venue-node run --desk-listen HOST:PORT`: the clerks' desk in a browser (issue #14), plain HTTP on the venue's
/// LAN. One more service of `run`'s group: it stops with the daemon.
public enum DeskServer {
    /// Parses `HOST:PORT` (port 0 picks a free port).
    public static func parseListen(_ value: String) -> (host: String, port: Int)? {
        guard let colon = value.lastIndex(of: ":"), let port = Int(value[value.index(after: colon)...]),
            (0...65535).contains(port), colon > value.startIndex
        else { return nil }
        return (String(value[..<colon]), port)
    }

    /// The desk's routes over `database` (see `DeskController`) and, with `voting`, the phone ballot box's
    /// (`VoteController`, issue #16).
    public static func router(
        database: NodeDatabase, venue: DeskVenue, throttle: SignInThrottle = SignInThrottle(), voting: Bool = true,
        voteThrottle: SignInThrottle = voteThrottle()
    ) -> Router<DeskRequestContext> {
        let router = Router(context: DeskRequestContext.self)
        router.add(middleware: DeskErrorMiddleware())
        router.add(middleware: DeskSessionMiddleware(database: database))
        DeskController(database: database, throttle: throttle, venue: venue, rosters: DeskRosterCache())
            .addRoutes(to: router)
        if voting { VoteController(database: database, venue: venue, throttle: voteThrottle).addRoutes(to: router) }
        return router
    }

    /// The phone ballot box's routes alone, for its own listener (`--vote-listen`).
    public static func voteRouter(
        database: NodeDatabase, venue: DeskVenue, throttle: SignInThrottle = voteThrottle()
    ) -> Router<DeskRequestContext> {
        let router = Router(context: DeskRequestContext.self)
        router.add(middleware: DeskErrorMiddleware())
        VoteController(database: database, venue: venue, throttle: throttle).addRoutes(to: router)
        return router
    }

    /// Wrong voting codes a phone may send: 10 within 5 minutes, then it waits (a mistyped code or two is usual; a
    /// guesser is slowed to a crawl against 80-bit codes).
    public static func voteThrottle() -> SignInThrottle { SignInThrottle(maxFailures: 10, window: 300) }

    /// The desk's HTTP application on `host`:`port` (with the phone ballot box unless `voting` is false);
    /// `onServerRunning` is told the port actually bound.
    public static func application(
        database: NodeDatabase, venue: DeskVenue, host: String, port: Int, logger: Logger, voting: Bool = true,
        onServerRunning: @escaping @Sendable (Int) async -> Void = { _ in }
    ) -> some ApplicationProtocol {
        Application(
            router: router(database: database, venue: venue, voting: voting),
            configuration: .init(address: .hostname(host, port: port), serverName: "sanmin-venue-desk"),
            onServerRunning: { channel in await onServerRunning(channel.localAddress?.port ?? port) },
            logger: logger)
    }

    /// The phone ballot box alone on `host`:`port` (`--vote-listen`).
    public static func voteApplication(
        database: NodeDatabase, venue: DeskVenue, host: String, port: Int, logger: Logger,
        onServerRunning: @escaping @Sendable (Int) async -> Void = { _ in }
    ) -> some ApplicationProtocol {
        Application(
            router: voteRouter(database: database, venue: venue),
            configuration: .init(address: .hostname(host, port: port), serverName: "sanmin-venue-vote"),
            onServerRunning: { channel in await onServerRunning(channel.localAddress?.port ?? port) },
            logger: logger)
    }
}
