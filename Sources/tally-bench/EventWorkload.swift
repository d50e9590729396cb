import Aggregator
import Crypto
import Foundation
import Shared

/// A whole event's records, venue by venue, as the nodes write them: per session every representative of the
/// venue's quota (times `scale`) checks in, box B1 is opened and closed with its counts, and every attendee's
/// ballot is entered.
enum EventWorkload {
    static func payloads(event: EventDefinition, venue: String, scale: Int) -> [RecordPayload] {
        var payloads: [RecordPayload] = []
        let marks = event.marks.map(\.id)
        for session in event.sessions {
            let quota = event.quota(venue: venue, session: session.id)?.counts ?? [:]
            let departments = (event.ballotDepartments(session: session.id) ?? []).map(\.id)
            var reps = 0
            for (category, count) in quota.sorted(by: { $0.key < $1.key }) {
                for _ in 0..<(count * scale) {
                    reps += 1
                    payloads.append(
                        .checkin(
                            .init(
                                session: session.id, rep: "\(venue)-\(session.id)-\(reps)",
                                category: category, at: "2021-12-20T09:00:00Z")))
                }
            }
            guard reps > 0 else { continue }
            payloads.append(.boxOpened(.init(session: session.id, box: "B1", at: "2021-12-20T10:00:00Z")))
            payloads.append(
                .boxClosed(
                    .init(
                        session: session.id, box: "B1", issued: reps, returned: reps,
                        at: "2021-12-20T11:00:00Z")))
            for index in 0..<reps {
                var chosen: [String: String] = [:]
                for (position, department) in departments.enumerated() {
                    chosen[department] =
                        marks[(index * 7 + position * 3) % 10 < 8 ? 0 : (index + position) % marks.count]
                }
                payloads.append(.ballot(.init(session: session.id, box: "B1", status: .valid, marks: chosen)))
            }
        }
        return payloads
    }

    /// Signed batch requests of one venue's chain, `batchSize` records each, by a new key enrolled for it.
    static func signedBatches(
        event: EventDefinition, venue: String, records: [ChainedRecord], batchSize: Int,
        database: some AggregatorStore
    ) throws -> (requests: [BatchIntake.SignedRequest], key: Curve25519.Signing.PrivateKey) {
        let key = Curve25519.Signing.PrivateKey()
        let node = NodeIdentity.nodeID(for: key.publicKey)
        _ = try database.enroll(venue: venue, publicKeyBase64: key.publicKey.rawRepresentation.base64EncodedString())
        let encoder = JSONCoding.encoder(.wire)
        var requests: [BatchIntake.SignedRequest] = []
        for start in stride(from: 0, to: records.count, by: batchSize) {
            let batch = Batch(
                event: event.id, venue: venue, node: node,
                records: Array(records[start..<min(start + batchSize, records.count)]))
            let body = try encoder.encode(batch)
            let signed = try MessageSignature.sign(
                method: "POST", path: "/v1/batches", body: body, keyID: node, key: key,
                created: Int64(Date().timeIntervalSince1970))
            requests.append(
                .init(
                    contentType: "application/json", contentDigest: signed.contentDigest,
                    signatureInput: signed.signatureInput, signature: signed.signature, body: body))
        }
        return (requests, key)
    }
}

/// (c, in process) A whole event after a total outage: every venue pushes all its records at once (one task per
/// venue, batches of 500), merged by `BatchIntake` as in (a).
struct CatchUp {
    var venues: Int
    var records: Int
    var rate: Double

    var line: String {
        String(format: "catch-up, %d venues at once: %d records, %.0f records/s", venues, records, rate)
    }

    static func run(event: LoadedEvent, eventFile: URL, scale: Int, directory: URL) async throws -> CatchUp {
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        let database = try AggregatorDatabase(path: directory.appending(path: "aggregator.sqlite").path, create: true)
        try database.install(event: event, json: try Data(contentsOf: eventFile))
        let intake = BatchIntake(database: database, event: event.definition)
        var perVenue: [[BatchIntake.SignedRequest]] = []
        var total = 0
        for venue in event.definition.venues {
            let records = Workload.chain(EventWorkload.payloads(event: event.definition, venue: venue.id, scale: scale))
            total += records.count
            perVenue.append(
                try EventWorkload.signedBatches(
                    event: event.definition, venue: venue.id, records: records,
                    batchSize: 500, database: database
                ).requests)
        }
        let start = ContinuousClock.now
        try await withThrowingTaskGroup(of: Void.self) { group in
            for requests in perVenue {
                group.addTask { for request in requests { _ = try await intake.receive(request) } }
            }
            try await group.waitForAll()
        }
        return CatchUp(venues: perVenue.count, records: total, rate: Double(total) / elapsed(since: start))
    }
}

/// (e, aggregator part) The aggregator as it grows: at each size, the rate of ingesting the next records, and
/// what reading the totals, building the reconciliation and reading the cached report cost.
struct AggregatorGrowth {
    var records: Int
    var ingestRate: Double
    var totals: Double
    var reconciliation: Double
    var cachedReport: Double
    /// The first read of the report after a batch, once a new build is due: the previous report when the build
    /// takes longer than a reader waits (`behind`: how many records it lacks), and when the new one was ready.
    var afterChange: Double
    var behind: Int
    var newReportAfter: Double
    /// The benchmark process (the aggregator's database, intake and reports, and the chains it signs): resident
    /// and peak, in MiB.
    var residentMiB: Int
    var peakMiB: Int

    var line: String {
        String(
            format: "aggregator holding %d records: ingest %.0f records/s, totals %.4f s, reconciliation built %.3f s, "
                + "cached report %.4f s, after a change %.4f s (%d records behind; the new one after %.3f s), "
                + "resident %d MiB, peak %d MiB", records, ingestRate, totals, reconciliation, cachedReport,
            afterChange,
            behind, newReportAfter, residentMiB, peakMiB)
    }

    /// One venue's chain, continued batch by batch: boxes of 100,000 ballots, a check-in before each ballot.
    struct VenueChain {
        var venue: String
        var key = Curve25519.Signing.PrivateKey()
        var seq: Int64 = 0
        var prev = RecordChain.genesis
        var written = 0
        var ballotsLeft = 0
        var box = 0

        mutating func next(_ count: Int, event: EventDefinition) throws -> BatchIntake.SignedRequest {
            let session = event.sessions[0].id
            let departments = (event.ballotDepartments(session: session) ?? []).map(\.id)
            let marks = event.marks.map(\.id)
            var records: [ChainedRecord] = []
            func add(_ payload: RecordPayload) {
                seq += 1
                let record = ChainedRecord(seq: seq, prev: prev, payload: payload.canonicalJSON())
                prev = record.hash
                records.append(record)
            }
            while records.count < count {
                written += 1
                if ballotsLeft == 0 {
                    box += 1
                    ballotsLeft = RecordPayload.maximumBoxCount
                    add(.boxClosed(.init(session: session, box: "B\(box)", issued: ballotsLeft, returned: ballotsLeft)))
                } else if written % 2 == 0 {
                    add(.checkin(.init(session: session, rep: "\(venue)-\(written)", category: event.categories[0].id)))
                } else {
                    ballotsLeft -= 1
                    var chosen: [String: String] = [:]
                    for (position, department) in departments.enumerated() {
                        chosen[department] = marks[(written + position) % marks.count]
                    }
                    add(.ballot(.init(session: session, box: "B\(box)", status: .valid, marks: chosen)))
                }
            }
            let node = NodeIdentity.nodeID(for: key.publicKey)
            let encoder = JSONCoding.encoder(.wire)
            let body = try encoder.encode(Batch(event: event.id, venue: venue, node: node, records: records))
            let signed = try MessageSignature.sign(
                method: "POST", path: "/v1/batches", body: body, keyID: node, key: key,
                created: Int64(Date().timeIntervalSince1970))
            return .init(
                contentType: "application/json", contentDigest: signed.contentDigest,
                signatureInput: signed.signatureInput, signature: signed.signature, body: body)
        }
    }

    static func run(event: LoadedEvent, eventFile: URL, sizes: [Int], directory: URL) async throws -> [AggregatorGrowth]
    {
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        let database = try AggregatorDatabase(path: directory.appending(path: "aggregator.sqlite").path, create: true)
        try database.install(event: event, json: try Data(contentsOf: eventFile))
        let intake = BatchIntake(database: database, event: event.definition)
        var chains = event.definition.venues.map { VenueChain(venue: $0.id) }
        for chain in chains {
            _ = try database.enroll(
                venue: chain.venue, publicKeyBase64: chain.key.publicKey.rawRepresentation.base64EncodedString())
        }
        var held = 0
        var rows: [AggregatorGrowth] = []
        // Fills round-robin over the venues in batches of 500 (signing and chaining outside the timed part).
        func fill(to target: Int) async throws -> Double {
            var seconds = 0.0
            var venue = 0
            while held < target {
                let count = min(500, target - held)
                let request = try chains[venue].next(count, event: event.definition)
                let start = ContinuousClock.now
                _ = try await intake.receive(request)
                seconds += elapsed(since: start)
                held += count
                venue = (venue + 1) % chains.count
            }
            return seconds
        }
        // How many records the report a reader gets now was built from.
        func recordsInReport() throws -> Int {
            Int(try database.cachedReport(event: event).report.inputs.map(\.seq).reduce(0, +))
        }
        for size in sizes {
            _ = try await fill(to: size - 10_000)
            let seconds = try await fill(to: size)
            let totals = try median(3) { _ = try database.totals(eventID: event.definition.id) }
            let reconciliation = try median(1) { _ = try Report.build(database: database, event: event) }
            // The report of these very records in the cache (a reader may be given the previous one while it is built).
            while try recordsInReport() != held {
                try await Task.sleep(for: .milliseconds(20))
            }
            let cached = try median(5) { _ = try database.cachedReport(event: event) }
            // One more batch, then a reader once the next build is due (the last build's time passed twice over;
            // here three times): what a new dashboard viewer or `/v1/reconciliation` waits after a change.
            let lastBuild = try recordsInReport()
            _ = try await fill(to: held + 500)
            try await Task.sleep(for: .seconds(reconciliation * 3 + 0.1))
            var start = ContinuousClock.now
            let read = try recordsInReport()
            let afterChange = elapsed(since: start)
            start = ContinuousClock.now
            while try recordsInReport() != held {
                try await Task.sleep(for: .milliseconds(20))
            }
            let newReportAfter = elapsed(since: start) + afterChange
            precondition(lastBuild == held - 500, "the report before the change holds every record")
            let row = AggregatorGrowth(
                records: size, ingestRate: 10_000 / seconds, totals: totals,
                reconciliation: reconciliation, cachedReport: cached, afterChange: afterChange,
                behind: held - read, newReportAfter: newReportAfter,
                residentMiB: Live.memory(getpid()).resident / 1024, peakMiB: Live.memory(getpid()).peak / 1024)
            say(row.line)
            rows.append(row)
        }
        return rows
    }

    static func median(_ times: Int, _ work: () throws -> Void) throws -> Double {
        var samples: [Double] = []
        for _ in 0..<times {
            let start = ContinuousClock.now
            try work()
            samples.append(elapsed(since: start))
        }
        return samples.sorted()[samples.count / 2]
    }
}
