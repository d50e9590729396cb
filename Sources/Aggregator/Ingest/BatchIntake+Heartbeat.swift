import Crypto
import Foundation
import Shared

extension Intake {
    /// Records a node's heartbeat (its own view of its chain, backlog and disk).
    @discardableResult
    public func receiveHeartbeat(_ request: SignedRequest) throws -> (node: EnrolledNode, heartbeat: Heartbeat) {
        let node = try authenticatePost(request)
        let heartbeat: Heartbeat
        do {
            heartbeat = try JSONDecoder().decode(Heartbeat.self, from: request.body)
        } catch {
            throw APIError(.badRequest, .invalidBody, "the body is not a heartbeat: \(error)")
        }
        guard heartbeat.node == node.id, heartbeat.venue == node.venue else {
            throw APIError(
                .forbidden, .nodeMismatch,
                "the heartbeat names node \(heartbeat.node) of venue "
                    + "\(heartbeat.venue) but is signed by node \(node.id) of venue \(node.venue)")
        }
        if let problem = Self.implausible(heartbeat) {
            throw APIError(
                .unprocessableContent, .invalidHeartbeat, "\(problem.field): \(problem.message)",
                field: problem.field)
        }
        do {
            let signedAt = (try? MessageSignature.created(signatureInput: request.signatureInput)) ?? 0
            try database.noteContact(
                node: node, heartbeat: heartbeat,
                replayCheck: (MessageSignature.contentDigest(of: request.body), signedAt, maxSignatureAge))
        } catch is HeartbeatReplay {
            throw APIError(
                .conflict, .replayedRequest,
                "node \(node.id) sent this very heartbeat before: a replay is not "
                    + "counted as contact")
        }
        if let problem = heartbeat.problem {
            // What stopped the node's own sync (its chain forked from the aggregator's, …): an operator must act.
            try database.raiseAlarm(
                kind: "node_problem", node: node,
                message: "node \(node.id) of venue \(node.venue) reports: \(problem.prefix(500))",
                evidence: nil, once: false, oncePerNode: true)
        }
        return (node, heartbeat)
    }

    /// The first figure of a heartbeat no node can have sent (a negative count, a backlog larger than the
    /// chain, …), or nil: such values would reach the dashboard and the report as they are.
    static func implausible(_ heartbeat: Heartbeat) -> (field: String, message: String)? {
        let maxSeq: Int64 = 1 << 53
        if !(0..<maxSeq).contains(heartbeat.headSeq) {
            return ("head_seq", "\(heartbeat.headSeq) is not a sequence number (0 to 2^53-1)")
        }
        if heartbeat.headHash.count != 64 || !heartbeat.headHash.allSatisfy({ $0.isHexDigit && !$0.isUppercase }) {
            return ("head_hash", "must be 64 lowercase hex digits")
        }
        if !(0...heartbeat.headSeq).contains(heartbeat.pending) {
            return (
                "pending",
                "\(heartbeat.pending) records pending, with \(heartbeat.headSeq) records in all: must be 0 "
                    + "to head_seq"
            )
        }
        if let free = heartbeat.freeDiskBytes, !(0...(Int64(1) << 60)).contains(free) {
            return ("free_disk_bytes", "\(free) is not a plausible number of free bytes (0 to 2^60)")
        }
        if heartbeat.version.count > 64 { return ("version", "longer than 64 characters") }
        if heartbeat.clock.count > 64 { return ("clock", "longer than 64 characters") }
        return nil
    }
}
