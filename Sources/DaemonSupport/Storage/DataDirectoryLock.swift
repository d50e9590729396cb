import Foundation

#if canImport(Glibc)
    import Glibc
#endif

/// An exclusive lock on a data directory (`flock` on `DIR/.lock`), held by a daemon (`aggregator serve`,
/// `venue-node run`) for as long as the process lives, so a second daemon on the same directory stops at
/// once instead of working beside the first. The kernel drops the lock when the process ends, however it
/// ends (no stale lock after SIGKILL). Short commands do not take it: they may run beside the daemon.
public final class DataDirectoryLock: Sendable {
    /// A data directory another process holds, said so that an operator knows which process.
    public struct Held: Error, CustomStringConvertible {
        public var directory: String
        public var holder: Int32?
        public var program: String

        public var description: String {
            let who = holder.map { "process \($0)" } ?? "another process"
            return "the data directory \(directory) is in use by \(who) (its lock file \(directory)/.lock is held): "
                + "only one \(program) may run on a data directory; stop that one first or use another --data-dir"
        }
    }

    public let path: String
    private let descriptor: Int32

    /// Takes the lock on `directory` (which must exist) without waiting; throws `Held` naming the holder's
    /// PID when another process has it. `program` names the daemon in the message ("aggregator serve").
    public init(directory: String, program: String) throws {
        path = URL(filePath: directory).appending(path: ".lock").path
        let fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0o600)
        guard fd >= 0 else {
            throw DurableDatabase.Failure(
                description: "cannot open the lock file \(path): "
                    + String(cString: strerror(errno)))
        }
        guard flock(fd, LOCK_EX | LOCK_NB) == 0 else {
            let failure = errno
            let holder = Self.readPID(fd)
            close(fd)
            if failure == EWOULDBLOCK {
                throw Held(directory: directory, holder: holder, program: program)
            }
            throw DurableDatabase.Failure(description: "cannot lock \(path): " + String(cString: strerror(failure)))
        }
        // The holder's PID, for the message a second process prints.
        let text = Array("\(getpid())\n".utf8)
        _ = ftruncate(fd, 0)
        _ = text.withUnsafeBytes { pwrite(fd, $0.baseAddress, $0.count, 0) }
        descriptor = fd
    }

    deinit { close(descriptor) }

    private static func readPID(_ fd: Int32) -> Int32? {
        var buffer = [UInt8](repeating: 0, count: 32)
        let count = buffer.withUnsafeMutableBytes { pread(fd, $0.baseAddress, $0.count, 0) }
        guard count > 0 else { return nil }
        return Int32(
            String(decoding: buffer.prefix(count), as: UTF8.self)
                .trimmingCharacters(in: .whitespacesAndNewlines))
    }
}
