import Aggregator
import Crypto
import Foundation
import Shared
import Testing

/// The printed report (issue #18): headless Chromium prints `aggregator report --html` to A4 PDF, as an office would
/// from the browser; pdfinfo and pdftotext read it back. The first page leads with the ranking and its chart; the
/// appendices start on pages of their own. The PDF and a screenshot go to `REPORT_ARTIFACTS` (default
/// .build/artifacts/report).
@Suite(.serialized) struct ReportPrintBrowserTests {
    static let tools = ["/usr/bin/pdfinfo", "/usr/bin/pdftotext"].allSatisfy {
        FileManager.default.isExecutableFile(atPath: $0)
    }

    static func run(_ executable: String, _ arguments: [String]) throws -> String {
        let process = Process()
        process.executableURL = URL(filePath: executable)
        process.arguments = arguments
        let pipe = Pipe()
        process.standardOutput = pipe
        process.standardError = FileHandle.nullDevice
        try process.run()
        let data = pipe.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return String(decoding: data, as: UTF8.self)
    }

    @Test(
        .enabled(
            if: Chromium.executable != nil && tools, "needs chromium and poppler-utils (scripts/setup.sh installs them)"
        ))
    func theReportPrintsToA4LeadingWithTheRanking() async throws {
        let harness = try ProcessHarness()
        defer { harness.cleanUp() }
        let artefacts = URL(
            filePath: ProcessInfo.processInfo.environment["REPORT_ARTIFACTS"]
                ?? Fixtures.root.appending(path: ".build/artifacts/report").path)
        try FileManager.default.createDirectory(at: artefacts, withIntermediateDirectories: true)

        // Given an aggregator holding ballots of the east venue and the tally of a department evaluated outside
        let east = TestSigner()
        let (database, intake) = try Fixtures.aggregator(
            eventJSON: OutsideTallyTests.eventJSON, enrolling: ["east": east])
        let event = try EventDefinition.load(data: Data(OutsideTallyTests.eventJSON.utf8))
        let ballots: [RecordPayload] = (0..<40).map { index in
            let marks = ["satisfied", "basically_satisfied", "dissatisfied"]
            return .ballot(
                .init(
                    session: "S2", box: "B1", status: .valid,
                    marks: ["D01": marks[index % 2], "D02": marks[index % 3], "D03": marks[(index / 3) % 3]]))
        }
        _ = try await east.send(
            Fixtures.chain([.boxClosed(.init(session: "S2", box: "B1", issued: 40, returned: 40))] + ballots),
            venue: "east", to: intake)
        try database.enterOutsideTally(
            event: event.definition, department: "D09", counts: ["satisfied": 30, "basically_satisfied": 10],
            source: "机关工委汇总表", by: "王芳", reason: nil, key: Curve25519.Signing.PrivateKey())
        let report = try Report.build(database: database, event: event)
        let html = harness.workDirectory.appending(path: "report.html")
        try Data(report.html(event: event.definition, language: .zh).utf8).write(to: html)

        // When Chromium prints it to PDF
        let pdf = artefacts.appending(path: "report-zh.pdf")
        try? FileManager.default.removeItem(at: pdf)
        _ = try Self.run(
            Chromium.executable!,
            [
                "--headless=new", "--no-sandbox", "--disable-gpu", "--no-pdf-header-footer",
                "--user-data-dir=\(harness.workDirectory.appending(path: "print-profile").path)",
                "--print-to-pdf=\(pdf.path)", html.absoluteString,
            ])

        // Then it is A4, the first page leads with the ranking, and each appendix starts a page
        let info = try Self.run("/usr/bin/pdfinfo", [pdf.path])
        #expect(info.contains("(A4)"), "\(info)")
        let pages = try #require(
            info.split(separator: "\n").first { $0.hasPrefix("Pages:") }.flatMap {
                Int($0.dropFirst("Pages:".count).trimmingCharacters(in: .whitespaces))
            })
        #expect(pages >= 5, "a page for the summary and one per appendix: \(pages)")
        func page(_ number: Int) throws -> String {
            try Self.run("/usr/bin/pdftotext", ["-f", "\(number)", "-l", "\(number)", "-layout", pdf.path, "-"])
        }
        let first = try page(1)
        #expect(first.contains("一、评议结果与排名"))
        #expect(first.contains("市机关事务局"), "the department evaluated outside is ranked with the others")
        #expect(!first.contains("附录一"))
        var appendixPages: [Int] = []
        for number in 2...pages {
            let text = try page(number).trimmingCharacters(in: .whitespacesAndNewlines)
            if text.hasPrefix("附录") { appendixPages.append(number) }
        }
        #expect(appendixPages.count == 4, "appendices found at the top of pages \(appendixPages)")
        print("printed report: \(pdf.path), \(pages) pages, appendices from page \(appendixPages.first ?? 0)")

        // And a screenshot of the page as it opens in a browser, for docs/reconciliation.md
        let browser = try await Chromium(workDirectory: harness.workDirectory)
        try browser.resize(width: 900, height: 1200)
        try browser.send("Page.enable")
        try browser.send("Page.navigate", ["url": html.absoluteString])
        #expect(try await browser.waitUntil("!!document.getElementById('rate-chart')") != nil)
        #expect(try browser.evaluate("document.querySelectorAll('#rate-chart rect').length") as? Int == 8)
        try browser.screenshot(to: artefacts.appending(path: "report-zh.png"))
    }
}
