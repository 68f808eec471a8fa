-- Each score keeps the buckets of the day and the week it counts in, as the arcade's calendar
-- (its time zone) placed it when it was played, so that bests recomputed later (an operator
-- hides a player or removes a score) land on the same boards whatever the zone is then. A
-- score stored before has none and counts on its UTC day and week, the only calendar there was.
ALTER TABLE scores ADD COLUMN day INTEGER;
ALTER TABLE scores ADD COLUMN week INTEGER;
