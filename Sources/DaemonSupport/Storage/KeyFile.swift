import Crypto
import Foundation
import Shared

/// A key pair kept in a file as base64 of its 32 raw bytes (mode 0600), created on first use.
public enum KeyFile {
    public static func loadOrCreate(at url: URL) throws -> Curve25519.Signing.PrivateKey {
        if let text = try? String(contentsOf: url, encoding: .utf8) {
            guard let data = Data(base64Encoded: text.trimmingCharacters(in: .whitespacesAndNewlines)),
                let key = try? Curve25519.Signing.PrivateKey(rawRepresentation: data)
            else {
                throw DurableDatabase.Failure(description: "\(url.path) does not hold an Ed25519 private key")
            }
            return key
        }
        let key = Curve25519.Signing.PrivateKey()
        guard
            FileManager.default.createFile(
                atPath: url.path, contents: Data(key.rawRepresentation.base64EncodedString().utf8),
                attributes: [.posixPermissions: 0o600])
        else {
            throw DurableDatabase.Failure(description: "cannot write \(url.path)")
        }
        return key
    }
}
