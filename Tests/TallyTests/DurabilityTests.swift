import Aggregator
import DaemonSupport
import Foundation
import GRDB
import Testing
import VenueNode

/// A record reported saved survives a power cut: every store's writer runs with `synchronous=FULL` (the WAL synced
/// at each commit). GRDB sets `synchronous=NORMAL` when it puts a pool into WAL mode, after the configuration's own
/// setup; under NORMAL a daemon's last commits before a power cut are lost.
@Suite struct DurabilityTests {
    static func synchronous(_ writer: any DatabaseWriter) throws -> Int? {
        try writer.writeWithoutTransaction { db in try Int.fetchOne(db, sql: "PRAGMA synchronous") }
    }

    @Test func everyStoreWriterSyncsItsWALAtEachCommit() throws {
        let directory = try Fixtures.temporaryDirectory("sanmin-durability")
        defer { try? FileManager.default.removeItem(at: directory) }
        let path = directory.appending(path: "store.sqlite").path
        // Created, then opened again as a daemon opens its store.
        for mustExist in [false, true] {
            let pool = try DurableDatabase.openPool(path: path, mustExist: mustExist)
            #expect(try Self.synchronous(pool) == DurableDatabase.fullSynchronous, "mustExist: \(mustExist)")
            #expect(try pool.read { db in try String.fetchOne(db, sql: "PRAGMA journal_mode") } == "wal")
        }
        let aggregator = try AggregatorDatabase(path: directory.appending(path: "aggregator.sqlite").path, create: true)
        #expect(try Self.synchronous(aggregator.writerForTests) == 2)
        let node = try NodeDatabase(path: directory.appending(path: "node.sqlite").path, create: true)
        #expect(try Self.synchronous(node.writerForTests) == 2)
    }

    /// One PASSIVE checkpoint, with the writer idle, moves every frame of the WAL into the database file.
    @Test func oneCheckpointMovesEveryFrameTheWALHolds() throws {
        let directory = try Fixtures.temporaryDirectory("sanmin-checkpoint-once")
        defer { try? FileManager.default.removeItem(at: directory) }
        let path = directory.appending(path: "store.sqlite").path
        let pool = try DurableDatabase.openPool(path: path)
        try pool.writeWithoutTransaction { db in try db.execute(sql: "PRAGMA wal_autocheckpoint = 0") }
        try pool.write { db in
            try db.execute(sql: "CREATE TABLE t (n INTEGER PRIMARY KEY, text TEXT NOT NULL)")
            for n in 1...500 {
                try db.execute(
                    sql: "INSERT INTO t VALUES (?, ?)", arguments: [n, String(repeating: "y", count: 1_000)])
            }
        }
        let result = try WALCheckpointService.checkpoint(WALCheckpointService.connection(databasePath: path))
        #expect(result.walFrames > 100, "\(result)")
        #expect(result.checkpointed == result.walFrames, "\(result)")
        #expect(try pool.read { db in try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM t") } == 500)
    }

    /// The daemons' background checkpoint moves what the WAL holds into the database file, with no checkpoint
    /// inside a commit (the writer's own is turned off here), and everything committed reads back the same.
    @Test func theBackgroundCheckpointMovesTheWALIntoTheDatabaseFile() async throws {
        let directory = try Fixtures.temporaryDirectory("sanmin-checkpoint")
        defer { try? FileManager.default.removeItem(at: directory) }
        let path = directory.appending(path: "store.sqlite").path
        let pool = try DurableDatabase.openPool(path: path)
        let row = String(repeating: "x", count: 1_000)
        try await pool.writeWithoutTransaction { db in try db.execute(sql: "PRAGMA wal_autocheckpoint = 0") }
        try await pool.write { db in
            try db.execute(sql: "CREATE TABLE t (n INTEGER PRIMARY KEY, text TEXT NOT NULL)")
            for n in 1...2_000 { try db.execute(sql: "INSERT INTO t VALUES (?, ?)", arguments: [n, row]) }
        }
        func size(_ file: String) -> Int {
            ((try? FileManager.default.attributesOfItem(atPath: file))?[.size] as? Int) ?? 0
        }
        // Committed into the WAL only.
        #expect(size(path) < 100_000, "\(size(path))")
        #expect(size(path + "-wal") > 2_000_000)
        let service = Task { try await WALCheckpointService(databasePath: path, interval: .milliseconds(20)).run() }
        // The service checkpoints on a thread of its own: busy task and dispatch pools (the other tests) cannot
        // hold it back. The deadline only bounds a failure.
        let start = ContinuousClock.now
        while size(path) < 2_000_000, ContinuousClock.now - start < .seconds(60) {
            try await Task.sleep(for: .milliseconds(20))
        }
        service.cancel()
        try await service.value
        #expect(size(path) >= 2_000_000, "\(size(path))")
        #expect(
            try await pool.read { db in
                try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM t WHERE text = ?", arguments: [row])
            } == 2_000)
    }
}
