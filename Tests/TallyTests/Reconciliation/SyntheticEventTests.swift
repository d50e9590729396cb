import Foundation
import Shared
import Testing

/// A synthetic Ordos 2021 event: every quota place of every venue and session filled by a different
/// representative (4,770 on the roster), run through the real binaries; the report must equal an
/// independent computation from the raw CSV inputs, and no ID-card number may appear anywhere but in
/// the roster file that was imported.
@Suite(.serialized) struct SyntheticEventTests {
    static let marks = ["satisfied", "basically_satisfied", "dissatisfied"]

    @Test func theReportEqualsAnIndependentComputationAndNoIDNumberLeaks() async throws {
        let harness = try ProcessHarness()
        defer { harness.cleanUp() }
        let eventURL = Fixtures.example("ordos-2021")
        let event = try EventDefinition.load(contentsOf: eventURL).definition
        let secret = IDNumbers.secret.base64EncodedString()

        // The roster: one representative per quota place, per venue and session.
        var roster = ["rep_id,name,id_number,category,venue,sessions,card_code"]
        var places: [String: [(rep: String, category: String)]] = [:]  // "venue/session" → reps
        var idNumbers: [String] = []
        for venue in event.venues {
            for session in event.sessions {
                let quota = event.quota(venue: venue.id, session: session.id)!.counts.sorted { $0.key < $1.key }
                for (category, count) in quota {
                    for _ in 0..<count {
                        let index = idNumbers.count
                        let id = IDNumbers.make(index)
                        idNumbers.append(id)
                        let rep = String(format: "R%05d", index)
                        roster.append("\(rep),代表\(index),\(id),\(category),\(venue.id),\(session.id),C\(index)")
                        places["\(venue.id)/\(session.id)", default: []].append((rep, category))
                    }
                }
            }
        }
        #expect(idNumbers.count == 4_770)
        let rosterFile = try harness.write(roster.joined(separator: "\n") + "\n", to: "roster.csv")

        let (aggregator, port) = try await harness.startAggregator(dataDir: "agg", event: eventURL)
        defer { aggregator.terminate() }
        let imported = try harness.runWith(
            environment: ["SANMIN_ROSTER_SECRET": secret], "aggregator",
            ["roster", "import", "--data-dir", "agg", rosterFile])
        #expect(imported.status == 0, "\(imported.stderr)")
        #expect(imported.stdout.hasPrefix("imported 4770 representative(s)"))

        // Every venue: its roster, check-ins (a few stay away), one ballot per attendee (a few blank).
        var ballotsByDepartment: [String: [String: Int]] = [:]
        var attendance: [String: Int] = [:]
        var random = SplitMix64(seed: 4_500)
        for venue in event.venues {
            try harness.createNode(
                venue.id, event: eventURL, venue: venue.id, aggregatorURL: "http://127.0.0.1:\(port)")
            let export = try harness.run("aggregator", ["roster", "export", "--data-dir", "agg", "--venue", venue.id])
            let venueRoster = try harness.write(export.stdout, to: "roster-\(venue.id).csv")
            #expect(
                try harness.run("venue-node", ["roster", "import", "--data-dir", venue.id, venueRoster]).status == 0)
            for session in event.sessions {
                let departments = event.ballotDepartments(session: session.id)!.map(\.id)
                var checkins = ["session,rep"]
                for place in places["\(venue.id)/\(session.id)"]! where random.next(100) >= 3 {
                    checkins.append("\(session.id),\(place.rep)")
                }
                let attendees = checkins.count - 1
                attendance["\(venue.id)/\(session.id)"] = attendees
                var ballots = ["session,box,status," + departments.joined(separator: ",")]
                for _ in 0..<attendees {
                    if random.next(100) < 2 {
                        ballots.append("\(session.id),B1,blank" + String(repeating: ",", count: departments.count))
                        continue
                    }
                    let row = departments.map { department -> String in
                        let mark = Self.marks[Int(random.next(100) < 75 ? 0 : random.next(100) < 70 ? 1 : 2)]
                        ballotsByDepartment[department, default: [:]][mark, default: 0] += 1
                        return mark
                    }
                    ballots.append("\(session.id),B1,valid," + row.joined(separator: ","))
                }
                let name = "\(venue.id)-\(session.id)"
                for step in [
                    [
                        "import", "--data-dir", venue.id, "--checkins",
                        try harness.write(checkins.joined(separator: "\n") + "\n", to: "\(name)-c.csv"),
                    ],
                    ["box", "open", "--data-dir", venue.id, "--session", session.id, "--box", "B1"],
                    [
                        "box", "close", "--data-dir", venue.id, "--session", session.id, "--box", "B1", "--issued",
                        "\(attendees)", "--returned", "\(attendees)",
                    ],
                    [
                        "import", "--data-dir", venue.id, "--ballots",
                        try harness.write(ballots.joined(separator: "\n") + "\n", to: "\(name)-b.csv"),
                    ],
                ] {
                    let result = try harness.run("venue-node", step)
                    #expect(result.status == 0, "\(step): \(result.stderr)")
                }
            }
            // A suggestion whose citizen wrote an ID-card number and a telephone number into it (issue #17): masked at
            // the node, so that no file below holds either.
            let idNumber = idNumbers[event.venues.firstIndex { $0.id == venue.id }!]
            let forms = try harness.write(
                "session,box,kind,text,departments\nS1,E1,suggestion,本人身份证\(idNumber)，电话 138 4771 2345，请回复,D01\n",
                to: "\(venue.id)-forms.csv")
            for step in [
                ["box", "close", "--data-dir", venue.id, "--session", "S1", "--box", "E1", "--suggestions", "1"],
                ["import", "--data-dir", venue.id, "--forms", forms],
            ] {
                let result = try harness.run("venue-node", step)
                #expect(result.status == 0, "\(step): \(result.stderr)")
            }
            #expect(try harness.run("venue-node", ["sync", "--data-dir", venue.id]).status == 0)
        }
        // The office's handling quotes one too: masked as well.
        let listed = try harness.run("aggregator", ["suggestions", "list", "--data-dir", "agg", "--json"])
        let items = try JSONSerialization.jsonObject(with: Data(listed.stdout.utf8)) as? [[String: Any]] ?? []
        #expect(items.count == event.venues.count)
        let first = try #require(items.first)
        let triaged = try harness.run(
            "aggregator",
            [
                "suggestions", "triage", "--data-dir", "agg", "\(first["venue"] ?? "")/\(first["seq"] ?? "")",
                "--inadmissible", "重复：见身份证\(idNumbers[0])的来信", "--by", "王芳",
            ])
        #expect(triaged.status == 0, "\(triaged.stderr)")

        // The report, as JSON, against the independent computation.
        let output = try harness.run("aggregator", ["report", "--data-dir", "agg", "--json"])
        let report = try JSONDecoder().decode(ReportJSON.self, from: Data(output.stdout.utf8))
        let overall = try #require(report.results.first { $0.scope == "overall" })
        var expected: [(department: String, valid: Int, rate: Double, score: Double)] = []
        for department in event.departments {
            let counts = ballotsByDepartment[department.id] ?? [:]
            let (s, b, d) = (counts["satisfied"] ?? 0, counts["basically_satisfied"] ?? 0, counts["dissatisfied"] ?? 0)
            let valid = s + b + d
            expected.append(
                (
                    department.id, valid, Double(s + b) * 100 / Double(valid),
                    (100 * Double(s) + 60 * Double(b)) / Double(valid)
                ))
        }
        for row in overall.rows {
            let truth = try #require(expected.first { $0.department == row.department })
            #expect(row.valid == truth.valid, "\(row.department)")
            #expect(abs((row.satisfaction_rate ?? -1) - truth.rate) < 1e-9, "\(row.department)")
            #expect(abs((row.score ?? -1) - truth.score) < 1e-9, "\(row.department)")
            // Competition ranking: 1 + the number of departments with a strictly higher score.
            let better = expected.filter { $0.score - truth.score > 1e-4 }.count
            #expect(row.rank == better + 1, "\(row.department)")
        }
        #expect(overall.rows.count == 34)
        for row in report.attendance {
            #expect(row.checked_in == attendance["\(row.venue)/\(row.session)"], "\(row.venue) \(row.session)")
        }
        #expect(
            report.findings.filter { $0.severity == "error" }.isEmpty,
            "\(report.findings.filter { $0.severity == "error" })")
        #expect(report.findings.filter { $0.kind == "quota_contradiction" }.count == 1)

        // No ID-card number anywhere: databases, exports, reports (the imported roster file aside).
        let exports: [[String]] = [
            ["report", "--data-dir", "agg", "--json"], ["report", "--data-dir", "agg", "--csv", "results"],
            ["report", "--data-dir", "agg", "--csv", "findings"],
            ["report", "--data-dir", "agg", "--html", "report.html"],
            ["roster", "export", "--data-dir", "agg"], ["export", "tallies", "--data-dir", "agg", "--csv"],
            ["export", "attendance", "--data-dir", "agg", "--csv"], ["export", "boxes", "--data-dir", "agg", "--json"],
            ["alarms", "--data-dir", "agg"], ["nodes", "list", "--data-dir", "agg"],
            ["suggestions", "list", "--data-dir", "agg", "--json"],
            ["suggestions", "report", "--data-dir", "agg", "--csv"],
            ["suggestions", "report", "--data-dir", "agg", "--html", "suggestions.html"],
        ]
        for (index, arguments) in exports.enumerated() {
            let result = try harness.run("aggregator", arguments)
            _ = try harness.write(result.stdout, to: "export-\(index).txt")
        }
        aggregator.terminate()
        aggregator.waitUntilExit()
        let known = Set(idNumbers)
        var scanned = 0
        let files = FileManager.default.enumerator(at: harness.workDirectory, includingPropertiesForKeys: nil)!
        // The inputs that hold the numbers on purpose (the central roster, the citizens' forms) are not scanned.
        for case let url as URL in files
        where url.lastPathComponent != rosterFile && !url.lastPathComponent.hasSuffix("-forms.csv")
            && !url.hasDirectoryPath
        {
            guard let data = try? Data(contentsOf: url) else { continue }
            let text = String(decoding: data, as: UTF8.self)
            scanned += 1
            // Any run of 17 digits and a digit or X standing alone (hashes are longer runs of hex).
            let tokens = text.split { !($0.isASCII && ($0.isLetter || $0.isNumber)) }
            let idLike = tokens.first {
                $0.count == 18 && $0.prefix(17).allSatisfy(\.isNumber)
                    && ($0.last!.isNumber || $0.last == "X" || $0.last == "x")
            }
            #expect(idLike == nil, "an ID-card number pattern in \(url.lastPathComponent)")
            let digits = text.split { !$0.isNumber && $0 != "X" }.map(String.init)
            #expect(digits.first { known.contains($0) } == nil, "an ID-card number in \(url.lastPathComponent)")
        }
        #expect(scanned > 30)
    }

    /// The parts of `aggregator report --json` the test reads.
    struct ReportJSON: Decodable {
        struct Results: Decodable {
            struct Row: Decodable {
                var department: String
                var valid: Int
                var satisfaction_rate: Double?
                var score: Double?
                var rank: Int?
            }

            var scope: String
            var rows: [Row]
        }

        struct Attendance: Decodable {
            var venue: String
            var session: String
            var checked_in: Int
        }

        struct FindingJSON: Decodable, CustomStringConvertible {
            var kind: String
            var severity: String
            var message: String
            var description: String { "\(kind): \(message)" }
        }

        var results: [Results]
        var attendance: [Attendance]
        var findings: [FindingJSON]
    }
}
