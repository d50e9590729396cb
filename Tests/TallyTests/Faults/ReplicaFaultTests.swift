import Foundation
import Testing

/// The seeded fault schedules of `FaultInjectionTests` with two replicas (issue #20), a suite of its own so that it
/// runs beside the single-aggregator schedules (both mostly wait).
@Suite struct ReplicaFaultTests {
    /// Issue #20: the same schedules against two aggregators sharing one PostgreSQL database, each behind its own
    /// faulty proxy (so either may be killed, cut off or answer 502/503 on its own), the nodes given both; now and then
    /// PostgreSQL itself is restarted under them. `FAULT_REPLICA_SCHEDULES` (default 50) from `FAULT_SEED`;
    /// `FAULT_REPLICA_REPORT=FILE` writes the summary into FILE between its replica-faults markers.
    @Test func seededFaultSchedulesWithTwoReplicasLoseNothingAndCountNothingTwice() async throws {
        let environment = ProcessInfo.processInfo.environment
        let count = Int(environment["FAULT_REPLICA_SCHEDULES"] ?? "") ?? 50
        let first = UInt64(environment["FAULT_SEED"] ?? "") ?? 1000
        // Each schedule has a server of its own: it restarts it, which must not touch another schedule.
        let outcomes = try await FaultInjectionTests.runSchedules(
            count: count, first: first, label: "replica fault schedule"
        ) {
            seed in
            let server = try PostgresServer.startPrivate()
            defer { server.stop() }
            return try await FaultInjectionTests.runSchedule(seed: seed, replicasOn: server)
        }
        if let path = environment["FAULT_REPLICA_REPORT"] {
            let text = try String(contentsOfFile: path, encoding: .utf8)
            guard let start = text.range(of: FaultInjectionTests.replicaMarkers.start),
                let end = text.range(of: FaultInjectionTests.replicaMarkers.end)
            else {
                Issue.record(
                    "\(path) has no \(FaultInjectionTests.replicaMarkers.start) … \(FaultInjectionTests.replicaMarkers.end)"
                )
                return
            }
            let section = FaultInjectionTests.report(
                outcomes, faults: FaultInjectionTests.faults(outcomes), first: first, replicas: true)
            try (text[..<start.upperBound] + "\n" + section + "\n" + text[end.lowerBound...]).write(
                toFile: path, atomically: true, encoding: .utf8)
        }
    }
}
