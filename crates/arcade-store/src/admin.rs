//! What operators' changes write in either database, inside the change's transaction: its
//! audit record, its events in the outbox, and a player's bests recomputed.

use arcade_domain::BackendError;
use arcade_domain::admin::NewAudit;
use arcade_domain::event::Event;
use sqlx::types::Json;

use crate::dialect::{Backend, Conn};
use crate::outbox::{EventRow, now_ms};
use crate::postgres::PostgresStore;
use crate::rows::recompute_bests;
use crate::sqlite::SqliteStore;

/// The writes beside a change, as associated functions of the store of `$store`.
macro_rules! change_writes {
    ($store:ty) => {
        impl $store {
            /// Write `audit` on `conn` (inside the caller's transaction).
            pub(crate) async fn append_audit(
                conn: &mut Conn<Self>,
                audit: &NewAudit,
            ) -> Result<i64, BackendError> {
                sqlx::query_scalar(
                    "INSERT INTO audit_log \
                     (at, actor, action, target, reason, state_before, state_after) \
                     VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING id",
                )
                .bind(audit.at.0)
                .bind(&audit.actor)
                .bind(audit.action.as_str())
                .bind(&audit.target)
                .bind(&audit.reason)
                .bind(audit.before.as_ref().map(Json))
                .bind(audit.after.as_ref().map(Json))
                .fetch_one(&mut *conn)
                .await
                .map_err(Self::err)
            }

            /// Put `events` in the outbox, ready at once, inside the caller's transaction.
            pub(crate) async fn add_events(
                conn: &mut Conn<Self>,
                events: &[Event],
            ) -> Result<(), BackendError> {
                let now = now_ms();
                for event in events {
                    let row = EventRow::of(Self::NAME, event)?;
                    sqlx::query(
                        "INSERT INTO outbox (id, subject, payload, created_at, available_at) \
                         VALUES ($1, $2, $3, $4, $4) ON CONFLICT (id) DO NOTHING",
                    )
                    .bind(Self::uuid(row.id))
                    .bind(row.subject)
                    .bind(&row.payload)
                    .bind(now)
                    .execute(&mut *conn)
                    .await
                    .map_err(Self::err)?;
                }
                Ok(())
            }

            /// Drop the player's bests and recompute them from their scores (none while
            /// hidden).
            pub(crate) async fn rebuild_bests(
                conn: &mut Conn<Self>,
                player_key: &str,
            ) -> Result<(), BackendError> {
                sqlx::query("DELETE FROM best_scores WHERE player_key = $1")
                    .bind(player_key)
                    .execute(&mut *conn)
                    .await
                    .map_err(Self::err)?;
                sqlx::query(recompute_bests!("$1"))
                    .bind(player_key)
                    .execute(&mut *conn)
                    .await
                    .map_err(Self::err)?;
                Ok(())
            }
        }
    };
}

change_writes!(SqliteStore);
change_writes!(PostgresStore);
