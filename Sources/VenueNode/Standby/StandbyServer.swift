import Crypto
import DaemonSupport
import Foundation
import HTTPTypes
import Hummingbird
import Logging
import Shared

/// What the primary answers a standby: the records after the head the standby holds, with the primary's head.
/// The body is signed by the primary's key (`X-Sanmin-Signature`), so a standby copies only from its primary.
public struct StandbyPage: Codable, Sendable, Equatable {
    public var venue: String
    public var node: String
    public var headSeq: Int64
    public var headHash: String
    public var records: [ChainedRecord]
    /// The primary's latest receipt from the aggregator: the standby keeps it (once it verifies), so a promoted
    /// standby does not send again what the aggregator already acknowledged.
    public var receipt: Receipt?

    enum CodingKeys: String, CodingKey {
        case venue, node
        case headSeq = "head_seq"
        case headHash = "head_hash"
        case records, receipt
    }
}

/// `venue-node run --standby-listen HOST:PORT` (issue #15): the primary serves its chain to the standbys allowed
/// with `venue-node standby allow`, on the venue's LAN. A standby's GET is signed with its key; the answer is signed
/// with the primary's. One more service of `run`'s group: it stops with the daemon.
public enum StandbyServer {
    public static let signatureHeader = "X-Sanmin-Signature"
    static let recordsPath = "/standby/v1/records"

    public static func router(database: NodeDatabase, directory: NodeDirectory) -> Router<BasicRequestContext> {
        let router = Router(context: BasicRequestContext.self)
        let key = directory.key
        let venue = directory.configuration.venue
        let nodeID = directory.configuration.nodeID
        router.get("/standby/v1/records") { request, _ -> Response in
            let after = max(0, request.uri.queryParameters.get("after", as: Int64.self) ?? 0)
            let limit = min(5_000, max(1, request.uri.queryParameters.get("limit", as: Int.self) ?? 1_000))
            let fields = request.headers
            let signed = (
                digest: fields[HTTPField.Name("Content-Digest")!], input: fields[HTTPField.Name("Signature-Input")!],
                signature: fields[HTTPField.Name("Signature")!]
            )
            let query = request.uri.query
            let outcome = try await offload { () -> (HTTPResponse.Status, Data) in
                func refuse(_ status: HTTPResponse.Status, _ code: String, _ message: String) throws
                    -> (HTTPResponse.Status, Data)
                {
                    (status, try JSONCoding.data(["error": ["code": code, "message": message]]))
                }
                let claimed: String
                do { claimed = try MessageSignature.keyID(signatureInput: signed.input) } catch {
                    return try refuse(.unauthorized, "missing_signature", "a standby's GET is signed with its key")
                }
                guard let standby = try database.standbys().first(where: { $0.nodeID == claimed }),
                    let publicKey = NodeIdentity.publicKey(base64: standby.publicKey)
                else {
                    return try refuse(
                        .forbidden, "unknown_standby",
                        "node \(claimed) is not allowed to copy this node (venue-node standby allow --key …)")
                }
                do {
                    try MessageSignature.verify(
                        method: "GET", path: recordsPath, query: query, body: Data(), contentDigest: signed.digest,
                        signatureInput: signed.input, signature: signed.signature, publicKey: publicKey)
                    let created = try MessageSignature.created(signatureInput: signed.input)
                    guard abs(Int64(Date().timeIntervalSince1970) - created) <= 300 else {
                        return try refuse(
                            .unauthorized, "stale_signature", "the request was signed more than 5 minutes ago")
                    }
                } catch {
                    return try refuse(.unauthorized, "bad_signature", "\(error)")
                }
                let head = try database.head()
                guard after <= head.seq else {
                    return try refuse(
                        .conflict, "ahead_of_primary",
                        "the standby holds records up to \(after) but this node's chain ends at \(head.seq): it is "
                            + "not this node's copy")
                }
                // What the standby holds must be this chain: the hash of its head is checked by the standby on every
                // page (the first record's `prev`); noted here so the primary's status shows how far it is.
                try database.noteStandby(
                    claimed, heldSeq: after, heldHash: try database.hash(at: after) ?? RecordChain.genesis)
                let records = try database.records(from: after + 1, limit: limit, maxBytes: 4 << 20)
                let page = StandbyPage(
                    venue: venue, node: nodeID, headSeq: head.seq, headHash: head.hash, records: records,
                    receipt: try database.receipts().max { $0.lastSeq < $1.lastSeq })
                return (.ok, try JSONCoding.data(page))
            }
            var headers: HTTPFields = [.contentType: "application/json"]
            if outcome.0 == .ok {
                headers[HTTPField.Name(signatureHeader)!] = try key.signature(for: outcome.1).base64EncodedString()
            }
            return Response(status: outcome.0, headers: headers, body: .init(byteBuffer: ByteBuffer(bytes: outcome.1)))
        }
        return router
    }

    public static func application(
        database: NodeDatabase, directory: NodeDirectory, host: String, port: Int, logger: Logger,
        onServerRunning: @escaping @Sendable (Int) async -> Void = { _ in }
    ) -> some ApplicationProtocol {
        Application(
            router: router(database: database, directory: directory),
            configuration: .init(address: .hostname(host, port: port), serverName: "sanmin-venue-standby"),
            onServerRunning: { channel in await onServerRunning(channel.localAddress?.port ?? port) },
            logger: logger)
    }
}
