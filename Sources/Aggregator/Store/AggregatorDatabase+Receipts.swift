import Foundation
import GRDB
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

extension AggregatorDatabase {
    /// The receipts of every phone ballot the aggregator holds (issue #16), by venue, session, box and receipt: never
    /// a mark, never a record's place in its chain. Computed from the records themselves, so that a receipt on this
    /// list is the digest of the ballot as it was recorded.
    public func phoneReceipts(venue: String? = nil) throws -> [PublishedReceipt] {
        try writer.read { db in
            // The same condition as the index `record_phone_ballot`, so that only phone ballots are read.
            var sql = """
                SELECT r.venue, r.payload,
                    EXISTS (SELECT 1 FROM supersession s WHERE s.venue = r.venue AND s.target = r.seq) AS superseded,
                    EXISTS (SELECT 1 FROM heldOutNow h WHERE h.venue = r.venue AND h.seq = r.seq) AS held
                FROM record r WHERE r.kind = 'ballot' AND r.payload LIKE '%"nonce":"%'
                """
            var arguments: StatementArguments = []
            if let venue {
                sql += " AND r.venue = ?"
                arguments = [venue]
            }
            var result: [PublishedReceipt] = []
            for row in try Row.fetchAll(db, sql: sql, arguments: arguments) {
                guard case .ballot(let ballot) = try RecordPayload.decode(json: row["payload"]),
                    let receipt = ballot.receipt
                else { continue }
                result.append(
                    PublishedReceipt(
                        receipt: receipt, venue: row["venue"], session: ballot.session, box: ballot.box,
                        counted: !(row["superseded"] as Bool) && !(row["held"] as Bool)))
            }
            return result.sorted {
                ($0.venue, $0.session, $0.box, $0.receipt) < ($1.venue, $1.session, $1.box, $1.receipt)
            }
        }
    }
}
