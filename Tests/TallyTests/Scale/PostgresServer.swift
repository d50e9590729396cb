import Foundation
import Testing

/// A PostgreSQL server for the tests: Debian's `postgresql` (installed by scripts/setup.sh), a cluster made in a
/// temporary directory, listening on a loopback port below the ephemeral range. PostgreSQL refuses to run as root:
/// when the tests run as root it runs as the `postgres` user the package made. Started once per test process, the
/// first time a test asks; a watcher stops it and deletes its directory once the test process has ended.
final class PostgresServer: Sendable {
    let port: Int
    let directory: String
    private let binaries: String

    /// The one server of this test process (nil, with the reason recorded, if it cannot start).
    static let shared: Result<PostgresServer, PostgresServerError> = Result {
        () throws(PostgresServerError) -> PostgresServer in try PostgresServer()
    }

    struct PostgresServerError: Error, CustomStringConvertible {
        var description: String
    }

    /// The shared server, or the test fails saying why.
    static func start() throws -> PostgresServer {
        switch shared {
        case .success(let server): return server
        case .failure(let error):
            Issue.record("PostgreSQL did not start: \(error)")
            throw error
        }
    }

    /// A new empty database on the server; its address. Tried again for a few seconds while the server restarts
    /// (`restart`, which the replica fault schedules call).
    func createDatabase() throws -> String {
        let name = "t" + UUID().uuidString.lowercased().replacingOccurrences(of: "-", with: "")
        var attempt = 0
        while true {
            do {
                try run(
                    binaries + "/psql",
                    [
                        "-h", "127.0.0.1", "-p", "\(port)", "-U", "tally", "-d", "postgres", "-q", "-c",
                        "CREATE DATABASE \(name)",
                    ], asServer: false)
                return "postgres://tally@127.0.0.1:\(port)/\(name)"
            } catch  where attempt < 20 {
                attempt += 1
                usleep(500_000)
            }
        }
    }

    /// Runs one SQL statement with psql on the database at `url`: the rows it answers, one line each (columns joined
    /// by `|`). Throws with psql's message when the statement fails.
    @discardableResult
    func query(_ url: String, _ sql: String) throws -> [String] {
        try Self.run(
            binaries + "/psql", [url, "-X", "-A", "-t", "-q", "-v", "ON_ERROR_STOP=1", "-c", sql], asServer: false
        )
        .split(separator: "\n").map(String.init)
    }

    /// Stops the server (fast shutdown: open transactions are rolled back, connections cut) and starts it again on the
    /// same port, as an operator's restart or a crash and systemd's restart would.
    func restart() throws {
        let pidFile = directory + "/data/postmaster.pid"
        if let text = try? String(contentsOfFile: pidFile, encoding: .utf8),
            let pid = text.split(separator: "\n").first.flatMap({ pid_t($0) })
        {
            kill(pid, SIGINT)
            let deadline = Date().addingTimeInterval(30)
            while kill(pid, 0) == 0, Date() < deadline { usleep(50_000) }
        }
        if let log = Self.launch(binaries: binaries, directory: directory, port: port, asPostgres: getuid() == 0) {
            throw PostgresServerError(description: "postgres did not start again: \(log)")
        }
    }

    /// A server of its own, for tests that restart it (the shared one serves every other test at the same time);
    /// `stop` ends it.
    static func startPrivate() throws -> PostgresServer { try PostgresServer() }

    /// Stops the server and deletes its directory (a private one, once its test is done).
    func stop() {
        if let text = try? String(contentsOfFile: directory + "/data/postmaster.pid", encoding: .utf8),
            let pid = text.split(separator: "\n").first.flatMap({ pid_t($0) })
        {
            kill(pid, SIGINT)
            let deadline = Date().addingTimeInterval(30)
            while kill(pid, 0) == 0, Date() < deadline { usleep(50_000) }
        }
        try? FileManager.default.removeItem(atPath: directory)
    }

    private init() throws(PostgresServerError) {
        let versions = (try? FileManager.default.contentsOfDirectory(atPath: "/usr/lib/postgresql")) ?? []
        guard let version = versions.compactMap(Int.init).max() else {
            throw PostgresServerError(
                description:
                    "no PostgreSQL under /usr/lib/postgresql: run scripts/setup.sh (apt-get install postgresql)")
        }
        binaries = "/usr/lib/postgresql/\(version)/bin"
        let template = FileManager.default.temporaryDirectory.appending(path: "sanmin-pg-XXXXXX").path
        var buffer = Array(template.utf8CString)
        guard let made = mkdtemp(&buffer) else {
            throw PostgresServerError(description: "cannot make a temporary directory")
        }
        directory = String(cString: made)
        do {
            if getuid() == 0 {
                guard let account = getpwnam("postgres") else {
                    throw PostgresServerError(
                        description: "the tests run as root and there is no postgres user to run PostgreSQL as")
                }
                chown(directory, account.pointee.pw_uid, account.pointee.pw_gid)
            }
            try Self.run(
                binaries + "/initdb",
                [
                    "-D", directory + "/data", "-U", "tally", "--auth=trust", "--encoding=UTF8", "--locale=C",
                    "--no-sync",
                ],
                asServer: true)
        } catch {
            throw PostgresServerError(description: "initdb failed: \(error)")
        }
        var lastLog = ""
        for _ in 0..<3 {
            let candidate = ProcessHarness.stablePort()
            if let log = Self.launch(
                binaries: binaries, directory: directory, port: candidate, asPostgres: getuid() == 0)
            {
                lastLog = log
                continue
            }
            port = candidate
            return
        }
        throw PostgresServerError(description: "postgres did not start: \(lastLog)")
    }

    /// Starts the server under its watcher and waits until it answers; its log if it did not.
    private static func launch(binaries: String, directory: String, port: Int, asPostgres: Bool) -> String? {
        let watcher = Process()
        watcher.executableURL = URL(filePath: "/bin/sh")
        // The watcher outlives the test process: it stops the server (fast shutdown) once that process is gone.
        watcher.arguments = [
            "-c",
            """
            $1 "$2/postgres" -D "$3/data" -h 127.0.0.1 -p "$4" -k "$3" -c fsync=off -c synchronous_commit=off \
                -c full_page_writes=off -c max_connections=200 > "$3/log-$4" 2>&1 &
            server=$!
            while kill -0 "$5" 2>/dev/null && kill -0 "$server" 2>/dev/null; do sleep 1; done
            kill -INT "$server" 2>/dev/null; wait "$server"
            kill -0 "$5" 2>/dev/null || rm -rf "$3"
            """,
            "sh", asPostgres ? "setpriv --reuid=postgres --regid=postgres --init-groups --" : "", binaries,
            directory, "\(port)", "\(getpid())",
        ]
        watcher.standardOutput = FileHandle.nullDevice
        watcher.standardError = FileHandle.nullDevice
        do { try watcher.run() } catch { return "cannot start the watcher: \(error)" }
        let deadline = Date().addingTimeInterval(60)
        while Date() < deadline {
            let ready = Process()
            ready.executableURL = URL(filePath: binaries + "/pg_isready")
            ready.arguments = ["-q", "-h", "127.0.0.1", "-p", "\(port)"]
            if (try? ready.run()) != nil {
                ready.waitUntilExit()
                if ready.terminationStatus == 0 { return nil }
            }
            if !watcher.isRunning { break }
            usleep(200_000)
        }
        return (try? String(contentsOfFile: "\(directory)/log-\(port)", encoding: .utf8)) ?? "no log"
    }

    private func run(_ executable: String, _ arguments: [String], asServer: Bool) throws {
        try Self.run(executable, arguments, asServer: asServer)
    }

    @discardableResult
    private static func run(_ executable: String, _ arguments: [String], asServer: Bool) throws -> String {
        let process = Process()
        let asPostgres = asServer && getuid() == 0
        process.executableURL = URL(filePath: asPostgres ? "/usr/bin/setpriv" : executable)
        process.arguments =
            asPostgres
            ? ["--reuid=postgres", "--regid=postgres", "--init-groups", "--", executable] + arguments : arguments
        let output = Pipe()
        process.standardOutput = output
        process.standardError = output
        try process.run()
        let text = String(decoding: output.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        guard process.terminationStatus == 0 else {
            throw PostgresServerError(description: "\(executable) \(arguments.joined(separator: " ")): \(text)")
        }
        return text
    }
}
