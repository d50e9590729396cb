import Foundation
import Shared

/// The printed sheet of one-time voting codes (issue #16): slips to cut apart, each with a QR code of the voting URL
/// and its code, and the code in letters for typing. Chinese and English on every slip; the slips carry no number,
/// so that nothing on them can be written down against a person.
enum VotingSheet {
    /// Slips per printed A4 page (3 across, 4 down).
    static let slipsPerPage = 12

    static func html(_ sheet: PrintedSheet, event: EventDefinition, venue: String) throws -> String {
        let escape = DeskBoxRecord.escape
        let session = event.session(sheet.session)
        let sessionName = session?.name ?? sheet.session
        let venueName = event.venue(venue)?.name ?? venue
        var slips: [String] = []
        for code in sheet.codes {
            let url = VotingCode.url(base: sheet.url, code: code)
            let qr = try QRCode(url).svg(size: 132, label: "QR")
            slips.append(
                """
                <div class="slip"><div class="head">\(escape(event.title))<br>\(escape(venueName)) · \
                \(escape(sessionName)) · \(escape(sheet.box))</div>\(qr)<div class="code">\(escape(code))</div>\
                <div class="how">请用手机相机扫码（不要用微信等应用的扫一扫），或用浏览器打开 \(escape(sheet.url))/vote \
                输入投票码。一码一票。<br>Scan with the phone's camera (not a messaging app), or open \
                \(escape(sheet.url))/vote in the browser and type the code. One code, one ballot.</div></div>
                """)
        }
        return """
            <!doctype html>
            <html lang="zh-CN"><head><meta charset="utf-8">
            <title>投票码 Voting codes · \(escape(sheet.session)) · \(escape(sheet.box)) · #\(sheet.sheet)</title>
            <style>
            @page { size: A4; margin: 10mm; }
            body { font-family: "Noto Sans CJK SC", "Noto Sans SC", sans-serif; margin: 0; }
            .intro { font-size: 10pt; margin: 0 0 4mm; }
            .slips { display: grid; grid-template-columns: repeat(3, 1fr); }
            .slip { border: 1px dashed #888; padding: 2mm 3mm; text-align: center; break-inside: avoid;
                    min-height: 64mm; box-sizing: border-box; }
            .slip svg { width: 30mm; height: 30mm; display: block; margin: 1mm auto 0; }
            .slip:nth-child(\(slipsPerPage)n) { break-after: page; }
            .head { font-size: 8pt; color: #333; }
            .code { font: bold 12pt monospace; letter-spacing: 0.05em; margin: 1mm 0; }
            .how { font-size: 6.5pt; color: #333; }
            @media print { .intro { display: none; } }
            </style></head><body>
            <p class="intro">\(escape(event.title)) · \(escape(venueName)) · \(escape(sessionName)) · 票箱 box \
            \(escape(sheet.box)) · 第 \(sheet.sheet) 张码单 sheet #\(sheet.sheet) · \(sheet.codes.count) 个投票码 \
            codes. 沿虚线裁开，混匀后随机发放给已签到的代表；不要记录谁拿到哪个码。Cut along the dashed lines, shuffle, and \
            hand one at random to each representative checked in; never write down who got which code. \
            Count the unused slips back at closing.</p>
            <div class="slips">
            \(slips.joined(separator: "\n"))
            </div></body></html>

            """
    }
}
