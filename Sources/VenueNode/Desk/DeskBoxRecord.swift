import Foundation
import Shared

/// 开箱/封箱记录: the printable record of one box for the on-site supervisors to sign — the counts, the clerks, the
/// times, and the chain's head when the box was closed (the hash of the closing record), which anyone can later find
/// in the aggregator's copy of the venue's chain.
enum DeskBoxRecord {
    static func html(
        box: DeskBox, checkedIn: Int, keyers: [(clerk: String, papers: Int)], event: EventDefinition, venue: String,
        language: ReportLanguage, printedAt: Date
    ) -> String {
        let t = language.text
        func row(_ label: String, _ value: String) -> String {
            "<tr><th>\(escape(label))</th><td>\(escape(value))</td></tr>"
        }
        let sessionName = event.session(box.session)?.name ?? box.session
        let keyerText =
            keyers.isEmpty
            ? t("（无）", "(none)")
            : keyers.map { "\($0.clerk)：\($0.papers) " + t("张", "paper(s)") }.joined(separator: "；")
        let rows =
            ([
                row(t("活动", "Event"), language == .en ? (event.titleEn ?? event.title) : event.title),
                row(t("会场", "Venue"), event.venue(venue)?.name ?? venue),
                row(t("场次", "Session"), "\(sessionName) (\(box.session))"),
                row(t("票箱", "Box"), box.box),
                row(t("开箱时间", "Opened at"), local(box.openedAt) ?? "-"),
                row(t("开箱人", "Opened by"), box.openedBy ?? "-"),
                row(t("封箱时间", "Closed at"), local(box.closedAt) ?? t("未封箱", "not closed")),
                row(t("封箱人", "Closed by"), box.closedBy ?? "-"),
                row(t("本场签到人数", "Checked in for the session"), "\(checkedIn)"),
                row(t("发放票数", "Forms issued"), box.issued.map(String.init) ?? "-"),
                row(t("回收票数", "Forms returned"), box.returned.map(String.init) ?? "-"),
                row(t("已录入选票", "Ballots entered"), "\(box.ballots)"),
                box.printed.map { row(t("手机票箱：印制投票码", "Phone box: voting codes printed"), "\($0)") },
                box.cast.map { row(t("手机票箱：手机投票数", "Phone box: ballots cast on phones"), "\($0)") },
                row(t("录入人员", "Keyed by"), keyerText),
                row(
                    t("封箱时链头（记录号、哈希）", "Chain head at closing (record, hash)"),
                    box.closedSeq.map { "\($0) · \(box.closedHash ?? "")" } ?? "-"),
                row(t("打印时间", "Printed at"), local(printedAt.formatted(.iso8601)) ?? "-"),
            ] as [String?]).compactMap { $0 }.joined(separator: "\n")
        let signatures = [t("监票人", "Scrutineer"), t("计票人", "Counter"), t("现场监督人", "On-site supervisor")]
            .map { "<div class=\"sign\">\(escape($0))：<span></span></div>" }.joined()
        return """
            <!DOCTYPE html>
            <html lang="\(language == .zh ? "zh-CN" : "en")">
            <head><meta charset="utf-8"><title>\(escape(t("开箱/封箱记录", "Box record"))) · \(escape(box.box))</title>
            <style>
            body { font-family:"Noto Sans CJK SC","Source Han Sans SC","Microsoft YaHei",system-ui,sans-serif;
                   max-width:48em; margin:2em auto; color:#000; font-size:16px; }
            h1 { font-size:1.6em; text-align:center; }
            table { width:100%; border-collapse:collapse; }
            th, td { border:1px solid #000; padding:.45em .6em; text-align:left; vertical-align:top; }
            th { width:32%; background:#f0f0f0; font-weight:600; }
            td { word-break:break-all; }
            .sign { margin-top:2.2em; display:inline-block; width:32%; }
            .sign span { display:inline-block; width:8em; border-bottom:1px solid #000; }
            @media print { body { margin:0; } }
            </style></head>
            <body>
            <h1>\(escape(t("开箱/封箱记录", "Box opening and closing record")))</h1>
            <table>
            \(rows)
            </table>
            <div>\(signatures)</div>
            </body></html>
            """
    }

    /// A record's time (ISO 8601, UTC) in the node's own time zone, as the supervisors read clocks:
    /// `2026-01-05 09:12:30 +08:00`.
    static func local(_ iso: String?) -> String? {
        guard let iso else { return nil }
        guard let date = try? Date(iso, strategy: .iso8601) else { return iso }
        let formatter = DateFormatter()
        formatter.locale = Locale(identifier: "en_US_POSIX")
        formatter.dateFormat = "yyyy-MM-dd HH:mm:ss xxx"
        return formatter.string(from: date)
    }

    static func escape(_ text: String) -> String {
        var result = ""
        result.reserveCapacity(text.utf8.count)
        for character in text {
            switch character {
            case "&": result += "&amp;"
            case "<": result += "&lt;"
            case ">": result += "&gt;"
            case "\"": result += "&quot;"
            case "'": result += "&#39;"
            default: result.append(character)
            }
        }
        return result
    }
}
