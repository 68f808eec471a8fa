//! Players, scores and boards, in either database: the `ScoreStore` port. What genuinely
//! differs stays with each backend: how a finished game is written (each store's group
//! commit, in `sqlite` and `postgres`) and how a page of a board is ranked (SQLite counts the
//! rows ahead of it; PostgreSQL reads it as its rank index does, `postgres_ranks`); the
//! history's keyset clause and PostgreSQL's second try of a claim stand side by side here.
//!
//! What must see every committed write (a player just claimed, a session's score read back,
//! the readiness probe) reads the fresh reads (PostgreSQL's primary); histories and board
//! rebuilds the reads that may lag.

use arcade_domain::BackendError;
use arcade_domain::ports::{
    HistoryCursor, NewScore, PlayerRecord, RankIndex, Recorded, ScoreRow, ScoreStore,
};
use arcade_domain::ranks::{Ranked, Standing};
use arcade_domain::session::SessionId;
use arcade_domain::time::{BoardKey, Timestamp};
use async_trait::async_trait;

use crate::dialect::{Backend, pick, span_names};
use crate::postgres::PostgresStore;
use crate::retrying_a_conflict_once;
use crate::rows::{self, PlayerRow, player_query, score_query, standing_query};
use crate::sqlite::SqliteStore;

/// `ScoreStore` for the store of `$backend` (`sqlite` or `postgres`).
macro_rules! score_store {
    ($backend:ident, $store:ty) => {
        const _: () = {
            span_names!($backend:
                FIND_PLAYER = find_player,
                CREATE_PLAYER = create_player,
                RECORD_SCORE = record_score,
                SCORE_BY_SESSION = score_by_session,
                HISTORY = history,
                BEST_STANDINGS = best_standings,
            );

            fn err(e: sqlx::Error) -> BackendError {
                <$store as Backend>::err(e)
            }

            /// A stored score as the backend returns it.
            type ScoreRecord =
                rows::ScoreRecord<<$store as Backend>::Uuid, <$store as Backend>::Int>;
            /// A board best as the backend returns it.
            type StandingRecord = rows::StandingRecord<<$store as Backend>::Int>;

            #[async_trait]
            impl ScoreStore for $store {
                #[tracing::instrument(name = FIND_PLAYER, skip_all, fields(db.system = Self::SYSTEM))]
                async fn find_player(
                    &self,
                    key: &str,
                ) -> Result<Option<PlayerRecord>, BackendError> {
                    sqlx::query_as::<_, PlayerRow>(player_query!("WHERE key = $1"))
                        .bind(key)
                        .fetch_optional(self.fresh_reads())
                        .await
                        .map_err(err)?
                        .map(|row| row.into_record(Self::NAME))
                        .transpose()
                }

                #[tracing::instrument(name = CREATE_PLAYER, skip_all, fields(db.system = Self::SYSTEM))]
                async fn create_player(&self, player: &PlayerRecord) -> Result<bool, BackendError> {
                    let insert = || {
                        sqlx::query(
                            "INSERT INTO players (key, name, token_digest, created_at) \
                             VALUES ($1, $2, $3, $4) ON CONFLICT (key) DO NOTHING",
                        )
                        .bind(&player.key)
                        .bind(&player.name)
                        .bind(&player.token_digest.0[..])
                        .bind(player.created_at.0)
                        .execute(self.writes())
                    };
                    let done = pick!($backend,
                        sqlite: insert().await,
                        // A claim that lost to a concurrent change is tried once more.
                        postgres: retrying_a_conflict_once(Self::DIALECT, insert).await,
                    )
                    .map_err(err)?;
                    Ok(done.rows_affected() == 1)
                }

                #[tracing::instrument(name = RECORD_SCORE, skip_all, fields(db.system = Self::SYSTEM))]
                async fn record_score(&self, score: &NewScore) -> Result<Recorded, BackendError> {
                    self.write_score(score).await
                }

                #[tracing::instrument(name = SCORE_BY_SESSION, skip_all, fields(db.system = Self::SYSTEM))]
                async fn score_by_session(
                    &self,
                    id: SessionId,
                ) -> Result<Option<ScoreRow>, BackendError> {
                    let row =
                        sqlx::query_as::<_, ScoreRecord>(score_query!("WHERE s.session_id = $1"))
                            .bind(Self::uuid(id.0))
                            .fetch_optional(self.fresh_reads())
                            .await
                            .map_err(err)?;
                    Ok(row.map(ScoreRow::from))
                }

                #[tracing::instrument(name = HISTORY, skip_all, fields(db.system = Self::SYSTEM))]
                async fn history(
                    &self,
                    game: &str,
                    player_key: &str,
                    after: Option<&HistoryCursor>,
                    limit: usize,
                ) -> Result<Vec<ScoreRow>, BackendError> {
                    let limit = i64::try_from(limit).unwrap_or(i64::MAX);
                    let query = pick!($backend,
                        // One statement for every page: no cursor is a bound past every row,
                        // with no session (''). The bound spelled out keeps the keyset page
                        // an index range scan.
                        sqlite: {
                            let (at, sid) = match after {
                                Some(c) => (c.achieved_at.0, c.session_id.to_string()),
                                None => (i64::MAX, String::new()),
                            };
                            sqlx::query_as::<_, ScoreRecord>(score_query!(
                                "WHERE s.game = $1 AND s.player_key = $2 \
                                   AND (s.achieved_at < $3 OR (s.achieved_at = $3 \
                                     AND ($4 = '' OR s.session_id < $4))) \
                                 ORDER BY s.achieved_at DESC, s.session_id DESC LIMIT $5"
                            ))
                            .bind(game)
                            .bind(player_key)
                            .bind(at)
                            .bind(sid)
                            .bind(limit)
                        },
                        postgres: match after {
                            // Row comparison matches the index order, so this is one index
                            // range scan.
                            Some(c) => sqlx::query_as::<_, ScoreRecord>(score_query!(
                                "WHERE s.game = $1 AND s.player_key = $2 \
                                   AND (s.achieved_at, s.session_id) < ($3, $4) \
                                 ORDER BY s.achieved_at DESC, s.session_id DESC LIMIT $5"
                            ))
                            .bind(game)
                            .bind(player_key)
                            .bind(c.achieved_at.0)
                            .bind(c.session_id.0)
                            .bind(limit),
                            None => sqlx::query_as::<_, ScoreRecord>(score_query!(
                                "WHERE s.game = $1 AND s.player_key = $2 \
                                 ORDER BY s.achieved_at DESC, s.session_id DESC LIMIT $3"
                            ))
                            .bind(game)
                            .bind(player_key)
                            .bind(limit),
                        },
                    );
                    let rows = query.fetch_all(self.reads()).await.map_err(err)?;
                    Ok(rows.into_iter().map(ScoreRow::from).collect())
                }

                #[tracing::instrument(name = BEST_STANDINGS, skip_all, fields(db.system = Self::SYSTEM))]
                async fn best_standings(
                    &self,
                    board: &BoardKey,
                    since: Option<Timestamp>,
                ) -> Result<Vec<Standing>, BackendError> {
                    let rows = sqlx::query_as::<_, StandingRecord>(standing_query!(
                        "WHERE b.game = $1 AND b.period = $2 AND b.bucket = $3 \
                         AND b.achieved_at >= $4 \
                         ORDER BY b.score DESC, b.achieved_at, b.player_key"
                    ))
                    .bind(&board.game)
                    .bind(board.period.as_str())
                    .bind(board.bucket)
                    .bind(since.map_or(i64::MIN, |t| t.0))
                    .fetch_all(self.reads())
                    .await
                    .map_err(err)?;
                    Ok(rows.into_iter().map(Standing::from).collect())
                }

                async fn board_page(
                    &self,
                    board: &BoardKey,
                    after: Option<&Standing>,
                    limit: usize,
                ) -> Result<Vec<Ranked>, BackendError> {
                    pick!($backend,
                        sqlite: self.counted_board_page(board, after, limit).await,
                        // The board as the database rank index reads it (`postgres_ranks`).
                        postgres: RankIndex::page(self, board, after, limit).await,
                    )
                }

                async fn ping(&self) -> Result<(), BackendError> {
                    sqlx::query("SELECT 1")
                        .execute(self.fresh_reads())
                        .await
                        .map(|_| ())
                        .map_err(err)
                }
            }
        };
    };
}

score_store!(sqlite, SqliteStore);
score_store!(postgres, PostgresStore);
