import ArgumentParser
import Foundation
import Shared

/// Simulates a whole event with the real binaries: see scripts/demo.sh.
@main
struct TallyDemo: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "tally-demo",
        abstract: "Simulate a whole event: an aggregator and one venue node per venue, offline recording, syncing.",
        discussion: """
            The central office imports a roster of one representative per quota place; each venue imports its
            part, checks in its representatives (a seeded share stay away), receives their ballots, records
            everything offline and syncs; two branch venues stay offline until the end and the aggregator is
            killed (SIGKILL) and restarted mid-event. At the end the report (findings, attendance, scores and
            ranks) is printed and the aggregator's totals are compared with what the nodes saved.
            Example: tally-demo --lang en --seed 7
            """)

    @Option(help: "The event file.") var event = "examples/ordos-2021/event.json"
    @Option(help: "Directory for the databases (emptied first).") var workDir = "demo-run"
    @Option(help: "Seed of the simulation.") var seed: UInt64 = 2021
    @Option(help: "Language of the report: zh or en.") var lang = "zh"
    @Option(
        help:
            "Run the same event with N times the venues (each venue copied N times, as a branch venue, with its quota) and representatives; prints the time of each step."
    )
    var scale = 1

    func validate() throws {
        guard (1...1_000).contains(scale) else { throw ValidationError("--scale must be 1 to 1000, not \(scale)") }
    }

    func run() throws {
        let zh = lang != "en"
        let work = URL(filePath: workDir).standardizedFileURL
        try? FileManager.default.removeItem(at: work)
        try FileManager.default.createDirectory(at: work, withIntermediateDirectories: true)
        var eventURL = URL(filePath: event).standardizedFileURL
        if scale > 1 {
            let scaled = work.appending(path: "event-x\(scale).json")
            try Self.scaled(event: Data(contentsOf: eventURL), by: scale).write(to: scaled)
            eventURL = scaled
        }
        let loaded = try EventDefinition.load(contentsOf: eventURL)
        let definition = loaded.definition
        var clock = StepClock(enabled: scale > 1, zh: zh)
        let processes = try Processes(workDirectory: work)
        var random = SplitMix64(seed: seed)
        var truth = Truth()

        say(zh ? "活动：\(definition.title)" : "Event: \(definition.titleEn ?? definition.title)")
        for warning in loaded.warnings { say((zh ? "  活动文件矛盾：" : "  event file contradiction: ") + warning.message) }

        var (aggregator, port) = try processes.startAggregator(dataDir: "aggregator", event: eventURL.path, port: 0)
        defer {
            if aggregator.isRunning {
                aggregator.terminate()
                aggregator.waitUntilExit()
            }
        }
        say(zh ? "汇总服务已启动：127.0.0.1:\(port)" : "Aggregator listening on 127.0.0.1:\(port)")

        // The roster: one representative per quota place, with an ID-card number that becomes a keyed hash.
        var roster = ["rep_id,name,id_number,category,venue,sessions"]
        var places: [String: [String]] = [:]
        for venue in definition.venues {
            for session in definition.sessions {
                let quota = definition.quota(venue: venue.id, session: session.id)?.counts ?? [:]
                for (category, count) in quota.sorted(by: { $0.key < $1.key }) {
                    for _ in 0..<count {
                        let index = roster.count
                        let rep = String(format: "R%05d", index)
                        roster.append("\(rep),代表\(index),\(Self.idNumber(index)),\(category),\(venue.id),\(session.id)")
                        places["\(venue.id)/\(session.id)", default: []].append(rep)
                    }
                }
            }
        }
        try (roster.joined(separator: "\n") + "\n").write(
            to: work.appending(path: "roster.csv"), atomically: true,
            encoding: .utf8)
        let secret = Data((0..<32).map { _ in UInt8(random.next(256)) }).base64EncodedString()
        try processes.run(
            "aggregator", ["roster", "import", "--data-dir", "aggregator", "roster.csv"],
            environment: ["SANMIN_ROSTER_SECRET": secret])
        say(
            zh
                ? "名单已导入：\(roster.count - 1) 名市民代表（身份证号只以加密摘要保存）"
                : "Roster imported: \(roster.count - 1) representatives (ID numbers kept only as keyed hashes)")

        // Enrolment as in production: the aggregator's key (it signs every receipt) goes to every node, and
        // each node enrols itself with a one-time token.
        let aggregatorKey = try processes.run("aggregator", ["identity", "--data-dir", "aggregator"])
            .trimmingCharacters(in: .whitespacesAndNewlines)
        for venue in definition.venues {
            let token = try processes.run(
                "aggregator", ["nodes", "enroll", "--data-dir", "aggregator", "--venue", venue.id]
            )
            .trimmingCharacters(in: .whitespacesAndNewlines)
            try processes.run(
                "venue-node",
                [
                    "init", "--data-dir", "nodes/\(venue.id)", "--event", eventURL.path,
                    "--venue", venue.id, "--aggregator", "http://127.0.0.1:\(port)",
                    "--aggregator-key", aggregatorKey, "--token", token,
                ])
            let venueRoster = try processes.run(
                "aggregator",
                [
                    "roster", "export", "--data-dir", "aggregator",
                    "--venue", venue.id,
                ])
            try venueRoster.write(to: work.appending(path: "roster-\(venue.id).csv"), atomically: true, encoding: .utf8)
            try processes.run(
                "venue-node",
                [
                    "roster", "import", "--data-dir", "nodes/\(venue.id)",
                    "roster-\(venue.id).csv",
                ])
        }
        clock.step(zh ? "名单与登记" : "roster and enrolment")
        say(
            zh
                ? "已登记 \(definition.venues.count) 个会场节点（一次性登记令牌，各节点持有汇总服务公钥以核验回执）"
                : "Enrolled \(definition.venues.count) venue nodes (one-time enrolment tokens; every node holds the "
                    + "aggregator's key to verify receipts)")

        let branches = definition.venues.filter { $0.kind == .branch }
        let offline = Set(branches.suffix(2).map(\.id))
        for (sessionIndex, session) in definition.sessions.enumerated() {
            say(zh ? "\n场次 \(session.id)（\(session.name ?? "")）" : "\nSession \(session.id)")
            for (venueIndex, venue) in definition.venues.enumerated() {
                let recorded = try recordSession(
                    session: session.id, venue: venue.id, venueIndex: venueIndex,
                    reps: places["\(venue.id)/\(session.id)"] ?? [],
                    event: definition, processes: processes, random: &random,
                    truth: &truth)
                let isOffline = offline.contains(venue.id)
                if !isOffline {
                    try processes.run("venue-node", ["sync", "--data-dir", "nodes/\(venue.id)"])
                }
                say(
                    "  \(pad(venue.name, 20)) "
                        + (zh
                            ? "签到 \(recorded.checkins)，评议票 \(recorded.ballots)，调查问卷 \(recorded.surveys)，"
                                + "意见建议 \(recorded.suggestions)" + (isOffline ? "（离线，暂存本地）" : "，已同步")
                            : "check-ins \(recorded.checkins), ballots \(recorded.ballots), surveys \(recorded.surveys), "
                                + "suggestions \(recorded.suggestions)"
                                + (isOffline ? " (offline, kept locally)" : ", synced")))
            }
            clock.step(zh ? "场次 \(session.id)" : "session \(session.id)")
            if sessionIndex == 0 {
                kill(aggregator.processIdentifier, SIGKILL)
                aggregator.waitUntilExit()
                say(zh ? "  汇总服务被强制终止（SIGKILL），重新启动……" : "  aggregator killed (SIGKILL), restarting…")
                (aggregator, _) = try processes.startAggregator(dataDir: "aggregator", event: eventURL.path, port: port)
            }
        }
        say(zh ? "\n离线会场恢复网络，补传：" : "\nOffline venues come back and catch up:")
        for venue in definition.venues {
            let output = try processes.run("venue-node", ["sync", "--data-dir", "nodes/\(venue.id)"])
            if offline.contains(venue.id) {
                say("  \(pad(venue.name, 20)) \(output.trimmingCharacters(in: .newlines))")
            }
        }

        clock.step(zh ? "离线会场补传" : "catch-up")
        // Every node proves, from the receipts the aggregator signed and its signed heads, that all its
        // records were accepted.
        say(zh ? "\n各节点核验汇总服务签名的回执与链头：" : "\nEach node verifies the aggregator's signed receipts and heads:")
        var proven = 0
        for venue in definition.venues {
            let output = try processes.run(
                "venue-node", ["receipts", "verify", "--data-dir", "nodes/\(venue.id)", "--heads"])
            let head = try processes.run("venue-node", ["status", "--data-dir", "nodes/\(venue.id)", "--json"])
            guard let status = try? JSONDecoder().decode(DemoStatus.self, from: Data(head.utf8)),
                output.contains("records 1…\(status.lastSeq) of venue")
            else {
                throw Processes.Failure(
                    description: "venue \(venue.id): receipts do not cover every record:\n\(output)")
            }
            proven += 1
            say(
                "  \(pad(venue.name, 20)) "
                    + (zh
                        ? "回执证明记录 1…\(status.lastSeq) 均已被接收"
                        : "receipts prove records 1…\(status.lastSeq) accepted"))
        }
        say(zh ? "  \(proven) 个节点全部核验通过" : "  all \(proven) nodes verified")
        clock.step(zh ? "回执核验" : "receipts verified")

        say("")
        say(try processes.run("aggregator", ["report", "--data-dir", "aggregator", "--lang", zh ? "zh" : "en"]))
        try processes.run(
            "aggregator",
            [
                "report", "--data-dir", "aggregator", "--lang", zh ? "zh" : "en", "--html",
                "report.html",
            ])
        say(zh ? "可打印报告：\(work.path)/report.html" : "Printable report: \(work.path)/report.html")
        let tallies = try csvLines(
            processes.run("aggregator", ["export", "tallies", "--data-dir", "aggregator", "--csv"]))
        let attendance = try csvLines(
            processes.run(
                "aggregator",
                [
                    "export", "attendance", "--data-dir", "aggregator",
                    "--csv",
                ]))
        let talliesMatch = tallies == truth.talliesCSV
        let attendanceMatch = attendance == truth.attendanceCSV
        say("")
        say(
            (zh ? "核对：汇总结果与各节点保存的记录" : "Check: aggregator totals against the records the nodes saved")
                + ((talliesMatch && attendanceMatch) ? (zh ? " —— 完全一致" : " — identical") : " — MISMATCH"))
        say(
            zh
                ? "  计票行 \(tallies.count - 1)，签到行 \(attendance.count - 1)，评议票 \(truth.ballots) 张，签到 \(truth.checkins) 人"
                : "  \(tallies.count - 1) tally rows, \(attendance.count - 1) attendance rows, \(truth.ballots) ballots, \(truth.checkins) check-ins"
        )
        // The surveys: every answer the aggregator counts is one the nodes saved.
        let reportJSON = try processes.run("aggregator", ["report", "--data-dir", "aggregator", "--json"])
        let surveyAnswers =
            ((try JSONSerialization.jsonObject(with: Data(reportJSON.utf8)) as? [String: Any])?["surveys"]
            as? [String: Any])?["answers"] as? [[String: Any]] ?? []
        var counted: [String: Int] = [:]
        for answer in surveyAnswers {
            counted["\(answer["form"] ?? "") \(answer["question"] ?? "") \(answer["option"] ?? "")"] =
                answer["count"] as? Int
        }
        let formsMatch = counted == truth.answers
        say(
            (zh
                ? "核对：调查问卷与纪律情况调查表的每个答案（\(truth.surveys) 份问卷）"
                : "Check: every answer of the opinion and discipline surveys (\(truth.surveys) surveys)")
                + (formsMatch ? (zh ? " —— 完全一致" : " — identical") : " — MISMATCH"))
        try handleSuggestions(processes: processes, event: definition, zh: zh)
        clock.step(zh ? "报告与核对" : "report and check")
        clock.summary(venues: definition.venues.count, representatives: roster.count - 1, ballots: truth.ballots)
        say(zh ? "数据目录：\(work.path)" : "Data: \(work.path)")
        guard talliesMatch && attendanceMatch && formsMatch else { throw ExitCode.failure }
    }

    /// Check-ins by quota (some absent), one ballot per attendee into box B1: the box opened and closed,
    /// then counted.
    private func recordSession(
        session: String, venue: String, venueIndex: Int, reps: [String], event: EventDefinition,
        processes: Processes, random: inout SplitMix64,
        truth: inout Truth
    ) throws -> (checkins: Int, ballots: Int, surveys: Int, suggestions: Int) {
        let departments = event.ballotDepartments(session: session) ?? []
        // Check-ins by roster id (the category comes from the roster); about 4 % stay away.
        var checkins = ["session,rep"]
        let categoryOf = Dictionary(
            uniqueKeysWithValues: (event.quota(venue: venue, session: session)?.counts ?? [:])
                .sorted { $0.key < $1.key }.flatMap { category, count in (0..<count).map { _ in category } }
                .enumerated().map { (reps[$0.offset], $0.element) })
        for rep in reps where random.next(100) >= 4 {
            checkins.append("\(session),\(rep)")
            truth.attendance["\(venue),\(session),\(categoryOf[rep]!)", default: 0] += 1
        }
        let attendees = checkins.count - 1
        var ballots = ["session,box,status," + departments.map(\.id).joined(separator: ",")]
        let returned = attendees - Int(random.next(2))  // now and then a ballot is not returned
        for index in 0..<returned {
            let roll = random.next(1000)
            if roll < 8 {
                ballots.append("\(session),B1,blank" + String(repeating: ",", count: departments.count))
            } else if roll < 14 {
                ballots.append("\(session),B1,spoiled" + String(repeating: ",", count: departments.count))
            } else {
                let row = departments.enumerated().map { position, department in
                    // Each department has its own leaning, so the ranking is not flat.
                    let bias = (position * 37 + venueIndex * 11 + index) % 100
                    let r = Int(random.next(100))
                    let mark =
                        r < 70 + bias % 20 ? "satisfied" : r < 93 + bias % 5 ? "basically_satisfied" : "dissatisfied"
                    truth.tallies["\(venue),\(session),\(department.id),\(mark)", default: 0] += 1
                    return mark
                }
                ballots.append("\(session),B1,valid," + row.joined(separator: ","))
            }
            truth.ballots += 1
        }
        truth.checkins += attendees
        let checkinFile = "\(venue)-\(session)-checkins.csv"
        let ballotFile = "\(venue)-\(session)-ballots.csv"
        try (checkins.joined(separator: "\n") + "\n").write(
            to: processes.workDirectory.appending(path: checkinFile),
            atomically: true, encoding: .utf8)
        try (ballots.joined(separator: "\n") + "\n").write(
            to: processes.workDirectory.appending(path: ballotFile),
            atomically: true, encoding: .utf8)
        let dir = "nodes/\(venue)"
        try processes.run("venue-node", ["import", "--data-dir", dir, "--checkins", checkinFile])
        // The box is opened before the vote and closed after it; its ballots are entered when it is counted.
        try processes.run("venue-node", ["box", "open", "--data-dir", dir, "--session", session, "--box", "B1"])
        // The discipline survey goes into the same box as the ballot; the opinion survey and the suggestion form into
        // the entrance box E1 (docs/forms.md).
        let forms = Self.forms(
            session: session, venue: venue, venueIndex: venueIndex, attendees: attendees, event: event,
            random: &random, truth: &truth)
        try processes.run(
            "venue-node",
            [
                "box", "close", "--data-dir", dir, "--session", session, "--box", "B1",
                "--issued", "\(attendees)", "--returned", "\(returned)", "--discipline", "\(forms.discipline)",
            ])
        try processes.run("venue-node", ["import", "--data-dir", dir, "--ballots", ballotFile])
        try processes.run(
            "venue-node",
            [
                "box", "close", "--data-dir", dir, "--session", session, "--box", "E1",
                "--surveys", "\(forms.surveys)", "--suggestions", "\(forms.suggestions)",
            ])
        let formFile = "\(venue)-\(session)-forms.csv"
        try (forms.csv.joined(separator: "\n") + "\n").write(
            to: processes.workDirectory.appending(path: formFile), atomically: true, encoding: .utf8)
        try processes.run("venue-node", ["import", "--data-dir", dir, "--forms", formFile])
        return (attendees, returned, forms.surveys, forms.suggestions)
    }

    /// The central office handles the first suggestions (docs/forms.md): one assigned to a department, answered with
    /// its own token's command and accepted; one passed on for reading; one a duplicate. Then the 办理情况报告.
    private func handleSuggestions(processes: Processes, event: EventDefinition, zh: Bool) throws {
        struct Item: Decodable {
            var venue: String
            var seq: Int64
            var departments: [String]
            var id: String { "\(venue)/\(seq)" }
        }
        let listed = try processes.run("aggregator", ["suggestions", "list", "--data-dir", "aggregator", "--json"])
        let items = try JSONDecoder().decode([Item].self, from: Data(listed.utf8))
        guard items.count >= 3 else { return }
        let lead = items[0].departments.first ?? event.departments[0].id
        let due = String(Date().addingTimeInterval(30 * 86_400).formatted(.iso8601).prefix(10))
        let officer = zh ? "王芳" : "Wang Fang"
        let steps: [[String]] = [
            ["triage", items[0].id, "--assign", lead, "--due", due, "--by", officer],
            [
                "answer", items[0].id, "--department", lead, "--by", zh ? "李强" : "Li Qiang", "--text",
                zh ? "已列入年度计划，三个月内完成" : "Planned for this year, done within three months",
            ],
            ["review", items[0].id, "--accept", "--by", officer],
            ["triage", items[1].id, "--forward", items[1].departments.first ?? lead, "--by", officer],
            ["triage", items[2].id, "--duplicate-of", items[0].id, "--by", officer],
        ]
        for step in steps {
            try processes.run("aggregator", ["suggestions", step[0], "--data-dir", "aggregator"] + step.dropFirst())
        }
        say("")
        say(
            zh
                ? "意见建议办理：\(items.count) 条汇总到市民中心；1 条转办并办结，1 条转阅，1 条重复（aggregator suggestions）"
                : "Suggestions: \(items.count) collected centrally; 1 assigned and closed, 1 forwarded, 1 duplicate "
                    + "(aggregator suggestions)")
        say(
            try processes.run(
                "aggregator", ["suggestions", "report", "--data-dir", "aggregator", "--lang", zh ? "zh" : "en"]))
        try processes.run(
            "aggregator",
            [
                "suggestions", "report", "--data-dir", "aggregator", "--lang", zh ? "zh" : "en", "--html",
                "suggestions.html",
            ])
    }

    /// Sample suggestions (one with a telephone number, which the node masks).
    static let suggestionTexts: [(text: String, departments: String, topic: String)] = [
        ("建议在东胜区主干道增设公交专用道，早高峰拥堵严重", "D01", "traffic"),
        ("办事大厅周末开放一个窗口，方便上班族办理业务", "D02", "services"),
        ("小区周边夜间施工噪音扰民，请加强监管，联系电话13847712345", "D03", "environment"),
        ("希望增加社区养老服务站点", "D04", "other"),
        ("部分审批事项材料要求重复提交，建议数据共享", "D02;D05", "services"),
    ]

    /// The session's other forms at a venue: an opinion survey from most attendees (a question now and then left
    /// unanswered), a suggestion from a few, a discipline survey from most; one discipline survey in the demo
    /// reports a hint how to rate (at the third venue, first session).
    static func forms(
        session: String, venue: String, venueIndex: Int, attendees: Int, event: EventDefinition,
        random: inout SplitMix64, truth: inout Truth
    ) -> (csv: [String], surveys: Int, suggestions: Int, discipline: Int) {
        let departments = event.ballotDepartments(session: session)?.map(\.id) ?? []
        let surveyKeys = event.answerKeys(.survey, session: session).map(\.key)
        let disciplineKeys = event.answerKeys(.discipline, session: session).map(\.key)
        var csv = [
            (["session", "box", "kind"] + surveyKeys + disciplineKeys + ["text", "departments", "topic"]).joined(
                separator: ",")
        ]
        func row(_ box: String, _ kind: String, _ answers: [String: String], text: [String] = ["", "", ""]) {
            csv.append(
                ([session, box, kind] + (surveyKeys + disciplineKeys).map { answers[$0] ?? "" } + text).joined(
                    separator: ","))
        }
        let surveys = max(0, attendees - Int(random.next(3)))
        for _ in 0..<surveys {
            var answers: [String: String] = [:]
            let roll = random.next(10)
            answers["safety"] = roll < 6 ? "good" : roll < 9 ? "fair" : "poor"
            for (position, department) in departments.enumerated() where random.next(20) != 0 {
                let r = Int(random.next(100))
                let bias = (position * 29 + venueIndex * 7) % 15
                answers["service:\(department)"] =
                    r < 5 ? "unknown" : r < 70 + bias ? "satisfied" : r < 92 ? "basically_satisfied" : "dissatisfied"
            }
            for (key, option) in answers { truth.answers["survey \(key) \(option)", default: 0] += 1 }
            row("E1", "survey", answers)
        }
        let discipline = max(0, attendees - Int(random.next(3)))
        for index in 0..<discipline {
            let breach = venueIndex == 2 && session == event.sessions.first?.id && index == 0
            let answers = ["hint": breach ? "yes" : "no", "canvass": "no"]
            for (key, option) in answers { truth.answers["discipline \(key) \(option)", default: 0] += 1 }
            row("B1", "discipline", answers)
        }
        let suggestions = 1 + Int(random.next(2))
        for index in 0..<suggestions {
            let sample = suggestionTexts[(venueIndex + index) % suggestionTexts.count]
            row("E1", "suggestion", [:], text: [sample.text, sample.departments, sample.topic])
        }
        truth.surveys += surveys
        truth.suggestions += suggestions
        return (csv, surveys, suggestions, discipline)
    }

    /// The event with every venue copied `factor` times (copies are branch venues with the same quota), so the
    /// same plan runs with `factor` times the venues and representatives.
    static func scaled(event data: Data, by factor: Int) throws -> Data {
        guard var object = try JSONSerialization.jsonObject(with: data) as? [String: Any],
            let venues = object["venues"] as? [[String: Any]], let quotas = object["quotas"] as? [[String: Any]]
        else {
            throw Processes.Failure(description: "the event file has no venues or quotas to scale")
        }
        var newVenues = venues
        var newQuotas = quotas
        for copy in 2...factor {
            for venue in venues {
                guard let id = venue["id"] as? String else { continue }
                var clone = venue
                clone["id"] = "\(id)-\(copy)"
                clone["name"] = "\(venue["name"] as? String ?? id) \(copy)"
                clone["kind"] = "branch"
                newVenues.append(clone)
                for quota in quotas where quota["venue"] as? String == id {
                    var cloned = quota
                    cloned["venue"] = "\(id)-\(copy)"
                    newQuotas.append(cloned)
                }
            }
        }
        object["venues"] = newVenues
        object["quotas"] = newQuotas
        object["id"] = "\(object["id"] as? String ?? "event")-x\(factor)"
        return try JSONSerialization.data(
            withJSONObject: object, options: [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes])
    }

    /// A valid ID-card number (GB 11643 check character) for simulated representative `index`.
    static func idNumber(_ index: Int) -> String {
        let body =
            "150602"
            + String(
                format: "%04d%02d%02d%03d", 1960 + index % 40, 1 + index / 40 % 12,
                1 + index / 480 % 28, index % 1000)
        return body + String(IDCardNumber.checkCharacter(forFirst17: body))
    }

    private func csvLines(_ text: String) -> [String] { text.split(separator: "\n").map(String.init) }

    private func say(_ line: String) {
        print(line)
        fflush(nil)
    }
}

/// Times each step of a scaled run (`--scale`), and prints them with the totals at the end.
struct StepClock {
    let enabled: Bool
    let zh: Bool
    private let started = ContinuousClock.now
    private var last = ContinuousClock.now
    private var steps: [(String, Duration)] = []

    init(enabled: Bool, zh: Bool) {
        self.enabled = enabled
        self.zh = zh
    }

    mutating func step(_ name: String) {
        let now = ContinuousClock.now
        steps.append((name, last.duration(to: now)))
        last = now
    }

    func summary(venues: Int, representatives: Int, ballots: Int) {
        guard enabled else { return }
        func seconds(_ duration: Duration) -> String {
            String(
                format: "%.1f s", Double(duration.components.seconds) + Double(duration.components.attoseconds) / 1e18)
        }
        print(
            zh
                ? "\n用时（\(venues) 个会场，\(representatives) 名代表，\(ballots) 张评议票）："
                : "\nTimings (\(venues) venues, \(representatives) representatives, \(ballots) ballots):")
        for (name, duration) in steps { print("  \(pad(name, 24)) \(seconds(duration))") }
        print("  \(pad(zh ? "合计" : "total", 24)) \(seconds(started.duration(to: .now)))")
    }
}

/// The part of `venue-node status --json` the demo reads.
struct DemoStatus: Decodable {
    var lastSeq: Int64

    enum CodingKeys: String, CodingKey { case lastSeq = "last_seq" }
}

/// What the nodes saved, summed the way the aggregator's exports print it.
struct Truth {
    var tallies: [String: Int] = [:]
    var attendance: [String: Int] = [:]
    var ballots = 0
    var checkins = 0
    /// Answers of the surveys and discipline surveys: `form question option` → count.
    var answers: [String: Int] = [:]
    var surveys = 0
    var suggestions = 0

    var talliesCSV: [String] {
        ["venue,session,department,mark,count"] + tallies.keys.sorted().map { "\($0),\(tallies[$0]!)" }
    }

    var attendanceCSV: [String] {
        ["venue,session,category,checked_in"] + attendance.keys.sorted().map { "\($0),\(attendance[$0]!)" }
    }
}

/// Pads to a display width (CJK characters count as two columns).
func pad(_ text: String, _ width: Int) -> String {
    let shown = text.unicodeScalars.reduce(0) { $0 + ($1.value >= 0x1100 ? 2 : 1) }
    return text + String(repeating: " ", count: max(1, width - shown))
}
