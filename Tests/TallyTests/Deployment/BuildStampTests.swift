import Foundation
import Shared
import Testing

/// `--version` and scripts/stamp-build-info.sh, which writes the packaged version and commit into a built binary.
@Suite struct BuildStampTests {
    /// Runs a program (a script or a binary) to its end: exit status and both outputs together.
    func run(_ executable: String, _ arguments: [String]) throws -> (status: Int32, output: String) {
        let process = Process()
        process.executableURL = URL(filePath: executable)
        process.arguments = arguments
        let pipe = Pipe()
        process.standardOutput = pipe
        process.standardError = pipe
        process.standardInput = FileHandle.nullDevice
        try process.run()
        let output = String(decoding: pipe.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        return (process.terminationStatus, output)
    }

    let stamp = Fixtures.root.appending(path: "scripts/stamp-build-info.sh").path

    @Test func aDeveloperBuildSaysItsSourceVersionAndThatNoCommitWasRecorded() throws {
        let harness = try ProcessHarness()
        defer { harness.cleanUp() }
        for binary in ["venue-node", "aggregator"] {
            let printed = try harness.run(binary, ["--version"])
            #expect(printed.status == 0)
            #expect(printed.stdout == "\(sourceVersion) (commit not recorded: a developer build)\n")
        }
    }

    @Test func aStampedCopySaysTheStampedVersionAndCommitAndCanBeStampedAgain() throws {
        let harness = try ProcessHarness()
        defer { harness.cleanUp() }
        let copy = harness.workDirectory.appending(path: "venue-node").path
        try FileManager.default.copyItem(atPath: harness.binaries.appending(path: "venue-node").path, toPath: copy)
        let size = try #require(try FileManager.default.attributesOfItem(atPath: copy)[.size] as? Int)

        let first = try run(stamp, [copy, "0.2.0-7", "1c51c66e0123456789abcdef0123456789abcdef"])
        #expect(first.status == 0, "\(first.output)")
        #expect(try run(copy, ["--version"]).output == "0.2.0-7 (commit 1c51c66e0123456789abcdef0123456789abcdef)\n")
        // A second stamp replaces the first whole: a shorter commit leaves nothing of the longer one behind.
        #expect(try run(stamp, [copy, "0.3.0-1", "abc1234-modified"]).status == 0)
        #expect(try run(copy, ["--version"]).output == "0.3.0-1 (commit abc1234-modified)\n")
        #expect(try FileManager.default.attributesOfItem(atPath: copy)[.size] as? Int == size)
    }

    @Test func aStampThatIsNotAVersionOrABinaryWithoutItsAreaIsRefusedAndChangesNothing() throws {
        let harness = try ProcessHarness()
        defer { harness.cleanUp() }
        let copy = harness.workDirectory.appending(path: "aggregator").path
        try FileManager.default.copyItem(atPath: harness.binaries.appending(path: "aggregator").path, toPath: copy)
        let before = try Data(contentsOf: URL(filePath: copy))

        let spaced = try run(stamp, [copy, "0.2 0", "abc"])
        #expect(spaced.status == 64)
        #expect(spaced.output.contains("'0.2 0' is not a version or commit"))
        let newline = try run(stamp, [copy, "0.2.0", "abc\nversion=9"])
        #expect(newline.status == 64)
        #expect(try run(stamp, [copy, "0.2.0"]).status == 64)
        #expect(try Data(contentsOf: URL(filePath: copy)) == before)

        let other = harness.workDirectory.appending(path: "true").path
        try FileManager.default.copyItem(atPath: "/bin/true", toPath: other)
        let unmarked = try run(stamp, [other, "0.2.0-1", "abc"])
        #expect(unmarked.status == 1)
        #expect(unmarked.output.contains("the marker should be in \(other) once; it is there 0 time(s)"))

        // The marker followed by something that is not a stamp (or nothing's area at all) is never written over.
        let stray = harness.workDirectory.appending(path: "stray")
        let strayBytes = Data("SANMIN-BUILD-INFO:not a stamp".utf8) + Data(count: 300)
        try strayBytes.write(to: stray)
        let refused = try run(stamp, [stray.path, "0.2.0-1", "abc"])
        #expect(refused.status == 1)
        #expect(refused.output.contains("are not a stamp area; nothing was written"))
        #expect(try Data(contentsOf: stray) == strayBytes)
    }
}
