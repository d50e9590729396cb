import Foundation
import Testing

/// A TCP connection to the aggregator from a chosen loopback address (Linux routes all of 127.0.0.0/8 to
/// the loopback interface, so 127.0.0.2 is another client than 127.0.0.1), for sending requests a byte
/// at a time, or never finishing them.
final class RawConnection {
    let fd: Int32

    /// Connects from `source` (port chosen by the kernel) to 127.0.0.1:`port`.
    init(port: Int, from source: String = "127.0.0.1") throws {
        fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        try #require(fd >= 0)
        var local = sockaddr_in()
        local.sin_family = sa_family_t(AF_INET)
        local.sin_port = 0
        inet_pton(AF_INET, source, &local.sin_addr)
        let bound = withUnsafePointer(to: &local) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size))
            }
        }
        try #require(bound == 0, "cannot bind to \(source): \(String(cString: strerror(errno)))")
        var remote = sockaddr_in()
        remote.sin_family = sa_family_t(AF_INET)
        remote.sin_port = in_port_t(UInt16(port).bigEndian)
        inet_pton(AF_INET, "127.0.0.1", &remote.sin_addr)
        let connected = withUnsafePointer(to: &remote) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size))
            }
        }
        try #require(connected == 0, "cannot connect from \(source): \(String(cString: strerror(errno)))")
    }

    deinit { close(fd) }

    /// Sends `text`; false when the connection is already closed by the server.
    @discardableResult
    func send(_ text: String) -> Bool {
        let bytes = Array(text.utf8)
        return bytes.withUnsafeBytes { Glibc.send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) } == bytes.count
    }

    /// What the server sent, read until it closes the connection, `limit` passes, or `done` says enough.
    private(set) var received: [UInt8] = []
    private(set) var isClosed = false

    /// Reads for up to `limit`; returns whether the server closed the connection in that time.
    @discardableResult
    func waitForClose(within limit: Duration) -> Bool {
        read(for: limit) { false }
        return isClosed
    }

    /// Reads until `done` holds, the connection closes, or `limit` passes.
    func read(for limit: Duration, until done: () -> Bool) {
        let deadline = ContinuousClock.now + limit
        var buffer = [UInt8](repeating: 0, count: 4096)
        while !isClosed && !done() {
            let left = deadline - ContinuousClock.now
            guard left > .zero else { return }
            var poller = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
            let milliseconds = Int32(
                min(
                    200,
                    max(
                        1,
                        left.components.seconds * 1000
                            + left.components.attoseconds / 1_000_000_000_000_000)))
            guard poll(&poller, 1, milliseconds) == 1 else { continue }
            let count = recv(fd, &buffer, buffer.count, 0)
            if count > 0 {
                received += buffer.prefix(count)
            } else if count == 0 || errno != EAGAIN {
                isClosed = true
            }
        }
    }

    var text: String { String(decoding: received, as: UTF8.self) }
}

/// `GET path` from `source` on a new connection, `Connection: close`: the status, or nil when the server
/// closed the connection without an answer or did not answer within `limit`.
func rawGet(
    port: Int, path: String, from source: String = "127.0.0.1", headers: [String: String] = [:],
    limit: Duration = .seconds(10)
) -> Int? {
    guard let connection = try? RawConnection(port: port, from: source) else { return nil }
    let fields = headers.map { "\($0.key): \($0.value)\r\n" }.joined()
    connection.send("GET \(path) HTTP/1.1\r\nHost: 127.0.0.1\r\n\(fields)Connection: close\r\n\r\n")
    connection.read(for: limit) { connection.received.contains(UInt8(ascii: "\n")) }
    let line = connection.text.split(separator: "\r\n").first ?? ""
    guard line.hasPrefix("HTTP/1.1 ") else { return nil }
    return Int(line.dropFirst("HTTP/1.1 ".count).prefix(3))
}
