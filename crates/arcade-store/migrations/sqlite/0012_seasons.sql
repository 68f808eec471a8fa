-- Seasons operators define: a slug (how addresses name it), a title, and the instants it
-- starts (included) and ends (excluded), in milliseconds like every other time. A season's
-- board is read from the scores achieved within it, so the scores get an index by game and
-- time.
CREATE TABLE seasons (
    slug       TEXT    PRIMARY KEY,
    title      TEXT    NOT NULL,
    starts_at  INTEGER NOT NULL,
    ends_at    INTEGER NOT NULL,
    created_at INTEGER NOT NULL,
    CHECK (ends_at > starts_at)
);

CREATE INDEX scores_game_time ON scores (game, achieved_at);
