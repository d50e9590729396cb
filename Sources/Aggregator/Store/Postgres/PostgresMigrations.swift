import Foundation
import PostgresNIO

/// The PostgreSQL store's migrations, frozen as the SQLite ones are (`AggregatorDatabase.migrations`): each is a list
/// of plain SQL statements, applied in this order under its name and recorded in `schemaMigration`. A migration that
/// landed is never edited, renamed or removed; a change is a new migration at the end, and its line in
/// Tests/TallyTests/Fixtures/migrations/postgres.txt. The tables mirror the SQLite ones (same names and columns), with
/// PostgreSQL's types; append-only tables refuse UPDATE and DELETE by trigger.
enum PostgresMigrations {
    static let migrations: [(name: String, statements: [String])] = [
        (
            "v1: events, nodes, chains, totals, alarms, ledgers",
            [
                """
                CREATE FUNCTION refuse_change() RETURNS trigger LANGUAGE plpgsql AS $$
                BEGIN RAISE EXCEPTION '% is append-only', TG_TABLE_NAME; END $$
                """,
                """
                CREATE TABLE eventVersion (
                    id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
                    eventID TEXT NOT NULL,
                    digest TEXT NOT NULL,
                    json TEXT NOT NULL,
                    loadedAt TEXT NOT NULL
                )
                """,
                """
                CREATE TABLE node (
                    id TEXT PRIMARY KEY,
                    venue TEXT NOT NULL,
                    epoch BIGINT NOT NULL,
                    publicKey TEXT NOT NULL UNIQUE,
                    enrolledAt TEXT NOT NULL,
                    UNIQUE (venue, epoch)
                )
                """,
                """
                CREATE TABLE revocation (
                    nodeID TEXT PRIMARY KEY REFERENCES node(id),
                    reason TEXT NOT NULL,
                    revokedAt TEXT NOT NULL
                )
                """,
                """
                CREATE TABLE batch (
                    id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
                    venue TEXT NOT NULL,
                    nodeID TEXT NOT NULL REFERENCES node(id),
                    firstSeq BIGINT NOT NULL,
                    lastSeq BIGINT NOT NULL,
                    contentDigest TEXT NOT NULL,
                    signatureInput TEXT NOT NULL,
                    signature TEXT NOT NULL,
                    body BYTEA NOT NULL,
                    receivedAt TEXT NOT NULL
                )
                """,
                """
                CREATE TABLE record (
                    venue TEXT NOT NULL,
                    seq BIGINT NOT NULL,
                    prev TEXT NOT NULL,
                    hash TEXT NOT NULL,
                    kind TEXT NOT NULL,
                    payload TEXT NOT NULL,
                    nodeID TEXT NOT NULL REFERENCES node(id),
                    batchID BIGINT NOT NULL REFERENCES batch(id),
                    PRIMARY KEY (venue, seq)
                )
                """,
                "CREATE INDEX record_checkin ON record (venue, seq) WHERE kind = 'checkin'",
                "CREATE INDEX record_correction ON record (venue, seq) WHERE kind = 'correction'",
                "CREATE INDEX record_form ON record (venue, seq) WHERE kind = 'form'",
                """
                CREATE TABLE supersession (
                    venue TEXT NOT NULL,
                    target BIGINT NOT NULL,
                    bySeq BIGINT NOT NULL,
                    PRIMARY KEY (venue, target)
                )
                """,
                """
                CREATE TABLE alarm (
                    id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
                    kind TEXT NOT NULL,
                    venue TEXT,
                    nodeID TEXT,
                    seq BIGINT,
                    message TEXT NOT NULL,
                    evidence TEXT,
                    raisedAt TEXT NOT NULL
                )
                """,
                """
                CREATE TABLE tally (
                    venue TEXT NOT NULL, session TEXT NOT NULL, department TEXT NOT NULL, mark TEXT NOT NULL,
                    count BIGINT NOT NULL,
                    PRIMARY KEY (venue, session, department, mark)
                )
                """,
                """
                CREATE TABLE boxTally (
                    venue TEXT NOT NULL, session TEXT NOT NULL, box TEXT NOT NULL, department TEXT NOT NULL,
                    mark TEXT NOT NULL, count BIGINT NOT NULL,
                    PRIMARY KEY (venue, session, box, department, mark)
                )
                """,
                """
                CREATE TABLE attendance (
                    venue TEXT NOT NULL, session TEXT NOT NULL, category TEXT NOT NULL,
                    checkedIn BIGINT NOT NULL,
                    PRIMARY KEY (venue, session, category)
                )
                """,
                """
                CREATE TABLE boxTotal (
                    venue TEXT NOT NULL, session TEXT NOT NULL, box TEXT NOT NULL,
                    opened BIGINT NOT NULL DEFAULT 0, closed BIGINT NOT NULL DEFAULT 0,
                    issued BIGINT NOT NULL DEFAULT 0, returned BIGINT NOT NULL DEFAULT 0,
                    valid BIGINT NOT NULL DEFAULT 0, blank BIGINT NOT NULL DEFAULT 0, spoiled BIGINT NOT NULL DEFAULT 0,
                    PRIMARY KEY (venue, session, box)
                )
                """,
                """
                CREATE TABLE formTotal (
                    venue TEXT NOT NULL, session TEXT NOT NULL, box TEXT NOT NULL, form TEXT NOT NULL,
                    returned BIGINT NOT NULL DEFAULT 0, entered BIGINT NOT NULL DEFAULT 0,
                    PRIMARY KEY (venue, session, box, form)
                )
                """,
                """
                CREATE TABLE formAnswer (
                    venue TEXT NOT NULL, session TEXT NOT NULL, form TEXT NOT NULL, question TEXT NOT NULL,
                    option TEXT NOT NULL, count BIGINT NOT NULL,
                    PRIMARY KEY (venue, session, form, question, option)
                )
                """,
                """
                CREATE TABLE nodeContact (
                    nodeID TEXT PRIMARY KEY REFERENCES node(id),
                    lastContactAt TEXT NOT NULL,
                    declaredSeq BIGINT,
                    declaredHash TEXT,
                    pending BIGINT,
                    freeDiskBytes BIGINT,
                    version TEXT,
                    nodeClock TEXT
                )
                """,
                """
                CREATE TABLE heartbeatSeen (
                    nodeID TEXT NOT NULL REFERENCES node(id),
                    digest TEXT NOT NULL,
                    signedAt BIGINT NOT NULL,
                    PRIMARY KEY (nodeID, digest)
                )
                """,
                "CREATE INDEX heartbeatSeen_signedAt ON heartbeatSeen (signedAt)",
                """
                CREATE TABLE heldOut (
                    venue TEXT NOT NULL,
                    seq BIGINT NOT NULL,
                    rule TEXT NOT NULL,
                    message TEXT NOT NULL,
                    heldAt TEXT NOT NULL,
                    PRIMARY KEY (venue, seq)
                )
                """,
                """
                CREATE TABLE heldOutDecision (
                    id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
                    venue TEXT NOT NULL,
                    seq BIGINT NOT NULL,
                    decision TEXT NOT NULL CHECK (decision IN ('count', 'exclude')),
                    reason TEXT NOT NULL,
                    decidedBy TEXT NOT NULL,
                    decidedAt TEXT NOT NULL,
                    UNIQUE (venue, seq),
                    FOREIGN KEY (venue, seq) REFERENCES heldOut (venue, seq)
                )
                """,
                """
                CREATE VIEW heldOutNow AS
                    SELECT h.venue, h.seq FROM heldOut h
                    WHERE NOT EXISTS (SELECT 1 FROM heldOutDecision d
                                      WHERE d.venue = h.venue AND d.seq = h.seq AND d.decision = 'count')
                """,
                """
                CREATE TABLE ledgerEntry (
                    venue TEXT NOT NULL,
                    map TEXT NOT NULL,
                    key TEXT NOT NULL,
                    value TEXT NOT NULL,
                    PRIMARY KEY (venue, map, key)
                )
                """,
                """
                CREATE TABLE ledgerHead (
                    venue TEXT PRIMARY KEY,
                    seq BIGINT NOT NULL,
                    hash TEXT NOT NULL,
                    decisions BIGINT NOT NULL
                )
                """,
            ]
                + [
                    "eventVersion", "node", "revocation", "batch", "record", "supersession", "alarm", "heldOut",
                    "heldOutDecision",
                ].flatMap(appendOnly)
        ),
        // A token is used once: its use is a row keyed by the token, so a second use cannot be inserted, whichever
        // aggregator is asked.
        (
            "v2: enrolment tokens",
            [
                """
                CREATE TABLE enrolmentToken (
                    tokenHash TEXT PRIMARY KEY,
                    venue TEXT NOT NULL,
                    createdAt TEXT NOT NULL,
                    expiresAt BIGINT NOT NULL
                )
                """,
                """
                CREATE TABLE enrolmentUse (
                    tokenHash TEXT PRIMARY KEY REFERENCES enrolmentToken(tokenHash),
                    nodeID TEXT NOT NULL REFERENCES node(id),
                    usedAt TEXT NOT NULL
                )
                """,
                """
                CREATE TABLE enrolmentTokenRevocation (
                    tokenHash TEXT PRIMARY KEY REFERENCES enrolmentToken(tokenHash),
                    reason TEXT NOT NULL,
                    revokedAt TEXT NOT NULL
                )
                """,
            ]
                + ["enrolmentToken", "enrolmentUse", "enrolmentTokenRevocation"].flatMap(appendOnly)
        ),
        // Bearer tokens for people (observer, admin, a department's): only their SHA-256 is stored; a revocation is a
        // row of its own.
        (
            "v3: API tokens",
            [
                """
                CREATE TABLE apiToken (
                    id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
                    name TEXT NOT NULL,
                    role TEXT NOT NULL,
                    tokenHash TEXT NOT NULL UNIQUE,
                    createdAt TEXT NOT NULL,
                    department TEXT
                )
                """,
                """
                CREATE TABLE apiTokenRevocation (
                    tokenID BIGINT PRIMARY KEY REFERENCES apiToken(id),
                    reason TEXT NOT NULL,
                    revokedAt TEXT NOT NULL
                )
                """,
            ]
                + ["apiToken", "apiTokenRevocation"].flatMap(appendOnly)
        ),
        // The rate limit's buckets, shared by the aggregators (live state, not a record: unlogged, rows replaced).
        (
            "v4: rate limit buckets",
            [
                """
                CREATE UNLOGGED TABLE rateBucket (
                    client TEXT PRIMARY KEY,
                    tokens DOUBLE PRECISION NOT NULL,
                    updated TIMESTAMPTZ NOT NULL,
                    taken BOOLEAN NOT NULL
                )
                """
            ]
        ),
        // What the report reads besides the chains: the roster in force (every import kept, the newest in force; person
        // keys, never ID-card numbers), the release of a confidential event's results, and the signed tallies of
        // departments evaluated outside the sessions (a correction is a new entry replacing one); and the central
        // office's handling of suggestions, every step an appended event; phone ballots found without a scan (their
        // receipts are published on an open route).
        (
            "v5: roster, results release, outside tallies, suggestion handling, phone receipts",
            [
                """
                CREATE TABLE rosterImport (
                    id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
                    importedAt TEXT NOT NULL,
                    file TEXT NOT NULL,
                    digest TEXT NOT NULL,
                    entries BIGINT NOT NULL
                )
                """,
                """
                CREATE TABLE rosterEntry (
                    importID BIGINT NOT NULL REFERENCES rosterImport(id),
                    repID TEXT NOT NULL,
                    name TEXT NOT NULL,
                    personKey TEXT NOT NULL,
                    category TEXT NOT NULL,
                    venue TEXT NOT NULL,
                    sessions TEXT NOT NULL,
                    cardCode TEXT,
                    reserve BOOLEAN NOT NULL DEFAULT false,
                    PRIMARY KEY (importID, repID)
                )
                """,
                "CREATE INDEX rosterEntry_person ON rosterEntry (importID, personKey)",
                """
                CREATE TABLE resultsRelease (
                    id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
                    releasedAt TEXT NOT NULL,
                    releasedBy TEXT NOT NULL
                )
                """,
                """
                CREATE TABLE outsideTally (
                    id BIGINT PRIMARY KEY,
                    department TEXT NOT NULL,
                    entry TEXT NOT NULL,
                    signature TEXT NOT NULL,
                    publicKey TEXT NOT NULL,
                    replaces BIGINT UNIQUE REFERENCES outsideTally(id)
                )
                """,
                """
                CREATE TABLE suggestionEvent (
                    id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
                    venue TEXT NOT NULL,
                    seq BIGINT NOT NULL,
                    action TEXT NOT NULL
                        CHECK (action IN ('triage', 'answer', 'accept', 'return', 'feedback', 'outstanding')),
                    detail TEXT NOT NULL,
                    actor TEXT NOT NULL,
                    at TEXT NOT NULL,
                    FOREIGN KEY (venue, seq) REFERENCES record (venue, seq)
                )
                """,
                "CREATE INDEX suggestionEvent_item ON suggestionEvent (venue, seq, id)",
                #"CREATE INDEX record_phone_ballot ON record (venue, seq) WHERE kind = 'ballot' AND payload LIKE '%"nonce":"%'"#,
            ]
                + ["rosterImport", "rosterEntry", "resultsRelease", "outsideTally", "suggestionEvent"].flatMap(
                    appendOnly)
        ),
        // Append new migrations here, and their line to Tests/TallyTests/Fixtures/migrations/postgres.txt.
    ]

    /// The statements that make `table` append-only: UPDATE and DELETE refused row by row, TRUNCATE refused (a
    /// helper of the frozen list above: what it writes must never change).
    private static func appendOnly(_ table: String) -> [String] {
        [
            """
            CREATE TRIGGER \(table)_is_append_only BEFORE UPDATE OR DELETE ON \(table)
            FOR EACH ROW EXECUTE FUNCTION refuse_change()
            """,
            """
            CREATE TRIGGER \(table)_is_never_emptied BEFORE TRUNCATE ON \(table)
            FOR EACH STATEMENT EXECUTE FUNCTION refuse_change()
            """,
        ]
    }

    /// Brings the database up to date: the migrations it lacks, each in its own transaction, under a lock held for
    /// the whole run (two aggregators starting together migrate once). A database that knows a migration this
    /// release does not (migrated by a newer release) is refused.
    static func migrate(_ connections: PostgresConnections) throws {
        try connections.withSession { session in
            try session.execute("SELECT pg_advisory_lock(hashtextextended('sanmin-tally migrations', 0))")
            defer {
                _ = try? session.execute("SELECT pg_advisory_unlock(hashtextextended('sanmin-tally migrations', 0))")
            }
            try session.execute(
                "CREATE TABLE IF NOT EXISTS schemaMigration (name TEXT PRIMARY KEY, appliedAt TEXT NOT NULL)")
            let applied = Set(try session.column("SELECT name FROM schemaMigration", as: String.self))
            let known = Set(migrations.map(\.name))
            if let unknown = applied.subtracting(known).sorted().first {
                throw AggregatorError(
                    "the PostgreSQL database \(connections.location) was migrated by a newer release (it holds "
                        + "migration \"\(unknown)\"): run that release, or a newer one")
            }
            for migration in migrations where !applied.contains(migration.name) {
                try session.execute("BEGIN")
                do {
                    for statement in migration.statements {
                        try session.execute(PostgresQuery(unsafeSQL: statement))
                    }
                    try session.execute(
                        "INSERT INTO schemaMigration (name, appliedAt) VALUES (\(migration.name), \(AggregatorDatabase.timestamp()))"
                    )
                    try session.execute("COMMIT")
                } catch {
                    _ = try? session.execute("ROLLBACK")
                    throw error
                }
            }
        }
    }
}
