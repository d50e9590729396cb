import DaemonSupport
import Foundation
import Hummingbird
import Shared

/// What a node reads back: the aggregator's public key (open: a node checks it before enrolling), the signed
/// heads, its cursor and its venue's records (a signed GET, or an observer token for heads and cursors).
struct NodeReadController<Store: AggregatorStore> {
    var intake: Intake<Store>

    func addRoutes(to routes: AccessRoutes) {
        routes.group("v1", access: .open)
            .get("identity", use: identity)
        routes.group("v1", access: .nodeSignatureOrToken(.observer))
            .get("heads", use: heads)
            .get("nodes/:id/cursor", use: cursor)
            .get("nodes/:id/records", use: records)
    }

    /// The aggregator's public key: public by nature, read by a node before it enrols (to check the key it was
    /// given) and by anyone checking a receipt.
    @Sendable func identity(_ request: Request, context: TallyRequestContext) async throws -> Response {
        guard let key = intake.signingKey else {
            throw APIError(.notFound, .notFound, "this aggregator has no signing key")
        }
        return try JSONResponse.make(
            AggregatorIdentity(
                event: intake.event.id, aggregatorKey: key.publicKey.rawRepresentation.base64EncodedString()))
    }

    /// Every venue chain's head, signed by the aggregator's key.
    @Sendable func heads(_ request: Request, context: TallyRequestContext) async throws -> Response {
        let intake = self.intake
        let heads = try await offload { () -> SignedHeads? in
            try intake.authenticateIfSigned(request)
            return try intake.signedHeads()
        }
        guard let heads else { throw APIError(.notFound, .notFound, "this aggregator has no signing key") }
        return try JSONResponse.make(heads)
    }

    /// How far the aggregator holds a node's venue chain; a signed request may only ask about its own node.
    @Sendable func cursor(_ request: Request, context: TallyRequestContext) async throws -> Response {
        let id = try context.parameters.require("id")
        let intake = self.intake
        let cursor = try await offload { () -> NodeCursor in
            if let signer = try intake.authenticateIfSigned(request), signer.id != id {
                throw APIError(.forbidden, .nodeMismatch, "the request is signed by node \(signer.id), not \(id)")
            }
            guard let node = try intake.database.node(id: id) else {
                throw APIError(.notFound, .unknownNode, "node \(id) is not enrolled")
            }
            return try intake.database.cursor(node: node)
        }
        return try JSONResponse.make(cursor)
    }

    /// The node's venue chain, for a redeployed node to restore; only its venue's current node may read it.
    @Sendable func records(_ request: Request, context: TallyRequestContext) async throws -> Response {
        let id = try context.parameters.require("id")
        let from = max(1, request.uri.queryParameters.get("from", as: Int64.self) ?? 1)
        let limit = min(5_000, max(1, request.uri.queryParameters.get("limit", as: Int.self) ?? 1_000))
        let intake = self.intake
        let page = try await offload { () -> RecordPage in
            guard let node = try intake.authenticateIfSigned(request) else {
                throw APIError(
                    .unauthorized, .missingSignature,
                    "only the venue's current node may read its records "
                        + "(a GET signed with its key)")
            }
            guard node.id == id else {
                throw APIError(.forbidden, .nodeMismatch, "the request is signed by node \(node.id), not \(id)")
            }
            let records = try intake.database.records(venue: node.venue, from: from, limit: limit)
            let head = try intake.database.cursor(node: node)
            return RecordPage(venue: node.venue, records: records, headSeq: head.seq)
        }
        return try JSONResponse.make(page)
    }
}
