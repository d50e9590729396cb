import Foundation
import Hummingbird
import NIOCore
import Shared
import Synchronization

/// A request rate: `burst` at once, refilled at `perSecond`.
public struct RateLimit: Sendable, Equatable {
    public var perSecond: Double
    public var burst: Double

    public init(perSecond: Double, burst: Double) {
        self.perSecond = perSecond
        self.burst = burst
    }

    /// Generous for a venue's node and a dashboard, tight for a flood: 20 per second, bursts of 100.
    public static let `default` = RateLimit(perSecond: 20, burst: 100)
}

/// Where the rate limit keeps its buckets: in the process (`RateLimitMiddleware.Buckets`, one aggregator), or in the
/// database several aggregators share (`PostgresStore`'s), so that a client is limited across all of them.
public protocol RateBuckets: Sendable {
    /// Takes a token for `client`; returns the seconds to wait when there is none.
    func take(_ client: String, limit: RateLimit) async throws -> Double?
}

/// Limits requests per client address with a token bucket: `burst` requests at once, refilled at
/// `perSecond`. Behind a trusted proxy the client is read from `X-Forwarded-For` (`TrustedProxies`). Over the limit: `429 rate_limited` with `Retry-After` (nodes back off and retry).
/// `/healthz` is not limited.
public struct RateLimitMiddleware<Context: RemoteAddressRequestContext>: RouterMiddleware {
    final class Buckets: RateBuckets {
        struct Bucket {
            var tokens: Double
            var updated: ContinuousClock.Instant
        }

        struct State {
            var buckets: [String: Bucket] = [:]
            var pruned = ContinuousClock.now
        }

        /// Most clients tracked one by one; beyond it (after forgetting idle ones) new clients share one bucket.
        static var maxClients: Int { 10_000 }
        let state = Mutex(State())

        /// Takes a token for `client`; returns the seconds to wait when there is none.
        func take(_ client: String, limit: RateLimit) -> Double? {
            takeNow(client, limit: limit)
        }

        private func takeNow(_ client: String, limit: RateLimit) -> Double? {
            state.withLock { state in
                let now = ContinuousClock.now
                if state.buckets.count >= Self.maxClients, now - state.pruned > .seconds(1) {
                    // A bucket idle long enough to be full again carries nothing worth keeping.
                    let idle = Duration.seconds(limit.burst / max(limit.perSecond, 0.001))
                    state.buckets = state.buckets.filter { now - $0.value.updated < idle }
                    state.pruned = now
                }
                let key = state.buckets[client] != nil || state.buckets.count < Self.maxClients ? client : "overflow"
                var bucket = state.buckets[key] ?? Bucket(tokens: limit.burst, updated: now)
                let elapsed = max(.zero, now - bucket.updated)
                let seconds = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
                bucket.tokens = min(limit.burst, bucket.tokens + seconds * limit.perSecond)
                bucket.updated = now
                defer { state.buckets[key] = bucket }
                guard bucket.tokens >= 1 else { return (1 - bucket.tokens) / limit.perSecond }
                bucket.tokens -= 1
                return nil
            }
        }
    }

    /// The client a request counts against: its IPv4 address, or the /64 network of an IPv6 address
    /// (`ClientAddress.key`).
    static func client(_ address: SocketAddress?) -> String { ClientAddress.key(address) }

    let limit: RateLimit
    let trustedProxies: TrustedProxies
    let buckets = Buckets()
    let shared: (any RateBuckets)?

    /// `trustedProxies`: peers whose `X-Forwarded-For` names the client (from anyone else it is ignored); `shared`:
    /// buckets several aggregators share (the database's), asked once this process's own buckets let a request
    /// through, so that a flood is turned away without asking the database.
    public init(limit: RateLimit, trustedProxies: TrustedProxies = .none, shared: (any RateBuckets)? = nil) {
        self.limit = limit
        self.trustedProxies = trustedProxies
        self.shared = shared
    }

    public func handle(
        _ request: Request, context: Context,
        next: (Request, Context) async throws -> Response
    ) async throws -> Response {
        guard request.uri.path != "/healthz" else { return try await next(request, context) }
        let client = trustedProxies.client(
            peer: context.remoteAddress,
            forwardedFor: request.headers[values: .xForwardedFor])
        // Shared buckets that cannot be asked do not stop the request: what it needs from the store fails on its own.
        var wait = buckets.take(client, limit: limit)
        if wait == nil, let shared { wait = try? await shared.take(client, limit: limit) }
        if let wait {
            var response = try APIError(
                .tooManyRequests, .rateLimited,
                "too many requests from \(client); retry after \(Int(wait.rounded(.up))) s"
            )
            .response(from: request, context: context)
            response.headers[.retryAfter] = "\(max(1, Int(wait.rounded(.up))))"
            return response
        }
        return try await next(request, context)
    }
}
