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
        if let reserves = ReportText.reserves(reserves, event: event, language: language) {
            out.append(reserves)
            out.append("")
        }
        out.append(ReportText.findings(findings, language: language, all: allFindings))
        if !outside.isEmpty {
            out.append("")
            out.append(language.text("场外评议结果（中心录入）", "Tallies entered for departments evaluated outside the sessions"))
            out.append(
                ReportText.table(
                    header: Self.outsideHeader(event: event, language), rows: outsideRows(event: event, language)))
        }
        if let surveys {
            out.append("")
            out.append(language.text("社情民意调查结果", "Opinion survey results"))
            out.append(ReportText.table(header: Self.surveyHeader(surveys, language), rows: Self.surveyRows(surveys)))
            // The questions asked about each department are summed up above (every answer: --json, --html).
            var general = surveys
            general.answers = surveys.answers.filter { !$0.question.contains(":") }
            out.append(
                ReportText.table(
                    header: Self.answerHeader(language), rows: Self.answerRows(general, event: event, language)))
        }
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
                "actual", "message", "message_zh",
            ])
        ]
        for finding in findings {
            lines.append(
                CSVWriter.line([
                    finding.severity.rawValue, finding.kind.rawValue, finding.venue ?? "",
                    finding.session ?? "", finding.box ?? "", finding.category ?? "",
                    finding.seqs?.map(String.init).joined(separator: " ") ?? "",
                    finding.expected.map(String.init) ?? "", finding.actual.map(String.init) ?? "",
                    finding.message, finding.message(.zh),
                ]))
        }
        return "\u{FEFF}" + lines.joined(separator: "\r\n") + "\r\n"
    }

    /// A printable HTML page for A4 and PDF, in the order a leader reads it: the ranking with a chart of every
    /// department's satisfaction rate, attendance per venue as a chart, the errors that need action; then the
    /// appendices (sessions, every finding, results per scope, the chain heads the numbers come from).
    public func html(event: EventDefinition, language: ReportLanguage) -> String {
        func escape(_ text: String) -> String {
            text.replacingOccurrences(of: "&", with: "&amp;").replacingOccurrences(of: "<", with: "&lt;")
                .replacingOccurrences(of: ">", with: "&gt;").replacingOccurrences(of: "\"", with: "&quot;")
        }
        func htmlTable(_ header: [String], _ rows: [[String]], id: String? = nil) -> String {
            "<table\(id.map { " id=\"\($0)\"" } ?? "")><thead><tr>" + header.map { "<th>\(escape($0))</th>" }.joined()
                + "</tr></thead><tbody>"
                + rows.map { "<tr>" + $0.map { "<td>\(escape($0))</td>" }.joined() + "</tr>" }.joined()
                + "</tbody></table>"
        }
        /// Horizontal bars, one per row: label, a bar of `value` out of `maximum`, and the figure.
        func chart(_ id: String, _ bars: [(label: String, value: Double?, text: String)], maximum: Double) -> String {
            let rowHeight = 22
            let height = max(1, bars.count) * rowHeight + 4
            var svg =
                "<svg id=\"\(id)\" class=\"chart\" viewBox=\"0 0 700 \(height)\" width=\"100%\" role=\"img\" "
                + "xmlns=\"http://www.w3.org/2000/svg\">"
            for (index, bar) in bars.enumerated() {
                let y = index * rowHeight + 2
                let width = bar.value.map { max(0, min(1, $0 / maximum)) * 400 } ?? 0
                svg +=
                    "<text x=\"0\" y=\"\(y + 15)\" font-size=\"12\">\(escape(String(bar.label.prefix(16))))</text>"
                    + "<rect x=\"210\" y=\"\(y + 3)\" width=\"400\" height=\"14\" fill=\"#e3e7ea\"/>"
                    + "<rect x=\"210\" y=\"\(y + 3)\" width=\"\(String(format: "%.1f", width))\" height=\"14\" "
                    + "fill=\"#1565c0\"/>"
                    + "<text x=\"618\" y=\"\(y + 15)\" font-size=\"12\">\(escape(bar.text))</text>"
            }
            return svg + "</svg>"
        }
        let resultsHeader =
            [language.text("名次", "rank"), language.text("部门", "department")]
            + event.marks.map { language == .zh ? $0.labelZh : $0.labelEn }
            + [language.text("有效票", "valid"), language.text("满意率", "satisfaction"), language.text("得分", "score")]

        var body = "<header><h1>\(escape(title))</h1>"
        body +=
            "<p class=meta>" + escape(language.text("生成时间：", "Generated: ") + generatedAt) + " · "
            + escape(language.text("输入摘要：", "Input digest: ")) + "<code>\(inputDigest.prefix(16))…</code> "
            + escape(language.text("（全文及各会场数据链末条见附录四）", "(in full, with every venue chain's head, in appendix 4)"))
            + "</p></header>"

        // 1. The ranking, with a chart of every department's satisfaction rate.
        if let overall = results.first(where: { $0.scope == "overall" }) {
            body += "<section id=ranking><h2>" + escape(language.text("一、评议结果与排名", "1. Results and ranking")) + "</h2>"
            body += chart(
                "rate-chart",
                overall.rows.map {
                    (label: $0.name, value: $0.satisfactionRate, text: Self.percent($0.satisfactionRate))
                }, maximum: 100)
            body += htmlTable(resultsHeader, overall.rows.map { Self.cells($0, event: event) }, id: "ranking-table")
            body += "</section>"
        }

        // 2. Attendance per venue, as a chart (all sessions together) and a table.
        body += "<section id=attendance><h2>" + escape(language.text("二、到位情况", "2. Attendance")) + "</h2>"
        body += chart(
            "attendance-chart",
            event.venues.map { venue in
                let rows = attendance.filter { $0.venue == venue.id }
                let quota = rows.map(\.quota).reduce(0, +)
                let filled = rows.map { $0.checkedIn - $0.walkIns }.reduce(0, +)
                let rate = quota > 0 ? Double(filled) * 100 / Double(quota) : nil
                return (label: venue.name, value: rate, text: "\(filled)/\(quota) " + Self.percent(rate))
            }, maximum: 100)
        body += htmlTable(ReportText.attendanceHeader(language), ReportText.attendanceRows(attendance, event: event))
        for line in ReportText.jointLines(attendance, event: event, language: language) {
            body += "<p>" + escape(line) + "</p>"
        }
        if !reserves.isEmpty {
            body += "<h3>" + escape(language.text("备选代表替补情况", "Reserves used")) + "</h3>"
            body += htmlTable(ReportText.reservesHeader(language), ReportText.reservesRows(reserves, event: event))
        }
        body += "</section>"

        // 3. The errors that need action.
        let errors = findings.filter { $0.severity == .error }
        body +=
            "<section id=errors><h2>" + escape(language.text("三、需处理的问题", "3. Errors that need action")) + "</h2>"
        if errors.isEmpty {
            body += "<p>" + escape(language.text("无。", "None.")) + "</p>"
        } else {
            body += htmlTable(
                [
                    language.text("类别", "kind"), language.text("会场", "venue"), language.text("场次", "session"),
                    language.text("票箱", "box"), language.text("应为", "expected"), language.text("实为", "actual"),
                    language.text("说明", "detail"),
                ],
                errors.map {
                    [
                        language.label($0.kind), $0.venue.map { event.venue($0)?.name ?? $0 } ?? "", $0.session ?? "",
                        $0.box ?? "", $0.expected.map(String.init) ?? "", $0.actual.map(String.init) ?? "",
                        $0.message(language),
                    ]
                })
        }
        let warnings = findings.filter { $0.severity == .warning }.count
        let infos = findings.filter { $0.severity == .info }.count
        body +=
            "<p class=meta>"
            + escape(
                language.text(
                    "另有警告 \(warnings) 条、提示 \(infos) 条，见附录二。",
                    "Also \(warnings) warnings and \(infos) information rows: appendix 2."))
            + "</p>"
        if !outside.isEmpty {
            body += "<h3>" + escape(language.text("场外评议结果（中心录入）", "Tallies entered outside the sessions")) + "</h3>"
            body += htmlTable(Self.outsideHeader(event: event, language), outsideRows(event: event, language))
        }
        body += "</section>"
        if let surveys {
            body +=
                "<section id=surveys><h2>" + escape(language.text("社情民意调查结果", "Opinion survey results")) + "</h2>"
            body += htmlTable(Self.surveyHeader(surveys, language), Self.surveyRows(surveys), id: "survey-departments")
            body += htmlTable(
                Self.answerHeader(language), Self.answerRows(surveys, event: event, language), id: "survey-answers")
            body += "</section>"
        }

        // Appendices.
        body +=
            "<section class=appendix id=appendix-sessions><h2>"
            + escape(language.text("附录一　场次安排", "Appendix 1. Sessions")) + "</h2>"
        body += htmlTable(ReportText.sessionHeader(language), ReportText.sessionRows(event: event)) + "</section>"
        body +=
            "<section class=appendix id=appendix-findings><h2>"
            + escape(language.text("附录二　全部核对发现", "Appendix 2. Every finding")) + "</h2>"
        body +=
            htmlTable(
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
                        $0.expected.map(String.init) ?? "", $0.actual.map(String.init) ?? "", $0.message(language),
                    ]
                }, id: "all-findings") + "</section>"
        body +=
            "<section class=appendix id=appendix-results><h2>"
            + escape(language.text("附录三　各范围评议结果", "Appendix 3. Results per scope")) + "</h2>"
        for results in self.results where results.scope != "overall" {
            body += "<h3>" + escape(language.scope(results.scope, event: event)) + "</h3>"
            body += htmlTable(resultsHeader, results.rows.map { Self.cells($0, event: event) })
        }
        body += "</section>"
        body +=
            "<section class=appendix id=appendix-inputs><h2>"
            + escape(language.text("附录四　输入：各会场数据链末条记录", "Appendix 4. Inputs: the head of every venue chain"))
            + "</h2><p class=meta>" + escape(language.text("输入摘要：", "Input digest: "))
            + "<code>\(inputDigest)</code></p>"
        body +=
            htmlTable(
                [
                    language.text("会场", "venue"), language.text("末条序号", "last record"),
                    language.text("末条哈希", "hash"),
                ], inputs.map { [$0.venue, "\($0.seq)", $0.hash] }) + "</section>"
        return """
            <!DOCTYPE html>
            <html lang="\(language == .zh ? "zh-CN" : "en")"><head><meta charset="utf-8">
            <meta name="viewport" content="width=device-width, initial-scale=1">
            <title>\(escape(title))</title>
            <style>
            body{font-family:"Noto Sans CJK SC","Source Han Sans SC","Microsoft YaHei",sans-serif;margin:2em;color:#111}
            h1{font-size:1.5em}h2{font-size:1.2em;margin-top:1.5em;break-after:avoid;page-break-after:avoid}
            h3{font-size:1em;break-after:avoid}
            table{border-collapse:collapse;width:100%;font-size:.85em;margin:.5em 0}
            th,td{border:1px solid #999;padding:.2em .4em;text-align:left;vertical-align:top}
            th{background:#eee}code{font-size:.9em;word-break:break-all}.meta{color:#333;font-size:.9em}
            .chart{max-width:700px;display:block;margin:.5em 0}
            thead{display:table-header-group}
            @page{size:A4;margin:15mm 12mm}
            @media print{body{margin:0;font-size:10pt}tr,.chart{break-inside:avoid;page-break-inside:avoid}
              .appendix{break-before:page;page-break-before:always}th{background:#eee !important;
              -webkit-print-color-adjust:exact;print-color-adjust:exact}.chart rect{-webkit-print-color-adjust:exact;
              print-color-adjust:exact}}
            </style></head><body>
            \(body)
            </body></html>
            """
    }

    static func outsideHeader(event: EventDefinition, _ language: ReportLanguage) -> [String] {
        [language.text("录入号", "entry"), language.text("部门", "department")]
            + event.marks.map { language == .zh ? $0.labelZh : $0.labelEn }
            + [
                language.text("录入人", "entered by"), language.text("时间", "at"), language.text("来源", "source"),
                language.text("状态", "state"),
            ]
    }

    func outsideRows(event: EventDefinition, _ language: ReportLanguage) -> [[String]] {
        outside.map { entry in
            let name = event.departments.first { $0.id == entry.entry.department }?.name ?? ""
            let state =
                !entry.verified
                ? language.text("签名不符，未计入", "signature does not verify: not counted")
                : entry.replacedBy.map { language.text("已由 \($0) 号更正", "replaced by entry \($0)") }
                    ?? language.text("有效", "in effect")
            return ["\(entry.id)", "\(entry.entry.department) \(name)"]
                + event.marks.map { "\(entry.entry.counts[$0.id] ?? 0)" }
                + [
                    entry.entry.enteredBy, entry.entry.enteredAt,
                    entry.entry.source + (entry.entry.reason.map { " (" + $0 + ")" } ?? ""), state,
                ]
        }
    }

    static func surveyHeader(_ surveys: SurveyResults, _ language: ReportLanguage) -> [String] {
        [
            language.text("部门", "department"), language.text("计分答卷", "scored answers"),
            language.text("调查得分", "survey result"), language.text("评议得分", "evaluation score"),
        ]
            + (surveys.weights.map { weights in
                [
                    language.text(
                        "综合得分（评议 \(Self.weight(weights.evaluation))、调查 \(Self.weight(weights.survey))）",
                        "combined (evaluation \(Self.weight(weights.evaluation)), survey \(Self.weight(weights.survey)))"
                    ),
                    language.text("综合名次", "combined rank"),
                ]
            } ?? [])
    }

    static func weight(_ value: Double) -> String {
        value == value.rounded() ? String(Int(value)) : String(format: "%.2f", value)
    }

    static func surveyRows(_ surveys: SurveyResults) -> [[String]] {
        surveys.departments.map { row in
            ["\(row.department) \(row.name)", "\(row.answers)", number(row.surveyResult), number(row.evaluationScore)]
                + (surveys.weights == nil ? [] : [number(row.combined), row.rank.map(String.init) ?? "-"])
        }
    }

    static func answerHeader(_ language: ReportLanguage) -> [String] {
        [
            language.text("调查表", "form"), language.text("问题", "question"), language.text("答案", "answer"),
            language.text("份数", "count"), language.text("会场/场次", "venue/session"),
        ]
    }

    static func answerRows(_ surveys: SurveyResults, event: EventDefinition, _ language: ReportLanguage) -> [[String]] {
        surveys.answers.map { answer in
            let question = event.questionnaire(answer.form)?.questions.first {
                $0.id == answer.question.split(separator: ":").first.map(String.init)
            }
            let option = question?.options.first { $0.id == answer.option }
            return [
                answer.form.rawValue,
                answer.question + (question.map { " " + (language == .en ? $0.textEn ?? $0.text : $0.text) } ?? ""),
                answer.option + (option.map { " " + (language == .en ? $0.labelEn ?? $0.label : $0.label) } ?? ""),
                "\(answer.count)",
                answer.places.sorted { $0.key < $1.key }.map { "\($0.key) \($0.value)" }.joined(separator: ", "),
            ]
        }
    }
}
