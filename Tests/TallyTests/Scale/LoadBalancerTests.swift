import Aggregator
import Foundation
import Testing

/// Replicas behind a load balancer (issue #20): nginx from Debian's packages, round robin over two `aggregator serve
/// --database` processes; the node knows only nginx's address.
@Suite struct LoadBalancerTests {
    /// nginx in front of `ports`, round robin, on a free loopback port; a watcher stops it once the test process has
    /// ended. Its port.
    static func startNginx(_ harness: ProcessHarness, upstream ports: [Int]) throws -> (Process, Int) {
        let directory = harness.workDirectory.appending(path: "nginx")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        let port = ProcessHarness.stablePort()
        let config = """
            daemon off;
            master_process off;
            error_log \(directory.path)/error.log warn;
            pid \(directory.path)/nginx.pid;
            events { worker_connections 64; }
            http {
                log_format upstreams '$request $status $upstream_addr';
                access_log \(directory.path)/access.log upstreams;
                client_body_temp_path \(directory.path)/body;
                proxy_temp_path \(directory.path)/proxy;
                fastcgi_temp_path \(directory.path)/fastcgi;
                uwsgi_temp_path \(directory.path)/uwsgi;
                scgi_temp_path \(directory.path)/scgi;
                upstream aggregators {
            \(ports.map { "        server 127.0.0.1:\($0) max_fails=1 fail_timeout=2s;" }.joined(separator: "\n"))
                }
                server {
                    listen 127.0.0.1:\(port);
                    client_max_body_size 16m;
                    location / {
                        proxy_pass http://aggregators;
                        proxy_set_header X-Forwarded-For $remote_addr;
                        proxy_next_upstream error timeout http_502 http_503;
                        proxy_connect_timeout 2s;
                    }
                }
            }
            """
        let file = directory.appending(path: "nginx.conf")
        try config.write(to: file, atomically: true, encoding: .utf8)
        let watcher = Process()
        watcher.executableURL = URL(filePath: "/bin/sh")
        watcher.arguments = [
            "-c",
            """
            /usr/sbin/nginx -c "$1" -p "$2" > "$2/stdout.log" 2>&1 &
            server=$!
            while kill -0 "$3" 2>/dev/null && kill -0 "$server" 2>/dev/null; do sleep 1; done
            kill "$server" 2>/dev/null; wait "$server"
            """,
            "sh", file.path, directory.path, "\(getpid())",
        ]
        try watcher.run()
        // Ready when it answers (502 or 200 from an upstream both do).
        for _ in 0..<100 {
            let probe = FormsEndToEndTests.call("GET", "http://127.0.0.1:\(port)/healthz", token: "none")
            if probe.status > 0 { return (watcher, port) }
            usleep(100_000)
        }
        let log = (try? String(contentsOf: directory.appending(path: "error.log"), encoding: .utf8)) ?? ""
        Issue.record("nginx did not start: \(log)")
        throw CancellationError()
    }

    @Test func aNodeBehindNginxReachesWhicheverReplicaIsUpAndEachRecordCountsOnce() async throws {
        let harness = try ProcessHarness()
        defer { harness.cleanUp() }
        var replicas = try await ReplicaServeTests.Replicas(harness)
        defer { replicas.stop() }
        let (nginx, port) = try Self.startNginx(harness, upstream: replicas.ports)
        defer { kill(nginx.processIdentifier, SIGTERM) }
        try replicas.createNode(aggregator: "http://127.0.0.1:\(port)")
        let store = try PostgresStore(url: replicas.url)
        defer { store.close() }

        // Round robin: a record a sync, three syncs, each a batch and a heartbeat or more; both replicas take batches.
        for box in 1...3 {
            try replicas.record(box)
            try replicas.sync()
        }
        #expect(try store.storedRecords(venue: "east").count == 3)
        // One replica killed: nginx passes what it cannot connect to on to the other (the node syncs again after a
        // 502, as its daemon would, while nginx still counts a replica that just came back as down).
        await replicas.kill(0)
        for box in 4...6 {
            try replicas.record(box)
            try await replicas.syncRetrying()
        }
        // The other way round.
        try await replicas.restart(0)
        await replicas.kill(1)
        for box in 7...9 {
            try replicas.record(box)
            try await replicas.syncRetrying()
        }
        try replicas.expectNineBoxesOnce(store)
        // Both replicas took batches through nginx (its log names the upstream that answered each request).
        let batches = try String(
            contentsOf: harness.workDirectory.appending(path: "nginx/access.log"), encoding: .utf8
        ).split(separator: "\n").filter { $0.hasPrefix("POST /v1/batches") && $0.contains(" 200 ") }
        for replica in replicas.ports {
            #expect(batches.contains { $0.hasSuffix("127.0.0.1:\(replica)") }, "\(batches)")
        }
    }
}
