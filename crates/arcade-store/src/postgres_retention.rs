//! The retention in PostgreSQL: bounded batches, each its own short transaction, run by one
//! replica at a time. Each batch first takes the transaction-level advisory lock
//! [`RETENTION_LOCK`]; a replica that finds it taken leaves the round to the one holding it.
//! A transaction lock is released by the commit, so a replica stopped in the middle of a
//! round never leaves it held.

use arcade_domain::BackendError;
use arcade_domain::retention::RetentionReport;
use arcade_domain::time::Timestamp;
use sqlx::PgPool;

use crate::{Dialect, RETENTION_BATCH, backend_error};

/// The advisory lock key of the retention (`pg_try_advisory_xact_lock`): "arcade" in ASCII,
/// then 1. Documented in docs/runbook.md.
pub const RETENTION_LOCK: i64 = 0x6172_6361_6465_0001;

fn err(e: sqlx::Error) -> BackendError {
    backend_error(Dialect::Postgres, e)
}

/// Up to `$2` replays of scores achieved before `$1`, removed (NULL). Rows a finish or an
/// operator is writing are left for the next batch rather than waited for.
const REMOVE_REPLAYS: &str = "UPDATE scores SET replay = NULL WHERE session_id IN ( \
    SELECT session_id FROM scores WHERE achieved_at < $1 AND replay IS NOT NULL \
    LIMIT $2 FOR UPDATE SKIP LOCKED)";

/// Up to `$2` scores achieved before `$1` deleted: not those that are a board's best (of any
/// period, past ones too), flagged and waiting for review, or named by a report waiting.
const DELETE_SCORES: &str = "DELETE FROM scores WHERE session_id IN ( \
    SELECT s.session_id FROM scores s WHERE s.achieved_at < $1 \
      AND NOT EXISTS (SELECT 1 FROM best_scores b WHERE b.session_id = s.session_id) \
      AND NOT (s.flags <> '[]'::jsonb AND NOT EXISTS (SELECT 1 FROM reviews v \
        WHERE v.item = 'score:' || s.session_id::text)) \
      AND NOT EXISTS (SELECT 1 FROM reports r WHERE r.session_id = s.session_id \
        AND NOT EXISTS (SELECT 1 FROM reviews v WHERE v.item = 'report:' || r.id::text)) \
    LIMIT $2 FOR UPDATE SKIP LOCKED)";

pub(crate) async fn apply_retention(
    pool: &PgPool,
    replays_before: Option<Timestamp>,
    history_before: Option<Timestamp>,
) -> Result<Option<RetentionReport>, BackendError> {
    let mut report = RetentionReport::default();
    if let Some(before) = replays_before {
        match in_batches(pool, REMOVE_REPLAYS, before).await? {
            Some(n) => report.replays = n,
            None => return Ok(None),
        }
    }
    if let Some(before) = history_before {
        match in_batches(pool, DELETE_SCORES, before).await? {
            Some(n) => report.scores = n,
            None if report == RetentionReport::default() => return Ok(None),
            // Another replica took over in the middle of the round.
            None => {}
        }
    }
    Ok(Some(report))
}

/// Run `statement` until a batch comes short, each batch under the lock; how many rows it
/// changed in all, or `None` when another replica held the lock at the first batch.
async fn in_batches(
    pool: &PgPool,
    statement: &str,
    before: Timestamp,
) -> Result<Option<u64>, BackendError> {
    let mut changed = 0;
    let mut batches = 0_u64;
    loop {
        let mut tx = pool.begin().await.map_err(err)?;
        let locked: bool = sqlx::query_scalar("SELECT pg_try_advisory_xact_lock($1)")
            .bind(RETENTION_LOCK)
            .fetch_one(&mut *tx)
            .await
            .map_err(err)?;
        if !locked {
            return Ok((batches > 0).then_some(changed));
        }
        let done = sqlx::query(statement)
            .bind(before.millis())
            .bind(RETENTION_BATCH)
            .execute(&mut *tx)
            .await
            .map_err(err)?
            .rows_affected();
        tx.commit().await.map_err(err)?;
        changed += done;
        batches += 1;
        if done < RETENTION_BATCH.unsigned_abs() {
            return Ok(Some(changed));
        }
    }
}
