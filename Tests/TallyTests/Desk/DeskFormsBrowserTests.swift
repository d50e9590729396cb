import Foundation
import GRDB
import Shared
import Testing

/// The other forms entered at the desk (issue #17), in headless Chromium with keys only: a counting clerk closes the
/// entrance box counting its surveys and suggestions and the podium box counting its discipline surveys, keys three
/// opinion surveys (one key per answer) and two discipline surveys, and types two suggestions. Every bad input is
/// refused on the screen and writes nothing; the aggregator then holds exactly the forms intended, the telephone
/// number masked. Screenshots go to `DESK_SCREENSHOTS` (default .build/artifacts/desk).
@Suite(.serialized) struct DeskFormsBrowserTests {
    static let hasChromium = Chromium.executable != nil

    @Test(.enabled(if: hasChromium, "needs Debian's chromium package (scripts/setup.sh installs it)"))
    func aCountingClerkEntersSurveysAndSuggestionsByKeys() async throws {
        let harness = try ProcessHarness()
        defer { harness.cleanUp() }
        let artefacts = URL(
            filePath: ProcessInfo.processInfo.environment["DESK_SCREENSHOTS"]
                ?? Fixtures.root.appending(path: ".build/artifacts/desk").path)
        try FileManager.default.createDirectory(at: artefacts, withIntermediateDirectories: true)

        // Given an aggregator and the east venue's node serving the desk, with a counting clerk
        let eventURL = harness.workDirectory.appending(
            path: try harness.write(FormRecordTests.eventJSON, to: "event.json"))
        let (aggregator, port) = try await harness.startAggregator(dataDir: "agg", event: eventURL)
        defer { aggregator.terminate() }
        try harness.createNode("n", event: eventURL, venue: "east", aggregatorURL: "http://127.0.0.1:\(port)")
        let added = try harness.run(
            "venue-node", ["clerks", "add", "--data-dir", "n", "--name", "李强", "--role", "count"])
        #expect(added.status == 0, "\(added.stderr)")
        let code = added.stdout.trimmingCharacters(in: .whitespacesAndNewlines)
        let (daemon, desk) = try await harness.startDesk("n", options: ["--interval", "1", "--max-backoff", "1"])
        defer {
            daemon.terminate()
            daemon.waitUntilExit()
        }
        let browser = try await Chromium(workDirectory: harness.workDirectory)
        try browser.resize(width: 1366, height: 900)
        try browser.send("Page.enable")
        try browser.send("Page.navigate", ["url": desk + "/desk"])

        func value(_ expression: String) throws -> String { (try browser.evaluate(expression) as? String) ?? "" }
        func until(_ expression: String, _ what: String = "") async throws {
            guard try await browser.waitUntil(expression) == nil else { return }
            let shown = try value("document.querySelector('main').innerText.slice(0, 800)")
            try #require(Bool(false), "\(what) never happened: \(expression); the page shows: \(shown)")
        }
        func focused() throws -> String { try value("document.activeElement ? document.activeElement.id : ''") }
        /// Records the node holds (nothing refused is written).
        func nodeHead() throws -> Int {
            try DatabaseQueue(path: harness.workDirectory.appending(path: "n/node.sqlite").path)
                .read { db in try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM record") ?? 0 }
        }
        try await until("document.activeElement && document.activeElement.id === 'code'")
        try browser.type(code, enter: true)
        try await until("!document.getElementById('tabs').hidden && !!document.querySelector('#session option')")

        // When the clerk closes the entrance box E1 with 3 surveys and 2 suggestions, and no ballots
        try browser.press("2", alt: true)
        try await until("document.activeElement.id === 'open-box'")
        try browser.evaluate("document.getElementById('close-box').focus()")
        try browser.type("E1")
        // Tab to the "forms only" box and tick it with the space bar, then the counts
        for _ in 0..<3 { try browser.press("Tab") }
        #expect(try focused() == "close-forms-only")
        try browser.press(" ")
        #expect(try browser.evaluate("document.getElementById('close-issued').disabled") as? Bool == true)
        try browser.press("Tab")
        #expect(try focused() == "close-surveys")
        try browser.type("3")
        try browser.press("Tab")
        try browser.type("2", enter: true)
        try await until("!!document.querySelector('#boxes tr[data-box=E1]')", "closing E1")
        #expect(
            try value("document.querySelector('#boxes tr[data-box=E1] [data-forms]').dataset.forms")
                == "suggestion=0/2 survey=0/3")
        // And the podium box P1 with 2 discipline surveys (the same way)
        try browser.evaluate("document.getElementById('close-box').focus()")
        try browser.type("P1")
        for _ in 0..<3 { try browser.press("Tab") }
        try browser.press(" ")
        for _ in 0..<3 { try browser.press("Tab") }
        #expect(try focused() == "close-discipline")
        try browser.type("2", enter: true)
        try await until("!!document.querySelector('#boxes tr[data-box=P1]')", "closing P1")
        let closed = try nodeHead()
        #expect(closed == 2)

        // Then Alt+7: the survey of box E1, one key per answer
        try browser.press("7", alt: true)
        try await until("document.activeElement.id === 'forms-kind'")
        try browser.press("Tab")
        try browser.type("E1", enter: true)
        try await until("document.activeElement.id === 'survey-pad'", "the survey pad")
        #expect(
            try value("[...document.querySelectorAll('#survey-rows li')].map(l => l.dataset.key).join(' ')")
                == "safety service:D01 service:D02")
        let status = "document.getElementById('forms-status')"
        let entered = "document.getElementById('forms-progress').dataset.entered"
        // A form with a question left out is refused with the questions named
        try browser.type("1")
        try browser.press("Enter")
        try await until("\(status).dataset.outcome === 'refused'")
        #expect(try value("\(status).textContent") == "还有问题未录入：service:D01、service:D02（未作答请按 0）")
        #expect(try nodeHead() == closed)
        // Keyed whole: good; satisfied (D01); fair (D02)
        try browser.type("12")
        try browser.press("Enter")
        try await until("\(status).dataset.outcome === 'saved' && \(entered) === '1'", "the first survey")
        // fair; not answered (D01); unknown (D02) — a key beyond the answers (9) does nothing; Backspace undoes one
        try browser.type("2093")
        try browser.press("Backspace")
        try browser.type("3")
        if try value("document.getElementById('survey-rows').innerText").contains("未作答") {
            try browser.screenshot(to: artefacts.appending(path: "desk-forms-survey.png"))
        }
        try browser.press("Enter")
        try await until("\(status).dataset.outcome === 'saved' && \(entered) === '2'", "the second survey")
        try browser.type("311")
        try browser.press("Enter")
        try await until("\(entered) === '3'", "the third survey")
        // A fourth is one more than the closing counted: refused
        try browser.type("111")
        try browser.press("Enter")
        try await until("\(status).dataset.outcome === 'refused'", "the fourth survey refused")
        #expect(try value("\(status).textContent").hasPrefix("录入份数已达封箱时清点的份数"))
        #expect(try nodeHead() == closed + 3)

        // The discipline surveys of P1: someone hinted how to rate (yes), and no
        try browser.press("7", alt: true)
        try browser.evaluate("document.getElementById('forms-kind').focus()")
        try browser.press("ArrowDown")
        try browser.press("Tab")
        try browser.press("End")
        for _ in 0..<2 { try browser.press("Backspace") }
        try browser.type("P1", enter: true)
        try await until(
            "document.activeElement.id === 'survey-pad' && document.querySelector('#survey-rows li').dataset.key === 'hint'"
        )
        try browser.type("1")
        try browser.press("Enter")
        try await until("\(entered) === '1'", "the first discipline survey")
        try browser.type("2")
        try browser.press("Enter")
        try await until("\(entered) === '2'", "the second discipline survey")

        // The suggestions of E1: typed, departments ticked, a topic chosen
        try browser.evaluate("document.getElementById('forms-kind').focus()")
        try browser.press("ArrowDown")
        try browser.press("Tab")
        try browser.press("End")
        for _ in 0..<2 { try browser.press("Backspace") }
        try browser.type("E1", enter: true)
        try await until("document.activeElement.id === 'sg-text'", "the suggestion form")
        let sgStatus = "document.getElementById('suggestion-status')"
        try browser.type("东门路口早高峰拥堵，建议增设信号灯。电话13812345678")
        try browser.press("Tab")
        try browser.press(" ")  // D01 (市发改委)
        try browser.press("Tab")
        try browser.press("Tab")
        try browser.press("Tab")
        try browser.press("ArrowDown")  // topic: 交通
        try browser.press("Tab")
        try browser.type("王先生 13812345678")
        // A contact without consent is refused, nothing written
        try browser.evaluate("document.getElementById('sg-text').focus()")
        try browser.press("Enter", control: true)
        try await until("\(sgStatus).dataset.outcome === 'refused'", "the contact without consent refused")
        #expect(try value("\(sgStatus).textContent").hasPrefix("填写联系方式须本人同意回访"))
        #expect(try nodeHead() == closed + 5)
        try browser.evaluate("document.getElementById('sg-consent').focus()")
        try browser.press(" ")
        try browser.evaluate("document.getElementById('sg-text').focus()")
        try browser.press("Enter", control: true)
        try await until("\(sgStatus).dataset.outcome === 'saved'", "the first suggestion")
        #expect(try value("\(sgStatus).textContent").hasSuffix("；内容中的身份证号、电话号码已遮盖"))
        #expect(try value("document.getElementById('sg-text').value") == "")
        // An empty suggestion is refused
        try browser.press("Enter", control: true)
        try await until("\(sgStatus).dataset.outcome === 'refused'", "the empty suggestion refused")
        try browser.type("图书馆周末延长开放时间")
        try browser.press("Enter", control: true)
        try await until(
            "\(sgStatus).dataset.outcome === 'saved' && document.getElementById('suggestion-progress').dataset.entered === '2'",
            "the second suggestion")
        try browser.screenshot(to: artefacts.appending(path: "desk-forms-suggestion.png"))
        #expect(try nodeHead() == closed + 7)
        try browser.press("2", alt: true)
        try await until(
            "document.querySelector('#boxes tr[data-box=E1] [data-forms]').dataset.forms === 'suggestion=2/2 survey=3/3'"
        )
        try browser.screenshot(to: artefacts.appending(path: "desk-boxes-forms.png"))

        // And the aggregator holds exactly these forms, with the clerk's name and the number masked
        #expect(try await harness.waitUntilSynced("n"))
        let forms = try DeskBrowserTests.aggregatorPayloads(
            harness.workDirectory.appending(path: "agg/aggregator.sqlite")
        )
        .compactMap { payload -> RecordPayload.Form? in
            if case .form(let form) = payload { return form }
            return nil
        }
        #expect(
            forms.filter { $0.form == .survey }.map { $0.answers ?? [:] } == [
                ["safety": "good", "service:D01": "satisfied", "service:D02": "fair"],
                ["safety": "fair", "service:D02": "unknown"],
                ["safety": "poor", "service:D01": "satisfied", "service:D02": "satisfied"],
            ])
        #expect(forms.filter { $0.form == .discipline }.map { $0.answers ?? [:] } == [["hint": "yes"], ["hint": "no"]])
        let suggestions = forms.filter { $0.form == .suggestion }
        #expect(suggestions.map(\.text) == ["东门路口早高峰拥堵，建议增设信号灯。电话138******78", "图书馆周末延长开放时间"])
        #expect(suggestions.map(\.departments) == [["D01"], nil])
        #expect(suggestions.map(\.topic) == ["traffic", nil])
        #expect(suggestions.map(\.contact) == ["王先生 13812345678", nil])
        #expect(suggestions.map(\.consent) == [true, nil])
        #expect(forms.allSatisfy { $0.clerk == "李强#1" })

        // And the dashboard names the breach the first discipline survey reported, at its venue and session
        let observer = try harness.run(
            "aggregator", ["tokens", "add", "--data-dir", "agg", "--role", "observer", "--name", "大屏"]
        ).stdout.trimmingCharacters(in: .whitespacesAndNewlines)
        try browser.send("Page.navigate", ["url": "http://127.0.0.1:\(port)/dashboard?token=\(observer)"])
        try await until(
            "!!document.querySelector('[data-venue=east] [data-breach=S1]')", "the breach on the dashboard")
        #expect(try value("document.querySelector('[data-venue=east] [data-breach=S1]').dataset.count") == "1")
        #expect(
            try value("document.querySelector('[data-venue=east] [data-breach=S1]').textContent")
                == "纪律调查反映问题：S1，1 份")
        #expect(try browser.evaluate("document.querySelectorAll('[data-breach]').length") as? Int == 1)
        try browser.screenshot(to: artefacts.appending(path: "dashboard-breach.png"))
    }
}
