-- Operators act on the arcade with tokens of their own (only a token's SHA-256 digest is
-- kept); a revoked operator stays, for the audit log's sake. Every operator action is written
-- to audit_log in the transaction of the change it records: who, what, when, why, and the
-- target's state before and after as JSON. AUTOINCREMENT: ids grow with time and are never
-- reused, so pages of the log are keyset pages on the key.
CREATE TABLE operators (
    id           TEXT    PRIMARY KEY,
    name         TEXT    NOT NULL UNIQUE,
    token_digest BLOB    NOT NULL UNIQUE,
    created_at   INTEGER NOT NULL,
    revoked_at   INTEGER
);

CREATE TABLE audit_log (
    id           INTEGER PRIMARY KEY AUTOINCREMENT,
    at           INTEGER NOT NULL,
    actor        TEXT    NOT NULL,
    action       TEXT    NOT NULL,
    target       TEXT    NOT NULL,
    reason       TEXT,
    state_before TEXT,
    state_after  TEXT
);
