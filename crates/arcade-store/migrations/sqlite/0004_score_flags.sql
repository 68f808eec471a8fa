-- The human-likeness checks a game failed (e.g. ["fast_reactions"]): such a score is stored
-- and ranked as usual, but marked for review. A JSON list, empty for most scores.
ALTER TABLE scores ADD COLUMN flags TEXT NOT NULL DEFAULT '[]';
