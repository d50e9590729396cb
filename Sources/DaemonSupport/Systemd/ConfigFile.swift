import Foundation

/// `--config FILE`: a file of `option = value` lines (`#` starts a comment) whose options are added
/// to the command line, unless the command line gives them itself. `flag = true` adds a bare `--flag`.
/// This is how the systemd units take their settings from /etc/sanmin (see deploy/).
public enum ConfigFile {
    public struct Failure: Error, CustomStringConvertible {
        public var description: String
    }

    /// The arguments with `--config FILE` replaced by the file's options.
    public static func expand(_ arguments: [String]) throws -> [String] {
        guard let index = arguments.firstIndex(of: "--config") else { return arguments }
        guard index + 1 < arguments.count else { throw Failure(description: "--config needs a file name") }
        let path = arguments[index + 1]
        var rest = arguments
        rest.removeSubrange(index...(index + 1))
        let text: String
        do {
            text = try String(contentsOfFile: path, encoding: .utf8)
        } catch {
            throw Failure(description: "cannot read the configuration file \(path): \(error.localizedDescription)")
        }
        var added: [String] = []
        for (number, rawLine) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
            let line = rawLine.split(separator: "#", maxSplits: 1, omittingEmptySubsequences: false)[0]
                .trimmingCharacters(in: .whitespaces)
            if line.isEmpty { continue }
            guard let equals = line.firstIndex(of: "=") else {
                throw Failure(description: "\(path):\(number + 1): expected \"option = value\", found \"\(line)\"")
            }
            let name = line[..<equals].trimmingCharacters(in: .whitespaces)
            let value = line[line.index(after: equals)...].trimmingCharacters(in: .whitespaces)
            guard !name.isEmpty, name.allSatisfy({ $0.isLetter || $0.isNumber || $0 == "-" }) else {
                throw Failure(description: "\(path):\(number + 1): \"\(name)\" is not an option name")
            }
            if rest.contains("--\(name)") { continue }  // the command line wins
            if value == "true" {
                added.append("--\(name)")
            } else if value != "false" {
                added += ["--\(name)", value]
            }
        }
        return rest + added
    }
}
