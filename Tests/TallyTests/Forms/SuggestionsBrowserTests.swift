import Foundation
import Shared
import Testing

/// The suggestions page (issue #17) in a real browser, driven with the mouse and the keyboard as an officer and a
/// department's clerk use it: sign in with a token, filter, triage, answer, send back, accept, record the citizen's
/// feedback and mark an outstanding suggestion. Every bad input is refused on the page with its reason, and the
/// aggregator's own API then shows nothing changed. Screenshots are kept (`DASHBOARD_SCREENSHOTS=DIR`, default
/// .build/artifacts).
@Suite(.serialized) struct SuggestionsBrowserTests {
    static let hasChromium = Chromium.executable != nil

    struct Item: Decodable {
        struct Event: Decodable { var action: String }
        var venue: String
        var seq: Int64
        var status: String
        var lead: String?
        var answer: String?
        var feedback: String?
        var outstanding: Bool
        var events: [Event]
        var id: String { "\(venue)/\(seq)" }
    }

    @Test(.enabled(if: hasChromium, "needs Debian's chromium package (scripts/setup.sh installs it)"))
    func anOfficerAndADepartmentHandleASuggestionOnThePage() async throws {
        let harness = try ProcessHarness()
        defer { harness.cleanUp() }
        let artefacts = try Fixtures.screenshots()

        // Given a venue whose three suggestions reached the aggregator
        let eventURL = harness.workDirectory.appending(path: "event.json")
        try FormRecordTests.eventJSON.write(to: eventURL, atomically: true, encoding: .utf8)
        let (aggregator, port) = try await harness.startAggregator(dataDir: "agg", event: eventURL)
        defer { aggregator.terminate() }
        try harness.createNode("main", event: eventURL, venue: "main", aggregatorURL: "http://127.0.0.1:\(port)")
        let steps: [[String]] = [
            ["box", "close", "--session", "S1", "--box", "E1", "--suggestions", "3"],
            [
                "form", "--session", "S1", "--box", "E1", "--kind", "suggestion", "--text",
                "东门路口早高峰拥堵，建议增设信号灯。电话13812345678", "--departments", "D01,D02", "--topic", "traffic",
                "--contact", "王先生 13812345678", "--consent",
            ],
            ["form", "--session", "S1", "--box", "E1", "--kind", "suggestion", "--text", "图书馆周末延长开放时间"],
            ["form", "--session", "S1", "--box", "E1", "--kind", "suggestion", "--text", "东门路口拥堵（同上）"],
        ]
        for step in steps {
            let words = step[0] == "box" ? 2 : 1
            let result = try harness.run(
                "venue-node", Array(step.prefix(words)) + ["--data-dir", "main"] + step.dropFirst(words))
            #expect(result.status == 0, "\(step): \(result.stderr)")
        }
        #expect(try harness.run("venue-node", ["sync", "--data-dir", "main"]).status == 0)
        func token(_ arguments: [String]) throws -> String {
            let added = try harness.run("aggregator", ["tokens", "add", "--data-dir", "agg"] + arguments)
            #expect(added.status == 0, "\(added.stderr)")
            return added.stdout.trimmingCharacters(in: .whitespacesAndNewlines)
        }
        let admin = try token(["--role", "admin", "--name", "office"])
        let observer = try token(["--role", "observer", "--name", "wall"])
        let d01 = try token(["--role", "department", "--department", "D01", "--name", "市发改委"])
        let d02 = try token(["--role", "department", "--department", "D02", "--name", "市教育局"])
        let base = "http://127.0.0.1:\(port)"
        /// The item as the aggregator's API says it is (not as the page shows it).
        func item(_ id: String) throws -> Item {
            let answer = FormsEndToEndTests.call("GET", "\(base)/v1/suggestions/\(id)", token: admin)
            #expect(answer.status == 200)
            return try JSONDecoder().decode(Item.self, from: Data(answer.text.utf8))
        }

        let browser = try await Chromium(workDirectory: harness.workDirectory)
        try browser.send("Page.enable")
        try browser.resize(width: 1366, height: 900)
        try browser.send("Page.navigate", ["url": "\(base)/suggestions"])
        let result = "document.getElementById('result')"
        func signIn(_ token: String) async throws {
            #expect(try await browser.waitUntil("!document.getElementById('signin').hidden") != nil)
            try browser.click("#token")
            try browser.type(token, enter: true)
        }
        func waitForResult(_ code: String) async throws -> String {
            let arrived = try await browser.waitUntil("\(result).dataset.code === '\(code)'") != nil
            let text = try browser.evaluate("\(result).textContent") as? String ?? ""
            #expect(arrived, "no \(code): \(text)")
            try browser.evaluate("delete \(result).dataset.code")
            return text
        }
        func open(_ id: String) async throws {
            try browser.click("tr[data-id='\(id)']")
            #expect(try await browser.waitUntil("document.getElementById('detail').dataset.id === '\(id)'") != nil)
        }
        func signOut() throws { try browser.click("#signout") }

        // When a wrong token and an observer's are typed in: refused, with the reason
        try await signIn("not-a-token")
        #expect(try await browser.waitUntil("document.getElementById('signin-error').textContent !== ''") != nil)
        #expect(try browser.evaluate("document.getElementById('signin-error').textContent") as? String == "令牌无效或已撤销")
        try await signIn(observer)
        #expect(
            try await browser.waitUntil(
                "document.getElementById('signin-error').textContent.startsWith('观察员令牌不能办理')") != nil)

        // Then the officer's token shows every suggestion, the telephone number masked
        try await signIn(admin)
        #expect(try await browser.waitUntil("document.querySelectorAll('tr[data-id]').length === 3") != nil)
        let listed = try browser.evaluate(
            "[...document.querySelectorAll('tr[data-id]')].map(r => r.dataset.id).join(' ')")
        #expect(listed as? String == "main/2 main/3 main/4", "\(listed ?? "")")
        #expect(
            try browser.evaluate("document.getElementById('summary').textContent") as? String
                == "共 3 件 · 待分办 3 · 办理中 0 · 逾期 0")
        #expect(try browser.evaluate("document.body.innerText.includes('13812345678')") as? Bool == false)

        // The keyboard opens an item: Tab to the first row, Enter
        try browser.evaluate("document.querySelector('tr[data-id]').focus()")
        try browser.press("Enter")
        #expect(try await browser.waitUntil("document.getElementById('detail').dataset.id === 'main/2'") != nil)
        #expect(try browser.evaluate("!document.getElementById('triage').hidden") as? Bool == true)

        // A triage without the officer's name: refused on the page, nothing sent
        try browser.click("#triage button[type=submit]")
        #expect(try await waitForResult("actor") == "请先在页面顶部填写经办人姓名")
        #expect(try item("main/2").events.isEmpty)
        try browser.click("#actor")
        try browser.type("王芳")

        // D01 leads and is ticked as co-handler too: refused by the aggregator, with its reason; nothing changed
        try browser.click("#t-co input[value=D01]")
        try browser.click("#t-due")
        try browser.type("2099-12-31")
        try browser.click("#triage button[type=submit]")
        let refusal = try await waitForResult("suggestion_refused")
        #expect(refusal == "未保存：a department is named twice: D01, D01, D02")
        #expect(try item("main/2").status == "new")
        #expect(try item("main/2").events.isEmpty)

        // Untick it, and a due date that is no day: refused
        try browser.click("#t-co input[value=D01]")
        try browser.click("#t-due")
        try browser.press("End")
        for _ in 0..<2 { try browser.press("Backspace") }
        try browser.type("32")
        try browser.click("#triage button[type=submit]")
        #expect(try await waitForResult("suggestion_refused") == "未保存：due date \"2099-12-32\" is not YYYY-MM-DD")
        #expect(try item("main/2").events.isEmpty)

        // The right day: assigned to D01 with D02, due 2099-12-31
        try browser.click("#t-due")
        try browser.press("End")
        try browser.press("Backspace")
        try browser.type("1")
        try browser.click("#triage button[type=submit]")
        _ = try await waitForResult("ok")
        var handled = try item("main/2")
        #expect(handled.status == "assigned" && handled.lead == "D01")
        #expect(handled.events.map(\.action) == ["triage"])
        #expect(try browser.evaluate("document.getElementById('detail').dataset.status") as? String == "assigned")

        // main/4 is a duplicate of main/2, chosen from the list of the others
        try await open("main/4")
        // (the decision's list is walked with the arrow keys; the first other item, main/2, is offered first)
        try browser.evaluate("document.getElementById('t-decision').focus()")
        try browser.press("ArrowDown")
        try browser.press("ArrowDown")
        #expect(try browser.evaluate("document.getElementById('t-decision').value") as? String == "duplicate")
        #expect(try browser.evaluate("!document.getElementById('t-of').closest('[data-for]').hidden") as? Bool == true)
        #expect(try browser.evaluate("document.getElementById('t-of').value") as? String == "main/2")
        try browser.click("#triage button[type=submit]")
        _ = try await waitForResult("ok")
        #expect(try item("main/4").status == "duplicate")
        try browser.screenshot(to: artefacts.appending(path: "suggestions-office.png"))
        try signOut()

        // A co-handling department sees the item and who answers it, and has no answer form
        try await signIn(d02)
        #expect(try await browser.waitUntil("document.querySelectorAll('tr[data-id]').length === 1") != nil)
        try await open("main/2")
        #expect(try browser.evaluate("document.getElementById('answer').hidden") as? Bool == true)
        #expect(try browser.evaluate("\(result).textContent") as? String == "本部门协办：答复由主办部门 市发改委 提交")
        #expect(try browser.evaluate("document.body.innerText.includes('王先生')") as? Bool == false)
        try signOut()

        // The lead department answers: an empty answer is refused, then its answer is saved
        try await signIn(d01)
        #expect(try await browser.waitUntil("document.querySelectorAll('tr[data-id]').length === 1") != nil)
        #expect(try browser.evaluate("document.getElementById('who').textContent") as? String == "部门：D01 市发改委")
        try await open("main/2")
        #expect(try browser.evaluate("document.body.innerText.includes('王先生')") as? Bool == true)
        // (the name the officer typed on this computer is still there: two Backspaces take it away)
        try browser.click("#actor")
        try browser.press("End")
        try browser.press("Backspace")
        try browser.press("Backspace")
        try browser.type("李科长")
        try browser.click("#answer button[type=submit]")
        #expect(try await waitForResult("suggestion_refused") == "未保存：the answer is empty")
        #expect(try item("main/2").events.count == 1)
        try browser.click("#a-text")
        try browser.type("已会同交警部门研究，年内增设信号灯。")
        try browser.click("#answer button[type=submit]")
        _ = try await waitForResult("ok")
        #expect(try item("main/2").status == "answered")
        try browser.screenshot(to: artefacts.appending(path: "suggestions-department.png"))
        try signOut()

        // The officer sends it back without a note (refused), with one, then accepts the next answer
        try await signIn(admin)
        #expect(try await browser.waitUntil("document.querySelectorAll('tr[data-id]').length === 3") != nil)
        try await open("main/2")
        try browser.click("#r-return")
        #expect(try await waitForResult("suggestion_refused") == "未保存：sending an answer back needs a note saying why")
        #expect(try item("main/2").status == "answered")
        try browser.click("#r-note")
        try browser.type("请写明完成时间")
        try browser.click("#r-return")
        _ = try await waitForResult("ok")
        #expect(try item("main/2").status == "assigned")
        let again = FormsEndToEndTests.call(
            "POST", "\(base)/v1/department/suggestions/main/2/answer", token: d01,
            body: #"{"text": "12月底前完成信号灯安装。", "by": "李科长"}"#)
        #expect(again.status == 200)
        try await open("main/3")
        try await open("main/2")
        try browser.click("#r-accept")
        _ = try await waitForResult("ok")
        try browser.click("#fb-text")
        try browser.type("满意")
        try browser.click("#feedback button[type=submit]")
        _ = try await waitForResult("ok")
        try browser.click("#outstanding")
        _ = try await waitForResult("ok")
        handled = try item("main/2")
        #expect(handled.status == "closed" && handled.feedback == "满意" && handled.outstanding)
        #expect(handled.answer == "12月底前完成信号灯安装。")
        #expect(
            handled.events.map(\.action) == [
                "triage", "answer", "return", "answer", "accept", "feedback", "outstanding",
            ])

        // A closed item takes no new triage: the page offers none, and the API refuses one
        #expect(try browser.evaluate("document.getElementById('triage').hidden") as? Bool == true)
        #expect(
            FormsEndToEndTests.call(
                "POST", "\(base)/v1/suggestions/main/2/triage", token: admin,
                body: #"{"decision": "forward", "by": "王芳"}"#
            ).status == 422)

        // The filters: closed ones only, then new ones only
        try browser.evaluate("document.getElementById('f-status').focus()")
        for _ in 0..<5 { try browser.press("ArrowDown") }
        #expect(
            try await browser.waitUntil(
                "[...document.querySelectorAll('tr[data-id]')].map(r => r.dataset.id).join(' ') === 'main/2'") != nil)
        for _ in 0..<4 { try browser.press("ArrowUp") }
        #expect(
            try await browser.waitUntil(
                "[...document.querySelectorAll('tr[data-id]')].map(r => r.dataset.id).join(' ') === 'main/3'") != nil)
        try browser.press("ArrowUp")
        #expect(try await browser.waitUntil("document.querySelectorAll('tr[data-id]').length === 3") != nil)
        try await open("main/2")
        try browser.fullPageScreenshot(to: artefacts.appending(path: "suggestions-closed.png"))

        // English
        try browser.click("#lang")
        #expect(try browser.evaluate("document.documentElement.lang") as? String == "en")
        #expect(try browser.evaluate("document.getElementById('d-status').textContent") as? String == "closed")
        #expect(
            try browser.evaluate("document.getElementById('summary').textContent") as? String
                == "3 in all · 1 to triage · 0 in hand · 0 overdue")
        try browser.screenshot(to: artefacts.appending(path: "suggestions-en.png"))
    }
}
