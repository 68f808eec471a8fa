-- A run that scored nothing stays in the player's history (scores) but takes no place on the
-- boards: bests of zero recorded before this rule are removed (the embedded rank index is
-- loaded from best_scores at start).
DELETE FROM best_scores WHERE score = 0;
