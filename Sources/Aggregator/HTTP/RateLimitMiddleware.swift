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

/// Limits requests per client address with a token bucket: `burst` requests at once, refilled at
/// `perSecond`. Over the limit: `429 rate_limited` with `Retry-After` (nodes back off and retry).
/// `/healthz` is not limited.
public struct RateLimitMiddleware<Context: RemoteAddressRequestContext>: RouterMiddleware {
    final class Buckets: Sendable {
        struct Bucket {
            var tokens: Double
            var updated: ContinuousClock.Instant
        }

        let state = Mutex<[String: Bucket]>([:])

        /// Takes a token for `client`; returns the seconds to wait when there is none.
        func take(_ client: String, limit: RateLimit, now: ContinuousClock.Instant = .now) -> Double? {
            state.withLock { buckets in
                if buckets.count > 10_000 { buckets = buckets.filter { now - $0.value.updated < .seconds(60) } }
                var bucket = buckets[client] ?? Bucket(tokens: limit.burst, updated: now)
                let elapsed = now - bucket.updated
                let seconds = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
                bucket.tokens = min(limit.burst, bucket.tokens + seconds * limit.perSecond)
                bucket.updated = now
                defer { buckets[client] = bucket }
                guard bucket.tokens >= 1 else { return (1 - bucket.tokens) / limit.perSecond }
                bucket.tokens -= 1
                return nil
            }
        }
    }

    let limit: RateLimit
    let buckets = Buckets()

    public init(limit: RateLimit) { self.limit = limit }

    public func handle(_ request: Request, context: Context,
                       next: (Request, Context) async throws -> Response) async throws -> Response {
        guard request.uri.path != "/healthz" else { return try await next(request, context) }
        let client = context.remoteAddress?.ipAddress ?? "unknown"
        if let wait = buckets.take(client, limit: limit) {
            var response = try APIError(.tooManyRequests, .rateLimited,
                                        "too many requests from \(client); retry after \(Int(wait.rounded(.up))) s")
                .response(from: request, context: context)
            response.headers[.retryAfter] = "\(max(1, Int(wait.rounded(.up))))"
            return response
        }
        return try await next(request, context)
    }
}
