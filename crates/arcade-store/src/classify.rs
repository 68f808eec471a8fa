//! What a database error means for the caller: every sqlx error becomes a [`BackendError`]
//! whose kind says whether trying again can work (the database away, shutting down, too slow,
//! a change that lost to another) or not (a defect), with the driver's error as its source.

use std::future::Future;
use std::io;

use arcade_domain::{BackendError, BackendErrorKind};

/// Which database said it: SQLSTATE codes (PostgreSQL) and result codes (SQLite) differ.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Dialect {
    Postgres,
    Sqlite,
}

impl Dialect {
    fn backend(self) -> &'static str {
        match self {
            Self::Postgres => "postgres",
            Self::Sqlite => "sqlite",
        }
    }
}

/// The domain's error for a database error, classified where it is converted.
pub(crate) fn backend_error(dialect: Dialect, e: sqlx::Error) -> BackendError {
    BackendError::caused_by(kind_of(dialect, &e), dialect.backend(), e)
}

/// The kind of a database error.
pub(crate) fn kind_of(dialect: Dialect, e: &sqlx::Error) -> BackendErrorKind {
    use BackendErrorKind::{Defect, ShuttingDown, TimedOut, Unavailable};
    match e {
        sqlx::Error::Io(io) if io_timed_out(io) => TimedOut,
        // No connection could be had in time: the database is away or every connection busy.
        sqlx::Error::PoolTimedOut
        | sqlx::Error::Io(_)
        | sqlx::Error::Tls(_)
        | sqlx::Error::WorkerCrashed => Unavailable,
        // Only a process that is stopping closes its pools.
        sqlx::Error::PoolClosed => ShuttingDown,
        sqlx::Error::Database(db) => match (dialect, db.code()) {
            (Dialect::Postgres, Some(code)) => sqlstate_kind(&code),
            (Dialect::Sqlite, Some(code)) => sqlite_kind(&code),
            (_, None) => Defect,
        },
        _ => Defect,
    }
}

fn io_timed_out(e: &io::Error) -> bool {
    matches!(
        e.kind(),
        io::ErrorKind::TimedOut | io::ErrorKind::WouldBlock
    )
}

/// The kind of a PostgreSQL error by its SQLSTATE.
pub(crate) fn sqlstate_kind(code: &str) -> BackendErrorKind {
    use BackendErrorKind::{Conflict, Defect, ShuttingDown, TimedOut, Unavailable};
    match code {
        // admin_shutdown, crash_shutdown, cannot_connect_now (starting up or shutting down).
        "57P01" | "57P02" | "57P03" => ShuttingDown,
        // too_many_connections.
        "53300" => Unavailable,
        // query_canceled: the statement timeout.
        "57014" => TimedOut,
        // serialization_failure, deadlock_detected, lock_not_available.
        "40001" | "40P01" | "55P03" => Conflict,
        // Class 08: connection exception.
        c if c.starts_with("08") => Unavailable,
        _ => Defect,
    }
}

/// The kind of a SQLite error by its (extended) result code.
pub(crate) fn sqlite_kind(code: &str) -> BackendErrorKind {
    use BackendErrorKind::{Conflict, Defect, Unavailable};
    let Ok(extended) = code.parse::<i32>() else {
        return Defect;
    };
    match extended & 0xff {
        // SQLITE_BUSY, SQLITE_LOCKED: another connection holds the lock past the busy timeout.
        5 | 6 => Conflict,
        // SQLITE_IOERR, SQLITE_FULL, SQLITE_CANTOPEN: the disk, not the data.
        10 | 13 | 14 => Unavailable,
        _ => Defect,
    }
}

/// Run a write, and once more if it lost to a concurrent change (a serialization failure, a
/// deadlock, a lock not available): the second try almost always wins, and a caller that got
/// the conflict would only have to send the same request again.
pub(crate) async fn retrying_a_conflict_once<T, F, Fut>(
    dialect: Dialect,
    mut write: F,
) -> Result<T, sqlx::Error>
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Result<T, sqlx::Error>>,
{
    match write().await {
        Err(e) if kind_of(dialect, &e) == BackendErrorKind::Conflict => {
            tracing::debug!(error = %e, "write conflict: trying once more");
            write().await
        }
        other => other,
    }
}

#[cfg(test)]
mod tests {
    use std::borrow::Cow;
    use std::sync::atomic::{AtomicUsize, Ordering};

    use super::*;
    use BackendErrorKind::{Conflict, Defect, ShuttingDown, TimedOut, Unavailable};

    /// A database error with a code, as a driver reports it.
    #[derive(Debug)]
    struct Coded(&'static str);

    impl std::fmt::Display for Coded {
        fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
            write!(f, "error {}", self.0)
        }
    }

    impl std::error::Error for Coded {}

    impl sqlx::error::DatabaseError for Coded {
        fn message(&self) -> &str {
            self.0
        }
        fn code(&self) -> Option<Cow<'_, str>> {
            Some(Cow::Borrowed(self.0))
        }
        fn as_error(&self) -> &(dyn std::error::Error + Send + Sync + 'static) {
            self
        }
        fn as_error_mut(&mut self) -> &mut (dyn std::error::Error + Send + Sync + 'static) {
            self
        }
        fn into_error(self: Box<Self>) -> Box<dyn std::error::Error + Send + Sync + 'static> {
            self
        }
        fn kind(&self) -> sqlx::error::ErrorKind {
            sqlx::error::ErrorKind::Other
        }
    }

    fn database(code: &'static str) -> sqlx::Error {
        sqlx::Error::Database(Box::new(Coded(code)))
    }

    #[test]
    fn sqlstates_that_a_retry_can_outlast_are_transient() {
        for (code, kind) in [
            ("57P01", ShuttingDown),
            ("57P02", ShuttingDown),
            ("57P03", ShuttingDown),
            ("53300", Unavailable),
            ("57014", TimedOut),
            ("40001", Conflict),
            ("40P01", Conflict),
            ("55P03", Conflict),
            ("08000", Unavailable),
            ("08006", Unavailable),
            ("08P01", Unavailable),
        ] {
            assert_eq!(sqlstate_kind(code), kind, "{code}");
            assert_eq!(kind_of(Dialect::Postgres, &database(code)), kind, "{code}");
        }
    }

    #[test]
    fn sqlstates_of_bad_data_or_bad_sql_are_defects() {
        // unique_violation, foreign_key_violation, invalid_text_representation,
        // undefined_table, syntax_error, disk_full (class 53 but not 53300).
        for code in ["23505", "23503", "22P02", "42P01", "42601", "53100"] {
            assert_eq!(sqlstate_kind(code), Defect, "{code}");
        }
        assert_eq!(kind_of(Dialect::Postgres, &database("23505")), Defect);
    }

    #[test]
    fn driver_errors_of_the_connection_are_transient() {
        let io = |kind| sqlx::Error::Io(io::Error::new(kind, "x"));
        for (e, kind) in [
            (sqlx::Error::PoolTimedOut, Unavailable),
            (sqlx::Error::PoolClosed, ShuttingDown),
            (sqlx::Error::WorkerCrashed, Unavailable),
            (sqlx::Error::Tls("handshake".into()), Unavailable),
            (io(io::ErrorKind::ConnectionRefused), Unavailable),
            (io(io::ErrorKind::ConnectionReset), Unavailable),
            (io(io::ErrorKind::UnexpectedEof), Unavailable),
            (io(io::ErrorKind::TimedOut), TimedOut),
        ] {
            assert_eq!(kind_of(Dialect::Postgres, &e), kind, "{e}");
        }
    }

    #[test]
    fn errors_about_rows_and_types_are_defects() {
        for e in [
            sqlx::Error::RowNotFound,
            sqlx::Error::ColumnNotFound("x".into()),
            sqlx::Error::Protocol("unexpected message".into()),
            sqlx::Error::Decode("bad".into()),
        ] {
            assert_eq!(kind_of(Dialect::Postgres, &e), Defect, "{e}");
        }
    }

    #[test]
    fn sqlite_busy_is_a_conflict_and_its_disk_errors_unavailable() {
        for (code, kind) in [
            ("5", Conflict),
            ("517", Conflict),
            ("6", Conflict),
            ("10", Unavailable),
            ("3338", Unavailable),
            ("13", Unavailable),
            ("14", Unavailable),
            ("19", Defect),
            ("2067", Defect),
            ("not a number", Defect),
        ] {
            assert_eq!(sqlite_kind(code), kind, "{code}");
        }
        assert_eq!(kind_of(Dialect::Sqlite, &database("5")), Conflict);
    }

    #[test]
    fn the_error_keeps_the_driver_error_as_its_source() {
        let e = backend_error(Dialect::Postgres, database("57P01"));
        assert_eq!(e.kind(), ShuttingDown);
        assert_eq!(e.backend(), "postgres");
        let source = std::error::Error::source(&e).expect("the driver's error");
        assert!(source.to_string().contains("57P01"), "{source}");
    }

    #[tokio::test]
    async fn a_conflict_is_tried_once_more_and_then_reported() {
        let tries = AtomicUsize::new(0);
        let won = retrying_a_conflict_once(Dialect::Postgres, || async {
            if tries.fetch_add(1, Ordering::SeqCst) == 0 {
                Err(database("40P01"))
            } else {
                Ok(7)
            }
        })
        .await;
        assert_eq!(won.unwrap(), 7);
        assert_eq!(tries.load(Ordering::SeqCst), 2);

        tries.store(0, Ordering::SeqCst);
        let lost: Result<(), _> = retrying_a_conflict_once(Dialect::Postgres, || async {
            tries.fetch_add(1, Ordering::SeqCst);
            Err(database("40001"))
        })
        .await;
        let lost = backend_error(Dialect::Postgres, lost.unwrap_err());
        assert_eq!(lost.kind(), Conflict);
        assert_eq!(tries.load(Ordering::SeqCst), 2, "tried twice, not more");

        tries.store(0, Ordering::SeqCst);
        let down: Result<(), _> = retrying_a_conflict_once(Dialect::Postgres, || async {
            tries.fetch_add(1, Ordering::SeqCst);
            Err(database("57P01"))
        })
        .await;
        let down = backend_error(Dialect::Postgres, down.unwrap_err());
        assert_eq!(down.kind(), ShuttingDown);
        assert_eq!(
            tries.load(Ordering::SeqCst),
            1,
            "only a conflict is tried again"
        );
    }
}
