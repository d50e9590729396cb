import Foundation

/// `GET /v1/nodes/{id}/cursor`: the last record of the node's venue chain that the aggregator holds.
public struct NodeCursor: Codable, Sendable, Equatable {
    public var node: String
    public var venue: String
    /// The node's epoch: its place among the keys enrolled for the venue.
    public var epoch: Int64
    /// 0 when nothing is held yet.
    public var seq: Int64
    /// `RecordChain.genesis` when nothing is held yet.
    public var hash: String

    public init(node: String, venue: String, epoch: Int64, seq: Int64, hash: String) {
        self.node = node
        self.venue = venue
        self.epoch = epoch
        self.seq = seq
        self.hash = hash
    }
}

/// `GET /v1/nodes/{id}/records?from=N`: records of the node's venue chain, for `venue-node restore`.
public struct RecordPage: Codable, Sendable, Equatable {
    public var venue: String
    public var records: [ChainedRecord]
    /// The venue chain's last sequence held by the aggregator.
    public var headSeq: Int64

    public init(venue: String, records: [ChainedRecord], headSeq: Int64) {
        self.venue = venue
        self.records = records
        self.headSeq = headSeq
    }

    enum CodingKeys: String, CodingKey {
        case venue, records
        case headSeq = "head_seq"
    }
}
