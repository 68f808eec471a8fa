//! The services tests run against: which are configured ([`url`] for a test that needs one,
//! failing under `ARCADE_REQUIRE_BACKENDS=1` when it is missing), and fresh backends per test
//! on them: a new PostgreSQL database per test (dropped afterwards) and a unique Redis key
//! prefix (cleared afterwards), so tests run in parallel against shared servers without
//! seeing each other's data.

use sqlx::Connection;

/// Set to `1` (as CI's pass against the services does) and a test whose service is not
/// configured fails instead of skipping.
pub const REQUIRE_BACKENDS: &str = "ARCADE_REQUIRE_BACKENDS";

/// A service some tests need, named by the environment variable that gives its URL.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Service {
    /// `DATABASE_URL`, when it is a `postgres://` URL (a `sqlite:` one is the embedded store).
    Postgres,
    /// `REDIS_URL`.
    Redis,
    /// `NATS_URL`.
    Nats,
}

impl Service {
    pub fn variable(self) -> &'static str {
        match self {
            Self::Postgres => "DATABASE_URL",
            Self::Redis => "REDIS_URL",
            Self::Nats => "NATS_URL",
        }
    }

    fn accepts(self, url: &str) -> bool {
        match self {
            Self::Postgres => url.starts_with("postgres://") || url.starts_with("postgresql://"),
            Self::Redis | Self::Nats => !url.is_empty(),
        }
    }

    fn needs(self) -> &'static str {
        match self {
            Self::Postgres => "DATABASE_URL set to a postgres:// URL",
            Self::Redis => "REDIS_URL",
            Self::Nats => "NATS_URL",
        }
    }
}

/// The service's URL when the environment configures it, for code that works either way
/// (a test server runs on the embedded store without `DATABASE_URL`). A test that needs the
/// service asks [`url`] instead.
pub fn configured(service: Service) -> Option<String> {
    std::env::var(service.variable())
        .ok()
        .filter(|u| service.accepts(u))
}

/// Whether [`REQUIRE_BACKENDS`] asks for every service.
pub fn backends_required() -> bool {
    matches!(
        std::env::var(REQUIRE_BACKENDS).as_deref(),
        Ok("1" | "true" | "yes")
    )
}

/// The URL of a service the calling test needs; `None` means the test must return at once.
///
/// Missing, it is a failure when [`REQUIRE_BACKENDS`] is set: CI sets it for its pass against
/// PostgreSQL, Redis and NATS, where a test that returned early would pass without checking
/// anything. Otherwise it is a skip, said on stderr: a developer machine without these services
/// still runs `cargo test` (the embedded default needs none of them) and learns which tests
/// did not run and how to run them.
#[track_caller]
pub fn url(service: Service) -> Option<String> {
    lookup(
        service.variable(),
        service.needs(),
        |u| service.accepts(u),
        backends_required(),
    )
}

/// The URLs of every service in `services`, or `None` (after a failure or a skip as [`url`]
/// says) when one is missing.
pub fn urls<const N: usize>(services: [Service; N]) -> Option<[String; N]> {
    let found = services.map(url);
    if found.iter().any(Option::is_none) {
        return None;
    }
    Some(found.map(|u| u.expect("every URL was found")))
}

/// `variable`'s value when `accepts` takes it; otherwise a failure when `required`, else a
/// skip said once.
#[track_caller]
fn lookup(
    variable: &str,
    needs: &str,
    accepts: impl Fn(&str) -> bool,
    required: bool,
) -> Option<String> {
    if let Some(url) = std::env::var(variable).ok().filter(|u| accepts(u)) {
        return Some(url);
    }
    missing(needs, required);
    None
}

/// A test cannot run without `needs`: a failure when [`REQUIRE_BACKENDS`] is set, else a skip
/// said once (the caller returns at once). For what a test needs besides a service's URL,
/// such as a server's binaries to run one of its own.
#[track_caller]
pub fn skip_or_fail(needs: &str) {
    missing(needs, backends_required());
}

#[track_caller]
fn missing(needs: &str, required: bool) {
    let test = std::thread::current()
        .name()
        .unwrap_or("this test")
        .to_owned();
    assert!(
        !required,
        "{test} needs {needs}, which is missing, and {REQUIRE_BACKENDS}=1 makes that a failure"
    );
    say_once(format!(
        "skipping the tests that need {needs}, which is missing \
         (with {REQUIRE_BACKENDS}=1 they fail instead)"
    ));
}

/// Say a line once per test binary. Written straight to stderr: the test harness captures
/// `eprintln!`, which would hide the line.
fn say_once(line: String) {
    use std::collections::HashSet;
    use std::io::Write;
    use std::sync::Mutex;
    static SAID: Mutex<Option<HashSet<String>>> = Mutex::new(None);
    if let Ok(mut said) = SAID.lock()
        && said.get_or_insert_with(HashSet::new).insert(line.clone())
    {
        let _ = writeln!(std::io::stderr(), "{line}");
    }
}

/// A fresh, migrated database on the PostgreSQL server; dropped when the last clone goes.
#[derive(Debug)]
pub struct TestDatabase {
    pub url: String,
    admin_url: String,
    name: String,
}

impl TestDatabase {
    pub async fn create(server: &str) -> Self {
        let name = format!("arcade_test_{}", uuid::Uuid::new_v4().simple());
        let mut admin = sqlx::PgConnection::connect(server)
            .await
            .expect("PostgreSQL answers at DATABASE_URL");
        sqlx::query(&format!("CREATE DATABASE {name}"))
            .execute(&mut admin)
            .await
            .expect("a test database");
        admin.close().await.ok();
        let (base, query) = match server.split_once('?') {
            Some((b, q)) => (b, format!("?{q}")),
            None => (server, String::new()),
        };
        let base = match base.rfind('/') {
            Some(i) if i > base.find("://").map_or(0, |s| s + 3) => &base[..i],
            _ => base,
        };
        Self {
            url: format!("{base}/{name}{query}"),
            admin_url: server.to_owned(),
            name,
        }
    }
}

/// Run async clean-up from `Drop`, which cannot await and may run while the test's runtime
/// shuts down: on a thread with a runtime of its own, waiting for it to finish.
fn clean_up<F>(work: F)
where
    F: std::future::Future<Output = ()> + Send + 'static,
{
    let _ = std::thread::spawn(move || {
        if let Ok(rt) = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
        {
            rt.block_on(work);
        }
    })
    .join();
}

impl Drop for TestDatabase {
    fn drop(&mut self) {
        let (admin, name) = (self.admin_url.clone(), self.name.clone());
        clean_up(async move {
            if let Ok(mut c) = sqlx::PgConnection::connect(&admin).await {
                let _ = sqlx::query(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
                    .execute(&mut c)
                    .await;
            }
        });
    }
}

/// A unique Redis prefix whose keys are deleted when it goes.
#[derive(Debug)]
pub struct TestRedisPrefix {
    pub url: String,
    pub prefix: String,
}

impl TestRedisPrefix {
    pub fn new(url: &str) -> Self {
        Self {
            url: url.to_owned(),
            prefix: format!("arcade-test-{}:", uuid::Uuid::new_v4().simple()),
        }
    }
}

impl Drop for TestRedisPrefix {
    fn drop(&mut self) {
        let (url, prefix) = (self.url.clone(), self.prefix.clone());
        clean_up(async move {
            if let Ok(redis) = arcade_sessions::RedisBackend::connect(&url, &prefix).await {
                let _ = redis.clear().await;
            }
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A variable no environment sets.
    const UNSET: &str = "ARCADE_TEST_NEVER_SET_URL";

    #[test]
    #[should_panic(expected = "needs ARCADE_TEST_NEVER_SET_URL, which is missing")]
    fn a_missing_url_fails_the_test_when_backends_are_required() {
        lookup(UNSET, UNSET, |_| true, true);
    }

    #[test]
    fn a_missing_url_is_a_skip_when_backends_are_not_required() {
        assert_eq!(lookup(UNSET, UNSET, |_| true, false), None);
    }

    #[test]
    fn a_set_url_is_returned_whether_or_not_backends_are_required() {
        // PATH is set wherever tests run.
        let path = std::env::var("PATH").unwrap();
        for required in [false, true] {
            assert_eq!(
                lookup("PATH", "PATH", |_| true, required),
                Some(path.clone())
            );
        }
    }

    #[test]
    fn a_url_of_another_kind_is_missing() {
        assert!(lookup("PATH", "PATH", |_| false, false).is_none());
        assert!(Service::Postgres.accepts("postgresql://db/arcade"));
        assert!(!Service::Postgres.accepts("sqlite:data/arcade.db"));
        assert!(!Service::Redis.accepts(""));
    }
}
