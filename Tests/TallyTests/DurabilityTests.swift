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
}
