-- A run that scored nothing stays in the player's history (scores) but takes no place on the
-- boards: bests of zero recorded before this rule are removed. Rank indexes built from them
-- drop them on their next rebuild.
DELETE FROM best_scores WHERE score = 0;
