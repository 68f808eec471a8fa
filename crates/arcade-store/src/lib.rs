//! Durable score store adapters: players, verified scores and per-board bests in SQLite (the
//! embedded default) or PostgreSQL (production), behind the domain's `ScoreStore` port
//! (`scores`, with each store's own writes of finished games in `sqlite` and `postgres`); and
//! the rank indexes answered from them: `postgres_ranks` (boards read from PostgreSQL's
//! bests) and `failover_ranks` (a cache in front of the store); and the outbox of events
//! waiting for the bus, written with the changes they report (`postgres_outbox`,
//! `sqlite_outbox`); and operators with the audit log of their actions (`admin`), and what
//! they keep of each player, exported or erased (`player_data`); and the name deny list
//! (`names`); the retention of replays and histories (`postgres_retention`,
//! `sqlite_retention`); and seasons with their boards (`seasons`). The stores written once
//! for both databases take what differs from `dialect`. Migrations live in
//! `migrations/<backend>/`.

mod admin;
mod classify;
mod dialect;
mod failover_ranks;
mod group_commit;
mod names;
mod outbox;
mod player_data;
mod postgres;
mod postgres_outbox;
mod postgres_ranks;
mod postgres_retention;
mod rows;
mod scores;
mod seasons;
mod sqlite;
mod sqlite_outbox;
mod sqlite_retention;

pub use failover_ranks::FailoverRankIndex;
pub use postgres::{PgSettings, PostgresStore};
pub use postgres_retention::RETENTION_LOCK;
pub use sqlite::SqliteStore;

pub(crate) use classify::{Dialect, backend_error, retrying_a_conflict_once};

/// Rows one statement of the retention changes at most, so that a large table is never
/// locked for long.
pub(crate) const RETENTION_BATCH: i64 = 500;
