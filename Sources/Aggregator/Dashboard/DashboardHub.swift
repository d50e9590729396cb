import DaemonSupport
import Foundation
import Hummingbird
import Logging
import ServiceLifecycle
import Shared

/// Told when the aggregator took in something its readers should see (the dashboard's streams).
public protocol ChangePublisher: Sendable {
    func publish()
}

/// Pushes the dashboard's state to every open Server-Sent Events stream whenever the aggregator
/// accepts something (coalesced over 100 ms, so well within a second), with a keep-alive comment
/// every 15 s. Each event carries the whole state and an increasing id: a client that reconnects with
/// `Last-Event-ID` gets the current state at once, so it misses nothing.
public actor DashboardHub: Service, ChangePublisher {
    private let database: any AggregatorStore
    private let logger: Logger
    private var subscribers: [UUID: Subscriber] = [:]
    private var eventID = 0
    /// A broadcast is scheduled (coalescing the changes of the next 100 ms).
    private var pending = false
    /// A broadcast's state is being built; `dirty`: something changed meanwhile, so another follows it.
    private var building = false
    private var dirty = false
    private var shuttingDown = false
    /// Frame builds started. Builds run off the actor and a new subscriber's first frame may finish before or
    /// after a broadcast: each subscriber is sent a frame only if it was started after the last one it got, so
    /// nobody is shown an older state after a newer one.
    private var buildsStarted = 0

    private struct Subscriber {
        var continuation: AsyncStream<ByteBuffer>.Continuation
        var newestBuild = 0
    }

    public init(database: any AggregatorStore, logger: Logger) {
        self.database = database
        self.logger = logger
    }

    /// Something changed: send the new state soon.
    public nonisolated func publish() {
        Task { await self.schedule() }
    }

    private func schedule() {
        guard !subscribers.isEmpty else { return }
        if building {
            dirty = true
            return
        }
        guard !pending else { return }
        pending = true
        Task {
            try? await Task.sleep(for: .milliseconds(100))
            await self.broadcast()
        }
    }

    /// Builds the state once (one build at a time) and sends it to every subscriber.
    private func broadcast() async {
        pending = false
        building = true
        buildsStarted += 1
        let build = buildsStarted
        let frame = await makeFrame()
        building = false
        if let frame {
            for id in subscribers.keys { deliver(frame, build: build, to: id) }
        }
        if dirty {
            dirty = false
            schedule()
        }
    }

    private func deliver(_ frame: ByteBuffer, build: Int, to id: UUID) {
        guard let subscriber = subscribers[id], build > subscriber.newestBuild else { return }
        subscribers[id]?.newestBuild = build
        subscriber.continuation.yield(frame)
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
        subscribers[id] = Subscriber(continuation: continuation)
        continuation.onTermination = { _ in Task { await self.unsubscribe(id) } }
        continuation.yield(ByteBuffer(string: "retry: 2000\n\n"))
        buildsStarted += 1
        let build = buildsStarted
        if let frame = await makeFrame() { deliver(frame, build: build, to: id) }
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
        for subscriber in subscribers.values { subscriber.continuation.finish() }
        subscribers = [:]
    }

    private func keepAlive() {
        for subscriber in subscribers.values {
            subscriber.continuation.yield(ByteBuffer(string: ": keep-alive\n\n"))
        }
    }
}
