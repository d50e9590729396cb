import Foundation
import GRDB
import Shared
import Testing

/// Phone voting with the real binaries (issue #16): a node serving `/vote`, killed with SIGKILL in the middle of a
/// box being cast, restarted, the box finished and closed; after sync the aggregator's totals are exactly the ballots
/// cast, its published receipts are exactly the phones' receipts, and the node holds no code in clear and nothing
/// that links a ballot to a check-in.
@Suite(.serialized) struct PhoneVotingEndToEndTests {
    /// One phone's POST through curl: the HTTP status and the JSON answer (status 0: no answer at all).
    static func post(_ url: String, _ body: [String: Any]) -> (status: Int, body: [String: Any]) {
        let process = Process()
        process.executableURL = URL(filePath: "/usr/bin/curl")
        let data = try! JSONSerialization.data(withJSONObject: body)
        process.arguments = [
            "-s", "-m", "10", "-o", "-", "-w", "\n%{http_code}", "-H", "Content-Type: application/json",
            "--data-binary",
            String(decoding: data, as: UTF8.self), url,
        ]
        let pipe = Pipe()
        process.standardOutput = pipe
        process.standardError = FileHandle.nullDevice
        guard (try? process.run()) != nil else { return (0, [:]) }
        let output = String(decoding: pipe.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        let lines = output.split(separator: "\n", omittingEmptySubsequences: false)
        let status = Int(lines.last ?? "") ?? 0
        let json = lines.dropLast().joined(separator: "\n")
        let object = (try? JSONSerialization.jsonObject(with: Data(json.utf8)) as? [String: Any]) ?? [:]
        return (status, object)
    }

    /// A GET through curl: the HTTP status and the body as text.
    static func fetch(_ url: String) -> (status: Int, text: String) {
        let process = Process()
        process.executableURL = URL(filePath: "/usr/bin/curl")
        process.arguments = ["-s", "-m", "10", "-o", "-", "-w", "\n%{http_code}", url]
        let pipe = Pipe()
        process.standardOutput = pipe
        guard (try? process.run()) != nil else { return (0, "") }
        let output = String(decoding: pipe.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        let lines = output.split(separator: "\n", omittingEmptySubsequences: false)
        return (Int(lines.last ?? "") ?? 0, lines.dropLast().joined(separator: "\n"))
    }

    static func get(_ url: String) -> (status: Int, body: [String: Any]) {
        let (status, text) = fetch(url)
        return (status, (try? JSONSerialization.jsonObject(with: Data(text.utf8)) as? [String: Any]) ?? [:])
    }

    @Test func aBoxCastThroughACrashCountsEveryBallotOnceAndPublishesEveryReceipt() async throws {
        let harness = try ProcessHarness()
        defer { harness.cleanUp() }
        // The Ordos event with its results confidential: receipts are published only once they are released.
        var eventJSON =
            try JSONSerialization.jsonObject(
                with: Data(contentsOf: Fixtures.example("ordos-2021"))) as! [String: Any]
        eventJSON["results_confidential"] = true
        let eventURL = harness.workDirectory.appending(path: "event.json")
        try JSONSerialization.data(withJSONObject: eventJSON).write(to: eventURL)
        let event = try EventDefinition.load(contentsOf: eventURL).definition
        let departments = try #require(event.ballotDepartments(session: "S1")).map(\.id)
        let markIDs = event.marks.map(\.id)

        var (aggregator, aggregatorPort) = try await harness.startAggregator(dataDir: "agg", event: eventURL)
        defer { aggregator.terminate() }
        try harness.createNode(
            "main", event: eventURL, venue: "main", aggregatorURL: "http://127.0.0.1:\(aggregatorPort)")
        let checkin = try harness.run(
            "venue-node",
            ["checkin", "--data-dir", "main", "--session", "S1", "--rep", "R1", "--category", event.categories[0].id])
        #expect(checkin.status == 0, "\(checkin.stderr)")

        func startNode(_ log: String) async throws -> (Process, String) {
            let node = try harness.start(
                "venue-node", ["run", "--data-dir", "main", "--desk-listen", "127.0.0.1:0", "--interval", "1"], log: log
            )
            let line = try await harness.waitForLine(startingWith: "desk listening on ", in: log)
            return (node, "http://127.0.0.1:\(line.split(separator: ":").last!)")
        }
        var (node, base) = try await startNode("node-1.log")
        let printed = try harness.run(
            "venue-node",
            [
                "codes", "print", "--data-dir", "main", "--session", "S1", "--box", "E1", "--count", "40", "--url",
                base,
                "--out", "sheet.html", "--list", "codes.txt",
            ])
        #expect(printed.status == 0, "\(printed.stderr)")
        let codes = try String(contentsOf: harness.workDirectory.appending(path: "codes.txt"), encoding: .utf8)
            .split(separator: "\n").map(String.init)
        #expect(codes.count == 40)
        #expect(
            try harness.run("venue-node", ["box", "open", "--data-dir", "main", "--session", "S1", "--box", "E1"])
                .status == 0)

        // Each phone's ballot, its page's submission id, and what the node answered.
        func ballot(_ index: Int) -> [String: String] {
            Dictionary(
                uniqueKeysWithValues: departments.enumerated().map { ($1, markIDs[(index + $0) % markIDs.count]) })
        }
        func body(_ index: Int) -> [String: Any] {
            [
                "code": codes[index], "session": "S1", "box": "E1", "marks": ballot(index),
                "submission": "phone-\(index)-page",
            ]
        }
        // 30 phones vote one after another; the node is killed with SIGKILL after the 12th answer.
        let pid = node.processIdentifier
        let firstBase = base
        let bodies = try (0..<30).map { try JSONSerialization.data(withJSONObject: body($0)) }
        let answers = try await harness.onOwnThread { () -> [(status: Int, receipt: String?)] in
            var answers: [(status: Int, receipt: String?)] = []
            for index in 0..<30 {
                let answer = Self.post(
                    firstBase + "/vote/api/cast",
                    try JSONSerialization.jsonObject(with: bodies[index]) as! [String: Any])
                answers.append((answer.status, answer.body["receipt"] as? String))
                if index == 11 { kill(pid, SIGKILL) }
            }
            return answers
        }
        await harness.waitForExit(node)
        #expect(answers.prefix(12).allSatisfy { $0.status == 200 })
        #expect(answers.dropFirst(12).allSatisfy { $0.status == 0 })

        (node, base) = try await startNode("node-2.log")
        defer { node.terminate() }
        // Every phone sends again (a reload, a resend): those counted before are told their receipt, the others vote
        // now; 6 more phones vote; 4 slips are never handed out.
        var receipts: [String] = []
        for index in 0..<36 {
            let answer = Self.post(base + "/vote/api/cast", body(index))
            if index < 12 {
                #expect(answer.status == 409)
                #expect((answer.body["error"] as? [String: Any])?["code"] as? String == "code_used")
                #expect(answer.body["receipt"] as? String == answers[index].receipt)
            } else {
                #expect(answer.status == 200, "\(answer.body)")
            }
            receipts.append(try #require((answer.body["receipt"] as? String), "\(answer.body)"))
        }
        #expect(Set(receipts).count == 36)
        // A code voting again on another page, and a wrong code: refused.
        var other = body(3)
        other["submission"] = "another-page-1"
        #expect(Self.post(base + "/vote/api/cast", other).status == 409)

        let closed = try harness.run(
            "venue-node", ["box", "close", "--data-dir", "main", "--session", "S1", "--box", "E1", "--unused", "4"])
        #expect(closed.status == 0, "\(closed.stderr)")
        #expect(closed.stdout.contains("appended 36 phone ballot(s), shuffled"), "\(closed.stdout)")
        let late = Self.post(base + "/vote/api/cast", body(37))
        #expect((late.body["error"] as? [String: Any])?["code"] as? String == "box_closed")

        // The daemon syncs within seconds.
        let synced = try await harness.waitUntilSynced("main")
        #expect(synced)
        let tallies = try harness.run("aggregator", ["export", "tallies", "--data-dir", "agg", "--csv"])
        var expected: [String: Int] = [:]
        for index in 0..<36 {
            for (department, mark) in ballot(index) { expected["main,S1,\(department),\(mark)", default: 0] += 1 }
        }
        #expect(
            tallies.stdout.split(separator: "\n").map(String.init)
                == ["venue,session,department,mark,count"] + expected.keys.sorted().map { "\($0),\(expected[$0]!)" })

        // Receipts: closed until the results are released, then exactly the phones' receipts, all counted.
        let aggregatorBase = "http://127.0.0.1:\(aggregatorPort)"
        #expect(Self.get(aggregatorBase + "/v1/receipts").status == 403)
        aggregator.terminate()
        await harness.waitForExit(aggregator)
        #expect(try harness.run("aggregator", ["results", "release", "--data-dir", "agg", "--by", "监督组"]).status == 0)
        (aggregator, aggregatorPort) = try await harness.startAggregator(
            dataDir: "agg", event: eventURL, port: aggregatorPort)
        let published = Self.get(aggregatorBase + "/v1/receipts?venue=main")
        #expect(published.status == 200)
        let list = try #require(published.body["receipts"] as? [[String: Any]])
        #expect(Set(list.compactMap { $0["receipt"] as? String }) == Set(receipts))
        #expect(list.allSatisfy { $0["counted"] as? Bool == true && $0["box"] as? String == "E1" })
        #expect(list.allSatisfy { $0["marks"] == nil })
        // The page: a receipt typed as a person would (lower case, a space) is found; one changed digit is not.
        func page(_ query: String) -> String { Self.fetch(aggregatorBase + "/receipts?" + query).text }
        let typed = receipts[0].lowercased().replacingOccurrences(of: "-", with: "%20")
        #expect(page("r=" + typed).contains(#"data-found="true" data-counted="true""#))
        let changed = String(receipts[0].dropLast()) + (receipts[0].hasSuffix("0") ? "1" : "0")
        #expect(receipts.contains(changed) || (page("r=" + changed).contains(#"data-found="false""#)))
        #expect(page("r=hello").contains(#"data-found="false""#))
        #expect(page("venue=main").components(separatedBy: "<code>").count == 37)

        // The node: no code in clear in any table, and ballots that name nothing but their box.
        let nodeDB = try DatabaseQueue(
            path: harness.workDirectory.appending(path: "main/node.sqlite").path,
            configuration: {
                var configuration = Configuration()
                configuration.readonly = true
                return configuration
            }())
        let everything = try await nodeDB.read { db in
            try String.fetchAll(db, sql: "SELECT name FROM sqlite_master WHERE type = 'table'").flatMap { table in
                try Row.fetchAll(db, sql: "SELECT * FROM \"\(table)\"").map { "\($0)" }
            }.joined(separator: "\n")
        }
        for code in codes {
            #expect(!everything.contains(code) && !everything.contains(code.replacingOccurrences(of: "-", with: "")))
        }
        let ballots = try nodeDB.read { db in
            try Row.fetchAll(db, sql: "SELECT payload, savedAt FROM record WHERE kind = 'ballot'")
        }
        #expect(ballots.count == 36)
        for row in ballots {
            let keys = try JSONSerialization.jsonObject(with: Data((row["payload"] as String).utf8)) as! [String: Any]
            #expect(Set(keys.keys) == ["box", "kind", "marks", "nonce", "session", "status", "v"])
            #expect((row["savedAt"] as String).count == 10)
        }
        try nodeDB.close()
    }
}
