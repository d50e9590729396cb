import Foundation

/// A TCP proxy between venue nodes and the aggregator that injects one fault per connection,
/// following a plan (a function of the connection's index, so a seeded plan replays exactly).
/// Connections are handled one at a time, in accept order, on the proxy's own thread.
final class FaultProxy: @unchecked Sendable {
    enum Action: Sendable, Equatable {
        /// Forward the request and the response.
        case pass
        /// Close the connection at once.
        case refuse
        /// Forward the request, read the whole response (the aggregator has committed), send nothing.
        case dropResponse
        /// Forward the request, send half of the response, close.
        case cutResponse
        /// Wait this many milliseconds, then forward.
        case delay(Int)
        /// Answer this status without forwarding.
        case status(Int)
        /// Refuse this connection and the next `n`.
        case partition(Int)
        /// Forward the request, then SIGKILL the aggregator before it answers (mid-transaction or just after).
        case killAggregator
        /// Forward the request, read the response, then SIGKILL the node before it sees it.
        case killNode
        /// Restart the database the aggregators share (fast shutdown, then start), then forward (replicas only).
        case restartDatabase

        var kind: String {
            switch self {
            case .pass: "pass"
            case .refuse: "refuse"
            case .dropResponse: "drop_response"
            case .cutResponse: "cut_response"
            case .delay: "delay"
            case .status(let code): "status_\(code)"
            case .partition: "partition"
            case .killAggregator: "kill_aggregator"
            case .killNode: "kill_node"
            case .restartDatabase: "restart_database"
            }
        }
    }

    private let listener: Int32
    let port: Int
    private let lock = NSLock()
    private var _upstreamPort: Int
    private var _plan: @Sendable (Int) -> Action
    private var _injected: [String: Int] = [:]
    private var partitionLeft = 0
    private var connections = 0
    private var stopped = false
    /// Called for `.killAggregator` (must kill and restart it) and `.killNode`.
    var onKillAggregator: @Sendable () -> Void = {}
    var onKillNode: @Sendable () -> Void = {}
    var onRestartDatabase: @Sendable () -> Void = {}

    init(upstreamPort: Int, plan: @escaping @Sendable (Int) -> Action) throws {
        _upstreamPort = upstreamPort
        _plan = plan
        let listener = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        var yes: Int32 = 1
        setsockopt(listener, SOL_SOCKET, SO_REUSEADDR, &yes, socklen_t(MemoryLayout<Int32>.size))
        var address = Self.loopback(port: 0)
        let bound = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                bind(listener, $0, socklen_t(MemoryLayout<sockaddr_in>.size))
            }
        }
        guard bound == 0, listen(listener, 16) == 0 else { throw POSIXError(.EADDRINUSE) }
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        _ = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(listener, $0, &length) }
        }
        self.listener = listener
        port = Int(UInt16(bigEndian: address.sin_port))
        Thread.detachNewThread { [self] in acceptLoop() }
    }

    var upstreamPort: Int {
        get { lock.withLock { _upstreamPort } }
        set { lock.withLock { _upstreamPort = newValue } }
    }

    /// Replaces the plan (e.g. with `{ _ in .pass }` to heal the network).
    func setPlan(_ plan: @escaping @Sendable (Int) -> Action) {
        lock.withLock {
            _plan = plan
            partitionLeft = 0
        }
    }

    /// Faults injected so far, per kind.
    var injected: [String: Int] { lock.withLock { _injected } }

    func stop() {
        lock.withLock { stopped = true }
        shutdown(listener, Int32(SHUT_RDWR))
        close(listener)
    }

    private static func loopback(port: Int) -> sockaddr_in {
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = UInt16(port).bigEndian
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        return address
    }

    private func acceptLoop() {
        while true {
            let client = accept(listener, nil, nil)
            if client < 0 {
                if lock.withLock({ stopped }) { return }
                continue
            }
            Self.setTimeout(client, seconds: 15)
            let action: Action = lock.withLock {
                defer { connections += 1 }
                if partitionLeft > 0 {
                    partitionLeft -= 1
                    return .refuse
                }
                let action = _plan(connections)
                if case .partition(let count) = action { partitionLeft = count }
                if action != .pass { _injected[action.kind, default: 0] += 1 }
                return action
            }
            handle(client, action)
            close(client)
        }
    }

    private func handle(_ client: Int32, _ action: Action) {
        switch action {
        case .refuse, .partition:
            return
        case .status(let code):
            guard readRequest(client) != nil else { return }
            let body = "{\"error\":{\"code\":\"internal_error\",\"message\":\"injected \(code)\"}}"
            writeAll(
                client,
                Data(
                    "HTTP/1.1 \(code) Injected\r\nContent-Type: application/json\r\nContent-Length: \(body.utf8.count)\r\nConnection: close\r\n\r\n\(body)"
                        .utf8))
            return
        case .delay(let milliseconds):
            Thread.sleep(forTimeInterval: Double(milliseconds) / 1000)
        case .restartDatabase:
            onRestartDatabase()
        default:
            break
        }
        guard let request = readRequest(client) else { return }
        let upstream = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        defer { close(upstream) }
        Self.setTimeout(upstream, seconds: 15)
        var address = Self.loopback(port: upstreamPort)
        let connected = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                connect(upstream, $0, socklen_t(MemoryLayout<sockaddr_in>.size))
            }
        }
        guard connected == 0, writeAll(upstream, request) else { return }
        if action == .killAggregator {
            onKillAggregator()
            return
        }
        let response = readToEnd(upstream)
        switch action {
        case .dropResponse:
            return
        case .cutResponse:
            writeAll(client, response.prefix(response.count / 2))
        case .killNode:
            onKillNode()
        default:
            writeAll(client, response)
        }
    }

    private static func setTimeout(_ socket: Int32, seconds: Int) {
        var timeout = timeval(tv_sec: seconds, tv_usec: 0)
        setsockopt(socket, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        setsockopt(socket, SOL_SOCKET, SO_SNDTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
    }

    /// Reads one HTTP request (headers and a Content-Length body) and returns it with
    /// `Connection: close`, so the upstream closes after answering.
    private func readRequest(_ socket: Int32) -> Data? {
        var data = Data()
        var buffer = [UInt8](repeating: 0, count: 65536)
        let separator = Data("\r\n\r\n".utf8)
        while data.range(of: separator) == nil {
            let count = recv(socket, &buffer, buffer.count, 0)
            guard count > 0 else { return nil }
            data.append(buffer, count: count)
        }
        let headerEnd = data.range(of: separator)!.upperBound
        let head = String(decoding: data[..<headerEnd], as: UTF8.self)
        let length =
            head.split(separator: "\r\n").first { $0.lowercased().hasPrefix("content-length:") }
            .flatMap { Int($0.split(separator: ":")[1].trimmingCharacters(in: .whitespaces)) } ?? 0
        while data.count - headerEnd < length {
            let count = recv(socket, &buffer, buffer.count, 0)
            guard count > 0 else { return nil }
            data.append(buffer, count: count)
        }
        let lines = head.split(separator: "\r\n", omittingEmptySubsequences: true)
            .filter { !$0.lowercased().hasPrefix("connection:") }
        return Data((lines.joined(separator: "\r\n") + "\r\nConnection: close\r\n\r\n").utf8) + data[headerEnd...]
    }

    private func readToEnd(_ socket: Int32) -> Data {
        var data = Data()
        var buffer = [UInt8](repeating: 0, count: 65536)
        while true {
            let count = recv(socket, &buffer, buffer.count, 0)
            guard count > 0 else { return data }
            data.append(buffer, count: count)
        }
    }

    @discardableResult
    private func writeAll(_ socket: Int32, _ data: Data) -> Bool {
        data.withUnsafeBytes { raw in
            var offset = 0
            while offset < raw.count {
                let written = send(socket, raw.baseAddress! + offset, raw.count - offset, Int32(MSG_NOSIGNAL))
                guard written > 0 else { return false }
                offset += written
            }
            return true
        }
    }
}
