//! A deterministic player for tests, benchmarks and load generation. It makes valid replays
//! with known outcomes: the inputs it records replay to exactly the `Outcome` it returns.
//!
//! Its own decisions come from a separate generator seeded from the first window's seed, so the
//! game's stream is the same as for a human player given the same windows. It plays at a
//! person's pace, below the game's fast-moves flag.

use super::{
    Board, CELLS, Direction, FOUR_ODDS, MAX_TICKS, MIN_MOVE_GAP, SIZE, Sim, TWENTY_FORTY_EIGHT,
    slide,
};
use std::sync::LazyLock;

use crate::rng::Xoshiro128StarStar;
use crate::{Bot, Game, Input, Outcome, Seeds};

/// Highest skill: searches two moves ahead, never slips and plays fast.
pub const MAX_SKILL: u8 = 100;

/// Separates the bot's decision stream from the game's stream for the same seed.
const BOT_SEED_SALT: u32 = 0x2048_0B07;

/// Ties go to the first of these: keep the big tiles low and to the left.
const PREFERENCE: [Direction; 4] = [
    Direction::Down,
    Direction::Left,
    Direction::Right,
    Direction::Up,
];

/// How a bot picks its moves.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Strategy {
    /// The first move of [`PREFERENCE`] that changes the board.
    Corner,
    /// The move whose board rates best.
    Greedy,
    /// The move whose board rates best on average over the new tiles, searching this many
    /// moves ahead in all (2 or more).
    Lookahead(u32),
}

/// Everything that makes one bot play unlike another.
#[derive(Debug, Clone, Copy)]
struct Style {
    strategy: Strategy,
    /// Percent of presses in a random direction.
    slip_percent: u32,
    /// Ticks from one move to the next: `think_min + below(think_spread)`.
    think_min: u32,
    think_spread: u32,
}

impl Style {
    fn of_skill(skill: u8) -> Self {
        let skill = skill.min(MAX_SKILL);
        let clumsiness = u32::from(MAX_SKILL - skill);
        Self {
            strategy: match skill {
                80.. => Strategy::Lookahead(2),
                40..80 => Strategy::Greedy,
                _ => Strategy::Corner,
            },
            // None at skill 100, one in four at skill 0.
            slip_percent: clumsiness / 4,
            // 6 to 15 ticks at skill 100 (4 to 10 moves a second), 56 to 165 at skill 0.
            think_min: MIN_MOVE_GAP + 3 + clumsiness / 2,
            think_spread: 10 + clumsiness,
        }
    }
}

/// A game in progress by the bot.
#[derive(Debug, Clone)]
pub struct Player {
    style: Style,
    sim: Sim,
    rng: Xoshiro128StarStar,
    inputs: Vec<Input>,
    /// The tick of its next move.
    next: u32,
}

impl Player {
    /// A new game on the first window's seed at `skill` (0..=100, higher values are clamped).
    /// Lower skill means a plainer strategy, more presses in a random direction (some of
    /// which change nothing) and more time between moves; every gap respects
    /// [`MIN_MOVE_GAP`].
    pub fn new(first_seed: u32, skill: u8) -> Self {
        Self::with_style(first_seed, Style::of_skill(skill))
    }

    /// As [`Player::new`] at full skill, but searching three moves ahead instead of two: it
    /// usually lasts thousands of moves (a 4096 tile, sometimes 8192), at many times the cost
    /// per move. For benchmarks that need long games; too slow for load generation.
    pub fn expert(first_seed: u32) -> Self {
        let style = Style {
            strategy: Strategy::Lookahead(3),
            ..Style::of_skill(MAX_SKILL)
        };
        Self::with_style(first_seed, style)
    }

    fn with_style(first_seed: u32, style: Style) -> Self {
        let mut rng = Xoshiro128StarStar::new(first_seed ^ BOT_SEED_SALT);
        // A first look at the board before the first move.
        let next = 20 + rng.below(40);
        Self {
            style,
            sim: Sim::new(first_seed),
            rng,
            inputs: Vec::new(),
            next,
        }
    }

    /// The game as it stands.
    pub fn sim(&self) -> &Sim {
        &self.sim
    }
}

impl Bot for Player {
    fn reveal(&mut self, seed: u32) {
        self.sim.reveal(seed);
    }

    fn revealed(&self) -> u32 {
        self.sim.revealed()
    }

    /// Records each move at the tick it is made.
    fn play_until(&mut self, until: u32) {
        let until = until.min(MAX_TICKS);
        loop {
            self.sim.advance_to(self.next.min(until));
            let sim = &self.sim;
            if sim.game_over() || sim.tick() >= until || sim.tick() < self.next || sim.waiting() {
                break;
            }
            let dir = if self.rng.below(100) < self.style.slip_percent {
                Direction::ALL[self.rng.below(4) as usize]
            } else {
                choose(self.sim.board(), self.style.strategy)
            };
            let tick = self.sim.tick();
            self.inputs.push(Input {
                tick,
                value: dir.value(),
            });
            self.sim.play(dir);
            self.sim.step();
            self.next = tick + self.style.think_min + self.rng.below(self.style.think_spread);
        }
        debug_assert_eq!(
            TWENTY_FORTY_EIGHT.check_inputs(None, &self.inputs, 0),
            Ok(())
        );
    }

    fn tick(&self) -> u32 {
        self.sim.tick()
    }

    fn game_over(&self) -> bool {
        self.sim.game_over()
    }

    fn inputs(&self) -> &[Input] {
        &self.inputs
    }

    fn outcome(&self) -> Outcome {
        self.sim.outcome()
    }
}

/// A bot on the first window's seed, for [`crate::bot`].
pub fn start(first_seed: u32, skill: u8) -> Box<dyn Bot> {
    Box::new(Player::new(first_seed, skill))
}

/// Plays with the windows' `seeds` at `skill` until game over or `max_ticks` (capped at the
/// game's limit); the inputs and the outcome they replay to.
pub fn play(seeds: Seeds<'_>, skill: u8, max_ticks: u32) -> (Vec<Input>, Outcome) {
    crate::play_through(&mut Player::new(seeds(0), skill), seeds, max_ticks)
}

/// Plays as [`play`] with [`Player::expert`].
pub fn play_expert(seeds: Seeds<'_>, max_ticks: u32) -> (Vec<Input>, Outcome) {
    crate::play_through(&mut Player::expert(seeds(0)), seeds, max_ticks)
}

/// The move `strategy` picks on `board`. On a board no move changes (the game is over at the
/// end of this tick) any direction does.
fn choose(board: &Board, strategy: Strategy) -> Direction {
    let moves = PREFERENCE
        .into_iter()
        .map(|d| (d, slide(board, d).0))
        .filter(|(_, b)| b != board);
    let best = match strategy {
        Strategy::Corner => moves.map(|(d, _)| d).next(),
        Strategy::Greedy => best_by(moves, evaluate),
        Strategy::Lookahead(depth) => best_by(moves, |b| expected(b, depth - 1)),
    };
    best.unwrap_or(PREFERENCE[0])
}

/// The direction whose board `value` rates highest; the first one on ties.
fn best_by(
    moves: impl Iterator<Item = (Direction, Board)>,
    value: impl Fn(&Board) -> f64,
) -> Option<Direction> {
    moves
        .map(|(d, b)| (d, value(&b)))
        .fold(None, |best: Option<(Direction, f64)>, (d, v)| match best {
            Some((_, bv)) if bv >= v => best,
            _ => Some((d, v)),
        })
        .map(|(d, _)| d)
}

/// The average, over where the new tile lands and what it is, of the best board reachable
/// with `depth` more moves.
fn expected(board: &Board, depth: u32) -> f64 {
    let empty: Vec<usize> = (0..CELLS).filter(|&i| board[i] == 0).collect();
    if empty.is_empty() {
        return evaluate(board);
    }
    let four = 1.0 / f64::from(FOUR_ODDS);
    let total: f64 = empty
        .iter()
        .map(|&cell| {
            let mut with = *board;
            with[cell] = 1;
            let two = best_after(&with, depth);
            with[cell] = 2;
            (1.0 - four) * two + four * best_after(&with, depth)
        })
        .sum();
    total / empty.len() as f64
}

/// The best rating among the boards `depth` moves reach (a lost board rates 0).
fn best_after(board: &Board, depth: u32) -> f64 {
    PREFERENCE
        .into_iter()
        .map(|d| slide(board, d).0)
        .filter(|b| b != board)
        .map(|b| {
            if depth <= 1 {
                evaluate(&b)
            } else {
                expected(&b, depth - 1)
            }
        })
        .fold(0.0, f64::max)
}

/// How promising a board looks: room, tiles ready to merge, and rows and columns that rise
/// or fall steadily (so big tiles gather at an edge), as in the usual 2048 search heuristics.
/// The sum of its rows' and columns' ratings, looked up in a table of every line.
fn evaluate(board: &Board) -> f64 {
    let table = &*LINE_VALUES;
    let mut score = 0.0;
    for i in 0..SIZE {
        let row = [0, 1, 2, 3].map(|k| board[i * SIZE + k]);
        let col = [0, 1, 2, 3].map(|k| board[k * SIZE + i]);
        score += f64::from(table[line_index(row)] + table[line_index(col)]);
    }
    score
}

/// A line's place in [`LINE_VALUES`]: four exponents as nibbles (above 2^15 rates as 2^15).
fn line_index(line: [u8; SIZE]) -> usize {
    line.iter()
        .enumerate()
        .map(|(k, &e)| usize::from(e.min(15)) << (4 * k))
        .sum()
}

/// The rating of every line, made on first use: a search rates thousands of boards per move.
static LINE_VALUES: LazyLock<Vec<f32>> = LazyLock::new(|| {
    (0..1usize << 16)
        .map(|i| line_value([0, 1, 2, 3].map(|k| ((i >> (4 * k)) & 0xF) as u8)) as f32)
        .collect()
});

fn line_value(line: [u8; SIZE]) -> f64 {
    const BASE: f64 = 200_000.0;
    const EMPTY: f64 = 270.0;
    const MERGES: f64 = 700.0;
    const MONOTONY: f64 = 47.0;
    const MASS: f64 = 11.0;

    let rank = line.map(f64::from);
    let empty = line.iter().filter(|&&e| e == 0).count() as f64;
    let mass: f64 = rank.iter().map(|r| r.powf(3.5)).sum();
    let mut merges = 0.0;
    let mut run = 0.0;
    let mut prev = 0;
    for &e in line.iter().filter(|&&e| e != 0) {
        if e == prev {
            run += 1.0;
        } else if run > 0.0 {
            merges += 1.0 + run;
            run = 0.0;
        }
        prev = e;
    }
    if run > 0.0 {
        merges += 1.0 + run;
    }
    let (mut falling, mut rising) = (0.0, 0.0);
    for k in 1..SIZE {
        let (a, b) = (rank[k - 1].powi(4), rank[k].powi(4));
        if a > b {
            falling += a - b;
        } else {
            rising += b - a;
        }
    }
    BASE + EMPTY * empty + MERGES * merges - MONOTONY * f64::min(falling, rising) - MASS * mass
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rng::derived_seeds;

    #[test]
    fn replay_of_bot_inputs_matches_its_outcome() {
        for seed in 0..6u32 {
            for skill in [0, 30, 50, 80, 100] {
                let seeds = derived_seeds(seed.wrapping_mul(0x9E37_79B9));
                let (inputs, outcome) = play(&seeds, skill, 8_000);
                assert_eq!(TWENTY_FORTY_EIGHT.check_inputs(None, &inputs, 0), Ok(()));
                let replayed = TWENTY_FORTY_EIGHT.replay(&seeds, &inputs, 8_000).unwrap();
                assert_eq!(replayed, outcome, "seed {seed} skill {skill}");
            }
        }
        let seeds = derived_seeds(1);
        let (inputs, outcome) = play_expert(&seeds, 400);
        assert!(inputs.len() > 20, "{}", inputs.len());
        assert_eq!(TWENTY_FORTY_EIGHT.replay(&seeds, &inputs, 400), Ok(outcome));
    }

    #[test]
    fn bot_is_deterministic() {
        let (five, six) = (derived_seeds(5), derived_seeds(6));
        assert_eq!(play(&five, 60, 5_000), play(&five, 60, 5_000));
        assert_ne!(play(&five, 60, 5_000).0, play(&six, 60, 5_000).0);
    }

    #[test]
    fn bot_waits_at_a_window_it_was_not_given() {
        let seeds = derived_seeds(3);
        let mut bot = Player::new(seeds(0), 100);
        bot.play_until(5_000);
        assert_eq!(bot.tick(), crate::WINDOW_TICKS);
        assert!(bot.sim().waiting());
        let moves = bot.inputs().len();
        assert!(moves > 20 && bot.inputs().iter().all(|i| i.tick < crate::WINDOW_TICKS));
        bot.play_until(5_000);
        assert_eq!(bot.inputs().len(), moves, "no move while waiting");
        bot.reveal(seeds(1));
        bot.play_until(1_000);
        assert_eq!(bot.tick(), 1_000);
        // Played in pieces, the game is the one played straight through.
        let (inputs, outcome) = play(&seeds, 100, 1_000);
        assert_eq!((bot.inputs(), bot.outcome()), (&inputs[..], outcome));
    }

    #[test]
    fn bot_paces_itself_like_a_person() {
        let gaps = |skill| {
            let (inputs, outcome) = play(&derived_seeds(11), skill, 20_000);
            assert_eq!(outcome.flags, Vec::<String>::new(), "skill {skill}");
            let gaps: Vec<u32> = inputs.windows(2).map(|w| w[1].tick - w[0].tick).collect();
            assert!(gaps.len() > 20, "skill {skill}: {} moves", inputs.len());
            assert!(gaps.iter().all(|&g| g >= MIN_MOVE_GAP));
            gaps.iter().sum::<u32>() / gaps.len() as u32
        };
        let (fast, slow) = (gaps(100), gaps(0));
        assert!((6..=15).contains(&fast), "{fast}");
        assert!((56..=165).contains(&slow), "{slow}");
    }

    #[test]
    fn skill_matters() {
        let seeds = 0..5u32;
        let mean_max_tile = |skill| -> u32 {
            let tiles: Vec<u32> = seeds
                .clone()
                .map(|s| {
                    let (_, outcome) = play(&derived_seeds(s), skill, MAX_TICKS);
                    assert!(outcome.game_over, "skill {skill} seed {s}: {outcome:?}");
                    outcome.stats["max_tile"]
                })
                .collect();
            tiles.iter().sum::<u32>() / tiles.len() as u32
        };
        let (clumsy, plain, greedy, best) = (
            mean_max_tile(0),
            mean_max_tile(30),
            mean_max_tile(60),
            mean_max_tile(100),
        );
        assert!(clumsy <= 256 && plain <= 512, "{clumsy} {plain}");
        assert!(greedy > plain, "{greedy} vs {plain}");
        assert!(best >= 1024 && best > greedy, "{best} vs {greedy}");
    }

    #[test]
    fn a_slipping_bot_records_moves_that_change_nothing() {
        let (inputs, outcome) = play(&derived_seeds(3), 0, MAX_TICKS);
        assert!(inputs.len() as u32 > outcome.stats["moves"], "{outcome:?}");
    }

    #[test]
    fn respects_max_ticks() {
        let seeds = derived_seeds(8);
        let (inputs, outcome) = play(&seeds, 100, 500);
        assert_eq!(outcome.ticks, 500);
        assert!(!outcome.game_over);
        assert!(inputs.iter().all(|i| i.tick < 500));
        let (_, outcome) = play(&seeds, 0, u32::MAX);
        assert!(outcome.ticks <= MAX_TICKS);
    }
}
