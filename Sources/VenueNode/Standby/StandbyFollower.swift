import Crypto
import DaemonSupport
import Foundation
import Logging
import ServiceLifecycle
import Shared

/// The standby's side (issue #15): copies the primary's chain over the LAN, page by page, taking a page only when the
/// primary's key signed it, it is of this venue, and its records continue this copy's chain hash by hash.
public struct StandbyFollower: Sendable {
    public struct Failure: Error, CustomStringConvertible {
        public var description: String
    }

    public var directory: NodeDirectory
    public var database: NodeDatabase
    public var primaryURL: String
    public var primaryKey: Curve25519.Signing.PublicKey
    var client: CurlHTTPClient

    public init(directory: NodeDirectory, database: NodeDatabase, primaryURL: String, primaryKey: String) throws {
        guard let key = NodeIdentity.publicKey(base64: primaryKey) else {
            throw Failure(description: "--primary-key is not an Ed25519 public key (base64 of 32 bytes)")
        }
        self.directory = directory
        self.database = database
        self.primaryURL = primaryURL.hasSuffix("/") ? String(primaryURL.dropLast()) : primaryURL
        self.primaryKey = key
        self.client = CurlHTTPClient(connectTimeout: 2, totalTimeout: 20)
    }

    /// Copies everything the primary has beyond this copy's head; returns (records copied, primary's head).
    @discardableResult
    public func copy() async throws -> (copied: Int, primaryHead: Int64) {
        var copied = 0
        while true {
            let page = try await fetch(after: try database.head().seq)
            if page.records.isEmpty {
                try keep(page.receipt)
                let head = try database.head()
                guard page.headSeq == head.seq, page.headHash == head.hash else {
                    throw Failure(
                        description: "the primary's head is record \(page.headSeq) (\(page.headHash.prefix(12))…) but "
                            + "this copy holds \(head.seq) (\(head.hash.prefix(12))…): not the same chain")
                }
                return (copied, page.headSeq)
            }
            try database.replicate(page.records)
            copied += page.records.count
        }
    }

    /// Keeps the primary's receipt when it is the aggregator's (the key this node was given), for this venue, and
    /// over a record this copy holds with the same hash; then those records count as acknowledged here too.
    func keep(_ receipt: Receipt?) throws {
        guard let receipt, let configured = directory.configuration.aggregatorKey,
            let key = NodeIdentity.publicKey(base64: configured), receipt.venue == directory.configuration.venue,
            receipt.lastSeq > (try database.acknowledgedSeq()),
            try database.hash(at: receipt.lastSeq) == receipt.lastHash,
            receipt.isValid(for: key)
        else { return }
        try database.saveReceipt(receipt)
        try database.logSync(ok: true, ackedSeq: receipt.lastSeq, ackedHash: receipt.lastHash)
    }

    /// The primary's head, if it answers (promote asks before it goes ahead).
    public func primaryHead() async -> Int64? {
        guard let page = try? await fetch(after: try database.head().seq, limit: 1) else { return nil }
        return page.headSeq
    }

    func fetch(after: Int64, limit: Int = 1_000) async throws -> StandbyPage {
        let query = "after=\(after)&limit=\(limit)"
        let signed = try MessageSignature.sign(
            method: "GET", path: StandbyServer.recordsPath, query: query, body: Data(),
            keyID: directory.configuration.nodeID, key: directory.key, created: Int64(Date().timeIntervalSince1970))
        let reply = try await client.send(
            method: "GET", url: "\(primaryURL)\(StandbyServer.recordsPath)?\(query)",
            headers: [
                "Content-Digest: \(signed.contentDigest)", "Signature-Input: \(signed.signatureInput)",
                "Signature: \(signed.signature)",
            ])
        guard reply.status == 200 else {
            let message =
                ((try? JSONSerialization.jsonObject(with: reply.body)) as? [String: [String: String]])?["error"]
                .map { "\($0["code"] ?? "?"): \($0["message"] ?? "")" } ?? String(decoding: reply.body, as: UTF8.self)
            throw Failure(description: "the primary answered \(reply.status): \(message)")
        }
        guard
            let signature = reply.headers[StandbyServer.signatureHeader.lowercased()].flatMap({
                Data(base64Encoded: $0)
            }),
            primaryKey.isValidSignature(signature, for: reply.body)
        else {
            throw Failure(
                description: "the answer from \(primaryURL) is not signed by the primary's key (--primary-key): "
                    + "nothing of it was kept")
        }
        let page = try JSONDecoder().decode(StandbyPage.self, from: reply.body)
        guard page.venue == directory.configuration.venue else {
            throw Failure(
                description: "the primary is a node of venue \(page.venue), not \(directory.configuration.venue)")
        }
        return page
    }
}

/// `venue-node follow`: copies the primary's chain every `interval`, logging each catch-up and each problem, until
/// stopped. The primary never waits for it (asynchronous replication).
public struct FollowService: Service {
    var follower: StandbyFollower
    var interval: Duration
    var logger: Logger

    public init(follower: StandbyFollower, interval: Duration, logger: Logger) {
        self.follower = follower
        self.interval = interval
        self.logger = logger
    }

    public func run() async throws {
        try await cancelWhenGracefulShutdown { try await loop() }
    }

    private func loop() async throws {
        var lastProblem: String?
        while !Task.isCancelled && !Task.isShuttingDownGracefully {
            do {
                let (copied, head) = try await follower.copy()
                if copied > 0 || lastProblem != nil {
                    logger.info("copied from the primary", metadata: ["copied": "\(copied)", "head": "\(head)"])
                    print("holds records 1…\(head) of the primary (\(copied) copied now)")
                    fflush(nil)
                }
                lastProblem = nil
            } catch {
                let problem = "\(error)"
                if problem != lastProblem {
                    logger.warning("cannot copy from the primary", metadata: ["error": "\(problem)"])
                    print("cannot copy from the primary: \(problem)")
                    fflush(nil)
                }
                lastProblem = problem
                if error is NodeDatabase.ReplicationRefusal { throw error }
            }
            try? await Task.sleep(for: interval)
        }
    }
}
