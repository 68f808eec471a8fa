//! PostgreSQL score store: the source of truth in production. Writes go to the primary;
//! histories and board rebuilds may go to a read replica (`DATABASE_READ_URL`). Here: the
//! pools, migrations, and finished games written in batches, one statement each (the rest of
//! `ScoreStore` is in `scores`).

use std::str::FromStr;
use std::time::Duration;

use arcade_domain::BackendError;
use arcade_domain::games::replay_codec;
use arcade_domain::ports::{EVENT_HOLD, NewScore, Recorded, ScoreRow, ScoreStore};
use arcade_domain::ranks::takes_a_place;
use async_trait::async_trait;
use sqlx::PgPool;
use sqlx::postgres::{PgConnectOptions, PgPoolOptions};

use crate::group_commit::{BatchWriter, GroupCommit};
use crate::outbox::{EventRow, ms, now_ms};
use crate::postgres_outbox::OutboxWriter;
use crate::rows;
use crate::{Dialect, backend_error, retrying_a_conflict_once};

const BACKEND: &str = "postgres";

pub(crate) static MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("./migrations/postgres");

fn err(e: sqlx::Error) -> BackendError {
    backend_error(Dialect::Postgres, e)
}

fn failed(message: impl Into<std::borrow::Cow<'static, str>>) -> BackendError {
    BackendError::defect(BACKEND, message)
}

/// Pool settings.
#[derive(Debug, Clone, Copy)]
pub struct PgSettings {
    pub pool_size: u32,
    pub connect_timeout: Duration,
    pub statement_timeout: Duration,
}

impl Default for PgSettings {
    fn default() -> Self {
        Self {
            pool_size: 10,
            connect_timeout: Duration::from_secs(5),
            statement_timeout: Duration::from_secs(5),
        }
    }
}

/// Batches of finished games in flight at once: two let one batch commit while the next is
/// written, and leave the rest of the pool to reads.
const SCORE_WRITERS: usize = 2;

/// Scores per statement, at most.
const SCORE_BATCH: usize = 128;

/// The production score store.
#[derive(Debug, Clone)]
pub struct PostgresStore {
    primary: PgPool,
    pub(crate) reads: PgPool,
    scores: GroupCommit<ScoreWriter>,
    /// Events added to the outbox, written in batches like scores.
    pub(crate) events: GroupCommit<OutboxWriter>,
}

fn pool(url: &str, s: PgSettings) -> Result<PgPool, BackendError> {
    let options = PgConnectOptions::from_str(url)
        .map_err(|e| failed("the database URL is not valid").with_source(e))?
        .application_name("arcade")
        .options([(
            "statement_timeout",
            format!("{}ms", s.statement_timeout.as_millis()),
        )]);
    // Lazy: the server starts (and reports the database down) even while PostgreSQL is away.
    Ok(PgPoolOptions::new()
        .max_connections(s.pool_size)
        .min_connections(0)
        .acquire_timeout(s.connect_timeout)
        .test_before_acquire(false)
        .connect_lazy_with(options))
}

impl PostgresStore {
    /// Pools for the primary and, when given, a read replica. Connects lazily.
    pub fn connect(
        url: &str,
        read_url: Option<&str>,
        settings: PgSettings,
    ) -> Result<Self, BackendError> {
        let primary = pool(url, settings)?;
        let reads = match read_url {
            Some(r) => pool(r, settings)?,
            None => primary.clone(),
        };
        let scores = GroupCommit::new(
            ScoreWriter {
                pool: primary.clone(),
            },
            SCORE_WRITERS,
            SCORE_BATCH,
        );
        let events = GroupCommit::new(
            OutboxWriter {
                pool: primary.clone(),
            },
            SCORE_WRITERS,
            SCORE_BATCH,
        );
        Ok(Self {
            primary,
            reads,
            scores,
            events,
        })
    }

    /// Apply every pending migration. Safe to run while older servers still serve: sqlx takes
    /// an advisory lock, and migrations only add (expand) until a release no longer needs the
    /// old shape.
    pub async fn migrate(&self) -> Result<(), BackendError> {
        MIGRATOR
            .run(&self.primary)
            .await
            .map_err(|e| failed("migration failed").with_source(e))
    }

    /// Versions of the migrations this build knows but the database has not applied.
    pub async fn pending_migrations(&self) -> Result<Vec<i64>, BackendError> {
        let exists: bool = sqlx::query_scalar(
            "SELECT EXISTS (SELECT 1 FROM information_schema.tables \
             WHERE table_schema = current_schema() AND table_name = '_sqlx_migrations')",
        )
        .fetch_one(&self.primary)
        .await
        .map_err(err)?;
        let applied: Vec<i64> = if exists {
            sqlx::query_scalar("SELECT version FROM _sqlx_migrations WHERE success")
                .fetch_all(&self.primary)
                .await
                .map_err(err)?
        } else {
            Vec::new()
        };
        Ok(MIGRATOR
            .iter()
            .map(|m| m.version)
            .filter(|v| !applied.contains(v))
            .collect())
    }

    /// Whether the server runs autovacuum, which also keeps the planner's statistics. Without
    /// it tables are never vacuumed or analyzed: they bloat, and every plan is made on
    /// guesses.
    pub async fn autovacuum_enabled(&self) -> Result<bool, BackendError> {
        sqlx::query_scalar("SELECT current_setting('autovacuum')::boolean")
            .fetch_one(&self.primary)
            .await
            .map_err(err)
    }

    pub fn pool(&self) -> &PgPool {
        &self.primary
    }

    pub async fn close(&self) {
        self.primary.close().await;
        self.reads.close().await;
    }
}

/// A finished game ready to bind: its replay packed and its stats encoded once, by the caller.
#[derive(Debug)]
struct ScoreWrite {
    session_id: uuid::Uuid,
    game: String,
    player_key: String,
    score: i32,
    ticks: i32,
    game_over: bool,
    rules_version: i32,
    seed: i64,
    stats: String,
    replay: Vec<u8>,
    achieved_at: i64,
    flags: String,
    day: i64,
    week: i64,
    /// Whether the score goes on the boards ([`takes_a_place`]).
    ranked: bool,
    /// The score's event, written to the outbox with it.
    event: EventRow,
}

impl ScoreWrite {
    fn of(score: &NewScore) -> Result<Self, BackendError> {
        let at = score.achieved_at;
        Ok(Self {
            event: EventRow::of(BACKEND, &score.event)?,
            session_id: score.session_id.0,
            game: score.game.clone(),
            player_key: score.player_key.clone(),
            score: int(score.score),
            ticks: int(score.ticks),
            game_over: score.game_over,
            rules_version: int(score.rules_version),
            seed: i64::from(score.seed),
            stats: rows::encode_stats(BACKEND, &score.stats)?,
            replay: replay_codec::pack(&score.inputs),
            achieved_at: at.0,
            flags: rows::encode_flags(BACKEND, &score.flags)?,
            day: score.day,
            week: score.week,
            ranked: takes_a_place(score.score),
        })
    }
}

/// What writing one score did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Written {
    Inserted {
        previous_best: Option<u32>,
        /// Whether the player is on the boards (an operator did not hide them).
        listed: bool,
    },
    /// The session's score was stored before; the stored row stands.
    AlreadyStored,
}

/// Writes batches of scores, each in one statement (so one round trip, one commit, atomic):
/// insert the scores (once per session), fix each player's previous best in the same row,
/// raise the three board bests, and put each inserted score's event in the outbox, held for
/// [`EVENT_HOLD`] (the finish releases it sooner, with its rank). The previous best is a subquery per score, not a join (a
/// join planned while `best_scores` is small, as in a new database, hashes the whole table).
#[derive(Debug)]
struct ScoreWriter {
    pool: PgPool,
}

const INSERT_SCORES: &str = "\
    WITH input AS ( \
      SELECT * FROM unnest($1::uuid[], $2::text[], $3::text[], $4::int[], $5::int[], \
        $6::bool[], $7::int[], $8::bigint[], $9::text[], $10::bytea[], $11::bigint[], \
        $12::bigint[], $13::bigint[], $14::bool[], $15::text[], $16::uuid[], $17::text[], \
        $18::text[]) \
      AS u (session_id, game, player_key, score, ticks, game_over, rules_version, seed, \
        stats, replay, achieved_at, day, week, ranked, flags, event_id, event_subject, \
        event_payload) \
    ), ins AS ( \
      INSERT INTO scores (session_id, game, player_key, score, ticks, game_over, \
        rules_version, seed, stats, replay, achieved_at, flags, day, week, previous_best) \
      SELECT i.session_id, i.game, i.player_key, i.score, i.ticks, i.game_over, \
        i.rules_version, i.seed, i.stats::jsonb, i.replay, i.achieved_at, i.flags::jsonb, \
        i.day, i.week, \
        (SELECT b.score FROM best_scores b WHERE b.game = i.game AND b.period = 'all' \
           AND b.bucket = 0 AND b.player_key = i.player_key) \
      FROM input i \
      ON CONFLICT (session_id) DO NOTHING \
      RETURNING session_id, previous_best, NOT EXISTS (SELECT 1 FROM players p \
        WHERE p.key = player_key AND p.hidden_at IS NOT NULL) AS listed \
    ), best AS ( \
      INSERT INTO best_scores (game, period, bucket, player_key, score, achieved_at, \
        session_id) \
      SELECT i.game, p.period, p.bucket, i.player_key, i.score, i.achieved_at, i.session_id \
      FROM ins JOIN input i USING (session_id) \
      CROSS JOIN LATERAL (VALUES ('all', 0::bigint), ('day', i.day), ('week', i.week)) \
        AS p (period, bucket) \
      WHERE i.ranked AND ins.listed \
      ON CONFLICT (game, period, bucket, player_key) DO UPDATE SET \
        score = excluded.score, achieved_at = excluded.achieved_at, \
        session_id = excluded.session_id \
      WHERE excluded.score > best_scores.score \
         OR (excluded.score = best_scores.score \
             AND excluded.achieved_at < best_scores.achieved_at) \
    ), events AS ( \
      INSERT INTO outbox (id, subject, payload, created_at, available_at) \
      SELECT i.event_id, i.event_subject, i.event_payload, $19, $20 \
      FROM ins JOIN input i USING (session_id) \
      WHERE ins.listed \
      ON CONFLICT (id) DO NOTHING \
    ) \
    SELECT session_id, previous_best, listed FROM ins";

impl ScoreWriter {
    /// The sessions inserted, with their previous bests; a session missing was stored before.
    async fn insert(
        &self,
        batch: &[ScoreWrite],
    ) -> Result<Vec<(uuid::Uuid, Option<i32>, bool)>, sqlx::Error> {
        fn column<'a, T>(batch: &'a [ScoreWrite], f: impl Fn(&'a ScoreWrite) -> T) -> Vec<T> {
            batch.iter().map(f).collect()
        }
        let now = now_ms();
        sqlx::query_as(INSERT_SCORES)
            .bind(column(batch, |s| s.session_id))
            .bind(column(batch, |s| s.game.as_str()))
            .bind(column(batch, |s| s.player_key.as_str()))
            .bind(column(batch, |s| s.score))
            .bind(column(batch, |s| s.ticks))
            .bind(column(batch, |s| s.game_over))
            .bind(column(batch, |s| s.rules_version))
            .bind(column(batch, |s| s.seed))
            .bind(column(batch, |s| s.stats.as_str()))
            .bind(column(batch, |s| s.replay.as_slice()))
            .bind(column(batch, |s| s.achieved_at))
            .bind(column(batch, |s| s.day))
            .bind(column(batch, |s| s.week))
            .bind(column(batch, |s| s.ranked))
            .bind(column(batch, |s| s.flags.as_str()))
            .bind(column(batch, |s| s.event.id))
            .bind(column(batch, |s| s.event.subject))
            .bind(column(batch, |s| s.event.payload.as_str()))
            .bind(now)
            .bind(now.saturating_add(ms(EVENT_HOLD)))
            .fetch_all(&self.pool)
            .await
    }
}

/// Whether PostgreSQL refused the data itself (SQLSTATE classes 22, data exception, and 23,
/// integrity constraint violation, such as a score of a player never claimed).
fn refuses_content(e: &sqlx::Error) -> bool {
    matches!(e, sqlx::Error::Database(db)
        if db.code().is_some_and(|c| c.starts_with("22") || c.starts_with("23")))
}

#[async_trait]
impl BatchWriter for ScoreWriter {
    type Item = ScoreWrite;
    type Outcome = Written;

    /// One statement may not upsert a board best twice (PostgreSQL refuses it), and a
    /// session's second finish must see its first stored.
    fn fits(batch: &[ScoreWrite], s: &ScoreWrite) -> bool {
        batch.iter().all(|b| {
            b.session_id != s.session_id && (b.player_key != s.player_key || b.game != s.game)
        })
    }

    async fn write(&self, batch: &[ScoreWrite]) -> Vec<Result<Written, BackendError>> {
        let outcomes = |inserted: &[(uuid::Uuid, Option<i32>, bool)], batch: &[ScoreWrite]| {
            batch
                .iter()
                .map(|s| {
                    Ok(inserted
                        .iter()
                        .find(|(id, _, _)| *id == s.session_id)
                        .map_or(Written::AlreadyStored, |(_, p, listed)| Written::Inserted {
                            previous_best: p.map(rows::count),
                            listed: *listed,
                        }))
                })
                .collect::<Vec<_>>()
        };
        match retrying_a_conflict_once(Dialect::Postgres, || self.insert(batch)).await {
            Ok(inserted) => outcomes(&inserted, batch),
            // The statement is all or nothing. When one score's content was refused, write
            // each alone so that only that one fails; anything else (the database away, a
            // timeout) would only fail again, score after score, so all of them fail now.
            Err(e) if batch.len() == 1 || !refuses_content(&e) => {
                let failure = err(e);
                vec![Err(failure); batch.len()]
            }
            Err(_) => {
                let mut out = Vec::with_capacity(batch.len());
                for s in batch {
                    let one = std::slice::from_ref(s);
                    match retrying_a_conflict_once(Dialect::Postgres, || self.insert(one)).await {
                        Ok(inserted) => out.extend(outcomes(&inserted, one)),
                        Err(e) => out.push(Err(err(e))),
                    }
                }
                out
            }
        }
    }
}

fn int(v: u32) -> i32 {
    i32::try_from(v).unwrap_or(i32::MAX)
}

impl PostgresStore {
    /// A finished game, written in the next batch; a session stored before is read back.
    pub(crate) async fn write_score(&self, score: &NewScore) -> Result<Recorded, BackendError> {
        let write = ScoreWrite::of(score)?;
        if let Written::Inserted {
            previous_best,
            listed,
        } = self.scores.submit(write).await?
        {
            return Ok(Recorded {
                row: ScoreRow {
                    session_id: score.session_id,
                    game: score.game.clone(),
                    player_key: score.player_key.clone(),
                    player_name: score.player_name.clone(),
                    score: score.score,
                    ticks: score.ticks,
                    game_over: score.game_over,
                    rules_version: score.rules_version,
                    stats: score.stats.clone(),
                    achieved_at: score.achieved_at,
                    previous_best,
                    flags: score.flags.clone(),
                    listed,
                },
                inserted: true,
            });
        }
        let row = self
            .score_by_session(score.session_id)
            .await?
            .ok_or_else(|| failed("a score that conflicted on insert cannot be read back"))?;
        Ok(Recorded {
            row,
            inserted: false,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use arcade_domain::BackendErrorKind;
    use arcade_domain::event::Event;
    use arcade_domain::session::SessionId;
    use arcade_domain::time::{Period, Timestamp};
    use std::collections::BTreeMap;
    use std::sync::Arc;
    use std::sync::atomic::{AtomicUsize, Ordering};

    fn score(i: u32) -> NewScore {
        let session_id = SessionId::random();
        let at = Timestamp(1_800_000_000_000);
        NewScore {
            session_id,
            game: "egg-catcher".into(),
            player_key: format!("p{i}"),
            player_name: format!("P{i}"),
            score: i,
            ticks: 600,
            game_over: true,
            rules_version: 1,
            seed: 7,
            stats: BTreeMap::new(),
            inputs: Vec::new(),
            achieved_at: at,
            day: Period::Day.bucket(at),
            week: Period::Week.bucket(at),
            event: Event::score_submitted(session_id.0, "egg-catcher", &format!("P{i}"), i, at),
            flags: Vec::new(),
        }
    }

    /// A database that takes connections and never answers makes every attempt wait out the
    /// pool's timeout: a batch that fails so must fail at once, not be tried score by score.
    #[tokio::test]
    async fn a_batch_the_database_never_answers_fails_together() {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = listener.local_addr().unwrap().port();
        let accepted = Arc::new(AtomicUsize::new(0));
        let silent = {
            let accepted = accepted.clone();
            tokio::spawn(async move {
                let mut held = Vec::new();
                while let Ok((connection, _)) = listener.accept().await {
                    accepted.fetch_add(1, Ordering::SeqCst);
                    held.push(connection);
                }
            })
        };
        let store = PostgresStore::connect(
            &format!("postgres://arcade@127.0.0.1:{port}/arcade"),
            None,
            PgSettings {
                pool_size: 4,
                connect_timeout: Duration::from_millis(200),
                statement_timeout: Duration::from_secs(1),
            },
        )
        .unwrap();
        let writes: Vec<_> = (0..16)
            .map(|i| {
                let store = store.clone();
                tokio::spawn(async move { store.record_score(&score(i)).await })
            })
            .collect();
        for write in writes {
            let e = write.await.unwrap().unwrap_err();
            assert_eq!(e.kind(), BackendErrorKind::Unavailable, "{e}");
        }
        let attempts = accepted.load(Ordering::SeqCst);
        assert!(
            attempts <= SCORE_WRITERS * 2,
            "{attempts} connection attempts for 16 scores in at most a few batches"
        );
        silent.abort();
    }
}
