-- The review queue: scores stored with human-likeness flags, and players' reports of a name or
-- a score, until an operator resolves them. A report keeps what was reported and why, never
-- who reported it. `reviews` records each resolved item (`score:SESSION` or `report:ID`); the
-- partial index keeps the flagged scores, a small share of all, a short index scan away.
CREATE TABLE reports (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    player_key  TEXT    NOT NULL,
    session_id  TEXT,
    reason      TEXT,
    created_at  INTEGER NOT NULL
);

CREATE TABLE reviews (
    item        TEXT    PRIMARY KEY,
    resolved_at INTEGER NOT NULL,
    resolution  TEXT    NOT NULL,
    actor       TEXT    NOT NULL
);

CREATE INDEX scores_flagged ON scores (achieved_at) WHERE flags <> '[]';
