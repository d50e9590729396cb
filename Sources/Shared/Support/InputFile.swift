import Foundation

/// Reads a file an operator named on the command line, saying in plain words what is wrong with it
/// ("no such file: PATH") instead of a Foundation error domain and code.
public enum InputFile {
    public struct Failure: Error, CustomStringConvertible, Sendable {
        public var description: String

        public init(description: String) { self.description = description }
    }

    public static func read(_ path: String) throws -> Data {
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) else {
            throw Failure(description: "no such file: \(path)")
        }
        guard !isDirectory.boolValue else { throw Failure(description: "\(path) is a directory, not a file") }
        guard FileManager.default.isReadableFile(atPath: path) else {
            throw Failure(description: "cannot read \(path): permission denied")
        }
        do {
            return try Data(contentsOf: URL(filePath: path))
        } catch {
            throw Failure(description: "cannot read \(path): \(error.localizedDescription)")
        }
    }
}
