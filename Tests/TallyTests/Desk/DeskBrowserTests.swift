import Foundation
import GRDB
import Shared
import Testing

/// The desk in headless Chromium, driving the real `venue-node run` with key events only (issue #14): a scanner
/// checks in 20 representatives (two more refused, for different reasons), a counting clerk opens and closes the box,
/// two clerks key its 20 papers with two deliberate differences, the lead decides them, and the node syncs: the
/// aggregator's totals are exactly the intended ballots and every record names its clerk. Once with the aggregator
/// up, once with it stopped during the whole session and started afterwards. Screenshots of every screen go to
/// `DESK_SCREENSHOTS` (default .build/artifacts/desk).
@Suite(.serialized) struct DeskBrowserTests {
    static let hasChromium = Chromium.executable != nil

    static let marks = ["satisfied", "basically_satisfied", "dissatisfied"]

    /// The ballot intended on paper `k`: mostly valid, paper 5 blank, paper 9 spoiled.
    static func intended(_ paper: Int) -> (status: String, marks: [String]) {
        switch paper {
        case 5: ("blank", [])
        case 9: ("spoiled", [])
        default: ("valid", [marks[paper % 3], marks[(paper + 1) % 3]])
        }
    }

    /// The keys a clerk presses for a reading (before Enter).
    static func keys(_ reading: (status: String, marks: [String])) -> [String] {
        switch reading.status {
        case "blank": ["0"]
        case "spoiled": ["."]
        default: reading.marks.map { String(marks.firstIndex(of: $0)! + 1) }
        }
    }

    static func aggregatorPayloads(_ file: URL) throws -> [RecordPayload] {
        try DatabaseQueue(path: file.path)
            .read { db in try String.fetchAll(db, sql: "SELECT payload FROM record ORDER BY seq") }
            .map { try RecordPayload.decode(json: $0) }
    }

    @Test(
        .enabled(if: hasChromium, "needs Debian's chromium package (scripts/setup.sh installs it)"),
        arguments: [false, true])
    func aWholeSessionAtTheDeskByKeysOnly(aggregatorDownDuringTheSession: Bool) async throws {
        let harness = try ProcessHarness()
        defer { harness.cleanUp() }
        let artefacts = URL(
            filePath: ProcessInfo.processInfo.environment["DESK_SCREENSHOTS"]
                ?? Fixtures.root.appending(path: ".build/artifacts/desk").path)
        try FileManager.default.createDirectory(at: artefacts, withIntermediateDirectories: true)
        let shoot = !aggregatorDownDuringTheSession

        // Given an aggregator, and a node for venue east with a roster of 21 (R21 is on the main venue's roster)
        let eventURL = harness.workDirectory.appending(
            path: try harness.write(Fixtures.smallEventJSON, to: "event.json"))
        var (aggregator, port) = try await harness.startAggregator(dataDir: "agg", event: eventURL)
        defer { if aggregator.isRunning { aggregator.terminate() } }
        try harness.createNode("n", event: eventURL, venue: "east", aggregatorURL: "http://127.0.0.1:\(port)")
        let roster =
            ["rep_id,name,person_key,category,venue,sessions,card_code"]
            + (1...21).map { number in
                let key = String(repeating: String(format: "%02x", number), count: 32)
                return
                    "R\(number),代表\(number),\(key),resident,\(number == 21 ? "main" : "east"),S1,CARD\(1000 + number)"
            }
        let rosterFile = try harness.write(roster.joined(separator: "\n") + "\n", to: "roster.csv")
        #expect(try harness.run("venue-node", ["roster", "import", "--data-dir", "n", rosterFile]).status == 0)
        func clerk(_ name: String, _ role: String) throws -> String {
            let added = try harness.run(
                "venue-node", ["clerks", "add", "--data-dir", "n", "--name", name, "--role", role])
            #expect(added.status == 0, "\(added.stderr)")
            return added.stdout.trimmingCharacters(in: .whitespacesAndNewlines)
        }
        let deskCode = try clerk("王芳", "desk")
        let firstKeyer = try clerk("李强", "count")
        let secondKeyer = try clerk("赵敏", "count")
        let leadCode = try clerk("张伟", "lead")
        if aggregatorDownDuringTheSession {
            aggregator.terminate()
            await harness.waitForExit(aggregator)
        }

        // And the node's daemon serving the desk
        let daemon = try harness.start(
            "venue-node",
            ["run", "--data-dir", "n", "--interval", "1", "--max-backoff", "1", "--desk-listen", "127.0.0.1:0"],
            log: "daemon.log")
        defer {
            if daemon.isRunning {
                daemon.terminate()
                daemon.waitUntilExit()
            }
        }
        let line = try await harness.waitForLine(startingWith: "desk listening on 127.0.0.1:", in: "daemon.log")
        let deskPort = try #require(Int(line.split(separator: ":").last ?? ""))
        let browser = try await Chromium(workDirectory: harness.workDirectory)
        try browser.resize(width: 1366, height: 768)
        try browser.send("Page.enable")
        try browser.send("Page.navigate", ["url": "http://127.0.0.1:\(deskPort)/desk"])
        try await until("document.activeElement && document.activeElement.id === 'code'")

        func signIn(_ code: String) async throws {
            try browser.type(code, enter: true)
            try await until(
                "!document.getElementById('tabs').hidden && !!document.querySelector('#session option')"
                    + " && !!document.getElementById('attendance-total')", "sign-in")
        }
        func value(_ expression: String) throws -> String { (try browser.evaluate(expression) as? String) ?? "" }
        /// Waits until `expression` holds; else the test stops here, saying what was on the screen.
        func until(_ expression: String, _ what: String = "", timeout: Duration = .seconds(10)) async throws {
            guard try await browser.waitUntil(expression, timeout: timeout) == nil else { return }
            let shown = try value(
                "document.querySelector('main').innerText.slice(0, 600) + ' | state: ' + JSON.stringify({ session, keying, boxes: overview && overview.boxes })"
            )

            try #require(Bool(false), "\(what) never happened: \(expression); the page shows: \(shown)")
        }
        func signOut() async throws {
            try browser.press("0", alt: true)
            try await until("document.activeElement && document.activeElement.id === 'code'", "sign-out")
        }

        // When the desk clerk signs in and a scanner checks in 20 representatives, and two more are refused
        try await signIn(deskCode)
        try await until("document.activeElement.id === 'scan'")
        for number in 1...20 {
            try browser.type("CARD\(1000 + number)", enter: true)
            try await until(
                "document.getElementById('answer').dataset.state === 'ok' && document.getElementById('answer').textContent.includes('R\(number) ')",
                "admitting CARD\(1000 + number)")
            if number == 20 && shoot {
                try browser.screenshot(to: artefacts.appending(path: "desk-checkin-admitted.png"))
            }
        }
        for (scanned, reason) in [("CARD1021", "other_venue"), ("CARD1003", "already_checked_in")] {
            try browser.type(scanned, enter: true)
            try await until(
                "document.getElementById('answer').dataset.state === 'bad' && document.getElementById('answer').dataset.reason === '\(reason)'",
                "refusing \(scanned) as \(reason)")
        }
        #expect(try value("document.getElementById('answer').textContent").contains("王芳#1"))
        if shoot { try browser.screenshot(to: artefacts.appending(path: "desk-checkin-refused.png")) }
        try await until("document.getElementById('attendance-total').dataset.checkedIn === '20'")
        if aggregatorDownDuringTheSession {
            try await until("document.getElementById('sync').dataset.online === 'false'")
        }
        try await signOut()

        // And a counting clerk opens box B1 and closes it with the proposed 20 issued and 20 returned
        try await signIn(firstKeyer)
        try browser.press("2", alt: true)
        try await until("document.activeElement.id === 'open-box'")
        try browser.type("B1", enter: true)
        try await until(
            "!!document.querySelector('#boxes tr[data-box=B1][data-state=open]') && document.activeElement.id === 'open-box'"
                + " && !document.getElementById('boxes-result').hidden", "opening B1")
        try browser.press("Tab")
        try browser.press("Tab")
        try await until("document.activeElement.id === 'close-box'", "Tab to the closing form")
        try browser.type("B1")
        try await until("document.getElementById('close-issued').value === '20'", "the proposed number issued")
        try browser.press("Tab")
        try browser.press("Tab")
        try await until("document.activeElement.id === 'close-returned'", "Tab to the number returned")
        try browser.type("19", enter: true)
        // 19 returned of 20: warned first, nothing saved; then corrected to 20 and saved
        try await until("!!document.querySelector('[data-warning=issued_vs_returned]')")
        if shoot { try browser.screenshot(to: artefacts.appending(path: "desk-box-warning.png")) }
        #expect(try value("document.querySelector('#boxes tr[data-box=B1]').dataset.state") == "open")
        try browser.press("Backspace")
        try browser.press("Backspace")
        try browser.type("20", enter: true)
        try await until("!!document.querySelector('#boxes tr[data-box=B1][data-state=closed]')")
        if shoot { try browser.screenshot(to: artefacts.appending(path: "desk-boxes.png")) }

        // And two clerks key its 20 papers, the second with two differences, in departments + 1 keys a paper
        let departments = 2
        func keyPapers(differentAt: Set<Int>) async throws {
            try browser.press("3", alt: true)
            try await until("document.activeElement.id === 'keying-box'")
            try browser.type("B1", enter: true)
            try await until("document.getElementById('paper-no').textContent === '1'")
            for paper in 1...20 {
                var reading = Self.intended(paper)
                if differentAt.contains(paper) {
                    reading.marks[1] = Self.marks[(Self.marks.firstIndex(of: reading.marks[1])! + 1) % 3]
                }
                let before = browser.keystrokes
                try browser.type(Self.keys(reading).joined(), enter: true)
                #expect(
                    browser.keystrokes - before <= departments + 1,
                    "paper \(paper) took \(browser.keystrokes - before) keys")
                try await until(
                    "document.getElementById('paper-no').textContent === '\(paper == 20 ? "-" : String(paper + 1))'",
                    "saving paper \(paper)")
            }
        }
        try await keyPapers(differentAt: [])
        #expect(try value("document.getElementById('keying-progress').dataset.keyed") == "20")
        try await signOut()
        try await signIn(secondKeyer)
        try await keyPapers(differentAt: [7, 13])
        try await until("document.querySelectorAll('#disputes [data-dispute]').length === 2")
        #expect(try value("document.getElementById('keying-progress').dataset.agreed") == "18")
        try await signOut()

        // And the lead looks at papers 7 and 13 and decides them as they are
        try await signIn(leadCode)
        try browser.press("3", alt: true)
        try await until("document.activeElement.id === 'keying-box'")
        try browser.type("B1", enter: true)
        try await until(
            "document.querySelectorAll('#disputes [data-dispute]').length === 2 && document.activeElement.id === 'keying-pad'"
        )
        for paper in [7, 13] {
            try browser.press("r")
            try await until(
                "document.getElementById('paper-no').textContent === '\(paper)' && !document.getElementById('resolve-label').hidden",
                "opening paper \(paper) for the lead")
            if paper == 7 && shoot { try browser.screenshot(to: artefacts.appending(path: "desk-keying-resolve.png")) }
            try browser.type(Self.keys(Self.intended(paper)).joined(), enter: true)
            try await until(
                "document.getElementById('keying-status').dataset.outcome === 'resolved'", "deciding paper \(paper)")
        }
        try await until("document.getElementById('keying-progress').dataset.agreed === '20'")
        if shoot { try browser.screenshot(to: artefacts.appending(path: "desk-keying.png")) }

        // And the other screens show what they hold (screenshots for docs/desk.md)
        try browser.press("4", alt: true)
        if shoot { try browser.screenshot(to: artefacts.appending(path: "desk-upload.png")) }
        try browser.press("5", alt: true)
        try await until("document.querySelectorAll('#records tr[data-seq]').length > 0")
        if shoot { try browser.screenshot(to: artefacts.appending(path: "desk-records.png")) }
        try browser.press("6", alt: true)
        try await until("document.getElementById('findings').textContent.length > 0")
        if shoot { try browser.screenshot(to: artefacts.appending(path: "desk-reconciliation.png")) }
        // The findings say what was found in the page's language: Chinese here.
        let findingTexts =
            try browser.evaluate(
                "JSON.stringify(Array.from(document.querySelectorAll('#findings tr[data-kind]')).map((r) => r.lastElementChild.textContent))"
            ) as? String ?? "[]"
        let texts = try JSONDecoder().decode([String].self, from: Data(findingTexts.utf8))
        #expect(!texts.isEmpty)
        #expect(
            texts.allSatisfy { $0.unicodeScalars.contains { (0x4E00...0x9FFF).contains($0.value) } },
            "\(texts)")
        try browser.evaluate("document.getElementById('lang').click()")
        #expect(try browser.evaluate("document.documentElement.lang") as? String == "en")
        try browser.press("1", alt: true)
        if shoot { try browser.screenshot(to: artefacts.appending(path: "desk-checkin-en.png")) }

        // Then, with the aggregator up (started now if it was stopped), the node syncs everything
        if aggregatorDownDuringTheSession {
            #expect(try value("document.getElementById('sync').dataset.online") == "false")
            (aggregator, port) = try await harness.startAggregator(dataDir: "agg", event: eventURL, port: port)
        }
        try await until(
            "document.getElementById('sync').dataset.online === 'true' && document.getElementById('sync').dataset.pending === '0'",
            "syncing", timeout: .seconds(60))

        // And the printable box record shows the counts, the clerks and the chain's head at closing
        try browser.send("Page.navigate", ["url": "http://127.0.0.1:\(deskPort)/desk/box-record?session=S1&box=B1"])
        try await until("document.body && document.body.innerText.includes('开箱/封箱记录')", "the box record")
        let record = try value("document.body.innerText")
        #expect(record.contains("李强#2") && record.contains("赵敏#3") && record.contains("22 · "), "\(record)")
        if shoot { try browser.screenshot(to: artefacts.appending(path: "desk-box-record.png")) }

        // And the aggregator's totals are exactly the intended ballots
        var expected: [String: Int] = [:]
        for paper in 1...20 where Self.intended(paper).status == "valid" {
            for (department, mark) in zip(["D01", "D02"], Self.intended(paper).marks) {
                expected["east,S1,\(department),\(mark)", default: 0] += 1
            }
        }
        let tallies = try harness.run("aggregator", ["export", "tallies", "--data-dir", "agg", "--csv"])
        let rows = tallies.stdout.split(separator: "\n").dropFirst().map(String.init)
        var found: [String: Int] = [:]
        for row in rows {
            let fields = row.split(separator: ",").map(String.init)
            if fields.count == 5, let count = Int(fields[4]), count > 0 {
                found[fields[0..<4].joined(separator: ","), default: 0] += count
            }
        }
        #expect(found == expected)
        let boxes = try harness.run("aggregator", ["export", "boxes", "--data-dir", "agg", "--csv"])
        #expect(boxes.stdout.contains("east,S1,B1,1,1,20,20,18,1,1"), "\(boxes.stdout)")

        // And every record at the aggregator names its clerk: check-ins the desk clerk, the box its closer, each
        // ballot its two keyers (and the lead, for papers 7 and 13)
        let payloads = try Self.aggregatorPayloads(harness.workDirectory.appending(path: "agg/aggregator.sqlite"))
        #expect(payloads.count == 20 + 2 + 20)
        for payload in payloads {
            switch payload {
            case .checkin(let checkin): #expect(checkin.clerk == "王芳#1")
            case .boxOpened(let box): #expect(box.clerk == "李强#2")
            case .boxClosed(let box): #expect(box.clerk == "李强#2")
            case .ballot(let ballot):
                #expect(ballot.keyers == ["李强#2", "赵敏#3"])
                #expect(ballot.lead == ([7, 13].contains(ballot.paper ?? 0) ? "张伟#4" : nil))
            default: Issue.record("unexpected record \(payload)")
            }
        }
        print("desk screenshots: \(artefacts.path); keys pressed in all: \(browser.keystrokes)")
    }
}
