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
            Each venue checks in its quota of representatives (a seeded share stay away), receives their
            ballots, records everything offline and syncs; two branch venues stay offline until the end and the
            aggregator is killed (SIGKILL) and restarted mid-event. At the end the aggregator's totals are
            compared with what the nodes saved. Example: tally-demo --lang en --seed 7
            """)

    @Option(help: "The event file.") var event = "examples/ordos-2021/event.json"
    @Option(help: "Directory for the databases (emptied first).") var workDir = "demo-run"
    @Option(help: "Seed of the simulation.") var seed: UInt64 = 2021
    @Option(help: "Language of the report: zh or en.") var lang = "zh"

    func run() throws {
        let zh = lang != "en"
        let eventURL = URL(filePath: event).standardizedFileURL
        let loaded = try EventDefinition.load(contentsOf: eventURL)
        let definition = loaded.definition
        let work = URL(filePath: workDir).standardizedFileURL
        try? FileManager.default.removeItem(at: work)
        try FileManager.default.createDirectory(at: work, withIntermediateDirectories: true)
        let processes = try Processes(workDirectory: work)
        var random = SeededRandom(seed: seed)
        var truth = Truth()

        say(zh ? "活动：\(definition.title)" : "Event: \(definition.titleEn ?? definition.title)")
        for warning in loaded.warnings { say((zh ? "  活动文件矛盾：" : "  event file contradiction: ") + warning.message) }

        var (aggregator, port) = try processes.startAggregator(dataDir: "aggregator", event: eventURL.path, port: 0)
        defer { if aggregator.isRunning { aggregator.terminate(); aggregator.waitUntilExit() } }
        say(zh ? "汇总服务已启动：127.0.0.1:\(port)" : "Aggregator listening on 127.0.0.1:\(port)")

        for venue in definition.venues {
            let output = try processes.run("venue-node", ["init", "--data-dir", "nodes/\(venue.id)", "--event",
                                                          eventURL.path, "--venue", venue.id,
                                                          "--aggregator", "http://127.0.0.1:\(port)"])
            guard let key = output.split(separator: "\n").first(where: { $0.hasPrefix("public key:") })?
                .split(separator: " ").last else { throw Processes.Failure(description: "no public key in: \(output)") }
            try processes.run("aggregator", ["nodes", "add", "--data-dir", "aggregator", "--venue", venue.id,
                                             "--public-key", String(key)])
        }
        say(zh ? "已登记 \(definition.venues.count) 个会场节点" : "Enrolled \(definition.venues.count) venue nodes")

        let branches = definition.venues.filter { $0.kind == .branch }
        let offline = Set(branches.suffix(2).map(\.id))
        for (sessionIndex, session) in definition.sessions.enumerated() {
            say(zh ? "\n场次 \(session.id)（\(session.name ?? "")）" : "\nSession \(session.id)")
            for (venueIndex, venue) in definition.venues.enumerated() {
                let recorded = try recordSession(session: session.id, venue: venue.id, venueIndex: venueIndex,
                                                 event: definition, processes: processes, random: &random,
                                                 truth: &truth)
                let isOffline = offline.contains(venue.id)
                if !isOffline {
                    try processes.run("venue-node", ["sync", "--data-dir", "nodes/\(venue.id)"])
                }
                say("  \(pad(venue.name, 20)) " + (zh
                    ? "签到 \(recorded.checkins)，评议票 \(recorded.ballots)" + (isOffline ? "（离线，暂存本地）" : "，已同步")
                    : "check-ins \(recorded.checkins), ballots \(recorded.ballots)"
                        + (isOffline ? " (offline, kept locally)" : ", synced")))
            }
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
            if offline.contains(venue.id) { say("  \(pad(venue.name, 20)) \(output.trimmingCharacters(in: .newlines))") }
        }

        let tallies = try csvLines(processes.run("aggregator", ["export", "tallies", "--data-dir", "aggregator", "--csv"]))
        let attendance = try csvLines(processes.run("aggregator", ["export", "attendance", "--data-dir", "aggregator",
                                                                   "--csv"]))
        report(definition: definition, tallies: tallies, attendance: attendance, zh: zh)
        let talliesMatch = tallies == truth.talliesCSV
        let attendanceMatch = attendance == truth.attendanceCSV
        say("")
        say((zh ? "核对：汇总结果与各节点保存的记录" : "Check: aggregator totals against the records the nodes saved")
            + ((talliesMatch && attendanceMatch) ? (zh ? " —— 完全一致" : " — identical") : " — MISMATCH"))
        say(zh ? "  计票行 \(tallies.count - 1)，签到行 \(attendance.count - 1)，评议票 \(truth.ballots) 张，签到 \(truth.checkins) 人"
               : "  \(tallies.count - 1) tally rows, \(attendance.count - 1) attendance rows, \(truth.ballots) ballots, \(truth.checkins) check-ins")
        say(zh ? "数据目录：\(work.path)" : "Data: \(work.path)")
        guard talliesMatch && attendanceMatch else { throw ExitCode.failure }
    }

    /// Check-ins by quota (some absent), one ballot per attendee into box B1, the box opened and closed.
    private func recordSession(session: String, venue: String, venueIndex: Int, event: EventDefinition,
                               processes: Processes, random: inout SeededRandom,
                               truth: inout Truth) throws -> (checkins: Int, ballots: Int) {
        let departments = event.ballotDepartments(session: session) ?? []
        var checkins = ["session,rep,category"]
        for (category, quota) in (event.quota(venue: venue, session: session)?.counts ?? [:]).sorted(by: { $0.key < $1.key }) {
            for index in 0..<quota where random.next(100) >= 4 {  // about 4 % stay away
                checkins.append("\(session),\(venue)-\(category)-\(index),\(category)")
                truth.attendance["\(venue),\(session),\(category)", default: 0] += 1
            }
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
                    let mark = r < 70 + bias % 20 ? "satisfied" : r < 93 + bias % 5 ? "basically_satisfied" : "dissatisfied"
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
        try (checkins.joined(separator: "\n") + "\n").write(to: processes.workDirectory.appending(path: checkinFile),
                                                            atomically: true, encoding: .utf8)
        try (ballots.joined(separator: "\n") + "\n").write(to: processes.workDirectory.appending(path: ballotFile),
                                                           atomically: true, encoding: .utf8)
        let dir = "nodes/\(venue)"
        try processes.run("venue-node", ["import", "--data-dir", dir, "--checkins", checkinFile])
        try processes.run("venue-node", ["box", "open", "--data-dir", dir, "--session", session, "--box", "B1"])
        try processes.run("venue-node", ["import", "--data-dir", dir, "--ballots", ballotFile])
        try processes.run("venue-node", ["box", "close", "--data-dir", dir, "--session", session, "--box", "B1",
                                         "--issued", "\(attendees)", "--returned", "\(returned)"])
        return (attendees, returned)
    }

    /// Attendance per venue against quota, and per department the marks over all venues.
    private func report(definition: EventDefinition, tallies: [String], attendance: [String], zh: Bool) {
        var checkedIn: [String: Int] = [:]
        for line in attendance.dropFirst() {
            let fields = line.split(separator: ",").map(String.init)
            checkedIn["\(fields[0])/\(fields[1])", default: 0] += Int(fields[3]) ?? 0
        }
        say(zh ? "\n到位情况（签到 / 名额）" : "\nAttendance (checked in / quota)")
        say(pad(zh ? "会场" : "venue", 18) + definition.sessions.map { pad($0.id, 14) }.joined())
        for venue in definition.venues {
            let cells = definition.sessions.map { session -> String in
                let quota = definition.quota(venue: venue.id, session: session.id)?.counts.values.reduce(0, +) ?? 0
                return pad("\(checkedIn["\(venue.id)/\(session.id)"] ?? 0)/\(quota)", 14)
            }
            say(pad(venue.name, 18) + cells.joined())
        }

        var marks: [String: [String: Int]] = [:]
        for line in tallies.dropFirst() {
            let fields = line.split(separator: ",").map(String.init)
            marks[fields[2], default: [:]][fields[3], default: 0] += Int(fields[4]) ?? 0
        }
        say(zh ? "\n各部门评议结果（全部会场合计；满意度 = 满意与基本满意之和占比）"
               : "\nResults per department (all venues; satisfaction = satisfied + basically satisfied)")
        let markColumns = definition.marks.map { zh ? $0.labelZh : $0.labelEn }
        say(pad(zh ? "部门" : "department", 30) + markColumns.map { pad($0, 12) }.joined() + (zh ? "满意度" : "satisfaction"))
        for department in definition.departments {
            let counts = definition.marks.map { marks[department.id]?[$0.id] ?? 0 }
            let total = counts.reduce(0, +)
            let positive = (marks[department.id]?["satisfied"] ?? 0) + (marks[department.id]?["basically_satisfied"] ?? 0)
            let rate = total == 0 ? "-" : String(format: "%.2f%%", Double(positive) * 100 / Double(total))
            say(pad("\(department.id) \(department.name)", 30) + counts.map { pad("\($0)", 12) }.joined() + rate)
        }
    }

    private func csvLines(_ text: String) -> [String] { text.split(separator: "\n").map(String.init) }

    private func say(_ line: String) {
        print(line)
        fflush(nil)
    }
}

/// What the nodes saved, summed the way the aggregator's exports print it.
struct Truth {
    var tallies: [String: Int] = [:]
    var attendance: [String: Int] = [:]
    var ballots = 0
    var checkins = 0

    var talliesCSV: [String] {
        ["venue,session,department,mark,count"] + tallies.keys.sorted().map { "\($0),\(tallies[$0]!)" }
    }

    var attendanceCSV: [String] {
        ["venue,session,category,checked_in"] + attendance.keys.sorted().map { "\($0),\(attendance[$0]!)" }
    }
}

/// A small deterministic generator (SplitMix64), so a seed replays the same event.
struct SeededRandom {
    var state: UInt64

    init(seed: UInt64) { state = seed }

    /// A number in 0..<bound.
    mutating func next(_ bound: UInt64) -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return (z ^ (z >> 31)) % bound
    }
}

/// Pads to a display width (CJK characters count as two columns).
func pad(_ text: String, _ width: Int) -> String {
    let shown = text.unicodeScalars.reduce(0) { $0 + ($1.value >= 0x1100 ? 2 : 1) }
    return text + String(repeating: " ", count: max(1, width - shown))
}
