import Foundation
import Testing

/// The dashboard of replicas behind nginx (issue #20), in a real browser: its event stream survives the loss of the
/// replica it was on, by the browser reconnecting (EventSource, `retry: 2000`) through nginx to the other, and a batch
/// taken by either replica shows without a reload. A screenshot is kept as an artefact (`DASHBOARD_SCREENSHOTS=DIR`,
/// default .build/artifacts).
@Suite(.serialized) struct ReplicaDashboardBrowserTests {
    @Test(
        .enabled(
            if: DashboardBrowserTests.hasChromium, "needs Debian's chromium package (scripts/setup.sh installs it)"))
    func theDashboardBehindNginxKeepsUpdatingWhicheverReplicaIsKilled() async throws {
        let harness = try ProcessHarness()
        defer { harness.cleanUp() }
        let artefacts = try Fixtures.screenshots()

        // Given two replicas behind nginx, an observer's token on the shared database and a node that syncs via nginx
        var replicas = try await ReplicaServeTests.Replicas(harness)
        defer { replicas.stop() }
        let (nginx, port) = try LoadBalancerTests.startNginx(harness, upstream: replicas.ports)
        defer { kill(nginx.processIdentifier, SIGTERM) }
        let token = try harness.run(
            "aggregator", ["tokens", "add", "--database", replicas.url, "--role", "observer", "--name", "大屏"])
        try #require(token.status == 0, "\(token.stderr)")
        let bearer = token.stdout.trimmingCharacters(in: .whitespacesAndNewlines)
        try replicas.createNode(aggregator: "http://127.0.0.1:\(port)")
        func checkins(_ reps: ClosedRange<Int>) async throws {
            let rows = ["session,rep,category"] + reps.map { "S1,E\($0),resident" }
            let file = try harness.write(rows.joined(separator: "\n") + "\n", to: "c\(reps.lowerBound).csv")
            #expect(try harness.run("venue-node", ["import", "--data-dir", "n", "--checkins", file]).status == 0)
            try await replicas.syncRetrying()
        }

        // When the dashboard is opened through nginx
        let browser = try await Chromium(workDirectory: harness.workDirectory)
        try browser.send("Page.enable")
        try browser.send("Page.navigate", ["url": "http://127.0.0.1:\(port)/dashboard?token=\(bearer)"])
        let overall = "document.querySelector('#overall')"
        #expect(try await browser.waitUntil("\(overall) && \(overall).dataset.totalCheckedIn === '0'") != nil)
        try browser.evaluate("window.loadedOnce = true")

        // Then with the first replica killed, two check-ins show (the stream was on it, or on the other)
        await replicas.kill(0)
        try await checkins(1...2)
        #expect(
            try await browser.waitUntil("\(overall).dataset.totalCheckedIn === '2'", timeout: .seconds(30)) != nil,
            "the page never showed 2")
        // And with the first back and the second killed, two more show: one of the two kills cut the stream
        try await replicas.restart(0)
        await replicas.kill(1)
        try await checkins(3...4)
        #expect(
            try await browser.waitUntil("\(overall).dataset.totalCheckedIn === '4'", timeout: .seconds(30)) != nil,
            "the page never showed 4")
        // And with both down for a while (nginx answers 502, and the browser gives its stream up), then back, two
        // more show: the page opened a new stream
        await replicas.kill(0)
        try await Task.sleep(for: .seconds(5))
        try await replicas.restart(0)
        try await replicas.restart(1)
        try await checkins(5...6)
        #expect(
            try await browser.waitUntil("\(overall).dataset.totalCheckedIn === '6'", timeout: .seconds(30)) != nil,
            "the page never showed 6")
        #expect(try browser.evaluate("window.loadedOnce === true") as? Bool == true, "the page was not reloaded")
        // The page counts the stream's openings: the first, and at least one reconnection.
        let opened = Int(try browser.evaluate("document.body.dataset.streamOpened") as? String ?? "") ?? 0
        #expect(opened >= 3, "the stream was not opened again after each loss")
        try browser.screenshot(to: artefacts.appending(path: "dashboard-replicas.png"))
        print("dashboard behind nginx: the stream was opened \(opened) times; \(artefacts.path)/dashboard-replicas.png")
    }
}
