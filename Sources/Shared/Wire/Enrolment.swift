import Foundation

/// `POST /v1/enrolments`: a new node presents a one-time token (`aggregator nodes enroll`) and its
/// public key. The request is signed with that key (`keyid` = the node id it derives), which proves
/// the node holds the private key it enrols.
public struct EnrolmentRequest: Codable, Sendable, Equatable {
    public var token: String
    public var venue: String
    public var publicKey: String

    public init(token: String, venue: String, publicKey: String) {
        self.token = token
        self.venue = venue
        self.publicKey = publicKey
    }

    enum CodingKeys: String, CodingKey {
        case token, venue
        case publicKey = "public_key"
    }
}

/// The answer to an enrolment: the node as enrolled, and the aggregator's public key (it signs
/// receipts and heads).
public struct EnrolmentResponse: Codable, Sendable, Equatable {
    public var node: String
    public var venue: String
    public var epoch: Int64
    public var aggregatorKey: String?

    public init(node: String, venue: String, epoch: Int64, aggregatorKey: String?) {
        self.node = node
        self.venue = venue
        self.epoch = epoch
        self.aggregatorKey = aggregatorKey
    }

    enum CodingKeys: String, CodingKey {
        case node, venue, epoch
        case aggregatorKey = "aggregator_key"
    }
}

/// `GET /v1/identity` (open to anyone): the aggregator's public key, which signs receipts and heads. A node
/// reads it before it enrols, to refuse an aggregator whose key is not the `--aggregator-key` it was given.
public struct AggregatorIdentity: Codable, Sendable, Equatable {
    public var event: String
    public var aggregatorKey: String

    public init(event: String, aggregatorKey: String) {
        self.event = event
        self.aggregatorKey = aggregatorKey
    }

    enum CodingKeys: String, CodingKey {
        case event
        case aggregatorKey = "aggregator_key"
    }
}
