//! The outbox in SQLite, for the embedded server's one relay: every change goes through the
//! one writing connection; a claim is a lease (`available_at` moved ahead) so that events a
//! relay took and never deleted (the process killed mid-publish) are taken again.

use std::time::Duration;

use arcade_domain::BackendError;
use arcade_domain::event::Event;
use arcade_domain::ports::{Outbox, OutboxDepth, OutboxEntry};
use async_trait::async_trait;
use uuid::Uuid;
use uuid::fmt::Hyphenated;

use crate::outbox::{EventRow, age, ms, now_ms};
use crate::sqlite::SqliteStore;
use crate::{Dialect, backend_error};

const BACKEND: &str = "sqlite";

fn err(e: sqlx::Error) -> BackendError {
    backend_error(Dialect::Sqlite, e)
}

/// Ids as one bound value, a JSON array the statement reads with `json_each`.
fn id_list(ids: &[Uuid]) -> String {
    serde_json::Value::from(
        ids.iter()
            .map(|id| id.hyphenated().to_string())
            .collect::<Vec<_>>(),
    )
    .to_string()
}

#[async_trait]
impl Outbox for SqliteStore {
    #[tracing::instrument(name = "sqlite.outbox_add", skip_all, fields(db.system = "sqlite"))]
    async fn add(&self, events: &[Event]) -> Result<(), BackendError> {
        if events.is_empty() {
            return Ok(());
        }
        let rows = events
            .iter()
            .map(|e| EventRow::of(BACKEND, e))
            .collect::<Result<Vec<_>, _>>()?;
        let now = now_ms();
        let mut tx = self
            .writes
            .begin_with("BEGIN IMMEDIATE")
            .await
            .map_err(err)?;
        for row in &rows {
            // An event already there (held with its score) takes the new content, ready now.
            sqlx::query(
                "INSERT INTO outbox (id, subject, payload, created_at, available_at) \
                 VALUES (?, ?, ?, ?, ?) ON CONFLICT (id) DO UPDATE SET \
                   payload = excluded.payload, available_at = excluded.available_at",
            )
            .bind(row.id.hyphenated().to_string())
            .bind(row.subject)
            .bind(&row.payload)
            .bind(now)
            .bind(now)
            .execute(&mut *tx)
            .await
            .map_err(err)?;
        }
        tx.commit().await.map_err(err)
    }

    async fn claim(&self, limit: usize, lease: Duration) -> Result<Vec<OutboxEntry>, BackendError> {
        let now = now_ms();
        let rows: Vec<(Hyphenated, String)> = sqlx::query_as(
            "UPDATE outbox SET available_at = ? \
             WHERE id IN ( \
               SELECT id FROM outbox WHERE available_at <= ? ORDER BY available_at LIMIT ?) \
             RETURNING id, payload",
        )
        .bind(now.saturating_add(ms(lease)))
        .bind(now)
        .bind(i64::try_from(limit).unwrap_or(i64::MAX))
        .fetch_all(&self.writes)
        .await
        .map_err(err)?;
        Ok(rows
            .into_iter()
            .map(|(id, payload)| OutboxEntry {
                id: id.into_uuid(),
                payload,
            })
            .collect())
    }

    async fn remove(&self, ids: &[Uuid]) -> Result<(), BackendError> {
        sqlx::query("DELETE FROM outbox WHERE id IN (SELECT value FROM json_each(?))")
            .bind(id_list(ids))
            .execute(&self.writes)
            .await
            .map(drop)
            .map_err(err)
    }

    async fn unclaim(&self, ids: &[Uuid]) -> Result<(), BackendError> {
        sqlx::query(
            "UPDATE outbox SET available_at = ? WHERE id IN (SELECT value FROM json_each(?))",
        )
        .bind(now_ms())
        .bind(id_list(ids))
        .execute(&self.writes)
        .await
        .map(drop)
        .map_err(err)
    }

    async fn depth(&self) -> Result<OutboxDepth, BackendError> {
        let (events, oldest): (i64, Option<i64>) =
            sqlx::query_as("SELECT count(*), min(created_at) FROM outbox")
                .fetch_one(&self.reads)
                .await
                .map_err(err)?;
        Ok(OutboxDepth {
            events: u64::try_from(events).unwrap_or(0),
            oldest_age: age(oldest),
        })
    }
}
