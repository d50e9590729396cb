import Foundation
import ServiceLifecycle

/// Speaks systemd's notification protocol directly: a datagram to the Unix socket named by
/// `$NOTIFY_SOCKET` (no libsystemd). Without that variable (not under systemd) it does nothing.
public struct SystemdNotifier: Sendable {
    public let socketPath: String?
    /// Half of `$WATCHDOG_USEC`, when systemd watches this process (`WatchdogSec=`).
    public let watchdogInterval: Duration?

    public init(environment: [String: String] = ProcessInfo.processInfo.environment) {
        socketPath = environment["NOTIFY_SOCKET"].flatMap { $0.isEmpty ? nil : $0 }
        let pidMatches = environment["WATCHDOG_PID"].map { Int32($0) == getpid() } ?? true
        if pidMatches, let microseconds = environment["WATCHDOG_USEC"].flatMap(Int64.init), microseconds > 0 {
            watchdogInterval = .microseconds(microseconds / 2)
        } else {
            watchdogInterval = nil
        }
    }

    /// Sends one state line, e.g. "READY=1". Returns whether it was sent.
    @discardableResult
    public func notify(_ state: String) -> Bool {
        guard let socketPath else { return false }
        let fd = socket(AF_UNIX, Int32(SOCK_DGRAM.rawValue), 0)
        guard fd >= 0 else { return false }
        defer { close(fd) }
        var address = sockaddr_un()
        address.sun_family = sa_family_t(AF_UNIX)
        var path = Array(socketPath.utf8)
        if path.first == UInt8(ascii: "@") { path[0] = 0 }  // abstract namespace
        let capacity = MemoryLayout.size(ofValue: address.sun_path)
        guard path.count < capacity else { return false }
        withUnsafeMutableBytes(of: &address.sun_path) { raw in
            raw.copyBytes(from: path)
        }
        let length = socklen_t(MemoryLayout<sa_family_t>.size + path.count)
        let sent = state.utf8CString.withUnsafeBufferPointer { text in
            withUnsafePointer(to: &address) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                    sendto(fd, text.baseAddress, text.count - 1, Int32(MSG_NOSIGNAL), $0, length)
                }
            }
        }
        return sent == state.utf8.count
    }
}

/// Tells systemd the service is ready (READY=1, once `ready()` is called), then pings the watchdog
/// (WATCHDOG=1) at half of `WatchdogSec` while the process runs, and says STOPPING=1 when a
/// graceful shutdown begins. With a `healthCheck`, a ping is sent only when the check passes: a process
/// that is alive but cannot do its work stops pinging, and systemd restarts it.
public struct WatchdogService: Service {
    public let notifier: SystemdNotifier
    private let healthCheck: (@Sendable () async -> Bool)?
    private let readiness: AsyncStream<Void>
    private let readinessContinuation: AsyncStream<Void>.Continuation

    public init(notifier: SystemdNotifier, healthCheck: (@Sendable () async -> Bool)? = nil) {
        self.notifier = notifier
        self.healthCheck = healthCheck
        (readiness, readinessContinuation) = AsyncStream.makeStream(of: Void.self)
    }

    /// The service is ready (the store is open, the socket bound): says READY=1 and starts the pings.
    public func ready() {
        notifier.notify("READY=1")
        readinessContinuation.yield()
        readinessContinuation.finish()
    }

    public func run() async throws {
        await withGracefulShutdownHandler {
            for await _ in readiness.cancelOnGracefulShutdown() { break }
            guard let interval = notifier.watchdogInterval else {
                try? await gracefulShutdown()
                return
            }
            while !Task.isCancelled && !Task.isShuttingDownGracefully {
                let started = ContinuousClock.now
                if await healthCheck?() ?? true {
                    notifier.notify("WATCHDOG=1")
                }
                // The interval counts from the check's start: a slow check does not stretch it.
                try? await Task.sleep(until: started + interval)
            }
        } onGracefulShutdown: {
            notifier.notify("STOPPING=1")
        }
    }
}
