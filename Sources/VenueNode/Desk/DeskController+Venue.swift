import DaemonSupport
import Foundation
import HTTPTypes
import Hummingbird
import Shared

/// The rest of the venue's work at the desk: what the event is, where the venue stands (attendance, boxes, sync),
/// CSV uploads, corrections, the venue's own reconciliation and the printable box record.
extension DeskController {
    /// The event as the page needs it, once: sessions with their ballots, marks, categories, this venue's quotas.
    struct EventAnswer: Encodable {
        struct Named: Encodable {
            var id: String
            var name: String
        }
        struct Mark: Encodable {
            var id: String
            var labelZh: String
            var labelEn: String
            enum CodingKeys: String, CodingKey {
                case id
                case labelZh = "label_zh"
                case labelEn = "label_en"
            }
        }
        struct Session: Encodable {
            var id: String
            var name: String
            var date: String?
            var departments: [Named]
            /// Category → quota of this venue for the session.
            var quotas: [String: Int]
            /// The questions of each survey (issue #17) as asked in the session: kind → its answer keys in order.
            var forms: [String: [FormQuestion]]
        }
        /// One answer key of a survey: a question, or a question about one department.
        struct FormQuestion: Encodable {
            var key: String
            var text: String
            var textEn: String?
            var department: String?
            var options: [Option]
            enum CodingKeys: String, CodingKey {
                case key, text, department, options
                case textEn = "text_en"
            }
        }
        struct Option: Encodable {
            var id: String
            var label: String
            var labelEn: String?
            enum CodingKeys: String, CodingKey {
                case id, label
                case labelEn = "label_en"
            }
        }
        var title: String
        var titleEn: String?
        var venue: Named
        var sessions: [Session]
        var marks: [Mark]
        var categories: [Named]
        var walkInsAllowed: Bool
        /// Every department of the event and the suggestion form's topics (what a suggestion may name).
        var departments: [Named]
        var topics: [Named]

        enum CodingKeys: String, CodingKey {
            case title, venue, sessions, marks, categories, departments, topics
            case titleEn = "title_en"
            case walkInsAllowed = "walk_ins_allowed"
        }
    }

    /// The questions of each survey the event defines (issue #17) as asked in `session`: kind → its answer keys, in
    /// order, each with its question's text and answers (and its department's name when asked per department).
    static func formQuestions(event: EventDefinition, session: String) -> [String: [EventAnswer.FormQuestion]] {
        var result: [String: [EventAnswer.FormQuestion]] = [:]
        for kind in [RecordPayload.FormKind.survey, .discipline] where event.questionnaire(kind) != nil {
            result[kind.rawValue] = event.answerKeys(kind, session: session).map { key, question in
                let department = key.split(separator: ":", maxSplits: 1).dropFirst().first.map(String.init)
                return EventAnswer.FormQuestion(
                    key: key, text: question.text, textEn: question.textEn,
                    department: department.map { id in event.departments.first { $0.id == id }?.name ?? id },
                    options: question.options.map { .init(id: $0.id, label: $0.label, labelEn: $0.labelEn) })
            }
        }
        return result
    }

    @Sendable func eventInfo(_ request: Request, context: DeskRequestContext) async throws -> Response {
        _ = try clerk(context)
        let event = venue.event.definition
        let answer = EventAnswer(
            title: event.title, titleEn: event.titleEn,
            venue: .init(id: venue.venue, name: event.venue(venue.venue)?.name ?? venue.venue),
            sessions: event.sessions.map { session in
                EventAnswer.Session(
                    id: session.id, name: session.name ?? session.id, date: session.date,
                    departments: (event.ballotDepartments(session: session.id) ?? []).map {
                        .init(id: $0.id, name: $0.name)
                    },
                    quotas: event.quota(venue: venue.venue, session: session.id)?.counts ?? [:],
                    forms: Self.formQuestions(event: event, session: session.id))
            },
            marks: event.marks.map { .init(id: $0.id, labelZh: $0.labelZh, labelEn: $0.labelEn) },
            categories: event.categories.map { .init(id: $0.id, name: $0.name) },
            walkInsAllowed: event.walkInsAllowed == true,
            departments: event.departments.map { .init(id: $0.id, name: $0.name) },
            topics: (event.forms?.suggestion?.topics ?? []).map { .init(id: $0.id, name: $0.label) })
        return try DeskJSON.response(answer)
    }

    /// Where the venue stands now; the page asks every few seconds.
    struct OverviewAnswer: Encodable {
        struct Sync: Encodable {
            /// The last sync attempt succeeded, recently.
            var online: Bool
            var lastSeq: Int64
            var acknowledgedSeq: Int64
            var pending: Int64
            var lastSyncAt: String?
            var lastError: String?
            var lastReceiptSeq: Int64?
            var lastReceiptAt: String?

            enum CodingKeys: String, CodingKey {
                case online, pending
                case lastSeq = "last_seq"
                case acknowledgedSeq = "acknowledged_seq"
                case lastSyncAt = "last_sync_at"
                case lastError = "last_error"
                case lastReceiptSeq = "last_receipt_seq"
                case lastReceiptAt = "last_receipt_at"
            }
        }
        /// Session → category → checked in.
        var attendance: [String: [String: Int]]
        var boxes: [DeskBox]
        var sync: Sync
        /// The standbys copying this node's chain (issue #15): how far each holds it, and when it last asked.
        var standbys: [Standby]

        struct Standby: Encodable {
            var node: String
            var heldSeq: Int64?
            var behind: Int64?
            var lastAt: String?

            enum CodingKeys: String, CodingKey {
                case node
                case heldSeq = "held_seq"
                case behind
                case lastAt = "last_at"
            }
        }
    }

    @Sendable func overview(_ request: Request, context: DeskRequestContext) async throws -> Response {
        _ = try clerk(context)
        let database = self.database
        let within = Double(max(3 * venue.syncInterval, 15))
        let health = venue.health
        let answer = try await offload {
            let status = try database.status()
            let receipt = try database.latestReceipt()
            let online = health?.isOnline(within: within) ?? false
            return OverviewAnswer(
                attendance: try database.attendance(), boxes: try database.boxes(),
                sync: .init(
                    online: online, lastSeq: status.lastSeq, acknowledgedSeq: status.acknowledgedSeq,
                    pending: status.pending,
                    lastSyncAt: health?.snapshot.lastSuccess?.formatted(.iso8601) ?? status.lastSyncAt,
                    lastError: online ? nil : health?.snapshot.lastFailureMessage ?? status.lastError,
                    lastReceiptSeq: receipt?.lastSeq, lastReceiptAt: receipt?.receivedAt),
                standbys: try database.standbys().map {
                    .init(
                        node: String($0.nodeID.prefix(8)), heldSeq: $0.heldSeq,
                        behind: $0.heldSeq.map { status.lastSeq - $0 }, lastAt: $0.lastAt)
                })
        }
        return try DeskJSON.response(answer)
    }

    /// The largest CSV file the desk takes.
    static let maxCSVBytes = 20 << 20

    @Sendable func importCSV(_ request: Request, context: DeskRequestContext) async throws -> Response {
        let query = request.uri.queryParameters
        guard let form = query["form"].map(String.init), ["ballots", "checkins", "forms"].contains(form) else {
            throw DeskError(
                .badRequest, "bad_request",
                "give ?form=ballots, ?form=checkins or ?form=forms, and the file as the body")
        }
        // Uploaded ballots are not keyed twice: only the lead uploads them. Forms are the counting table's. (The same
        // rows twice are always refused at the desk: importing them again is `venue-node import --again`, on the node
        // itself.)
        let roles: Set<ClerkRole> =
            switch form {
            case "ballots": [.lead]
            case "forms": [.count, .lead]
            default: Set(ClerkRole.allCases)
            }
        let clerk = try clerk(context, roles)
        let file = query["file"].map(String.init).flatMap { $0.isEmpty ? nil : $0 } ?? "desk-upload.csv"
        let buffer = try await request.body.collect(upTo: Self.maxCSVBytes)
        let bytes = Data(buffer.readableBytesView)
        let database = self.database
        let venue = self.venue
        let rosters = self.rosters
        struct ImportAnswer: Encodable {
            var records: Int
            var importSeq: Int64
            var lastSeq: Int64
            enum CodingKeys: String, CodingKey {
                case records
                case importSeq = "import_seq"
                case lastSeq = "last_seq"
            }
        }
        do {
            let saved = try await offload {
                try CSVImport.importFile(
                    bytes, file: file, checkins: form == "checkins", forms: form == "forms", again: false,
                    clerk: clerk.attribution,
                    desk: { try rosters.desk(database, venue: venue) }, database: database,
                    event: venue.event.definition)
            }
            context.logger.info(
                "CSV imported at the desk", metadata: ["clerk.id": "\(clerk.id)", "records": "\(saved.count - 1)"])
            return try DeskJSON.response(
                ImportAnswer(records: saved.count - 1, importSeq: saved[0].seq, lastSeq: saved.last?.seq ?? 0))
        } catch let error as ImportError {
            throw DeskError(.badRequest, "bad_file", "line \(error.line): \(error.message); nothing was imported")
        } catch let error as NodeDatabase.AlreadyImported {
            throw DeskError(
                .conflict, "already_imported",
                error.description.replacingOccurrences(
                    of: "give --again only if", with: "import them with `venue-node import --again` only if"))
        } catch let error as NodeDatabase.BoxIsKeyed {
            throw DeskError(.conflict, "box_is_keyed", error.description)
        }
    }

    struct RecordRow: Encodable {
        var seq: Int64
        var kind: String
        var summary: String
        var savedAt: String
        var correctedBy: Int64?

        enum CodingKeys: String, CodingKey {
            case seq, kind, summary
            case savedAt = "saved_at"
            case correctedBy = "corrected_by"
        }
    }

    static func summary(_ payload: RecordPayload) -> String {
        switch payload {
        case .checkin(let value):
            "\(value.session) \(value.rep) \(value.category)" + (value.walkin == true ? " walk-in" : "")
                + (value.clerk.map { " · \($0)" } ?? "")
        case .boxOpened(let value): "\(value.session) \(value.box) opened" + (value.clerk.map { " · \($0)" } ?? "")
        case .boxClosed(let value):
            "\(value.session) \(value.box) closed: issued \(value.issued), returned \(value.returned)"
                + (value.clerk.map { " · \($0)" } ?? "")
        case .ballot(let value):
            "\(value.session) \(value.box) \(value.status.rawValue)" + (value.paper.map { " paper \($0)" } ?? "")
                + (value.keyers.map { " · " + $0.joined(separator: ", ") } ?? "")
                + (value.lead.map { " · lead \($0)" } ?? "")
        case .correction(let value):
            "corrects \(value.target): \(value.reason) · \(value.operator)"
                + (value.replacement.map { " → " + summary($0) } ?? " (void)")
        case .imported(let value):
            "\(value.file): \(value.groups.reduce(0) { $0 + $1.rows }) \(value.form)"
                + (value.clerk.map { " · \($0)" } ?? "")
        case .form(let value):
            "\(value.session) \(value.box) \(value.form.rawValue)" + (value.paper.map { " paper \($0)" } ?? "")
                + (value.clerk.map { " · \($0)" } ?? "")
        }
    }

    @Sendable func records(_ request: Request, context: DeskRequestContext) async throws -> Response {
        _ = try clerk(context)
        let limit = min(max(request.uri.queryParameters["limit"].flatMap { Int($0) } ?? 30, 1), 200)
        let database = self.database
        let rows = try await offload {
            let recent = try database.recentRecords(limit: limit)
            let corrected = try database.corrections(of: recent.map(\.seq))
            return recent.map {
                RecordRow(
                    seq: $0.seq, kind: $0.kind, summary: Self.summary($0.payload), savedAt: $0.savedAt,
                    correctedBy: corrected[$0.seq])
            }
        }
        return try DeskJSON.response(rows)
    }

    struct CorrectionBody: Decodable {
        var target: Int64
        var reason: String
        /// New counts for a box's closing record; without them the record is voided.
        var issued: Int?
        var returned: Int?
        /// New counts of the other forms (issue #17) for a box's closing, by kind: the kinds given replace theirs.
        var forms: [String: Int]?
    }

    @Sendable func correct(_ request: Request, context: DeskRequestContext) async throws -> Response {
        guard let session = context.session else { throw DeskError.signedOut }
        let lead = session.clerk.clerk
        guard lead.role.mayCorrect else {
            throw DeskError(.forbidden, "not_lead", "only the lead corrects records")
        }
        let body = try await body(
            CorrectionBody.self, request, example: #"{"target": 12, "reason": "checked in twice by mistake"}"#)
        let reason = body.reason.trimmingCharacters(in: .whitespacesAndNewlines)
        guard !reason.isEmpty else {
            throw DeskError(.badRequest, "reason_required", "a correction needs a reason: say why")
        }
        let database = self.database
        var replacement: RecordPayload?
        if body.issued != nil || body.returned != nil || body.forms != nil {
            let target = body.target
            let original = try await offload { try database.recentRecord(seq: target) }
            guard case .boxClosed(var closed)? = original, (body.issued == nil) == (body.returned == nil) else {
                throw DeskError(
                    .badRequest, "bad_request",
                    "new counts (issued and returned, both; or the forms) replace only a box's closing record")
            }
            for kind in (body.forms ?? [:]).keys where RecordPayload.FormKind(rawValue: kind) == nil {
                throw DeskError(
                    .badRequest, "bad_request",
                    "unknown form \"\(kind)\": the forms are "
                        + RecordPayload.FormKind.allCases.map(\.rawValue).joined(separator: ", "))
            }
            if let issued = body.issued, let returned = body.returned {
                (closed.issued, closed.returned) = (issued, returned)
            }
            if let forms = body.forms { closed.forms = (closed.forms ?? [:]).merging(forms) { $1 } }
            (closed.at, closed.clerk) = (Date().formatted(.iso8601), lead.attribution)
            replacement = .boxClosed(closed)
        }
        let answer = try await save(
            .correction(
                .init(
                    target: body.target, reason: reason, operator: lead.attribution, replacement: replacement,
                    at: Date().formatted(.iso8601))))
        context.logger.info(
            "record corrected at the desk",
            metadata: ["clerk.id": "\(lead.id)", "target": "\(body.target)", "seq": "\(answer.seq)"])
        return try DeskJSON.response(answer)
    }

    struct ReconciliationAnswer: Encodable {
        struct Row: Encodable {
            var severity: String
            var kind: String
            var labelZh: String
            var labelEn: String
            var session: String?
            var box: String?
            var category: String?
            var expected: Int?
            var actual: Int?
            var message: String
            var messageZh: String

            enum CodingKeys: String, CodingKey {
                case severity, kind, session, box, category, expected, actual, message
                case messageZh = "message_zh"
                case labelZh = "label_zh"
                case labelEn = "label_en"
            }
        }
        var attendance: [AttendanceRow]
        var findings: [Row]
    }

    @Sendable func reconciliation(_ request: Request, context: DeskRequestContext) async throws -> Response {
        _ = try clerk(context)
        let database = self.database
        let venue = self.venue
        let answer = try await offload {
            let input = try database.reconciliationInput(event: venue.event, venue: venue.venue)
            return ReconciliationAnswer(
                attendance: Reconciliation.attendance(input),
                findings: Reconciliation.findings(input).map {
                    .init(
                        severity: $0.severity.rawValue, kind: $0.kind.rawValue,
                        labelZh: ReportLanguage.zh.label($0.kind), labelEn: ReportLanguage.en.label($0.kind),
                        session: $0.session, box: $0.box, category: $0.category, expected: $0.expected,
                        actual: $0.actual, message: $0.message, messageZh: $0.message(.zh))
                })
        }
        return try DeskJSON.response(answer)
    }

    /// 开箱/封箱记录: one page to print and sign, for a box of a session.
    @Sendable func boxRecord(_ request: Request, context: DeskRequestContext) async throws -> Response {
        _ = try clerk(context)
        let query = request.uri.queryParameters
        guard let session = query["session"].map(String.init), let box = query["box"].map(String.init) else {
            throw DeskError(.badRequest, "bad_request", "give ?session=S1&box=B1")
        }
        let language: ReportLanguage = query["lang"] == "en" ? .en : .zh
        let database = self.database
        let (boxes, attendance, keyers) = try await offload {
            (
                try database.boxes(session: session), try database.attendance(),
                try database.keyers(session: session, box: box)
            )
        }
        guard let found = boxes.first(where: { $0.box == box }) else {
            throw DeskError(
                .notFound, "unknown_box", "box \(box) of session \(session) was never opened or closed here")
        }
        return Self.html(
            DeskBoxRecord.html(
                box: found, checkedIn: attendance[session]?.values.reduce(0, +) ?? 0, keyers: keyers,
                event: venue.event.definition, venue: venue.venue, language: language, printedAt: Date()))
    }
}
