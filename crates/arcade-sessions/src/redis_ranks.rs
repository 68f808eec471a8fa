//! Boards in Redis, shared by every replica, in exact board order.
//!
//! Redis sorts a sorted set by a float score, which cannot hold (score, time, player key) at
//! once. So every member has score 0 and the set is ordered by the members themselves
//! (byte-wise), each member being a sort key:
//!
//! ```text
//! {u64::MAX - score:016x}{achieved_at_ms with its sign bit flipped:016x}{player_key}\0{player_name}
//! ```
//!
//! Fixed-width lowercase hex sorts like the numbers; flipping the sign bit of a two's-complement
//! time sorts negative times before positive ones. The key ends at the NUL (keys never hold
//! one), so a shorter key sorts before its extensions as in Rust's `str` order, and the name
//! rides along so that pages need no second lookup. Ranks are ZRANK + 1; every operation is
//! O(log n) (plus the size of the page) and one round trip.
//!
//! Keys (after the prefix), for a board `{game}:{period}:{bucket}`:
//! - `board:{game}:{period}:{bucket}`: the sorted set;
//! - `board:{game}:{period}:{bucket}:members`: hash player key -> member, to find a player;
//! - `board:{game}:{period}:{bucket}:loaded`: set by `load`, gone when Redis lost the board.
//!
//! An index made [`RedisRankIndex::requiring_loaded`] refuses, inside each operation's script,
//! a board whose marker is gone: a cache that lost its data says so in the same round trip
//! instead of answering from an empty board.
//!
//! Day boards expire two days after their day ends, week boards eight days after their week
//! ends; all-time boards never expire.

use std::collections::HashMap;
use std::collections::hash_map::Entry;

use arcade_domain::BackendError;
use arcade_domain::ports::RankIndex;
use arcade_domain::ranks::{Ranked, Standing, Submission};
use arcade_domain::time::{BoardKey, Period};
use async_trait::async_trait;
use redis::Script;

use crate::redis_backend::{RedisBackend, backend_error, defect};

const DAY_MS: i64 = 86_400_000;
/// Bytes of a member that encode the position without the key: two 16-digit hex numbers.
const POSITION_LEN: usize = 32;
/// Standings per round trip when loading a board.
const LOAD_CHUNK: usize = 5000;
/// A half-built board left by a crashed `load` disappears after this.
const LOADING_TTL_MS: i64 = 3_600_000;
/// Larger neighbourhoods are cut to this, so the script's arithmetic stays exact.
const MAX_SPAN: usize = 1 << 40;

/// The `RankIndex` on Redis. Build it with [`RedisBackend::ranks`] (or
/// [`RedisRankIndex::connect`] when nothing else shares the connection).
#[derive(Debug, Clone)]
pub struct RedisRankIndex {
    redis: RedisBackend,
    require_loaded: bool,
    submit: Script,
    get: Script,
    around: Script,
    page: Script,
    set: Script,
}

/// The Redis keys of one board.
struct BoardKeys {
    board: String,
    members: String,
    marker: String,
}

impl RedisRankIndex {
    pub(crate) fn new(redis: RedisBackend) -> Self {
        Self {
            redis,
            require_loaded: false,
            submit: Script::new(include_str!("lua/rank_submit.lua")),
            get: Script::new(include_str!("lua/rank_get.lua")),
            around: Script::new(include_str!("lua/rank_around.lua")),
            page: Script::new(include_str!("lua/rank_page.lua")),
            set: Script::new(include_str!("lua/rank_set.lua")),
        }
    }

    /// Connect an index of its own; prefer one [`RedisBackend`] per process for both adapters.
    pub async fn connect(url: &str, prefix: &str) -> Result<Self, BackendError> {
        Ok(RedisBackend::connect(url, prefix).await?.ranks())
    }

    /// Answer a not-loaded [`BackendError`] for a board not loaded since Redis lost it, instead of
    /// answering from what is left: for an index that caches the score store's boards.
    pub fn requiring_loaded(mut self) -> Self {
        self.require_loaded = true;
        self
    }

    /// A script call on a board's keys, with the loaded marker last when it is required.
    fn invocation<'a>(
        &self,
        script: &'a Script,
        keys: &BoardKeys,
        with_members: bool,
    ) -> redis::ScriptInvocation<'a> {
        let mut call = script.key(&keys.board);
        if with_members {
            call.key(&keys.members);
        }
        if self.require_loaded {
            call.key(&keys.marker);
        }
        call
    }

    fn keys(&self, b: &BoardKey) -> BoardKeys {
        let board = self.redis.key(format_args!("board:{b}"));
        BoardKeys {
            members: format!("{board}:members"),
            marker: format!("{board}:loaded"),
            board,
        }
    }
}

/// The script's refusal of a board without its marker, or any other failure.
fn script_error(e: redis::RedisError, board: &BoardKey) -> BackendError {
    if e.code() == Some("NOTLOADED") {
        BackendError::not_loaded("redis", board)
    } else {
        backend_error(e)
    }
}

/// When a board's keys expire, in ms since the epoch; `None` for all-time boards. Buckets are
/// local days of the arcade's time zone, which end up to 14 hours from the UTC day of the same
/// number: the two days of grace cover every zone.
fn expires_at(board: &BoardKey) -> Option<i64> {
    let day_ms = |days: i64| days.saturating_mul(DAY_MS);
    match board.period {
        Period::All => None,
        // Day `bucket` ends when day `bucket + 1` starts.
        Period::Day => Some(day_ms(board.bucket.saturating_add(1 + 2))),
        // Week `bucket` holds days [7 * bucket - 3, 7 * bucket + 4) (weeks start on Monday).
        Period::Week => Some(day_ms(board.bucket.saturating_mul(7).saturating_add(4 + 8))),
    }
}

/// The position part of a sort key: score descending, then time ascending.
fn position(score: u64, achieved_at_ms: i64) -> String {
    let time = (achieved_at_ms as u64) ^ (1 << 63);
    format!("{:016x}{time:016x}", u64::MAX - score)
}

fn member(standing: &Standing) -> Result<Vec<u8>, BackendError> {
    if standing.player_key.contains('\0') {
        return Err(defect(format!(
            "player key {:?} holds a NUL, which sort keys use as a separator",
            standing.player_key
        )));
    }
    let mut m = position(standing.score, standing.achieved_at_ms).into_bytes();
    m.extend_from_slice(standing.player_key.as_bytes());
    m.push(0);
    m.extend_from_slice(standing.player_name.as_bytes());
    Ok(m)
}

/// The exclusive lower bound of everything strictly after the cursor's position. The cursor's
/// own member (whatever its name) is `position key \0 name`, and a name is UTF-8, which never
/// holds the byte 0xff, so `(position key \0 \xff` is past it yet before any longer key.
fn after_bound(cursor: &Standing) -> Result<Vec<u8>, BackendError> {
    let mut bound = vec![b'('];
    bound.extend(member(&Standing {
        player_name: String::new(),
        ..cursor.clone()
    })?);
    bound.push(0xff);
    Ok(bound)
}

fn standing(member: &[u8]) -> Result<Standing, BackendError> {
    let corrupt = || defect(format!("unreadable board entry {member:?}"));
    let hex = |range: std::ops::Range<usize>| {
        member
            .get(range)
            .and_then(|h| std::str::from_utf8(h).ok())
            .and_then(|h| u64::from_str_radix(h, 16).ok())
            .ok_or_else(corrupt)
    };
    let score = u64::MAX - hex(0..16)?;
    let achieved_at_ms = (hex(16..POSITION_LEN)? ^ (1 << 63)) as i64;
    let rest = &member[POSITION_LEN..];
    let nul = rest.iter().position(|&b| b == 0).ok_or_else(corrupt)?;
    let text = |bytes: &[u8]| String::from_utf8(bytes.to_vec()).map_err(|_| corrupt());
    Ok(Standing {
        score,
        achieved_at_ms,
        player_key: text(&rest[..nul])?,
        player_name: text(&rest[nul + 1..])?,
    })
}

/// Members from the 0-based rank `first` on, with their 1-based ranks.
fn ranked(first: u64, members: &[Vec<u8>]) -> Result<Vec<Ranked>, BackendError> {
    members
        .iter()
        .zip(first + 1..)
        .map(|(m, rank)| {
            Ok(Ranked {
                rank,
                standing: standing(m)?,
            })
        })
        .collect()
}

#[async_trait]
impl RankIndex for RedisRankIndex {
    #[tracing::instrument(name = "redis.submit", skip_all, fields(db.system = "redis"))]
    async fn submit(
        &self,
        board: &BoardKey,
        standing: Standing,
    ) -> Result<Submission, BackendError> {
        let keys = self.keys(board);
        let (outcome, rank, previous): (u8, u64, Vec<u8>) = self
            .invocation(&self.submit, &keys, true)
            .arg(&standing.player_key)
            .arg(member(&standing)?)
            .arg(expires_at(board).unwrap_or(0))
            .arg(POSITION_LEN)
            .invoke_async(&mut self.redis.conn())
            .await
            .map_err(|e| script_error(e, board))?;
        let rank = rank + 1;
        match outcome {
            0 => Ok(Submission::New { rank }),
            1 => Ok(Submission::Improved {
                previous: self::standing(&previous)?,
                rank,
            }),
            _ => Ok(Submission::NotImproved {
                best: self::standing(&previous)?,
                rank,
            }),
        }
    }

    #[tracing::instrument(name = "redis.page", skip_all, fields(db.system = "redis"))]
    async fn page(
        &self,
        board: &BoardKey,
        after: Option<&Standing>,
        limit: usize,
    ) -> Result<Vec<Ranked>, BackendError> {
        if limit == 0 {
            return Ok(Vec::new());
        }
        let keys = self.keys(board);
        let limit = limit.min(i64::MAX as usize);
        let bound = match after {
            None => b"-".to_vec(),
            Some(cursor) => after_bound(cursor)?,
        };
        let (first, members): (u64, Vec<Vec<u8>>) = self
            .invocation(&self.page, &keys, false)
            .arg(bound)
            .arg(limit)
            .invoke_async(&mut self.redis.conn())
            .await
            .map_err(|e| script_error(e, board))?;
        ranked(first, &members)
    }

    #[tracing::instrument(name = "redis.get", skip_all, fields(db.system = "redis"))]
    async fn get(
        &self,
        board: &BoardKey,
        player_key: &str,
    ) -> Result<Option<Ranked>, BackendError> {
        let keys = self.keys(board);
        let found: Option<(u64, Vec<u8>)> = self
            .invocation(&self.get, &keys, true)
            .arg(player_key)
            .invoke_async(&mut self.redis.conn())
            .await
            .map_err(|e| script_error(e, board))?;
        found
            .map(|(rank, m)| {
                Ok(Ranked {
                    rank: rank + 1,
                    standing: standing(&m)?,
                })
            })
            .transpose()
    }

    #[tracing::instrument(name = "redis.around", skip_all, fields(db.system = "redis"))]
    async fn around(
        &self,
        board: &BoardKey,
        player_key: &str,
        before: usize,
        after: usize,
    ) -> Result<Vec<Ranked>, BackendError> {
        let keys = self.keys(board);
        let found: Option<(u64, Vec<Vec<u8>>)> = self
            .invocation(&self.around, &keys, true)
            .arg(player_key)
            .arg(before.min(MAX_SPAN))
            .arg(after.min(MAX_SPAN))
            .invoke_async(&mut self.redis.conn())
            .await
            .map_err(|e| script_error(e, board))?;
        match found {
            Some((first, members)) => ranked(first, &members),
            None => Ok(Vec::new()),
        }
    }

    #[tracing::instrument(name = "redis.set", skip_all, fields(db.system = "redis"))]
    async fn set(
        &self,
        board: &BoardKey,
        player_key: &str,
        standing: Option<Standing>,
    ) -> Result<(), BackendError> {
        let keys = self.keys(board);
        let member = standing
            .as_ref()
            .map(member)
            .transpose()?
            .unwrap_or_default();
        let _: u8 = self
            .invocation(&self.set, &keys, true)
            .arg(player_key)
            .arg(member)
            .arg(expires_at(board).unwrap_or(0))
            .invoke_async(&mut self.redis.conn())
            .await
            .map_err(|e| script_error(e, board))?;
        Ok(())
    }

    /// Builds the board under temporary keys, a chunk per round trip, then swaps it in with
    /// one transaction: readers see the old board or the new one, never half of it.
    #[tracing::instrument(name = "redis.load", skip_all, fields(db.system = "redis"))]
    async fn load(&self, board: &BoardKey, standings: Vec<Standing>) -> Result<(), BackendError> {
        let mut best: HashMap<String, Standing> = HashMap::with_capacity(standings.len());
        for s in standings {
            match best.entry(s.player_key.clone()) {
                Entry::Occupied(mut e) if s.beats(e.get()) => {
                    e.insert(s);
                }
                Entry::Occupied(_) => {}
                Entry::Vacant(e) => {
                    e.insert(s);
                }
            }
        }
        let entries = best
            .values()
            .map(|s| Ok((s.player_key.as_str(), member(s)?)))
            .collect::<Result<Vec<_>, BackendError>>()?;
        let keys = self.keys(board);
        let tag = uuid::Uuid::new_v4();
        let staged_board = format!("{}:loading:{tag}", keys.board);
        let staged_members = format!("{}:loading:{tag}", keys.members);
        let mut conn = self.redis.conn();
        let staged = async {
            for chunk in entries.chunks(LOAD_CHUNK) {
                let mut zadd = redis::cmd("ZADD");
                zadd.arg(&staged_board);
                let mut hset = redis::cmd("HSET");
                hset.arg(&staged_members);
                for (key, m) in chunk {
                    zadd.arg(0).arg(m);
                    hset.arg(*key).arg(m);
                }
                redis::pipe()
                    .add_command(zadd)
                    .ignore()
                    .add_command(hset)
                    .ignore()
                    .cmd("PEXPIRE")
                    .arg(&staged_board)
                    .arg(LOADING_TTL_MS)
                    .ignore()
                    .cmd("PEXPIRE")
                    .arg(&staged_members)
                    .arg(LOADING_TTL_MS)
                    .ignore()
                    .exec_async(&mut conn.clone())
                    .await?;
            }
            Ok::<_, redis::RedisError>(())
        }
        .await;
        if let Err(e) = staged {
            // The staged keys expire anyway; deleting them now just frees the memory sooner.
            let _ = redis::cmd("UNLINK")
                .arg(&staged_board)
                .arg(&staged_members)
                .exec_async(&mut conn)
                .await;
            return Err(backend_error(e));
        }
        let mut swap = redis::pipe();
        swap.atomic();
        if entries.is_empty() {
            swap.cmd("DEL").arg(&keys.board).arg(&keys.members).ignore();
        } else {
            swap.cmd("RENAME")
                .arg(&staged_board)
                .arg(&keys.board)
                .ignore()
                .cmd("RENAME")
                .arg(&staged_members)
                .arg(&keys.members)
                .ignore();
        }
        // SET clears any old TTL of the marker; RENAME carries the staging TTL over, so the
        // board's own expiry is set (or removed) here.
        swap.cmd("SET").arg(&keys.marker).arg(1).ignore();
        for key in [&keys.board, &keys.members, &keys.marker] {
            match expires_at(board) {
                Some(at) => swap.cmd("PEXPIREAT").arg(key).arg(at).ignore(),
                None => swap.cmd("PERSIST").arg(key).ignore(),
            };
        }
        swap.exec_async(&mut conn).await.map_err(backend_error)
    }

    #[tracing::instrument(name = "redis.is_loaded", skip_all, fields(db.system = "redis"))]
    async fn is_loaded(&self, board: &BoardKey) -> Result<bool, BackendError> {
        redis::cmd("EXISTS")
            .arg(self.keys(board).marker)
            .query_async(&mut self.redis.conn())
            .await
            .map_err(backend_error)
    }

    async fn ping(&self) -> Result<(), BackendError> {
        self.redis.ping().await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn s(score: u64, at: i64, key: &str) -> Standing {
        Standing {
            score,
            achieved_at_ms: at,
            player_key: key.to_owned(),
            player_name: format!("Name of {key}"),
        }
    }

    #[test]
    fn sort_keys_sort_in_board_order() {
        let mut standings = vec![
            s(0, 0, "a"),
            s(u64::MAX, i64::MAX, "z"),
            s(u64::MAX, i64::MIN, "z"),
            s(10, -5, "b"),
            s(10, -5, "ab"),
            s(10, -5, "a"),
            s(10, 3, "a"),
            s(9, i64::MIN, "a"),
            s(10, -6, "é"),
            s(10, -5, "é"),
        ];
        let mut by_member = standings.clone();
        by_member.sort_by_key(|x| member(x).unwrap());
        standings.sort();
        assert_eq!(by_member, standings);
    }

    #[test]
    fn members_round_trip() {
        for x in [
            s(0, i64::MIN, "k"),
            s(u64::MAX, i64::MAX, "ключ"),
            s(42, -1, ""),
        ] {
            assert_eq!(standing(&member(&x).unwrap()).unwrap(), x);
        }
        let mut nameless = s(1, 1, "k");
        nameless.player_name = "with\0nul".into();
        assert_eq!(standing(&member(&nameless).unwrap()).unwrap(), nameless);
        assert!(member(&s(1, 1, "a\0b")).is_err());
    }

    #[test]
    fn the_cursor_bound_falls_between_the_cursor_and_what_follows() {
        let cursor = s(10, 5, "ab");
        let bound = &after_bound(&cursor).unwrap()[1..];
        for same in [cursor.clone(), s(10, 5, "ab")] {
            assert!(member(&same).unwrap().as_slice() < bound);
        }
        for later in [
            s(10, 5, "ab\u{1}"),
            s(10, 5, "abc"),
            s(10, 5, "b"),
            s(10, 6, "a"),
        ] {
            assert!(member(&later).unwrap().as_slice() > bound, "{later:?}");
        }
        for earlier in [s(10, 5, "a"), s(10, 4, "zz"), s(11, 9, "a")] {
            assert!(member(&earlier).unwrap().as_slice() < bound, "{earlier:?}");
        }
    }

    #[test]
    fn day_and_week_boards_expire_after_their_bucket() {
        let day = BoardKey {
            game: "g".into(),
            period: Period::Day,
            bucket: 100,
        };
        assert_eq!(expires_at(&day), Some(103 * DAY_MS));
        // 2026-11-23 (a Monday) starts a week; it ends seven days later.
        let monday = arcade_domain::time::Timestamp(1_795_392_000_000);
        let week = BoardKey::current("g", Period::Week, monday);
        assert_eq!(
            expires_at(&week),
            Some(monday.millis() + 7 * DAY_MS + 8 * DAY_MS)
        );
        assert_eq!(
            expires_at(&BoardKey::current("g", Period::All, monday)),
            None
        );
    }
}
