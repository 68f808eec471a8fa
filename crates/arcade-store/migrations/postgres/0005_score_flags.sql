-- The human-likeness checks a game failed (e.g. ["fast_reactions"]): such a score is stored
-- and ranked as usual, but marked for review. A JSON list, empty for most scores; adding a
-- column with a constant default rewrites no row.
ALTER TABLE scores ADD COLUMN flags JSONB NOT NULL DEFAULT '[]';
