-- A finish reads the player's previous best by the full primary key. On tables that have never
-- been analyzed the planner's estimates for that look-up tie between the primary key and
-- best_scores_board (which holds every key column too), and a tie goes to the index created
-- last: the board, whose scan reads the whole board. Rebuilding the key after the board index
-- makes the key win the tie; with statistics it wins on cost. The rebuild locks the table
-- (reads and writes wait) for as long as the key takes to build: seconds per million rows.
ALTER TABLE best_scores
    DROP CONSTRAINT best_scores_pkey,
    ADD CONSTRAINT best_scores_pkey PRIMARY KEY (game, period, bucket, player_key);
