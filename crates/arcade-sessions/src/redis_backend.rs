//! One Redis connection per process, shared by the session store and the rank index.
//!
//! A [`ConnectionManager`] multiplexes every command of the process over one connection and
//! reconnects by itself. Its timeouts are short on purpose: a paused or vanished Redis must
//! turn into a quick unavailable or timed-out `BackendError` (readiness goes red, requests get
//! 503), never a request that hangs.
//!
//! Behind Sentinels ([`RedisTarget::Sentinel`]) the connection follows the primary: a command
//! that fails the way a lost or demoted primary fails (refused, dropped, `READONLY`) makes the
//! process ask the Sentinels where the primary is now and, when it moved, connect there. That
//! command is answered 503 like any outage; the next ones go to the new primary.

use std::borrow::Cow;
use std::fmt;
use std::sync::{Arc, RwLock};
use std::time::{Duration, Instant};

use arcade_domain::{BackendError, BackendErrorKind};
use redis::aio::{ConnectionLike, ConnectionManager, ConnectionManagerConfig};
use redis::sentinel::SentinelClient;
use redis::{Cmd, ErrorKind, Pipeline, RedisError, RedisFuture, ServerErrorKind, Value};

use crate::redis_ranks::RedisRankIndex;
use crate::redis_sessions::RedisSessionStore;
use crate::redis_target::RedisTarget;

const BACKEND: &str = "redis";
/// Each connection attempt gives up after this.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(1);
/// Each command gives up after this (a paused server, a saturated network).
const RESPONSE_TIMEOUT: Duration = Duration::from_secs(2);
/// Reconnection attempts before pending commands fail; commands wait for the attempts, so few
/// and short keeps the worst case at a few seconds.
const RECONNECT_RETRIES: usize = 2;
/// Asking the Sentinels where the primary is gives up after this.
const LOOKUP_TIMEOUT: Duration = Duration::from_secs(2);
/// At most one question to the Sentinels this often, however many commands fail at once.
const LOOKUP_EVERY: Duration = Duration::from_millis(200);

/// The Redis connection and the key prefix every adapter puts in front of its keys, so that
/// several deployments (or test runs) can share one server.
///
/// Cloning is cheap and shares the connection: build one per process and hand out
/// [`sessions`](Self::sessions) and [`ranks`](Self::ranks).
#[derive(Clone)]
pub struct RedisBackend {
    shared: Arc<Shared>,
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
    /// Connect to `url` (`redis://[:password@]host:port[/db]`, or the Sentinel form of
    /// [`RedisTarget`]) and check that the server answers. Every key the adapters write starts
    /// with `prefix` (e.g. `arcade:`).
    pub async fn connect(url: &str, prefix: &str) -> Result<Self, BackendError> {
        let target =
            RedisTarget::parse(url, None).map_err(|e| defect(format!("invalid Redis URL: {e}")))?;
        Self::open(&target, prefix).await
    }

    /// Connect to `target` (for a Sentinel target: to the primary the Sentinels name) and check
    /// that it answers.
    pub async fn open(target: &RedisTarget, prefix: &str) -> Result<Self, BackendError> {
        let (client, follower) = match target.sentinel_client().map_err(backend_error)? {
            None => {
                let RedisTarget::Server(info) = target else {
                    unreachable!("a target without Sentinels is one server")
                };
                (
                    redis::Client::open(info.clone()).map_err(|e| {
                        defect("the Redis connection settings are not valid").with_source(e)
                    })?,
                    None,
                )
            }
            Some(mut sentinel) => {
                let client = lookup(&mut sentinel).await?;
                (client, Some(sentinel))
            }
        };
        let primary = client.get_connection_info().addr().to_string();
        let db = client.get_connection_info().redis_settings().db();
        let manager = manager(client).await?;
        Ok(Self {
            shared: Arc::new(Shared {
                current: RwLock::new(Current {
                    generation: 0,
                    manager,
                }),
                follower: follower.map(|client| {
                    tokio::sync::Mutex::new(Follower {
                        client,
                        primary,
                        last_lookup: None,
                    })
                }),
                db,
            }),
            prefix: prefix.into(),
        })
    }

    /// The session store on this connection.
    pub fn sessions(&self) -> RedisSessionStore {
        RedisSessionStore::new(self.clone())
    }

    /// A per-client limit named `name` (its keys' part), shared by every replica on this
    /// Redis: `per_minute` at once for a fresh client, then one per interval.
    pub fn rate_limit(
        &self,
        name: &'static str,
        per_minute: std::num::NonZeroU32,
    ) -> crate::RedisRateLimit {
        crate::RedisRateLimit::new(self.clone(), name, per_minute)
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

    /// The connection to the current primary, for one or more commands.
    pub(crate) fn conn(&self) -> RedisConnection {
        let current = self
            .shared
            .current
            .read()
            .unwrap_or_else(|e| e.into_inner());
        RedisConnection {
            shared: self.shared.clone(),
            generation: current.generation,
            manager: current.manager.clone(),
        }
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

/// Whether `e` is an outage (of the server, or of its role as primary) rather than a bug: the
/// failures after which the Sentinels are asked where the primary is.
fn is_transient(e: &RedisError) -> bool {
    kind_of(e).is_transient()
}

/// The connection of the process and, behind Sentinels, what follows the primary.
struct Shared {
    current: RwLock<Current>,
    follower: Option<tokio::sync::Mutex<Follower>>,
    db: i64,
}

struct Current {
    /// Bumped each time the connection moves to another primary.
    generation: u64,
    manager: ConnectionManager,
}

struct Follower {
    client: SentinelClient,
    /// Address of the primary the connection goes to.
    primary: String,
    last_lookup: Option<Instant>,
}

impl Shared {
    /// After a command on `generation` failed as a lost primary fails: ask the Sentinels where
    /// the primary is and move there if it moved. One question at a time, and not more often
    /// than [`LOOKUP_EVERY`]; a failure only waits for the next one.
    async fn follow_primary(&self, generation: u64) {
        let Some(follower) = &self.follower else {
            return;
        };
        let mut follower = follower.lock().await;
        let current = self
            .current
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .generation;
        if current != generation
            || follower
                .last_lookup
                .is_some_and(|at| at.elapsed() < LOOKUP_EVERY)
        {
            return;
        }
        follower.last_lookup = Some(Instant::now());
        let client = match lookup(&mut follower.client).await {
            Ok(client) => client,
            Err(e) => {
                tracing::warn!(error = %e, "the Redis Sentinels name no primary yet");
                return;
            }
        };
        let primary = client.get_connection_info().addr().to_string();
        if primary == follower.primary {
            // The same primary: its connection manager reconnects by itself.
            return;
        }
        match manager(client).await {
            Ok(manager) => {
                let mut current = self.current.write().unwrap_or_else(|e| e.into_inner());
                current.generation += 1;
                current.manager = manager;
                tracing::warn!(from = %follower.primary, to = %primary, "the Redis primary moved: connected to the new one");
                follower.primary = primary;
            }
            Err(e) => {
                tracing::warn!(error = %e, %primary, "cannot connect to the new Redis primary yet")
            }
        }
    }
}

/// The primary the Sentinels name now (checked by the client to call itself primary).
async fn lookup(sentinel: &mut SentinelClient) -> Result<redis::Client, BackendError> {
    tokio::time::timeout(LOOKUP_TIMEOUT, sentinel.async_get_client())
        .await
        .map_err(|_| {
            BackendError::new(
                BackendErrorKind::TimedOut,
                BACKEND,
                "the Redis Sentinels did not answer in time",
            )
        })?
        .map_err(|e| {
            BackendError::unavailable(BACKEND, "the Redis Sentinels name no primary").with_source(e)
        })
}

async fn manager(client: redis::Client) -> Result<ConnectionManager, BackendError> {
    let config = ConnectionManagerConfig::new()
        .set_connection_timeout(Some(CONNECT_TIMEOUT))
        .set_response_timeout(Some(RESPONSE_TIMEOUT))
        .set_number_of_retries(RECONNECT_RETRIES)
        .set_min_delay(Duration::from_millis(50))
        .set_max_delay(Duration::from_millis(500));
    ConnectionManager::new_with_config(client, config)
        .await
        .map_err(backend_error)
}

/// One use of the process's connection: commands go to the primary of the moment, and a
/// failure that says the primary is gone starts following it (Sentinel targets).
#[derive(Clone)]
pub(crate) struct RedisConnection {
    shared: Arc<Shared>,
    generation: u64,
    manager: ConnectionManager,
}

impl RedisConnection {
    async fn after<T>(&self, result: redis::RedisResult<T>) -> redis::RedisResult<T> {
        if let Err(e) = &result
            && is_transient(e)
        {
            self.shared.follow_primary(self.generation).await;
        }
        result
    }
}

impl ConnectionLike for RedisConnection {
    fn req_packed_command<'a>(&'a mut self, cmd: &'a Cmd) -> RedisFuture<'a, Value> {
        Box::pin(async move {
            let result = self.manager.req_packed_command(cmd).await;
            self.after(result).await
        })
    }

    fn req_packed_commands<'a>(
        &'a mut self,
        pipeline: &'a Pipeline,
        offset: usize,
        count: usize,
    ) -> RedisFuture<'a, Vec<Value>> {
        Box::pin(async move {
            let result = self
                .manager
                .req_packed_commands(pipeline, offset, count)
                .await;
            self.after(result).await
        })
    }

    fn get_db(&self) -> i64 {
        self.shared.db
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
