//! One Redis connection per process, shared by the session store and the rank index.
//!
//! A [`ConnectionManager`] multiplexes every command of the process over one connection and
//! reconnects by itself. Its timeouts are short on purpose: a paused or vanished Redis must
//! turn into a quick unavailable or timed-out `BackendError` (readiness goes red, requests get 503), never a
//! request that hangs.

use std::borrow::Cow;
use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use arcade_domain::{BackendError, BackendErrorKind};
use redis::aio::{ConnectionManager, ConnectionManagerConfig};
use redis::{ErrorKind, RedisError, ServerErrorKind};

use crate::redis_ranks::RedisRankIndex;
use crate::redis_sessions::RedisSessionStore;

const BACKEND: &str = "redis";
/// Each connection attempt gives up after this.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(1);
/// Each command gives up after this (a paused server, a saturated network).
const RESPONSE_TIMEOUT: Duration = Duration::from_secs(2);
/// Reconnection attempts before pending commands fail; commands wait for the attempts, so few
/// and short keeps the worst case at a few seconds.
const RECONNECT_RETRIES: usize = 2;

/// The Redis connection and the key prefix every adapter puts in front of its keys, so that
/// several deployments (or test runs) can share one server.
///
/// Cloning is cheap and shares the connection: build one per process and hand out
/// [`sessions`](Self::sessions) and [`ranks`](Self::ranks).
#[derive(Clone)]
pub struct RedisBackend {
    conn: ConnectionManager,
    prefix: Arc<str>,
}

impl fmt::Debug for RedisBackend {
    // The connection's own Debug shows the URL, which may hold a password.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RedisBackend")
            .field("prefix", &self.prefix)
            .finish_non_exhaustive()
    }
}

impl RedisBackend {
    /// Connect to `url` (`redis://[:password@]host:port[/db]`) and check that the server
    /// answers. Every key the adapters write starts with `prefix` (e.g. `arcade:`).
    pub async fn connect(url: &str, prefix: &str) -> Result<Self, BackendError> {
        let client = redis::Client::open(url)
            .map_err(|e| defect("the Redis URL is not valid").with_source(e))?;
        let config = ConnectionManagerConfig::new()
            .set_connection_timeout(Some(CONNECT_TIMEOUT))
            .set_response_timeout(Some(RESPONSE_TIMEOUT))
            .set_number_of_retries(RECONNECT_RETRIES)
            .set_min_delay(Duration::from_millis(50))
            .set_max_delay(Duration::from_millis(500));
        let conn = ConnectionManager::new_with_config(client, config)
            .await
            .map_err(backend_error)?;
        Ok(Self {
            conn,
            prefix: prefix.into(),
        })
    }

    /// The session store on this connection.
    pub fn sessions(&self) -> RedisSessionStore {
        RedisSessionStore::new(self.clone())
    }

    /// The rank index on this connection.
    pub fn ranks(&self) -> RedisRankIndex {
        RedisRankIndex::new(self.clone())
    }

    pub fn prefix(&self) -> &str {
        &self.prefix
    }

    /// Delete every key under the prefix and return how many there were: for resetting a
    /// deployment's live state, and for tests that share a server. Never touches other keys.
    /// SCAN walks the keyspace in steps, so the server is not blocked on a large database.
    pub async fn clear(&self) -> Result<u64, BackendError> {
        let pattern = format!("{}*", glob_escape(&self.prefix));
        let mut conn = self.conn();
        let mut cursor: u64 = 0;
        let mut deleted = 0;
        loop {
            let (next, keys): (u64, Vec<Vec<u8>>) = redis::cmd("SCAN")
                .arg(cursor)
                .arg("MATCH")
                .arg(&pattern)
                .arg("COUNT")
                .arg(1000)
                .query_async(&mut conn)
                .await
                .map_err(backend_error)?;
            if !keys.is_empty() {
                let n: u64 = redis::cmd("UNLINK")
                    .arg(&keys)
                    .query_async(&mut conn)
                    .await
                    .map_err(backend_error)?;
                deleted += n;
            }
            if next == 0 {
                return Ok(deleted);
            }
            cursor = next;
        }
    }

    pub(crate) fn conn(&self) -> ConnectionManager {
        self.conn.clone()
    }

    pub(crate) fn key(&self, rest: std::fmt::Arguments<'_>) -> String {
        format!("{}{rest}", self.prefix)
    }

    pub(crate) async fn ping(&self) -> Result<(), BackendError> {
        redis::cmd("PING")
            .query_async::<String>(&mut self.conn())
            .await
            .map(drop)
            .map_err(backend_error)
    }
}

/// The domain's error for a Redis error, classified where it is converted: a timeout, the
/// connection refused or dropped, and a server that is loading, failing over or asks to try
/// again are transient; anything else is a bug or corrupt data.
pub(crate) fn backend_error(e: RedisError) -> BackendError {
    BackendError::caused_by(kind_of(&e), BACKEND, e)
}

fn kind_of(e: &RedisError) -> BackendErrorKind {
    use BackendErrorKind::{Conflict, Defect, ShuttingDown, TimedOut, Unavailable};
    if e.is_timeout() {
        return TimedOut;
    }
    if e.is_io_error() || e.is_connection_refusal() || e.is_connection_dropped() {
        return Unavailable;
    }
    match e.kind() {
        // LOADING: a restarted server reads its data back before it answers.
        ErrorKind::Server(ServerErrorKind::BusyLoading) => ShuttingDown,
        // TRYAGAIN: keys being moved between nodes; the same command works a moment later.
        ErrorKind::Server(ServerErrorKind::TryAgain) => Conflict,
        // A cluster or a primary being failed over; a replica not yet promoted.
        ErrorKind::Server(
            ServerErrorKind::ClusterDown | ServerErrorKind::MasterDown | ServerErrorKind::ReadOnly,
        ) => Unavailable,
        _ => Defect,
    }
}

/// A defect of our own making (corrupt data, an impossible value).
pub(crate) fn defect(detail: impl Into<Cow<'static, str>>) -> BackendError {
    BackendError::defect(BACKEND, detail)
}

/// Escape the characters SCAN's MATCH treats as wildcards, so a prefix matches literally.
fn glob_escape(raw: &str) -> String {
    let mut out = String::with_capacity(raw.len());
    for c in raw.chars() {
        if matches!(c, '*' | '?' | '[' | ']' | '\\') {
            out.push('\\');
        }
        out.push(c);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn prefixes_match_literally() {
        assert_eq!(glob_escape("arcade:"), "arcade:");
        assert_eq!(glob_escape("a*b?[c]\\"), "a\\*b\\?\\[c\\]\\\\");
    }

    #[test]
    fn connection_trouble_and_a_busy_server_are_transient() {
        use BackendErrorKind::{Conflict, ShuttingDown, TimedOut, Unavailable};
        let io = |kind| RedisError::from(std::io::Error::new(kind, "x"));
        let server = |kind| RedisError::from((ErrorKind::Server(kind), "from the server"));
        for (e, kind) in [
            (io(std::io::ErrorKind::TimedOut), TimedOut),
            (io(std::io::ErrorKind::ConnectionRefused), Unavailable),
            (io(std::io::ErrorKind::ConnectionReset), Unavailable),
            (io(std::io::ErrorKind::BrokenPipe), Unavailable),
            (io(std::io::ErrorKind::UnexpectedEof), Unavailable),
            (
                RedisError::from((ErrorKind::Io, "connection dropped")),
                Unavailable,
            ),
            (server(ServerErrorKind::BusyLoading), ShuttingDown),
            (server(ServerErrorKind::TryAgain), Conflict),
            (server(ServerErrorKind::MasterDown), Unavailable),
            (server(ServerErrorKind::ClusterDown), Unavailable),
            (server(ServerErrorKind::ReadOnly), Unavailable),
        ] {
            assert_eq!(kind_of(&e), kind, "{e}");
            assert_eq!(backend_error(e).kind(), kind);
        }
    }

    #[test]
    fn errors_of_our_own_making_are_defects() {
        for e in [
            RedisError::from((ErrorKind::Server(ServerErrorKind::ResponseError), "ERR")),
            RedisError::from((ErrorKind::Server(ServerErrorKind::NoScript), "NOSCRIPT")),
            RedisError::from((ErrorKind::UnexpectedReturnType, "not a number")),
            RedisError::from((ErrorKind::AuthenticationFailed, "WRONGPASS")),
        ] {
            assert_eq!(kind_of(&e), BackendErrorKind::Defect, "{e}");
        }
    }

    #[test]
    fn the_error_keeps_the_redis_error_as_its_source() {
        let e = backend_error(RedisError::from((ErrorKind::Io, "connection dropped")));
        let source = std::error::Error::source(&e).expect("the driver's error");
        assert!(
            source.to_string().contains("connection dropped"),
            "{source}"
        );
    }
}
