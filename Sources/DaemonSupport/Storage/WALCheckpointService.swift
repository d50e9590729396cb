import Foundation
import GRDB
import Logging
import ServiceLifecycle
import Synchronization

/// Copies the committed pages of a WAL database into its main file in the background, on a connection of its own,
/// so that a commit does not wait for the checkpoint SQLite would otherwise run inside it (once the WAL holds 1,000
/// pages). The checkpoint is PASSIVE: it never waits for, nor blocks, the writer or a reader. The writer's own
/// automatic checkpoint stays, as the safety net when this falls behind or does not run (a command-line tool). What
/// a commit made durable is in the WAL already (`synchronous=FULL`): a checkpoint only moves it.
///
/// The checkpoints run on a thread of their own, not on the shared dispatch or task pools: a checkpoint waits for
/// the disk, and a pool busy with other blocking work must not hold the checkpoints back (nor they it).
public struct WALCheckpointService: Service {
    public let databasePath: String
    public let interval: Duration
    public let logger: Logger

    public init(
        databasePath: String, interval: Duration = .milliseconds(100),
        logger: Logger = Logger(label: "wal-checkpoint")
    ) {
        self.databasePath = databasePath
        self.interval = interval
        self.logger = logger
    }

    /// One PASSIVE checkpoint: the frames the WAL holds and how many of them are now in the database file.
    @discardableResult
    public static func checkpoint(_ connection: DatabaseQueue) throws -> (walFrames: Int, checkpointed: Int) {
        let result = try connection.writeWithoutTransaction { db in try db.checkpoint(.passive) }
        return (result.walFrameCount, result.checkpointedFrameCount)
    }

    /// A connection that only checkpoints: the file is open already (WAL), and it never changes the journal mode.
    public static func connection(databasePath: String) throws -> DatabaseQueue {
        var configuration = Configuration()
        configuration.label = "wal-checkpoint"
        return try DatabaseQueue(path: databasePath, configuration: configuration)
    }

    public func run() async throws {
        let loop = Loop(
            connection: try Self.connection(databasePath: databasePath), interval: interval, logger: logger,
            path: databasePath)
        await withGracefulShutdownHandler {
            await withTaskCancellationHandler {
                await loop.run()
            } onCancel: {
                loop.stop()
            }
        } onGracefulShutdown: {
            loop.stop()
        }
    }

    /// The thread that checkpoints every `interval` until stopped.
    private final class Loop: Sendable {
        let connection: DatabaseQueue
        let interval: Duration
        let logger: Logger
        let path: String
        let stopped = Atomic<Bool>(false)

        init(connection: DatabaseQueue, interval: Duration, logger: Logger, path: String) {
            self.connection = connection
            self.interval = interval
            self.logger = logger
            self.path = path
        }

        func stop() { stopped.store(true, ordering: .releasing) }

        /// Returns once the thread has stopped (within one interval of `stop`).
        func run() async {
            let seconds = interval.timeInterval
            await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
                let thread = Thread { [self] in
                    var failing = false
                    while !stopped.load(ordering: .acquiring) {
                        Thread.sleep(forTimeInterval: seconds)
                        if stopped.load(ordering: .acquiring) { break }
                        do {
                            try WALCheckpointService.checkpoint(connection)
                            if failing {
                                logger.notice("WAL checkpoints run again", metadata: ["database": "\(path)"])
                                failing = false
                            }
                        } catch {
                            // Said once per run of failures; the writer's own checkpoint still runs meanwhile.
                            if !failing {
                                logger.warning(
                                    "WAL checkpoint failed; the writer checkpoints by itself meanwhile",
                                    metadata: ["database": "\(path)", "error": "\(error)"])
                                failing = true
                            }
                        }
                    }
                    continuation.resume()
                }
                thread.name = "wal-checkpoint"
                thread.start()
            }
        }
    }
}
