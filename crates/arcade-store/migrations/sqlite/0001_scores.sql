-- Players claim names; scores are verified results; best_scores keeps each player's best per
-- board (game, period, bucket) so boards can be rebuilt and read without scanning scores.
CREATE TABLE players (
    key          TEXT    PRIMARY KEY,
    name         TEXT    NOT NULL,
    token_digest BLOB    NOT NULL,
    created_at   INTEGER NOT NULL
);

CREATE TABLE scores (
    session_id    TEXT    PRIMARY KEY,
    game          TEXT    NOT NULL,
    player_key    TEXT    NOT NULL REFERENCES players (key),
    score         INTEGER NOT NULL CHECK (score >= 0),
    ticks         INTEGER NOT NULL CHECK (ticks >= 0),
    game_over     INTEGER NOT NULL,
    rules_version INTEGER NOT NULL,
    seed          INTEGER NOT NULL,
    stats         TEXT    NOT NULL,
    replay        TEXT    NOT NULL,
    achieved_at   INTEGER NOT NULL,
    previous_best INTEGER
);

CREATE INDEX scores_player_history ON scores (game, player_key, achieved_at DESC, session_id DESC);

CREATE TABLE best_scores (
    game        TEXT    NOT NULL,
    period      TEXT    NOT NULL CHECK (period IN ('all', 'day', 'week')),
    bucket      INTEGER NOT NULL,
    player_key  TEXT    NOT NULL REFERENCES players (key),
    score       INTEGER NOT NULL,
    achieved_at INTEGER NOT NULL,
    session_id  TEXT    NOT NULL,
    PRIMARY KEY (game, period, bucket, player_key)
);

CREATE INDEX best_scores_board ON best_scores (game, period, bucket, score DESC, achieved_at, player_key);
