import Foundation
import Metrics
import Prometheus

/// The aggregator's metrics (swift-metrics, exported by swift-prometheus at `/metrics`). Labels are
/// bounded: outcome codes, record kinds, venue ids.
public struct IngestMetrics: Sendable {
    public let registry: PrometheusCollectorRegistry
    private let factory: PrometheusMetricsFactory

    public init(registry: PrometheusCollectorRegistry = PrometheusCollectorRegistry()) {
        self.registry = registry
        var factory = PrometheusMetricsFactory(registry: registry)
        factory.defaultDurationHistogramBuckets = [
            .milliseconds(1), .milliseconds(5), .milliseconds(10), .milliseconds(25), .milliseconds(50),
            .milliseconds(100), .milliseconds(250), .milliseconds(500), .seconds(1), .seconds(5),
        ]
        self.factory = factory
    }

    /// A batch was answered: "accepted", or the error code it was refused with.
    public func batch(outcome: String, duration: Duration) {
        Counter(label: "sanmin_batches_total", dimensions: [("outcome", outcome)], factory: factory).increment()
        Timer(label: "sanmin_ingest_duration_seconds", factory: factory).recordNanoseconds(
            Int64(duration.components.seconds) * 1_000_000_000 + duration.components.attoseconds / 1_000_000_000)
    }

    /// New records merged, per kind.
    public func records(kind: String, count: Int) {
        Counter(label: "sanmin_records_total", dimensions: [("kind", kind)], factory: factory).increment(by: count)
    }

    /// A venue's backlog as its node reported it, and the head the aggregator holds.
    public func venue(_ venue: String, pending: Int64, held: Int64) {
        Gauge(label: "sanmin_venue_pending_records", dimensions: [("venue", venue)], factory: factory)
            .record(Double(pending))
        Gauge(label: "sanmin_venue_held_records", dimensions: [("venue", venue)], factory: factory).record(Double(held))
    }

    /// The Prometheus text exposition.
    public func exposition() -> String { registry.emitToString() }
}
