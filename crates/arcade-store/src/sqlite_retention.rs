//! The retention in SQLite: bounded batches on the writing connection, each its own
//! statement, so finishes queued behind a round wait for one batch at most. One server owns
//! an embedded database, so there is no other replica to keep out.

use arcade_domain::BackendError;
use arcade_domain::retention::RetentionReport;
use arcade_domain::time::Timestamp;

use crate::sqlite::SqliteStore;
use crate::{Dialect, RETENTION_BATCH, backend_error};

fn err(e: sqlx::Error) -> BackendError {
    backend_error(Dialect::Sqlite, e)
}

/// Up to `?2` replays of scores achieved before `?1`, removed ('' marks a removed replay).
const REMOVE_REPLAYS: &str = "UPDATE scores SET replay = '' WHERE session_id IN ( \
    SELECT session_id FROM scores WHERE achieved_at < ?1 AND replay <> '' LIMIT ?2)";

/// Up to `?2` scores achieved before `?1` deleted: not those that are a board's best (of any
/// period, past ones too), flagged and waiting for review, or named by a report waiting.
const DELETE_SCORES: &str = "DELETE FROM scores WHERE session_id IN ( \
    SELECT s.session_id FROM scores s WHERE s.achieved_at < ?1 \
      AND NOT EXISTS (SELECT 1 FROM best_scores b WHERE b.session_id = s.session_id) \
      AND NOT (s.flags <> '[]' AND NOT EXISTS (SELECT 1 FROM reviews v \
        WHERE v.item = 'score:' || s.session_id)) \
      AND NOT EXISTS (SELECT 1 FROM reports r WHERE r.session_id = s.session_id \
        AND NOT EXISTS (SELECT 1 FROM reviews v WHERE v.item = 'report:' || r.id)) \
    LIMIT ?2)";

pub(crate) async fn apply_retention(
    store: &SqliteStore,
    replays_before: Option<Timestamp>,
    history_before: Option<Timestamp>,
) -> Result<Option<RetentionReport>, BackendError> {
    let mut report = RetentionReport::default();
    if let Some(before) = replays_before {
        report.replays = in_batches(store, REMOVE_REPLAYS, before).await?;
    }
    if let Some(before) = history_before {
        report.scores = in_batches(store, DELETE_SCORES, before).await?;
    }
    Ok(Some(report))
}

/// Run `statement` until a batch comes short; how many rows it changed in all.
async fn in_batches(
    store: &SqliteStore,
    statement: &str,
    before: Timestamp,
) -> Result<u64, BackendError> {
    let mut changed = 0;
    loop {
        let done = sqlx::query(statement)
            .bind(before.millis())
            .bind(RETENTION_BATCH)
            .execute(&store.writes)
            .await
            .map_err(err)?
            .rows_affected();
        changed += done;
        if done < RETENTION_BATCH.unsigned_abs() {
            return Ok(changed);
        }
    }
}
