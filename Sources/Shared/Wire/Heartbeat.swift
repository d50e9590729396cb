import Foundation

/// `POST /v1/heartbeats` (signed like a batch): how the node sees itself, so the central office can
/// tell a venue that is alive but behind, and check the node's own figures against what it holds.
public struct Heartbeat: Codable, Sendable, Equatable {
    public var node: String
    public var venue: String
    /// The node's last record.
    public var headSeq: Int64
    public var headHash: String
    /// Records not yet acknowledged.
    public var pending: Int64
    public var freeDiskBytes: Int64?
    public var version: String
    /// The node's clock (informational).
    public var clock: String
    /// What stops the node's sync and needs an operator (its chain forked from the aggregator's, …).
    public var problem: String?

    public init(
        node: String, venue: String, headSeq: Int64, headHash: String, pending: Int64, freeDiskBytes: Int64?,
        version: String, clock: String, problem: String? = nil
    ) {
        self.problem = problem
        self.node = node
        self.venue = venue
        self.headSeq = headSeq
        self.headHash = headHash
        self.pending = pending
        self.freeDiskBytes = freeDiskBytes
        self.version = version
        self.clock = clock
    }

    enum CodingKeys: String, CodingKey {
        case node, venue
        case headSeq = "head_seq"
        case headHash = "head_hash"
        case pending
        case freeDiskBytes = "free_disk_bytes"
        case version, clock, problem
    }
}
