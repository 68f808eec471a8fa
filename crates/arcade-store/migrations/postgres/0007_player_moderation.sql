-- Operators may hide a player (off every board, every period, until shown again) or ban them
-- from starting games. A hidden player's rows leave best_scores, so every reader of the boards
-- (rank rebuilds, the PostgreSQL rank index) leaves them out with no change of its own; their
-- bests are recomputed from their scores when they are shown again. Adding nullable columns
-- rewrites no row.
ALTER TABLE players ADD COLUMN hidden_at BIGINT;
ALTER TABLE players ADD COLUMN banned_at BIGINT;
