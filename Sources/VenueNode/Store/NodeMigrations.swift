import Foundation
import GRDB

/// The venue node's migrations, frozen: each is plain SQL, registered in this order under its name (nodes in the
/// field know a migration by its name). A migration that landed is never edited, renamed or removed: a change is
/// a new migration appended at the end. `MigrationHistoryTests` compares this list with
/// Tests/TallyTests/Fixtures/migrations/node.txt (name and SHA-256 of the SQL of every landed migration), and the
/// upgrade tests open the data directories of every release (Tests/TallyTests/Fixtures/release-N).
/// No migration calls application code: what a migration does must not change when the code does.
extension NodeDatabase {
    static let migrations: [(name: String, sql: String)] = [
        (
            "v1: record chain and sync log",
            """
            CREATE TABLE record (
                seq INTEGER PRIMARY KEY NOT NULL CHECK (seq >= 1),
                prev TEXT NOT NULL,
                hash TEXT NOT NULL UNIQUE,
                kind TEXT NOT NULL,
                payload TEXT NOT NULL,
                savedAt TEXT NOT NULL
            );
            CREATE TRIGGER record_is_append_only_update BEFORE UPDATE ON record
            BEGIN SELECT RAISE(ABORT, 'records are append-only: add a correction instead'); END;
            CREATE TRIGGER record_is_append_only_delete BEFORE DELETE ON record
            BEGIN SELECT RAISE(ABORT, 'records are append-only: add a correction instead'); END;
            CREATE TABLE syncAttempt (
                id INTEGER PRIMARY KEY AUTOINCREMENT,
                at TEXT NOT NULL,
                ok INTEGER NOT NULL,
                ackedSeq INTEGER,
                ackedHash TEXT,
                message TEXT
            );
            """
        ),
        // The roster tables (the same in the aggregator's database). Each import is kept; the latest is in force.
        (
            "v2: roster",
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
            """
        ),
        (
            "v3: receipts",
            """
            CREATE TABLE receipt (
                id INTEGER PRIMARY KEY AUTOINCREMENT,
                venue TEXT NOT NULL,
                node TEXT NOT NULL,
                firstSeq INTEGER NOT NULL,
                lastSeq INTEGER NOT NULL,
                lastHash TEXT NOT NULL,
                signature TEXT NOT NULL,
                receivedAt TEXT NOT NULL
            );
            CREATE TRIGGER receipt_is_append_only_update BEFORE UPDATE ON receipt
            BEGIN SELECT RAISE(ABORT, 'receipts are append-only'); END;
            CREATE TRIGGER receipt_is_append_only_delete BEFORE DELETE ON receipt
            BEGIN SELECT RAISE(ABORT, 'receipts are append-only'); END;
            """
        ),
        (
            "v4: imported files",
            """
            CREATE TABLE importedFile (
                id INTEGER PRIMARY KEY AUTOINCREMENT,
                digest TEXT NOT NULL,
                file TEXT NOT NULL,
                firstSeq INTEGER NOT NULL,
                lastSeq INTEGER NOT NULL,
                importedAt TEXT NOT NULL
            );
            CREATE INDEX importedFile_digest ON importedFile(digest);
            """
        ),
        // The ledger the rules judge by, kept as it stands after the last record (derived from the records, rebuilt
        // from them whenever `ledgerHead` is not the chain's head), so a write costs the same on a node of 10^5
        // records as on an empty one. Not records: rows here are replaced as the ledger changes.
        (
            "v5: ledger tables",
            """
            CREATE TABLE ledgerEntry (
                map TEXT NOT NULL,
                key TEXT NOT NULL,
                value TEXT NOT NULL,
                PRIMARY KEY (map, key)
            ) WITHOUT ROWID;
            CREATE TABLE ledgerHead (
                id INTEGER PRIMARY KEY CHECK (id = 1),
                seq INTEGER NOT NULL,
                hash TEXT NOT NULL
            );
            CREATE TABLE ledgerCount (
                name TEXT PRIMARY KEY NOT NULL,
                value INTEGER NOT NULL
            ) WITHOUT ROWID;
            """
        ),
        // The desk's clerks (issue #14): who they are and their one-time sign-in codes are facts, append-only; a code
        // is used once (its use is a row keyed by the code's hash, so a second use cannot be inserted). Only hashes of
        // codes and session tokens are stored. Sessions are state, not records: rows go on sign-out, revocation and
        // expiry. expiresAt: Unix seconds.
        (
            "v6: clerks",
            """
            CREATE TABLE clerk (
                id INTEGER PRIMARY KEY AUTOINCREMENT,
                name TEXT NOT NULL,
                role TEXT NOT NULL CHECK (role IN ('desk', 'count', 'lead')),
                createdAt TEXT NOT NULL
            );
            CREATE TABLE clerkRevocation (
                clerkID INTEGER PRIMARY KEY REFERENCES clerk(id),
                reason TEXT NOT NULL,
                revokedAt TEXT NOT NULL
            );
            CREATE TABLE signInCode (
                codeHash TEXT PRIMARY KEY NOT NULL,
                clerkID INTEGER NOT NULL REFERENCES clerk(id),
                createdAt TEXT NOT NULL,
                expiresAt INTEGER NOT NULL
            );
            CREATE INDEX signInCode_clerk ON signInCode(clerkID);
            CREATE TABLE signInCodeUse (
                codeHash TEXT PRIMARY KEY NOT NULL REFERENCES signInCode(codeHash),
                usedAt TEXT NOT NULL
            );
            CREATE TABLE deskSession (
                tokenHash TEXT PRIMARY KEY NOT NULL,
                clerkID INTEGER NOT NULL REFERENCES clerk(id),
                csrfToken TEXT NOT NULL,
                createdAt TEXT NOT NULL,
                expiresAt INTEGER NOT NULL
            );
            CREATE INDEX deskSession_clerk ON deskSession(clerkID);
            CREATE TRIGGER clerk_is_append_only_update BEFORE UPDATE ON clerk
            BEGIN SELECT RAISE(ABORT, 'clerk is append-only: revoke the clerk and add a new one'); END;
            CREATE TRIGGER clerk_is_append_only_delete BEFORE DELETE ON clerk
            BEGIN SELECT RAISE(ABORT, 'clerk is append-only: revoke the clerk and add a new one'); END;
            CREATE TRIGGER clerkRevocation_is_append_only_update BEFORE UPDATE ON clerkRevocation
            BEGIN SELECT RAISE(ABORT, 'clerkRevocation is append-only'); END;
            CREATE TRIGGER clerkRevocation_is_append_only_delete BEFORE DELETE ON clerkRevocation
            BEGIN SELECT RAISE(ABORT, 'clerkRevocation is append-only'); END;
            CREATE TRIGGER signInCode_is_append_only_update BEFORE UPDATE ON signInCode
            BEGIN SELECT RAISE(ABORT, 'signInCode is append-only'); END;
            CREATE TRIGGER signInCode_is_append_only_delete BEFORE DELETE ON signInCode
            BEGIN SELECT RAISE(ABORT, 'signInCode is append-only'); END;
            CREATE TRIGGER signInCodeUse_is_append_only_update BEFORE UPDATE ON signInCodeUse
            BEGIN SELECT RAISE(ABORT, 'signInCodeUse is append-only'); END;
            CREATE TRIGGER signInCodeUse_is_append_only_delete BEFORE DELETE ON signInCodeUse
            BEGIN SELECT RAISE(ABORT, 'signInCodeUse is append-only'); END;
            """
        ),
        (
            // The desk's double keying of paper ballots (issue #14): every pass a clerk keyed, and each paper that
            // became a ballot record. Kept durably, never synced, never changed. The ledger tables are rebuilt at
            // the next write, to count check-ins per category as well.
            "v7: keyed passes",
            """
            CREATE TABLE keyedPass (
                id INTEGER PRIMARY KEY AUTOINCREMENT,
                session TEXT NOT NULL,
                box TEXT NOT NULL,
                paper INTEGER NOT NULL,
                clerkID INTEGER NOT NULL REFERENCES clerk(id),
                status TEXT NOT NULL,
                marks TEXT NOT NULL,
                keyedAt TEXT NOT NULL,
                UNIQUE (session, box, paper, clerkID)
            );
            CREATE TABLE keyedPaper (
                session TEXT NOT NULL,
                box TEXT NOT NULL,
                paper INTEGER NOT NULL,
                ballotSeq INTEGER NOT NULL,
                leadID INTEGER REFERENCES clerk(id),
                decidedAt TEXT NOT NULL,
                PRIMARY KEY (session, box, paper)
            );
            CREATE TRIGGER keyedPass_is_append_only_update BEFORE UPDATE ON keyedPass
            BEGIN SELECT RAISE(ABORT, 'keyedPass is append-only'); END;
            CREATE TRIGGER keyedPass_is_append_only_delete BEFORE DELETE ON keyedPass
            BEGIN SELECT RAISE(ABORT, 'keyedPass is append-only'); END;
            CREATE TRIGGER keyedPaper_is_append_only_update BEFORE UPDATE ON keyedPaper
            BEGIN SELECT RAISE(ABORT, 'keyedPaper is append-only'); END;
            CREATE TRIGGER keyedPaper_is_append_only_delete BEFORE DELETE ON keyedPaper
            BEGIN SELECT RAISE(ABORT, 'keyedPaper is append-only'); END;
            DELETE FROM ledgerHead;
            """
        ),
        (
            // Phone voting (issue #16): the sheets of one-time voting codes printed for a box (only each code's
            // hash is kept), and the ballots cast with them, sealed until the box closes. A sealed ballot's key is
            // its code's hash, so a code casts one ballot, in the same transaction that keeps it; the tables hold
            // no time and no row order (WITHOUT ROWID, keyed by random values), and nothing that names a person.
            // Never synced, never changed.
            "v8: phone voting",
            """
            CREATE TABLE votingSheet (
                id INTEGER PRIMARY KEY AUTOINCREMENT,
                session TEXT NOT NULL,
                box TEXT NOT NULL,
                codes INTEGER NOT NULL CHECK (codes > 0),
                url TEXT NOT NULL,
                printedAt TEXT NOT NULL
            );
            CREATE INDEX votingSheet_box ON votingSheet (session, box);
            CREATE TABLE votingCode (
                hash TEXT PRIMARY KEY,
                sheet INTEGER NOT NULL REFERENCES votingSheet(id),
                session TEXT NOT NULL,
                box TEXT NOT NULL
            ) WITHOUT ROWID;
            CREATE TABLE sealedBallot (
                codeHash TEXT PRIMARY KEY REFERENCES votingCode(hash),
                session TEXT NOT NULL,
                box TEXT NOT NULL,
                payload TEXT NOT NULL,
                receipt TEXT NOT NULL,
                submission TEXT NOT NULL
            ) WITHOUT ROWID;
            CREATE INDEX sealedBallot_box ON sealedBallot (session, box);
            CREATE TRIGGER votingSheet_is_append_only_update BEFORE UPDATE ON votingSheet
            BEGIN SELECT RAISE(ABORT, 'votingSheet is append-only'); END;
            CREATE TRIGGER votingSheet_is_append_only_delete BEFORE DELETE ON votingSheet
            BEGIN SELECT RAISE(ABORT, 'votingSheet is append-only'); END;
            CREATE TRIGGER votingCode_is_append_only_update BEFORE UPDATE ON votingCode
            BEGIN SELECT RAISE(ABORT, 'votingCode is append-only'); END;
            CREATE TRIGGER votingCode_is_append_only_delete BEFORE DELETE ON votingCode
            BEGIN SELECT RAISE(ABORT, 'votingCode is append-only'); END;
            CREATE TRIGGER sealedBallot_is_append_only_update BEFORE UPDATE ON sealedBallot
            BEGIN SELECT RAISE(ABORT, 'sealedBallot is append-only'); END;
            CREATE TRIGGER sealedBallot_is_append_only_delete BEFORE DELETE ON sealedBallot
            BEGIN SELECT RAISE(ABORT, 'sealedBallot is append-only'); END;
            """
        ),
        // Reserves on the roster (issue #18): they take an absentee's place, only while one is open.
        (
            "v9: roster reserves",
            """
            ALTER TABLE rosterEntry ADD COLUMN reserve INTEGER NOT NULL DEFAULT 0;
            """
        ),
        // A standby on the venue's LAN (issue #15): the primary's allowed standby keys and how far each has copied; the
        // standby's role (following a primary, then promoted), append-only.
        (
            "v10: standby",
            """
            CREATE TABLE standbyKey (
                nodeID TEXT PRIMARY KEY,
                publicKey TEXT NOT NULL,
                addedAt TEXT NOT NULL
            );
            CREATE TABLE standbyContact (
                nodeID TEXT PRIMARY KEY,
                heldSeq INTEGER NOT NULL,
                heldHash TEXT NOT NULL,
                lastAt TEXT NOT NULL
            );
            CREATE TABLE standbyRole (
                id INTEGER PRIMARY KEY,
                role TEXT NOT NULL CHECK (role IN ('following', 'promoted')),
                primaryURL TEXT,
                primaryKey TEXT,
                at TEXT NOT NULL
            );
            CREATE TRIGGER standbyRole_is_append_only_update BEFORE UPDATE ON standbyRole
            BEGIN SELECT RAISE(ABORT, 'standbyRole is append-only'); END;
            CREATE TRIGGER standbyRole_is_append_only_delete BEFORE DELETE ON standbyRole
            BEGIN SELECT RAISE(ABORT, 'standbyRole is append-only'); END;
            """
        ),
        // The other forms on phones (issue #17): a survey, a discipline survey or a suggestion sent with a voting code,
        // sealed like a ballot until its box closes. Two tables with nothing to join them: `phoneFormUse` says that a
        // code sent a form of a kind (keyed by a hash of the kind and the code: one of each kind per code), and
        // `sealedForm` holds the form under a random id. So even the slip's code does not lead to a form (a
        // suggestion's contact), nor a form to the ballot cast with the same code. No time, no row order. Never
        // synced, never changed.
        (
            "v11: phone forms",
            """
            CREATE TABLE phoneFormUse (
                formKey TEXT PRIMARY KEY,
                submission TEXT NOT NULL
            ) WITHOUT ROWID;
            CREATE TABLE sealedForm (
                id TEXT PRIMARY KEY,
                session TEXT NOT NULL,
                box TEXT NOT NULL,
                kind TEXT NOT NULL CHECK (kind IN ('suggestion', 'survey', 'discipline')),
                payload TEXT NOT NULL
            ) WITHOUT ROWID;
            CREATE INDEX sealedForm_box ON sealedForm (session, box, kind);
            CREATE TRIGGER phoneFormUse_is_append_only_update BEFORE UPDATE ON phoneFormUse
            BEGIN SELECT RAISE(ABORT, 'phoneFormUse is append-only'); END;
            CREATE TRIGGER phoneFormUse_is_append_only_delete BEFORE DELETE ON phoneFormUse
            BEGIN SELECT RAISE(ABORT, 'phoneFormUse is append-only'); END;
            CREATE TRIGGER sealedForm_is_append_only_update BEFORE UPDATE ON sealedForm
            BEGIN SELECT RAISE(ABORT, 'sealedForm is append-only'); END;
            CREATE TRIGGER sealedForm_is_append_only_delete BEFORE DELETE ON sealedForm
            BEGIN SELECT RAISE(ABORT, 'sealedForm is append-only'); END;
            """
        ),
        // Append new migrations here, and their line to Tests/TallyTests/Fixtures/migrations/node.txt.
    ]

    static var migrator: DatabaseMigrator {
        var migrator = DatabaseMigrator()
        for (name, sql) in migrations {
            migrator.registerMigration(name) { db in try db.execute(sql: sql) }
        }
        return migrator
    }
}
