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
        case .outsideTally: text("场外评议结果", "tally entered outside the sessions")
        case .formsVsReturned: text("录入表数与回收表数不一致", "forms entered vs returned")
        case .disciplineBreach: text("纪律情况调查反映问题", "discipline survey reports a breach")
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

    public static func attendanceHeader(_ language: ReportLanguage) -> [String] {
        [
            language.text("会场", "venue"), language.text("场次", "session"), language.text("名额", "quota"),
            language.text("签到", "checked in"), language.text("其中备选", "of them reserves"),
            language.text("名单外", "walk-ins"), language.text("到位率", "rate"),
        ]
    }

    public static func attendanceRows(_ rows: [AttendanceRow], event: EventDefinition) -> [[String]] {
        rows.map {
            [
                event.venue($0.venue)?.name ?? $0.venue, $0.session, "\($0.quota)", "\($0.checkedIn)", "\($0.reserves)",
                "\($0.walkIns)", percent($0.rate),
            ]
        }
    }

    /// One line per joint quota and session: the joint figure, places filled, and every venue's contribution.
    public static func jointLines(_ rows: [AttendanceRow], event: EventDefinition, language: ReportLanguage) -> [String]
    {
        var seen: Set<String> = []
        var lines: [String] = []
        for row in rows {
            for joint in row.joint where seen.insert(joint.id + "\u{1F}" + row.session).inserted {
                let parts = joint.contributions.sorted { $0.key < $1.key }
                    .map { "\(event.venue($0.key)?.name ?? $0.key) \($0.value)" }.joined(
                        separator: language.text("，", ", "))
                lines.append(
                    language.text("联合名额 ", "joint quota ") + (joint.name ?? joint.id) + " · " + row.session + ": "
                        + language.text(
                            "名额 \(joint.quota)，到位 \(joint.filled)", "quota \(joint.quota), filled \(joint.filled)")
                        + " (\(percent(joint.rate))) — " + parts)
            }
        }
        return lines
    }

    public static func attendance(_ rows: [AttendanceRow], event: EventDefinition, language: ReportLanguage) -> String {
        let joint = jointLines(rows, event: event, language: language)
        return language.text("到位情况", "Attendance") + "\n"
            + table(header: attendanceHeader(language), rows: attendanceRows(rows, event: event))
            + (joint.isEmpty ? "" : "\n" + joint.joined(separator: "\n"))
    }

    public static func reservesHeader(_ language: ReportLanguage) -> [String] {
        [
            language.text("会场", "venue"), language.text("场次", "session"), language.text("代表类别", "category"),
            language.text("备选代表到会", "reserves attended"), language.text("其中替补其他类别", "of them in another category"),
        ]
    }

    public static func reservesRows(_ rows: [ReserveRow], event: EventDefinition) -> [[String]] {
        rows.map {
            [
                event.venue($0.venue)?.name ?? $0.venue, $0.session, event.category($0.category)?.name ?? $0.category,
                "\($0.attended)", "\($0.elsewhere)",
            ]
        }
    }

    /// Reserves used per venue, session and category (nothing when none attended).
    public static func reserves(_ rows: [ReserveRow], event: EventDefinition, language: ReportLanguage) -> String? {
        guard !rows.isEmpty else { return nil }
        return language.text("备选代表替补情况", "Reserves used") + "\n"
            + table(header: reservesHeader(language), rows: reservesRows(rows, event: event))
    }

    /// The findings table. Unless `all`, errors are listed one by one and warnings and information are grouped: one
    /// row per severity, kind and venue with how many and the first of them, and a line saying how to see each.
    public static func findings(_ allFindings: [Finding], language: ReportLanguage, all: Bool = true) -> String {
        let counts = Dictionary(grouping: allFindings, by: \.severity).mapValues(\.count)
        let summary = [Finding.Severity.error, .warning, .info]
            .map { "\(language.label($0)) \(counts[$0] ?? 0)" }.joined(separator: ", ")
        let header = [
            language.text("级别", "severity"), language.text("类别", "kind"), language.text("会场", "venue"),
            language.text("场次", "session"), language.text("票箱", "box"), language.text("代表类别", "category"),
            language.text("应为", "expected"), language.text("实为", "actual"), language.text("说明", "detail"),
        ]
        func row(_ finding: Finding) -> [String] {
            [
                language.label(finding.severity), language.label(finding.kind), finding.venue ?? "",
                finding.session ?? "", finding.box ?? "", finding.category ?? "",
                finding.expected.map(String.init) ?? "", finding.actual.map(String.init) ?? "",
                finding.message(language),
            ]
        }
        let title = language.text("核对发现", "Findings") + " (" + summary + ")\n"
        if all { return title + table(header: header, rows: allFindings.map(row)) }
        let groups = grouped(allFindings)
        let rows = groups.map { group -> [String] in
            guard group.count > 1 else { return row(group[0]) }
            let first = group[0]
            return [
                language.label(first.severity), language.label(first.kind), first.venue ?? "",
                Set(group.compactMap(\.session)).count == 1 ? first.session ?? "" : "…", "", "", "", "",
                language.text("共 \(group.count) 条，如：", "\(group.count) in all, e.g. ") + first.message(language),
            ]
        }
        let folded = groups.filter { $0.count > 1 }.map(\.count).reduce(0, +)
        let note =
            folded == 0
            ? ""
            : "\n"
                + language.text(
                    "（\(folded) 条警告与提示按会场和类别合并为 \(groups.filter { $0.count > 1 }.count) 行，用 --all-findings 逐条查看）",
                    "(\(folded) warnings and information rows are grouped into \(groups.filter { $0.count > 1 }.count) lines "
                        + "by venue and kind: --all-findings lists each)")
        return title + table(header: header, rows: rows) + note
    }

    /// Errors one by one; warnings and information grouped by severity, kind and venue, in the findings' order.
    public static func grouped(_ findings: [Finding]) -> [[Finding]] {
        var groups: [[Finding]] = []
        var index: [String: Int] = [:]
        for finding in findings {
            guard finding.severity != .error else {
                groups.append([finding])
                continue
            }
            let key = [finding.severity.rawValue, finding.kind.rawValue, finding.venue ?? ""].joined(
                separator: "\u{1F}")
            if let at = index[key] {
                groups[at].append(finding)
            } else {
                index[key] = groups.count
                groups.append([finding])
            }
        }
        return groups
    }
}
