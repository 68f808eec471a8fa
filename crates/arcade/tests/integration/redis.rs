//! The storage conformance suite and Redis-specific checks on the Redis adapters.
//!
//! They need a server: `REDIS_URL=redis://127.0.0.1:6379 cargo test -p arcade --test
//! integration redis`. Without `REDIS_URL` they are skipped, or fail under
//! `ARCADE_REQUIRE_BACKENDS=1` (the connection failure tests need no server and always run).
//! Each test works under a prefix of its own and deletes its keys afterwards, pass or fail, so
//! tests run in parallel on a shared server.

use std::future::Future;
use std::panic::AssertUnwindSafe;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use arcade_domain::ports::{RankIndex, SessionStore};
use arcade_domain::ranks::{Ranked, RankedBoard, Standing};
use arcade_domain::session::{FinishState, PlayRules, Session, SessionId};
use arcade_domain::time::{BoardKey, Period, Timestamp};
use arcade_domain::{BackendError, BackendErrorKind, DomainError};
use arcade_games::Input;
use arcade_games::egg_catcher::EGG_CATCHER;
use arcade_sessions::RedisBackend;
use arcade_testkit::backends::{self, Service, TestRedisPrefix};
use futures::FutureExt;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

const T0: Timestamp = Timestamp(1_800_000_000_000);

fn redis_url() -> Option<String> {
    backends::url(Service::Redis)
}

/// Run `test` on a backend with a fresh prefix, then delete every key under that prefix,
/// whether the test passed or panicked. Skipped without `REDIS_URL` (see [`backends::url`]).
async fn with_redis<F, Fut>(test: F)
where
    F: FnOnce(RedisBackend) -> Fut,
    Fut: Future<Output = ()>,
{
    let Some(url) = redis_url() else { return };
    let prefix = format!("arcade-test-{}:", uuid::Uuid::new_v4());
    let backend = RedisBackend::connect(&url, &prefix)
        .await
        .expect("REDIS_URL should accept connections");
    let outcome = AssertUnwindSafe(test(backend.clone())).catch_unwind().await;
    backend.clear().await.expect("the test's keys are deleted");
    if let Err(panic) = outcome {
        std::panic::resume_unwind(panic);
    }
}

/// A second replica: its own connection, the same keys.
async fn replica(of: &RedisBackend) -> RedisBackend {
    RedisBackend::connect(&redis_url().unwrap(), of.prefix())
        .await
        .unwrap()
}

/// A backend under a prefix of its own, whose keys the `TestRedisPrefix` deletes when it
/// goes (after the test, pass or fail).
async fn fresh_redis() -> Option<(RedisBackend, TestRedisPrefix)> {
    let keys = TestRedisPrefix::new(&redis_url()?);
    let backend = RedisBackend::connect(&keys.url, &keys.prefix)
        .await
        .expect("REDIS_URL should accept connections");
    Some((backend, keys))
}

mod redis_session_store {
    use super::*;
    arcade_testkit::session_store_conformance!(
        fresh_redis()
            .await
            .map(|(redis, keys)| (Arc::new(redis.sessions()), keys))
    );
}

mod redis_rank_index {
    use super::*;
    arcade_testkit::rank_index_conformance!(
        fresh_redis()
            .await
            .map(|(redis, keys)| (Arc::new(redis.ranks()), keys))
    );
}

/// Two connections under one prefix, as two replicas hold them.
async fn redis_limit() -> Option<(arcade_testkit::conformance::SharedLimit, TestRedisPrefix)> {
    use arcade_testkit::conformance::{LIMIT_PER_MINUTE, SharedLimit};
    let (one, keys) = fresh_redis().await?;
    let other = RedisBackend::connect(&keys.url, &keys.prefix)
        .await
        .unwrap();
    let quota = std::num::NonZeroU32::new(LIMIT_PER_MINUTE).unwrap();
    let limit = SharedLimit {
        one: Arc::new(one.rate_limit("starts", quota)),
        other: Arc::new(other.rate_limit("starts", quota)),
    };
    Some((limit, keys))
}

mod redis_rate_limit {
    use super::*;
    arcade_testkit::rate_limit_conformance!(redis_limit().await);
}

fn new_session() -> Session {
    Session::start(
        SessionId::random(),
        &EGG_CATCHER,
        "gus",
        "Gus",
        T0,
        &PlayRules::default(),
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_updates_from_two_replicas_lose_nothing() {
    with_redis(|redis| async move {
        let other = replica(&redis).await;
        let stores: [Arc<dyn SessionStore>; 2] =
            [Arc::new(redis.sessions()), Arc::new(other.sessions())];
        let s = new_session();
        let rules = PlayRules::default();
        stores[0]
            .insert(&s, &[], s.forget_at(&rules))
            .await
            .unwrap();
        let (tasks, rounds) = (64, 5);
        let started = Instant::now();
        let handles: Vec<_> = (0..tasks)
            .map(|i| {
                let store = stores[i % 2].clone();
                tokio::spawn(async move {
                    for round in 0..rounds {
                        let value = u32::try_from(i * rounds + round).unwrap();
                        store
                            .append(s.id, 0..0, &|x: &mut Session, _: &[Input]| {
                                x.tick += 1;
                                x.input_count += 1;
                                Ok(vec![(x.tick, value).into()])
                            })
                            .await
                            .unwrap();
                    }
                })
            })
            .collect();
        for h in handles {
            h.await.unwrap();
        }
        let stored = stores[1].get(s.id).await.unwrap().unwrap();
        eprintln!(
            "{} contended updates in {:?}",
            tasks * rounds,
            started.elapsed()
        );
        assert_eq!(stored.tick as usize, tasks * rounds);
        // Every update is there exactly once, in the order they were applied.
        let inputs = stores[0].inputs(s.id, stored.input_count).await.unwrap();
        assert_eq!(inputs.len(), tasks * rounds);
        let mut values: Vec<u32> = inputs.iter().map(|i| i.value).collect();
        assert!(inputs.iter().zip(1..).all(|(i, t)| i.tick == t));
        values.sort_unstable();
        assert!(
            values
                .iter()
                .copied()
                .eq(0..u32::try_from(tasks * rounds).unwrap())
        );
    })
    .await;
}

/// Each replica starts an update from the session as it last wrote it, which another replica
/// may have changed since: its writes still land on top of the stored session, and a change
/// that is refused or changes nothing answers from the stored session, never the old copy.
#[tokio::test]
async fn a_replica_never_acts_on_its_out_of_date_copy() {
    with_redis(|redis| async move {
        let other = replica(&redis).await;
        let (a, b) = (redis.sessions(), other.sessions());
        let s = new_session();
        a.insert(&s, &[], s.forget_at(&PlayRules::default()))
            .await
            .unwrap();
        let push = |x: &mut Session| -> Input {
            x.input_count += 1;
            (x.input_count as u32, 7).into()
        };
        b.append(s.id, 0..0, &|x: &mut Session, _: &[Input]| {
            Ok(vec![push(x), push(x)])
        })
        .await
        .unwrap();

        let unchanged = a.update(s.id, &|_x: &mut Session| Ok(())).await.unwrap();
        assert_eq!(
            unchanged.input_count, 2,
            "an empty change answers as stored"
        );

        b.append(s.id, 0..0, &|x: &mut Session, _: &[Input]| {
            Ok(vec![push(x)])
        })
        .await
        .unwrap();
        // Refused on a's copy (two inputs), accepted on the stored session (three).
        let needs_three = |x: &mut Session, _: &[Input]| match x.input_count {
            3 => Ok(vec![push(x)]),
            have => Err(DomainError::InputGap {
                expected: have,
                got: 3,
            }),
        };
        assert_eq!(
            a.append(s.id, 0..0, &needs_three)
                .await
                .unwrap()
                .input_count,
            4
        );

        b.update(s.id, &|x: &mut Session| {
            x.tick += 1;
            Ok(())
        })
        .await
        .unwrap();
        let written = a
            .update(s.id, &|x: &mut Session| {
                x.tick += 10;
                Ok(())
            })
            .await
            .unwrap();
        assert_eq!(
            written.tick, 11,
            "a write on an old copy is redone on the stored one"
        );
        let stored = b.get(s.id).await.unwrap().unwrap();
        assert_eq!((stored.tick, stored.input_count), (11, 4));
        let ticks: Vec<u32> = b
            .inputs(s.id, 10)
            .await
            .unwrap()
            .iter()
            .map(|i| i.tick)
            .collect();
        assert_eq!(ticks, [1, 2, 3, 4]);

        // A refusal on the stored session is the answer.
        b.append(s.id, 0..0, &|x: &mut Session, _: &[Input]| {
            Ok(vec![push(x)])
        })
        .await
        .unwrap();
        let refused = a.append(s.id, 0..0, &needs_three).await;
        assert!(matches!(
            refused,
            Err(DomainError::InputGap {
                expected: 5,
                got: 3
            })
        ));

        // Gone from Redis (forgotten by another replica's purge): not found, however it was
        // remembered.
        assert_eq!(
            b.purge(s.forget_at(&PlayRules::default())).await.unwrap(),
            1
        );
        let gone = a.update(s.id, &|x: &mut Session| {
            x.tick += 1;
            Ok(())
        });
        assert!(matches!(gone.await, Err(DomainError::SessionNotFound(_))));
        let gone = a.update(s.id, &|_x: &mut Session| Ok(())).await;
        assert!(matches!(gone, Err(DomainError::SessionNotFound(_))));
    })
    .await;
}

#[tokio::test]
async fn finishing_a_session_takes_it_out_of_the_active_count() {
    with_redis(|redis| async move {
        let store = redis.sessions();
        let s = new_session();
        store
            .insert(&s, &[], s.forget_at(&PlayRules::default()))
            .await
            .unwrap();
        assert_eq!(
            store.count_active(T0).await.unwrap().get("egg-catcher"),
            Some(&1)
        );
        let refused = store
            .update(s.id, &|x: &mut Session| {
                x.finish = Some(FinishState::Rejected(
                    arcade_domain::error::Rejection::too_fast(1, 0),
                ));
                Err(DomainError::SessionExpired("no".into()))
            })
            .await;
        assert!(matches!(refused, Err(DomainError::SessionExpired(_))));
        assert_eq!(store.get(s.id).await.unwrap(), Some(s.clone()));
        assert_eq!(
            store.count_active(T0).await.unwrap().get("egg-catcher"),
            Some(&1)
        );
        store
            .update(s.id, &|x: &mut Session| {
                x.finish = Some(FinishState::Rejected(
                    arcade_domain::error::Rejection::too_fast(1, 0),
                ));
                Ok(())
            })
            .await
            .unwrap();
        assert!(store.count_active(T0).await.unwrap().is_empty());
        assert!(store.get(s.id).await.unwrap().unwrap().finish.is_some());
    })
    .await;
}

/// A small deterministic generator (SplitMix64), so a failure replays the same way.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }

    /// Scores and times crowded into few values, so ties are common; sometimes extremes.
    fn standing(&mut self, players: u64) -> Standing {
        let key = format!("p{}", self.below(players));
        let score = match self.below(20) {
            0 => u64::MAX - self.below(3),
            1 => self.below(3),
            _ => self.below(40) * 10,
        };
        let achieved_at_ms = match self.below(10) {
            0 => i64::MIN + self.below(3) as i64,
            1 => -(self.below(1000) as i64),
            _ => T0.0 + self.below(50) as i64,
        };
        Standing {
            player_name: format!("{key} (Name {})", self.below(5)),
            player_key: key,
            score,
            achieved_at_ms,
        }
    }
}

fn all_time() -> BoardKey {
    BoardKey::current("egg-catcher", Period::All, T0)
}

/// Every standing of the board, walking pages of `size` by cursor.
async fn walk(ranks: &dyn RankIndex, board: &BoardKey, size: usize) -> Vec<Ranked> {
    let mut seen: Vec<Ranked> = Vec::new();
    loop {
        let cursor = seen.last().map(|r| r.standing.clone());
        let page = ranks.page(board, cursor.as_ref(), size).await.unwrap();
        assert!(page.len() <= size);
        if page.is_empty() {
            return seen;
        }
        seen.extend(page);
    }
}

#[tokio::test]
async fn pages_cover_a_large_board_exactly_once_in_board_order() {
    with_redis(|redis| async move {
        let ranks = redis.ranks();
        let board = all_time();
        let mut rng = Rng(7);
        // Loaded in two chunks, then moved by submissions (new players and improvements).
        let loaded: Vec<Standing> = (0..9000).map(|_| rng.standing(12_000)).collect();
        let mut model = RankedBoard::from_standings(loaded.clone());
        let started = Instant::now();
        ranks.load(&board, loaded).await.unwrap();
        eprintln!(
            "loaded {} standings in {:?}",
            model.len(),
            started.elapsed()
        );
        for _ in 0..1500 {
            let s = rng.standing(13_000);
            assert_eq!(
                ranks.submit(&board, s.clone()).await.unwrap(),
                model.submit(s)
            );
        }
        let started = Instant::now();
        let pages = walk(&ranks, &board, 97).await;
        eprintln!(
            "walked {} standings in {:?}",
            pages.len(),
            started.elapsed()
        );
        assert_eq!(pages, model.page(None, usize::MAX));
        assert!(pages.iter().zip(1..).all(|(r, rank)| r.rank == rank));
    })
    .await;
}

#[tokio::test]
async fn the_index_agrees_with_the_in_memory_board_on_random_operations() {
    with_redis(|redis| async move {
        let ranks = redis.ranks();
        let board = BoardKey::current("egg-catcher", Period::Day, T0);
        let mut model = RankedBoard::new();
        let mut rng = Rng(2026);
        for step in 0..3000 {
            match rng.below(10) {
                0..=3 => {
                    let s = rng.standing(300);
                    let got = ranks.submit(&board, s.clone()).await.unwrap();
                    assert_eq!(got, model.submit(s), "step {step}");
                }
                4..=5 => {
                    // A cursor on the board, or anywhere (it may have left the board).
                    let cursor = if rng.below(2) == 0 && !model.is_empty() {
                        let i = rng.below(model.len() as u64) as usize;
                        model.iter().nth(i).cloned().unwrap()
                    } else {
                        rng.standing(400)
                    };
                    let limit = rng.below(30) as usize;
                    assert_eq!(
                        ranks.page(&board, Some(&cursor), limit).await.unwrap(),
                        model.page(Some(&cursor), limit),
                        "step {step}: after {cursor:?}"
                    );
                    assert_eq!(
                        ranks.page(&board, None, limit).await.unwrap(),
                        model.page(None, limit)
                    );
                }
                6..=7 => {
                    let key = format!("p{}", rng.below(320));
                    let (before, after) = (rng.below(12) as usize, rng.below(12) as usize);
                    assert_eq!(
                        ranks.around(&board, &key, before, after).await.unwrap(),
                        model.around(&key, before, after),
                        "step {step}"
                    );
                }
                _ => {
                    let key = format!("p{}", rng.below(320));
                    assert_eq!(
                        ranks.get(&board, &key).await.unwrap(),
                        model.get(&key),
                        "step {step}"
                    );
                }
            }
        }
        let key = model.iter().next().unwrap().player_key.clone();
        assert_eq!(
            ranks
                .around(&board, &key, usize::MAX, usize::MAX)
                .await
                .unwrap(),
            model.page(None, usize::MAX)
        );
        assert_eq!(walk(&ranks, &board, 13).await, model.page(None, usize::MAX));
    })
    .await;
}

fn standing(key: &str, score: u64, at: i64) -> Standing {
    Standing {
        score,
        achieved_at_ms: at,
        player_key: key.to_owned(),
        player_name: key.to_uppercase(),
    }
}

#[tokio::test]
async fn loading_replaces_a_board_and_marks_it_loaded() {
    with_redis(|redis| async move {
        let ranks = redis.ranks();
        let week = BoardKey::current("egg-catcher", Period::Week, T0);
        let day = BoardKey::current("egg-catcher", Period::Day, T0);
        ranks.submit(&week, standing("old", 5, 1)).await.unwrap();
        assert!(!ranks.is_loaded(&week).await.unwrap());
        // Duplicates keep the player's best, as the score store would have.
        let fresh = vec![
            standing("x", 10, 1),
            standing("y", 20, 2),
            standing("x", 30, 3),
            standing("x", 30, 4),
        ];
        ranks.load(&week, fresh.clone()).await.unwrap();
        assert!(ranks.is_loaded(&week).await.unwrap());
        assert!(!ranks.is_loaded(&day).await.unwrap());
        assert_eq!(
            ranks.page(&week, None, 10).await.unwrap(),
            RankedBoard::from_standings(fresh).page(None, 10)
        );
        assert!(ranks.get(&week, "old").await.unwrap().is_none());
        // A board rebuilt empty is empty, and loaded.
        ranks.load(&week, Vec::new()).await.unwrap();
        assert!(ranks.page(&week, None, 10).await.unwrap().is_empty());
        assert!(ranks.get(&week, "x").await.unwrap().is_none());
        assert!(ranks.is_loaded(&week).await.unwrap());
    })
    .await;
}

#[tokio::test]
async fn a_board_whose_keys_were_deleted_is_no_longer_loaded() {
    with_redis(|redis| async move {
        let ranks = redis.ranks();
        let board = all_time();
        ranks
            .load(&board, vec![standing("a", 1, 1), standing("b", 2, 2)])
            .await
            .unwrap();
        assert!(ranks.is_loaded(&board).await.unwrap());
        // What a FLUSHDB or a restarted cache does to us, limited to this test's keys.
        assert_eq!(redis.clear().await.unwrap(), 3);
        assert!(!ranks.is_loaded(&board).await.unwrap());
        assert!(ranks.page(&board, None, 10).await.unwrap().is_empty());
        assert_eq!(redis.clear().await.unwrap(), 0);
    })
    .await;
}

#[tokio::test]
async fn a_caching_index_refuses_boards_it_does_not_hold_in_the_same_round_trip() {
    with_redis(|redis| async move {
        let ranks = redis.ranks().requiring_loaded();
        let board = all_time();
        let refused = |r: Result<(), BackendError>| {
            assert!(
                matches!(&r, Err(e) if e.kind() == BackendErrorKind::NotLoaded
                    && e.to_string().contains("egg-catcher")),
                "{r:?}"
            )
        };
        let cursor = standing("a", 1, 1);
        refused(ranks.submit(&board, standing("a", 1, 1)).await.map(drop));
        refused(ranks.page(&board, None, 10).await.map(drop));
        refused(ranks.page(&board, Some(&cursor), 10).await.map(drop));
        refused(ranks.get(&board, "a").await.map(drop));
        refused(ranks.around(&board, "a", 2, 2).await.map(drop));
        // A refused submit leaves nothing behind for a later rebuild to trip over.
        assert!(
            redis
                .ranks()
                .page(&board, None, 10)
                .await
                .unwrap()
                .is_empty()
        );

        ranks
            .load(&board, vec![standing("a", 1, 1), standing("b", 2, 2)])
            .await
            .unwrap();
        assert_eq!(ranks.get(&board, "a").await.unwrap().unwrap().rank, 2);
        assert_eq!(ranks.around(&board, "a", 2, 2).await.unwrap().len(), 2);
        assert_eq!(
            ranks
                .page(&board, Some(&standing("b", 2, 2)), 10)
                .await
                .unwrap()
                .len(),
            1
        );
        ranks.submit(&board, standing("c", 3, 3)).await.unwrap();
        assert_eq!(ranks.page(&board, None, 10).await.unwrap().len(), 3);

        redis.clear().await.unwrap();
        refused(ranks.page(&board, None, 10).await.map(drop));
        refused(ranks.submit(&board, standing("c", 3, 3)).await.map(drop));
    })
    .await;
}

fn assert_unavailable_soon<T: std::fmt::Debug>(
    result: Result<T, BackendError>,
    started: Instant,
    what: &str,
) {
    let elapsed = started.elapsed();
    assert!(
        matches!(&result, Err(e) if e.backend() == "redis"
            && matches!(e.kind(), BackendErrorKind::Unavailable | BackendErrorKind::TimedOut)),
        "{what}: {result:?}"
    );
    assert!(elapsed < Duration::from_secs(5), "{what} took {elapsed:?}");
}

#[tokio::test]
async fn a_redis_that_refuses_connections_is_unavailable_quickly() {
    let started = Instant::now();
    let result = RedisBackend::connect("redis://127.0.0.1:1", "arcade-test:").await;
    assert_unavailable_soon(result, started, "connecting to a closed port");
}

#[tokio::test]
async fn a_redis_that_never_answers_is_unavailable_quickly() {
    // Accepts connections and reads, but never replies: a stopped (SIGSTOP) server.
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        let mut held = Vec::new();
        while let Ok((socket, _)) = listener.accept().await {
            held.push(socket);
        }
    });
    let started = Instant::now();
    let result = RedisBackend::connect(&format!("redis://{addr}"), "arcade-test:").await;
    assert_unavailable_soon(result, started, "connecting to a silent server");
}

/// A TCP relay to Redis that can hold traffic (a paused server) or drop every connection (a
/// restarted one).
struct Relay {
    addr: std::net::SocketAddr,
    paused: Arc<AtomicBool>,
    cut: tokio::sync::watch::Sender<u64>,
}

impl Relay {
    async fn start(upstream: String) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let paused = Arc::new(AtomicBool::new(false));
        let (cut, _) = tokio::sync::watch::channel(0);
        let (p, c) = (paused.clone(), cut.clone());
        tokio::spawn(async move {
            while let Ok((client, _)) = listener.accept().await {
                let server = TcpStream::connect(&upstream).await.unwrap();
                let (cr, cw) = client.into_split();
                let (sr, sw) = server.into_split();
                for (from, to) in [
                    (Box::new(cr) as _, Box::new(sw) as _),
                    (Box::new(sr) as _, Box::new(cw) as _),
                ] {
                    let (paused, mut cut) = (p.clone(), c.subscribe());
                    tokio::spawn(async move {
                        tokio::select! {
                            () = pump(from, to, paused) => {}
                            _ = cut.changed() => {}
                        }
                    });
                }
            }
        });
        Self { addr, paused, cut }
    }
}

type Reader = Box<dyn tokio::io::AsyncRead + Unpin + Send>;
type Writer = Box<dyn tokio::io::AsyncWrite + Unpin + Send>;

async fn pump(mut from: Reader, mut to: Writer, paused: Arc<AtomicBool>) {
    let mut buf = vec![0; 64 * 1024];
    loop {
        let Ok(n @ 1..) = from.read(&mut buf).await else {
            return;
        };
        while paused.load(Ordering::SeqCst) {
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        if to.write_all(&buf[..n]).await.is_err() {
            return;
        }
    }
}

/// `host:port` of a `redis://[user:password@]host:port[/db]` URL.
fn host_port(url: &str) -> &str {
    let rest = url.split_once("://").map_or(url, |(_, rest)| rest);
    let rest = rest.rsplit_once('@').map_or(rest, |(_, rest)| rest);
    rest.split('/').next().unwrap_or(rest)
}

#[tokio::test]
async fn a_paused_or_restarted_redis_is_unavailable_quickly_and_then_recovers() {
    let Some(url) = redis_url() else { return };
    let upstream = host_port(&url).to_owned();
    let relay = Relay::start(upstream.clone()).await;
    let prefix = format!("arcade-test-{}:", uuid::Uuid::new_v4());
    let via_relay = url.replacen(&upstream, &relay.addr.to_string(), 1);
    let redis = RedisBackend::connect(&via_relay, &prefix).await.unwrap();
    let sessions = redis.sessions();
    sessions.ping().await.unwrap();

    relay.paused.store(true, Ordering::SeqCst);
    let started = Instant::now();
    assert_unavailable_soon(sessions.ping().await, started, "a ping to a paused server");
    relay.paused.store(false, Ordering::SeqCst);
    sessions.ping().await.unwrap();

    relay.cut.send_modify(|n| *n += 1);
    let started = Instant::now();
    assert_unavailable_soon(
        sessions.count_active(T0).await,
        started,
        "a command on a dropped connection",
    );
    // The manager reconnects by itself.
    let started = Instant::now();
    while sessions.ping().await.is_err() {
        assert!(
            started.elapsed() < Duration::from_secs(5),
            "no reconnection"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    redis.clear().await.unwrap();
}
