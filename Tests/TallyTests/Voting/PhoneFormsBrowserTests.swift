import Foundation
import GRDB
import Shared
import Testing
import VenueNode

/// The other forms on phones (issue #17) in headless Chromium emulating a phone, driving the real `venue-node run` with
/// taps and typing: after its receipt, a phone is offered the opinion survey, the discipline survey and the suggestion
/// form; an empty survey and a contact without consent are refused on the page; each form is sent once; a second page
/// with the same code is refused by the node; the box's closing counts exactly the forms sent, and the aggregator holds
/// them, the telephone number in the text masked. Screenshots go to `VOTE_SCREENSHOTS` (default .build/artifacts/vote).
@Suite(.serialized) struct PhoneFormsBrowserTests {
    static let hasChromium = Chromium.executable != nil

    @Test(.enabled(if: hasChromium, "needs Debian's chromium package (scripts/setup.sh installs it)"))
    func aPhoneSendsItsSurveysAndASuggestionAfterItsBallot() async throws {
        let harness = try ProcessHarness()
        defer { harness.cleanUp() }
        let artefacts = URL(
            filePath: ProcessInfo.processInfo.environment["VOTE_SCREENSHOTS"]
                ?? Fixtures.root.appending(path: ".build/artifacts/vote").path)
        try FileManager.default.createDirectory(at: artefacts, withIntermediateDirectories: true)

        // Given the east venue's node with a phone box E1 of 3 codes, open
        let eventURL = harness.workDirectory.appending(
            path: try harness.write(FormRecordTests.eventJSON, to: "event.json"))
        let (aggregator, aggregatorPort) = try await harness.startAggregator(dataDir: "agg", event: eventURL)
        defer { aggregator.terminate() }
        try harness.createNode(
            "n", event: eventURL, venue: "east", aggregatorURL: "http://127.0.0.1:\(aggregatorPort)")
        let (daemon, base) = try await harness.startDesk("n")
        defer {
            daemon.terminate()
            daemon.waitUntilExit()
        }
        for step in [
            [
                "codes", "print", "--data-dir", "n", "--session", "S1", "--box", "E1", "--count", "3", "--url", base,
                "--out", "sheet.html", "--list", "codes.txt",
            ],
            ["box", "open", "--data-dir", "n", "--session", "S1", "--box", "E1"],
        ] {
            let done = try harness.run("venue-node", step)
            #expect(done.status == 0, "\(done.stderr)")
        }
        let codes = try String(contentsOf: harness.workDirectory.appending(path: "codes.txt"), encoding: .utf8)
            .split(separator: "\n").map(String.init)

        let browser = try await Chromium(workDirectory: harness.workDirectory)
        func settle(_ expression: String, _ what: String) async throws {
            let waited = try await browser.waitUntil(expression, timeout: .seconds(20))
            let page = try? browser.evaluate(
                "location.href + ' ' + (document.body ? document.body.innerText.slice(0, 400) : '')")
            #expect(waited != nil, "\(what): \(expression) — \(page.map { "\($0)" } ?? "")")
            if waited == nil { throw CancellationError() }
        }
        /// Taps `selector` until `expression` holds (three times at most), as a person taps a button again.
        func tap(_ selector: String, until expression: String, _ what: String) async throws {
            for _ in 0..<3 {
                try browser.tap(selector)
                if try await browser.waitUntil(expression, timeout: .seconds(8)) != nil { return }
            }
            try await settle(expression, what)
        }
        let error = "document.getElementById('form-error').textContent"

        // When a phone votes with the first slip
        try browser.emulatePhone()
        try browser.send("Page.enable")
        try browser.send("Page.navigate", ["url": VotingCode.url(base: base, code: codes[0])])
        try await settle("document.querySelectorAll('fieldset.dept').length === 2", "the ballot")
        for department in ["D01", "D02"] {
            try await tap(
                #"fieldset[data-dept="\#(department)"] button:nth-child(1)"#,
                until:
                    #"document.querySelector('fieldset[data-dept="\#(department)"] button').getAttribute("aria-pressed") === "true""#,
                department)
        }
        try await tap("#review", until: "!document.getElementById('summary').hidden", "the summary")
        try await tap("#submit", until: "!document.getElementById('done').hidden", "the receipt")

        // Then the other forms are offered below its receipt
        try await settle("document.querySelectorAll('#more-buttons button').length === 3", "the other forms")
        #expect(
            try browser.evaluate(
                "[...document.querySelectorAll('#more-buttons button')].map(b => b.dataset.kind).join(' ')")
                as? String == "survey discipline suggestion")

        // The survey: sending it empty is refused on the page; an answer tapped twice is taken back
        try await tap(
            "#more-buttons button[data-kind=survey]", until: "!document.getElementById('form').hidden", "the survey")
        #expect(try browser.evaluate("document.querySelectorAll('#form-rows fieldset').length") as? Int == 3)
        try await tap("#form-send", until: "\(error) === '请至少回答一题'", "the empty survey refused")
        for (key, option) in [("safety", 1), ("service:D01", 1), ("service:D02", 2)] {
            let button = #"fieldset[data-key="\#(key)"] button:nth-child(\#(option))"#
            try await tap(
                button, until: #"document.querySelector('\#(button)').getAttribute("aria-pressed") === "true""#, key)
        }
        let undo = #"fieldset[data-key="service:D02"] button:nth-child(2)"#
        try await tap(
            undo, until: #"document.querySelector('\#(undo)').getAttribute("aria-pressed") === "false""#, "undo")
        try browser.fullPageScreenshot(to: artefacts.appending(path: "vote-survey.png"))
        try await tap(
            "#form-send",
            until:
                "!document.getElementById('done').hidden && document.querySelector('#more-buttons button[data-kind=survey]').disabled",
            "the survey sent")

        // The discipline survey: someone hinted how to rate
        try await tap(
            "#more-buttons button[data-kind=discipline]", until: "!document.getElementById('form').hidden", "discipline"
        )
        let hint = #"fieldset[data-key="hint"] button:nth-child(1)"#
        try await tap(
            hint, until: #"document.querySelector('\#(hint)').getAttribute("aria-pressed") === "true""#, "yes")
        try await tap(
            "#form-send",
            until:
                "!document.getElementById('done').hidden && document.querySelector('#more-buttons button[data-kind=discipline]').disabled",
            "the discipline survey sent")

        // The suggestion: a contact without consent is refused on the page, then sent with consent
        try await tap(
            "#more-buttons button[data-kind=suggestion]", until: "!document.getElementById('form').hidden", "suggestion"
        )
        try browser.tap("#sg-text")
        try browser.type("公园厕所太少，电话 138-1234-5678")
        try browser.tap("#sg-departments input[value=D03]")
        try browser.tap("#sg-contact")
        try browser.type("13812345678")
        try await tap("#form-send", until: "\(error).startsWith('填写了联系方式')", "the contact without consent refused")
        try browser.tap("#sg-consent")
        try browser.fullPageScreenshot(to: artefacts.appending(path: "vote-suggestion.png"))
        try await tap(
            "#form-send",
            until:
                "!document.getElementById('done').hidden && document.querySelector('#more-buttons button[data-kind=suggestion]').disabled",
            "the suggestion sent")
        #expect(try browser.evaluate("document.getElementById('done-note').textContent") as? String == "已提交，谢谢！")
        try browser.fullPageScreenshot(to: artefacts.appending(path: "vote-forms-sent.png"))

        // Another page with the same code sends another survey: refused by the node, nothing kept
        let refused = try browser.send(
            "Runtime.evaluate",
            [
                "expression": """
                fetch('/vote/api/form', { method: 'POST', headers: { 'Content-Type': 'application/json' },
                  body: JSON.stringify({ code: '\(codes[0])', session: 'S1', box: 'E1', kind: 'survey',
                    answers: { safety: 'poor' }, submission: 'another-page-1234' }) })
                  .then(async (r) => r.status + ' ' + (await r.json()).error.code)
                """,
                "awaitPromise": true, "returnByValue": true,
            ])
        #expect((refused["result"] as? [String: Any])?["value"] as? String == "409 form_sent")
        // An empty survey from another code: refused by the node too (the page never sends one)
        let empty = try browser.send(
            "Runtime.evaluate",
            [
                "expression": """
                fetch('/vote/api/form', { method: 'POST', headers: { 'Content-Type': 'application/json' },
                  body: JSON.stringify({ code: '\(codes[1])', session: 'S1', box: 'E1', kind: 'survey', answers: {},
                    submission: 'empty-survey-1234' }) })
                  .then(async (r) => r.status + ' ' + (await r.json()).error.code)
                """,
                "awaitPromise": true, "returnByValue": true,
            ])
        #expect((empty["result"] as? [String: Any])?["value"] as? String == "400 bad_form")
        // A closing that counts other forms than those sent is refused, nothing saved
        let miscounted = try harness.run(
            "venue-node",
            ["box", "close", "--data-dir", "n", "--session", "S1", "--box", "E1", "--unused", "2", "--surveys", "5"])
        #expect(
            miscounted.status != 0
                && miscounted.stderr.contains(
                    "its forms are those sent on phones (1 discipline, 1 suggestion, 1 survey)"),
            "\(miscounted.stderr)")

        // And the box's closing counts exactly the forms sent; the aggregator holds them
        let closed = try harness.run(
            "venue-node", ["box", "close", "--data-dir", "n", "--session", "S1", "--box", "E1", "--unused", "2"])
        #expect(closed.status == 0, "\(closed.stderr)")
        #expect(try await harness.waitUntilSynced("n"))
        let payloads = try DeskBrowserTests.aggregatorPayloads(
            harness.workDirectory.appending(path: "agg/aggregator.sqlite"))
        let closing = payloads.compactMap { payload -> RecordPayload.BoxClosed? in
            if case .boxClosed(let box) = payload { return box }
            return nil
        }
        #expect(closing.map(\.forms) == [["survey": 1, "discipline": 1, "suggestion": 1]])
        let forms = payloads.compactMap { payload -> RecordPayload.Form? in
            if case .form(let form) = payload { return form }
            return nil
        }
        #expect(forms.count == 3)
        #expect(forms.first { $0.form == .survey }?.answers == ["safety": "good", "service:D01": "satisfied"])
        #expect(forms.first { $0.form == .discipline }?.answers == ["hint": "yes"])
        let suggestion = try #require(forms.first { $0.form == .suggestion })
        #expect(suggestion.text == PersonalNumbers.masked("公园厕所太少，电话 138-1234-5678"))
        #expect(suggestion.text?.contains("1234") == false)
        #expect(suggestion.departments == ["D03"])
        #expect(suggestion.contact == "13812345678" && suggestion.consent == true)

        // Once closed, a phone is told so
        try browser.send("Runtime.evaluate", ["expression": "sessionStorage.clear(); localStorage.clear()"])
        let late = try browser.send(
            "Runtime.evaluate",
            [
                "expression": """
                fetch('/vote/api/forms', { method: 'POST', headers: { 'Content-Type': 'application/json' },
                  body: JSON.stringify({ code: '\(codes[1])' }) }).then(async (r) => r.status + ' ' + (await r.json()).error.code)
                """,
                "awaitPromise": true, "returnByValue": true,
            ])
        #expect((late["result"] as? [String: Any])?["value"] as? String == "409 box_closed")
    }
}
