//! Durable score store adapters: players, verified scores and per-board bests in SQLite (the
//! embedded default) or PostgreSQL (production), behind the domain's `ScoreStore` port; and
//! the rank indexes answered from them: `postgres_ranks` (boards read from PostgreSQL's
//! bests) and `failover_ranks` (a cache in front of the store). Migrations live in
//! `migrations/<backend>/`.

mod failover_ranks;
mod group_commit;
mod postgres;
mod postgres_ranks;
mod rows;
mod sqlite;

pub use failover_ranks::{FailoverRankIndex, rebuild};
pub use postgres::{PgSettings, PostgresStore};
pub use sqlite::SqliteStore;

use arcade_domain::StoreError;

/// Map a database error to the domain's: connection trouble is "unavailable" (retry later),
/// everything else a failure.
pub(crate) fn store_error(backend: &'static str, e: sqlx::Error) -> StoreError {
    match e {
        sqlx::Error::Io(_)
        | sqlx::Error::PoolTimedOut
        | sqlx::Error::PoolClosed
        | sqlx::Error::Tls(_)
        | sqlx::Error::WorkerCrashed => StoreError::Unavailable {
            backend,
            message: e.to_string(),
        },
        sqlx::Error::Database(ref db) if db.message().contains("database is locked") => {
            StoreError::Unavailable {
                backend,
                message: e.to_string(),
            }
        }
        other => StoreError::Failed {
            backend,
            message: other.to_string(),
        },
    }
}
