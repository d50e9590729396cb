import Aggregator
import Crypto
import Foundation
import Logging
import NIOPosix
import PostgresNIO
import Shared

/// (g) The aggregator's store on PostgreSQL (issue #20): one intake merging signed batches into a `PostgresStore`,
/// against the limit, the same rows inserted straight into a table of the same shape (one multi-row INSERT per batch,
/// a transaction each, the server's durability settings); then every venue's batches at once through 1, 2 and 3
/// replicas (each its own `PostgresStore` on the database, as separate aggregator processes would be), against one
/// SQLite aggregator taking the same batches.
struct PostgresIngest {
    var records: Int
    var batchSize: Int
    var ingestRate: Double
    var rawRate: Double
    var ratio: Double { ingestRate / rawRate }
    /// Records/s with every venue sending at once: SQLite (one aggregator), then PostgreSQL with 1, 2, 3 replicas.
    var sqliteConcurrentRate: Double
    var replicaRates: [(replicas: Int, rate: Double)]
    var venues: Int

    var lines: [String] {
        [
            String(
                format:
                    "PostgreSQL ingest, batches of %d: %.0f records/s; raw PostgreSQL (multi-row INSERT) %.0f rows/s; ratio %.3f",
                batchSize, ingestRate, rawRate, ratio),
            String(
                format: "%d venues sending at once: one SQLite aggregator %.0f records/s", venues, sqliteConcurrentRate),
        ]
            + replicaRates.map {
                String(
                    format: "%d venues sending at once: %d replica(s) on PostgreSQL %.0f records/s", venues,
                    $0.replicas, $0.rate)
            }
    }

    /// The figures as docs/scale.md shows them.
    func write(into path: String, quick: Bool) throws {
        let table =
            [
                "| what | records/s | limit | ratio |",
                "|---|---|---|---|",
                String(
                    format:
                        "| one intake merging batches of %d into PostgreSQL | %.0f | %.0f rows/s (multi-row INSERT) | %.3f |",
                    batchSize, ingestRate, rawRate, ratio),
                String(
                    format: "| %d venues at once, one SQLite aggregator | %.0f | | |", venues, sqliteConcurrentRate),
            ]
            + replicaRates.map {
                String(
                    format: "| %d venues at once, %d replica(s) on PostgreSQL | %.0f | | |", venues, $0.replicas,
                    $0.rate)
            }
        try writeMeasured(table, into: path, between: "postgres-ingest", quick: quick)
    }

    /// `server` is the address of a database on the server (its `postgres` database will do) whose user may create
    /// databases: each run makes its own.
    static func run(
        event: LoadedEvent, eventFile: URL, records: Int, batchSize: Int, venues: Int, server: String, directory: URL
    ) async throws -> PostgresIngest {
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        let store = try PostgresStore(url: try await newDatabase(server: server))
        defer { store.close() }
        try store.install(event: event, json: try Data(contentsOf: eventFile))
        let venue = event.definition.venues[0].id
        let chained = Workload.chain(Workload.payloads(event: event.definition, count: records))
        let (requests, _) = try EventWorkload.signedBatches(
            event: event.definition, venue: venue, records: chained, batchSize: batchSize, database: store)
        let intake = Intake(database: store, event: event.definition, maxRecords: max(5_000, batchSize))
        let start = ContinuousClock.now
        for request in requests { _ = try await intake.receive(request) }
        let ingestSeconds = elapsed(since: start)

        let rawSeconds = try await rawInserts(
            records: chained, venue: venue, batchSize: batchSize, location: store.location)

        // Every venue at once.
        let venueIDs = Array(event.definition.venues.prefix(venues).map(\.id))
        let perVenue = records / venueIDs.count
        let sqlite = try AggregatorDatabase(path: directory.appending(path: "concurrent.sqlite").path, create: true)
        try sqlite.install(event: event, json: try Data(contentsOf: eventFile))
        let sqliteRate = try await concurrentRate(
            stores: [sqlite], event: event, venues: venueIDs, perVenue: perVenue, batchSize: batchSize)
        var replicaRates: [(Int, Double)] = []
        for replicas in 1...3 {
            // A new database per run: each starts its venues' chains from the first record.
            let url = try await newDatabase(server: server)
            let stores = try (0..<replicas).map { _ in try PostgresStore(url: url) }
            try stores[0].install(event: event, json: try Data(contentsOf: eventFile))
            defer { for store in stores { store.close() } }
            replicaRates.append(
                (
                    replicas,
                    try await concurrentRate(
                        stores: stores, event: event, venues: venueIDs, perVenue: perVenue, batchSize: batchSize)
                ))
        }
        return PostgresIngest(
            records: records, batchSize: batchSize, ingestRate: Double(records) / ingestSeconds,
            rawRate: Double(records) / rawSeconds, sqliteConcurrentRate: sqliteRate, replicaRates: replicaRates,
            venues: venueIDs.count)
    }

    /// Makes a new database on the server `server` names; its address.
    static func newDatabase(server: String) async throws -> String {
        let location = try PostgresLocation(url: server)
        let name = "bench_" + UUID().uuidString.lowercased().replacingOccurrences(of: "-", with: "")
        try await withConnection(location) { connection, logger in
            _ = try await connection.query(PostgresQuery(unsafeSQL: "CREATE DATABASE \(name)"), logger: logger)
        }
        var components = URLComponents(string: server)!
        components.path = "/" + name
        return components.string!
    }

    static func withConnection<T>(
        _ location: PostgresLocation, _ body: (PostgresConnection, Logger) async throws -> T
    ) async throws -> T {
        let logger = Logger(label: "bench")
        let connection = try await PostgresConnection.connect(
            on: MultiThreadedEventLoopGroup.singleton.next(),
            configuration: .init(
                host: location.host, port: location.port, username: location.user, password: location.password,
                database: location.database, tls: .disable), id: 1, logger: logger)
        do {
            let result = try await body(connection, logger)
            try await connection.close()
            return result
        } catch {
            try? await connection.close()
            throw error
        }
    }

    /// The limit: the same rows, a transaction and one multi-row INSERT (`unnest` of arrays) per batch, into a table of
    /// the record table's shape. Returns the seconds.
    static func rawInserts(
        records: [ChainedRecord], venue: String, batchSize: Int, location: PostgresLocation
    ) async throws -> Double {
        try await withConnection(location) { connection, logger in
            try await connection.query(
                """
                CREATE TABLE rawRecord (venue TEXT NOT NULL, seq BIGINT NOT NULL, prev TEXT NOT NULL, hash TEXT NOT NULL,
                    kind TEXT NOT NULL, payload TEXT NOT NULL, nodeID TEXT NOT NULL, batchID BIGINT NOT NULL,
                    PRIMARY KEY (venue, seq))
                """, logger: logger)
            let start = ContinuousClock.now
            for (batchID, first) in stride(from: 0, to: records.count, by: batchSize).enumerated() {
                let slice = records[first..<min(first + batchSize, records.count)]
                try await connection.query("BEGIN", logger: logger)
                try await connection.query(
                    """
                    INSERT INTO rawRecord SELECT \(venue), s, p, h, 'ballot', j, 'node', \(Int64(batchID))
                    FROM unnest(\(slice.map(\.seq)), \(slice.map(\.prev)), \(slice.map(\.hash)), \(slice.map(\.payload)))
                        AS t(s, p, h, j)
                    """, logger: logger)
                try await connection.query("COMMIT", logger: logger)
            }
            return elapsed(since: start)
        }
    }

    /// Records/s merged when every venue's batches arrive at once, venue `i` through store `i % stores.count`.
    static func concurrentRate<Store: AggregatorStore>(
        stores: [Store], event: LoadedEvent, venues: [String], perVenue: Int, batchSize: Int
    ) async throws -> Double {
        let work = try venues.enumerated().map { index, venue in
            let chained = Workload.chain(
                Workload.payloads(
                    event: event.definition, count: perVenue, repPrefix: "C\(UUID().uuidString.prefix(8))-"))
            let (requests, _) = try EventWorkload.signedBatches(
                event: event.definition, venue: venue, records: chained, batchSize: batchSize,
                database: stores[index % stores.count])
            return (Intake(database: stores[index % stores.count], event: event.definition), requests)
        }
        let start = ContinuousClock.now
        try await withThrowingTaskGroup(of: Void.self) { group in
            for (intake, requests) in work {
                group.addTask {
                    for request in requests { _ = try await intake.receive(request) }
                }
            }
            try await group.waitForAll()
        }
        return Double(perVenue * venues.count) / elapsed(since: start)
    }
}
