import Foundation
import GRDB
import Shared
import Testing
import VenueNode

/// The phone ballot box in headless Chromium emulating a phone, driving the real `venue-node run` with taps (issue
/// #16): the printed sheet's QR code read back by a decoder (`zbarimg`) and opened; a ballot with a department left
/// out refused until marked; the summary, the receipt; a reload shows the same receipt and casts nothing; a second
/// phone types its code and votes in English; a third is told plainly that the box closed under it; once synced, the
/// receipt is typed at the aggregator's page and found. Screenshots go to `VOTE_SCREENSHOTS` (default
/// .build/artifacts/vote).
@Suite(.serialized) struct VoteBrowserTests {
    static let hasChromium = Chromium.executable != nil
    static let zbarimg = ["/usr/bin/zbarimg"].first { FileManager.default.isExecutableFile(atPath: $0) }

    @Test(.enabled(if: hasChromium, "needs Debian's chromium package (scripts/setup.sh installs it)"))
    func phonesVoteByTapsAndEachGetsItsReceipt() async throws {
        let harness = try ProcessHarness()
        defer { harness.cleanUp() }
        let artefacts = URL(
            filePath: ProcessInfo.processInfo.environment["VOTE_SCREENSHOTS"]
                ?? Fixtures.root.appending(path: ".build/artifacts/vote").path)
        try FileManager.default.createDirectory(at: artefacts, withIntermediateDirectories: true)
        let eventURL = Fixtures.example("ordos-2021")
        let event = try EventDefinition.load(contentsOf: eventURL).definition
        let departments = try #require(event.ballotDepartments(session: "S1")).map(\.id)

        // An aggregator, and a node for the main venue.
        let (aggregator, aggregatorPort) = try await harness.startAggregator(dataDir: "agg", event: eventURL)
        defer { aggregator.terminate() }
        try harness.createNode("n", event: eventURL, venue: "main", aggregatorURL: "http://127.0.0.1:\(aggregatorPort)")
        let daemon = try harness.start(
            "venue-node", ["run", "--data-dir", "n", "--desk-listen", "127.0.0.1:0", "--interval", "1"], log: "node.log"
        )
        defer {
            daemon.terminate()
            daemon.waitUntilExit()
        }
        let line = try await harness.waitForLine(startingWith: "desk listening on ", in: "node.log")
        let base = "http://127.0.0.1:\(line.split(separator: ":").last!)"
        let printed = try harness.run(
            "venue-node",
            [
                "codes", "print", "--data-dir", "n", "--session", "S1", "--box", "E1", "--count", "3", "--url", base,
                "--out", "sheet.html", "--list", "codes.txt",
            ])
        #expect(printed.status == 0, "\(printed.stderr)")
        let codes = try String(contentsOf: harness.workDirectory.appending(path: "codes.txt"), encoding: .utf8)
            .split(separator: "\n").map(String.init)
        #expect(
            try harness.run("venue-node", ["box", "open", "--data-dir", "n", "--session", "S1", "--box", "E1"]).status
                == 0)

        let browser = try await Chromium(workDirectory: harness.workDirectory)
        func settle(_ expression: String, _ what: String) async throws {
            let waited = try await browser.waitUntil(expression, timeout: .seconds(20))
            let page = try? browser.evaluate(
                "location.href + ' ' + (document.body ? document.body.innerText.slice(0, 300) : '')")
            #expect(waited != nil, "\(what): \(expression) — \(page.map { "\($0)" } ?? "")")
            if waited == nil { throw CancellationError() }
        }

        // A person taps again when a button did not light up (a loaded machine may take a tap for a long press).
        func choose(_ department: String, _ position: Int) async throws {
            let button = #"fieldset[data-dept="\#(department)"] button:nth-child(\#(position))"#
            for _ in 0..<3 {
                try browser.tap(button)
                let pressed = #"document.querySelector('\#(button)').getAttribute("aria-pressed") === "true""#
                if try await browser.waitUntil(pressed, timeout: .seconds(5)) != nil { return }
            }
            Issue.record("\(button) never lit up")
            throw CancellationError()
        }
        /// Taps `selector` until `expression` holds (three times at most), as a person taps a button again.
        func tap(_ selector: String, until expression: String, _ what: String) async throws {
            for _ in 0..<3 {
                try browser.tap(selector)
                if try await browser.waitUntil(expression, timeout: .seconds(8)) != nil { return }
            }
            try await settle(expression, what)
        }

        // The printed sheet: its QR codes, read by a decoder from a screenshot, are the voting URLs with the codes.
        try browser.resize(width: 800, height: 1130)
        try browser.send("Page.navigate", ["url": harness.workDirectory.appending(path: "sheet.html").absoluteString])
        try await settle("document.querySelectorAll('.slip svg').length === 3", "the sheet")
        let sheetShot = artefacts.appending(path: "vote-sheet.png")
        try browser.screenshot(to: sheetShot)
        var urls = codes.map { VotingCode.url(base: base, code: $0) }
        // scripts/setup.sh installs zbar-tools: in CI the QR codes are always read back.
        if Self.zbarimg == nil && ProcessInfo.processInfo.environment["CI"] == "true" {
            Issue.record("zbarimg is missing (Debian zbar-tools): the printed QR codes were not read back")
        }
        if let zbarimg = Self.zbarimg {
            let process = Process()
            process.executableURL = URL(filePath: zbarimg)
            process.arguments = ["-q", "--raw", sheetShot.path]
            let pipe = Pipe()
            process.standardOutput = pipe
            try process.run()
            let text = String(decoding: pipe.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
            process.waitUntilExit()
            let read = text.split(separator: "\n").map(String.init)
            #expect(Set(read) == Set(urls), "zbarimg read \(read)")
            urls = codes.compactMap { code in read.first { $0.hasSuffix("#c=\(code)") } }
        }

        // Phone 1 opens the first slip's QR code.
        try browser.emulatePhone()
        try browser.send("Page.navigate", ["url": urls[0]])
        try await settle("document.querySelectorAll('fieldset.dept').length === \(departments.count)", "the ballot")
        // The code left the address bar.
        #expect(try browser.evaluate("location.hash") as? String == "")
        try browser.screenshot(to: artefacts.appending(path: "vote-ballot.png"))
        // Every department but the last, then "review": refused, the missing one outlined.
        for (index, department) in departments.dropLast().enumerated() {
            try await choose(department, index % 3 + 1)
        }
        try await tap(
            "#review",
            until:
                #"document.querySelector('fieldset[data-dept="\#(departments.last!)"]').dataset.missing === "true" && document.getElementById("review-note").textContent.includes("1")"#,
            "the missing department")
        try browser.screenshot(to: artefacts.appending(path: "vote-missing.png"))
        try await choose(departments.last!, 1)
        try await tap("#review", until: "!document.getElementById('summary').hidden", "the summary")
        #expect(
            try browser.evaluate("document.querySelectorAll('#summary-table tr').length") as? Int == departments.count)
        try browser.screenshot(to: artefacts.appending(path: "vote-summary.png"))
        try await tap("#submit", until: "!document.getElementById('done').hidden", "the receipt")
        let receipt = try #require(try browser.evaluate("document.getElementById('receipt').textContent") as? String)
        #expect(PhoneReceipt.canonical(receipt) == receipt)
        try browser.screenshot(to: artefacts.appending(path: "vote-receipt.png"))
        // A reload (or the back button) casts nothing: the page is told the code voted, and shows the same receipt.
        try browser.send("Page.reload")
        try await settle(
            "!document.getElementById('done').hidden && document.getElementById('done-note').textContent.length > 0",
            "the receipt again")
        #expect(try browser.evaluate("document.getElementById('receipt').textContent") as? String == receipt)

        // Phone 2 (a fresh tab's storage) opens the page without a code, types it, and votes in English.
        try browser.send("Runtime.evaluate", ["expression": "sessionStorage.clear(); localStorage.clear()"])
        try browser.send("Page.navigate", ["url": base + "/vote"])
        try await settle("!document.getElementById('code-form').hidden", "the code form")
        try await tap("#lang", until: #"document.getElementById('lang').textContent === "中文""#, "English")
        try browser.tap("#code")
        try browser.type(codes[1].lowercased().replacingOccurrences(of: "-", with: " "))
        try browser.tap("#code-form button")
        try await settle("document.querySelectorAll('fieldset.dept').length === \(departments.count)", "the ballot")
        #expect((try browser.evaluate("document.querySelector('.marks button').textContent") as? String) == "Satisfied")
        for department in departments { try await choose(department, 2) }
        try browser.screenshot(to: artefacts.appending(path: "vote-ballot-en.png"))
        try await tap("#review", until: "!document.getElementById('summary').hidden", "the summary")
        try await tap("#submit", until: "!document.getElementById('done').hidden", "the second receipt")
        let second = try #require(try browser.evaluate("document.getElementById('receipt').textContent") as? String)

        // Phone 3 fills in its ballot while the box is closed under it: told plainly that it did not count.
        try browser.send("Runtime.evaluate", ["expression": "sessionStorage.clear(); localStorage.clear()"])
        try browser.send("Page.navigate", ["url": urls[2]])
        try await settle("document.querySelectorAll('fieldset.dept').length === \(departments.count)", "the ballot")
        for department in departments { try await choose(department, 3) }
        try await tap("#review", until: "!document.getElementById('summary').hidden", "the summary")
        let closed = try harness.run(
            "venue-node", ["box", "close", "--data-dir", "n", "--session", "S1", "--box", "E1", "--unused", "0"])
        #expect(closed.status == 0, "\(closed.stderr)")
        try await tap(
            "#submit", until: #"document.getElementById("message").dataset.code === "box_closed""#, "the box closed")
        #expect(
            (try browser.evaluate("document.getElementById('message').textContent") as? String)?
                .contains("not counted") == true)
        try browser.screenshot(to: artefacts.appending(path: "vote-box-closed.png"))

        // At the desk, on a laptop, a counting clerk closes a second phone box, E2 (2 codes printed, none cast), by keys:
        // the form asks for the unused slips and fills in "returned" itself.
        for step in [
            [
                "codes", "print", "--data-dir", "n", "--session", "S1", "--box", "E2", "--count", "2", "--url", base,
                "--out", "e2.html",
            ],
            ["box", "open", "--data-dir", "n", "--session", "S1", "--box", "E2"],
        ] {
            let done = try harness.run("venue-node", step)
            #expect(done.status == 0, "\(done.stderr)")
        }
        let clerk = try harness.run(
            "venue-node", ["clerks", "add", "--data-dir", "n", "--name", "李强", "--role", "count"])
        #expect(clerk.status == 0, "\(clerk.stderr)")
        try browser.send("Emulation.setTouchEmulationEnabled", ["enabled": false])
        try browser.resize(width: 1366, height: 900)
        try browser.send("Page.navigate", ["url": base + "/desk"])
        try await settle("document.activeElement && document.activeElement.id === 'code'", "the desk's sign-in")
        try browser.type(clerk.stdout.trimmingCharacters(in: .whitespacesAndNewlines), enter: true)
        try await settle(
            "!document.getElementById('tabs').hidden && !!document.getElementById('attendance-total')", "signed in")
        try browser.press("2", alt: true)
        try await settle(
            "document.activeElement.id === 'open-box' && !!document.querySelector('#boxes tr[data-box=E2] td[data-phone=\"2\"]')",
            "the boxes screen with E2")
        try browser.press("Tab")
        try browser.press("Tab")
        try await settle("document.activeElement.id === 'close-box'", "Tab to the closing form")
        try browser.type("E2")
        try await settle(
            #"document.querySelector('label[for="close-issued"]').dataset.t === "unusedLabel" && document.getElementById('close-returned').readOnly && document.getElementById('close-returned').value === "0""#,
            "the phone box's closing form")
        try browser.press("Tab")
        try browser.type("2", enter: true)
        // Two codes printed, both counted back: 0 issued, 0 returned; the session's returned (E1's 2) differ from
        // the check-ins (none): asked to confirm, nothing saved yet.
        try await settle("!!document.querySelector('[data-warning=returned_vs_checked_in]')", "the warning")
        #expect(
            try browser.evaluate("document.querySelector('#boxes tr[data-box=E2]').dataset.state") as? String == "open")
        try browser.screenshot(to: artefacts.appending(path: "desk-phone-box.png"))
        try browser.press("Enter")
        try await settle("!!document.querySelector('#boxes tr[data-box=E2][data-state=closed]')", "E2 closed")
        let row = try browser.evaluate("document.querySelector('#boxes tr[data-box=E2]').innerText") as? String
        #expect(row?.contains("2 / 0") == true, "\(row ?? "")")
        // Phone 2 typed its code (19 keys); the clerk, a code and Enter (20), Alt+2, Tab Tab, E2, Tab, 2 and Enter, Enter.
        #expect(browser.keystrokes == 19 + 20 + 1 + 2 + 2 + 1 + 2 + 1)

        // The chain holds the two ballots cast, with the receipts the phones showed.
        let ballots = try await DatabaseQueue(path: harness.workDirectory.appending(path: "n/node.sqlite").path).read {
            db in
            try String.fetchAll(db, sql: "SELECT payload FROM record WHERE kind = 'ballot'")
        }
        let receipts = try ballots.map { json -> String? in
            guard case .ballot(let ballot) = try RecordPayload.decode(json: json) else { return nil }
            return ballot.receipt
        }
        #expect(Set(receipts.compactMap { $0 }) == [receipt, second])

        // Once synced, a representative types the receipt at the aggregator's page (the Ordos results are public).
        let synced = try await harness.waitUntilSynced("n")
        #expect(synced)
        try browser.send("Page.navigate", ["url": "http://127.0.0.1:\(aggregatorPort)/receipts"])
        try await settle("document.getElementById('r') !== null", "the receipts page")
        try browser.tap("#r")
        try browser.type(receipt.lowercased().replacingOccurrences(of: "-", with: " "), enter: true)
        try await settle(
            #"document.getElementById('answer') && document.getElementById('answer').dataset.found === "true""#,
            "the receipt found")
        #expect(
            (try browser.evaluate("document.getElementById('answer').textContent") as? String)?.contains(receipt)
                == true)
        try browser.screenshot(to: artefacts.appending(path: "vote-receipt-found.png"))
        try browser.tap("#r")
        try browser.send("Runtime.evaluate", ["expression": "document.getElementById('r').select()"])
        try browser.type("ABCDE-FGHJK", enter: true)
        try await settle(
            #"document.getElementById('answer') && document.getElementById('answer').dataset.found === "false""#,
            "a receipt not found")
    }
}
