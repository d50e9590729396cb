import Foundation
import Shared
import Testing

/// A full disk and damaged files: the node says what is wrong, saves nothing half-way, never
/// recreates a store silently, and records again once space returns.
@Suite(.serialized) struct StorageFaultTests {
    /// Root can mount a small tmpfs to fill up (CI runs as root); elsewhere the disk-full test is skipped.
    static let canMountTmpfs: Bool = {
        guard getuid() == 0 else { return false }
        let probe = FileManager.default.temporaryDirectory.appending(path: "tmpfs-probe-\(UUID().uuidString)")
        try? FileManager.default.createDirectory(at: probe, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: probe) }
        guard shell("mount -t tmpfs -o size=64k tmpfs '\(probe.path)'") == 0 else { return false }
        _ = shell("umount '\(probe.path)'")
        return true
    }()

    @discardableResult
    static func shell(_ command: String) -> Int32 { runShell(command).status }

    @Test(.enabled(if: canMountTmpfs, "needs root to mount a small tmpfs"))
    func aFullDiskSavesNothingHalfWayAndRecordingResumesWhenSpaceReturns() throws {
        let harness = try ProcessHarness()
        defer { harness.cleanUp() }
        let disk = harness.workDirectory.appending(path: "disk")
        try FileManager.default.createDirectory(at: disk, withIntermediateDirectories: true)
        try #require(Self.shell("mount -t tmpfs -o size=2m tmpfs '\(disk.path)'") == 0)
        defer { Self.shell("umount '\(disk.path)'") }
        let eventURL = Fixtures.example("tumed-2021")
        let category = try EventDefinition.load(contentsOf: eventURL).definition.categories[0].id
        let dir = disk.appending(path: "node").path
        #expect(
            try harness.run(
                "venue-node",
                [
                    "init", "--data-dir", dir, "--event", eventURL.path, "--venue", "tumed",
                    "--aggregator", "http://127.0.0.1:9",
                ]
            ).status == 0)
        #expect(
            try harness.run(
                "venue-node",
                [
                    "checkin", "--data-dir", dir, "--session", "S1", "--rep", "R1",
                    "--category", category,
                ]
            ).status == 0)

        // Given a disk with no space left
        let filler = disk.appending(path: "filler")
        _ = FileManager.default.createFile(atPath: filler.path, contents: nil)
        let handle = try FileHandle(forWritingTo: filler)
        let block = Data(count: 16 * 1024)
        while (try? handle.write(contentsOf: block)) != nil {}
        try? handle.close()

        // When check-ins are recorded, one by one and in bulk
        let one = try harness.run(
            "venue-node",
            [
                "checkin", "--data-dir", dir, "--session", "S1", "--rep", "R2",
                "--category", category,
            ])
        let csv = (["session,rep,category"] + (3...200).map { "S1,R\($0),\(category)" }).joined(separator: "\n")
        let bulk = try harness.run(
            "venue-node",
            [
                "import", "--data-dir", dir, "--checkins",
                try harness.write(csv, to: "bulk.csv"),
            ])

        // Then each says the disk is full and nothing of it was saved
        for result in [one, bulk] {
            #expect(result.status == 1)
            #expect(result.stderr.contains("is full: nothing of this command was saved"), "\(result.stderr)")
        }

        // And once space returns, recording resumes where it stopped
        try FileManager.default.removeItem(at: filler)
        #expect(try harness.run("venue-node", ["import", "--data-dir", dir, "--checkins", "bulk.csv"]).status == 0)
        let verify = try harness.run("venue-node", ["verify", "--data-dir", dir])
        #expect(verify.stdout.hasPrefix("chain ok: 200 record(s)"), "\(verify.stdout) \(verify.stderr)")
    }

    enum Damage: String, CaseIterable, Sendable {
        case truncated, overwritten, deleted
    }

    @Test(arguments: Damage.allCases)
    func aDamagedStoreIsReportedAndLeftAsItIs(_ damage: Damage) throws {
        let harness = try ProcessHarness()
        defer { harness.cleanUp() }
        let eventURL = Fixtures.example("tumed-2021")
        let category = try EventDefinition.load(contentsOf: eventURL).definition.categories[0].id
        #expect(
            try harness.run(
                "venue-node",
                [
                    "init", "--data-dir", "n", "--event", eventURL.path, "--venue", "tumed",
                    "--aggregator", "http://127.0.0.1:9",
                ]
            ).status == 0)
        let csv = (["session,rep,category"] + (1...300).map { "S1,R\($0),\(category)" }).joined(separator: "\n")
        #expect(
            try harness.run(
                "venue-node",
                [
                    "import", "--data-dir", "n", "--checkins",
                    try harness.write(csv, to: "c.csv"),
                ]
            ).status == 0)
        let file = harness.workDirectory.appending(path: "n/node.sqlite")
        switch damage {
        case .truncated:
            let handle = try FileHandle(forWritingTo: file)
            try handle.truncate(atOffset: 3 * 4096)
            try handle.close()
        case .overwritten:
            let handle = try FileHandle(forWritingTo: file)
            try handle.write(contentsOf: Data(repeating: 0x5A, count: 4096))
            try handle.close()
        case .deleted:
            try FileManager.default.removeItem(at: file)
        }
        let before = try? Data(contentsOf: file)
        let status = try harness.run("venue-node", ["status", "--data-dir", "n"])
        #expect(status.status == 1)
        let expected = damage == .deleted ? "is missing: the records it held are not here" : "is damaged"
        #expect(status.stderr.contains(expected), "\(status.stderr)")
        let checkin = try harness.run(
            "venue-node",
            [
                "checkin", "--data-dir", "n", "--session", "S2", "--rep", "R1",
                "--category", category,
            ])
        #expect(checkin.status == 1)
        #expect((try? Data(contentsOf: file)) == before, "the damaged file must be left as it is")
    }
}
