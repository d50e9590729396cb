import CBuildInfo

/// The release this source tree is: reported in heartbeats, printed by `venue-node --version` and
/// `aggregator --version`. The one place it is written; bump it when a release ends.
public let sourceVersion = "0.2.0"

/// What scripts/stamp-build-info.sh stamped into this binary ("version=…", "commit=…" lines), if anything.
let buildStamp: [String: String] = {
    var fields: [String: String] = [:]
    for line in String(cString: sanmin_build_info()).split(separator: "\n") {
        guard let equals = line.firstIndex(of: "=") else { continue }
        fields[String(line[..<equals])] = String(line[line.index(after: equals)...])
    }
    return fields
}()

/// The version of this build: the stamped one if the binary was stamped, else the source tree's.
public let sanminVersion = buildStamp["version"] ?? sourceVersion

/// The git commit this build was made from, if the binary was stamped (scripts/package.sh and deploy/install.sh
/// stamp theirs); nil for a developer's `swift build`.
public let sanminCommit = buildStamp["commit"]

/// What `--version` prints: "0.2.0 (commit 1c51c66e…)", or "0.2.0 (commit not recorded: a developer build)".
public let sanminVersionLine = "\(sanminVersion) (commit \(sanminCommit ?? "not recorded: a developer build"))"
