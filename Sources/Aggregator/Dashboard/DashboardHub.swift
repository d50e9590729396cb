import Foundation
import Hummingbird
import Logging
import ServiceLifecycle
import Shared

/// Pushes the dashboard's state to every open Server-Sent Events stream whenever the aggregator
/// accepts something (coalesced over 100 ms, so well within a second), with a keep-alive comment
/// every 15 s. Each event carries the whole state and an increasing id: a client that reconnects with
/// `Last-Event-ID` gets the current state at once, so it misses nothing.
public actor DashboardHub: Service {
    private let database: AggregatorDatabase
    private let logger: Logger
    private var subscribers: [UUID: AsyncStream<ByteBuffer>.Continuation] = [:]
    private var eventID = 0
    private var pending = false
    private var shuttingDown = false
    /// Frame builds started, and the newest of them broadcast: builds run off the actor and may finish out of
    /// order, and an older state is never broadcast after a newer one.
    private var buildsStarted = 0
    private var newestBroadcast = 0

    public init(database: AggregatorDatabase, logger: Logger) {
        self.database = database
        self.logger = logger
    }

    /// Something changed: send the new state soon.
    public nonisolated func publish() {
        Task { await self.schedule() }
    }

    private func schedule() {
        guard !pending, !subscribers.isEmpty else { return }
        pending = true
        Task {
            try? await Task.sleep(for: .milliseconds(100))
            await self.broadcast()
        }
    }

    private func broadcast() async {
        pending = false
        buildsStarted += 1
        let build = buildsStarted
        guard let frame = await makeFrame(), build > newestBroadcast else { return }
        newestBroadcast = build
        for continuation in subscribers.values { continuation.yield(frame) }
    }

    /// The state as an SSE frame, built off the actor's thread (a build reads the database).
    private func makeFrame() async -> ByteBuffer? {
        do {
            let database = self.database
            guard
                let json = try await offload({ () -> String? in
                    guard let event = try database.installedEvent() else { return nil }
                    return try JSONCoding.string(try DashboardState.build(database: database, event: event))
                })
            else { return nil }
            eventID += 1
            return ByteBuffer(string: "id: \(eventID)\nevent: state\ndata: \(json)\n\n")
        } catch {
            logger.error("dashboard state failed", metadata: ["error": "\(error)"])
            return nil
        }
    }

    /// A stream of SSE frames: the current state first, then every update.
    public func subscribe() async -> AsyncStream<ByteBuffer> {
        let (stream, continuation) = AsyncStream.makeStream(of: ByteBuffer.self, bufferingPolicy: .bufferingNewest(4))
        if shuttingDown {
            continuation.finish()
            return stream
        }
        let id = UUID()
        subscribers[id] = continuation
        continuation.onTermination = { _ in Task { await self.unsubscribe(id) } }
        continuation.yield(ByteBuffer(string: "retry: 2000\n\n"))
        buildsStarted += 1
        let build = buildsStarted
        // Unless a broadcast built after this one has reached the new subscriber already.
        if let frame = await makeFrame(), build > newestBroadcast { continuation.yield(frame) }
        return stream
    }

    private func unsubscribe(_ id: UUID) {
        subscribers[id] = nil
    }

    public func run() async throws {
        try? await cancelWhenGracefulShutdown {
            while true {
                try await Task.sleep(for: .seconds(15))
                await self.keepAlive()
            }
        }
        // Graceful shutdown: end every stream so the server can close its connections.
        shuttingDown = true
        for continuation in subscribers.values { continuation.finish() }
        subscribers = [:]
    }

    private func keepAlive() {
        for continuation in subscribers.values { continuation.yield(ByteBuffer(string: ": keep-alive\n\n")) }
    }
}
