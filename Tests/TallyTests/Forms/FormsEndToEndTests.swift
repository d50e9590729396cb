import Foundation
import Shared
import Testing

/// Issue #17 end to end with the real binaries: two venues record suggestions, surveys and discipline surveys
/// offline, sync; the officer triages from the command line; a department's token sees exactly its items over HTTP
/// (403 on another's) and answers; the officer closes them; the report and the 办理情况报告 count what was recorded.
@Suite struct FormsEndToEndTests {
    /// An HTTP request through curl: the status and the body.
    static func call(_ method: String, _ url: String, token: String, body: String? = nil) -> (status: Int, text: String)
    {
        let process = Process()
        process.executableURL = URL(filePath: "/usr/bin/curl")
        var arguments = [
            "-s", "-m", "10", "-X", method, "-H", "Authorization: Bearer \(token)", "-o", "-", "-w", "\n%{http_code}",
        ]
        if let body { arguments += ["-H", "Content-Type: application/json", "--data-binary", body] }
        process.arguments = arguments + [url]
        let pipe = Pipe()
        process.standardOutput = pipe
        guard (try? process.run()) != nil else { return (0, "") }
        let output = String(decoding: pipe.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        let lines = output.split(separator: "\n", omittingEmptySubsequences: false)
        return (Int(lines.last ?? "") ?? 0, lines.dropLast().joined(separator: "\n"))
    }

    @Test func twoVenuesRecordTheFormsOfflineAndTheOfficeHandlesTheSuggestions() async throws {
        let harness = try ProcessHarness()
        defer { harness.cleanUp() }
        let eventURL = harness.workDirectory.appending(path: "event.json")
        try FormRecordTests.eventJSON.write(to: eventURL, atomically: true, encoding: .utf8)
        let (aggregator, port) = try await harness.startAggregator(dataDir: "agg", event: eventURL)
        defer { aggregator.terminate() }
        // Offline: the nodes point at a port nothing listens on while they record.
        for venue in ["main", "east"] {
            try harness.createNode(venue, event: eventURL, venue: venue, aggregatorURL: "http://127.0.0.1:9")
        }
        func node(_ arguments: [String]) throws -> ProcessHarness.Output {
            try harness.run("venue-node", arguments)
        }
        for venue in ["main", "east"] {
            let steps: [[String]] = [
                ["box", "close", "--session", "S1", "--box", "E1", "--surveys", "2", "--suggestions", "2"],
                [
                    "form", "--session", "S1", "--box", "E1", "--kind", "survey", "--answers",
                    "safety=good,service:D01=satisfied",
                ],
                [
                    "form", "--session", "S1", "--box", "E1", "--kind", "survey", "--answers",
                    "safety=fair,service:D02=fair",
                ],
                [
                    "form", "--session", "S1", "--box", "E1", "--kind", "suggestion", "--text",
                    "\(venue) 路口拥堵，电话13812345678", "--departments", "D01,D02", "--topic", "traffic",
                    "--contact", "王先生 13812345678", "--consent",
                ],
                ["form", "--session", "S1", "--box", "E1", "--kind", "suggestion", "--text", "\(venue) 图书馆延时"],
                ["box", "close", "--session", "S1", "--box", "P1", "--discipline", "1"],
                [
                    "form", "--session", "S1", "--box", "P1", "--kind", "discipline", "--answers",
                    venue == "east" ? "hint=yes" : "hint=no",
                ],
            ]
            for step in steps {
                let words = step[0] == "box" ? 2 : 1
                let result = try node(Array(step.prefix(words)) + ["--data-dir", venue] + step.dropFirst(words))
                #expect(result.status == 0, "\(venue) \(step): \(result.stderr)")
            }
        }
        // Bad input: a clear refusal, nothing saved.
        let refusals: [([String], String)] = [
            (["--answers", "weather=good"], "unknown question \"weather\""),
            (["--answers", "safety=great"], "unknown answer \"great\""),
            (["--answers", "safety=good"], "returned 2 survey form(s)"),
        ]
        for (arguments, message) in refusals {
            let result = try node(
                ["form", "--data-dir", "main", "--session", "S1", "--box", "E1", "--kind", "survey"] + arguments)
            #expect(result.status != 0 && result.stderr.contains(message), "\(arguments): \(result.stderr)")
        }
        let unknownDepartment = try node([
            "form", "--data-dir", "main", "--session", "S1", "--box", "E1", "--kind", "suggestion", "--text", "x",
            "--departments", "D09",
        ])
        #expect(unknownDepartment.status != 0 && unknownDepartment.stderr.contains("unknown department D09"))
        let noConsent = try node([
            "form", "--data-dir", "main", "--session", "S1", "--box", "E1", "--kind", "suggestion", "--text", "x",
            "--contact", "13800000000",
        ])
        #expect(noConsent.status != 0 && noConsent.stderr.contains("--consent"))

        // Back online: both sync everything.
        for venue in ["main", "east"] {
            let config = harness.workDirectory.appending(path: "\(venue)/node.json")
            let text = try String(contentsOf: config, encoding: .utf8)
                .replacingOccurrences(of: "http://127.0.0.1:9", with: "http://127.0.0.1:\(port)")
            try text.write(to: config, atomically: true, encoding: .utf8)
            let synced = try node(["sync", "--data-dir", venue])
            #expect(synced.status == 0, "\(synced.stderr)")
        }

        func aggregatorCommand(_ arguments: [String]) throws -> ProcessHarness.Output {
            try harness.run("aggregator", [arguments[0], arguments[1], "--data-dir", "agg"] + arguments.dropFirst(2))
        }
        let listed = try aggregatorCommand(["suggestions", "list", "--json"])
        let items = try JSONDecoder().decode([SuggestionJSON].self, from: Data(listed.stdout.utf8))
        #expect(items.map(\.id) == ["east/4", "east/5", "main/4", "main/5"])
        #expect(items.allSatisfy { !$0.text.contains("13812345678") })

        // The officer triages.
        for arguments in [
            ["main/4", "--assign", "D01", "--co", "D02", "--due", "2099-12-31"],
            ["east/4", "--duplicate-of", "main/4"],
            ["main/5", "--forward", "D03"], ["east/5", "--inadmissible", "不属于意见建议"],
        ] {
            let triaged = try aggregatorCommand(["suggestions", "triage"] + arguments + ["--by", "王芳"])
            #expect(triaged.status == 0, "\(arguments): \(triaged.stderr)")
        }
        let again = try aggregatorCommand(["suggestions", "triage", "east/5", "--forward-only", "--by", "王芳"])
        #expect(again.status != 0 && again.stderr.contains("inadmissible"), "\(again.stderr)")

        // Departments: their own tokens over HTTP.
        func token(_ arguments: [String]) throws -> String {
            let added = try aggregatorCommand(["tokens", "add"] + arguments)
            #expect(added.status == 0, "\(added.stderr)")
            return added.stdout.trimmingCharacters(in: .whitespacesAndNewlines)
        }
        let d01 = try token(["--role", "department", "--department", "D01", "--name", "市发改委"])
        let d03 = try token(["--role", "department", "--department", "D03", "--name", "市公安局"])
        let admin = try token(["--role", "admin", "--name", "office"])
        let base = "http://127.0.0.1:\(port)"
        let mine = Self.call("GET", "\(base)/v1/department/suggestions", token: d01)
        #expect(mine.status == 200)
        let seen = try JSONDecoder().decode([SuggestionJSON].self, from: Data(mine.text.utf8))
        #expect(seen.map(\.id) == ["main/4"])
        #expect(Self.call("GET", "\(base)/v1/department/suggestions/main/4", token: d03).status == 403)
        #expect(Self.call("GET", "\(base)/v1/totals", token: d01).status == 403)
        let answered = Self.call(
            "POST", "\(base)/v1/department/suggestions/main/4/answer", token: d01,
            body: #"{"text": "12月底前优化信号配时", "by": "李强"}"#)
        #expect(answered.status == 200, "\(answered.text)")
        let closed = try aggregatorCommand(["suggestions", "review", "main/4", "--accept", "--by", "王芳"])
        #expect(closed.status == 0, "\(closed.stderr)")
        let late = Self.call(
            "POST", "\(base)/v1/department/suggestions/main/4/answer", token: d01, body: #"{"text": "x", "by": "李强"}"#)
        #expect(late.status == 422 && late.text.contains("suggestion_refused"), "\(late.text)")

        // The 办理情况报告 counts what was done; the report what was recorded.
        let csv = Self.call("GET", "\(base)/v1/suggestions/report?format=csv", token: admin)
        #expect(csv.status == 200)
        let rows = csv.text.split(separator: "\r\n").dropFirst().map {
            $0.split(separator: ",", omittingEmptySubsequences: false)
        }
        #expect(
            rows.map { "\($0[0]) \($0[8])" } == [
                "east/4 duplicate", "east/5 inadmissible", "main/4 closed", "main/5 forwarded",
            ])
        #expect(!csv.text.contains("王先生"))
        let report = try aggregatorCommand(["report", "--json"])
        let parsed = try JSONSerialization.jsonObject(with: Data(report.stdout.utf8)) as? [String: Any]
        let findings = (parsed?["findings"] as? [[String: Any]]) ?? []
        let breaches = findings.filter { $0["kind"] as? String == "discipline_breach" }
        #expect(breaches.map { "\($0["venue"] ?? "") \($0["actual"] ?? "")" } == ["east 1"])
        #expect(!findings.contains { $0["kind"] as? String == "forms_vs_returned" })
        let surveys = (parsed?["surveys"] as? [String: Any])?["departments"] as? [[String: Any]] ?? []
        #expect(surveys.map { "\($0["department"] ?? "") \($0["answers"] ?? "")" } == ["D01 2", "D02 2", "D03 0"])
        // The dashboard names the breach at its venue and session
        let dashboard = Self.call("GET", "\(base)/v1/dashboard", token: admin)
        let venues =
            (try JSONSerialization.jsonObject(with: Data(dashboard.text.utf8)) as? [String: Any])?["venues"]
            as? [[String: Any]] ?? []
        #expect(
            venues.map { venue in
                "\(venue["id"] ?? ""):"
                    + ((venue["breaches"] as? [[String: Any]]) ?? []).map {
                        "\($0["session"] ?? "")=\($0["count"] ?? "")"
                    }
                    .joined(separator: ",")
            }.sorted() == ["east:S1=1", "main:"])
        // The list by topic
        let traffic = Self.call("GET", "\(base)/v1/suggestions?topic=traffic", token: admin)
        let byTopic = try JSONDecoder().decode([SuggestionJSON].self, from: Data(traffic.text.utf8))
        #expect(byTopic.map(\.id) == ["east/4", "main/4"])
    }

    /// A file of forms from a scanner or a phone platform: imported whole or not at all, a broken row named by its
    /// line; the same rows not twice; a suggestion's numbers masked before anything is written.
    @Test func aFormsFileIsImportedWholeOrNotAtAll() throws {
        let harness = try ProcessHarness()
        defer { harness.cleanUp() }
        let eventURL = harness.workDirectory.appending(path: "event.json")
        try FormRecordTests.eventJSON.write(to: eventURL, atomically: true, encoding: .utf8)
        func node(_ arguments: [String]) throws -> ProcessHarness.Output { try harness.run("venue-node", arguments) }
        let initialized = try node([
            "init", "--data-dir", "n", "--event", eventURL.path, "--venue", "east", "--aggregator",
            "http://127.0.0.1:9",
        ])
        #expect(initialized.status == 0, "\(initialized.stderr)")
        let closed = try node([
            "box", "close", "--data-dir", "n", "--session", "S1", "--box", "E1", "--surveys", "2", "--suggestions", "1",
        ])
        #expect(closed.status == 0, "\(closed.stderr)")
        let header = "session,box,kind,safety,service:D01,text,departments,topic,contact,consent\n"
        let cases: [(String, String)] = [
            (
                header + "S1,E1,survey,good,satisfied,,,,,\nS1,E1,survey,great,,,,,,\n",
                "broken.csv:3: unknown answer \"great\""
            ),
            ("session,box,kind,weather\nS1,E1,survey,good\n", "columns.csv:1: column \"weather\""),
            (header + "S1,E1,survey,good,,路灯,,,,\n", "anonymous.csv:2: a survey form is anonymous"),
            (header + "S1,E1,suggestion,,,路灯,,,13800000000,\n", "consent.csv:2: a contact is kept only"),
            (header + "S1,E1,letter,,,,,,,\n", "kind.csv:2: kind \"letter\""),
        ]
        for (index, (text, message)) in cases.enumerated() {
            let name = ["broken.csv", "columns.csv", "anonymous.csv", "consent.csv", "kind.csv"][index]
            let result = try node(["import", "--data-dir", "n", "--forms", try harness.write(text, to: name)])
            #expect(result.status == 1 && result.stderr.contains(message), "\(name): \(result.stderr)")
        }
        let good = try harness.write(
            header + "S1,E1,survey,good,satisfied,,,,,\nS1,E1,survey,fair,,,,,,\n"
                + "S1,E1,suggestion,,,\"东街路灯不亮，电话13812345678\",D01;D02,traffic,王先生 13812345678,yes\n",
            to: "good.csv")
        let imported = try node(["import", "--data-dir", "n", "--forms", good])
        #expect(imported.status == 0 && imported.stdout.contains("imported 3 record(s)"), "\(imported.stderr)")
        let again = try node(["import", "--data-dir", "n", "--forms", good])
        #expect(again.status == 1 && again.stderr.contains("were already imported"), "\(again.stderr)")
        let status = try node(["status", "--data-dir", "n", "--json"])
        let parsed = try JSONSerialization.jsonObject(with: Data(status.stdout.utf8)) as? [String: Any]
        // The closing, the import record and its three forms: the refused files wrote nothing.
        #expect(parsed?["last_seq"] as? Int == 5, "\(status.stdout)")
        #expect((parsed?["records"] as? [String: Int])?["form"] == 3, "\(status.stdout)")
        let stored = try FileManager.default.contentsOfDirectory(
            at: harness.workDirectory.appending(path: "n"), includingPropertiesForKeys: nil
        ).filter { $0.lastPathComponent.hasPrefix("node.sqlite") }.map { try Data(contentsOf: $0) }.reduce(Data(), +)
        #expect(
            stored.range(of: Data("电话13812345678".utf8)) == nil && stored.range(of: Data("电话138******78".utf8)) != nil)
    }

    struct SuggestionJSON: Decodable {
        var venue: String
        var seq: Int64
        var text: String
        var id: String { "\(venue)/\(seq)" }
    }
}
