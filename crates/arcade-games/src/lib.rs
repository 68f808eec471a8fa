//! Deterministic game simulations and replay verification. No I/O.
//!
//! The browser records the player's inputs; the server replays them here from the same seeds
//! and trusts only the outcome of that replay.
//!
//! A game's randomness comes a window at a time: every [`WINDOW_TICKS`] ticks the generator
//! is reseeded from that window's seed ([`rng::WindowedRng`]), which the server reveals only
//! as the game reaches it. A simulation waits at the start of a window it was not given.

use std::collections::BTreeMap;
use std::fmt;

use serde::{Deserialize, Serialize};

pub mod egg_catcher;
pub mod replay_codec;
pub mod rng;
pub mod twenty_forty_eight;

/// Ticks in one window of randomness: ten seconds at 60 Hz, the same for every game.
pub const WINDOW_TICKS: u32 = 600;

/// The seed of each window by its number (0 for the first): what a replay draws from.
pub type Seeds<'a> = &'a dyn Fn(u32) -> u32;

/// One recorded player input: at `tick` (ticks completed so far), the game-specific `value`.
/// Serialised in JSON as a two-element array `[tick, value]`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(from = "(u32, u32)", into = "(u32, u32)")]
pub struct Input {
    pub tick: u32,
    pub value: u32,
}

impl From<(u32, u32)> for Input {
    fn from((tick, value): (u32, u32)) -> Self {
        Self { tick, value }
    }
}

impl From<Input> for (u32, u32) {
    fn from(input: Input) -> Self {
        (input.tick, input.value)
    }
}

/// Result of replaying a session.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Outcome {
    pub score: u32,
    /// Ticks actually simulated.
    pub ticks: u32,
    pub game_over: bool,
    /// Game-specific counters shown with the score.
    pub stats: BTreeMap<String, u32>,
    /// The human-likeness checks this game failed (the game's rules document names them and
    /// their thresholds): such a score counts, but is marked for review. Empty for a game
    /// played the way people play.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub flags: Vec<String>,
}

/// Why a recorded session cannot be replayed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ReplayError {
    /// Ticks must be strictly increasing.
    InputOutOfOrder {
        index: usize,
    },
    InputValueOutOfRange {
        index: usize,
        value: u32,
        max: u32,
    },
    /// The input comes sooner after the previous one than the game allows: faster than a
    /// person can play.
    InputsTooClose {
        index: usize,
        /// Ticks since the previous input.
        gap: u32,
        min_gap: u32,
    },
    /// The input's tick is not below the session's end tick.
    InputAfterEnd {
        index: usize,
        tick: u32,
        end_tick: u32,
    },
    TooManyTicks {
        ticks: u32,
        max: u32,
    },
    TooManyInputs {
        count: usize,
        max: usize,
    },
}

impl ReplayError {
    /// Stable snake_case label, used as a metrics label and in the shared test vectors.
    pub fn reason(&self) -> &'static str {
        match self {
            Self::InputOutOfOrder { .. } => "input_out_of_order",
            Self::InputValueOutOfRange { .. } => "input_value_out_of_range",
            Self::InputsTooClose { .. } => "inputs_too_close",
            Self::InputAfterEnd { .. } => "input_after_end",
            Self::TooManyTicks { .. } => "too_many_ticks",
            Self::TooManyInputs { .. } => "too_many_inputs",
        }
    }
}

impl fmt::Display for ReplayError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match *self {
            Self::InputOutOfOrder { index } => {
                write!(f, "input {index} does not come after the previous input")
            }
            Self::InputValueOutOfRange { index, value, max } => {
                write!(
                    f,
                    "input {index} has value {value}, above the maximum {max}"
                )
            }
            Self::InputsTooClose {
                index,
                gap,
                min_gap,
            } => write!(
                f,
                "input {index} comes {gap} ticks after the previous one, but inputs must be at \
                 least {min_gap} ticks apart: faster than anyone can play"
            ),
            Self::InputAfterEnd {
                index,
                tick,
                end_tick,
            } => write!(
                f,
                "input {index} is at tick {tick}, not before the end tick {end_tick}"
            ),
            Self::TooManyTicks { ticks, max } => {
                write!(f, "{ticks} ticks requested, more than the maximum {max}")
            }
            Self::TooManyInputs { count, max } => {
                write!(f, "{count} inputs, more than the maximum {max}")
            }
        }
    }
}

impl std::error::Error for ReplayError {}

/// A game the arcade serves. Object-safe; the server holds `&'static dyn Game`.
pub trait Game: Send + Sync + 'static {
    /// URL-safe identifier, e.g. `"egg-catcher"`.
    fn id(&self) -> &'static str;
    fn title(&self) -> &'static str;
    /// One sentence for the home page.
    fn description(&self) -> &'static str;
    /// Bumped whenever a rule change would alter the outcome of an existing replay.
    fn rules_version(&self) -> u32;
    /// Simulation ticks per second of play (for wall-clock plausibility checks).
    fn tick_hz(&self) -> u32;
    /// Cap on the ticks of one session.
    fn max_ticks(&self) -> u32;
    /// Cap on the inputs recorded in one session.
    fn max_inputs(&self) -> usize;
    /// Validates a batch of inputs that follows `prev_tick` (`None` if none yet): strictly
    /// increasing ticks (spaced as the game requires), values in range, ticks below
    /// `max_ticks`, and at most `max_inputs` counting the `index_base` inputs before the batch.
    /// `index_base` offsets error indexes.
    fn check_inputs(
        &self,
        prev_tick: Option<u32>,
        inputs: &[Input],
        index_base: usize,
    ) -> Result<(), ReplayError>;
    /// Replays with the windows' `seeds`, applying inputs, until game over or `end_tick`
    /// ticks were simulated, whichever comes first. `Outcome::ticks` is the number actually
    /// simulated; `seeds` is asked only for windows the replay reaches.
    fn replay(
        &self,
        seeds: Seeds<'_>,
        inputs: &[Input],
        end_tick: u32,
    ) -> Result<Outcome, ReplayError>;
}

static CATALOGUE: [&dyn Game; 2] = [
    &egg_catcher::EGG_CATCHER,
    &twenty_forty_eight::TWENTY_FORTY_EIGHT,
];

/// Every game the arcade serves.
pub fn catalogue() -> &'static [&'static dyn Game] {
    &CATALOGUE
}

/// The game with this id.
pub fn find(id: &str) -> Option<&'static dyn Game> {
    catalogue().iter().copied().find(|g| g.id() == id)
}

/// A deterministic player of one game, for tests and load generation. It plays as far as the
/// windows it was given allow, then waits for the next one, as the browser does; the inputs it
/// records replay to exactly its outcome.
pub trait Bot: Send {
    /// The next window's seed (windows come in order, the first with [`NewBot`]).
    fn reveal(&mut self, seed: u32);
    /// Windows revealed so far.
    fn revealed(&self) -> u32;
    /// Plays until `until` ticks were simulated, the game is over or the windows revealed so
    /// far run out, whichever comes first.
    fn play_until(&mut self, until: u32);
    /// Ticks simulated so far.
    fn tick(&self) -> u32;
    fn game_over(&self) -> bool;
    /// The inputs recorded so far, in order.
    fn inputs(&self) -> &[Input];
    fn outcome(&self) -> Outcome;
}

/// Starts a bot on the first window's seed at `skill` (0..=100; higher plays better).
pub type NewBot = fn(first_seed: u32, skill: u8) -> Box<dyn Bot>;

static BOTS: [(&str, NewBot); 2] = [
    (egg_catcher::ID, egg_catcher::bot::start),
    (twenty_forty_eight::ID, twenty_forty_eight::bot::start),
];

/// The bot that plays the game `id`; every game of the catalogue has one.
pub fn bot(id: &str) -> Option<NewBot> {
    BOTS.iter()
        .find(|(game, _)| *game == id)
        .map(|&(_, bot)| bot)
}

/// Lets `bot` play until game over or `max_ticks`, revealing each window from `seeds` as it
/// reaches it (for tests and benchmarks, which know every seed in advance). Returns its inputs
/// and outcome.
pub fn play_through(bot: &mut dyn Bot, seeds: Seeds<'_>, max_ticks: u32) -> (Vec<Input>, Outcome) {
    loop {
        bot.play_until(max_ticks);
        if bot.game_over() || bot.tick() >= max_ticks {
            return (bot.inputs().to_vec(), bot.outcome());
        }
        let next = bot.revealed();
        bot.reveal(seeds(next));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_game_has_a_bot_whose_games_replay_to_its_outcome() {
        let seeds = rng::derived_seeds(11);
        for game in catalogue() {
            let start = bot(game.id()).unwrap_or_else(|| panic!("{} has no bot", game.id()));
            let mut player = start(seeds(0), 70);
            player.play_until(3_600);
            assert_eq!(
                player.tick(),
                WINDOW_TICKS,
                "{} waits for window 1",
                game.id()
            );
            let (inputs, outcome) = play_through(&mut *player, &seeds, 3_600);
            assert!(player.revealed() >= 2, "{}", game.id());
            assert_eq!(
                game.replay(&seeds, &inputs, outcome.ticks),
                Ok(outcome),
                "{}",
                game.id()
            );
        }
        assert!(bot("nope").is_none());
    }

    #[test]
    fn input_is_a_json_pair() {
        let input = Input {
            tick: 3,
            value: 480_000,
        };
        let json = serde_json::to_string(&input).unwrap();
        assert_eq!(json, "[3,480000]");
        assert_eq!(serde_json::from_str::<Input>(&json).unwrap(), input);
        assert!(serde_json::from_str::<Input>("[1]").is_err());
        assert!(serde_json::from_str::<Input>("[-1,2]").is_err());
    }

    #[test]
    fn catalogue_finds_every_game_by_its_id() {
        let ids: Vec<_> = catalogue().iter().map(|g| g.id()).collect();
        assert_eq!(ids, ["egg-catcher", "2048"]);
        let game = find("egg-catcher").unwrap();
        assert_eq!(game.title(), "Egg Catcher");
        assert_eq!(game.rules_version(), 2);
        assert_eq!(game.tick_hz(), 60);
        let game = find("2048").unwrap();
        assert_eq!(game.title(), "2048");
        assert_eq!(game.rules_version(), 2);
        assert_eq!(game.tick_hz(), 60);
        assert!(find("nope").is_none());
        for game in catalogue() {
            // Ids are URL path segments and metric labels.
            assert!(
                game.id()
                    .chars()
                    .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-'),
                "{}",
                game.id()
            );
            assert!(!game.description().is_empty());
            assert!(game.max_inputs() <= game.max_ticks() as usize);
        }
    }

    #[test]
    fn reasons_are_snake_case_and_distinct() {
        let errors = [
            ReplayError::InputOutOfOrder { index: 0 },
            ReplayError::InputValueOutOfRange {
                index: 0,
                value: 1,
                max: 0,
            },
            ReplayError::InputsTooClose {
                index: 1,
                gap: 1,
                min_gap: 3,
            },
            ReplayError::InputAfterEnd {
                index: 0,
                tick: 1,
                end_tick: 1,
            },
            ReplayError::TooManyTicks { ticks: 2, max: 1 },
            ReplayError::TooManyInputs { count: 2, max: 1 },
        ];
        let mut reasons: Vec<_> = errors.iter().map(ReplayError::reason).collect();
        assert!(
            reasons
                .iter()
                .all(|r| r.chars().all(|c| c.is_ascii_lowercase() || c == '_'))
        );
        assert!(errors.iter().all(|e| !e.to_string().is_empty()));
        // The session's own pace check reports `too_fast`; no game reason may take it.
        assert!(!reasons.contains(&"too_fast"));
        reasons.sort_unstable();
        reasons.dedup();
        assert_eq!(reasons.len(), errors.len());
    }
}
