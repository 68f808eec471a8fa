-- Operators may hide a player (off every board, every period, until shown again) or ban them
-- from starting games. A hidden player's rows leave best_scores, so every reader of the boards
-- (the rank index loaded at start) leaves them out; their bests are recomputed from their
-- scores when they are shown again.
ALTER TABLE players ADD COLUMN hidden_at INTEGER;
ALTER TABLE players ADD COLUMN banned_at INTEGER;
