//! The outbox in PostgreSQL, shared by every replica's relay: events added in batches (one
//! statement for every request waiting, like scores) and claimed with `FOR UPDATE SKIP
//! LOCKED`, so that relays never wait for each other nor take the same event. A claim deletes
//! its events in a transaction held open while the relay publishes them: the commit makes
//! the deletion final, and a relay that dies (or stays idle past its lease, when PostgreSQL
//! ends its session) rolls it back, so its events are ready again at once. Each event is
//! written twice less than with a lease kept in the row (moved ahead, then deleted).

use std::time::Duration;

use arcade_domain::BackendError;
use arcade_domain::event::Event;
use arcade_domain::ports::{Claim, Outbox, OutboxDepth, OutboxEntry};
use async_trait::async_trait;
use sqlx::{PgPool, Postgres, Transaction};
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

    async fn claim(&self, limit: usize, lease: Duration) -> Result<Box<dyn Claim>, BackendError> {
        // One round trip: the transaction and its bound, after which PostgreSQL ends a
        // session left idle in it (a relay stuck between claim and settle).
        let mut tx = self
            .pool()
            .begin_with(format!(
                "BEGIN; SET LOCAL idle_in_transaction_session_timeout = {}",
                ms(lease).max(1)
            ))
            .await
            .map_err(err)?;
        let rows: Vec<(Uuid, String, String, i64)> = sqlx::query_as(
            "DELETE FROM outbox WHERE id IN ( \
               SELECT id FROM outbox WHERE available_at <= $1 \
               ORDER BY available_at LIMIT $2 FOR UPDATE SKIP LOCKED) \
             RETURNING id, subject, payload, created_at",
        )
        .bind(now_ms())
        .bind(i64::try_from(limit).unwrap_or(i64::MAX))
        .fetch_all(&mut *tx)
        .await
        .map_err(err)?;
        let tx = if rows.is_empty() {
            // Nothing to hold: the connection goes back to the pool now.
            tx.commit().await.map_err(err)?;
            None
        } else {
            Some(tx)
        };
        let mut entries = Vec::with_capacity(rows.len());
        let mut origins = Vec::with_capacity(rows.len());
        for (id, subject, payload, created_at) in rows {
            entries.push(OutboxEntry { id, payload });
            origins.push((subject, created_at));
        }
        Ok(Box::new(PostgresClaim {
            tx,
            entries,
            origins,
            lease,
        }))
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

/// Events deleted in a transaction not yet committed: see the module's documentation.
struct PostgresClaim {
    /// None when nothing was claimed.
    tx: Option<Transaction<'static, Postgres>>,
    entries: Vec<OutboxEntry>,
    /// Each entry's subject and creation time, to put back what the bus did not take.
    origins: Vec<(String, i64)>,
    lease: Duration,
}

#[async_trait]
impl Claim for PostgresClaim {
    fn entries(&self) -> &[OutboxEntry] {
        &self.entries
    }

    async fn settle(self: Box<Self>, taken: &[Uuid], kept: &[Uuid]) -> Result<(), BackendError> {
        let Self {
            tx,
            entries,
            origins,
            lease,
        } = *self;
        let Some(mut tx) = tx else {
            return Ok(());
        };
        let now = now_ms();
        let back: Vec<(&OutboxEntry, &(String, i64), i64)> = entries
            .iter()
            .zip(&origins)
            .filter(|(e, _)| !taken.contains(&e.id))
            .map(|(e, row)| {
                let at = if kept.contains(&e.id) {
                    now.saturating_add(ms(lease))
                } else {
                    now
                };
                (e, row, at)
            })
            .collect();
        if !back.is_empty() {
            // Deleted by this transaction, so inserting them again cannot conflict.
            sqlx::query(
                "INSERT INTO outbox (id, subject, payload, created_at, available_at) \
                 SELECT * FROM unnest($1::uuid[], $2::text[], $3::text[], $4::bigint[], \
                   $5::bigint[])",
            )
            .bind(back.iter().map(|(e, _, _)| e.id).collect::<Vec<_>>())
            .bind(
                back.iter()
                    .map(|(_, r, _)| r.0.as_str())
                    .collect::<Vec<_>>(),
            )
            .bind(
                back.iter()
                    .map(|(e, _, _)| e.payload.as_str())
                    .collect::<Vec<_>>(),
            )
            .bind(back.iter().map(|(_, r, _)| r.1).collect::<Vec<_>>())
            .bind(back.iter().map(|(_, _, at)| *at).collect::<Vec<_>>())
            .execute(&mut *tx)
            .await
            .map_err(err)?;
        }
        tx.commit().await.map_err(err)
    }
}
