import Crypto
import Foundation
import Shared

/// What a node's receipts prove: that the aggregator accepted its venue's records 1…`provenThrough`
/// (a receipt for record N proves the whole chain up to N, since records chain), and whether the
/// aggregator's signed heads still cover them.
public struct ReceiptCheck: Sendable, Equatable {
    public var receipts: Int
    public var provenThrough: Int64
    public var problems: [String]

    public static func run(
        records: [ChainedRecord], receipts: [Receipt], venue: String,
        key: Curve25519.Signing.PublicKey, heads: SignedHeads? = nil
    ) -> ReceiptCheck {
        var problems: [String] = []
        var proven: Int64 = 0
        let hashes = Dictionary(uniqueKeysWithValues: records.map { ($0.seq, $0.hash) })
        for (index, receipt) in receipts.enumerated() {
            let label = "receipt \(index + 1) (records \(receipt.firstSeq)…\(receipt.lastSeq))"
            guard receipt.isValid(for: key) else {
                problems.append("\(label): the signature does not verify with the aggregator's key")
                continue
            }
            guard receipt.venue == venue, hashes[receipt.lastSeq] == receipt.lastHash else {
                problems.append(
                    "\(label): names record \(receipt.lastSeq) with hash \(receipt.lastHash.prefix(16))…, "
                        + "which is not this node's record")
                continue
            }
            proven = max(proven, receipt.lastSeq)
        }
        if let heads {
            if !heads.isValid(for: key) {
                problems.append("the signed heads do not verify with the aggregator's key")
            } else {
                let head = heads.heads.first { $0.venue == venue }
                let seq = head?.seq ?? 0
                if seq < proven {
                    problems.append(
                        "the aggregator's signed head of venue \(venue) is record \(seq), below record "
                            + "\(proven) it acknowledged: records \(seq + 1)…\(proven) were dropped")
                }
                if let head, let mine = hashes[head.seq], mine != head.hash {
                    problems.append(
                        "the aggregator's head of venue \(venue) names record \(head.seq) with another "
                            + "hash than this node's: the chains have forked")
                }
            }
        }
        return ReceiptCheck(receipts: receipts.count, provenThrough: proven, problems: problems)
    }
}
