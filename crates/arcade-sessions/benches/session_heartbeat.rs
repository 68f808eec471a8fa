//! A heartbeat's write to the session store: a batch of 20 inputs appended to a session that
//! already holds none, 2,000 or 7,900 inputs (a fresh session each time, and one session
//! growing by a batch each time), in memory and (when `REDIS_URL` is set) in Redis,
//! one round trip per call against a local server. The Redis sessions live under their own key
//! prefix, deleted afterwards.
//!
//! Run: `REDIS_URL=redis://127.0.0.1:6379 cargo bench -p arcade-sessions --bench
//! session_heartbeat`.

use std::hint::black_box;
use std::time::Duration;

use arcade_domain::ports::SessionStore;
use arcade_domain::session::{PlayRules, Session, SessionId};
use arcade_domain::time::Timestamp;
use arcade_games::Input;
use arcade_games::egg_catcher::EGG_CATCHER;
use arcade_sessions::{MemorySessionStore, RedisBackend};
use criterion::{BatchSize, Criterion, criterion_group, criterion_main};

const BATCH: u32 = 20;
const SIZES: [u32; 3] = [0, 2_000, 7_900];

fn session(held: u32) -> Session {
    let mut s = Session::start(
        SessionId::random(),
        &EGG_CATCHER,
        "bench",
        "Bench",
        Timestamp(1_800_000_000_000),
        &PlayRules::default(),
    );
    s.input_count = held as usize;
    s.tick = held;
    s
}

/// An hour from now, as a session would be forgotten.
fn forget_at() -> Timestamp {
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .expect("after 1970");
    Timestamp(i64::try_from(now.as_millis()).expect("a timestamp") + 3_600_000)
}

fn inputs(held: u32) -> Vec<Input> {
    (1..=held)
        .map(|t| Input {
            tick: t,
            value: t % 256,
        })
        .collect()
}

fn heartbeat(rt: &tokio::runtime::Runtime, store: &dyn SessionStore, s: &Session) {
    let from = s.tick + 1;
    rt.block_on(store.append(s.id, 0..0, &|x: &mut Session, _: &[Input]| {
        x.input_count += BATCH as usize;
        x.tick = from + BATCH;
        Ok((from..from + BATCH)
            .map(|t| Input { tick: t, value: 7 })
            .collect())
    }))
    .expect("the heartbeat is stored");
}

fn bench_store(
    c: &mut Criterion,
    name: &str,
    rt: &tokio::runtime::Runtime,
    store: &dyn SessionStore,
    settle: &mut dyn FnMut(),
) {
    let mut group = c.benchmark_group(name);
    group.measurement_time(Duration::from_secs(5));
    for held in SIZES {
        group.bench_function(format!("append_{BATCH}_to_{held}"), |b| {
            b.iter_batched(
                || {
                    let s = session(held);
                    rt.block_on(store.insert(&s, &inputs(held), forget_at()))
                        .expect("the session is stored");
                    settle();
                    s
                },
                |s| heartbeat(rt, store, black_box(&s)),
                BatchSize::PerIteration,
            )
        });
    }
    // The same on one session per size, heartbeat after heartbeat: no setup between them.
    for held in SIZES {
        let mut s = session(held);
        rt.block_on(store.insert(&s, &inputs(held), forget_at()))
            .expect("the session is stored");
        settle();
        group.bench_function(format!("append_{BATCH}_after_{held}"), |b| {
            b.iter(|| {
                heartbeat(rt, store, black_box(&s));
                s.tick += BATCH;
            })
        });
    }
    group.finish();
}

fn session_heartbeat(c: &mut Criterion) {
    let rt = tokio::runtime::Runtime::new().expect("a runtime");
    let memory = MemorySessionStore::new();
    bench_store(c, "memory_sessions", &rt, &memory, &mut || {});
    let Ok(url) = std::env::var("REDIS_URL") else {
        eprintln!("REDIS_URL is not set: skipping the Redis session benchmarks");
        return;
    };
    let prefix = format!("bench-sessions-{}:", std::process::id());
    let backend = rt
        .block_on(RedisBackend::connect(&url, &prefix))
        .expect("Redis answers");
    let store = backend.sessions();
    // The setup's insert of thousands of inputs leaves garbage in Redis's Lua heap, which the
    // next script (the measured append) would collect: collect it in the setup.
    let mut conn = redis::Client::open(url.as_str())
        .and_then(|c| c.get_connection())
        .expect("Redis answers");
    let mut settle = || {
        redis::cmd("EVAL")
            .arg("collectgarbage('collect') return 1")
            .arg(0)
            .exec(&mut conn)
            .expect("Lua collects its garbage");
    };
    bench_store(c, "redis_sessions", &rt, &store, &mut settle);
    let deleted = rt.block_on(backend.clear()).expect("clean-up");
    eprintln!("deleted {deleted} benchmark keys under {prefix}");
}

criterion_group!(benches, session_heartbeat);
criterion_main!(benches);
