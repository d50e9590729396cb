import Foundation
import Shared

/// Compares the aggregator's published key (`GET /v1/identity`, open to anyone) with the key a node was
/// given, before anything that cannot be taken back: an enrolment uses up its one-time token and retires
/// the venue's previous node, so a mistyped `--aggregator-key` must be caught first, not after.
public struct IdentityCheck: Sendable {
    public var baseURL: String
    public var client: CurlHTTPClient

    public init(baseURL: String, client: CurlHTTPClient) {
        self.baseURL = baseURL.hasSuffix("/") ? String(baseURL.dropLast()) : baseURL
        self.client = client
    }

    public enum Outcome: Sendable, Equatable {
        /// The aggregator publishes exactly the expected key.
        case matches
        /// It could not be asked (unreachable, or an aggregator that does not publish its key): the enrolment
        /// answer's key is still compared afterwards.
        case unknown(String)
    }

    /// Throws `SyncError` (not retryable) when the aggregator publishes another key than `expected`.
    public func verify(expected: String) async throws -> Outcome {
        let reply: HTTPReply
        do {
            reply = try await client.send(method: "GET", url: baseURL + "/v1/identity")
        } catch let error as TransportError {
            return .unknown("cannot reach the aggregator at \(baseURL): \(error.message)")
        }
        guard reply.status == 200, let identity = try? JSONDecoder().decode(AggregatorIdentity.self, from: reply.body)
        else {
            return .unknown("the aggregator at \(baseURL) does not publish its key (HTTP \(reply.status))")
        }
        guard identity.aggregatorKey == expected else {
            throw SyncError(
                message: "the aggregator at \(baseURL) has the key \(identity.aggregatorKey), not the "
                    + "--aggregator-key this node was given (\(expected)): check the key (`aggregator identity --data-dir "
                    + "DIR` at the central office) and the URL. Nothing was enrolled: the token is still unused and the "
                    + "venue's current node stays in place", retryable: false)
        }
        return .matches
    }
}
