-- Names nobody may claim again: an operator who renames a player may block the old name. Keys
-- are player keys (the look-alike-proof form of a name), so every spelling of it is blocked.
CREATE TABLE blocked_names (
    key        TEXT   PRIMARY KEY,
    blocked_at BIGINT NOT NULL
);
