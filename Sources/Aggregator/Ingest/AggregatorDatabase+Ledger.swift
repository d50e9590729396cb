import Foundation
import Shared

/// Each venue's ledger kept in tables (migration v14), as the venue node keeps its own: a merge loads only the
/// entries its records touch, judges them with the same rules, and writes back what changed. The aggregator's memory
/// then does not grow with the representatives, persons and boxes of an event. The tables are derived from the
/// records and rebuilt from them whenever they do not stand at the venue's head with the same number of held-out
/// decisions.
extension ChainMerge {
    /// The venue's ledger at `head`, as far as `payloads` (the batch's new records) need it to be judged, tracking what
    /// they change; and the number of held-out decisions it reflects.
    static func ledger<T: MergeTransaction>(
        in db: T, venue: String, head: (seq: Int64, hash: String), for payloads: [RecordPayload]
    ) throws -> (ledger: Ledger, decisions: Int) {
        let decisions = try db.heldOutDecisions(venue: venue)
        guard let stored = try db.ledgerHead(venue: venue), stored.seq == head.seq, stored.hash == head.hash,
            stored.decisions == decisions
        else {
            // First merge after an upgrade, or after a decision: rebuilt from the venue's records.
            var full = try replayedLedger(in: db, venue: venue)
            try db.deleteLedger(venue: venue)
            try db.setLedgerEntries(venue: venue, full.allEntries(recordContents: false))
            try db.setLedgerHead(venue: venue, seq: full.headSeq, hash: full.headHash, decisions: decisions)
            full.startTracking()
            return (full, decisions)
        }
        var ledger = Ledger()
        (ledger.headSeq, ledger.headHash) = head
        ledger.loadHeldOut(try db.heldOutNow(venue: venue))
        ledger.load(try db.ledgerEntries(venue: venue, keys: Ledger.keysNeeded(for: payloads)))
        // A correction's target stored before this batch: its kind and content, read from the records, and then the
        // entries that taking it out of effect touches.
        for case .correction(let correction) in payloads
        where correction.target >= 1 && correction.target <= head.seq && !ledger.holdsRecord(correction.target) {
            if let (kind, content) = try storedRecord(correction.target, venue: venue, in: db) {
                ledger.loadStoredRecord(seq: correction.target, rootKind: kind, content: content)
            }
        }
        ledger.load(try db.ledgerEntries(venue: venue, keys: Ledger.keysNeeded(for: ledger.loadedContents)))
        ledger.startTracking()
        return (ledger, decisions)
    }

    /// Writes back what the merged records changed, and the venue's new head.
    static func saveLedger<T: MergeTransaction>(_ ledger: Ledger, decisions: Int, venue: String, in db: T) throws {
        try db.setLedgerEntries(venue: venue, ledger.changedEntries(recordContents: false))
        try db.setLedgerHead(venue: venue, seq: ledger.headSeq, hash: ledger.headHash, decisions: decisions)
    }

    /// The venue's whole ledger, replayed from its stored records (each taken as it was judged when merged; the
    /// records held out and not decided to count, held out again).
    static func replayedLedger<T: MergeTransaction>(in db: T, venue: String) throws -> Ledger {
        var ledger = Ledger()
        let heldOut = Set(try db.heldOutNow(venue: venue))
        try db.forEachRecord(venue: venue) { seq, hash, json in
            let payload = try RecordPayload.decode(json: json)
            if heldOut.contains(seq) {
                ledger.holdOut(payload)
            } else {
                try ledger.admitEffect(payload, event: nil, mode: .replay)
            }
            ledger.headHash = hash
        }
        return ledger
    }
}
