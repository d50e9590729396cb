import Foundation
import GRDB

/// The aggregator's migrations, frozen: each is plain SQL, registered in this order under its name (databases
/// in the field know a migration by its name). A migration that landed is never edited, renamed or removed:
/// a change is a new migration appended at the end. `MigrationHistoryTests` compares this list with
/// Tests/TallyTests/Fixtures/migrations/aggregator.txt (name and SHA-256 of the SQL of every landed migration),
/// and the upgrade tests open the data directories of every release (Tests/TallyTests/Fixtures/release-N).
/// No migration calls application code: what a migration does must not change when the code does.
extension AggregatorDatabase {
    static let migrations: [(name: String, sql: String)] = [
        (
            "v1: nodes, batches, records, totals, alarms",
            """
            CREATE TABLE eventVersion (
                id INTEGER PRIMARY KEY AUTOINCREMENT,
                eventID TEXT NOT NULL,
                digest TEXT NOT NULL,
                json TEXT NOT NULL,
                loadedAt TEXT NOT NULL
            );
            CREATE TABLE node (
                id TEXT PRIMARY KEY NOT NULL,
                venue TEXT NOT NULL,
                epoch INTEGER NOT NULL,
                publicKey TEXT NOT NULL UNIQUE,
                enrolledAt TEXT NOT NULL,
                UNIQUE (venue, epoch)
            );
            CREATE TABLE revocation (
                nodeID TEXT PRIMARY KEY NOT NULL REFERENCES node(id),
                reason TEXT NOT NULL,
                revokedAt TEXT NOT NULL
            );
            CREATE TABLE batch (
                id INTEGER PRIMARY KEY AUTOINCREMENT,
                venue TEXT NOT NULL,
                nodeID TEXT NOT NULL REFERENCES node(id),
                firstSeq INTEGER NOT NULL,
                lastSeq INTEGER NOT NULL,
                contentDigest TEXT NOT NULL,
                signatureInput TEXT NOT NULL,
                signature TEXT NOT NULL,
                body BLOB NOT NULL,
                receivedAt TEXT NOT NULL
            );
            CREATE TABLE record (
                venue TEXT NOT NULL,
                seq INTEGER NOT NULL,
                prev TEXT NOT NULL,
                hash TEXT NOT NULL,
                kind TEXT NOT NULL,
                payload TEXT NOT NULL,
                nodeID TEXT NOT NULL REFERENCES node(id),
                batchID INTEGER NOT NULL REFERENCES batch(id),
                PRIMARY KEY (venue, seq)
            ) WITHOUT ROWID;
            CREATE TABLE supersession (
                venue TEXT NOT NULL,
                target INTEGER NOT NULL,
                bySeq INTEGER NOT NULL,
                PRIMARY KEY (venue, target)
            ) WITHOUT ROWID;
            CREATE TABLE alarm (
                id INTEGER PRIMARY KEY AUTOINCREMENT,
                kind TEXT NOT NULL,
                venue TEXT,
                nodeID TEXT,
                seq INTEGER,
                message TEXT NOT NULL,
                evidence TEXT,
                raisedAt TEXT NOT NULL
            );
            CREATE TABLE tally (
                venue TEXT NOT NULL, session TEXT NOT NULL, department TEXT NOT NULL, mark TEXT NOT NULL,
                count INTEGER NOT NULL,
                PRIMARY KEY (venue, session, department, mark)
            ) WITHOUT ROWID;
            CREATE TABLE attendance (
                venue TEXT NOT NULL, session TEXT NOT NULL, category TEXT NOT NULL,
                checkedIn INTEGER NOT NULL,
                PRIMARY KEY (venue, session, category)
            ) WITHOUT ROWID;
            CREATE TABLE boxTotal (
                venue TEXT NOT NULL, session TEXT NOT NULL, box TEXT NOT NULL,
                opened INTEGER NOT NULL DEFAULT 0, closed INTEGER NOT NULL DEFAULT 0,
                issued INTEGER NOT NULL DEFAULT 0, returned INTEGER NOT NULL DEFAULT 0,
                valid INTEGER NOT NULL DEFAULT 0, blank INTEGER NOT NULL DEFAULT 0, spoiled INTEGER NOT NULL DEFAULT 0,
                PRIMARY KEY (venue, session, box)
            ) WITHOUT ROWID;
            CREATE TRIGGER eventVersion_is_append_only_update BEFORE UPDATE ON eventVersion
            BEGIN SELECT RAISE(ABORT, 'eventVersion is append-only'); END;
            CREATE TRIGGER eventVersion_is_append_only_delete BEFORE DELETE ON eventVersion
            BEGIN SELECT RAISE(ABORT, 'eventVersion is append-only'); END;
            CREATE TRIGGER node_is_append_only_update BEFORE UPDATE ON node
            BEGIN SELECT RAISE(ABORT, 'node is append-only'); END;
            CREATE TRIGGER node_is_append_only_delete BEFORE DELETE ON node
            BEGIN SELECT RAISE(ABORT, 'node is append-only'); END;
            CREATE TRIGGER revocation_is_append_only_update BEFORE UPDATE ON revocation
            BEGIN SELECT RAISE(ABORT, 'revocation is append-only'); END;
            CREATE TRIGGER revocation_is_append_only_delete BEFORE DELETE ON revocation
            BEGIN SELECT RAISE(ABORT, 'revocation is append-only'); END;
            CREATE TRIGGER batch_is_append_only_update BEFORE UPDATE ON batch
            BEGIN SELECT RAISE(ABORT, 'batch is append-only'); END;
            CREATE TRIGGER batch_is_append_only_delete BEFORE DELETE ON batch
            BEGIN SELECT RAISE(ABORT, 'batch is append-only'); END;
            CREATE TRIGGER record_is_append_only_update BEFORE UPDATE ON record
            BEGIN SELECT RAISE(ABORT, 'record is append-only'); END;
            CREATE TRIGGER record_is_append_only_delete BEFORE DELETE ON record
            BEGIN SELECT RAISE(ABORT, 'record is append-only'); END;
            CREATE TRIGGER supersession_is_append_only_update BEFORE UPDATE ON supersession
            BEGIN SELECT RAISE(ABORT, 'supersession is append-only'); END;
            CREATE TRIGGER supersession_is_append_only_delete BEFORE DELETE ON supersession
            BEGIN SELECT RAISE(ABORT, 'supersession is append-only'); END;
            CREATE TRIGGER alarm_is_append_only_update BEFORE UPDATE ON alarm
            BEGIN SELECT RAISE(ABORT, 'alarm is append-only'); END;
            CREATE TRIGGER alarm_is_append_only_delete BEFORE DELETE ON alarm
            BEGIN SELECT RAISE(ABORT, 'alarm is append-only'); END;
            """
        ),
        // The roster tables (the same in the node's database), and what each node last said about itself (a
        // status, replaced at each contact; not a record).
        (
            "v2: roster and node contact",
            """
            CREATE TABLE rosterImport (
                id INTEGER PRIMARY KEY AUTOINCREMENT,
                importedAt TEXT NOT NULL,
                file TEXT NOT NULL,
                digest TEXT NOT NULL,
                entries INTEGER NOT NULL
            );
            CREATE TABLE rosterEntry (
                importID INTEGER NOT NULL REFERENCES rosterImport(id),
                repID TEXT NOT NULL,
                name TEXT NOT NULL,
                personKey TEXT NOT NULL,
                category TEXT NOT NULL,
                venue TEXT NOT NULL,
                sessions TEXT NOT NULL,
                cardCode TEXT,
                PRIMARY KEY (importID, repID)
            );
            CREATE INDEX rosterEntry_person ON rosterEntry(importID, personKey);
            CREATE INDEX rosterEntry_card ON rosterEntry(importID, cardCode);
            CREATE TRIGGER rosterImport_is_append_only_update BEFORE UPDATE ON rosterImport
            BEGIN SELECT RAISE(ABORT, 'rosterImport is append-only: import a new roster instead'); END;
            CREATE TRIGGER rosterImport_is_append_only_delete BEFORE DELETE ON rosterImport
            BEGIN SELECT RAISE(ABORT, 'rosterImport is append-only: import a new roster instead'); END;
            CREATE TRIGGER rosterEntry_is_append_only_update BEFORE UPDATE ON rosterEntry
            BEGIN SELECT RAISE(ABORT, 'rosterEntry is append-only: import a new roster instead'); END;
            CREATE TRIGGER rosterEntry_is_append_only_delete BEFORE DELETE ON rosterEntry
            BEGIN SELECT RAISE(ABORT, 'rosterEntry is append-only: import a new roster instead'); END;
            CREATE TABLE nodeContact (
                nodeID TEXT PRIMARY KEY NOT NULL REFERENCES node(id),
                lastContactAt TEXT NOT NULL,
                declaredSeq INTEGER,
                declaredHash TEXT,
                pending INTEGER,
                freeDiskBytes INTEGER,
                version TEXT,
                nodeClock TEXT
            );
            """
        ),
        // Records merged before this migration get their marks per box from the records in effect: every ballot
        // not superseded, and the replacement ballot of every correction not superseded; one row per venue,
        // session, box, department and mark (the marks of a ballot are the object `marks`, department → mark).
        (
            "v3: marks per box",
            """
            CREATE TABLE boxTally (
                venue TEXT NOT NULL, session TEXT NOT NULL, box TEXT NOT NULL, department TEXT NOT NULL,
                mark TEXT NOT NULL, count INTEGER NOT NULL,
                PRIMARY KEY (venue, session, box, department, mark)
            ) WITHOUT ROWID;
            WITH effective (venue, ballot) AS (
                SELECT r.venue,
                       CASE r.kind WHEN 'ballot' THEN r.payload ELSE json_extract(r.payload, '$.replacement') END
                FROM record r
                WHERE (r.kind = 'ballot'
                       OR (r.kind = 'correction' AND json_extract(r.payload, '$.replacement.kind') = 'ballot'))
                  AND NOT EXISTS (SELECT 1 FROM supersession s WHERE s.venue = r.venue AND s.target = r.seq)
            )
            INSERT INTO boxTally (venue, session, box, department, mark, count)
            SELECT e.venue, json_extract(e.ballot, '$.session'), json_extract(e.ballot, '$.box'), m.key, m.value,
                   COUNT(*)
            FROM effective e, json_each(e.ballot, '$.marks') m
            GROUP BY 1, 2, 3, 4, 5;
            """
        ),
        (
            "v4: results release",
            """
            CREATE TABLE resultsRelease (
                id INTEGER PRIMARY KEY AUTOINCREMENT,
                releasedAt TEXT NOT NULL,
                releasedBy TEXT NOT NULL
            );
            CREATE TRIGGER resultsRelease_is_append_only_update BEFORE UPDATE ON resultsRelease
            BEGIN SELECT RAISE(ABORT, 'resultsRelease is append-only'); END;
            CREATE TRIGGER resultsRelease_is_append_only_delete BEFORE DELETE ON resultsRelease
            BEGIN SELECT RAISE(ABORT, 'resultsRelease is append-only'); END;
            """
        ),
        (
            "v5: API tokens",
            """
            CREATE TABLE apiToken (
                id INTEGER PRIMARY KEY AUTOINCREMENT,
                name TEXT NOT NULL,
                role TEXT NOT NULL,
                tokenHash TEXT NOT NULL UNIQUE,
                createdAt TEXT NOT NULL
            );
            """
        ),
        // A token is used once: its use is a row keyed by the token, so a second use cannot be inserted.
        (
            "v6: enrolment tokens",
            """
            CREATE TABLE enrolmentToken (
                tokenHash TEXT PRIMARY KEY,
                venue TEXT NOT NULL,
                createdAt TEXT NOT NULL,
                expiresAt INTEGER NOT NULL
            );
            CREATE TABLE enrolmentUse (
                tokenHash TEXT PRIMARY KEY REFERENCES enrolmentToken(tokenHash),
                nodeID TEXT NOT NULL REFERENCES node(id),
                usedAt TEXT NOT NULL
            );
            CREATE TRIGGER enrolmentToken_is_append_only_update BEFORE UPDATE ON enrolmentToken
            BEGIN SELECT RAISE(ABORT, 'enrolmentToken is append-only'); END;
            CREATE TRIGGER enrolmentToken_is_append_only_delete BEFORE DELETE ON enrolmentToken
            BEGIN SELECT RAISE(ABORT, 'enrolmentToken is append-only'); END;
            CREATE TRIGGER enrolmentUse_is_append_only_update BEFORE UPDATE ON enrolmentUse
            BEGIN SELECT RAISE(ABORT, 'enrolmentUse is append-only'); END;
            CREATE TRIGGER enrolmentUse_is_append_only_delete BEFORE DELETE ON enrolmentUse
            BEGIN SELECT RAISE(ABORT, 'enrolmentUse is append-only'); END;
            """
        ),
        // A replay cache, not a record: the digest of each heartbeat accepted from a node while its signature is
        // still valid. The same heartbeat again is a replay; rows older than the signature window are dropped
        // (such a heartbeat is refused as stale anyway).
        (
            "v7: heartbeats seen",
            """
            CREATE TABLE heartbeatSeen (
                nodeID TEXT NOT NULL REFERENCES node(id),
                digest TEXT NOT NULL,
                signedAt INTEGER NOT NULL,
                PRIMARY KEY (nodeID, digest)
            ) WITHOUT ROWID;
            CREATE INDEX heartbeatSeen_signedAt ON heartbeatSeen (signedAt);
            """
        ),
        // A bearer token or an unused enrolment token taken back: a row per revocation, never changed.
        (
            "v8: token revocations",
            """
            CREATE TABLE apiTokenRevocation (
                tokenID INTEGER PRIMARY KEY REFERENCES apiToken(id),
                reason TEXT NOT NULL,
                revokedAt TEXT NOT NULL
            );
            CREATE TABLE enrolmentTokenRevocation (
                tokenHash TEXT PRIMARY KEY REFERENCES enrolmentToken(tokenHash),
                reason TEXT NOT NULL,
                revokedAt TEXT NOT NULL
            );
            CREATE TRIGGER apiTokenRevocation_is_append_only_update BEFORE UPDATE ON apiTokenRevocation
            BEGIN SELECT RAISE(ABORT, 'apiTokenRevocation is append-only'); END;
            CREATE TRIGGER apiTokenRevocation_is_append_only_delete BEFORE DELETE ON apiTokenRevocation
            BEGIN SELECT RAISE(ABORT, 'apiTokenRevocation is append-only'); END;
            CREATE TRIGGER enrolmentTokenRevocation_is_append_only_update BEFORE UPDATE ON enrolmentTokenRevocation
            BEGIN SELECT RAISE(ABORT, 'enrolmentTokenRevocation is append-only'); END;
            CREATE TRIGGER enrolmentTokenRevocation_is_append_only_delete BEFORE DELETE ON enrolmentTokenRevocation
            BEGIN SELECT RAISE(ABORT, 'enrolmentTokenRevocation is append-only'); END;
            """
        ),
        // A record an older release wrote that breaks a rule the aggregator now enforces: kept in the chain (its
        // hash holds the chain together) but left out of the totals until an admin decides.
        (
            "v9: records held out of the totals",
            """
            CREATE TABLE heldOut (
                venue TEXT NOT NULL,
                seq INTEGER NOT NULL,
                rule TEXT NOT NULL,
                message TEXT NOT NULL,
                heldAt TEXT NOT NULL,
                PRIMARY KEY (venue, seq)
            ) WITHOUT ROWID;
            CREATE TABLE heldOutDecision (
                id INTEGER PRIMARY KEY AUTOINCREMENT,
                venue TEXT NOT NULL,
                seq INTEGER NOT NULL,
                decision TEXT NOT NULL CHECK (decision IN ('count', 'exclude')),
                reason TEXT NOT NULL,
                decidedBy TEXT NOT NULL,
                decidedAt TEXT NOT NULL,
                UNIQUE (venue, seq),
                FOREIGN KEY (venue, seq) REFERENCES heldOut (venue, seq)
            );
            -- Held out and not (yet) decided to count.
            CREATE VIEW heldOutNow AS
                SELECT h.venue, h.seq FROM heldOut h
                WHERE NOT EXISTS (SELECT 1 FROM heldOutDecision d
                                  WHERE d.venue = h.venue AND d.seq = h.seq AND d.decision = 'count');
            CREATE TRIGGER heldOut_is_append_only_update BEFORE UPDATE ON heldOut
            BEGIN SELECT RAISE(ABORT, 'heldOut is append-only'); END;
            CREATE TRIGGER heldOut_is_append_only_delete BEFORE DELETE ON heldOut
            BEGIN SELECT RAISE(ABORT, 'heldOut is append-only'); END;
            CREATE TRIGGER heldOutDecision_is_append_only_update BEFORE UPDATE ON heldOutDecision
            BEGIN SELECT RAISE(ABORT, 'heldOutDecision is append-only'); END;
            CREATE TRIGGER heldOutDecision_is_append_only_delete BEFORE DELETE ON heldOutDecision
            BEGIN SELECT RAISE(ABORT, 'heldOutDecision is append-only'); END;
            """
        ),
        // Partial indexes: the reconciliation reads check-ins and corrections, a small part of the records, and
        // ballots (most of them) pay nothing for these at insert.
        (
            "v10: check-ins and corrections found without a scan",
            """
            CREATE INDEX record_checkin ON record (venue, seq) WHERE kind = 'checkin';
            CREATE INDEX record_correction ON record (venue, seq) WHERE kind = 'correction';
            """
        ),
        // Phone ballots (issue #16) are found without a scan, for the published list of their receipts.
        (
            "v11: phone ballots found without a scan",
            """
            CREATE INDEX record_phone_ballot ON record (venue, seq) WHERE kind = 'ballot' AND payload LIKE '%"nonce":"%';
            """
        ),
        // Reserves on the roster (issue #18): they take an absentee's place, only while one is open.
        (
            "v12: roster reserves",
            """
            ALTER TABLE rosterEntry ADD COLUMN reserve INTEGER NOT NULL DEFAULT 0;
            """
        ),
        // Tallies of departments evaluated outside the sessions (issue #18), entered at the central office: each entry
        // attributed and signed with the aggregator's key; a correction is a new entry that replaces one.
        (
            "v13: tallies entered for departments evaluated outside the sessions",
            """
            CREATE TABLE outsideTally (
                id INTEGER PRIMARY KEY,
                department TEXT NOT NULL,
                entry TEXT NOT NULL,
                signature TEXT NOT NULL,
                publicKey TEXT NOT NULL,
                replaces INTEGER REFERENCES outsideTally(id)
            );
            CREATE UNIQUE INDEX outsideTally_replaces ON outsideTally (replaces);
            CREATE TRIGGER outsideTally_is_append_only_update BEFORE UPDATE ON outsideTally
            BEGIN SELECT RAISE(ABORT, 'outsideTally is append-only: enter a replacement instead'); END;
            CREATE TRIGGER outsideTally_is_append_only_delete BEFORE DELETE ON outsideTally
            BEGIN SELECT RAISE(ABORT, 'outsideTally is append-only: enter a replacement instead'); END;
            """
        ),
        // Each venue's ledger, kept as it stands after the venue's last record (issue #12), as the node keeps its own
        // (node migration v5): a merge loads only the entries its records touch and writes back what changed, so the
        // aggregator's memory does not grow with the representatives. Derived from the records, not records: rows are
        // replaced as the ledger changes, and a venue's rows are rebuilt from its records whenever `ledgerHead` is not
        // its chain's head or the number of held-out decisions changed. The records' contents are not copied here:
        // a correction's target is read from the records.
        (
            "v14: venue ledgers in tables",
            """
            CREATE TABLE ledgerEntry (
                venue TEXT NOT NULL,
                map TEXT NOT NULL,
                key TEXT NOT NULL,
                value TEXT NOT NULL,
                PRIMARY KEY (venue, map, key)
            ) WITHOUT ROWID;
            CREATE TABLE ledgerHead (
                venue TEXT PRIMARY KEY NOT NULL,
                seq INTEGER NOT NULL,
                hash TEXT NOT NULL,
                decisions INTEGER NOT NULL
            ) WITHOUT ROWID;
            """
        ),
        // The forms other than the ballot (issue #17, payload version 5): per box and kind of form, how many its closing
        // says it returned and how many were entered; per survey question, how many gave each answer. Kept by the
        // merge in the same transaction as the records, as the other totals.
        (
            "v15: form totals",
            """
            CREATE TABLE formTotal (
                venue TEXT NOT NULL,
                session TEXT NOT NULL,
                box TEXT NOT NULL,
                form TEXT NOT NULL,
                returned INTEGER NOT NULL DEFAULT 0,
                entered INTEGER NOT NULL DEFAULT 0,
                PRIMARY KEY (venue, session, box, form)
            ) WITHOUT ROWID;
            CREATE TABLE formAnswer (
                venue TEXT NOT NULL,
                session TEXT NOT NULL,
                form TEXT NOT NULL,
                question TEXT NOT NULL,
                option TEXT NOT NULL,
                count INTEGER NOT NULL,
                PRIMARY KEY (venue, session, form, question, option)
            ) WITHOUT ROWID;
            CREATE INDEX record_form ON record (venue, seq) WHERE kind = 'form';
            """
        ),
        // The central office's handling of suggestions (issue #17): every step an appended event (who, when, what),
        // nothing edited in place; a department's token is bound to its department.
        (
            "v16: suggestion handling and department tokens",
            """
            ALTER TABLE apiToken ADD COLUMN department TEXT;
            CREATE TABLE suggestionEvent (
                id INTEGER PRIMARY KEY AUTOINCREMENT,
                venue TEXT NOT NULL,
                seq INTEGER NOT NULL,
                action TEXT NOT NULL CHECK (action IN ('triage', 'answer', 'accept', 'return', 'feedback', 'outstanding')),
                detail TEXT NOT NULL,
                actor TEXT NOT NULL,
                at TEXT NOT NULL,
                FOREIGN KEY (venue, seq) REFERENCES record (venue, seq)
            );
            CREATE INDEX suggestionEvent_item ON suggestionEvent (venue, seq, id);
            CREATE TRIGGER suggestionEvent_is_append_only_update BEFORE UPDATE ON suggestionEvent
            BEGIN SELECT RAISE(ABORT, 'suggestionEvent is append-only'); END;
            CREATE TRIGGER suggestionEvent_is_append_only_delete BEFORE DELETE ON suggestionEvent
            BEGIN SELECT RAISE(ABORT, 'suggestionEvent is append-only'); END;
            """
        ),
        // Append new migrations here, and their line to Tests/TallyTests/Fixtures/migrations/aggregator.txt.
    ]

    static var migrator: DatabaseMigrator {
        var migrator = DatabaseMigrator()
        for (name, sql) in migrations {
            migrator.registerMigration(name) { db in try db.execute(sql: sql) }
        }
        return migrator
    }
}
