import Foundation
import Logging
import Synchronization

#if canImport(Glibc)
    import Glibc
#endif

/// The aggregator's watchdog check: does the server still take connections? It passes only while the
/// open connections are below the total cap **and** a TCP connection to the aggregator's own listening
/// socket succeeds and, over plain HTTP, `GET /healthz` answers 200 within `timeout`. Over HTTPS only the
/// connection is tried (no TLS handshake). A server starved of connections or file descriptors then
/// stops pinging the watchdog, and systemd restarts it.
public final class SelfCheck: Sendable {
    public let host: String
    public let tls: Bool
    public let timeout: Duration
    let connections: ConnectionLimiter
    let logger: Logger
    private let port = Mutex<Int?>(nil)
    private let lastFailure = Mutex<String?>(nil)

    /// `host` is the listening host; a wildcard (`0.0.0.0`, `::`) is checked on loopback.
    public init(
        host: String, tls: Bool, connections: ConnectionLimiter, logger: Logger,
        timeout: Duration = .seconds(2)
    ) {
        switch host {
        case "0.0.0.0", "": self.host = "127.0.0.1"
        case "::", "[::]": self.host = "::1"
        default: self.host = host.hasPrefix("[") && host.hasSuffix("]") ? String(host.dropFirst().dropLast()) : host
        }
        self.tls = tls
        self.connections = connections
        self.logger = logger
        self.timeout = timeout
    }

    /// The port the server bound (known once it runs).
    public func serverRunning(port: Int) { self.port.withLock { $0 = port } }

    /// Runs the check; logs when it starts failing and when it passes again.
    public func run() async -> Bool {
        let failure = await failureReason()
        let previous = lastFailure.withLock { last in
            defer { last = failure }
            return last
        }
        if let failure, previous == nil {
            logger.error("self-check failed: the watchdog is no longer pinged", metadata: ["reason": "\(failure)"])
        } else if failure == nil, let previous {
            logger.notice("self-check passes again", metadata: ["previous.reason": "\(previous)"])
        }
        return failure == nil
    }

    /// Why the server cannot take connections, or nil when it can.
    func failureReason() async -> String? {
        guard connections.hasRoom else {
            return "\(connections.open) connections open, the cap is \(connections.limits.total)"
        }
        guard let port = port.withLock({ $0 }) else { return "the server is not listening yet" }
        let (host, tls, seconds) = (
            host, tls,
            Double(timeout.components.seconds)
                + Double(timeout.components.attoseconds) / 1e18
        )
        return await withCheckedContinuation { continuation in
            Thread.detachNewThread {
                continuation.resume(returning: Self.probe(host: host, port: port, request: !tls, timeout: seconds))
            }
        }
    }

    /// Connects to `host:port` (and asks for `/healthz` when `request`) within `timeout` seconds; nil when
    /// it works, otherwise what went wrong. Blocking: runs on its own thread.
    static func probe(host: String, port: Int, request: Bool, timeout: Double) -> String? {
        let deadline = Date().addingTimeInterval(timeout)
        var hints = addrinfo()
        hints.ai_socktype = Int32(SOCK_STREAM.rawValue)
        hints.ai_flags = AI_NUMERICSERV
        var list: UnsafeMutablePointer<addrinfo>?
        guard getaddrinfo(host, String(port), &hints, &list) == 0, let info = list else {
            return "cannot resolve \(host)"
        }
        defer { freeaddrinfo(list) }
        let fd = socket(info.pointee.ai_family, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard fd >= 0 else { return "cannot make a socket: \(String(cString: strerror(errno)))" }
        defer { close(fd) }
        _ = fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK)
        func remaining() -> Int32 { Int32(max(0, deadline.timeIntervalSinceNow * 1000)) }
        func wait(_ events: Int16) -> Bool {
            var poller = pollfd(fd: fd, events: events, revents: 0)
            return poll(&poller, 1, remaining()) == 1
        }
        if connect(fd, info.pointee.ai_addr, info.pointee.ai_addrlen) != 0 {
            guard errno == EINPROGRESS, wait(Int16(POLLOUT)) else { return "cannot connect to \(host):\(port) in time" }
            var error: Int32 = 0
            var length = socklen_t(MemoryLayout<Int32>.size)
            getsockopt(fd, SOL_SOCKET, SO_ERROR, &error, &length)
            guard error == 0 else { return "cannot connect to \(host):\(port): \(String(cString: strerror(error)))" }
        }
        guard request else { return nil }
        let text = Array("GET /healthz HTTP/1.1\r\nHost: \(host)\r\nConnection: close\r\n\r\n".utf8)
        var sent = 0
        while sent < text.count {
            guard wait(Int16(POLLOUT)) else { return "cannot send to \(host):\(port) in time" }
            let count = text[sent...].withUnsafeBytes { send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
            guard count > 0 else { return "the connection to \(host):\(port) was closed" }
            sent += count
        }
        var answer: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 512)
        while !answer.contains(UInt8(ascii: "\n")) {
            guard wait(Int16(POLLIN)) else { return "GET /healthz did not answer within \(Int(timeout)) s" }
            let count = buffer.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
            guard count > 0 else { return "the connection to \(host):\(port) was closed without an answer" }
            answer += buffer.prefix(count)
        }
        let status = String(
            decoding: answer.prefix { $0 != UInt8(ascii: "\r") && $0 != UInt8(ascii: "\n") },
            as: UTF8.self)
        return status.hasPrefix("HTTP/1.1 200") ? nil : "GET /healthz answered \"\(status)\""
    }
}
