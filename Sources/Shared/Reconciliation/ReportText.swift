import Foundation

/// Chinese (default) or English wording of the report.
public enum ReportLanguage: String, Sendable, CaseIterable {
    case zh, en

    public func text(_ zh: String, _ en: String) -> String { self == .zh ? zh : en }

    public func label(_ kind: Finding.Kind) -> String {
        switch kind {
        case .quotaContradiction: text("名额表自相矛盾", "quota table contradicts itself")
        case .attendanceVsQuota: text("到位人数与名额不符", "attendance vs quota")
        case .rosterVsQuota: text("名单人数与名额不符", "roster vs quota")
        case .issuedVsAttendance: text("发票数与参与人数不一致", "ballots issued vs attendance")
        case .returnedVsIssued: text("回收与发放票数不一致", "returned vs issued")
        case .enteredVsReturned: text("录入票数与回收票数不一致", "entered vs returned")
        case .boxNotClosed: text("票箱未封箱", "box not closed")
        case .duplicatePerson: text("人员重复签到", "same person checked in twice")
        case .notOnRoster: text("不在名单内", "not on the roster")
        case .walkIn: text("名单外到场", "walk-ins")
        case .nodeBehind: text("会场数据未传齐", "venue data incomplete")
        case .nodeDiverged: text("会场数据不一致", "venue data diverged")
        case .nodeSilent: text("会场失联", "venue silent")
        case .alarm: text("告警", "alarm")
        case .correction: text("更正记录", "correction")
        }
    }

    public func label(_ severity: Finding.Severity) -> String {
        switch severity {
        case .error: text("错误", "error")
        case .warning: text("警告", "warning")
        case .info: text("提示", "info")
        }
    }

    public func scope(_ scope: String, event: EventDefinition) -> String {
        switch scope {
        case "overall": return text("全部会场", "all venues")
        case "main": return text("主会场", "main venue")
        case "branch": return text("分会场合计", "branch venues")
        case _ where scope.hasPrefix("category:"):
            let id = String(scope.dropFirst("category:".count))
            return text("代表类别：", "category: ") + (event.category(id)?.name ?? id)
        default:
            let id = String(scope.dropFirst("venue:".count))
            return event.venue(id)?.name ?? id
        }
    }
}

/// Text tables shared by the aggregator's report and the venue node's own report.
public enum ReportText {
    /// Rows aligned in columns (CJK characters count as two), the last column unpadded.
    public static func table(header: [String], rows: [[String]]) -> String {
        func width(_ text: String) -> Int { text.unicodeScalars.reduce(0) { $0 + ($1.value >= 0x1100 ? 2 : 1) } }
        var widths = header.map(width)
        for row in rows { for (index, field) in row.enumerated() { widths[index] = max(widths[index], width(field)) } }
        return ([header] + rows).map { row in
            row.enumerated().map { index, field in
                index == row.count - 1 ? field : field + String(repeating: " ", count: widths[index] - width(field))
            }.joined(separator: "  ")
        }.joined(separator: "\n")
    }

    public static func percent(_ value: Double?) -> String { value.map { String(format: "%.2f%%", $0) } ?? "-" }

    /// The sessions in the order they take place: id, name, date and time.
    public static func sessionRows(event: EventDefinition) -> [[String]] {
        event.sessionsInOrder.map { [$0.id, $0.name ?? "", $0.schedule ?? "-"] }
    }

    public static func sessionHeader(_ language: ReportLanguage) -> [String] {
        [language.text("场次", "session"), language.text("名称", "name"), language.text("时间", "when")]
    }

    public static func sessions(event: EventDefinition, language: ReportLanguage) -> String {
        language.text("场次安排", "Sessions") + "\n"
            + table(header: sessionHeader(language), rows: sessionRows(event: event))
    }

    public static func attendance(_ rows: [AttendanceRow], event: EventDefinition, language: ReportLanguage) -> String {
        language.text("到位情况", "Attendance") + "\n"
            + table(
                header: [
                    language.text("会场", "venue"), language.text("场次", "session"), language.text("名额", "quota"),
                    language.text("签到", "checked in"), language.text("名单外", "walk-ins"),
                    language.text("到位率", "rate"),
                ],
                rows: rows.map {
                    [
                        event.venue($0.venue)?.name ?? $0.venue, $0.session, "\($0.quota)", "\($0.checkedIn)",
                        "\($0.walkIns)",
                        percent($0.rate),
                    ]
                })
    }

    /// The findings table. Unless `all`, attendance shortfalls per category (info) are left out of the
    /// rows, with a line saying how many (the attendance table shows each venue's rate).
    public static func findings(_ allFindings: [Finding], language: ReportLanguage, all: Bool = true) -> String {
        let counts = Dictionary(grouping: allFindings, by: \.severity).mapValues(\.count)
        let summary = [Finding.Severity.error, .warning, .info]
            .map { "\(language.label($0)) \(counts[$0] ?? 0)" }.joined(separator: ", ")
        let findings =
            all
            ? allFindings
            : allFindings.filter { !($0.kind == .attendanceVsQuota && $0.severity == .info) }
        let omitted = allFindings.count - findings.count
        let note =
            omitted == 0
            ? ""
            : "\n"
                + language.text(
                    "（另有 \(omitted) 条按代表类别的到位不足提示未列出，用 --all-findings 查看）",
                    "(\(omitted) info rows on attendance below quota per category not shown: --all-findings shows them)"
                )
        return language.text("核对发现", "Findings") + " (" + summary + ")\n"
            + table(
                header: [
                    language.text("级别", "severity"), language.text("类别", "kind"), language.text("会场", "venue"),
                    language.text("场次", "session"), language.text("票箱", "box"), language.text("代表类别", "category"),
                    language.text("应为", "expected"), language.text("实为", "actual"), language.text("说明", "detail"),
                ],
                rows: findings.map {
                    [
                        language.label($0.severity), language.label($0.kind), $0.venue ?? "", $0.session ?? "",
                        $0.box ?? "",
                        $0.category ?? "", $0.expected.map(String.init) ?? "", $0.actual.map(String.init) ?? "",
                        $0.message,
                    ]
                }) + note
    }
}
