import DaemonSupport
import Foundation
import PostgresNIO

/// The rate limit's token buckets in the database the aggregators share (migration v4): a client's requests count
/// against one bucket whichever aggregator they reach. One statement a request, timed by the database's clock, on
/// connections of the rate limit's own.
extension PostgresStore: RateBuckets {
    public func take(_ client: String, limit: RateLimit) async throws -> Double? {
        try await offload { [rateConnections] in
            try rateConnections.withSession { session in
                // The bucket refilled since its last use (capped at the burst), then a token taken if there is one.
                let refilled = "LEAST($2, b.tokens + EXTRACT(EPOCH FROM clock_timestamp() - b.updated) * $3)"
                var binds = PostgresBindings()
                binds.append(client)
                binds.append(limit.burst)
                binds.append(limit.perSecond)
                let row = try session.rows(
                    PostgresQuery(
                        unsafeSQL: """
                            INSERT INTO rateBucket AS b (client, tokens, updated, taken)
                            VALUES ($1, $2 - 1, clock_timestamp(), true)
                            ON CONFLICT (client) DO UPDATE SET
                                tokens = CASE WHEN \(refilled) >= 1 THEN \(refilled) - 1 ELSE \(refilled) END,
                                taken = \(refilled) >= 1,
                                updated = clock_timestamp()
                            RETURNING tokens, taken
                            """, binds: binds)
                ).first
                // Now and then, buckets idle for an hour are dropped (full again long since).
                if UInt8.random(in: 0...255) == 0 {
                    try session.execute("DELETE FROM rateBucket WHERE updated < clock_timestamp() - interval '1 hour'")
                }
                guard let row, try !row[1].decode(Bool.self) else { return nil }
                let tokens = try row[0].decode(Double.self)
                return (1 - tokens) / max(limit.perSecond, 0.001)
            }
        }
    }
}
