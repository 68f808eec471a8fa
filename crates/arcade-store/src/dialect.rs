//! What differs between the two databases for the stores written once for both (`admin`,
//! `names`, `player_data`, `scores`, `seasons`): the pools and how a transaction begins ([`Backend`]),
//! the column types that differ, span names, and where the SQL itself differs, the two texts
//! side by side ([`pick!`]).
//!
//! A store trait's implementation is written once, as a macro that expands one `impl` per
//! backend (`sqlite` or `postgres`); each expansion is ordinary code on a concrete store, so
//! it needs no bounds on sqlx's generic traits. One SQL text serves both databases wherever
//! they read it alike: statements write their placeholders `$1`, `$2`, …, which PostgreSQL
//! numbers and sqlx binds by their number in SQLite too (`$NNN`), so a placeholder may be
//! used twice or out of order in either.

use arcade_domain::BackendError;
use sqlx::{Pool, Postgres, Sqlite, Transaction};
use uuid::Uuid;
use uuid::fmt::Hyphenated;

use crate::postgres::PostgresStore;
use crate::sqlite::SqliteStore;
use crate::{Dialect, backend_error};

/// A store on one database, as the code written once for both sees it.
pub(crate) trait Backend {
    type Db: sqlx::Database;
    /// A uuid column as bound and read: hyphenated text in SQLite, `uuid` in PostgreSQL.
    type Uuid: Into<Uuid>;
    /// A count column (score, ticks, rules version): 64-bit in SQLite, 32-bit in PostgreSQL.
    type Int: Into<i64>;

    /// Whose error codes the database's errors carry.
    const DIALECT: Dialect;
    /// The backend's name in errors and span names.
    const NAME: &'static str;
    /// The OpenTelemetry `db.system` of the backend's spans.
    const SYSTEM: &'static str;

    /// `id` as a uuid column takes it.
    fn uuid(id: Uuid) -> Self::Uuid;

    /// Reads that may lag behind the latest writes (PostgreSQL: the read pool, a replica
    /// when one is configured).
    fn reads(&self) -> &Pool<Self::Db>;

    /// Reads that see every committed write (PostgreSQL: the primary): what an operator just
    /// changed, or what a change's event tells a replica to read again.
    fn fresh_reads(&self) -> &Pool<Self::Db>;

    /// Writes of one statement.
    fn writes(&self) -> &Pool<Self::Db>;

    /// A transaction that writes. SQLite's takes the write lock at once (`BEGIN IMMEDIATE`):
    /// one that began reading and then wrote could not upgrade its lock past a concurrent
    /// writer's commit.
    async fn begin_write(&self) -> Result<Transaction<'static, Self::Db>, BackendError>;

    /// A transaction that reads several tables as of one moment, on the fresh reads.
    /// SQLite's reads one snapshot anyway; PostgreSQL's is made repeatable read and read only.
    async fn begin_snapshot(&self) -> Result<Transaction<'static, Self::Db>, BackendError>;

    /// The domain's error for a database error of this backend.
    fn err(e: sqlx::Error) -> BackendError {
        backend_error(Self::DIALECT, e)
    }
}

/// The connection of a backend, inside a transaction.
pub(crate) type Conn<B> = <<B as Backend>::Db as sqlx::Database>::Connection;

/// A statement of a backend with its values bound.
pub(crate) type Statement<'q, B> = sqlx::query::Query<
    'q,
    <B as Backend>::Db,
    <<B as Backend>::Db as sqlx::Database>::Arguments<'q>,
>;

impl Backend for SqliteStore {
    type Db = Sqlite;
    type Uuid = Hyphenated;
    type Int = i64;

    const DIALECT: Dialect = Dialect::Sqlite;
    const NAME: &'static str = "sqlite";
    const SYSTEM: &'static str = "sqlite";

    fn uuid(id: Uuid) -> Hyphenated {
        id.hyphenated()
    }

    fn reads(&self) -> &Pool<Sqlite> {
        &self.reads
    }

    /// WAL readers see every committed write.
    fn fresh_reads(&self) -> &Pool<Sqlite> {
        &self.reads
    }

    fn writes(&self) -> &Pool<Sqlite> {
        &self.writes
    }

    async fn begin_write(&self) -> Result<Transaction<'static, Sqlite>, BackendError> {
        self.writes
            .begin_with("BEGIN IMMEDIATE")
            .await
            .map_err(Self::err)
    }

    async fn begin_snapshot(&self) -> Result<Transaction<'static, Sqlite>, BackendError> {
        self.reads.begin().await.map_err(Self::err)
    }
}

impl Backend for PostgresStore {
    type Db = Postgres;
    type Uuid = Uuid;
    type Int = i32;

    const DIALECT: Dialect = Dialect::Postgres;
    const NAME: &'static str = "postgres";
    const SYSTEM: &'static str = "postgresql";

    fn uuid(id: Uuid) -> Uuid {
        id
    }

    fn reads(&self) -> &Pool<Postgres> {
        &self.reads
    }

    fn fresh_reads(&self) -> &Pool<Postgres> {
        self.pool()
    }

    fn writes(&self) -> &Pool<Postgres> {
        self.pool()
    }

    async fn begin_write(&self) -> Result<Transaction<'static, Postgres>, BackendError> {
        self.pool().begin().await.map_err(Self::err)
    }

    async fn begin_snapshot(&self) -> Result<Transaction<'static, Postgres>, BackendError> {
        let mut tx = self.pool().begin().await.map_err(Self::err)?;
        sqlx::query("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ READ ONLY")
            .execute(&mut *tx)
            .await
            .map_err(Self::err)?;
        Ok(tx)
    }
}

/// The branch of the backend named first: `pick!(sqlite, sqlite: a, postgres: b)` is `a`.
/// For what genuinely differs (SQL the other database does not read, a step only one needs),
/// kept side by side in the code written once.
macro_rules! pick {
    (sqlite, sqlite: $sqlite:expr, postgres: $postgres:expr $(,)?) => {
        $sqlite
    };
    (postgres, sqlite: $sqlite:expr, postgres: $postgres:expr $(,)?) => {
        $postgres
    };
}

/// The span names of a store's methods, each as a const for
/// `#[tracing::instrument(name = …)]`: `"<backend>.<method>"`, e.g. `sqlite.seasons` for
/// `span_names!(sqlite: SEASONS = seasons)`.
macro_rules! span_names {
    ($backend:ident: $($name:ident = $method:ident),+ $(,)?) => {
        $(
            const $name: &str = concat!(stringify!($backend), ".", stringify!($method));
        )+
    };
}

pub(crate) use {pick, span_names};

#[cfg(test)]
mod tests {
    use sqlx::sqlite::SqlitePoolOptions;

    async fn memory() -> sqlx::SqlitePool {
        SqlitePoolOptions::new()
            .max_connections(1)
            .connect("sqlite::memory:")
            .await
            .unwrap()
    }

    #[test]
    fn span_names_are_the_backend_then_the_method() {
        span_names!(postgres: ERASE = erase_player);
        assert_eq!(ERASE, "postgres.erase_player");
    }

    #[tokio::test]
    async fn sqlite_binds_numbered_placeholders_by_their_number() {
        let pool = memory().await;
        let (second_first, first): (String, String) = sqlx::query_as("SELECT $2 || $1, $1")
            .bind("a")
            .bind("b")
            .fetch_one(&pool)
            .await
            .unwrap();
        assert_eq!((second_first.as_str(), first.as_str()), ("ba", "a"));
    }

    #[tokio::test]
    async fn sqlite_reads_a_placeholder_used_twice_as_one_value() {
        let pool = memory().await;
        for (after, expected) in [(None, 3), (Some("b"), 1)] {
            let n: i64 = sqlx::query_scalar(
                "SELECT COUNT(*) FROM (SELECT 'a' AS k UNION ALL SELECT 'b' UNION ALL SELECT 'c') \
                 WHERE CAST($1 AS TEXT) IS NULL OR k > $1 LIMIT $2",
            )
            .bind(after)
            .bind(10_i64)
            .fetch_one(&pool)
            .await
            .unwrap();
            assert_eq!(n, expected, "after {after:?}");
        }
    }
}
