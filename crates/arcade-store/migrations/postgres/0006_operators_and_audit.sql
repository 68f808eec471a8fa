-- Operators act on the arcade with tokens of their own (only a token's SHA-256 digest is
-- kept); a revoked operator stays, for the audit log's sake. Every operator action is written
-- to audit_log in the transaction of the change it records: who, what, when, why, and the
-- target's state before and after (never a token, never more than the change needs). Ids
-- grow with time, so pages of the log are keyset pages on the key.
CREATE TABLE operators (
    id           UUID   PRIMARY KEY,
    name         TEXT   NOT NULL UNIQUE,
    token_digest BYTEA  NOT NULL UNIQUE CHECK (octet_length(token_digest) = 32),
    created_at   BIGINT NOT NULL,
    revoked_at   BIGINT
);

CREATE TABLE audit_log (
    id           BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    at           BIGINT NOT NULL,
    actor        TEXT   NOT NULL,
    action       TEXT   NOT NULL,
    target       TEXT   NOT NULL,
    reason       TEXT,
    state_before JSONB,
    state_after  JSONB
);
