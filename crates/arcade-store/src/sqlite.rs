//! SQLite score store: one file in the data directory, WAL mode, migrated on open; one writing
//! connection beside a pool of readers; finished games written in batches on it, and board
//! pages ranked by a count (the rest of `ScoreStore` is in `scores`); and its online backup
//! to a file.

use std::path::Path;
use std::str::FromStr;
use std::time::Duration;

use arcade_domain::BackendError;
use arcade_domain::ports::{EVENT_HOLD, NewScore, Recorded};
use arcade_domain::ranks::{Ranked, Standing, takes_a_place};
use arcade_domain::time::{BoardKey, Period, Timestamp};
use async_trait::async_trait;
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous};
use sqlx::{ConnectOptions, Connection, SqlitePool};
use uuid::fmt::Hyphenated;

use crate::group_commit::{BatchWriter, GroupCommit};
use crate::outbox::{EventRow, ms, now_ms};
use crate::rows::{self, StandingRecord, score_query, standing_query};
use crate::{Dialect, backend_error};

const BACKEND: &str = "sqlite";

static MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("./migrations/sqlite");

/// The embedded score store.
#[derive(Debug, Clone)]
pub struct SqliteStore {
    /// Reads, which WAL lets run beside the write in progress.
    pub(crate) reads: SqlitePool,
    /// The one connection that writes. SQLite lets one connection write at a time; with
    /// writers on several connections the losers sleep in SQLite's busy handler (1, 2, 5, …
    /// up to 100 ms a try) while holding pooled connections that reads then queue for. On one
    /// connection, writes wait their turn in the pool's queue instead, in order and awake.
    pub(crate) writes: SqlitePool,
    /// Finished games, written in batches on the writing connection.
    scores: GroupCommit<ScoreWriter>,
}

/// Reading connections; WAL readers do not wait for the writer.
const READERS: u32 = 4;

/// Scores per transaction, at most. One commit writes each page a batch changed once, where
/// a commit per score wrote the same index pages again for every score.
const SCORE_BATCH: usize = 64;

fn err(e: sqlx::Error) -> BackendError {
    backend_error(Dialect::Sqlite, e)
}

impl SqliteStore {
    /// Open (creating if missing) `arcade.db` in `data_dir` and apply migrations.
    pub async fn open_dir(data_dir: &Path) -> Result<Self, BackendError> {
        std::fs::create_dir_all(data_dir).map_err(|e| {
            BackendError::unavailable(
                BACKEND,
                format!("cannot create data directory {}", data_dir.display()),
            )
            .with_source(e)
        })?;
        let options = SqliteConnectOptions::new()
            .filename(data_dir.join("arcade.db"))
            .create_if_missing(true);
        Self::open(options).await
    }

    /// Open a `sqlite:` URL and apply migrations.
    pub async fn open_url(url: &str) -> Result<Self, BackendError> {
        let options = SqliteConnectOptions::from_str(url)
            .map_err(err)?
            .create_if_missing(true);
        Self::open(options).await
    }

    async fn open(options: SqliteConnectOptions) -> Result<Self, BackendError> {
        let options = options
            .journal_mode(SqliteJournalMode::Wal)
            .synchronous(SqliteSynchronous::Normal)
            .busy_timeout(Duration::from_secs(5))
            .foreign_keys(true);
        let pool = |connections| {
            SqlitePoolOptions::new()
                .max_connections(connections)
                .acquire_timeout(Duration::from_secs(5))
        };
        // The writer first: it creates the file and switches it to WAL before readers open it.
        // It stays open for good: reconnecting the one writer gains nothing, and an in-memory
        // database (`sqlite::memory:`) lives only while some connection holds it.
        let writes = pool(1)
            .min_connections(1)
            .idle_timeout(None)
            .max_lifetime(None)
            .connect_with(options.clone())
            .await
            .map_err(err)?;
        MIGRATOR
            .run(&writes)
            .await
            .map_err(|e| BackendError::defect(BACKEND, "migration failed").with_source(e))?;
        let reads = pool(READERS).connect_with(options).await.map_err(err)?;
        let scores = GroupCommit::new(
            ScoreWriter {
                writes: writes.clone(),
            },
            1,
            SCORE_BATCH,
        );
        Ok(Self {
            reads,
            writes,
            scores,
        })
    }

    pub async fn close(&self) {
        self.writes.close().await;
        self.reads.close().await;
    }

    /// Copy `arcade.db` of `data_dir` to `dest` while a server may be using it.
    pub async fn backup_dir(data_dir: &Path, dest: &Path) -> Result<(), BackendError> {
        let source = data_dir.join("arcade.db");
        if !source.is_file() {
            return Err(BackendError::defect(
                BACKEND,
                format!("no database at {}", source.display()),
            ));
        }
        Self::backup(SqliteConnectOptions::new().filename(source), dest).await
    }

    /// Copy the database of a `sqlite:` URL to `dest` while a server may be using it.
    pub async fn backup_url(url: &str, dest: &Path) -> Result<(), BackendError> {
        Self::backup(SqliteConnectOptions::from_str(url).map_err(err)?, dest).await
    }

    /// SQLite's online copy, `VACUUM INTO`: a consistent snapshot taken in one read
    /// transaction (the server keeps writing meanwhile), on a read-only connection that runs
    /// no migration. Written beside `dest`, checked, then renamed, so `dest` is complete or
    /// absent; an existing `dest` is never replaced.
    async fn backup(source: SqliteConnectOptions, dest: &Path) -> Result<(), BackendError> {
        let failed = |message: String| BackendError::defect(BACKEND, message);
        if dest.exists() {
            return Err(failed(format!("{} exists already", dest.display())));
        }
        let mut partial = dest.as_os_str().to_owned();
        partial.push(".partial");
        let partial = std::path::PathBuf::from(partial);
        let _ = std::fs::remove_file(&partial);
        let into = partial
            .to_str()
            .ok_or_else(|| failed(format!("{} is not UTF-8", partial.display())))?;
        let mut source = source
            .read_only(true)
            .busy_timeout(Duration::from_secs(30))
            .connect()
            .await
            .map_err(err)?;
        let copied = sqlx::query("VACUUM INTO ?")
            .bind(into)
            .execute(&mut source)
            .await
            .map_err(err);
        let _ = source.close().await;
        copied?;
        let mut copy = SqliteConnectOptions::new()
            .filename(&partial)
            .read_only(true)
            .connect()
            .await
            .map_err(err)?;
        let check: String = sqlx::query_scalar("PRAGMA integrity_check")
            .fetch_one(&mut copy)
            .await
            .map_err(err)?;
        let _ = copy.close().await;
        if check != "ok" {
            let _ = std::fs::remove_file(&partial);
            return Err(failed(format!(
                "the copy failed its integrity check: {check}"
            )));
        }
        std::fs::rename(&partial, dest)
            .map_err(|e| failed(format!("cannot move the copy to {}: {e}", dest.display())))
    }
}

/// A stored score as SQLite returns it: the session id as text, numbers as 64-bit integers.
type ScoreRecord = rows::ScoreRecord<Hyphenated, i64>;

impl SqliteStore {
    /// A finished game, written in the next batch of the writing connection.
    pub(crate) async fn write_score(&self, score: &NewScore) -> Result<Recorded, BackendError> {
        self.scores.submit(ScoreWrite::of(score)?).await
    }

    /// A page of a board from its bests, ranked by counting the bests ahead of its first.
    #[tracing::instrument(name = "sqlite.board_page", skip_all, fields(db.system = "sqlite"))]
    pub(crate) async fn counted_board_page(
        &self,
        board: &BoardKey,
        after: Option<&Standing>,
        limit: usize,
    ) -> Result<Vec<Ranked>, BackendError> {
        // `?1` game, `?2` period, `?3` bucket; `?4`, `?5`, `?6` the standing a page follows
        // (score, time, key; one ahead of every row when there is none); `?7` the limit.
        let (score, at, key) = crate::rows::page_bound(after);
        let limit = i64::try_from(limit).unwrap_or(i64::MAX);
        let rows = sqlx::query_as::<_, StandingRecord<i64>>(standing_query!(
            "WHERE b.game = ?1 AND b.period = ?2 AND b.bucket = ?3 \
             AND (b.score < ?4 OR (b.score = ?4 AND (b.achieved_at > ?5 \
               OR (b.achieved_at = ?5 AND b.player_key > ?6)))) \
             ORDER BY b.score DESC, b.achieved_at, b.player_key LIMIT ?7"
        ))
        .bind(&board.game)
        .bind(board.period.as_str())
        .bind(board.bucket)
        .bind(score)
        .bind(at)
        .bind(key)
        .bind(limit)
        .fetch_all(&self.reads)
        .await
        .map_err(err)?;
        let Some(first) = rows.first() else {
            return Ok(Vec::new());
        };
        let ahead: i64 = sqlx::query_scalar(
            "SELECT COUNT(*) FROM best_scores b \
             WHERE b.game = ?1 AND b.period = ?2 AND b.bucket = ?3 \
             AND (b.score > ?4 OR (b.score = ?4 AND (b.achieved_at < ?5 \
               OR (b.achieved_at = ?5 AND b.player_key < ?6))))",
        )
        .bind(&board.game)
        .bind(board.period.as_str())
        .bind(board.bucket)
        .bind(first.score)
        .bind(first.achieved_at)
        .bind(&first.player_key)
        .fetch_one(&self.reads)
        .await
        .map_err(err)?;
        let first_rank = u64::try_from(ahead).unwrap_or(0) + 1;
        Ok(rows
            .into_iter()
            .zip(first_rank..)
            .map(|(r, rank)| Ranked {
                rank,
                standing: r.into(),
            })
            .collect())
    }
}

/// A finished game ready to bind: its stats and replay encoded by the caller.
#[derive(Debug)]
struct ScoreWrite {
    id: String,
    game: String,
    player_key: String,
    score: i64,
    ticks: i64,
    game_over: bool,
    rules_version: i64,
    seed: i64,
    stats: String,
    replay: String,
    achieved_at: Timestamp,
    flags: String,
    /// The buckets of the score's day and week ([`NewScore::day`]).
    day: i64,
    week: i64,
    /// Whether the score goes on the boards ([`takes_a_place`]).
    ranked: bool,
    /// The score's event, written to the outbox with it.
    event: EventRow,
}

impl ScoreWrite {
    fn of(score: &NewScore) -> Result<Self, BackendError> {
        Ok(Self {
            event: EventRow::of(BACKEND, &score.event)?,
            id: score.session_id.to_string(),
            game: score.game.clone(),
            player_key: score.player_key.clone(),
            score: i64::from(score.score),
            ticks: i64::from(score.ticks),
            game_over: score.game_over,
            rules_version: i64::from(score.rules_version),
            seed: i64::from(score.seed),
            stats: rows::encode_stats(BACKEND, &score.stats)?,
            replay: serde_json::to_string(&score.inputs).map_err(|e| {
                BackendError::defect(BACKEND, "cannot encode a score's replay").with_source(e)
            })?,
            achieved_at: score.achieved_at,
            flags: rows::encode_flags(BACKEND, &score.flags)?,
            day: score.day,
            week: score.week,
            ranked: takes_a_place(score.score),
        })
    }
}

/// Writes a batch of scores in one transaction on the writing connection, each score inside
/// a savepoint of its own so that a score SQLite refuses leaves the others in.
#[derive(Debug)]
struct ScoreWriter {
    writes: SqlitePool,
}

impl ScoreWriter {
    /// Insert the score (once per session), fix the player's previous best in its row, raise
    /// the three board bests, put its event in the outbox (held for [`EVENT_HOLD`]: the
    /// finish releases it sooner, with its rank), and read the stored row back (the earlier
    /// one for a session recorded before).
    async fn write_one(
        conn: &mut sqlx::SqliteConnection,
        score: &ScoreWrite,
    ) -> Result<Recorded, BackendError> {
        let inserted = sqlx::query(
            "INSERT INTO scores (session_id, game, player_key, score, ticks, game_over, \
             rules_version, seed, stats, replay, achieved_at, flags, day, week) \
             VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) \
             ON CONFLICT (session_id) DO NOTHING",
        )
        .bind(&score.id)
        .bind(&score.game)
        .bind(&score.player_key)
        .bind(score.score)
        .bind(score.ticks)
        .bind(score.game_over)
        .bind(score.rules_version)
        .bind(score.seed)
        .bind(&score.stats)
        .bind(&score.replay)
        .bind(score.achieved_at.0)
        .bind(&score.flags)
        .bind(score.day)
        .bind(score.week)
        .execute(&mut *conn)
        .await
        .map_err(err)?
        .rows_affected()
            == 1;
        if inserted {
            let previous: Option<i64> = sqlx::query_scalar(
                "SELECT score FROM best_scores \
                 WHERE game = ? AND period = 'all' AND bucket = 0 AND player_key = ?",
            )
            .bind(&score.game)
            .bind(&score.player_key)
            .fetch_optional(&mut *conn)
            .await
            .map_err(err)?;
            sqlx::query("UPDATE scores SET previous_best = ? WHERE session_id = ?")
                .bind(previous)
                .bind(&score.id)
                .execute(&mut *conn)
                .await
                .map_err(err)?;
            // A score of nothing is kept in the history only, and so is every score of a
            // player an operator hid (unannounced, too).
            let hidden: bool =
                sqlx::query_scalar("SELECT hidden_at IS NOT NULL FROM players WHERE key = ?")
                    .bind(&score.player_key)
                    .fetch_optional(&mut *conn)
                    .await
                    .map_err(err)?
                    .unwrap_or(false);
            let boards = [
                (Period::All, 0),
                (Period::Day, score.day),
                (Period::Week, score.week),
            ];
            let boards = if score.ranked && !hidden {
                &boards[..]
            } else {
                &[]
            };
            for &(period, bucket) in boards {
                sqlx::query(
                    "INSERT INTO best_scores \
                     (game, period, bucket, player_key, score, achieved_at, session_id) \
                     VALUES (?, ?, ?, ?, ?, ?, ?) \
                     ON CONFLICT (game, period, bucket, player_key) DO UPDATE SET \
                       score = excluded.score, achieved_at = excluded.achieved_at, \
                       session_id = excluded.session_id \
                     WHERE excluded.score > best_scores.score \
                        OR (excluded.score = best_scores.score \
                            AND excluded.achieved_at < best_scores.achieved_at)",
                )
                .bind(&score.game)
                .bind(period.as_str())
                .bind(bucket)
                .bind(&score.player_key)
                .bind(score.score)
                .bind(score.achieved_at.0)
                .bind(&score.id)
                .execute(&mut *conn)
                .await
                .map_err(err)?;
            }
            if !hidden {
                let now = now_ms();
                sqlx::query(
                    "INSERT INTO outbox (id, subject, payload, created_at, available_at) \
                     VALUES (?, ?, ?, ?, ?) ON CONFLICT (id) DO NOTHING",
                )
                .bind(score.event.id.hyphenated().to_string())
                .bind(score.event.subject)
                .bind(&score.event.payload)
                .bind(now)
                .bind(now.saturating_add(ms(EVENT_HOLD)))
                .execute(&mut *conn)
                .await
                .map_err(err)?;
            }
        }
        let row = sqlx::query_as::<_, ScoreRecord>(score_query!("WHERE s.session_id = ?"))
            .bind(&score.id)
            .fetch_one(&mut *conn)
            .await
            .map_err(err)?;
        Ok(Recorded {
            row: row.into(),
            inserted,
        })
    }

    async fn write_all(
        &self,
        batch: &[ScoreWrite],
    ) -> Result<Vec<Result<Recorded, BackendError>>, BackendError> {
        // BEGIN IMMEDIATE takes SQLite's write lock at once: a deferred transaction that
        // upgrades later can fail with SQLITE_BUSY when another process writes.
        let mut tx = self
            .writes
            .begin_with("BEGIN IMMEDIATE")
            .await
            .map_err(err)?;
        let mut outcomes = Vec::with_capacity(batch.len());
        for score in batch {
            sqlx::query("SAVEPOINT score")
                .execute(&mut *tx)
                .await
                .map_err(err)?;
            let outcome = Self::write_one(&mut tx, score).await;
            if outcome.is_err() {
                sqlx::query("ROLLBACK TO score")
                    .execute(&mut *tx)
                    .await
                    .map_err(err)?;
            }
            sqlx::query("RELEASE score")
                .execute(&mut *tx)
                .await
                .map_err(err)?;
            outcomes.push(outcome);
        }
        tx.commit().await.map_err(err)?;
        Ok(outcomes)
    }
}

#[async_trait]
impl BatchWriter for ScoreWriter {
    type Item = ScoreWrite;
    type Outcome = Recorded;

    /// Scores are written one after the other inside the transaction, so any may share it.
    fn fits(_: &[ScoreWrite], _: &ScoreWrite) -> bool {
        true
    }

    async fn write(&self, batch: &[ScoreWrite]) -> Vec<Result<Recorded, BackendError>> {
        // The transaction itself failing (the disk, the lock) fails every score in it.
        self.write_all(batch)
            .await
            .unwrap_or_else(|e| vec![Err(e); batch.len()])
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn the_writer_keeps_its_connection_so_an_in_memory_database_lives_on() {
        let store = SqliteStore::open_url("sqlite::memory:").await.unwrap();
        let writer = store.writes.options();
        assert_eq!(writer.get_min_connections(), 1);
        assert_eq!(writer.get_idle_timeout(), None);
        assert_eq!(writer.get_max_lifetime(), None);
        assert_eq!(store.writes.size(), 1, "the writer is open from the start");
        store.close().await;
    }
}
