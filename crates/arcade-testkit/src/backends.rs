//! Fresh backends per test when the environment names real services: a new PostgreSQL
//! database per test (dropped afterwards) and a unique Redis key prefix (cleared afterwards),
//! so tests run in parallel against shared servers without seeing each other's data.

use sqlx::Connection;

/// `DATABASE_URL` when it names a PostgreSQL server.
pub fn postgres_url() -> Option<String> {
    std::env::var("DATABASE_URL")
        .ok()
        .filter(|u| u.starts_with("postgres://") || u.starts_with("postgresql://"))
}

pub fn redis_url() -> Option<String> {
    std::env::var("REDIS_URL").ok().filter(|u| !u.is_empty())
}

pub fn nats_url() -> Option<String> {
    std::env::var("NATS_URL").ok().filter(|u| !u.is_empty())
}

/// Say once per test binary that a backend's tests were skipped. Written straight to stderr:
/// the test harness captures `eprintln!`, which would hide the line.
pub fn say_skipped(what: &'static str) {
    use std::collections::HashSet;
    use std::io::Write;
    use std::sync::Mutex;
    static SAID: Mutex<Option<HashSet<&'static str>>> = Mutex::new(None);
    if let Ok(mut said) = SAID.lock()
        && said.get_or_insert_with(HashSet::new).insert(what)
    {
        let _ = writeln!(std::io::stderr(), "{what}");
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
