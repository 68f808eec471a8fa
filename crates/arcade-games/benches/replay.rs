//! Replay verification: what the server spends per finish. `cargo bench -p arcade-games`.
//!
//! Bot games are generated up front (not measured); the benchmark replays them from their
//! seed as `Arcade::finish` does. Throughput is in ticks (3,600 ticks are a game-minute).

use std::hint::black_box;

use arcade_games::Game as _;
use arcade_games::egg_catcher::{EGG_CATCHER, TICK_HZ, bot};
use arcade_games::{Input, Outcome};
use criterion::{Criterion, Throughput, criterion_group, criterion_main};

const MINUTE: u32 = 60 * TICK_HZ;

/// The longest game the best bot plays in the first 300 seeds, cut at `max_ticks`. The bot
/// rarely survives much over two minutes, so a 5-minute game is estimated from the cost per
/// game-minute of its longest games, whose later levels (more and faster eggs) cost the most.
fn longest_game(max_ticks: u32) -> (u32, Vec<Input>, Outcome) {
    (0u32..300)
        .map(|s| s.wrapping_mul(0x9E37_79B9))
        .map(|seed| {
            let (inputs, outcome) = bot::play(seed, 100, max_ticks);
            (seed, inputs, outcome)
        })
        .max_by_key(|(_, _, o)| o.ticks)
        .expect("some games")
}

fn replay(c: &mut Criterion) {
    let mut group = c.benchmark_group("replay");
    for max_ticks in [MINUTE, 5 * MINUTE] {
        let (seed, inputs, outcome) = longest_game(max_ticks);
        let ticks = outcome.ticks;
        // Throughput in ticks: criterion's rate divided by 3,600 is game-minutes per second.
        group.throughput(Throughput::Elements(u64::from(ticks)));
        group.bench_function(
            format!("egg_catcher_{ticks}_ticks_{}_inputs", inputs.len()),
            |b| {
                b.iter(|| {
                    let replayed = EGG_CATCHER
                        .replay(black_box(seed), black_box(&inputs), max_ticks)
                        .expect("a valid replay");
                    assert_eq!(replayed.score, outcome.score);
                    replayed
                })
            },
        );
    }
    // The whole finish-time check: validating the inputs as well as replaying them.
    let (seed, inputs, outcome) = longest_game(5 * MINUTE);
    group.throughput(Throughput::Elements(u64::from(outcome.ticks)));
    group.bench_function("egg_catcher_longest_check_and_replay", |b| {
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
