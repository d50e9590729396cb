import ArgumentParser
import Crypto
import Foundation
import Logging
import ServiceLifecycle
import Shared

/// `venue-node`: records a venue's attendance and ballot boxes offline and syncs them to the aggregator.
public struct VenueNodeCommand: AsyncParsableCommand {
    public static let configuration = CommandConfiguration(
        commandName: "venue-node",
        abstract: "Record a venue's check-ins and ballot boxes offline; sync signed batches to the aggregator.",
        discussion: "Every command but `sync` works without the network. See docs/venue-node.md.",
        subcommands: [
            Init.self, Enroll.self, Roster.self, Checkin.self, Box.self, Ballot.self, Correct.self, Import.self, Status.self, Report.self,
            Verify.self, Receipts.self,
            Sync.self, Run.self, Restore.self, Handover.self,
        ]
    )

    public init() {}
}

/// The `--data-dir` every command takes.
struct DataDirectoryOption: ParsableArguments {
    @Option(name: .customLong("data-dir"), help: "The node's data directory (made by `venue-node init`).")
    var path: String

    var url: URL { URL(filePath: path) }

    func open() throws -> (NodeDirectory, NodeDatabase) {
        let directory = try NodeDirectory.open(at: url)
        return (directory, try NodeDatabase(path: directory.databasePath))
    }
}

extension VenueNodeCommand {
    struct Init: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Create a node's data directory and Ed25519 key pair; print its public key.",
            discussion: """
                With --token (from `aggregator nodes enroll`), the node enrols itself at once: it sends its public
                key with the one-time token, and keeps the aggregator's key for checking receipts. Example:
                  venue-node init --data-dir /var/lib/venue-node --event examples/ordos-2021/event.json \\
                    --venue dongsheng --aggregator https://tally.example:8443 --ca-file /etc/sanmin/ca.pem --token sme_…
                Without --token, enrol the printed key on the aggregator by hand:
                  aggregator nodes add --venue dongsheng --public-key KEY
                """)

        @OptionGroup var data: DataDirectoryOption
        @Option(help: "The event file (JSON, see docs/event-format.md).") var event: String
        @Option(help: "This node's venue id, as in the event file.") var venue: String
        @Option(help: "The aggregator's base URL (http:// or https://).") var aggregator: String
        @Option(help: "The aggregator's public key (`aggregator identity`): receipts are then checked and kept.")
        var aggregatorKey: String?
        @Option(help: "A one-time enrolment token from `aggregator nodes enroll`: enrol this node now.")
        var token: String?
        @Option(help: "https: a CA bundle (PEM) to trust for the aggregator instead of the system's.")
        var caFile: String?
        @Option(help: "https: pin the aggregator's public key, sha256//BASE64 (see docs/security.md).")
        var pinPublicKey: String?

        func validate() throws {
            if token != nil, aggregatorKey == nil, !aggregator.lowercased().hasPrefix("https://") {
                throw ValidationError("""
                    over plain http anyone on the way could answer the enrolment with another key: give \
                    --aggregator-key (from `aggregator identity`) or use an https:// aggregator URL
                    """)
            }
        }

        func run() async throws {
            if token != nil, let aggregatorKey {
                // Before anything is created or enrolled: a wrong key must leave the token unused.
                let check = IdentityCheck(baseURL: aggregator, client: CurlHTTPClient(
                    connectTimeout: 5, totalTimeout: 30, caFile: caFile, pinnedPublicKey: pinPublicKey))
                do {
                    _ = try await check.verify(expected: aggregatorKey)
                } catch let error as SyncError {
                    FileHandle.standardError.write(Data("\(error.message). No data directory was created.\n".utf8))
                    throw ExitCode.failure
                }
            }
            let directory = try NodeDirectory.create(
                at: data.url, eventFile: URL(filePath: event), venue: venue,
                aggregator: .init(url: aggregator, key: aggregatorKey, caFile: caFile, pinnedPublicKey: pinPublicKey))
            let database = try NodeDatabase(path: directory.databasePath, create: true)
            for warning in directory.event.warnings {
                FileHandle.standardError.write(Data("event: \(warning)\n".utf8))
            }
            print("node id:    \(directory.configuration.nodeID)")
            print("venue:      \(venue)")
            print("public key: \(directory.publicKeyBase64)")
            if let token {
                do {
                    try await Enroll.enrol(directory: directory, database: database, token: token)
                } catch {
                    FileHandle.standardError.write(Data(("the data directory is created, but enrolment failed: \(error)\n"
                        + "retry with: venue-node enroll --data-dir \(data.path) --token TOKEN\n").utf8))
                    throw ExitCode(2)
                }
            }
        }
    }

    struct Enroll: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Enrol this node at the aggregator with a one-time token (from `aggregator nodes enroll`).",
            discussion: """
                The node sends its public key with the token, signed with its private key. A token works once; the
                same node may present it again if the answer was lost. Example:
                  venue-node enroll --data-dir /var/lib/venue-node --token sme_…
                """)

        @OptionGroup var data: DataDirectoryOption
        @Option(help: "The one-time enrolment token.") var token: String

        func run() async throws {
            let (directory, database) = try data.open()
            try await Self.enrol(directory: directory, database: database, token: token)
        }

        static func enrol(directory: NodeDirectory, database: NodeDatabase, token: String) async throws {
            if let configured = directory.configuration.aggregatorKey {
                // Before the token is used: a wrong key must leave it unused and the venue's node in place.
                _ = try await IdentityCheck(baseURL: directory.configuration.aggregatorURL, client: directory.httpClient())
                    .verify(expected: configured)
            }
            let syncer = Syncer(directory: directory, database: database, logger: Logger(label: "venue-node.enroll"))
            let response = try await syncer.enrol(token: token)
            print("enrolled as node \(response.node) for venue \(response.venue), epoch \(response.epoch)")
            if let key = response.aggregatorKey {
                if let configured = directory.configuration.aggregatorKey {
                    guard configured == key else {
                        throw SyncError(message: "the aggregator's key (\(key)) is not the --aggregator-key this node was "
                            + "given (\(configured)): something else may be answering", retryable: false)
                    }
                } else {
                    _ = try directory.recordingAggregatorKey(key)
                    print("aggregator key: \(key) (kept in node.json; compare it with `aggregator identity`)")
                }
            }
        }
    }

    struct Checkin: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Record a representative's check-in: by roster id, card code or ID-card number.",
            discussion: """
                With a roster imported, the representative must be on this venue's roster for the session (unless
                the event allows walk-ins); the category comes from the roster. Checking in by ID-card number needs
                the roster secret (SANMIN_ROSTER_SECRET); the number itself is not stored. Examples:
                  venue-node checkin --data-dir DIR --session S1 --rep R0001
                  venue-node checkin --data-dir DIR --session S1 --card 2021-0001
                  venue-node checkin --data-dir DIR --session S1 --id-number 150602199001011234
                """)

        @OptionGroup var data: DataDirectoryOption
        @Option(help: "Session id.") var session: String
        @Option(help: "Roster id.") var rep: String?
        @Option(help: "Code printed on the representative's card.") var card: String?
        @Option(help: "ID-card number (18 characters).") var idNumber: String?
        @Option(help: "Representative category id (needed without a roster, and for walk-ins).") var category: String?

        func validate() throws {
            guard [rep, card, idNumber].compactMap({ $0 }).count == 1 else {
                throw ValidationError("give exactly one of --rep, --card, --id-number")
            }
        }

        func run() throws {
            let (directory, database) = try data.open()
            let desk = try directory.checkinDesk(database)
            let request = CheckinRequest(session: session, rep: rep, card: card, idNumber: idNumber, category: category)
            let payload = try desk.checkin(request, at: Date().formatted(.iso8601))
            let saved = try appending(directory) {
                try database.append([.checkin(payload)], event: directory.event.definition)
            }
            for record in saved {
                print("saved record \(record.seq) (\(record.hash.prefix(16))…): \(payload.rep), \(payload.category)"
                    + (payload.walkin == true ? ", walk-in" : ""))
            }
        }
    }

    struct Roster: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Import the roster the check-in desk works from.", subcommands: [Import.self])

        struct Import: ParsableCommand {
            static let configuration = CommandConfiguration(
                abstract: "Import a roster CSV, whole or not at all (docs/roster.md).",
                discussion: """
                    The venue's file comes from `aggregator roster export --venue V` (person keys, no ID numbers). A
                    central file with id_number columns needs the roster secret (SANMIN_ROSTER_SECRET). UTF-8 or
                    GB18030. Example: venue-node roster import --data-dir DIR roster-dalate.csv
                    """)
            @OptionGroup var data: DataDirectoryOption
            @Argument(help: "The roster CSV file.") var file: String

            func run() throws {
                let (directory, database) = try data.open()
                let bytes = try InputFile.read(file)
                let header = String(decoding: (try? TextDecoding.utf8(bytes)) ?? bytes, as: UTF8.self)
                    .prefix { $0 != "\n" }
                let keyer = header.contains("id_number") ? try PersonKeyer.fromEnvironment() : nil
                let entries = try RosterCSV.parse(bytes, event: directory.event.definition, keyer: keyer, file: file)
                let here = entries.filter { $0.venue == directory.configuration.venue }.count
                guard here > 0 else {
                    // An empty roster would turn every arrival into a walk-in: surely the wrong file.
                    throw ValidationError("\(file) lists nobody at venue \(directory.configuration.venue) "
                        + "(\(entries.count) representative(s) in all): nothing imported; export the venue's roster with "
                        + "aggregator roster export --venue \(directory.configuration.venue)")
                }
                try database.importRoster(entries, file: URL(filePath: file).lastPathComponent,
                                          digest: SHA256.hash(data: bytes).hexString)
                print("imported \(entries.count) representative(s), \(here) of them at venue \(directory.configuration.venue)")
            }
        }
    }

    struct Box: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Record that a ballot box was opened or closed.",
            subcommands: [Open.self, Close.self])

        struct Open: ParsableCommand {
            static let configuration = CommandConfiguration(
                abstract: "Record that a box was opened.",
                discussion: "Example: venue-node box open --data-dir DIR --session S1 --box B1")
            @OptionGroup var data: DataDirectoryOption
            @Option(help: "Session id.") var session: String
            @Option(help: "Box id, e.g. B1.") var box: String

            func run() throws {
                try save([.boxOpened(.init(session: session, box: box, at: Date().formatted(.iso8601)))], data: data)
            }
        }

        struct Close: ParsableCommand {
            static let configuration = CommandConfiguration(
                abstract: "Record that a box was closed, with the forms issued for it and returned into it.",
                discussion: "Example: venue-node box close --data-dir DIR --session S1 --box B1 --issued 400 --returned 398")
            @OptionGroup var data: DataDirectoryOption
            @Option(help: "Session id.") var session: String
            @Option(help: "Box id.") var box: String
            @Option(help: "Forms issued.") var issued: Int
            @Option(help: "Forms returned into the box.") var returned: Int

            func run() throws {
                try save([.boxClosed(.init(session: session, box: box, issued: issued, returned: returned,
                                           at: Date().formatted(.iso8601)))], data: data)
            }
        }
    }

    struct Ballot: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Record one evaluation ballot taken out of a box.",
            discussion: """
                Give one mark per department on the session's ballot, or --blank, or --spoiled. Example:
                  venue-node ballot --data-dir DIR --session S1 --box B1 --marks D01=satisfied,D02=dissatisfied,...
                """)

        @OptionGroup var data: DataDirectoryOption
        @Option(help: "Session id.") var session: String
        @Option(help: "Box id.") var box: String
        @Option(help: "DEPT=MARK pairs, comma-separated.") var marks: String?
        @Flag(help: "A blank ballot.") var blank = false
        @Flag(help: "A spoiled ballot.") var spoiled = false

        func validate() throws {
            guard [marks != nil, blank, spoiled].filter({ $0 }).count == 1 else {
                throw ValidationError("give exactly one of --marks, --blank, --spoiled")
            }
        }

        func run() throws {
            var parsed: [String: String] = [:]
            for pair in (marks ?? "").split(separator: ",") {
                let parts = pair.split(separator: "=", maxSplits: 1).map { $0.trimmingCharacters(in: .whitespaces) }
                guard parts.count == 2, !parts[0].isEmpty, !parts[1].isEmpty else {
                    throw ValidationError("\"\(pair)\" is not DEPT=MARK")
                }
                guard parsed[parts[0]] == nil else { throw ValidationError("department \(parts[0]) is marked twice") }
                parsed[parts[0]] = parts[1]
            }
            let status: RecordPayload.BallotStatus = blank ? .blank : spoiled ? .spoiled : .valid
            try save([.ballot(.init(session: session, box: box, status: status, marks: parsed))], data: data)
        }
    }

    struct Correct: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Correct an earlier record: it stops counting, and the replacement (if any) counts instead.",
            discussion: """
                Nothing is changed or deleted: the correction is a new record naming the one it corrects. Examples:
                  venue-node correct --data-dir DIR --target 17 --reason "entered twice" --operator "王芳" --void
                  venue-node correct --data-dir DIR --target 40 --reason "miscounted" --operator "王芳" \\
                    --replacement '{"kind":"box_closed","session":"S1","box":"B1","issued":400,"returned":399}'
                """)

        @OptionGroup var data: DataDirectoryOption
        @Option(help: "Sequence number of the record to correct.") var target: Int64
        @Option(help: "Why.") var reason: String
        @Option(help: "Who makes the correction.") var `operator`: String
        @Flag(help: "The record simply stops counting.") var void = false
        @Option(help: "The record that counts instead, as payload JSON.") var replacement: String?

        func validate() throws {
            guard void != (replacement != nil) else { throw ValidationError("give exactly one of --void, --replacement") }
        }

        func run() throws {
            let payload = try replacement.map { text in
                do { return try RecordPayload.decode(json: text) } catch {
                    throw ValidationError("--replacement is not a record payload: \(error)")
                }
            }
            try save([.correction(.init(target: target, reason: reason, operator: `operator`, replacement: payload,
                                        at: Date().formatted(.iso8601)))], data: data)
        }
    }

    struct Import: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Import check-ins or ballots from a CSV file, all rows or none.",
            discussion: """
                Check-ins: columns session and one of rep, card_code, id_number, and category (needed without a
                roster). Ballots: columns session,box,status followed by one column per
                department id (status valid|blank|spoiled; a valid row has a mark in every department on its session's
                ballot). Example: venue-node import --data-dir DIR --ballots scanner-export.csv
                """)

        @OptionGroup var data: DataDirectoryOption
        @Flag(help: "The file holds check-ins.") var checkins = false
        @Flag(help: "The file holds ballots.") var ballots = false
        @Flag(help: "Import rows that were imported before for the same box (refused otherwise: they would count twice).")
        var again = false
        @Argument(help: "The CSV file (UTF-8 or GB18030).") var file: String

        func validate() throws {
            guard checkins != ballots else { throw ValidationError("give exactly one of --checkins, --ballots") }
        }

        func run() throws {
            let (directory, database) = try data.open()
            var rows: [(line: Int, payload: RecordPayload)] = []
            let bytes = try InputFile.read(file)
            do {
                let table = try CSVTable(data: bytes)
                if checkins {
                    let desk = try directory.checkinDesk(database)
                    let now = Date().formatted(.iso8601)
                    for (line, request) in try CSVImport.checkins(table) {
                        do {
                            rows.append((line, .checkin(try desk.checkin(request, at: now))))
                        } catch let rejection as RecordRejection {
                            throw ImportError(file: file, line: line, message: rejection.message)
                        }
                    }
                } else {
                    // Saved in a random order: nothing of the order in which ballots were typed (which might
                    // follow the check-in desk) is kept. Each row keeps its line number for error messages.
                    rows = try CSVImport.ballots(table).shuffled()
                }
            } catch let error as CSVTable.ParseError {
                throw ImportError(file: file, line: error.line, message: error.message)
            }
            do {
                let saved = try appending(directory) {
                    try database.importRows(rows.map(\.payload), form: checkins ? "checkins" : "ballots",
                                            file: URL(filePath: file).lastPathComponent,
                                            bytesDigest: SHA256.hash(data: bytes).hexString, again: again,
                                            event: directory.event.definition)
                }
                print("imported \(saved.count - 1) record(s) from \(file) (import record \(saved.first?.seq ?? 0)); "
                    + "last sequence \(saved.last?.seq ?? 0)")
            } catch let error as AppendError {
                throw ImportError(file: file, line: error.index >= 0 ? rows[error.index].line : 1, message: error.rejection.message)
            }
        }
    }

    struct Status: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Show local counts and sync state (works offline).",
            discussion: "Example: venue-node status --data-dir DIR --json")

        @OptionGroup var data: DataDirectoryOption
        @Flag(help: "Print JSON.") var json = false

        func run() throws {
            let (directory, database) = try data.open()
            let status = try database.status()
            if json {
                let encoder = JSONEncoder()
                encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
                print(String(decoding: try encoder.encode(status), as: UTF8.self))
                return
            }
            let configuration = directory.configuration
            print("venue:            \(configuration.venue)  node \(configuration.nodeID)")
            print("aggregator:       \(configuration.aggregatorURL)")
            print("records:          \(status.lastSeq)  (head \(status.lastHash.prefix(16))…)")
            print("acknowledged:     \(status.acknowledgedSeq)")
            print("pending:          \(status.pending)")
            print("last sync:        \(status.lastSyncAt ?? "never")")
            print("last error:       \(status.lastError ?? "none")")
            for session in directory.event.definition.sessions {
                print("session \(session.id): check-ins \(status.checkins[session.id] ?? 0), "
                    + "ballots \(status.ballots[session.id] ?? 0)")
            }
        }
    }

    struct Report: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "The venue's own reconciliation, offline: attendance against quota, boxes, people, corrections.",
            discussion: "Example: venue-node report --data-dir DIR --lang en")

        @OptionGroup var data: DataDirectoryOption
        @Flag(help: "Print JSON.") var json = false
        @Option(help: "Language: zh or en.") var lang = "zh"
        @Flag(help: "List every finding, attendance per category included.") var allFindings = false

        func run() throws {
            let (directory, database) = try data.open()
            let input = try database.reconciliationInput(event: directory.event, venue: directory.configuration.venue)
            let attendance = Reconciliation.attendance(input)
            let findings = Reconciliation.findings(input)
            if json {
                struct Body: Encodable {
                    var venue: String
                    var attendance: [AttendanceRow]
                    var findings: [Finding]
                }
                let encoder = JSONEncoder()
                encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
                let body = Body(venue: directory.configuration.venue, attendance: attendance, findings: findings)
                print(String(decoding: try encoder.encode(body), as: UTF8.self))
                return
            }
            let language = ReportLanguage(rawValue: lang) ?? .zh
            print(ReportText.attendance(attendance, event: directory.event.definition, language: language))
            print("")
            print(ReportText.findings(findings, language: language, all: allFindings))
        }
    }

    struct Receipts: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Prove which records the aggregator accepted, from the receipts it signed.",
            subcommands: [Check.self])

        struct Check: AsyncParsableCommand {
            static let configuration = CommandConfiguration(
                commandName: "verify",
                abstract: "Verify every receipt and say which records they prove accepted; with --heads, also check "
                    + "the aggregator's signed heads still cover them.",
                discussion: "Exit status 1 when a receipt or a head does not check. Example: venue-node receipts verify --data-dir DIR --heads")
            @OptionGroup var data: DataDirectoryOption
            @Flag(help: "Fetch the aggregator's signed heads (GET /v1/heads) and check them too.") var heads = false

            func run() async throws {
                let (directory, database) = try data.open()
                guard let keyText = directory.configuration.aggregatorKey,
                      let key = NodeIdentity.publicKey(base64: keyText) else {
                    throw ValidationError("this node has no aggregator key: receipts were not kept (venue-node init "
                        + "--aggregator-key)")
                }
                var signedHeads: SignedHeads?
                if heads {
                    signedHeads = try await Syncer(directory: directory, database: database,
                                                   logger: Logger(label: "venue-node.receipts")).fetchHeads()
                }
                let check = ReceiptCheck.run(records: try database.allRecords(), receipts: try database.receipts(),
                                             venue: directory.configuration.venue, key: key, heads: signedHeads)
                print("\(check.receipts) receipt(s); records 1…\(check.provenThrough) of venue "
                    + "\(directory.configuration.venue) are proven accepted by the aggregator")
                if let signedHeads, let head = signedHeads.heads.first(where: { $0.venue == directory.configuration.venue }) {
                    print("the aggregator's signed head (\(signedHeads.signedAt)): record \(head.seq)")
                }
                for problem in check.problems { print("problem: \(problem)") }
                if !check.problems.isEmpty { throw ExitCode.failure }
            }
        }
    }

    struct Verify: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Verify the node's hash chain from the first record to the last.")

        @OptionGroup var data: DataDirectoryOption

        func run() throws {
            let (_, database) = try data.open()
            let records = try database.allRecords()
            try RecordChain.verify(records)
            print("chain ok: \(records.count) record(s), head \(records.last?.hash ?? RecordChain.genesis)")
        }
    }

    struct Sync: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Push every pending record to the aggregator; exit 0 only when all are acknowledged.",
            discussion: "Example: venue-node sync --data-dir DIR")

        @OptionGroup var data: DataDirectoryOption
        @Option(help: "Records per batch.") var batchSize = 500
        @Option(help: "Resend from this sequence number on, whatever the aggregator holds.") var fromSeq: Int64?
        @Option(help: "Seconds allowed for the whole of one request.") var timeout = 30

        func run() async throws {
            let (directory, database) = try data.open()
            let logger = Logger(label: "venue-node.sync")
            let syncer = Syncer(directory: directory, database: database,
                                client: directory.httpClient(connectTimeout: 5, totalTimeout: timeout),
                                batchSize: batchSize, logger: logger)
            let report = try await syncer.sync(fromSeq: fromSeq)
            let head = try database.head()
            print("sent \(report.recordsSent) record(s) in \(report.batchesSent) batch(es); "
                + "acknowledged through \(report.acknowledgedSeq) of \(head.seq)")
            // Exit 0 only when the aggregator has acknowledged the last record (its acknowledgement is logged),
            // whatever this run sent.
            guard report.acknowledgedSeq >= head.seq, try database.acknowledgedSeq() >= head.seq else {
                throw SyncError(message: "\(head.seq - report.acknowledgedSeq) record(s) are not acknowledged yet",
                                retryable: true)
            }
        }
    }

    struct Restore: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Pull the venue's records back from the aggregator into a new, empty node.",
            discussion: """
                After a reimage that lost the data directory: `venue-node init` a new one (a new key), have the
                central office enrol the new key for the same venue (`aggregator nodes add`, which retires the old
                key), then restore; numbering continues after the last record the aggregator holds. Example:
                  venue-node restore --data-dir /var/lib/venue-node
                """)

        @OptionGroup var data: DataDirectoryOption

        func run() async throws {
            let (directory, database) = try data.open()
            let syncer = Syncer(directory: directory, database: database, logger: Logger(label: "venue-node.restore"))
            let count = try await syncer.restore()
            print("restored \(count) record(s) of venue \(directory.configuration.venue); the next record is \(count + 1)")
        }
    }

    struct Run: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Run as a daemon: keep syncing, backing off while the aggregator is unreachable, until SIGTERM.",
            discussion: """
                Under systemd (Type=notify) it says READY=1 once the store is open, pings the watchdog at half of
                WatchdogSec and says STOPPING=1 on shutdown. It locks the data directory (DIR/.lock) while it runs:
                a second `run` on the same directory stops at once, naming the process that holds it. Options can come from a file: --config FILE, with
                lines such as "data-dir = /var/lib/venue-node" (see deploy/venue-node.conf).
                Example: venue-node run --data-dir /var/lib/venue-node
                """)

        @OptionGroup var data: DataDirectoryOption
        @Option(help: "Seconds between syncs when all is well.") var interval = 5
        @Option(help: "Longest wait between retries, in seconds.") var maxBackoff = 300

        func run() async throws {
            // One daemon per data directory, for the life of this process (a second one stops here).
            guard FileManager.default.fileExists(atPath: data.url.appending(path: "node.json").path) else {
                _ = try data.open()  // says what is missing
                return
            }
            let lock = try DataDirectoryLock(directory: data.path, program: "venue-node run")
            defer { withExtendedLifetime(lock) {} }
            let (directory, database) = try data.open()
            var logger = Logger(label: "venue-node")
            logger[metadataKey: "venue.id"] = "\(directory.configuration.venue)"
            logger[metadataKey: "node.id"] = "\(directory.configuration.nodeID)"
            let service = SyncService(syncer: Syncer(directory: directory, database: database, logger: logger),
                                      interval: .seconds(interval), maxBackoff: .seconds(maxBackoff), logger: logger)
            let watchdog = WatchdogService(notifier: SystemdNotifier())
            let group = ServiceGroup(configuration: .init(
                services: [service, watchdog], gracefulShutdownSignals: [.sigterm, .sigint], logger: logger))
            // The store is open: under systemd (Type=notify) the unit is now started.
            watchdog.ready()
            try await group.run()
        }
    }
}

/// Appends records and prints where they went.
private func save(_ payloads: [RecordPayload], data: DataDirectoryOption) throws {
    let (directory, database) = try data.open()
    let saved = try appending(directory) { try database.append(payloads, event: directory.event.definition) }
    for record in saved { print("saved record \(record.seq) (\(record.hash.prefix(16))…)") }
}

/// Runs a write, turning storage failures (disk full, I/O errors) into a message an operator can act on.
func appending<T>(_ directory: NodeDirectory, _ write: () throws -> T) throws -> T {
    do {
        return try write()
    } catch {
        if let explained = DurableDatabase.explain(error, path: directory.databasePath) {
            throw DurableDatabase.Failure(description: explained)
        }
        throw error
    }
}
