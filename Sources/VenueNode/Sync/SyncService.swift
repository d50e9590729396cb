import Foundation
import Logging
import ServiceLifecycle
import Shared
import Synchronization

/// How the daemon's syncs are going, for the desk to show (in memory: the process's own rounds).
public final class SyncHealth: Sendable {
    public struct Snapshot: Sendable {
        /// When a round last reached the aggregator and sent all that was pending.
        public var lastSuccess: Date?
        /// When a round last failed, and why.
        public var lastFailure: Date?
        public var lastFailureMessage: String?
    }

    private let state = Mutex(Snapshot())

    public init() {}

    public var snapshot: Snapshot { state.withLock { $0 } }

    func succeeded(at date: Date = Date()) { state.withLock { $0.lastSuccess = date } }

    func failed(_ message: String, at date: Date = Date()) {
        state.withLock {
            $0.lastFailure = date
            $0.lastFailureMessage = message
        }
    }

    /// Online: the last round succeeded, within `within` seconds.
    public func isOnline(within: TimeInterval, now: Date = Date()) -> Bool {
        let snapshot = self.snapshot
        guard let success = snapshot.lastSuccess, now.timeIntervalSince(success) < within else { return false }
        return snapshot.lastFailure.map { $0 < success } ?? true
    }
}

/// The daemon's loop: sync, wait, sync again; after a failure wait longer (exponential backoff
/// with jitter, capped), never give up, stop on graceful shutdown, or when the store's -wal file was deleted.
public struct SyncService: Service {
    public var syncer: Syncer
    public var interval: Duration
    public var maxBackoff: Duration
    public var logger: Logger
    public var health: SyncHealth

    public init(
        syncer: Syncer, interval: Duration = .seconds(5), maxBackoff: Duration = .seconds(300), logger: Logger,
        health: SyncHealth = SyncHealth()
    ) {
        self.syncer = syncer
        self.interval = interval
        self.maxBackoff = maxBackoff
        self.logger = logger
        self.health = health
    }

    /// Delay after `failures` consecutive failures: 1 s doubling up to `maxBackoff`, with ±50 % jitter.
    public static func backoff(failures: Int, cap: Duration) -> Duration {
        let base = Duration.seconds(1) * (1 << min(failures - 1, 20))
        let capped = min(base, cap)
        return capped * Double.random(in: 0.5...1.0)
    }

    public func run() async throws {
        try await cancelWhenGracefulShutdown { try await loop() }
    }

    private func loop() async throws {
        var failures = 0
        var batchSize = AdaptiveBatchSize(maximum: syncer.batchSize)
        while !Task.isCancelled && !Task.isShuttingDownGracefully {
            // Not a failure to wait out: with its -wal file deleted the store no longer keeps what is written,
            // so the daemon stops (exit status non-zero, the reason in the journal).
            do {
                try syncer.database.checkWAL()
            } catch {
                logger.critical("store damaged, stopping", metadata: ["error": "\(error)"])
                throw error
            }
            do {
                let report = try await syncer.sync(batchSize: batchSize.current)
                batchSize.succeeded()
                health.succeeded()
                if report.recordsSent > 0 {
                    logger.info(
                        "synced",
                        metadata: [
                            "records.sent": "\(report.recordsSent)",
                            "acknowledged.seq": "\(report.acknowledgedSeq)",
                        ])
                }
                failures = 0
                await waitForNewRecords(upTo: interval)
            } catch {
                if let error = error as? SyncError, error.timedOut {
                    batchSize.timedOut()
                    logger.notice(
                        "request timed out: smaller batches", metadata: ["batch.size": "\(batchSize.current)"])
                }
                failures += 1
                health.failed("\(error)")
                let delay = Self.backoff(failures: failures, cap: maxBackoff)
                logger.warning("sync failed", metadata: ["error": "\(error)", "retry.in": "\(delay)"])
                try? await Task.sleep(for: delay)
            }
        }
    }
}

extension SyncService {
    /// How often the daemon looks for a record saved by another process (the desk, a CLI command).
    static let lookEvery: Duration = .milliseconds(100)

    /// Waits up to `interval` (the heartbeat's pace), but returns within `lookEvery` of a new record being saved,
    /// by this or any other process: a record reaches the aggregator, and the dashboard, within a second.
    /// Looking is one indexed read of the chain's head.
    func waitForNewRecords(upTo interval: Duration) async {
        let start = ContinuousClock.now
        let before = try? syncer.database.head().seq
        while start.duration(to: .now) < interval, !Task.isCancelled, !Task.isShuttingDownGracefully {
            try? await Task.sleep(for: min(Self.lookEvery, interval))
            if let seq = try? syncer.database.head().seq, seq != before { return }
        }
    }
}

/// The batch size of the daemon: halved after a request times out (a slow link gets smaller
/// requests through), doubled after each sync that succeeds, back up to the maximum.
public struct AdaptiveBatchSize: Sendable, Equatable {
    public let maximum: Int
    public private(set) var current: Int

    public init(maximum: Int) {
        self.maximum = max(1, maximum)
        self.current = self.maximum
    }

    public mutating func timedOut() { current = max(1, current / 2) }

    public mutating func succeeded() { current = min(maximum, current * 2) }
}
