import Foundation
import Shared

/// The 《会场征集意见建议办理情况报告》 (issue #17): how the suggestions from every venue were handled, counted by
/// venue, lead department, type and status, on time and overdue, and each item with its answer. Every figure is a count
/// of the items listed in it; the items are the suggestion records in effect and their appended handling events.
/// Citizens' contacts are never in it.
public struct SuggestionReport: Sendable {
    /// How many items, of which how many in each state of their handling.
    public struct Counts: Sendable, Equatable {
        public var total = 0
        /// Not triaged yet.
        public var new = 0
        /// 转阅.
        public var forwarded = 0
        /// 转办: assigned, answered or closed.
        public var assigned = 0
        public var answered = 0
        public var closed = 0
        public var duplicate = 0
        public var inadmissible = 0
        /// 转办 answered by the due date / after it.
        public var onTime = 0
        public var late = 0
        /// 转办 not answered (or sent back) and past the due date.
        public var overdue = 0
        public var outstanding = 0

        public init() {}

        mutating func add(_ item: SuggestionItem, timing: Timing) {
            total += 1
            switch item.status {
            case .new: new += 1
            case .forwarded: forwarded += 1
            case .assigned, .answered, .closed: assigned += 1
            case .duplicate: duplicate += 1
            case .inadmissible: inadmissible += 1
            }
            if item.status == .answered { answered += 1 }
            if item.status == .closed { closed += 1 }
            switch timing {
            case .onTime: onTime += 1
            case .late: late += 1
            case .overdue: overdue += 1
            case .pending, .none: break
            }
            if item.outstanding { outstanding += 1 }
        }
    }

    /// Where a 转办 item stands against its due date.
    public enum Timing: String, Sendable {
        /// Its first answer came by the due date.
        case onTime = "on_time"
        /// Its first answer came after it.
        case late
        /// No answer yet, and the due date has passed.
        case overdue
        /// No answer yet, the due date not passed.
        case pending
        /// Not a 转办 item.
        case none
    }

    public var event: String
    public var title: String
    public var generatedAt: String
    /// `YYYY-MM-DD`: the day against which due dates are judged.
    public var today: String
    public var items: [SuggestionItem]
    public var overall = Counts()
    public var byVenue: [(venue: String, counts: Counts)] = []
    public var byDepartment: [(department: String, counts: Counts)] = []
    public var byTopic: [(topic: String, counts: Counts)] = []

    public init(items: [SuggestionItem], event: EventDefinition, now: Date = Date()) {
        self.event = event.id
        title = event.title
        generatedAt = now.formatted(.iso8601)
        today = String(generatedAt.prefix(10))
        self.items = items
        var venues: [String: Counts] = [:]
        var departments: [String: Counts] = [:]
        var topics: [String: Counts] = [:]
        for item in items {
            let timing = Self.timing(item, today: today)
            overall.add(item, timing: timing)
            venues[item.venue, default: Counts()].add(item, timing: timing)
            if let lead = item.lead { departments[lead, default: Counts()].add(item, timing: timing) }
            topics[item.topic ?? "", default: Counts()].add(item, timing: timing)
        }
        byVenue = event.venues.compactMap { venue in venues[venue.id].map { (venue.id, $0) } }
        byDepartment = event.departments.compactMap { department in
            departments[department.id].map { (department.id, $0) }
        }
        byTopic = topics.sorted { $0.key < $1.key }.map { ($0.key, $0.value) }
    }

    /// Where a 转办 item stands against its due date (`today`: `YYYY-MM-DD`).
    public static func timing(_ item: SuggestionItem, today: String) -> Timing {
        guard item.lead != nil, let due = item.due else { return .none }
        if let answered = item.events.first(where: { $0.action == "answer" }) {
            return String(answered.at.prefix(10)) <= due ? .onTime : .late
        }
        return today > due ? .overdue : .pending
    }

    static func typeLabel(_ item: SuggestionItem, _ language: ReportLanguage) -> String {
        switch item.status {
        case .new: language.text("待审核", "not triaged")
        case .forwarded: language.text("转阅件", "for reading")
        case .assigned, .answered, .closed: language.text("转办件", "for handling")
        case .duplicate: language.text("重复", "duplicate")
        case .inadmissible: language.text("不予受理", "not admissible")
        }
    }

    static func statusLabel(_ status: SuggestionItem.Status, _ language: ReportLanguage) -> String {
        switch status {
        case .new: language.text("待审核", "new")
        case .forwarded: language.text("已转阅", "forwarded")
        case .assigned: language.text("办理中", "assigned")
        case .answered: language.text("已答复待审核", "answered")
        case .closed: language.text("已办结", "closed")
        case .duplicate: language.text("重复", "duplicate")
        case .inadmissible: language.text("不予受理", "inadmissible")
        }
    }

    static func timingLabel(_ timing: Timing, _ language: ReportLanguage) -> String {
        switch timing {
        case .onTime: language.text("按时", "on time")
        case .late: language.text("逾期答复", "answered late")
        case .overdue: language.text("已逾期", "overdue")
        case .pending: language.text("未到期", "not due yet")
        case .none: ""
        }
    }

    static func countHeader(_ language: ReportLanguage) -> [String] {
        [
            language.text("件数", "total"), language.text("转阅", "forwarded"), language.text("转办", "for handling"),
            language.text("已办结", "closed"), language.text("待审核答复", "answered"), language.text("按时", "on time"),
            language.text("逾期答复", "late"), language.text("逾期未答", "overdue"), language.text("重复", "duplicate"),
            language.text("不予受理", "not admissible"), language.text("待审核", "not triaged"),
            language.text("优秀建议", "outstanding"),
        ]
    }

    static func countCells(_ counts: Counts) -> [String] {
        [
            counts.total, counts.forwarded, counts.assigned, counts.closed, counts.answered, counts.onTime, counts.late,
            counts.overdue, counts.duplicate, counts.inadmissible, counts.new, counts.outstanding,
        ].map(String.init)
    }

    /// The tables of counts, each row `label` then `countHeader`.
    func countTables(event: EventDefinition, _ language: ReportLanguage) -> [(title: String, rows: [[String]])] {
        let venueName = Dictionary(uniqueKeysWithValues: event.venues.map { ($0.id, $0.name) })
        let departmentName = Dictionary(uniqueKeysWithValues: event.departments.map { ($0.id, $0.name) })
        let topicName = Dictionary(
            (event.forms?.suggestion?.topics ?? []).map { ($0.id, $0.label) }, uniquingKeysWith: { a, _ in a })
        return [
            (language.text("合计", "Overall"), [[language.text("全部", "all")] + Self.countCells(overall)]),
            (
                language.text("按会场", "By venue"),
                byVenue.map { ["\($0.venue) \(venueName[$0.venue] ?? "")"] + Self.countCells($0.counts) }
            ),
            (
                language.text("按主办部门", "By lead department"),
                byDepartment.map {
                    ["\($0.department) \(departmentName[$0.department] ?? "")"] + Self.countCells($0.counts)
                }
            ),
            (
                language.text("按类别", "By topic"),
                byTopic.map {
                    [$0.topic.isEmpty ? language.text("未分类", "none") : topicName[$0.topic] ?? $0.topic]
                        + Self.countCells($0.counts)
                }
            ),
        ]
    }

    /// For a terminal: the count tables.
    public func terminal(event: EventDefinition, language: ReportLanguage) -> String {
        var out = [
            title + language.text(" 会场征集意见建议办理情况报告", " — handling of the suggestions collected at the venues"),
            language.text("生成时间 ", "generated ") + generatedAt,
        ]
        for table in countTables(event: event, language) {
            out.append("")
            out.append(table.title)
            out.append(ReportText.table(header: [""] + Self.countHeader(language), rows: table.rows))
        }
        return out.joined(separator: "\n")
    }

    /// One row per suggestion, with its handling and answer (UTF-8 with a byte-order mark; no contact).
    public func csv() -> String {
        var lines = [
            CSVWriter.line([
                "id", "venue", "session", "box", "topic", "departments", "text", "type", "status", "lead", "co",
                "forwarded_to", "due", "answered_at", "timing", "answer", "feedback", "outstanding", "duplicate_of",
            ])
        ]
        for item in items {
            let timing = Self.timing(item, today: today)
            lines.append(
                CSVWriter.line([
                    item.id, item.venue, item.session, item.box, item.topic ?? "",
                    item.departments.joined(separator: ";"), item.text,
                    Self.typeLabel(item, .en)
                        .replacingOccurrences(of: " ", with: "_"), item.status.rawValue, item.lead ?? "",
                    item.coHandlers.joined(separator: ";"), item.forwardedTo.joined(separator: ";"), item.due ?? "",
                    item.events.first { $0.action == "answer" }?.at ?? "",
                    timing == .none ? "" : timing.rawValue, item.answer ?? "", item.feedback ?? "",
                    item.outstanding ? "yes" : "", item.duplicateOf ?? "",
                ]))
        }
        return "\u{FEFF}" + lines.joined(separator: "\r\n") + "\r\n"
    }

    /// A printable page (A4): the counts, then every item with its answer.
    public func html(event: EventDefinition, language: ReportLanguage) -> String {
        func escape(_ text: String) -> String {
            text.replacingOccurrences(of: "&", with: "&amp;").replacingOccurrences(of: "<", with: "&lt;")
                .replacingOccurrences(of: ">", with: "&gt;").replacingOccurrences(of: "\"", with: "&quot;")
        }
        func table(_ header: [String], _ rows: [[String]], id: String) -> String {
            "<table id=\"\(id)\"><thead><tr>" + header.map { "<th>\(escape($0))</th>" }.joined()
                + "</tr></thead><tbody>"
                + rows.map { "<tr>" + $0.map { "<td>\(escape($0))</td>" }.joined() + "</tr>" }.joined()
                + "</tbody></table>"
        }
        let heading = title + language.text(" 会场征集意见建议办理情况报告", " — handling of the suggestions collected at the venues")
        var body =
            "<h1>\(escape(heading))</h1><p class=\"meta\">"
            + escape(language.text("生成时间 ", "generated ") + generatedAt) + "</p>"
        for (index, counts) in countTables(event: event, language).enumerated() {
            body +=
                "<h2>\(escape(counts.title))</h2>"
                + table([""] + Self.countHeader(language), counts.rows, id: "counts-\(index)")
        }
        body += "<h2>\(escape(language.text("逐条办理情况", "Each suggestion and its answer")))</h2>"
        body += table(
            [
                language.text("编号", "id"), language.text("场次", "session"), language.text("内容", "suggestion"),
                language.text("类别", "type"), language.text("状态", "status"), language.text("主办", "lead"),
                language.text("协办", "co-handling"), language.text("期限", "due"), language.text("时限", "timing"),
                language.text("答复", "answer"), language.text("反馈", "feedback"),
            ],
            items.map { item in
                [
                    item.id + (item.outstanding ? language.text(" ★优秀", " ★") : ""), item.session, item.text,
                    Self.typeLabel(item, language), Self.statusLabel(item.status, language), item.lead ?? "",
                    item.coHandlers.joined(separator: ", "), item.due ?? "",
                    Self.timingLabel(Self.timing(item, today: today), language), item.answer ?? "", item.feedback ?? "",
                ]
            }, id: "items")
        return """
            <!doctype html><html lang="\(language == .zh ? "zh-CN" : "en")"><head><meta charset="utf-8">
            <title>\(escape(heading))</title><style>
            body{font-family:"Noto Sans CJK SC","Noto Sans SC",sans-serif;margin:2em;color:#111}
            table{border-collapse:collapse;margin:.5em 0 1.5em;font-size:12px;width:100%}
            th,td{border:1px solid #999;padding:3px 6px;text-align:left;vertical-align:top}
            th{background:#eef}.meta{color:#555}@page{size:A4;margin:15mm}
            </style></head><body>\(body)</body></html>
            """
    }
}
