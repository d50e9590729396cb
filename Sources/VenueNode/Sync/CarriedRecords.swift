import Foundation
import Shared

/// Records carried on a USB stick when the network never comes back (issue #15): the pending records as the
/// batches the node would have sent, signed, in one file; and the aggregator's receipts for them carried back.
public enum CarriedRecords {
    /// A refused export or receipt import; nothing was written or kept.
    public struct Refusal: Error, Sendable, CustomStringConvertible {
        public var description: String
        init(_ description: String) { self.description = description }
    }

    /// Every record from `fromSeq` (default: the first the aggregator has not acknowledged) to the head, as signed
    /// batches of at most `batchSize` records.
    public static func export(
        directory: NodeDirectory, database: NodeDatabase, fromSeq: Int64? = nil, batchSize: Int = 500,
        maxBatchBytes: Int = 512 * 1024
    ) throws -> CarriedBatches {
        let head = try database.head()
        let start = try fromSeq ?? (database.acknowledgedSeq() + 1)
        guard start >= 1, start <= head.seq else {
            throw Refusal(
                head.seq == 0
                    ? "this node holds no record: nothing to carry"
                    : start > head.seq
                        ? "every record up to the head (\(head.seq)) is acknowledged: nothing to carry "
                            + "(give --from-seq 1 to carry them all again)"
                        : "--from-seq \(start) is not a record of this node (1…\(head.seq))")
        }
        var batches: [CarriedBatches.SignedBatch] = []
        var next = start
        while next <= head.seq {
            let records = try database.records(from: next, limit: max(1, batchSize), maxBytes: maxBatchBytes)
            guard let last = records.last else { break }
            let body = try JSONCoding.data(Syncer.batch(records, directory: directory), .wire)
            let signed = try Syncer.sign(path: "/v1/batches", body: body, directory: directory)
            batches.append(
                .init(
                    contentDigest: signed.contentDigest, signatureInput: signed.signatureInput,
                    signature: signed.signature, body: body))
            next = last.seq + 1
        }
        var file = CarriedBatches(
            event: directory.configuration.eventID, venue: directory.configuration.venue,
            node: directory.configuration.nodeID, exportedAt: Date().formatted(.iso8601), batches: batches)
        (file.firstSeq, file.lastSeq) = (start, head.seq)
        return file
    }

    /// What `importReceipts` kept.
    public struct ReceiptsImported: Sendable, Equatable {
        public var receipts: Int
        public var acknowledgedSeq: Int64
        public var pending: Int64
    }

    /// Keeps the aggregator's receipts carried back: each must be signed by the aggregator's key this node knows,
    /// for this node and venue, and cover records this node holds exactly (the same hash). Then the records they
    /// cover count as acknowledged: a later sync does not send them again.
    public static func importReceipts(_ file: CarriedReceipts, directory: NodeDirectory, database: NodeDatabase)
        throws -> ReceiptsImported
    {
        guard let keyText = directory.configuration.aggregatorKey, let key = NodeIdentity.publicKey(base64: keyText)
        else {
            throw Refusal(
                "this node has no aggregator key, so receipts cannot be checked (venue-node init --aggregator-key): "
                    + "nothing was kept")
        }
        let configuration = directory.configuration
        guard file.event == configuration.eventID, file.venue == configuration.venue, file.node == configuration.nodeID
        else {
            throw Refusal(
                "these receipts are for node \(file.node) of venue \(file.venue) (event \(file.event)), not this node "
                    + "(\(configuration.nodeID), venue \(configuration.venue)): nothing was kept")
        }
        guard !file.receipts.isEmpty else { throw Refusal("the file holds no receipt: nothing was kept") }
        for (index, receipt) in file.receipts.enumerated() {
            guard receipt.venue == configuration.venue, receipt.node == configuration.nodeID else {
                throw Refusal("receipt \(index + 1) is for another node or venue: nothing was kept")
            }
            guard receipt.isValid(for: key) else {
                throw Refusal(
                    "receipt \(index + 1) (records \(receipt.firstSeq)…\(receipt.lastSeq)) is not signed by the "
                        + "aggregator's key this node knows: nothing was kept")
            }
            guard try database.hash(at: receipt.lastSeq) == receipt.lastHash else {
                throw Refusal(
                    "receipt \(index + 1) covers record \(receipt.lastSeq) with hash \(receipt.lastHash.prefix(12))…, "
                        + "which is not this node's record: nothing was kept")
            }
        }
        let newest = file.receipts.max { $0.lastSeq < $1.lastSeq }!
        let acknowledged = try database.acknowledgedSeq()
        for receipt in file.receipts { try database.saveReceipt(receipt) }
        if newest.lastSeq > acknowledged {
            try database.logSync(
                ok: true, ackedSeq: newest.lastSeq, ackedHash: newest.lastHash,
                message: "receipts carried back from the aggregator")
        }
        let head = try database.head()
        let now = max(newest.lastSeq, acknowledged)
        return ReceiptsImported(receipts: file.receipts.count, acknowledgedSeq: now, pending: head.seq - now)
    }
}
