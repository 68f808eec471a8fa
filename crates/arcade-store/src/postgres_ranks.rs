//! Boards read straight from PostgreSQL's `best_scores` (kept by `record_score`): the rank
//! index of last resort while Redis is away or being rebuilt. Pages are index range scans;
//! a rank is an index range count, slower than Redis on a big board but always correct.

use arcade_domain::BackendError;
use arcade_domain::ports::RankIndex;
use arcade_domain::ranks::{Ranked, Standing, Submission};
use arcade_domain::time::BoardKey;
use async_trait::async_trait;

use crate::postgres::PostgresStore;
use crate::rows::{StandingRecord, standing_query};
use crate::{Dialect, backend_error};

fn err(e: sqlx::Error) -> BackendError {
    backend_error(Dialect::Postgres, e)
}

/// Board bests as PostgreSQL returns them: the score as a 32-bit integer.
type StandingRow = StandingRecord<i32>;

// The clauses below are macros so that every query is one string made at compile time.

/// The board's rows: `$1` game, `$2` period, `$3` bucket.
macro_rules! board {
    () => {
        "b.game = $1 AND b.period = $2 AND b.bucket = $3"
    };
}
/// Rows strictly ahead of (`$4` score, `$5` time, `$6` key) in board order.
macro_rules! ahead {
    () => {
        "(b.score > $4 OR (b.score = $4 AND (b.achieved_at < $5 \
         OR (b.achieved_at = $5 AND b.player_key < $6))))"
    };
}
/// Rows strictly behind it.
macro_rules! behind {
    () => {
        "(b.score < $4 OR (b.score = $4 AND (b.achieved_at > $5 \
         OR (b.achieved_at = $5 AND b.player_key > $6))))"
    };
}
macro_rules! order {
    () => {
        "ORDER BY b.score DESC, b.achieved_at, b.player_key"
    };
}

impl PostgresStore {
    async fn rank_of_standing(&self, board: &BoardKey, s: &Standing) -> Result<u64, BackendError> {
        let ahead: i64 = sqlx::query_scalar(concat!(
            "SELECT COUNT(*) FROM best_scores b WHERE ",
            board!(),
            " AND ",
            ahead!()
        ))
        .bind(&board.game)
        .bind(board.period.as_str())
        .bind(board.bucket)
        .bind(i32::try_from(s.score).unwrap_or(i32::MAX))
        .bind(s.achieved_at_ms)
        .bind(&s.player_key)
        .fetch_one(self.pool())
        .await
        .map_err(err)?;
        Ok(u64::try_from(ahead).unwrap_or(0) + 1)
    }

    async fn best_of(&self, board: &BoardKey, key: &str) -> Result<Option<Standing>, BackendError> {
        let row = sqlx::query_as::<_, StandingRow>(standing_query!(
            "WHERE ",
            board!(),
            " AND b.player_key = $4"
        ))
        .bind(&board.game)
        .bind(board.period.as_str())
        .bind(board.bucket)
        .bind(key)
        .fetch_optional(self.pool())
        .await
        .map_err(err)?;
        Ok(row.map(Standing::from))
    }
}

#[async_trait]
impl RankIndex for PostgresStore {
    /// The score store already raised the best when it recorded the score: report it.
    #[tracing::instrument(name = "postgres.submit", skip_all, fields(db.system = "postgresql"))]
    async fn submit(&self, board: &BoardKey, s: Standing) -> Result<Submission, BackendError> {
        let best = self.best_of(board, &s.player_key).await?;
        let rank = match &best {
            Some(b) => self.rank_of_standing(board, b).await?,
            None => self.rank_of_standing(board, &s).await?,
        };
        Ok(match best {
            Some(b) if b.score != s.score || b.achieved_at_ms != s.achieved_at_ms => {
                Submission::NotImproved { best: b, rank }
            }
            _ => Submission::New { rank },
        })
    }

    #[tracing::instrument(name = "postgres.page", skip_all, fields(db.system = "postgresql"))]
    async fn page(
        &self,
        board: &BoardKey,
        after: Option<&Standing>,
        limit: usize,
    ) -> Result<Vec<Ranked>, BackendError> {
        let limit = i64::try_from(limit).unwrap_or(i64::MAX);
        let rows = match after {
            Some(a) => {
                sqlx::query_as::<_, StandingRow>(standing_query!(
                    "WHERE ",
                    board!(),
                    " AND ",
                    behind!(),
                    " ",
                    order!(),
                    " LIMIT $7"
                ))
                .bind(&board.game)
                .bind(board.period.as_str())
                .bind(board.bucket)
                .bind(i32::try_from(a.score).unwrap_or(i32::MAX))
                .bind(a.achieved_at_ms)
                .bind(&a.player_key)
                .bind(limit)
                .fetch_all(self.pool())
                .await
            }
            None => {
                sqlx::query_as::<_, StandingRow>(standing_query!(
                    "WHERE ",
                    board!(),
                    " ",
                    order!(),
                    " LIMIT $4"
                ))
                .bind(&board.game)
                .bind(board.period.as_str())
                .bind(board.bucket)
                .bind(limit)
                .fetch_all(self.pool())
                .await
            }
        }
        .map_err(err)?;
        let standings: Vec<Standing> = rows.into_iter().map(Standing::from).collect();
        let first = match standings.first() {
            Some(s) => self.rank_of_standing(board, s).await?,
            None => return Ok(Vec::new()),
        };
        Ok(standings
            .into_iter()
            .zip(first..)
            .map(|(standing, rank)| Ranked { rank, standing })
            .collect())
    }

    #[tracing::instrument(name = "postgres.get", skip_all, fields(db.system = "postgresql"))]
    async fn get(&self, board: &BoardKey, key: &str) -> Result<Option<Ranked>, BackendError> {
        match self.best_of(board, key).await? {
            Some(standing) => Ok(Some(Ranked {
                rank: self.rank_of_standing(board, &standing).await?,
                standing,
            })),
            None => Ok(None),
        }
    }

    #[tracing::instrument(name = "postgres.around", skip_all, fields(db.system = "postgresql"))]
    async fn around(
        &self,
        board: &BoardKey,
        key: &str,
        before: usize,
        after: usize,
    ) -> Result<Vec<Ranked>, BackendError> {
        let Some(me) = self.get(board, key).await? else {
            return Ok(Vec::new());
        };
        let skip = me.rank.saturating_sub(1).saturating_sub(before as u64);
        let rows = sqlx::query_as::<_, StandingRow>(standing_query!(
            "WHERE ",
            board!(),
            " ",
            order!(),
            " OFFSET $4 LIMIT $5"
        ))
        .bind(&board.game)
        .bind(board.period.as_str())
        .bind(board.bucket)
        .bind(i64::try_from(skip).unwrap_or(i64::MAX))
        .bind(i64::try_from(me.rank - skip + after as u64).unwrap_or(i64::MAX))
        .fetch_all(self.pool())
        .await
        .map_err(err)?;
        Ok(rows
            .into_iter()
            .zip(skip + 1..)
            .map(|(r, rank)| Ranked {
                rank,
                standing: r.into(),
            })
            .collect())
    }

    /// PostgreSQL is the truth: whoever changed a player's bests changed the board.
    async fn set(
        &self,
        _board: &BoardKey,
        _key: &str,
        _standing: Option<Standing>,
    ) -> Result<(), BackendError> {
        Ok(())
    }

    /// PostgreSQL is the truth: there is nothing to load.
    async fn load(&self, _board: &BoardKey, _standings: Vec<Standing>) -> Result<(), BackendError> {
        Ok(())
    }

    async fn ping(&self) -> Result<(), BackendError> {
        arcade_domain::ports::ScoreStore::ping(self).await
    }
}
