import Foundation
import Shared
import Testing

/// The dashboard in a real browser: the numbers change without a reload when the aggregator accepts a
/// batch, results stay hidden until released, and the English switch works. A screenshot of each is
/// kept as an artefact (`DASHBOARD_SCREENSHOTS=DIR`, default .build/artifacts).
@Suite(.serialized) struct DashboardBrowserTests {
    static let hasChromium = Chromium.executable != nil

    @Test(.enabled(if: hasChromium, "needs Debian's chromium package (scripts/setup.sh installs it)"))
    func theDashboardUpdatesLiveWithoutAReloadAndSwitchesToEnglish() async throws {
        let harness = try ProcessHarness()
        defer { harness.cleanUp() }
        let artefacts = try Fixtures.screenshots()

        // Given an aggregator of a confidential event and a venue node that has synced 3 check-ins
        let json = try String(contentsOf: Fixtures.example("ordos-2021"), encoding: .utf8)
            .replacingOccurrences(of: #""quotas": ["#, with: #""results_confidential": true, "quotas": ["#)
        let eventURL = harness.workDirectory.appending(path: try harness.write(json, to: "event.json"))
        let (aggregator, port) = try await harness.startAggregator(dataDir: "agg", event: eventURL)
        defer { aggregator.terminate() }
        try harness.createNode("dalate", event: eventURL, venue: "dalate", aggregatorURL: "http://127.0.0.1:\(port)")
        func checkins(_ reps: ClosedRange<Int>) throws {
            let rows = ["session,rep,category"] + reps.map { "S1,R\($0),makers" }
            let file = try harness.write(rows.joined(separator: "\n") + "\n", to: "c\(reps.lowerBound).csv")
            #expect(try harness.run("venue-node", ["import", "--data-dir", "dalate", "--checkins", file]).status == 0)
            #expect(try harness.run("venue-node", ["sync", "--data-dir", "dalate"]).status == 0)
        }
        try checkins(1...3)

        // When the dashboard is opened with an observer's token
        let token = try harness.run(
            "aggregator",
            [
                "tokens", "add", "--data-dir", "agg", "--role", "observer",
                "--name", "大屏",
            ]
        ).stdout.trimmingCharacters(in: .whitespacesAndNewlines)
        let browser = try await Chromium(workDirectory: harness.workDirectory)
        try browser.send("Page.enable")
        try browser.send("Page.navigate", ["url": "http://127.0.0.1:\(port)/dashboard?token=\(token)"])
        let overall = "document.querySelector('#overall')"
        #expect(try await browser.waitUntil("\(overall) && \(overall).dataset.totalCheckedIn === '3'") != nil)
        #expect(try browser.evaluate("document.documentElement.lang") as? String == "zh-CN")
        #expect(try browser.evaluate("document.querySelector('[data-t=venues]').textContent") as? String == "各会场")
        #expect(try browser.evaluate("!!document.querySelector('#results-hidden')") as? Bool == true)
        try browser.screenshot(to: artefacts.appending(path: "dashboard-zh.png"))
        let updatesBefore = try browser.evaluate("Number(document.querySelector('#updates').textContent)") as? Int ?? 0

        // Then a batch accepted by the aggregator shows within a second, without a reload
        try browser.evaluate("window.loadedOnce = true")
        try checkins(4...10)
        // (How fast is measured, not asserted: timing belongs to benchmarks; it is printed below.)
        let took = try await browser.waitUntil("\(overall).dataset.totalCheckedIn === '10'", timeout: .seconds(30))
        #expect(took != nil, "the page never showed the new total")
        #expect(try browser.evaluate("window.loadedOnce === true") as? Bool == true, "the page was not reloaded")
        #expect(
            (try browser.evaluate("Number(document.querySelector('#updates').textContent)") as? Int ?? 0)
                > updatesBefore)
        #expect(
            try browser.evaluate("document.querySelector('[data-venue=dalate]').dataset.checkedIn") as? String == "10")

        // And the results appear once released
        #expect(
            try harness.run("aggregator", ["results", "release", "--data-dir", "agg", "--by", "监督检查组"]).status == 0)
        try checkins(11...11)
        #expect(try await browser.waitUntil("!!document.querySelector('tr[data-department=D01]')") != nil)

        // And the English switch relabels the page
        try browser.evaluate("document.getElementById('lang').click()")
        #expect(try browser.evaluate("document.documentElement.lang") as? String == "en")
        #expect(try browser.evaluate("document.querySelector('[data-t=venues]').textContent") as? String == "Venues")
        #expect(try browser.evaluate("document.getElementById('lang').textContent") as? String == "中文")
        try browser.screenshot(to: artefacts.appending(path: "dashboard-en.png"))
        // Times read as the page's language says them: "6:54:57 PM" in English, "18:54:57" in Chinese.
        let englishTime = try browser.evaluate("document.getElementById('generated').textContent") as? String ?? ""
        #expect(englishTime.range(of: #"^Updated \d{1,2}:\d{2}:\d{2} (AM|PM)$"#, options: .regularExpression) != nil)
        try browser.evaluate("document.getElementById('lang').click()")
        let chineseTime = try browser.evaluate("document.getElementById('generated').textContent") as? String ?? ""
        #expect(
            chineseTime.range(of: #"^更新于 \d{1,2}:\d{2}:\d{2}$"#, options: .regularExpression) != nil, "\(chineseTime)")
        #expect(
            try browser.evaluate("document.querySelector('[data-venue=dalate] .muted').textContent.includes('M')")
                as? Bool == false)

        // And on a phone 400 px wide nothing scrolls sideways: the results table scrolls within its own box
        try browser.resize(width: 400, height: 860, mobile: true)
        #expect(
            try await browser.waitUntil(
                "document.documentElement.scrollWidth <= 400 && document.body.scrollWidth <= 400")
                != nil, "the page is wider than the phone")
        #expect(
            try browser.evaluate("document.querySelector('#venues .card').getBoundingClientRect().right <= 400")
                as? Bool == true)
        try browser.screenshot(to: artefacts.appending(path: "dashboard-phone.png"))
        print(
            "dashboard screenshots: \(artefacts.path)/dashboard-zh.png, dashboard-en.png; update shown after \(String(describing: took))"
        )
    }
}
