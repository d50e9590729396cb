import DaemonSupport
import Foundation
import Hummingbird
import Shared

/// The published receipts of phone ballots (issue #16), open to anyone once the results are released (at once for an
/// event whose results are not confidential): `/receipts`, a page where a representative types the receipt their
/// phone showed, or reads a venue's whole list; `/v1/receipts`, the same list as JSON. Receipts only: never a mark.
struct ReceiptsController<Store: AggregatorStore> {
    var intake: Intake<Store>

    func addRoutes(to routes: AccessRoutes) {
        routes.group(access: .open)
            .get("receipts", use: page)
            .get("v1/receipts", use: list)
    }

    static var notReleased: String {
        "the receipts of phone ballots are published with the results, which are not released yet"
    }

    @Sendable func list(_ request: Request, context: TallyRequestContext) async throws -> Response {
        let intake = self.intake
        let venue = request.uri.queryParameters["venue"].map(String.init)
        let receipts = try await offload { () throws -> [PublishedReceipt]? in
            guard try intake.database.resultsVisible(event: intake.event) else { return nil }
            return try intake.database.phoneReceipts(venue: venue)
        }
        guard let receipts else { throw APIError(.forbidden, .resultsConfidential, Self.notReleased) }
        return try JSONResponse.make(ListBody(event: intake.event.id, receipts: receipts))
    }

    @Sendable func page(_ request: Request, context: TallyRequestContext) async throws -> Response {
        let intake = self.intake
        let query = request.uri.queryParameters
        let language: ReportLanguage = query["lang"] == "en" ? .en : .zh
        // A form sends spaces as "+" (no receipt holds one).
        let typed = query["r"].map { $0.replacingOccurrences(of: "+", with: " ") }
        let venue = query["venue"].map(String.init)
        let receipts = try await offload { () throws -> [PublishedReceipt]? in
            guard try intake.database.resultsVisible(event: intake.event) else { return nil }
            return try intake.database.phoneReceipts()
        }
        let html = ReceiptsPage.html(
            event: intake.event, language: language, receipts: receipts, typed: typed, venue: venue)
        return Response(
            status: receipts == nil ? .forbidden : .ok,
            headers: [
                .contentType: "text/html; charset=utf-8", .cacheControl: "no-store",
                .init("Content-Security-Policy")!: "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'",
            ],
            body: ResponseBody(byteBuffer: ByteBuffer(string: html)))
    }
}

/// The receipts page, rendered on the server (no script): a lookup form, the answer, and the counts per venue with
/// each venue's list behind a link.
enum ReceiptsPage {
    static func escape(_ text: String) -> String {
        text.replacingOccurrences(of: "&", with: "&amp;").replacingOccurrences(of: "<", with: "&lt;")
            .replacingOccurrences(of: ">", with: "&gt;").replacingOccurrences(of: "\"", with: "&quot;")
            .replacingOccurrences(of: "'", with: "&#39;")
    }

    static func html(
        event: EventDefinition, language: ReportLanguage, receipts: [PublishedReceipt]?, typed: String?,
        venue: String?
    ) -> String {
        let t = language.text
        let lang = language == .en ? "en" : "zh"
        let title = language == .en ? (event.titleEn ?? event.title) : event.title
        func venueName(_ id: String) -> String { event.venue(id)?.name ?? id }
        func sessionName(_ id: String) -> String { event.session(id)?.name ?? id }
        func link(_ params: String) -> String { "/receipts?lang=\(lang)" + params }
        var body = ""
        if let receipts {
            body += """
                <form method="get" action="/receipts"><input type="hidden" name="lang" value="\(lang)">
                <label for="r">\(t("输入手机上显示的回执码", "Type the receipt your phone showed"))</label>
                <input id="r" name="r" value="\(escape(typed ?? ""))" autocomplete="off" spellcheck="false" placeholder="ABCDE-FGHJK">
                <button type="submit">\(t("查询", "Look up"))</button></form>
                """
            if let typed, !typed.isEmpty {
                if let canonical = PhoneReceipt.canonical(typed) {
                    let found = receipts.filter { $0.receipt == canonical }
                    if found.isEmpty {
                        body +=
                            "<p id=\"answer\" data-found=\"false\" class=\"bad\">"
                            + escape(
                                t(
                                    "没有找到回执码 \(canonical)。请核对；若确认无误，请联系主办方。",
                                    "Receipt \(canonical) is not on the list. Check it; if it is right, tell the organisers."
                                )) + "</p>"
                    }
                    for receipt in found {
                        let state =
                            receipt.counted
                            ? t("已计入结果", "counted in the results")
                            : t("已被更正或暂不计入（见核对报告）", "corrected or held out (see the reconciliation report)")
                        body +=
                            "<p id=\"answer\" data-found=\"true\" data-counted=\"\(receipt.counted)\" class=\"good\">"
                            + escape(
                                t(
                                    "回执码 \(canonical)：\(venueName(receipt.venue))，\(sessionName(receipt.session))，票箱 \(receipt.box)，\(state)。",
                                    "Receipt \(canonical): \(venueName(receipt.venue)), session \(sessionName(receipt.session)), box \(receipt.box), \(state)."
                                )) + "</p>"
                    }
                } else {
                    body +=
                        "<p id=\"answer\" data-found=\"false\" class=\"bad\">"
                        + escape(
                            t(
                                "这不是回执码：回执码是 10 位字母和数字，如 ABCDE-FGHJK。",
                                "This is not a receipt: a receipt is 10 letters and digits, like ABCDE-FGHJK."))
                        + "</p>"
                }
            }
            var perVenue: [String: Int] = [:]
            for receipt in receipts { perVenue[receipt.venue, default: 0] += 1 }
            body +=
                "<h2>\(t("各会场手机选票回执", "Phone ballot receipts by venue"))</h2><table><tr><th>"
                + t("会场", "Venue") + "</th><th>" + t("回执数", "Receipts") + "</th></tr>"
            for (id, count) in perVenue.sorted(by: { $0.key < $1.key }) {
                body +=
                    "<tr><td><a href=\"\(link("&venue=" + (id.addingPercentEncoding(withAllowedCharacters: .alphanumerics) ?? id)))\">"
                    + escape(venueName(id)) + "</a></td><td>\(count)</td></tr>"
            }
            body += "</table>"
            if let venue {
                let list = receipts.filter { $0.venue == venue }
                body +=
                    "<h2>\(escape(venueName(venue)))</h2><table id=\"list\"><tr><th>" + t("场次", "Session")
                    + "</th><th>" + t("票箱", "Box") + "</th><th>" + t("回执码", "Receipt") + "</th><th>"
                    + t("状态", "State") + "</th></tr>"
                    + list.map {
                        "<tr><td>\(escape($0.session))</td><td>\(escape($0.box))</td><td><code>\($0.receipt)</code></td><td>"
                            + ($0.counted ? t("计入", "counted") : t("不计入", "not counted")) + "</td></tr>"
                    }.joined() + "</table>"
            }
        } else {
            body +=
                "<p id=\"answer\" class=\"bad\">"
                + t(
                    "结果尚未公布：手机选票的回执码与结果一同公布。",
                    "The results are not released yet: the receipts of phone ballots are published with them.")
                + "</p>"
        }
        return """
            <!DOCTYPE html>
            <html lang="\(language == .en ? "en" : "zh-CN")"><head><meta charset="utf-8">
            <meta name="viewport" content="width=device-width, initial-scale=1">
            <title>\(escape(t("手机选票回执公示", "Phone ballot receipts"))) · \(escape(title))</title>
            <style>
            body { font-family: "Noto Sans CJK SC", "PingFang SC", system-ui, sans-serif; margin: 0 auto; max-width: 48em;
                   padding: .8em; font-size: 18px; color: #10202a; }
            input, button { font: inherit; padding: .35em .6em; min-height: 44px; }
            input { text-transform: uppercase; width: 12em; max-width: 100%; }
            label { display: block; margin: .5em 0 .2em; }
            table { border-collapse: collapse; margin: .5em 0; } td, th { padding: .25em .8em; border-bottom: 1px solid #ccd; text-align: left; }
            .good { color: #1b5e20; font-weight: 600; } .bad { color: #b71c1c; font-weight: 600; }
            </style></head><body>
            <p><a href="/receipts?lang=\(language == .en ? "zh" : "en")">\(language == .en ? "中文" : "English")</a></p>
            <h1>\(escape(t("手机选票回执公示", "Phone ballot receipts")))</h1>
            <p>\(escape(title))</p>
            <p>\(escape(t("每张手机选票提交后，手机上显示一个回执码。回执码由随机数和选票内容计算得出，不透露评议内容，也不能追溯到投票人。", "Each phone ballot showed a receipt on the phone once cast. A receipt is computed from a random number and the ballot: it reveals no rating and leads to no one.")))</p>
            \(body)
            </body></html>

            """
    }
}

private struct ListBody: Encodable {
    var event: String
    var receipts: [PublishedReceipt]
}
