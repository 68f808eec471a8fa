-- Players claim names; scores are verified results (with the packed replay kept for audit);
-- best_scores keeps each player's best per board so boards are index scans, never a scan of
-- scores.
CREATE TABLE players (
    key          TEXT   PRIMARY KEY,
    name         TEXT   NOT NULL,
    token_digest BYTEA  NOT NULL CHECK (octet_length(token_digest) = 32),
    created_at   BIGINT NOT NULL
);

CREATE TABLE scores (
    session_id    UUID    PRIMARY KEY,
    game          TEXT    NOT NULL,
    player_key    TEXT    NOT NULL REFERENCES players (key),
    score         INTEGER NOT NULL CHECK (score >= 0),
    ticks         INTEGER NOT NULL CHECK (ticks >= 0),
    game_over     BOOLEAN NOT NULL,
    rules_version INTEGER NOT NULL,
    seed          BIGINT  NOT NULL,
    stats         JSONB   NOT NULL,
    replay        BYTEA   NOT NULL,
    achieved_at   BIGINT  NOT NULL,
    previous_best INTEGER
);

CREATE INDEX scores_player_history ON scores (game, player_key, achieved_at DESC, session_id DESC);

CREATE TABLE best_scores (
    game        TEXT    NOT NULL,
    period      TEXT    NOT NULL CHECK (period IN ('all', 'day', 'week')),
    bucket      BIGINT  NOT NULL,
    player_key  TEXT    NOT NULL REFERENCES players (key),
    score       INTEGER NOT NULL,
    achieved_at BIGINT  NOT NULL,
    session_id  UUID    NOT NULL,
    PRIMARY KEY (game, period, bucket, player_key)
);

CREATE INDEX best_scores_board ON best_scores (game, period, bucket, score DESC, achieved_at, player_key);
