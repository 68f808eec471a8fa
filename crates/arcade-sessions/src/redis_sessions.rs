//! Sessions in Redis, shared by every replica.
//!
//! Keys (after the prefix):
//! - `play:{id}`: a hash of the session without its inputs (`head`, JSON) and its revision
//!   (`rev`, counting the writes), expiring by itself at its `forget_at` (PXAT);
//! - `inputs:{id}`: the session's inputs, a list of 8 bytes each (tick and value, big-endian
//!   `u32`s), only ever appended to, expiring with the session;
//! - `active:{game}`: sorted set of the game's unfinished session ids, scored by `expires_at`
//!   (ms), so counting active sessions is one ZCOUNT;
//! - `games`: set of the games that ever had a session (the `active:` keys to look at);
//! - `forget`: sorted set of every session id scored by `forget_at` (ms), so `purge` finds
//!   what is due without scanning the keyspace, even with a clock that runs ahead of Redis's.
//!
//! A heartbeat costs its batch, not the game so far: the change is computed on the head (a
//! few hundred bytes) and the stored inputs the batch overlaps (none, unless it is a retry),
//! and written by a script that checks the revision, sets the new head and pushes the new
//! inputs. Only the finish reads every input, to replay them.
//!
//! Each replica remembers the head and revision it last wrote or read for a session, in a
//! cache bounded in bytes. An update starts from it instead of reading the session first, and
//! the revision check proves it is still current, so a heartbeat costs one round trip instead
//! of two. A remembered session that another replica changed since is refused by the script,
//! which hands back the stored head; an update that would not write (a refused or empty
//! change) always reads the stored session first, so no answer is ever made from a stale copy.

use std::collections::BTreeMap;
use std::hash::{BuildHasher, Hasher};
use std::ops::Range;
use std::sync::Arc;
use std::time::Duration;

use arcade_domain::games::Input;
use arcade_domain::ports::{InputsChange, SessionStore};
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
/// Bytes of session heads a replica remembers.
const KNOWN_BYTES: u64 = 8 << 20;
/// The sessions [`KNOWN_BYTES`] is expected to hold, to size the cache's table.
const KNOWN_SESSIONS: usize = 16_384;

/// A session's head (JSON) at a revision.
#[derive(Debug, Clone)]
struct Revision {
    rev: String,
    head: Arc<str>,
}

/// Weighs a remembered session by its head (never zero: a zero weight is never evicted).
#[derive(Debug, Clone, Copy)]
struct HeadBytes;

impl Weighter<SessionId, Revision> for HeadBytes {
    fn weight(&self, _id: &SessionId, r: &Revision) -> u64 {
        (r.head.len() + r.rev.len()).max(1) as u64
    }
}

/// The head of each session as this replica last wrote or read it: a guess of what Redis
/// holds, which only a revision-checked write may act on.
type Known = Cache<SessionId, Revision, HeadBytes>;

/// A session at the start of an update attempt: its revision, whether it was just read from
/// Redis (so it may answer) or is this replica's remembered guess (so it may only be written
/// over by a revision-checked write), and the stored inputs read with it (when the change
/// needs some).
struct Base {
    revision: Revision,
    read: bool,
    held: Option<Vec<Input>>,
}

/// A session's stored revision and head, as HMGET answers them.
type Fields = (Option<String>, Option<String>);

/// The `SessionStore` on Redis. Build it with [`RedisBackend::sessions`] (or
/// [`RedisSessionStore::connect`] when nothing else shares the connection).
#[derive(Debug, Clone)]
pub struct RedisSessionStore {
    redis: RedisBackend,
    append: Script,
    insert: Script,
    known: Arc<Known>,
}

impl RedisSessionStore {
    pub(crate) fn new(redis: RedisBackend) -> Self {
        Self {
            redis,
            append: Script::new(include_str!("lua/session_append.lua")),
            insert: Script::new(include_str!("lua/session_insert.lua")),
            known: Arc::new(Cache::with_weighter(KNOWN_SESSIONS, KNOWN_BYTES, HeadBytes)),
        }
    }

    /// Connect a store of its own; prefer one [`RedisBackend`] per process for both adapters.
    pub async fn connect(url: &str, prefix: &str) -> Result<Self, BackendError> {
        Ok(RedisBackend::connect(url, prefix).await?.sessions())
    }

    fn session_key(&self, id: SessionId) -> String {
        self.redis.key(format_args!("play:{id}"))
    }

    fn inputs_key(&self, id: SessionId) -> String {
        self.redis.key(format_args!("inputs:{id}"))
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

    /// The stored head and revision of a session and, when `held` is not empty, the stored
    /// inputs at those positions, at one moment; remembered for the next update. A session
    /// gone from Redis is forgotten here too.
    async fn read_base(&self, id: SessionId, held: &Range<usize>) -> Result<Base, DomainError> {
        let mut pipe = redis::pipe();
        pipe.atomic()
            .cmd("HMGET")
            .arg(self.session_key(id))
            .arg("rev")
            .arg("head");
        let (fields, stored): (Fields, Option<Vec<Vec<u8>>>) = if held.is_empty() {
            let (fields,): (Fields,) = pipe
                .query_async(&mut self.redis.conn())
                .await
                .map_err(backend_error)?;
            (fields, None)
        } else {
            pipe.cmd("LRANGE")
                .arg(self.inputs_key(id))
                .arg(held.start)
                .arg(held.end - 1);
            let (fields, stored) = pipe
                .query_async(&mut self.redis.conn())
                .await
                .map_err(backend_error)?;
            (fields, Some(stored))
        };
        match fields {
            (Some(rev), Some(head)) => {
                let revision = Revision {
                    rev,
                    head: head.into(),
                };
                self.known.insert(id, revision.clone());
                Ok(Base {
                    revision,
                    read: true,
                    held: stored.map(|s| decode_inputs(&s)).transpose()?,
                })
            }
            _ => {
                self.known.remove(&id);
                Err(DomainError::SessionNotFound(id.to_string()))
            }
        }
    }

    /// Remember what was just written; a finished session is rarely changed again, so it
    /// leaves room for active ones.
    fn remember(&self, session: &Session, revision: Revision) {
        if session.finish.is_some() {
            self.known.remove(&session.id);
        } else {
            self.known.insert(session.id, revision);
        }
    }
}

fn decode(json: &str) -> Result<Session, BackendError> {
    serde_json::from_str(json).map_err(|e| defect("unreadable session").with_source(e))
}

fn encode(session: &Session) -> Result<String, BackendError> {
    serde_json::to_string(session).map_err(|e| defect("unwritable session").with_source(e))
}

/// An input as a list element: its tick and value, big-endian.
fn encode_input(input: &Input) -> [u8; 8] {
    let mut bytes = [0u8; 8];
    bytes[..4].copy_from_slice(&input.tick.to_be_bytes());
    bytes[4..].copy_from_slice(&input.value.to_be_bytes());
    bytes
}

fn decode_inputs(stored: &[Vec<u8>]) -> Result<Vec<Input>, BackendError> {
    stored
        .iter()
        .map(|b| match <[u8; 8]>::try_from(b.as_slice()) {
            Ok(b) => Ok(Input {
                tick: u32::from_be_bytes([b[0], b[1], b[2], b[3]]),
                value: u32::from_be_bytes([b[4], b[5], b[6], b[7]]),
            }),
            Err(_) => Err(defect("an unreadable stored input")),
        })
        .collect()
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
    async fn insert(
        &self,
        session: &Session,
        inputs: &[Input],
        forget_at: Timestamp,
    ) -> Result<bool, BackendError> {
        let head = encode(session)?;
        // PXAT must be positive; a session forgotten "before 1970" is simply gone at once.
        let forget_ms = forget_at.millis().max(1);
        let mut call = self.insert.prepare_invoke();
        call.key(self.session_key(session.id))
            .key(self.inputs_key(session.id))
            .key(self.forget_key())
            .key(self.active_key(&session.game))
            .key(self.games_key())
            .arg(&head)
            .arg(forget_ms)
            .arg(session.id.to_string());
        if session.finish.is_none() {
            call.arg(session.expires_at.millis());
        } else {
            call.arg("");
        }
        call.arg(&session.game);
        for input in inputs {
            call.arg(&encode_input(input)[..]);
        }
        let stored: i64 = call
            .invoke_async(&mut self.redis.conn())
            .await
            .map_err(backend_error)?;
        if stored == 1 {
            self.remember(
                session,
                Revision {
                    rev: "1".to_owned(),
                    head: head.into(),
                },
            );
        }
        Ok(stored == 1)
    }

    #[tracing::instrument(name = "redis.get", skip_all, fields(db.system = "redis"))]
    async fn get(&self, id: SessionId) -> Result<Option<Session>, BackendError> {
        let head: Option<String> = redis::cmd("HGET")
            .arg(self.session_key(id))
            .arg("head")
            .query_async(&mut self.redis.conn())
            .await
            .map_err(backend_error)?;
        head.as_deref().map(decode).transpose()
    }

    #[tracing::instrument(name = "redis.inputs", skip_all, fields(db.system = "redis"))]
    async fn inputs(&self, id: SessionId, count: usize) -> Result<Vec<Input>, BackendError> {
        if count == 0 {
            return Ok(Vec::new());
        }
        let stored: Vec<Vec<u8>> = redis::cmd("LRANGE")
            .arg(self.inputs_key(id))
            .arg(0)
            .arg(count - 1)
            .query_async(&mut self.redis.conn())
            .await
            .map_err(backend_error)?;
        decode_inputs(&stored)
    }

    /// Optimistic concurrency: apply the change in Rust to the remembered (or else the
    /// stored) head, then write with a script that refuses if the session's revision is not
    /// the one the change was computed from; a refusal hands back the stored head, so a retry
    /// costs one round trip (two when the change needs stored inputs).
    #[tracing::instrument(name = "redis.update", skip_all, fields(db.system = "redis"))]
    async fn append(
        &self,
        id: SessionId,
        held: Range<usize>,
        change: InputsChange<'_>,
    ) -> Result<Session, DomainError> {
        let key = self.session_key(id);
        let mut base = match self.known.get(&id) {
            Some(revision) => Base {
                revision,
                read: false,
                held: None,
            },
            None => self.read_base(id, &held).await?,
        };
        for attempt in 0..MAX_ATTEMPTS {
            let before = decode(&base.revision.head)?;
            // The stored inputs the change needs: those of `held` the session has.
            let needed = held.start.min(before.input_count)..held.end.min(before.input_count);
            let stored: &[Input] = match &base.held {
                _ if needed.is_empty() => &[],
                Some(stored) if stored.len() >= needed.len() => stored,
                _ => {
                    base = self.read_base(id, &held).await?;
                    continue;
                }
            };
            let mut after = before.clone();
            // The change runs on a copy: when it fails, nothing is written.
            let changed = change(&mut after, stored);
            let fresh = match changed {
                Ok(fresh) if after != before || !fresh.is_empty() => fresh,
                changed => {
                    if !base.read {
                        // Only a write is checked by Redis: anything else answers from the
                        // stored session, which may be newer than the remembered one.
                        base = self.read_base(id, &held).await?;
                        continue;
                    }
                    changed?;
                    return Ok(after);
                }
            };
            let (action, expires) = if after.finish.is_some() {
                ("finish", 0)
            } else if after.expires_at != before.expires_at {
                ("expires", after.expires_at.millis())
            } else {
                ("", 0)
            };
            let head: Arc<str> = encode(&after)?.into();
            let mut call = self.append.prepare_invoke();
            call.key(&key)
                .key(self.inputs_key(id))
                .key(self.active_key(&before.game))
                .arg(&base.revision.rev)
                .arg(&*head)
                .arg(id.to_string())
                .arg(action)
                .arg(expires);
            for input in &fresh {
                call.arg(&encode_input(input)[..]);
            }
            let reply: (i64, Option<String>, Option<String>) = call
                .invoke_async(&mut self.redis.conn())
                .await
                .map_err(backend_error)?;
            match reply {
                (1, Some(rev), _) => {
                    self.remember(&after, Revision { rev, head });
                    return Ok(after);
                }
                // A remembered session that was out of date, or the first collision: retry at
                // once on the stored head the script returned. After that the key is
                // contended, so wait a while and read it afresh.
                (0, Some(rev), Some(head)) if attempt == 0 => {
                    let revision = Revision {
                        rev,
                        head: head.into(),
                    };
                    self.known.insert(id, revision.clone());
                    base = Base {
                        revision,
                        read: true,
                        held: None,
                    };
                }
                (0, _, _) => {
                    back_off(attempt).await;
                    base = self.read_base(id, &held).await?;
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

    /// Reads every session's head, a batch a round trip, from the `forget` set (which holds
    /// every session): an erasure is rare, and an index of sessions by player would cost
    /// every start a write.
    #[tracing::instrument(name = "redis.forget_player", skip_all, fields(db.system = "redis"))]
    async fn forget_player(&self, player_key: &str) -> Result<usize, BackendError> {
        let mut conn = self.redis.conn();
        let mut theirs: Vec<Session> = Vec::new();
        let mut from = 0;
        loop {
            let ids: Vec<String> = redis::cmd("ZRANGE")
                .arg(self.forget_key())
                .arg(from)
                .arg(from + PURGE_BATCH - 1)
                .query_async(&mut conn)
                .await
                .map_err(backend_error)?;
            if ids.is_empty() {
                break;
            }
            let mut pipe = redis::pipe();
            for id in &ids {
                pipe.cmd("HGET")
                    .arg(self.redis.key(format_args!("play:{id}")))
                    .arg("head");
            }
            let heads: Vec<Option<String>> =
                pipe.query_async(&mut conn).await.map_err(backend_error)?;
            for head in heads.into_iter().flatten() {
                let session = decode(&head)?;
                if session.player_key == player_key {
                    theirs.push(session);
                }
            }
            if ids.len() < PURGE_BATCH {
                break;
            }
            from += PURGE_BATCH;
        }
        if theirs.is_empty() {
            return Ok(0);
        }
        let mut pipe = redis::pipe();
        pipe.atomic();
        for s in &theirs {
            self.known.remove(&s.id);
            pipe.cmd("UNLINK")
                .arg(self.session_key(s.id))
                .arg(self.inputs_key(s.id))
                .ignore();
            pipe.cmd("ZREM")
                .arg(self.active_key(&s.game))
                .arg(s.id.to_string())
                .ignore();
            pipe.cmd("ZREM")
                .arg(self.forget_key())
                .arg(s.id.to_string())
                .ignore();
        }
        let () = pipe.query_async(&mut conn).await.map_err(backend_error)?;
        Ok(theirs.len())
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
                    .flat_map(|id| {
                        [
                            self.redis.key(format_args!("play:{id}")),
                            self.redis.key(format_args!("inputs:{id}")),
                        ]
                    })
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
