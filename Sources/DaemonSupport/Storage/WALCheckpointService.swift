import Foundation
import GRDB
import ServiceLifecycle

/// Copies the committed pages of a WAL database into its main file in the background, on a connection of its own,
/// so that a commit does not wait for the checkpoint SQLite would otherwise run inside it (once the WAL holds 1,000
/// pages). The checkpoint is PASSIVE: it never waits for, nor blocks, the writer or a reader. The writer's own
/// automatic checkpoint stays, as the safety net when this falls behind or does not run (a command-line tool). What
/// a commit made durable is in the WAL already (`synchronous=FULL`): a checkpoint only moves it.
public struct WALCheckpointService: Service {
    public let databasePath: String
    public let interval: Duration

    public init(databasePath: String, interval: Duration = .milliseconds(100)) {
        self.databasePath = databasePath
        self.interval = interval
    }

    public func run() async throws {
        var configuration = Configuration()
        configuration.label = "wal-checkpoint"
        // The file is open already (WAL): this connection only checkpoints, and never changes the journal mode.
        let connection = try DatabaseQueue(path: databasePath, configuration: configuration)
        await cancelWhenGracefulShutdown {
            while !Task.isCancelled {
                try? await Task.sleep(for: interval)
                _ = try? await offload {
                    try connection.writeWithoutTransaction { db in try db.checkpoint(.passive) }
                }
            }
        }
    }
}
