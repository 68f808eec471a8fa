//! Replay verification: what the server spends per finish. `cargo bench -p arcade-games`.
//!
//! Bot games are generated up front (not measured); the benchmark replays them from their
//! windows' seeds as `Arcade::finish` does (its seeds come from an HMAC, a small cost per
//! window not measured here). Egg Catcher's throughput is in ticks (3,600 ticks are a
//! game-minute); 2048's is in moves, since nothing happens between them.

use std::hint::black_box;

use arcade_games::Game as _;
use arcade_games::egg_catcher::{EGG_CATCHER, TICK_HZ, bot};
use arcade_games::rng::derived_seeds;
use arcade_games::twenty_forty_eight::{self, TWENTY_FORTY_EIGHT};
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
            let (inputs, outcome) = bot::play(&derived_seeds(seed), 100, max_ticks);
            (seed, inputs, outcome)
        })
        .max_by_key(|(_, _, o)| o.ticks)
        .expect("some games")
}

fn replay(c: &mut Criterion) {
    let mut group = c.benchmark_group("replay");
    for max_ticks in [MINUTE, 5 * MINUTE] {
        let (seed, inputs, outcome) = longest_game(max_ticks);
        let seeds = derived_seeds(seed);
        let ticks = outcome.ticks;
        // Throughput in ticks: criterion's rate divided by 3,600 is game-minutes per second.
        group.throughput(Throughput::Elements(u64::from(ticks)));
        group.bench_function(
            format!("egg_catcher_{ticks}_ticks_{}_inputs", inputs.len()),
            |b| {
                b.iter(|| {
                    let replayed = EGG_CATCHER
                        .replay(black_box(&seeds), black_box(&inputs), max_ticks)
                        .expect("a valid replay");
                    assert_eq!(replayed.score, outcome.score);
                    replayed
                })
            },
        );
    }
    // The whole finish-time check: validating the inputs as well as replaying them.
    let (seed, inputs, outcome) = longest_game(5 * MINUTE);
    let seeds = derived_seeds(seed);
    group.throughput(Throughput::Elements(u64::from(outcome.ticks)));
    group.bench_function("egg_catcher_longest_check_and_replay", |b| {
        b.iter(|| {
            EGG_CATCHER
                .check_inputs(None, black_box(&inputs), 0)
                .expect("valid inputs");
            EGG_CATCHER.replay(black_box(&seeds), black_box(&inputs), 5 * MINUTE)
        })
    });
    group.finish();
}

/// Moves in the long 2048 game: about an 8192 tile, hours of play for a person.
const LONG_GAME_MOVES: usize = 5_000;
/// The expert bot's game with the windows of `derived_seeds(LONG_GAME_SEED)` lasts over
/// `LONG_GAME_MOVES` moves (5,455 to an 8192 tile).
const LONG_GAME_SEED: u32 = 5;

/// The first `LONG_GAME_MOVES` moves of a long expert game, and the tick just after the last.
fn long_2048_game() -> (Vec<Input>, u32) {
    let (mut inputs, outcome) = twenty_forty_eight::bot::play_expert(
        &derived_seeds(LONG_GAME_SEED),
        twenty_forty_eight::MAX_TICKS,
    );
    assert!(
        inputs.len() >= LONG_GAME_MOVES,
        "the expert bot made {} moves from seed {LONG_GAME_SEED}: {outcome:?}",
        inputs.len()
    );
    inputs.truncate(LONG_GAME_MOVES);
    let end_tick = inputs.last().map_or(0, |i| i.tick + 1);
    (inputs, end_tick)
}

fn replay_2048(c: &mut Criterion) {
    let mut group = c.benchmark_group("replay");
    let (inputs, end_tick) = long_2048_game();
    let seeds = derived_seeds(LONG_GAME_SEED);
    let outcome = TWENTY_FORTY_EIGHT
        .replay(&seeds, &inputs, end_tick)
        .expect("a valid replay");
    group.throughput(Throughput::Elements(inputs.len() as u64));
    group.bench_function(format!("2048_{LONG_GAME_MOVES}_moves"), |b| {
        b.iter(|| {
            let replayed = TWENTY_FORTY_EIGHT
                .replay(black_box(&seeds), black_box(&inputs), end_tick)
                .expect("a valid replay");
            assert_eq!(replayed.score, outcome.score);
            replayed
        })
    });
    group.bench_function(
        format!("2048_{LONG_GAME_MOVES}_moves_check_and_replay"),
        |b| {
            b.iter(|| {
                TWENTY_FORTY_EIGHT
                    .check_inputs(None, black_box(&inputs), 0)
                    .expect("valid inputs");
                TWENTY_FORTY_EIGHT.replay(black_box(&seeds), black_box(&inputs), end_tick)
            })
        },
    );
    group.finish();
}

criterion_group!(benches, replay, replay_2048);
criterion_main!(benches);
