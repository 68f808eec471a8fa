//! Replay verification: what the server spends per finish. `cargo bench -p arcade-games`.
//!
//! Bot games are generated up front (not measured); the benchmark replays them from their
//! seed as `Arcade::finish` does, and reports per game-minute (3,600 ticks) and for a full
//! 5-minute game.

use std::hint::black_box;

use arcade_games::Game as _;
use arcade_games::egg_catcher::{EGG_CATCHER, TICK_HZ, bot};
use arcade_games::{Input, Outcome};
use criterion::{Criterion, Throughput, criterion_group, criterion_main};

const MINUTE: u32 = 60 * TICK_HZ;

/// A game by a skilled bot that lasts at least `ticks` (cut at `ticks`).
fn game_lasting(ticks: u32) -> (u32, Vec<Input>, Outcome) {
    (0u32..)
        .map(|s| s.wrapping_mul(0x9E37_79B9))
        .find_map(|seed| {
            let (inputs, outcome) = bot::play(seed, 100, ticks);
            (outcome.ticks == ticks).then_some((seed, inputs, outcome))
        })
        .expect("some seed survives")
}

fn replay(c: &mut Criterion) {
    let mut group = c.benchmark_group("replay");
    for minutes in [1, 5] {
        let ticks = minutes * MINUTE;
        let (seed, inputs, outcome) = game_lasting(ticks);
        group.throughput(Throughput::Elements(u64::from(minutes)));
        group.bench_function(
            format!("egg_catcher_{minutes}_min_{}_inputs", inputs.len()),
            |b| {
                b.iter(|| {
                    let replayed = EGG_CATCHER
                        .replay(black_box(seed), black_box(&inputs), ticks)
                        .expect("a valid replay");
                    assert_eq!(replayed.score, outcome.score);
                    replayed
                })
            },
        );
    }
    // The whole finish-time check: validating the inputs as well as replaying them.
    let (seed, inputs, _) = game_lasting(5 * MINUTE);
    group.throughput(Throughput::Elements(5));
    group.bench_function("egg_catcher_5_min_check_and_replay", |b| {
        b.iter(|| {
            EGG_CATCHER
                .check_inputs(None, black_box(&inputs), 0)
                .expect("valid inputs");
            EGG_CATCHER.replay(black_box(seed), black_box(&inputs), 5 * MINUTE)
        })
    });
    group.finish();
}

criterion_group!(benches, replay);
criterion_main!(benches);
