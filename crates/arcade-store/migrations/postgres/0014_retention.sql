-- The retention (`--replay-retention`, `--history-retention`): an old score's replay is set to
-- NULL once removed (the score stays), and old scores that are no board's best are deleted.
-- The partial index finds the replays still kept by age; the other two find old scores and
-- whether one is a best, without scanning either table.
ALTER TABLE scores ALTER COLUMN replay DROP NOT NULL;
CREATE INDEX scores_replay_kept ON scores (achieved_at) WHERE replay IS NOT NULL;
CREATE INDEX scores_achieved ON scores (achieved_at);
CREATE INDEX best_scores_session ON best_scores (session_id);
