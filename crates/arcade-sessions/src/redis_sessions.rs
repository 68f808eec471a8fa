//! Sessions in Redis, shared by every replica.
//!
//! Keys (after the prefix):
//! - `session:{id}`: the session as JSON, expiring by itself at its `forget_at` (PXAT);
//! - `active:{game}`: sorted set of the game's unfinished session ids, scored by `expires_at`
//!   (ms), so counting active sessions is one ZCOUNT;
//! - `games`: set of the games that ever had a session (the `active:` keys to look at);
//! - `forget`: sorted set of every session id scored by `forget_at` (ms), so `purge` finds
//!   what is due without scanning the keyspace, even with a clock that runs ahead of Redis's.
//!
//! Each replica remembers the JSON it last wrote or read for a session, in a cache bounded in
//! bytes. An update starts from it instead of reading the session first, and the
//! compare-and-set proves it is still current, so a heartbeat costs one round trip instead of
//! two. A remembered session that another replica changed since is refused by the
//! compare-and-set, which hands back the stored one; an update that would not write (a
//! refused or empty change) always reads the stored session first, so no answer is ever made
//! from a stale copy.

use std::collections::BTreeMap;
use std::hash::{BuildHasher, Hasher};
use std::sync::Arc;
use std::time::Duration;

use arcade_domain::ports::{SessionChange, SessionStore};
use arcade_domain::session::{Session, SessionId};
use arcade_domain::time::Timestamp;
use arcade_domain::{BackendError, BackendErrorKind, DomainError};
use async_trait::async_trait;
use quick_cache::Weighter;
use quick_cache::sync::Cache;
use redis::Script;

use crate::redis_backend::{RedisBackend, backend_error, defect};

/// Compare-and-set attempts before `update` gives up under contention.
const MAX_ATTEMPTS: u32 = 50;
/// Sessions purged per round trip.
const PURGE_BATCH: usize = 1000;
/// Bytes of session JSON a replica remembers: about 16,000 sessions of a minute's play.
const KNOWN_BYTES: u64 = 32 << 20;
/// The sessions [`KNOWN_BYTES`] is expected to hold, to size the cache's table.
const KNOWN_SESSIONS: usize = 16_384;

/// Weighs a remembered session by its JSON (never zero: a zero weight is never evicted).
#[derive(Debug, Clone, Copy)]
struct JsonBytes;

impl Weighter<SessionId, Arc<str>> for JsonBytes {
    fn weight(&self, _id: &SessionId, json: &Arc<str>) -> u64 {
        json.len().max(1) as u64
    }
}

/// The JSON of each session as this replica last wrote or read it: a guess of what Redis
/// holds, which only a compare-and-set may act on.
type Known = Cache<SessionId, Arc<str>, JsonBytes>;

/// A session's JSON at the start of an update attempt, and whether it was just read from
/// Redis (so it may answer) or is this replica's remembered guess (so it may only be written
/// over by a compare-and-set).
struct Base {
    json: Arc<str>,
    read: bool,
}

/// The `SessionStore` on Redis. Build it with [`RedisBackend::sessions`] (or
/// [`RedisSessionStore::connect`] when nothing else shares the connection).
#[derive(Debug, Clone)]
pub struct RedisSessionStore {
    redis: RedisBackend,
    update: Script,
    known: Arc<Known>,
}

impl RedisSessionStore {
    pub(crate) fn new(redis: RedisBackend) -> Self {
        Self {
            redis,
            update: Script::new(include_str!("lua/session_update.lua")),
            known: Arc::new(Cache::with_weighter(KNOWN_SESSIONS, KNOWN_BYTES, JsonBytes)),
        }
    }

    /// Connect a store of its own; prefer one [`RedisBackend`] per process for both adapters.
    pub async fn connect(url: &str, prefix: &str) -> Result<Self, BackendError> {
        Ok(RedisBackend::connect(url, prefix).await?.sessions())
    }

    fn session_key(&self, id: SessionId) -> String {
        self.redis.key(format_args!("session:{id}"))
    }

    fn active_key(&self, game: &str) -> String {
        self.redis.key(format_args!("active:{game}"))
    }

    fn games_key(&self) -> String {
        self.redis.key(format_args!("games"))
    }

    fn forget_key(&self) -> String {
        self.redis.key(format_args!("forget"))
    }

    async fn read(&self, id: SessionId) -> Result<Option<String>, BackendError> {
        redis::cmd("GET")
            .arg(self.session_key(id))
            .query_async(&mut self.redis.conn())
            .await
            .map_err(backend_error)
    }

    /// The stored JSON of a session, remembered for the next update; a session gone from
    /// Redis is forgotten here too.
    async fn read_base(&self, id: SessionId) -> Result<Base, DomainError> {
        match self.read(id).await? {
            Some(json) => Ok(self.adopt(id, json)),
            None => {
                self.known.remove(&id);
                Err(DomainError::SessionNotFound(id.to_string()))
            }
        }
    }

    /// JSON just read from Redis: the base of the next attempt, and remembered.
    fn adopt(&self, id: SessionId, json: String) -> Base {
        let json: Arc<str> = json.into();
        self.known.insert(id, json.clone());
        Base { json, read: true }
    }

    /// Remember what was just written; a finished session is rarely changed again, so it
    /// leaves room for active ones.
    fn remember(&self, session: &Session, json: Arc<str>) {
        if session.finish.is_some() {
            self.known.remove(&session.id);
        } else {
            self.known.insert(session.id, json);
        }
    }
}

fn decode(json: &str) -> Result<Session, BackendError> {
    serde_json::from_str(json).map_err(|e| defect("unreadable session").with_source(e))
}

fn encode(session: &Session) -> Result<String, BackendError> {
    serde_json::to_string(session).map_err(|e| defect("unwritable session").with_source(e))
}

/// Sleep a random time below a bound that doubles with each attempt up to 100 ms ("full
/// jitter"), so that writers who collided spread out instead of colliding again in lockstep.
async fn back_off(attempt: u32) {
    let cap_us = (1000u64 << attempt.min(7)).min(100_000);
    // A fresh RandomState is randomly keyed: enough randomness for jitter, without a crate.
    let random = std::collections::hash_map::RandomState::new()
        .build_hasher()
        .finish();
    tokio::time::sleep(Duration::from_micros(random % cap_us)).await;
}

#[async_trait]
impl SessionStore for RedisSessionStore {
    #[tracing::instrument(name = "redis.insert", skip_all, fields(db.system = "redis"))]
    async fn insert(&self, session: &Session, forget_at: Timestamp) -> Result<(), BackendError> {
        let json: Arc<str> = encode(session)?.into();
        // PXAT must be positive; a session forgotten "before 1970" is simply gone at once.
        let forget_ms = forget_at.millis().max(1);
        let mut pipe = redis::pipe();
        pipe.atomic()
            .cmd("SET")
            .arg(self.session_key(session.id))
            .arg(&*json)
            .arg("PXAT")
            .arg(forget_ms)
            .ignore()
            .cmd("ZADD")
            .arg(self.forget_key())
            .arg(forget_ms)
            .arg(session.id.to_string())
            .ignore();
        if session.finish.is_none() {
            pipe.cmd("ZADD")
                .arg(self.active_key(&session.game))
                .arg(session.expires_at.millis())
                .arg(session.id.to_string())
                .ignore()
                .cmd("SADD")
                .arg(self.games_key())
                .arg(&session.game)
                .ignore();
        }
        pipe.exec_async(&mut self.redis.conn())
            .await
            .map_err(backend_error)?;
        self.remember(session, json);
        Ok(())
    }

    #[tracing::instrument(name = "redis.get", skip_all, fields(db.system = "redis"))]
    async fn get(&self, id: SessionId) -> Result<Option<Session>, BackendError> {
        self.read(id).await?.as_deref().map(decode).transpose()
    }

    /// Optimistic concurrency: apply the change in Rust to the remembered (or else the
    /// stored) session, then write with a compare-and-set script that refuses if the stored
    /// session is not the one the change was computed from; a refusal hands back the stored
    /// JSON, so a retry costs one round trip.
    #[tracing::instrument(name = "redis.update", skip_all, fields(db.system = "redis"))]
    async fn update(
        &self,
        id: SessionId,
        change: SessionChange<'_>,
    ) -> Result<Session, DomainError> {
        let key = self.session_key(id);
        let mut base = match self.known.get(&id) {
            Some(json) => Base { json, read: false },
            None => self.read_base(id).await?,
        };
        for attempt in 0..MAX_ATTEMPTS {
            let before = decode(&base.json)?;
            let mut after = before.clone();
            // The change runs on a copy: when it fails, nothing is written.
            let changed = change(&mut after);
            if changed.is_err() || after == before {
                if !base.read {
                    // Only a write is checked by Redis: anything else answers from the
                    // stored session, which may be newer than the remembered one.
                    base = self.read_base(id).await?;
                    continue;
                }
                changed?;
                return Ok(after);
            }
            let (action, expires) = if after.finish.is_some() {
                ("finish", 0)
            } else if after.expires_at != before.expires_at {
                ("expires", after.expires_at.millis())
            } else {
                ("", 0)
            };
            let json: Arc<str> = encode(&after)?.into();
            let reply: (i64, Option<String>) = self
                .update
                .key(&key)
                .key(self.active_key(&before.game))
                .arg(&*base.json)
                .arg(&*json)
                .arg(id.to_string())
                .arg(action)
                .arg(expires)
                .invoke_async(&mut self.redis.conn())
                .await
                .map_err(backend_error)?;
            match reply {
                (1, _) => {
                    self.remember(&after, json);
                    return Ok(after);
                }
                // A remembered session that was out of date, or the first collision: retry at
                // once on the stored JSON the script returned. After that the key is
                // contended, so wait a while and read it afresh.
                (0, Some(current)) if attempt == 0 => base = self.adopt(id, current),
                (0, Some(_)) => {
                    back_off(attempt).await;
                    base = self.read_base(id).await?;
                }
                _ => {
                    self.known.remove(&id);
                    return Err(DomainError::SessionNotFound(id.to_string()));
                }
            }
        }
        tracing::warn!(session = %id, attempts = MAX_ATTEMPTS, "session update kept conflicting");
        // Others kept winning: a moment later this update wins too.
        Err(BackendError::new(
            BackendErrorKind::Conflict,
            "redis",
            format!("session {id} changed under {MAX_ATTEMPTS} consecutive updates"),
        )
        .into())
    }

    #[tracing::instrument(name = "redis.count_active", skip_all, fields(db.system = "redis"))]
    async fn count_active(&self, now: Timestamp) -> Result<BTreeMap<String, u64>, BackendError> {
        let mut conn = self.redis.conn();
        let games: Vec<String> = redis::cmd("SMEMBERS")
            .arg(self.games_key())
            .query_async(&mut conn)
            .await
            .map_err(backend_error)?;
        if games.is_empty() {
            return Ok(BTreeMap::new());
        }
        let mut pipe = redis::pipe();
        for game in &games {
            // Expired at `now` means expires_at <= now, so active is (now, +inf).
            pipe.cmd("ZCOUNT")
                .arg(self.active_key(game))
                .arg(format!("({}", now.millis()))
                .arg("+inf");
        }
        let counts: Vec<u64> = pipe.query_async(&mut conn).await.map_err(backend_error)?;
        Ok(games
            .into_iter()
            .zip(counts)
            .filter(|&(_, n)| n > 0)
            .collect())
    }

    #[tracing::instrument(name = "redis.purge", skip_all, fields(db.system = "redis"))]
    async fn purge(&self, now: Timestamp) -> Result<usize, BackendError> {
        let mut conn = self.redis.conn();
        let mut purged = 0;
        loop {
            let (due, games): (Vec<String>, Vec<String>) = redis::pipe()
                .cmd("ZRANGE")
                .arg(self.forget_key())
                .arg("-inf")
                .arg(now.millis())
                .arg("BYSCORE")
                .arg("LIMIT")
                .arg(0)
                .arg(PURGE_BATCH)
                .cmd("SMEMBERS")
                .arg(self.games_key())
                .query_async(&mut conn)
                .await
                .map_err(backend_error)?;
            if due.is_empty() && games.is_empty() {
                return Ok(purged);
            }
            let mut pipe = redis::pipe();
            // Expired sessions leave the active sets (they would not be counted anyway).
            for game in &games {
                pipe.cmd("ZREMRANGEBYSCORE")
                    .arg(self.active_key(game))
                    .arg("-inf")
                    .arg(now.millis())
                    .ignore();
            }
            if !due.is_empty() {
                for id in &due {
                    if let Ok(id) = SessionId::parse(id) {
                        self.known.remove(&id);
                    }
                }
                let keys: Vec<String> = due
                    .iter()
                    .map(|id| self.redis.key(format_args!("session:{id}")))
                    .collect();
                pipe.cmd("UNLINK").arg(keys).ignore();
                // ZREM counts what this call removed, so two replicas purging at once do not
                // both count the same session.
                pipe.cmd("ZREM").arg(self.forget_key()).arg(&due);
            }
            let removed: Vec<usize> = pipe.query_async(&mut conn).await.map_err(backend_error)?;
            purged += removed.first().copied().unwrap_or(0);
            if due.len() < PURGE_BATCH {
                return Ok(purged);
            }
        }
    }

    async fn ping(&self) -> Result<(), BackendError> {
        self.redis.ping().await
    }
}
