//! The in-memory board at a million players: ranks, pages, neighbourhoods and submits.
//! `cargo bench -p arcade-domain`.

use std::hint::black_box;

use arcade_domain::ranks::{RankedBoard, Standing};
use criterion::{BatchSize, Criterion, criterion_group, criterion_main};

const PLAYERS: u64 = 1_000_000;

/// A small deterministic generator (splitmix64), so the board is the same every run.
struct Mix(u64);

impl Mix {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
}

fn standing(n: u64, rng: &mut Mix) -> Standing {
    Standing {
        // Many ties, as on a real board: scores are multiples of 10 below 10,000.
        score: rng.next() % 1000 * 10,
        achieved_at_ms: 1_700_000_000_000 + (rng.next() % 2_592_000_000) as i64,
        player_key: format!("player{n}"),
        player_name: format!("Player {n}"),
    }
}

fn ranks(c: &mut Criterion) {
    let mut rng = Mix(7);
    let board = RankedBoard::from_standings((0..PLAYERS).map(|n| standing(n, &mut rng)));
    assert_eq!(board.len(), PLAYERS as usize);
    let keys: Vec<String> = (0..1024)
        .map(|_| format!("player{}", rng.next() % PLAYERS))
        .collect();
    let mut group = c.benchmark_group("ranked_board_1m");
    let mut i = 0;
    group.bench_function("rank_of", |b| {
        b.iter(|| {
            i = (i + 1) % keys.len();
            board.rank_of(black_box(&keys[i]))
        })
    });
    group.bench_function("get", |b| {
        b.iter(|| {
            i = (i + 1) % keys.len();
            board.get(black_box(&keys[i]))
        })
    });
    group.bench_function("around_2_2", |b| {
        b.iter(|| {
            i = (i + 1) % keys.len();
            board.around(black_box(&keys[i]), 2, 2)
        })
    });
    group.bench_function("page_top_10", |b| {
        b.iter(|| board.page(None, black_box(10)))
    });
    let mid = board
        .page(None, 500_001)
        .pop()
        .expect("a mid-board entry")
        .standing;
    group.bench_function("page_10_after_cursor_mid_board", |b| {
        b.iter(|| board.page(Some(black_box(&mid)), 10))
    });
    // Submits change the board, so they run against one clone of it. Each improves one of
    // the sampled players by a growing margin (the time includes cloning two short strings).
    let mut live = board.clone();
    let sampled: Vec<Standing> = keys
        .iter()
        .map(|k| live.get(k).expect("on the board").standing)
        .collect();
    let mut n = 0u64;
    group.bench_function("submit_improving_existing_player", |b| {
        b.iter(|| {
            n += 1;
            let base = &sampled[(n % 1024) as usize];
            live.submit(Standing {
                score: base.score + 10 * n,
                ..base.clone()
            })
        })
    });
    let mut n = PLAYERS;
    group.bench_function("submit_new_player", |b| {
        b.iter_batched(
            || {
                n += 1;
                standing(n, &mut rng)
            },
            |s| live.submit(s),
            BatchSize::SmallInput,
        )
    });
    group.finish();
    let mut load = c.benchmark_group("ranked_board_load");
    load.sample_size(10);
    let standings: Vec<Standing> = board.iter().cloned().collect();
    load.bench_function("from_standings_1m", |b| {
        b.iter_batched(
            || standings.clone(),
            RankedBoard::from_standings,
            BatchSize::LargeInput,
        )
    });
    load.finish();
}

criterion_group!(benches, ranks);
criterion_main!(benches);
