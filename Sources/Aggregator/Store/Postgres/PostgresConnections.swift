import Dispatch
import Foundation
import Logging
import NIOCore
import NIOPosix
import PostgresNIO
import Synchronization

/// Where a PostgreSQL database is, from a `postgres://user[:password]@host[:port]/database` address (no TLS: the
/// database is on the aggregators' own network; `?sslmode=require` asks for TLS).
public struct PostgresLocation: Sendable, CustomStringConvertible {
    public var host: String
    public var port: Int
    public var user: String
    public var password: String?
    public var database: String
    public var requireTLS: Bool

    /// Without a password in the address, `PGPASSWORD` from the environment (as psql reads it: keep it in the unit's
    /// `EnvironmentFile=`, mode 0600, rather than on a command line, where `ps` shows it).
    public init(url: String) throws {
        let components = URLComponents(string: url)
        // An address is quoted in refusals without its password.
        var quoted = components
        if quoted?.password != nil { quoted?.password = "…" }
        let shown = quoted?.string ?? "(an address that cannot be read)"
        guard let components, components.scheme == "postgres" || components.scheme == "postgresql",
            let host = components.host, !host.isEmpty, let user = components.user, !user.isEmpty
        else {
            throw AggregatorError(
                "\"\(shown)\" is not a PostgreSQL address: write postgres://USER[:PASSWORD]@HOST[:PORT]/DATABASE")
        }
        let database = String(components.path.drop { $0 == "/" })
        guard !database.isEmpty, !database.contains("/") else {
            throw AggregatorError("\"\(shown)\" names no database: write postgres://USER@HOST:PORT/DATABASE")
        }
        let mode = components.queryItems?.first { $0.name == "sslmode" }?.value ?? "disable"
        guard ["disable", "require"].contains(mode) else {
            throw AggregatorError("sslmode \"\(mode)\" is not supported here: use disable or require")
        }
        self.host = host
        self.port = components.port ?? 5432
        self.user = user
        self.password = components.password ?? ProcessInfo.processInfo.environment["PGPASSWORD"]
        self.database = database
        self.requireTLS = mode == "require"
    }

    /// The address without its password.
    public var description: String { "postgres://\(user)@\(host):\(port)/\(database)" }

    func configuration() throws -> PostgresConnection.Configuration {
        let tls: PostgresConnection.Configuration.TLS =
            requireTLS ? .require(try .init(configuration: .makeClientConfiguration())) : .disable
        return .init(host: host, port: port, username: user, password: password, database: database, tls: tls)
    }
}

/// A few open connections to one PostgreSQL database, used blocking from the threads `offload` runs work on, as the
/// SQLite store's calls are: a call takes an idle connection (or opens one, up to `limit` at once) and puts it back.
/// A connection that failed is closed and dropped; the next call opens another.
final class PostgresConnections: Sendable {
    let location: PostgresLocation
    private let configuration: PostgresConnection.Configuration
    private let logger: Logger
    private let idle = Mutex<[PostgresConnection]>([])
    private let slots: DispatchSemaphore
    private let nextID = Atomic<Int>(1)

    init(location: PostgresLocation, limit: Int = 8, logger: Logger) throws {
        self.location = location
        var configuration = try location.configuration()
        // The server gives up first (before the client's `statementTimeout`), so that no lock stays held for a
        // connection the client abandoned: a statement, a lock wait, a transaction left idle.
        configuration.options.additionalStartupParameters = [
            ("statement_timeout", "25s"), ("lock_timeout", "20s"), ("idle_in_transaction_session_timeout", "60s"),
        ]
        self.configuration = configuration
        self.logger = logger
        self.slots = DispatchSemaphore(value: limit)
    }

    /// Runs `body` on one connection (blocking; not on an event loop or a task's thread).
    func withSession<T>(_ body: (PostgresSession) throws -> T) throws -> T {
        slots.wait()
        defer { slots.signal() }
        // An idle connection the server closed meanwhile (a restart) is dropped, not used.
        let kept = idle.withLock { idle -> PostgresConnection? in
            while let connection = idle.popLast() {
                if !connection.isClosed { return connection }
            }
            return nil
        }
        let connection = try kept ?? open()
        do {
            let result = try body(PostgresSession(connection: connection, logger: logger))
            idle.withLock { $0.append(connection) }
            return result
        } catch {
            if connection.isClosed {
                // Dropped; the next call opens another.
            } else {
                idle.withLock { $0.append(connection) }
            }
            throw error
        }
    }

    /// How a transaction sees the others.
    enum Isolation: String {
        /// Each statement sees what was committed before it: after a lock is granted, what its last holder stored.
        /// Set explicitly, whatever the database's default.
        case readCommitted = "READ COMMITTED"
        /// One snapshot for the whole transaction, nothing written (reads that must agree with each other).
        case snapshot = "REPEATABLE READ READ ONLY"
    }

    /// Runs `body` in one transaction, committed when it returns, rolled back when it throws. With `locking`, the
    /// transaction first takes the lock of that name (`pg_advisory_xact_lock`): two transactions naming the same lock,
    /// on any aggregator sharing the database, run one after the other, and (READ COMMITTED) the second sees what the
    /// first stored.
    func withTransaction<T>(
        locking name: String? = nil, isolation: Isolation = .readCommitted, _ body: (PostgresSession) throws -> T
    ) throws -> T {
        try withSession { session in
            try session.execute(PostgresQuery(unsafeSQL: "BEGIN ISOLATION LEVEL " + isolation.rawValue))
            do {
                if let name {
                    try session.execute("SELECT pg_advisory_xact_lock(hashtextextended(\(name), 0))")
                }
                let result = try body(session)
                try session.execute("COMMIT")
                return result
            } catch {
                do {
                    try session.execute("ROLLBACK")
                } catch {
                    // A connection that cannot roll back is not put back.
                    try? session.connection.close().wait()
                }
                throw error
            }
        }
    }

    deinit {
        // Not waited for: the last reference may go on any thread, an event loop's among them.
        for connection in idle.withLock({ $0 }) {
            let closing: EventLoopFuture<Void> = connection.close()
            // Held until closed (a connection must not go before it is closed).
            closing.whenComplete { _ in withExtendedLifetime(connection) {} }
        }
    }

    /// Closes the idle connections (those in use close as they come back failed, or at exit).
    func close() {
        let connections = idle.withLock { idle in
            defer { idle = [] }
            return idle
        }
        for connection in connections { try? connection.close().wait() }
    }

    private func open() throws -> PostgresConnection {
        do {
            return try PostgresConnection.connect(
                on: MultiThreadedEventLoopGroup.singleton.next(), configuration: configuration,
                id: nextID.add(1, ordering: .relaxed).oldValue, logger: logger
            ).wait()
        } catch {
            throw AggregatorError("cannot connect to PostgreSQL at \(location): \(String(reflecting: error))")
        }
    }
}

/// One connection, used blocking for a while.
struct PostgresSession {
    let connection: PostgresConnection
    let logger: Logger

    /// How long a statement may take before the connection is given up (closed, so that the server rolls back what
    /// it held). A merge's statements take milliseconds; a lock is held for one merge. A server that went away while a
    /// statement waited was seen to leave its answer pending for ever: this bounds it.
    static let statementTimeout: TimeAmount = .seconds(30)

    @discardableResult
    func execute(_ query: PostgresQuery) throws -> PostgresQueryResult {
        let eventLoop = connection.eventLoop
        let answer = eventLoop.makePromise(of: PostgresQueryResult.self)
        connection.query(query, logger: logger).cascade(to: answer)
        let deadline = eventLoop.scheduleTask(in: Self.statementTimeout) {
            answer.fail(PostgresFailure(timedOutAfter: Self.statementTimeout))
        }
        defer { deadline.cancel() }
        do {
            return try answer.futureResult.wait()
        } catch let error as PSQLError {
            throw PostgresFailure(error)
        } catch let error as PostgresFailure {
            // The connection is not used again.
            try? connection.close().wait()
            throw error
        }
    }

    /// The rows a query answers.
    func rows(_ query: PostgresQuery) throws -> [PostgresRandomAccessRow] {
        try execute(query).rows.map { $0.makeRandomAccess() }
    }

    /// The first column of the first row, if any (nil also for SQL NULL).
    func value<T: PostgresDecodable>(_ query: PostgresQuery, as type: T.Type = T.self) throws -> T? {
        guard let row = try rows(query).first else { return nil }
        return row[0].bytes == nil ? nil : try row[0].decode(T.self)
    }

    /// The first column of every row.
    func column<T: PostgresDecodable>(_ query: PostgresQuery, as type: T.Type = T.self) throws -> [T] {
        try rows(query).map { try $0[0].decode(T.self) }
    }

    /// Each row of `sql` (no bound values), fetched `batch` at a time through a cursor: what is held does not grow with
    /// the rows. Inside a transaction only (a cursor lives as long as its transaction); `each` may run other statements
    /// on this session between rows.
    func forEachRow(_ sql: String, batch: Int = 5_000, _ each: (PostgresRandomAccessRow) throws -> Void) throws {
        try execute(PostgresQuery(unsafeSQL: "DECLARE sanmin_rows NO SCROLL CURSOR FOR " + sql))
        while true {
            let rows = try rows(PostgresQuery(unsafeSQL: "FETCH FORWARD \(batch) FROM sanmin_rows"))
            for row in rows { try each(row) }
            if rows.count < batch { break }
        }
        try execute("CLOSE sanmin_rows")
    }
}

/// What PostgreSQL answered to a statement that failed: its SQLSTATE and message (never the statement's values, which
/// may be personal data).
public struct PostgresFailure: Error, CustomStringConvertible {
    /// The SQLSTATE (`40001`: a serialization failure; `23505`: a unique key violated), nil when the connection failed.
    public var sqlState: String?
    public var description: String

    init(description: String) {
        sqlState = nil
        self.description = description
    }

    init(timedOutAfter timeout: TimeAmount) {
        sqlState = nil
        description =
            "PostgreSQL did not answer within \(timeout.nanoseconds / 1_000_000_000) s; the connection was closed"
    }

    init(_ error: PSQLError) {
        sqlState = error.serverInfo?[.sqlState]
        if let message = error.serverInfo?[.message] {
            description = "PostgreSQL refused a statement (\(sqlState ?? "?")): \(message)"
        } else {
            description = "the connection to PostgreSQL failed (\(error.code))"
        }
    }
}
