import Foundation
import Testing

/// Slow and numerous connections (slowloris) against the real aggregator: connection caps, deadlines for a
/// request's head and body and for idle connections, and a watchdog that stops when the server is starved.
/// Attackers connect from 127.0.0.2 and up; the test's own checks come from 127.0.0.1. Timings are
/// generous (the machine may be loaded): the deadlines in the options are short, the waits long.
@Suite struct SlowlorisTests {
    static let event = Fixtures.example("tumed-2021")
    static let halfHead = "GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n"

    @Test func connectionsOverThePerClientCapAreClosedAtOnceWhileOtherClientsAreServed() async throws {
        let harness = try ProcessHarness()
        defer { harness.cleanUp() }
        let (aggregator, port) = try await harness.startAggregator(
            dataDir: "agg", event: Self.event,
            options: [
                "--max-connections-per-client", "8", "--max-connections", "100", "--header-timeout", "120",
            ])
        defer {
            aggregator.terminate()
            aggregator.waitUntilExit()
        }

        // Given one client opens 20 connections, each with half a request
        var attack: [RawConnection] = []
        for _ in 0..<20 {
            let connection = try RawConnection(port: port, from: "127.0.0.2")
            connection.send(Self.halfHead)
            attack.append(connection)
        }

        // Then the 12 over the cap are closed at once, the 8 within it are held
        let deadline = ContinuousClock.now + .seconds(20)
        while attack.filter(\.isClosed).count < 12 && ContinuousClock.now < deadline {
            for connection in attack where !connection.isClosed { connection.waitForClose(within: .milliseconds(20)) }
        }
        for connection in attack where !connection.isClosed { connection.waitForClose(within: .milliseconds(500)) }
        #expect(attack.filter(\.isClosed).count == 12)
        #expect(attack.allSatisfy { $0.received.isEmpty }, "a refused connection is closed without an answer")

        // And other clients are served while the attack holds its connections
        #expect(rawGet(port: port, path: "/healthz") == 200)
        #expect(rawGet(port: port, path: "/healthz", from: "127.0.0.3") == 200)
        #expect(attack.filter { !$0.isClosed }.count == 8)

        // And once the attacker lets go, it may connect again
        attack.removeAll()
        var again: Int?
        let retry = ContinuousClock.now + .seconds(20)
        while again != 200 && ContinuousClock.now < retry {
            again = rawGet(port: port, path: "/healthz", from: "127.0.0.2")
            if again != 200 { try await Task.sleep(for: .milliseconds(200)) }
        }
        #expect(again == 200)
    }

    @Test func aHeadOrABodyNotCompleteInTimeIsClosedEvenWhenItTrickles() async throws {
        let harness = try ProcessHarness()
        defer { harness.cleanUp() }
        let (aggregator, port) = try await harness.startAggregator(
            dataDir: "agg", event: Self.event,
            options: [
                "--header-timeout", "1", "--body-timeout", "2", "--idle-timeout", "60",
            ])
        defer {
            aggregator.terminate()
            aggregator.waitUntilExit()
        }

        // Given a half-sent head, a head sent one byte every 200 ms, and a body that never ends
        let half = try RawConnection(port: port, from: "127.0.0.2")
        half.send(Self.halfHead)
        let trickle = try RawConnection(port: port, from: "127.0.0.2")
        trickle.send("GET /healthz HTTP/1.1\r\n")
        let body = try RawConnection(port: port, from: "127.0.0.2")
        body.send(
            "POST /v1/batches HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
                + "Content-Length: 1000\r\n\r\n{\"version\":")
        let start = ContinuousClock.now

        // When 30 s pass, with the trickle going on
        let byte = Array("X-Slow: 1\r\n")
        var sent = 0
        while ContinuousClock.now - start < .seconds(30) && !(half.isClosed && trickle.isClosed && body.isClosed) {
            if !trickle.isClosed { trickle.send(String(byte[sent % byte.count])) }
            sent += 1
            for connection in [half, trickle, body] { connection.waitForClose(within: .milliseconds(70)) }
        }

        // Then all three were closed, without an answer, and the trickle for all its bytes
        #expect(half.isClosed && trickle.isClosed && body.isClosed)
        #expect(sent >= 4, "the trickle sent \(sent) bytes before it was closed")
        #expect(half.received.isEmpty && trickle.received.isEmpty)

        // And a prompt client is still answered, and its kept-alive connection outlives the header deadline
        let prompt = try RawConnection(port: port)
        prompt.send("GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
        prompt.read(for: .seconds(10)) { prompt.text.contains("ok\n") }
        #expect(prompt.text.hasPrefix("HTTP/1.1 200"))
        #expect(!prompt.waitForClose(within: .seconds(3)), "idle after its answer: the idle deadline (60 s) applies")
        prompt.send("GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n")
        prompt.waitForClose(within: .seconds(10))
        #expect(prompt.text.components(separatedBy: "HTTP/1.1 200").count == 3, "\(prompt.text)")
    }

    @Test func theDashboardsEventStreamOutlivesEveryDeadlineAndAnIdleConnectionDoesNot() async throws {
        let harness = try ProcessHarness()
        defer { harness.cleanUp() }
        let (aggregator, port) = try await harness.startAggregator(
            dataDir: "agg", event: Self.event,
            options: [
                "--header-timeout", "1", "--body-timeout", "1", "--idle-timeout", "1",
            ])
        defer {
            aggregator.terminate()
            aggregator.waitUntilExit()
        }
        // A short command beside the running daemon (it does not take the data directory's lock).
        let token = try harness.run(
            "aggregator",
            [
                "tokens", "add", "--data-dir", "agg", "--role", "observer",
                "--name", "screen",
            ])
        try #require(token.status == 0, "\(token.stderr)")
        let bearer = token.stdout.trimmingCharacters(in: .whitespacesAndNewlines)

        // Given a dashboard's event stream and a kept-alive connection after a plain answer
        let stream = try RawConnection(port: port)
        stream.send("GET /v1/events?token=\(bearer) HTTP/1.1\r\nHost: 127.0.0.1\r\nAccept: text/event-stream\r\n\r\n")
        stream.read(for: .seconds(10)) { stream.text.contains("\r\n\r\n") }
        #expect(stream.text.hasPrefix("HTTP/1.1 200"), "\(stream.text)")
        let idle = try RawConnection(port: port)
        idle.send("GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
        idle.read(for: .seconds(10)) { idle.text.contains("ok\n") }
        #expect(idle.text.hasPrefix("HTTP/1.1 200"))

        // Then the idle connection is closed after its deadline, while the stream lives on, well past all three
        #expect(idle.waitForClose(within: .seconds(20)))
        #expect(!stream.waitForClose(within: .seconds(5)), "the event stream was cut: \(stream.text)")
        #expect(!stream.isClosed)
    }

    @Test func theWatchdogStopsWhileTheServerIsStarvedAndResumesAfterwards() async throws {
        let harness = try ProcessHarness()
        defer { harness.cleanUp() }
        let socket = try SystemdTests.NotifySocket(path: harness.workDirectory.appending(path: "notify.sock").path)
        let (aggregator, port) = try await harness.startAggregator(
            dataDir: "agg", event: Self.event,
            options: ["--max-connections-per-client", "4", "--max-connections", "12", "--header-timeout", "300"],
            environment: ["NOTIFY_SOCKET": socket.path, "WATCHDOG_USEC": "1000000"])
        defer {
            aggregator.terminate()
            aggregator.waitUntilExit()
        }

        // Given a healthy aggregator pings the watchdog
        let healthy = socket.receive(for: .seconds(20)) { $0.filter { $0 == "WATCHDOG=1" }.count >= 2 }
        #expect(healthy.filter { $0 == "WATCHDOG=1" }.count >= 2, "\(healthy)")

        // When attackers from four addresses hold 16 half-sent requests (the total cap is 12)
        var attack: [RawConnection] = []
        for client in 2...5 {
            for _ in 0..<4 {
                let connection = try RawConnection(port: port, from: "127.0.0.\(client)")
                connection.send(Self.halfHead)
                attack.append(connection)
            }
        }
        let settle = ContinuousClock.now + .seconds(20)
        while attack.filter(\.isClosed).count < 4 && ContinuousClock.now < settle {
            for connection in attack where !connection.isClosed { connection.waitForClose(within: .milliseconds(20)) }
        }
        for connection in attack where !connection.isClosed { connection.waitForClose(within: .milliseconds(300)) }
        // The self-check's own connection may have held a place a moment: fill the cap from further addresses.
        var extra = 6
        while attack.filter({ !$0.isClosed }).count < 12 && extra < 40 {
            let connection = try RawConnection(port: port, from: "127.0.0.\(extra)")
            connection.send(Self.halfHead)
            connection.waitForClose(within: .milliseconds(500))
            attack.append(connection)
            extra += 1
        }
        #expect(attack.filter { !$0.isClosed }.count == 12, "the attackers hold as many connections as the total cap")

        // Then the pings stop (after one already under way), and /healthz is refused
        _ = socket.receive(for: .seconds(3)) { _ in false }
        let starved = socket.receive(for: .seconds(5)) { _ in false }
        #expect(!starved.contains("WATCHDOG=1"), "\(starved)")
        #expect(rawGet(port: port, path: "/healthz") == nil)

        // And when the attackers let go, the pings resume
        attack.removeAll()
        let resumed = socket.receive(for: .seconds(30)) { $0.contains("WATCHDOG=1") }
        #expect(resumed.contains("WATCHDOG=1"), "\(resumed)")
        #expect(rawGet(port: port, path: "/healthz") == 200)
    }
}
