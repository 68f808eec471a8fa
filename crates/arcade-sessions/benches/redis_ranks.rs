//! The Redis rank index at a million players, one round trip per call against a local Redis.
//! Runs only when `REDIS_URL` is set (e.g. `REDIS_URL=redis://127.0.0.1:6379 cargo bench -p
//! arcade-sessions`); the board lives under its own key prefix and is deleted afterwards.
//! `BENCH_RANK_PLAYERS` changes the board size.

use std::hint::black_box;

use arcade_domain::ports::RankIndex as _;
use arcade_domain::ranks::Standing;
use arcade_domain::time::{BoardKey, Period};
use arcade_sessions::RedisBackend;
use criterion::{Criterion, criterion_group, criterion_main};

fn standing(n: u64) -> Standing {
    // Deterministic scatter with many ties (multiples of 10 below 10,000).
    let h = n.wrapping_mul(0x9E37_79B9_7F4A_7C15);
    Standing {
        score: (h >> 40) % 1000 * 10,
        achieved_at_ms: 1_700_000_000_000 + ((h >> 8) % 2_592_000_000) as i64,
        player_key: format!("player{n}"),
        player_name: format!("Player {n}"),
    }
}

fn redis_ranks(c: &mut Criterion) {
    let Ok(url) = std::env::var("REDIS_URL") else {
        eprintln!("REDIS_URL is not set: skipping the Redis rank index benchmarks");
        return;
    };
    let players: u64 = std::env::var("BENCH_RANK_PLAYERS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(1_000_000);
    let rt = tokio::runtime::Runtime::new().expect("a runtime");
    let prefix = format!("bench-criterion-{}:", std::process::id());
    let backend = rt
        .block_on(RedisBackend::connect(&url, &prefix))
        .expect("Redis answers");
    let index = backend.ranks();
    let board = BoardKey {
        game: "egg-catcher".to_owned(),
        period: Period::All,
        bucket: 0,
    };
    rt.block_on(index.load(&board, (0..players).map(standing).collect()))
        .expect("the board loads");
    let keys: Vec<String> = (0..1024u64)
        .map(|i| format!("player{}", i.wrapping_mul(7919) % players))
        .collect();
    let mut group = c.benchmark_group(format!("redis_rank_index_{players}"));
    let mut i = 0;
    group.bench_function("get", |b| {
        b.iter(|| {
            i = (i + 1) % keys.len();
            rt.block_on(index.get(&board, black_box(&keys[i])))
                .expect("get")
        })
    });
    group.bench_function("around_2_2", |b| {
        b.iter(|| {
            i = (i + 1) % keys.len();
            rt.block_on(index.around(&board, black_box(&keys[i]), 2, 2))
                .expect("around")
        })
    });
    group.bench_function("is_loaded", |b| {
        b.iter(|| rt.block_on(index.is_loaded(&board)).expect("is_loaded"))
    });
    group.bench_function("page_top_10", |b| {
        b.iter(|| rt.block_on(index.page(&board, None, 10)).expect("page"))
    });
    let mut n = 0u64;
    group.bench_function("submit_improving", |b| {
        b.iter(|| {
            n += 1;
            let mut s = standing(n % players);
            s.score += 10 * n;
            rt.block_on(index.submit(&board, s)).expect("submit")
        })
    });
    group.finish();
    let deleted = rt.block_on(backend.clear()).expect("clean-up");
    eprintln!("deleted {deleted} benchmark keys under {prefix}");
}

criterion_group!(benches, redis_ranks);
criterion_main!(benches);
