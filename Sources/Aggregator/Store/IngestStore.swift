import Crypto
import Foundation
import Shared

/// What taking batches and heartbeats in needs from the aggregator's store, whichever engine holds it: the SQLite file
/// of one aggregator (`AggregatorDatabase`), or a PostgreSQL database several aggregators share (`PostgresStore`).
/// `Intake` is written against this alone. The calls other than `merge` block, as SQLite's do: they are made off the
/// serving threads (`offload`).
public protocol IngestStore: Sendable {
    func node(id: String) throws -> EnrolledNode?
    /// Why `node` may not send now (revoked, or a newer epoch enrolled for its venue), or nil if it may.
    func fence(_ node: EnrolledNode) throws -> APIError?
    /// Keeps a refused, authentically signed request as evidence and raises an alarm (see `AggregatorDatabase`).
    func raiseAlarm(
        kind: String, node: EnrolledNode, message: String, evidence: String?, once: Bool, oncePerNode: Bool) throws
    /// Notes that a node was heard from; a heartbeat seen before is refused (`HeartbeatReplay`).
    func noteContact(
        node: EnrolledNode, heartbeat: Heartbeat?, replayCheck: (digest: String, signedAt: Int64, window: Int64)?)
        throws
    /// The event digests a batch may carry, and the installed event's; nil when no event is installed.
    func acceptedEventDigests() throws -> (current: String, accepted: Set<String>)?
    /// Merges a verified batch in one transaction (see `ChainMerge`); answers once it is committed.
    func merge(_ verified: VerifiedBatch, event: EventDefinition) async throws -> MergeResult
    /// The head of every venue chain that holds a record.
    func chainHeads() throws -> [ChainHead]
    /// Where the node's venue chain stands.
    func cursor(node: EnrolledNode) throws -> NodeCursor
    /// Enrols `key` for the token's venue as its next epoch, marking the one-time token used, in one transaction; the
    /// same key with the same token again gets the same node. Throws `EnrolmentRefusal`.
    func redeemEnrolmentToken(_ token: String, venue: String, key: Curve25519.Signing.PublicKey, now: Date) throws
        -> EnrolledNode
}

/// What else both stores answer: the event, the nodes, the records, alarms and totals as an operator and the checks
/// read them back, tokens, the roster, the report and the dashboard, and the central office's acts (`withOffice`:
/// held-out decisions, suggestions, outside tallies, receipts), each written once for both.
public protocol AggregatorStore: IngestStore, ReportReads {
    func install(event: LoadedEvent, json: Data) throws
    func installedEvent() throws -> LoadedEvent?
    @discardableResult func enroll(venue: String, publicKeyBase64: String) throws -> EnrolledNode
    func revoke(nodeID: String, reason: String) throws
    func nodes() throws -> [EnrolledNode]
    func revokedNodeIDs() throws -> Set<String>
    func records(venue: String, from seq: Int64, limit: Int) throws -> [ChainedRecord]
    func alarms() throws -> [Alarm]
    func totals(eventID: String) throws -> Totals
    func formTotals() throws -> FormTotals
    /// Issues a one-time enrolment token for `venue`, valid for `validFor` seconds (shown once; only its hash is kept).
    func issueEnrolmentToken(venue: String, validFor: Int64, now: Date) throws -> String
    func enrolmentTokens() throws -> [AggregatorDatabase.EnrolmentTokenListing]
    /// Revokes an unused enrolment token by the id `aggregator nodes tokens` shows; its venue.
    @discardableResult func revokeEnrolmentToken(id: String, reason: String) throws -> String
    /// Creates a bearer token for `role` (a department's names its department); shown once, only its hash is kept.
    func addToken(name: String, role: Role, department: String?) throws -> String
    func hasTokens() throws -> Bool
    func check(bearerToken token: String) throws -> AggregatorDatabase.BearerCheck
    func department(ofToken token: String) throws -> String?
    func tokens() throws -> [AggregatorDatabase.TokenListing]
    func tokenID(of token: String) throws -> Int64?
    func revokeToken(id: Int64, reason: String) throws
    /// Whether the store answers and is migrated as this release expects (`/readyz`).
    func isReady() -> Bool
    /// Imports the central roster (ID-card numbers already turned into person keys), whole or not at all.
    func importRoster(_ entries: [RosterEntry], file: String, digest: String) throws
    /// Releases the results of a confidential event: from now on the dashboard and the API show them.
    func releaseResults(by name: String) throws
    /// Runs `body` with reads that all see one state of the store (the report, the dashboard).
    func withReportSnapshot<T>(_ body: (any ReportReads) throws -> T) throws -> T
    /// What the report is computed from, in one string: equal strings, equal inputs (but for the clock).
    func reportKey(event: LoadedEvent) throws -> String
    /// The last report built, reused while its inputs are unchanged (`cachedBuild`).
    var reports: ReportCache { get }
    /// Runs `body` in one transaction for the central office's acts (held-out decisions, suggestions, outside tallies,
    /// receipts): `writing`, and with `venue` as a merge of that venue does (one after the other), or reading.
    func withOffice<T>(writing: Bool, venue: String?, _ body: (Office) throws -> T) throws -> T
}

extension AggregatorDatabase: AggregatorStore {}
extension PostgresStore: AggregatorStore {}
