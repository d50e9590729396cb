import Foundation

/// Runs blocking work (a database read or write through GRDB's synchronous API) on a thread of its own, so
/// an HTTP handler awaits it instead of holding one of the few threads that serve every connection. Used by
/// the aggregator's controllers and the venue desk.
public func offload<T: Sendable>(_ work: @escaping @Sendable () throws -> T) async throws -> T {
    try await withCheckedThrowingContinuation { continuation in
        DispatchQueue.global().async { continuation.resume(with: Result { try work() }) }
    }
}
