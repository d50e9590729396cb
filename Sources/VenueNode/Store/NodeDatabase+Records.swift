import Crypto
import DaemonSupport
import Foundation
import GRDB
import Shared

/// A record could not be saved; nothing of the request was saved.
public struct AppendError: Error, CustomStringConvertible {
    /// Position (0-based) in the request of the payload refused.
    public var index: Int
    public var rejection: RecordRejection

    public var description: String { rejection.message }
}

/// The node's local view: head of its chain, what the aggregator acknowledged, the last error.
public struct NodeStatus: Codable, Sendable {
    public var lastSeq: Int64
    public var lastHash: String
    public var acknowledgedSeq: Int64
    public var pending: Int64
    public var lastSyncAt: String?
    public var lastError: String?
    public var records: [String: Int]
    public var checkins: [String: Int]
    public var ballots: [String: Int]

    enum CodingKeys: String, CodingKey {
        case lastSeq = "last_seq"
        case lastHash = "last_hash"
        case acknowledgedSeq = "acknowledged_seq"
        case pending
        case lastSyncAt = "last_sync_at"
        case lastError = "last_error"
        case records, checkins, ballots
    }
}

extension NodeDatabase {
    static func timestamp(_ date: Date = Date()) -> String {
        date.formatted(.iso8601)
    }

    /// These rows were imported before: the import record that brought them, and when.
    public struct AlreadyImported: Error, CustomStringConvertible {
        public var file: String
        public var session: String
        public var box: String
        public var rows: Int
        public var record: Int64
        public var importedAt: String

        public var description: String {
            let place = box.isEmpty ? "session \(session)" : "box \(box) of session \(session)"
            return "the same \(rows) row(s) for \(place) were already imported from \(file) at \(importedAt) "
                + "(import record \(record)); nothing was imported. Importing them again would count every row twice: "
                + "give --again only if they really are new ballots or check-ins"
        }
    }

    /// Ballots are imported into a box whose papers are keyed at the desk: refused, since a box's ballots are either
    /// keyed twice or imported, never both (the same papers would count twice).
    public struct BoxIsKeyed: Error, CustomStringConvertible {
        public var session: String
        public var box: String
        public var passes: Int

        public var description: String {
            "box \(box) of session \(session) is keyed at the desk (\(passes) pass(es)): a box's ballots are either "
                + "keyed twice or imported, never both; nothing was imported"
        }
    }

    /// Appends `payloads` as the next records of the chain, all or none, after checking each
    /// against the event and the records before it. Returns the records as saved.
    @discardableResult
    public func append(_ payloads: [RecordPayload], event: EventDefinition) throws -> [ChainedRecord] {
        try write { db in
            var state = try Self.ledger(for: payloads, db: db)
            return try Self.append(payloads, to: &state, event: event, db: db)
        }
    }

    /// Appends the rows of a CSV file, all or none, after an `import` record that says which rows these
    /// are per box (or per session, for check-ins). The same rows for the same box — whatever the bytes,
    /// line ends or order — are refused a second time unless `again`; the import record lives on the
    /// chain, so a restored node remembers too. Returns the records saved, the import record first.
    @discardableResult
    public func importRows(
        _ rows: [RecordPayload], form: String, file: String, bytesDigest: String, again: Bool,
        event: EventDefinition, clerk: String? = nil
    ) throws -> [ChainedRecord] {
        let now = Self.timestamp()
        var grouped: [String: (session: String, box: String, lines: [String])] = [:]
        for row in rows {
            let (session, box, line): (String, String, String)
            switch row {
            // The rows' payloads without a version, so that the digest outlives payload versions.
            case .ballot(let ballot): (session, box, line) = (ballot.session, ballot.box, row.canonicalJSON(version: 1))
            case .form(let form): (session, box, line) = (form.session, form.box, row.canonicalJSON(version: 1))
            case .checkin(var checkin):
                checkin.at = nil
                (session, box, line) = (checkin.session, "", RecordPayload.checkin(checkin).canonicalJSON(version: 1))
            default: (session, box, line) = ("", "", row.canonicalJSON(version: 1))
            }
            grouped["\(session)\u{1F}\(box)", default: (session, box, [])].lines.append(line)
        }
        let groups = grouped.values.sorted { ($0.session, $0.box) < ($1.session, $1.box) }.map { group in
            RecordPayload.Imported.Group(
                session: group.session, box: group.box, rows: group.lines.count,
                digest: SHA256.hash(data: Data(group.lines.sorted().joined(separator: "\n").utf8)).hexString)
        }
        let marker = RecordPayload.imported(.init(file: file, form: form, groups: groups, at: now, clerk: clerk))
        return try write { db in
            if form == "ballots" {
                for group in groups {
                    let passes =
                        try Int.fetchOne(
                            db, sql: "SELECT COUNT(*) FROM keyedPass WHERE session = ? AND box = ?",
                            arguments: [group.session, group.box]) ?? 0
                    if passes > 0 { throw BoxIsKeyed(session: group.session, box: group.box, passes: passes) }
                }
            }
            var state = try Self.ledger(for: [marker] + rows, db: db)
            if !again {
                for group in groups {
                    if let seq = state.earlierImport(session: group.session, box: group.box, digest: group.digest),
                        case .imported(let earlier)? = try StoredRecord.fetchOne(db, key: seq)
                            .flatMap({ try? RecordPayload.decode(json: $0.payload) })
                    {
                        throw AlreadyImported(
                            file: earlier.file, session: group.session, box: group.box, rows: group.rows,
                            record: seq, importedAt: earlier.at ?? "?")
                    }
                }
                // Files imported by release 1 are remembered by their bytes only.
                if let row = try Row.fetchOne(
                    db, sql: "SELECT * FROM importedFile WHERE digest = ? LIMIT 1",
                    arguments: [bytesDigest])
                {
                    throw AlreadyImported(
                        file: row["file"], session: groups.first?.session ?? "", box: groups.first?.box ?? "",
                        rows: rows.count, record: row["firstSeq"], importedAt: row["importedAt"])
                }
            }
            do {
                return try Self.append([marker] + rows, to: &state, event: event, db: db)
            } catch var error as AppendError {
                if error.index == 0 {
                    // The import record itself: blame the first row that does not fit the event, else the file (-1).
                    error.index = rows.firstIndex { (try? $0.check(against: event)) == nil } ?? -1
                    if error.index >= 0,
                        case .failure(let rejection) = Result(catching: { try rows[error.index].check(against: event) })
                    {
                        error.rejection = rejection as? RecordRejection ?? error.rejection
                    }
                } else {
                    error.index -= 1  // positions count the file's rows, not the import record
                }
                throw error
            }
        }
    }

    static func append(
        _ payloads: [RecordPayload], to state: inout Ledger, event: EventDefinition,
        db: Database
    ) throws -> [ChainedRecord] {
        try refuseWhileFollowing(db)
        var saved: [ChainedRecord] = []
        let now = Self.timestamp()
        var delta: [Counter: Int] = [:]
        var kinds: [String: Int] = [:]
        // Closing a phone box brings its sealed ballots onto the chain, shuffled, in the same transaction.
        for (index, payload) in try withSealedBallots(payloads, db: db) {
            do {
                try checkPapers(payload, db: db)
                for (counter, value) in try state.admit(payload, event: event) { delta[counter, default: 0] += value }
            } catch let error as RecordRejection {
                throw AppendError(index: index, rejection: error)
            }
            kinds[payload.kind.rawValue, default: 0] += 1
            let record = ChainedRecord(seq: state.headSeq, prev: state.headHash, payload: payload.canonicalJSON())
            // A ballot keeps only the day it was saved: no time finer than its box.
            try db.cachedStatement(
                sql: "INSERT INTO record (seq, prev, hash, kind, payload, savedAt) VALUES (?, ?, ?, ?, ?, ?)"
            )
            .execute(arguments: [
                record.seq, record.prev, record.hash, payload.kind.rawValue, record.payload,
                payload.kind == .ballot ? String(now.prefix(10)) : now,
            ])
            state.headHash = record.hash
            saved.append(record)
            try notePaper(payload, seq: record.seq, db: db)
        }
        try saveLedger(state, delta: delta, kinds: kinds, db: db)
        return saved
    }

    /// Fills an empty store with records restored from the aggregator, checking that they chain and
    /// follow the record rules, all or none.
    public func restore(_ records: [ChainedRecord]) throws {
        try write { db in
            guard try StoredRecord.fetchCount(db) == 0 else {
                throw RecordRejection("the store is not empty")
            }
            var state = Ledger()
            let now = Self.timestamp()
            for record in records {
                try RecordChain.verify([record], afterSeq: state.headSeq, afterHash: state.headHash)
                let payload = try RecordPayload.decode(json: record.payload)
                // The venue's history as the aggregator holds it: taken as it is, never re-judged.
                try state.admit(payload, event: nil, mode: .replay)
                state.headHash = record.hash
                try StoredRecord(
                    seq: record.seq, prev: record.prev, hash: record.hash, kind: payload.kind.rawValue,
                    payload: record.payload, savedAt: payload.kind == .ballot ? String(now.prefix(10)) : now
                )
                .insert(db)
                try Self.notePaper(payload, seq: record.seq, db: db)
            }
        }
    }

    /// A box's papers are numbered 1…returned at the desk: a correction of its closing record may not make it return
    /// fewer papers than the highest number already keyed (those papers would count, and later ones never could).
    static func checkPapers(_ payload: RecordPayload, db: Database) throws {
        guard case .correction(let correction) = payload, case .boxClosed(let closed)? = correction.replacement else {
            return
        }
        let highest = try Int.fetchOne(
            db,
            sql: """
                SELECT MAX(paper) FROM (SELECT paper FROM keyedPass WHERE session = ? AND box = ?
                UNION ALL SELECT paper FROM keyedPaper WHERE session = ? AND box = ?)
                """, arguments: [closed.session, closed.box, closed.session, closed.box])
        if let highest, highest > closed.returned {
            throw RecordRejection(
                "box \(closed.box) of session \(closed.session) has papers keyed up to number \(highest): it cannot have "
                    + "returned \(closed.returned)")
        }
    }

    /// A ballot keyed from paper marks its paper as counted (`keyedPaper`), whatever path saves it — the desk, a
    /// restore from the aggregator, a handover — so the desk never makes a second ballot of the same paper.
    static func notePaper(_ payload: RecordPayload, seq: Int64, db: Database) throws {
        guard case .ballot(let ballot) = payload, let paper = ballot.paper else { return }
        try db.cachedStatement(
            sql: """
                INSERT OR IGNORE INTO keyedPaper (session, box, paper, ballotSeq, leadID, decidedAt)
                VALUES (?, ?, ?, ?, NULL, ?)
                """
        ).execute(arguments: [ballot.session, ballot.box, paper, seq, timestamp()])
    }

    /// Rebuilds the ledger state from every record, verifying the chain on the way.
    static func loadState(_ db: Database) throws -> Ledger {
        var state = Ledger()
        let rows = try StoredRecord.order(StoredRecord.Columns.seq).fetchCursor(db)
        while let row = try rows.next() {
            try RecordChain.verify([row.chained], afterSeq: state.headSeq, afterHash: state.headHash)
            let payload = try RecordPayload.decode(json: row.payload)
            try state.admit(payload, event: nil, mode: .replay)
            state.headHash = row.hash
        }
        return state
    }

    /// What the venue's own reconciliation looks at, computed from its records and roster (offline).
    public func reconciliationInput(event: LoadedEvent, venue: String, now: Date = Date()) throws -> ReconciliationInput
    {
        try writer.read { db in
            let state = try Self.loadState(db)
            var checkins: [CheckinFact] = []
            var corrections: [CorrectionFact] = []
            for (seq, payload) in state.content.sorted(by: { $0.key < $1.key }) {
                if case .checkin(let checkin) = payload {
                    checkins.append(
                        CheckinFact(
                            venue: venue, seq: seq, session: checkin.session, rep: checkin.rep,
                            category: checkin.category, person: checkin.person,
                            walkin: checkin.walkin ?? false))
                }
            }
            for row in try StoredRecord.filter(Column("kind") == "correction").order(StoredRecord.Columns.seq).fetchAll(
                db)
            {
                if case .correction(let correction) = try RecordPayload.decode(json: row.payload) {
                    corrections.append(
                        CorrectionFact(
                            venue: venue, seq: row.seq, target: correction.target,
                            reason: correction.reason, operatorName: correction.operator,
                            at: correction.at, replaced: correction.replacement != nil))
                }
            }
            let counters = state.totals
            var input = ReconciliationInput(
                event: event, totals: Totals(event: event.definition.id, venue: venue, counters: counters),
                roster: try RosterTables.current(db), checkins: checkins, corrections: corrections, nodes: [],
                alarms: [], now: now, venues: [venue])
            input.forms = FormTotals(venue: venue, counters: counters)
            return input
        }
    }

    /// Records from `seq` on, at most `limit` of them and about `maxBytes` of payload (at least one).
    public func records(from seq: Int64, limit: Int, maxBytes: Int) throws -> [ChainedRecord] {
        try writer.read { db in
            var result: [ChainedRecord] = []
            var bytes = 0
            let rows = try StoredRecord.filter(StoredRecord.Columns.seq >= seq).order(StoredRecord.Columns.seq)
                .limit(limit).fetchCursor(db)
            while let row = try rows.next() {
                bytes += row.payload.utf8.count + 200
                if !result.isEmpty && bytes > maxBytes { break }
                result.append(row.chained)
            }
            return result
        }
    }

    /// All records, in order.
    public func allRecords() throws -> [ChainedRecord] {
        try writer.read { db in try StoredRecord.order(StoredRecord.Columns.seq).fetchAll(db).map(\.chained) }
    }

    /// The last record's sequence and hash (0 and genesis for an empty chain).
    public func head() throws -> (seq: Int64, hash: String) {
        try writer.read { db in
            let row = try StoredRecord.order(StoredRecord.Columns.seq.desc).fetchOne(db)
            return (row?.seq ?? 0, row?.hash ?? RecordChain.genesis)
        }
    }

    /// The hash of record `seq`, if the node has it.
    public func hash(at seq: Int64) throws -> String? {
        try writer.read { db in try StoredRecord.fetchOne(db, key: seq)?.hash }
    }

    /// Notes a sync attempt: what the aggregator acknowledged, or the error.
    public func logSync(ok: Bool, ackedSeq: Int64? = nil, ackedHash: String? = nil, message: String? = nil) throws {
        try write { db in
            try SyncAttempt(
                id: nil, at: Self.timestamp(), ok: ok, ackedSeq: ackedSeq, ackedHash: ackedHash,
                message: message
            ).insert(db)
        }
    }

    /// The sequence the aggregator last said it holds (its latest acknowledgement or cursor).
    public func acknowledgedSeq() throws -> Int64 {
        try writer.read { db in try Self.acknowledgedSeq(db) }
    }

    static func acknowledgedSeq(_ db: Database) throws -> Int64 {
        try Int64.fetchOne(db, sql: "SELECT ackedSeq FROM syncAttempt WHERE ok ORDER BY id DESC LIMIT 1") ?? 0
    }

    /// Counts and sync state for `venue-node status`.
    public func status() throws -> NodeStatus {
        try writer.read { db in
            let acknowledged = try Self.acknowledgedSeq(db)
            let last = try SyncAttempt.order(SyncAttempt.Columns.id.desc).fetchOne(db)
            var kinds: [String: Int] = [:]
            var checkins: [String: Int] = [:]
            var ballots: [String: Int] = [:]
            let head: (seq: Int64, hash: String)
            if try Self.ledgerIsCurrent(db) {
                // The counts kept with the ledger: as cheap on 10^5 records as on none.
                head = try Self.chainHead(db)
                for (name, value) in try Self.counts(db) where value != 0 {
                    let parts = name.split(separator: ":", maxSplits: 1).map(String.init)
                    guard parts.count == 2 else { continue }
                    switch parts[0] {
                    case "kind": kinds[parts[1]] = value
                    case "checkins": checkins[parts[1]] = value
                    case "ballots": ballots[parts[1]] = value
                    default: break
                    }
                }
            } else {
                let state = try Self.loadState(db)
                head = (state.headSeq, state.headHash)
                for row in try Row.fetchAll(db, sql: "SELECT kind, COUNT(*) AS n FROM record GROUP BY kind") {
                    kinds[row["kind"]] = row["n"]
                }
                for (counter, value) in state.totals {
                    switch counter {
                    case .attendance(let session, _): checkins[session, default: 0] += value
                    case .ballots(let session, _, _): ballots[session, default: 0] += value
                    default: break
                    }
                }
            }
            return NodeStatus(
                lastSeq: head.seq, lastHash: head.hash, acknowledgedSeq: acknowledged,
                pending: head.seq - acknowledged, lastSyncAt: last?.at,
                lastError: last.flatMap { $0.ok ? nil : $0.message }, records: kinds,
                checkins: checkins, ballots: ballots)
        }
    }

    /// Keeps a receipt the aggregator signed.
    public func saveReceipt(_ receipt: Receipt) throws {
        try write { db in
            try db.execute(
                sql: """
                    INSERT INTO receipt (venue, node, firstSeq, lastSeq, lastHash, signature, receivedAt)
                    VALUES (?, ?, ?, ?, ?, ?, ?)
                    """,
                arguments: [
                    receipt.venue, receipt.node, receipt.firstSeq, receipt.lastSeq, receipt.lastHash,
                    receipt.signature, Self.timestamp(),
                ])
        }
    }

    public func receipts() throws -> [Receipt] {
        try writer.read { db in
            try Row.fetchAll(db, sql: "SELECT * FROM receipt ORDER BY id").map {
                Receipt(
                    venue: $0["venue"], node: $0["node"], firstSeq: $0["firstSeq"], lastSeq: $0["lastSeq"],
                    lastHash: $0["lastHash"], signature: $0["signature"])
            }
        }
    }
}
