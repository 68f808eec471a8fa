//! A deterministic player for tests and load generation. It makes valid replays with known
//! outcomes: the inputs it records replay to exactly the `Outcome` it returns.
//!
//! It plays like a person, slowly enough not to be flagged: it looks at the field now and
//! then, takes a human reaction time before it goes for an egg it picked, and aims a little
//! off. Its own decisions come from a separate generator seeded from the first window's seed,
//! so the game's stream is the same as for a human player given the same windows.

use super::{BASKET_SPEED, CATCH_REACH, CATCH_Y, EGG_CATCHER, Egg, MAX_TICKS, Sim, WORLD_WIDTH};
use crate::rng::Xoshiro128StarStar;
use crate::{Bot, Game, Input, Outcome, Seeds};

/// Highest skill: looks every tick, reacts fastest and aims dead centre.
pub const MAX_SKILL: u8 = 100;

/// Fewest ticks from picking an egg to moving toward it, at full skill (183 ms): about the
/// quickest people react to something they see.
const REACTION_MIN: u32 = 11;

/// Separates the bot's decision stream from the game's stream for the same seed.
const BOT_SEED_SALT: u32 = 0xB07_5EED;

/// The egg the bot goes for.
#[derive(Debug, Clone, Copy)]
struct Aim {
    id: u32,
    /// How far off the egg it aims, drawn once per egg so the aim does not jitter.
    offset: i32,
    /// When it starts to move: its reaction.
    moves_at: u32,
}

/// A game in progress by the bot.
#[derive(Debug, Clone)]
pub struct Player {
    sim: Sim,
    rng: Xoshiro128StarStar,
    inputs: Vec<Input>,
    /// Ticks between looks at the field: 1 at skill 100, up to 26 at skill 0.
    look_every: u32,
    /// Percent of looks that lead to no decision at all.
    lapse_percent: u32,
    /// Aim error bound in world units; CATCH_REACH is 56_000.
    max_error: u32,
    /// Reaction time: `reaction_min + below(REACTION_SPREAD)` ticks.
    reaction_min: u32,
    next_look: u32,
    aim: Option<Aim>,
}

/// Reaction times spread over this many ticks above the bot's quickest.
const REACTION_SPREAD: u32 = 10;

impl Player {
    /// A new game on the first window's seed at `skill` (0..=100, higher values are clamped).
    /// Lower skill means looking at the field less often, sometimes not deciding at all,
    /// reacting later and aiming further off the egg.
    pub fn new(first_seed: u32, skill: u8) -> Self {
        let clumsiness = u32::from(MAX_SKILL - skill.min(MAX_SKILL));
        Self {
            sim: Sim::new(first_seed),
            rng: Xoshiro128StarStar::new(first_seed ^ BOT_SEED_SALT),
            inputs: Vec::new(),
            look_every: 1 + clumsiness / 4,
            lapse_percent: clumsiness * 3 / 5,
            max_error: clumsiness * 1_000,
            reaction_min: REACTION_MIN + clumsiness / 5,
            next_look: 0,
            aim: None,
        }
    }

    /// The game as it stands.
    pub fn sim(&self) -> &Sim {
        &self.sim
    }

    /// One tick: maybe a look and a decision, maybe a move, then the step.
    fn step(&mut self) {
        let tick = self.sim.tick();
        if tick >= self.next_look {
            self.next_look = tick + self.look_every + self.rng.below(self.look_every / 2 + 1);
            let lapse = self.rng.below(100) < self.lapse_percent;
            if let Some(egg) = choose_egg(&self.sim).filter(|_| !lapse)
                && self.aim.is_none_or(|a| a.id != egg.id)
            {
                let e = self.max_error;
                self.aim = Some(Aim {
                    id: egg.id,
                    offset: self.rng.below(2 * e + 1) as i32 - e as i32,
                    moves_at: tick + self.reaction_min + self.rng.below(REACTION_SPREAD),
                });
            }
        }
        if let Some(aim) = self.aim.filter(|a| tick >= a.moves_at)
            && let Some(x) = self.sim.eggs().iter().find(|e| e.id == aim.id).map(|e| e.x)
        {
            let target = (x + aim.offset).clamp(0, WORLD_WIDTH);
            if target != self.sim.target_x() {
                self.sim.set_target(target);
                self.inputs.push(Input {
                    tick,
                    value: target as u32,
                });
            }
        }
        self.sim.step();
    }
}

impl Bot for Player {
    fn reveal(&mut self, seed: u32) {
        self.sim.reveal(seed);
    }

    fn revealed(&self) -> u32 {
        self.sim.revealed()
    }

    /// Records inputs as the browser would: the target at the tick it changes.
    fn play_until(&mut self, until: u32) {
        let until = until.min(MAX_TICKS);
        while self.sim.tick() < until && !self.sim.game_over() && !self.sim.waiting() {
            self.step();
        }
        debug_assert_eq!(EGG_CATCHER.check_inputs(None, &self.inputs, 0), Ok(()));
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

/// The egg reaching the catch line soonest that the basket can still get under, or failing
/// that the soonest egg of all.
fn choose_egg(sim: &Sim) -> Option<Egg> {
    let basket_x = sim.basket_x();
    let falling = sim.eggs().iter().filter(|e| e.y < CATCH_Y);
    let ticks_left = |e: &Egg| (CATCH_Y - e.y + e.speed - 1) / e.speed;
    let reachable = |e: &Egg| (e.x - basket_x).abs() - CATCH_REACH <= ticks_left(e) * BASKET_SPEED;
    falling
        .clone()
        .filter(|e| reachable(e))
        .min_by_key(|e| (ticks_left(e), e.id))
        .or_else(|| falling.min_by_key(|e| (ticks_left(e), e.id)))
        .copied()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rng::derived_seeds;

    #[test]
    fn replay_of_bot_inputs_matches_its_outcome() {
        for seed in 0..40u32 {
            for skill in [0, 25, 50, 75, 90, 100] {
                let seeds = derived_seeds(seed.wrapping_mul(0x9E37_79B9));
                let (inputs, outcome) = play(&seeds, skill, 20_000);
                assert_eq!(EGG_CATCHER.check_inputs(None, &inputs, 0), Ok(()));
                let replayed = EGG_CATCHER.replay(&seeds, &inputs, 20_000).unwrap();
                assert_eq!(replayed, outcome, "seed {seed} skill {skill}");
            }
        }
    }

    #[test]
    fn bot_is_deterministic() {
        let seeds = derived_seeds(5);
        assert_eq!(play(&seeds, 60, 5_000), play(&seeds, 60, 5_000));
    }

    #[test]
    fn bot_waits_at_a_window_it_was_not_given() {
        let seeds = derived_seeds(3);
        let mut bot = Player::new(seeds(0), 90);
        bot.play_until(5_000);
        assert_eq!(bot.tick(), crate::WINDOW_TICKS);
        assert!(bot.sim().waiting());
        bot.reveal(seeds(1));
        bot.play_until(5_000);
        assert_eq!(bot.tick(), 2 * crate::WINDOW_TICKS);
        // Played in pieces, the game is the one played straight through.
        bot.reveal(seeds(2));
        bot.play_until(1_500);
        let (inputs, outcome) = play(&seeds, 90, 1_500);
        assert_eq!((bot.inputs(), bot.outcome()), (&inputs[..], outcome));
    }

    #[test]
    fn bots_of_every_skill_play_like_people() {
        for seed in 0..20u32 {
            for skill in [30, 60, 90, 100] {
                let (_, outcome) = play(&derived_seeds(seed), skill, 36_000);
                assert_eq!(
                    outcome.flags,
                    Vec::<String>::new(),
                    "seed {seed} skill {skill}"
                );
            }
        }
    }

    #[test]
    fn skill_matters() {
        let seeds = 0..20u32;
        let levels = |skill| -> Vec<u32> {
            seeds
                .clone()
                .map(|s| play(&derived_seeds(s), skill, 36_000).1.stats["level"])
                .collect()
        };
        let best = levels(100);
        let survived_several = best.iter().filter(|&&l| l >= 3).count();
        assert!(survived_several >= 15, "{best:?}");
        for seed in seeds.clone() {
            let (_, outcome) = play(&derived_seeds(seed), 0, 36_000);
            assert!(outcome.game_over && outcome.ticks < 3_600, "{outcome:?}");
            assert!(outcome.stats["level"] <= 1, "{outcome:?}");
        }
    }

    #[test]
    fn respects_max_ticks() {
        let seeds = derived_seeds(8);
        let (inputs, outcome) = play(&seeds, 100, 500);
        assert_eq!(outcome.ticks, 500);
        assert!(inputs.iter().all(|i| i.tick < 500));
        let (_, outcome) = play(&seeds, 100, u32::MAX);
        assert!(outcome.ticks <= MAX_TICKS);
    }
}
