import HummingbirdCore
import Logging
import NIOCore
import NIOHTTPTypes
import Synchronization

/// How many connections the aggregator holds open: per client (`ClientAddress.key` of the TCP peer) and
/// in all. A connection over either cap is closed as soon as it is accepted.
public struct ConnectionLimits: Sendable, Equatable {
    public var perClient: Int
    public var total: Int

    public init(perClient: Int, total: Int) {
        self.perClient = perClient
        self.total = total
    }

    /// 64 per client (a venue node uses one or two, a browser six), 2,048 in all.
    public static let `default` = ConnectionLimits(perClient: 64, total: 2_048)
}

/// How long a connection may take for each part of a request (slowloris: a client that sends a request
/// a byte at a time, or never finishes it, holds a connection and a file descriptor for nothing).
public struct ConnectionDeadlines: Sendable, Equatable {
    /// From the connection's opening, or from the first byte of the next request on a kept-alive
    /// connection, until the request's head (request line and headers) is complete.
    public var header: TimeAmount
    /// From the head until the body is complete.
    public var body: TimeAmount
    /// From the end of a response until the first byte of the next request (keep-alive).
    public var idle: TimeAmount

    public init(header: TimeAmount, body: TimeAmount, idle: TimeAmount) {
        self.header = header
        self.body = body
        self.idle = idle
    }

    /// 10 s for the head, 60 s for the body, 75 s idle between requests.
    public static let `default` = ConnectionDeadlines(header: .seconds(10), body: .seconds(60), idle: .seconds(75))
}

/// Counts open connections per client and in all, and admits a new one only below both caps.
/// Peers that are trusted proxies carry many clients: they count only toward the total.
public final class ConnectionLimiter: Sendable {
    public let limits: ConnectionLimits
    let trustedProxies: TrustedProxies

    private struct State {
        var total = 0
        var perClient: [String: Int] = [:]
    }

    private let state = Mutex(State())
    /// Refusals and slow requests are logged at most once a second (an attack must not flood the journal).
    private let lastLogged = Mutex<ContinuousClock.Instant?>(nil)

    public init(limits: ConnectionLimits = .default, trustedProxies: TrustedProxies = .none) {
        self.limits = limits
        self.trustedProxies = trustedProxies
    }

    /// Connections open now.
    public var open: Int { state.withLock { $0.total } }

    /// Whether another connection would be admitted (from a client with none open).
    public var hasRoom: Bool { open < limits.total }

    /// Admits a connection from `peer`: its key for `release`, or nil when a cap is reached.
    func admit(_ peer: SocketAddress?) -> String? {
        let key = trustedProxies.contains(peer) ? nil : ClientAddress.key(peer)
        return state.withLock { state in
            guard state.total < limits.total else { return nil }
            if let key {
                guard state.perClient[key, default: 0] < limits.perClient else { return nil }
                state.perClient[key, default: 0] += 1
            }
            state.total += 1
            return key ?? ""
        }
    }

    /// Whether a refusal or a slow request may be logged now.
    func logDue() -> Bool {
        lastLogged.withLock { last in
            let now = ContinuousClock.now
            if let last, now - last < .seconds(1) { return false }
            last = now
            return true
        }
    }

    func release(_ key: String) {
        state.withLock { state in
            state.total -= 1
            guard !key.isEmpty, let count = state.perClient[key] else { return }
            state.perClient[key] = count > 1 ? count - 1 : nil
        }
    }
}

/// Sent down the pipeline when bytes arrive, before they are decoded: the start of a request's head.
struct RequestBytesArrived: Sendable {}

/// First in a connection's pipeline (before TLS): admits the connection or closes it at once, releases
/// its place when it closes, and announces arriving bytes to `RequestDeadlineHandler`.
final class ConnectionAdmissionHandler: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = ByteBuffer
    typealias InboundOut = ByteBuffer

    private let limiter: ConnectionLimiter
    private let logger: Logger
    private var decided = false
    private var admittedKey: String?

    init(limiter: ConnectionLimiter, logger: Logger) {
        self.limiter = limiter
        self.logger = logger
    }

    func handlerAdded(context: ChannelHandlerContext) {
        if context.channel.isActive { admit(context: context) }
    }

    func channelActive(context: ChannelHandlerContext) {
        admit(context: context)
        context.fireChannelActive()
    }

    private func admit(context: ChannelHandlerContext) {
        guard !decided else { return }
        decided = true
        let peer = context.channel.remoteAddress
        admittedKey = limiter.admit(peer)
        if admittedKey == nil {
            if limiter.logDue() {
                logger.notice(
                    "connection refused: too many open",
                    metadata: [
                        "client": "\(ClientAddress.key(peer))", "connections.open": "\(limiter.open)",
                    ])
            }
            context.close(promise: nil)
        }
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        guard admittedKey != nil else { return }  // refused: closing, nothing is read
        context.fireUserInboundEventTriggered(RequestBytesArrived())
        context.fireChannelRead(data)
    }

    func channelInactive(context: ChannelHandlerContext) {
        release()
        context.fireChannelInactive()
    }

    func handlerRemoved(context: ChannelHandlerContext) { release() }

    private func release() {
        guard let key = admittedKey else { return }
        admittedKey = nil
        limiter.release(key)
    }
}

/// After HTTP decoding: closes a connection whose request head is not complete in time, whose body does
/// not arrive in time, or that stays idle too long between requests. While a response is being written
/// there is no deadline: the dashboard's event stream (`/v1/events`) lives as long as the client likes.
final class RequestDeadlineHandler: ChannelDuplexHandler, RemovableChannelHandler {
    typealias InboundIn = HTTPRequestPart
    typealias InboundOut = HTTPRequestPart
    typealias OutboundIn = HTTPResponsePart
    typealias OutboundOut = HTTPResponsePart

    enum Phase: String {
        /// The connection opened or a new request began: its head must be complete by the header deadline.
        case head
        /// The head is in: the body (or the request's end) must come by the body deadline.
        case body
        /// The request is in and its response is not finished: no deadline.
        case responding
        /// Every response is finished: the next request must begin by the idle deadline.
        case idle
    }

    private let deadlines: ConnectionDeadlines
    private let limiter: ConnectionLimiter
    private let logger: Logger
    private var phase = Phase.head
    /// Requests whose head arrived and whose response has not ended.
    private var unanswered = 0
    private var started = false
    private var timer: Scheduled<Void>?

    init(deadlines: ConnectionDeadlines, limiter: ConnectionLimiter, logger: Logger) {
        self.deadlines = deadlines
        self.limiter = limiter
        self.logger = logger
    }

    func handlerAdded(context: ChannelHandlerContext) {
        if context.channel.isActive { start(context: context) }
    }

    func channelActive(context: ChannelHandlerContext) {
        start(context: context)
        context.fireChannelActive()
    }

    private func start(context: ChannelHandlerContext) {
        guard !started else { return }
        started = true
        enter(.head, context: context)
    }

    func handlerRemoved(context: ChannelHandlerContext) { cancelTimer() }

    func channelInactive(context: ChannelHandlerContext) {
        cancelTimer()
        context.fireChannelInactive()
    }

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        guard event is RequestBytesArrived else { return context.fireUserInboundEventTriggered(event) }
        if phase == .idle { enter(.head, context: context) }
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        switch unwrapInboundIn(data) {
        case .head:
            unanswered += 1
            enter(.body, context: context)
        case .body:
            break
        case .end:
            // Answered already (a refusal before the body): idle; otherwise the response is under way.
            enter(unanswered == 0 ? .idle : .responding, context: context)
        }
        context.fireChannelRead(data)
    }

    func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
        if case .end = unwrapOutboundIn(data) {
            unanswered = max(0, unanswered - 1)
            if unanswered == 0 && phase == .responding { enter(.idle, context: context) }
        }
        context.write(data, promise: promise)
    }

    private func enter(_ phase: Phase, context: ChannelHandlerContext) {
        self.phase = phase
        cancelTimer()
        let limit: TimeAmount? =
            switch phase {
            case .head: deadlines.header
            case .body: deadlines.body
            case .idle: deadlines.idle
            case .responding: nil
            }
        guard let limit else { return }
        timer = context.eventLoop.assumeIsolated().scheduleTask(in: limit) { [weak self] in
            guard let self, self.phase == phase else { return }
            self.timer = nil
            if phase != .idle, self.limiter.logDue() {
                self.logger.notice(
                    "connection closed: request too slow",
                    metadata: [
                        "client": "\(ClientAddress.key(context.channel.remoteAddress))", "phase": "\(phase.rawValue)",
                    ])
            }
            context.close(promise: nil)
        }
    }

    private func cancelTimer() {
        timer?.cancel()
        timer = nil
    }
}

/// A child channel (HTTP/1.1, possibly inside TLS) with `ConnectionAdmissionHandler` first in its pipeline.
struct GuardedChildChannel<Base: ServerChildChannel>: ServerChildChannel {
    typealias Value = Base.Value

    let base: Base
    let limiter: ConnectionLimiter

    func setup(channel: any Channel, logger: Logger) -> EventLoopFuture<Value> {
        do {
            try channel.pipeline.syncOperations.addHandler(ConnectionAdmissionHandler(limiter: limiter, logger: logger))
        } catch {
            return channel.eventLoop.makeFailedFuture(error)
        }
        return base.setup(channel: channel, logger: logger)
    }

    func handle(value: Value, logger: Logger) async {
        await base.handle(value: value, logger: logger)
    }
}
