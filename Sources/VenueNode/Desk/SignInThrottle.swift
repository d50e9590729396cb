import Foundation
import Synchronization

/// Limits failed sign-ins per client (issue #14): at most `maxFailures` failures within any `window` seconds; once
/// a client has that many, its sign-ins are refused, without looking at the code, until the oldest of them is
/// `window` seconds old. In memory only (a restart forgets it); the desk keys it by client address.
///
///     if let wait = throttle.retryAfter(client) { refuse, with Retry-After: wait }
///     do { session = try database.signIn(code: code); throttle.reset(client) }
///     catch is SignInError { throttle.recordFailure(client); refuse }
public final class SignInThrottle: Sendable {
    public let maxFailures: Int
    public let window: TimeInterval
    /// The most clients remembered at once: beyond it, clients whose failures are all older than `window` are
    /// forgotten first, then the clients with the oldest last failure.
    public let maxClients: Int
    private let failures = Mutex<[String: [Date]]>([:])

    public init(maxFailures: Int = 5, window: TimeInterval = 300, maxClients: Int = 10_000) {
        precondition(maxFailures >= 1 && window > 0 && maxClients >= 1)
        self.maxFailures = maxFailures
        self.window = window
        self.maxClients = maxClients
    }

    /// Seconds until `client` may try again (rounded up), or nil when it may try now.
    public func retryAfter(_ client: String, now: Date = Date()) -> TimeInterval? {
        failures.withLock { failures in
            let recent = (failures[client] ?? []).filter { now.timeIntervalSince($0) < window }
            guard recent.count >= maxFailures, let oldest = recent.min() else { return nil }
            return max(1, (window - now.timeIntervalSince(oldest)).rounded(.up))
        }
    }

    /// Whether `client` may try to sign in now.
    public func allows(_ client: String, now: Date = Date()) -> Bool { retryAfter(client, now: now) == nil }

    /// A failed sign-in of `client`.
    public func recordFailure(_ client: String, now: Date = Date()) {
        failures.withLock { failures in
            var recent = (failures[client] ?? []).filter { now.timeIntervalSince($0) < window }
            recent.append(now)
            // Only the newest `maxFailures` matter: the oldest of them decides when the client may try again.
            failures[client] = Array(recent.suffix(maxFailures))
            if failures.count > maxClients { Self.forget(&failures, keeping: maxClients, now: now, window: window) }
        }
    }

    /// A successful sign-in of `client`: its failures are forgotten.
    public func reset(_ client: String) {
        _ = failures.withLock { $0.removeValue(forKey: client) }
    }

    /// How many clients are remembered.
    public var clients: Int { failures.withLock { $0.count } }

    private static func forget(_ failures: inout [String: [Date]], keeping limit: Int, now: Date, window: TimeInterval)
    {
        failures = failures.filter { _, dates in dates.contains { now.timeIntervalSince($0) < window } }
        guard failures.count > limit else { return }
        let oldestFirst = failures.sorted { ($0.value.last ?? .distantPast) < ($1.value.last ?? .distantPast) }
        for (client, _) in oldestFirst.prefix(failures.count - limit) { failures.removeValue(forKey: client) }
    }
}
