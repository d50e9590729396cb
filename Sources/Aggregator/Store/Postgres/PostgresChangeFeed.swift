import DaemonSupport
import Foundation
import Logging
import NIOCore
import NIOPosix
import PostgresNIO
import ServiceLifecycle
import Synchronization

/// Changes made through any aggregator sharing the database, told to every one of them (issue #20): each merge, and
/// each act of the office (through an aggregator or a command), sends a notification on `channel` in its own
/// transaction (PostgreSQL delivers it on commit, never for one rolled back), and `publish` sends one for what an
/// aggregator takes in besides (heartbeats, enrolments). Every aggregator
/// listens on its own connection and tells its dashboards (`DashboardHub`, which coalesces over 100 ms): a batch
/// committed through one aggregator reaches the dashboards attached to another within a second. The dashboards' state
/// is built from the report cache, whose key is read from the shared database, so the same notification also makes
/// the cached report be built again.
///
/// While the listening connection is down (a database restart), it is opened again every second, and the dashboards
/// are told once it listens again (anything may have changed meanwhile). A listening connection is checked every
/// 10 s, so one that went silent is noticed.
public final class PostgresChangeFeed: ChangePublisher, Service {
    static let channel = "sanmin_changes"

    private let store: PostgresStore
    private let hub: DashboardHub
    private let logger: Logger

    public init(store: PostgresStore, hub: DashboardHub, logger: Logger) {
        self.store = store
        self.hub = hub
        self.logger = logger
    }

    /// A notification is being sent; `again`: another publish came meanwhile, so one more follows it.
    private let sending = Mutex<(busy: Bool, again: Bool)>((false, false))

    /// Tells this aggregator's dashboards at once, and the others' through the database: one notification at a time
    /// (those asked for meanwhile become one more), so that a burst of heartbeats, or a database that does not
    /// answer, never piles up waiting connections.
    public func publish() {
        hub.publish()
        let start = sending.withLock { state -> Bool in
            if state.busy {
                state.again = true
                return false
            }
            state.busy = true
            return true
        }
        guard start else { return }
        let store = self.store
        Task {
            while true {
                do {
                    try await offload { try store.notifyChange() }
                } catch {
                    // The other aggregators' dashboards learn of it with the next change, or when their connection is
                    // back.
                    self.logger.warning("could not notify the other aggregators", metadata: ["error": "\(error)"])
                }
                let more = self.sending.withLock { state -> Bool in
                    if state.again {
                        state.again = false
                        return true
                    }
                    state.busy = false
                    return false
                }
                if !more { return }
            }
        }
    }

    public func run() async throws {
        try? await cancelWhenGracefulShutdown { [self] in
            while !Task.isCancelled {
                do {
                    try await listenOnce()
                } catch is CancellationError {
                    return
                } catch {
                    logger.warning(
                        "listening for other aggregators' changes failed; trying again in a second",
                        metadata: ["error": "\(String(reflecting: error))"])
                }
                try await Task.sleep(for: .seconds(1))
            }
        }
    }

    /// One listening connection, until it fails or the service is cancelled.
    private func listenOnce() async throws {
        let connection = try await PostgresConnection.connect(
            on: MultiThreadedEventLoopGroup.singleton.next(), configuration: try store.location.configuration(),
            id: 0, logger: logger)
        defer { connection.close().whenComplete { _ in withExtendedLifetime(connection) {} } }
        try await connection.listen(on: Self.channel) { notifications in
            hub.publish()
            try await withThrowingTaskGroup(of: Void.self) { group in
                group.addTask {
                    for try await _ in notifications { self.hub.publish() }
                    throw PostgresFailure.listenEnded
                }
                group.addTask {
                    while true {
                        try await Task.sleep(for: .seconds(10))
                        try await Self.check(connection)
                    }
                }
                try await group.next()
                group.cancelAll()
            }
        }
    }

    /// A statement on the listening connection answered within 5 s, else an error.
    private static func check(_ connection: PostgresConnection) async throws {
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { _ = try await connection.query("SELECT 1", logger: Logger(label: "listen-check")).get() }
            group.addTask {
                try await Task.sleep(for: .seconds(5))
                throw PostgresFailure(timedOutAfter: .seconds(5))
            }
            try await group.next()
            group.cancelAll()
        }
    }
}

extension PostgresFailure {
    static let listenEnded = PostgresFailure(description: "the listening connection ended")
}

extension PostgresStore {
    /// Tells every aggregator listening that something changed.
    func notifyChange() throws {
        try connections.withSession { session in try Self.notifyChange(session) }
    }

    /// Tells every aggregator listening that something changed, when `session`'s transaction commits.
    static func notifyChange(_ session: PostgresSession) throws {
        try session.execute("SELECT pg_notify(\(PostgresChangeFeed.channel), '')")
    }
}
