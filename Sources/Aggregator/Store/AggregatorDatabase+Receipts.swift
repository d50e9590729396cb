import Foundation
import Shared

/// A phone ballot's receipt as the aggregator publishes it: where it was cast, and whether the ballot counts.
public struct PublishedReceipt: Codable, Sendable, Equatable {
    public var receipt: String
    public var venue: String
    public var session: String
    public var box: String
    /// False when the ballot was superseded by a correction or is held out of the totals.
    public var counted: Bool
}

extension AggregatorStore {
    /// The receipts of every phone ballot the aggregator holds (issue #16), by venue, session, box and receipt: never
    /// a mark, never a record's place in its chain. Computed from the records themselves, so that a receipt on this
    /// list is the digest of the ballot as it was recorded.
    public func phoneReceipts(venue: String? = nil) throws -> [PublishedReceipt] {
        var result: [PublishedReceipt] = []
        try withOffice(writing: false, venue: nil) { office in
            try office.transaction.phoneBallots(venue: venue) { venue, payload, superseded, held in
                guard case .ballot(let ballot) = try RecordPayload.decode(json: payload), let receipt = ballot.receipt
                else { return }
                result.append(
                    PublishedReceipt(
                        receipt: receipt, venue: venue, session: ballot.session, box: ballot.box,
                        counted: !superseded && !held))
            }
        }
        return result.sorted { ($0.venue, $0.session, $0.box, $0.receipt) < ($1.venue, $1.session, $1.box, $1.receipt) }
    }
}
