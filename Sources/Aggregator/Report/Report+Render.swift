import Foundation
import Shared

extension Report {
    private static func percent(_ value: Double?) -> String { ReportText.percent(value) }
    private static func number(_ value: Double?) -> String { value.map { String(format: "%.4f", $0) } ?? "-" }

    private static func cells(_ row: DepartmentResult, event: EventDefinition) -> [String] {
        let head: [String] = [row.rank.map(String.init) ?? "-", "\(row.department) \(row.name)"]
        let marks: [String] = event.marks.map { "\(row.counts[$0.id] ?? 0)" }
        return head + marks + ["\(row.valid)", percent(row.satisfactionRate), number(row.score)]
    }

    /// Aligned tables for a terminal.
    public func terminal(
        event: EventDefinition, language: ReportLanguage, scopes: Set<String> = ["overall"],
        allFindings: Bool = false
    ) -> String {
        var out: [String] = []
        out.append(title)
        out.append(
            language.text("生成时间 ", "generated ") + generatedAt + language.text("  输入摘要 ", "  input digest ")
                + inputDigest)
        out.append("")
        out.append(ReportText.sessions(event: event, language: language))
        out.append("")
        out.append(ReportText.attendance(attendance, event: event, language: language))
        out.append("")
        out.append(ReportText.findings(findings, language: language, all: allFindings))
        for results in self.results where scopes.contains(results.scope) {
            out.append("")
            out.append(language.text("评议结果：", "Results: ") + language.scope(results.scope, event: event))
            out.append(
                ReportText.table(
                    header: [language.text("名次", "rank"), language.text("部门", "department")]
                        + event.marks.map { language == .zh ? $0.labelZh : $0.labelEn }
                        + [
                            language.text("有效票", "valid"), language.text("满意率", "satisfaction"),
                            language.text("得分", "score"),
                        ],
                    rows: results.rows.map { Self.cells($0, event: event) }))
        }
        return out.joined(separator: "\n")
    }

    /// CSV that Excel opens correctly (UTF-8 with a byte-order mark): the results of every scope.
    public func resultsCSV(event: EventDefinition) -> String {
        var lines = [
            CSVWriter.line(
                ["scope", "rank", "department", "name"] + event.marks.map(\.id)
                    + ["valid", "denominator", "satisfaction_rate", "score"])
        ]
        for results in self.results {
            for row in results.rows {
                let head: [String] = [results.scope, row.rank.map(String.init) ?? "", row.department, row.name]
                let marks: [String] = event.marks.map { "\(row.counts[$0.id] ?? 0)" }
                let rate: String = row.satisfactionRate.map { String(format: "%.4f", $0) } ?? ""
                let score: String = row.score.map { String(format: "%.4f", $0) } ?? ""
                lines.append(CSVWriter.line(head + marks + ["\(row.valid)", "\(row.denominator)", rate, score]))
            }
        }
        return "\u{FEFF}" + lines.joined(separator: "\r\n") + "\r\n"
    }

    /// CSV of the findings (UTF-8 with a byte-order mark).
    public func findingsCSV() -> String {
        var lines = [
            CSVWriter.line([
                "severity", "kind", "venue", "session", "box", "category", "records", "expected",
                "actual", "message",
            ])
        ]
        for finding in findings {
            lines.append(
                CSVWriter.line([
                    finding.severity.rawValue, finding.kind.rawValue, finding.venue ?? "",
                    finding.session ?? "", finding.box ?? "", finding.category ?? "",
                    finding.seqs?.map(String.init).joined(separator: " ") ?? "",
                    finding.expected.map(String.init) ?? "", finding.actual.map(String.init) ?? "",
                    finding.message,
                ]))
        }
        return "\u{FEFF}" + lines.joined(separator: "\r\n") + "\r\n"
    }

    /// A printable HTML page: title, generation time, the input digest and chain heads, attendance,
    /// findings and results.
    public func html(event: EventDefinition, language: ReportLanguage) -> String {
        func escape(_ text: String) -> String {
            text.replacingOccurrences(of: "&", with: "&amp;").replacingOccurrences(of: "<", with: "&lt;")
                .replacingOccurrences(of: ">", with: "&gt;").replacingOccurrences(of: "\"", with: "&quot;")
        }
        func htmlTable(_ header: [String], _ rows: [[String]]) -> String {
            "<table><thead><tr>" + header.map { "<th>\(escape($0))</th>" }.joined() + "</tr></thead><tbody>"
                + rows.map { "<tr>" + $0.map { "<td>\(escape($0))</td>" }.joined() + "</tr>" }.joined()
                + "</tbody></table>"
        }
        var body = "<h1>\(escape(title))</h1>"
        body +=
            "<p class=meta>" + escape(language.text("生成时间：", "Generated: ") + generatedAt) + "<br>"
            + escape(language.text("输入摘要（各会场数据链末条记录）：", "Input digest (head of every venue chain): "))
            + "<code>\(inputDigest)</code></p>"
        body += htmlTable(
            [
                language.text("会场", "venue"), language.text("末条序号", "last record"),
                language.text("末条哈希", "hash"),
            ], inputs.map { [$0.venue, "\($0.seq)", $0.hash] })
        body += "<h2>" + escape(language.text("场次安排", "Sessions")) + "</h2>"
        body += htmlTable(ReportText.sessionHeader(language), ReportText.sessionRows(event: event))
        body += "<h2>" + escape(language.text("到位情况", "Attendance")) + "</h2>"
        body += htmlTable(
            [
                language.text("会场", "venue"), language.text("场次", "session"), language.text("名额", "quota"),
                language.text("签到", "checked in"), language.text("名单外", "walk-ins"),
                language.text("到位率", "rate"),
            ],
            attendance.map {
                [
                    event.venue($0.venue)?.name ?? $0.venue, $0.session, "\($0.quota)", "\($0.checkedIn)",
                    "\($0.walkIns)", Self.percent($0.rate),
                ]
            })
        body += "<h2>" + escape(language.text("核对发现", "Findings")) + "</h2>"
        body += htmlTable(
            [
                language.text("级别", "severity"), language.text("类别", "kind"), language.text("会场", "venue"),
                language.text("场次", "session"), language.text("票箱", "box"),
                language.text("记录", "records"), language.text("应为", "expected"),
                language.text("实为", "actual"), language.text("说明", "detail"),
            ],
            findings.map {
                [
                    language.label($0.severity), language.label($0.kind), $0.venue ?? "", $0.session ?? "",
                    $0.box ?? "", $0.seqs?.map(String.init).joined(separator: " ") ?? "",
                    $0.expected.map(String.init) ?? "", $0.actual.map(String.init) ?? "", $0.message,
                ]
            })
        for results in self.results {
            body +=
                "<h2>" + escape(language.text("评议结果：", "Results: ") + language.scope(results.scope, event: event))
                + "</h2>"
            body += htmlTable(
                [language.text("名次", "rank"), language.text("部门", "department")]
                    + event.marks.map { language == .zh ? $0.labelZh : $0.labelEn }
                    + [
                        language.text("有效票", "valid"), language.text("满意率", "satisfaction"),
                        language.text("得分", "score"),
                    ],
                results.rows.map { Self.cells($0, event: event) })
        }
        return """
            <!DOCTYPE html>
            <html lang="\(language == .zh ? "zh-CN" : "en")"><head><meta charset="utf-8">
            <title>\(escape(title))</title>
            <style>
            body{font-family:"Noto Sans CJK SC","Source Han Sans SC","Microsoft YaHei",sans-serif;margin:2em;color:#111}
            h1{font-size:1.5em}h2{font-size:1.2em;margin-top:1.5em;page-break-after:avoid}
            table{border-collapse:collapse;width:100%;font-size:.85em;margin:.5em 0}
            th,td{border:1px solid #999;padding:.2em .4em;text-align:left;vertical-align:top}
            th{background:#eee}code{font-size:.9em;word-break:break-all}.meta{color:#333}
            @media print{body{margin:1cm}tr{page-break-inside:avoid}}
            </style></head><body>
            \(body)
            </body></html>
            """
    }
}
