//! The outbox in PostgreSQL, shared by every replica's relay: events added in batches (one
//! statement for every request waiting, like scores), claimed with `FOR UPDATE SKIP LOCKED`
//! so that relays never wait for each other nor take the same event, and leased by moving
//! `available_at` ahead, so that an event whose relay died is taken again when the lease ends.

use std::time::Duration;

use arcade_domain::BackendError;
use arcade_domain::event::Event;
use arcade_domain::ports::{Outbox, OutboxDepth, OutboxEntry};
use async_trait::async_trait;
use sqlx::PgPool;
use uuid::Uuid;

use crate::group_commit::BatchWriter;
use crate::outbox::{EventRow, age, ms, now_ms};
use crate::postgres::PostgresStore;
use crate::{Dialect, backend_error, retrying_a_conflict_once};

const BACKEND: &str = "postgres";

fn err(e: sqlx::Error) -> BackendError {
    backend_error(Dialect::Postgres, e)
}

/// Adds the events of every request waiting in one upsert: a new event is inserted ready; one
/// already there (held with its score) takes the new content and becomes ready at once.
#[derive(Debug)]
pub(crate) struct OutboxWriter {
    pub(crate) pool: PgPool,
}

const ADD: &str = "\
    INSERT INTO outbox (id, subject, payload, created_at, available_at) \
    SELECT e.id, e.subject, e.payload, $4, $4 \
    FROM unnest($1::uuid[], $2::text[], $3::text[]) AS e (id, subject, payload) \
    ON CONFLICT (id) DO UPDATE SET \
      payload = excluded.payload, available_at = excluded.available_at";

#[async_trait]
impl BatchWriter for OutboxWriter {
    type Item = Vec<EventRow>;
    type Outcome = ();

    /// One upsert may not touch a row twice.
    fn fits(batch: &[Vec<EventRow>], events: &Vec<EventRow>) -> bool {
        events
            .iter()
            .all(|e| batch.iter().flatten().all(|b| b.id != e.id))
    }

    async fn write(&self, batch: &[Vec<EventRow>]) -> Vec<Result<(), BackendError>> {
        let rows: Vec<&EventRow> = batch.iter().flatten().collect();
        let ids: Vec<Uuid> = rows.iter().map(|r| r.id).collect();
        let subjects: Vec<&str> = rows.iter().map(|r| r.subject).collect();
        let payloads: Vec<&str> = rows.iter().map(|r| r.payload.as_str()).collect();
        let now = now_ms();
        let written = retrying_a_conflict_once(Dialect::Postgres, || {
            sqlx::query(ADD)
                .bind(&ids)
                .bind(&subjects)
                .bind(&payloads)
                .bind(now)
                .execute(&self.pool)
        })
        .await;
        match written {
            Ok(_) => vec![Ok(()); batch.len()],
            Err(e) => vec![Err(err(e)); batch.len()],
        }
    }
}

#[async_trait]
impl Outbox for PostgresStore {
    #[tracing::instrument(name = "postgres.outbox_add", skip_all, fields(db.system = "postgresql"))]
    async fn add(&self, events: &[Event]) -> Result<(), BackendError> {
        if events.is_empty() {
            return Ok(());
        }
        let rows = events
            .iter()
            .map(|e| EventRow::of(BACKEND, e))
            .collect::<Result<Vec<_>, _>>()?;
        self.events.submit(rows).await
    }

    async fn claim(&self, limit: usize, lease: Duration) -> Result<Vec<OutboxEntry>, BackendError> {
        let now = now_ms();
        let rows: Vec<(Uuid, String)> = sqlx::query_as(
            "UPDATE outbox SET available_at = $2 \
             WHERE id IN ( \
               SELECT id FROM outbox WHERE available_at <= $1 \
               ORDER BY available_at LIMIT $3 FOR UPDATE SKIP LOCKED) \
             RETURNING id, payload",
        )
        .bind(now)
        .bind(now.saturating_add(ms(lease)))
        .bind(i64::try_from(limit).unwrap_or(i64::MAX))
        .fetch_all(self.pool())
        .await
        .map_err(err)?;
        Ok(rows
            .into_iter()
            .map(|(id, payload)| OutboxEntry { id, payload })
            .collect())
    }

    async fn remove(&self, ids: &[Uuid]) -> Result<(), BackendError> {
        sqlx::query("DELETE FROM outbox WHERE id = ANY($1)")
            .bind(ids)
            .execute(self.pool())
            .await
            .map(drop)
            .map_err(err)
    }

    async fn unclaim(&self, ids: &[Uuid]) -> Result<(), BackendError> {
        sqlx::query("UPDATE outbox SET available_at = $2 WHERE id = ANY($1)")
            .bind(ids)
            .bind(now_ms())
            .execute(self.pool())
            .await
            .map(drop)
            .map_err(err)
    }

    async fn depth(&self) -> Result<OutboxDepth, BackendError> {
        let (events, oldest): (i64, Option<i64>) =
            sqlx::query_as("SELECT count(*), min(created_at) FROM outbox")
                .fetch_one(self.pool())
                .await
                .map_err(err)?;
        Ok(OutboxDepth {
            events: u64::try_from(events).unwrap_or(0),
            oldest_age: age(oldest),
        })
    }
}
