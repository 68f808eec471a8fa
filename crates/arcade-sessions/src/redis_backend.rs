//! One Redis connection per process, shared by the session store and the rank index.
//!
//! A [`ConnectionManager`] multiplexes every command of the process over one connection and
//! reconnects by itself. Its timeouts are short on purpose: a paused or vanished Redis must
//! turn into a quick `StoreError::Unavailable` (readiness goes red, requests get 503), never a
//! request that hangs.

use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use arcade_domain::StoreError;
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
    pub async fn connect(url: &str, prefix: &str) -> Result<Self, StoreError> {
        let client = redis::Client::open(url).map_err(|e| StoreError::Failed {
            backend: BACKEND,
            message: format!("invalid Redis URL: {e}"),
        })?;
        let config = ConnectionManagerConfig::new()
            .set_connection_timeout(Some(CONNECT_TIMEOUT))
            .set_response_timeout(Some(RESPONSE_TIMEOUT))
            .set_number_of_retries(RECONNECT_RETRIES)
            .set_min_delay(Duration::from_millis(50))
            .set_max_delay(Duration::from_millis(500));
        let conn = ConnectionManager::new_with_config(client, config)
            .await
            .map_err(store_error)?;
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
    pub async fn clear(&self) -> Result<u64, StoreError> {
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
                .map_err(store_error)?;
            if !keys.is_empty() {
                let n: u64 = redis::cmd("UNLINK")
                    .arg(&keys)
                    .query_async(&mut conn)
                    .await
                    .map_err(store_error)?;
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

    pub(crate) async fn ping(&self) -> Result<(), StoreError> {
        redis::cmd("PING")
            .query_async::<String>(&mut self.conn())
            .await
            .map(drop)
            .map_err(store_error)
    }
}

/// Connection trouble (refused, reset, timed out) and a server that is loading or failing over
/// are `Unavailable`: retrying later may work. Anything else is a bug or corrupt data.
pub(crate) fn store_error(e: RedisError) -> StoreError {
    let transient = e.is_io_error()
        || e.is_timeout()
        || e.is_connection_refusal()
        || e.is_connection_dropped()
        || matches!(
            e.kind(),
            ErrorKind::Server(
                ServerErrorKind::BusyLoading
                    | ServerErrorKind::TryAgain
                    | ServerErrorKind::ClusterDown
                    | ServerErrorKind::MasterDown
                    | ServerErrorKind::ReadOnly
            )
        );
    if transient {
        StoreError::Unavailable {
            backend: BACKEND,
            message: e.to_string(),
        }
    } else {
        failed(e)
    }
}

pub(crate) fn failed(e: impl fmt::Display) -> StoreError {
    StoreError::Failed {
        backend: BACKEND,
        message: e.to_string(),
    }
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
}
