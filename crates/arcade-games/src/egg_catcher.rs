//! Egg Catcher, rules version 2: eggs fall from the top of the field and the player moves a
//! basket along the bottom to catch them. Three missed eggs end the game. The eggs' randomness
//! comes a window at a time ([`crate::rng::WindowedRng`]).
//!
//! Integer maths only, so the browser module `web/assets/games/egg-catcher/sim.js` reproduces
//! every tick exactly. The rules are specified in `docs/games/egg-catcher.md`; the shared
//! vectors in `vectors/egg-catcher.json` keep both implementations in step.

use std::collections::BTreeMap;

use crate::rng::WindowedRng;
use crate::{Game, Input, Outcome, ReplayError, Seeds};

pub mod bot;

pub const ID: &str = "egg-catcher";
pub const RULES_VERSION: u32 = 2;
pub const TICK_HZ: u32 = 60;
/// One hour of play.
pub const MAX_TICKS: u32 = 216_000;
/// At most one input per tick can take effect, so more than this is never needed.
pub const MAX_INPUTS: usize = MAX_TICKS as usize;

/// Field size in world units (1/1000 of a logical pixel of a 480x640 field); y grows down.
pub const WORLD_WIDTH: i32 = 480_000;
pub const WORLD_HEIGHT: i32 = 640_000;

pub const BASKET_HALF_WIDTH: i32 = 44_000;
pub const BASKET_START_X: i32 = 240_000;
/// Most the basket moves toward its target in one tick.
pub const BASKET_SPEED: i32 = 9_000;
/// The basket catches eggs whose centre crosses this line.
pub const CATCH_Y: i32 = 600_000;

pub const EGG_RADIUS: i32 = 12_000;
/// Largest |egg.x - basket.x| that still counts as a catch.
pub const CATCH_REACH: i32 = BASKET_HALF_WIDTH + EGG_RADIUS;
/// Eggs start just above the field, fully hidden.
pub const EGG_SPAWN_Y: i32 = -EGG_RADIUS;
pub const EGG_MIN_X: i32 = EGG_RADIUS;
pub const EGG_MAX_X: i32 = WORLD_WIDTH - EGG_RADIUS;

pub const FIRST_SPAWN_TICK: u32 = 30;
pub const SPAWN_INTERVAL_BASE: u32 = 66;
pub const SPAWN_INTERVAL_PER_LEVEL: u32 = 6;
pub const SPAWN_INTERVAL_MIN: u32 = 24;
pub const FALL_SPEED_BASE: i32 = 4_000;
pub const FALL_SPEED_PER_LEVEL: i32 = 700;
pub const FALL_SPEED_MAX: i32 = 14_000;

pub const CATCHES_PER_LEVEL: u32 = 10;
pub const POINTS_PER_CATCH: u32 = 10;
pub const START_LIVES: u32 = 3;
/// Input values are basket target x positions in `0..=MAX_INPUT_VALUE`.
pub const MAX_INPUT_VALUE: u32 = WORLD_WIDTH as u32;

/// Human-likeness: a reaction is the time from the moment the player is free to go for an egg
/// (no egg still to catch within the basket target's reach, and an egg just caught or just
/// appeared) to the first input that puts the target within reach of an egg still to catch:
/// seeing, deciding and moving there.
/// A reaction faster than this many ticks (133 ms) is faster than people react to what they
/// see; a game where more than half of at least [`REACTION_MIN_SAMPLES`] reactions are is
/// flagged [`FLAG_FAST_REACTIONS`].
pub const REACTION_FAST_TICKS: u32 = 8;
pub const REACTION_MIN_SAMPLES: u32 = 10;
pub const FLAG_FAST_REACTIONS: &str = "fast_reactions";
/// Human-likeness: where a new egg will fall cannot be seen before it appears, so the basket's
/// target is within its reach when it appears about one time in four (the reach covers a
/// quarter of the field). A game where at least this percentage of at least
/// [`ANTICIPATION_MIN_EGGS`] eggs found the target waiting knew where they would fall:
/// flagged [`FLAG_ANTICIPATION`].
pub const ANTICIPATION_PERCENT: u32 = 60;
pub const ANTICIPATION_MIN_EGGS: u32 = 30;
pub const FLAG_ANTICIPATION: &str = "anticipation";

/// Base spawn interval in ticks at `level`; the actual gap adds `0..=interval / 2`.
pub fn spawn_interval(level: u32) -> u32 {
    SPAWN_INTERVAL_BASE
        .saturating_sub(SPAWN_INTERVAL_PER_LEVEL.saturating_mul(level))
        .max(SPAWN_INTERVAL_MIN)
}

/// Fall speed per tick of an egg spawned at `level`.
pub fn fall_speed(level: u32) -> i32 {
    // Clamping the level first keeps the product far from overflow.
    let level = level.min(FALL_SPEED_MAX as u32) as i32;
    (FALL_SPEED_BASE + FALL_SPEED_PER_LEVEL * level).min(FALL_SPEED_MAX)
}

/// A falling egg, in world units.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Egg {
    /// Spawn sequence number, a stable key for renderers and the bot.
    pub id: u32,
    pub x: i32,
    pub y: i32,
    /// Fall speed per tick, fixed at spawn.
    pub speed: i32,
}

/// An egg the player is free to go for and has not gone for yet: since when.
#[derive(Debug, Clone, Copy)]
struct Unanswered {
    id: u32,
    x: i32,
    /// Ticks simulated when the player could first have gone for it.
    since: u32,
}

/// What the simulation notes about how the game is played, for the human-likeness flags.
#[derive(Debug, Clone)]
struct Plausibility {
    unanswered: Vec<Unanswered>,
    reactions: u32,
    fast_reactions: u32,
    /// Eggs that became visible, and those of them within reach of the target then.
    eggs: u32,
    awaited: u32,
}

impl Plausibility {
    fn new() -> Self {
        Self {
            unanswered: Vec::with_capacity(8),
            reactions: 0,
            fast_reactions: 0,
            eggs: 0,
            awaited: 0,
        }
    }

    /// An input at `tick` set the target to `to`: going for an unanswered egg answers them all
    /// (one decision, one reaction).
    fn target_moved(&mut self, tick: u32, to: i32) {
        let since = self
            .unanswered
            .iter()
            .filter(|e| (e.x - to).abs() <= CATCH_REACH)
            .map(|e| e.since)
            .max();
        if let Some(since) = since {
            self.reactions += 1;
            self.fast_reactions += u32::from(tick - since < REACTION_FAST_TICKS);
            self.unanswered.clear();
        }
    }

    /// After a step (`tick` ticks simulated): `caught` eggs were caught and `new` appeared.
    fn stepped(&mut self, tick: u32, eggs: &[Egg], target_x: i32, caught: u32, new: Option<&Egg>) {
        let in_reach = |e: &Egg| (e.x - target_x).abs() <= CATCH_REACH;
        let falling = |e: &&Egg| e.y < CATCH_Y;
        if let Some(egg) = new {
            self.eggs += 1;
            self.awaited += u32::from(in_reach(egg));
        }
        self.unanswered
            .retain(|u| eggs.iter().filter(falling).any(|e| e.id == u.id));
        // The player is free when no egg still to catch is within the target's reach: a
        // catch frees them to go for any other, a new egg is one more to go for.
        if eggs.iter().filter(falling).any(in_reach) {
            return;
        }
        let fresh: Vec<&Egg> = if caught > 0 {
            eggs.iter().filter(falling).collect()
        } else {
            new.into_iter().collect()
        };
        for egg in fresh {
            if !self.unanswered.iter().any(|u| u.id == egg.id) {
                self.unanswered.push(Unanswered {
                    id: egg.id,
                    x: egg.x,
                    since: tick,
                });
            }
        }
    }

    fn flags(&self) -> Vec<String> {
        let mut flags = Vec::new();
        if self.reactions >= REACTION_MIN_SAMPLES && self.fast_reactions * 2 > self.reactions {
            flags.push(FLAG_FAST_REACTIONS.to_owned());
        }
        if self.eggs >= ANTICIPATION_MIN_EGGS
            && self.awaited * 100 >= ANTICIPATION_PERCENT * self.eggs
        {
            flags.push(FLAG_ANTICIPATION.to_owned());
        }
        flags
    }
}

/// The step-by-step simulation, shared by replays, the bot and tests.
#[derive(Debug, Clone)]
pub struct Sim {
    rng: WindowedRng,
    tick: u32,
    score: u32,
    lives: u32,
    catches: u32,
    misses: u32,
    basket_x: i32,
    target_x: i32,
    next_spawn: u32,
    spawned: u32,
    eggs: Vec<Egg>,
    game_over: bool,
    plausibility: Plausibility,
}

impl Sim {
    /// A new game with the first window's seed.
    pub fn new(first_seed: u32) -> Self {
        Self {
            rng: WindowedRng::new(first_seed),
            tick: 0,
            score: 0,
            lives: START_LIVES,
            catches: 0,
            misses: 0,
            basket_x: BASKET_START_X,
            target_x: BASKET_START_X,
            next_spawn: FIRST_SPAWN_TICK,
            spawned: 0,
            // Spawn gaps and fall times keep at most a handful of eggs in the air, so this
            // never grows during a game.
            eggs: Vec::with_capacity(16),
            game_over: false,
            plausibility: Plausibility::new(),
        }
    }

    /// Reveals the next window's seed.
    pub fn reveal(&mut self, seed: u32) {
        self.rng.reveal(seed);
    }

    /// Windows revealed so far.
    pub fn revealed(&self) -> u32 {
        self.rng.revealed()
    }

    /// Whether the next tick starts a window not revealed yet: [`Sim::step`] waits.
    pub fn waiting(&self) -> bool {
        !self.game_over && self.tick >= self.rng.revealed_ticks()
    }

    /// Sets where the basket heads, clamped to the field: the input recorded at this tick.
    pub fn set_target(&mut self, x: i32) {
        let to = x.clamp(0, WORLD_WIDTH);
        self.plausibility.target_moved(self.tick, to);
        self.target_x = to;
    }

    /// Simulates one tick; does nothing after game over, or at the start of a window not
    /// revealed yet.
    pub fn step(&mut self) {
        if self.game_over || self.waiting() {
            return;
        }

        let dx = self.target_x - self.basket_x;
        self.basket_x += dx.clamp(-BASKET_SPEED, BASKET_SPEED);

        let spawned = self.tick == self.next_spawn;
        if spawned {
            let level = self.level();
            let rng = self.rng.at(self.tick);
            let x = rng.range_inclusive(EGG_MIN_X as u32, EGG_MAX_X as u32) as i32;
            self.eggs.push(Egg {
                id: self.spawned,
                x,
                y: EGG_SPAWN_Y,
                speed: fall_speed(level),
            });
            self.spawned += 1;
            let interval = spawn_interval(level);
            self.next_spawn = self.tick + interval + rng.below(interval / 2 + 1);
        }

        let basket_x = self.basket_x;
        let (mut caught, mut missed) = (0, 0);
        // `retain_mut` keeps spawn order and never allocates.
        self.eggs.retain_mut(|egg| {
            let prev_y = egg.y;
            egg.y += egg.speed;
            if prev_y < CATCH_Y && CATCH_Y <= egg.y && (egg.x - basket_x).abs() <= CATCH_REACH {
                caught += 1;
                false
            } else if egg.y - EGG_RADIUS >= WORLD_HEIGHT {
                missed += 1;
                false
            } else {
                true
            }
        });
        self.catches += caught;
        self.score += caught * POINTS_PER_CATCH;
        self.misses += missed;
        self.lives = self.lives.saturating_sub(missed);

        self.tick += 1;
        if self.lives == 0 {
            self.game_over = true;
        }
        // A new egg falls in its spawn tick, so it shows from the end of that tick.
        let new = spawned
            .then(|| self.eggs.iter().find(|e| e.id == self.spawned - 1))
            .flatten();
        self.plausibility
            .stepped(self.tick, &self.eggs, self.target_x, caught, new);
    }

    /// Ticks simulated so far; an input recorded now carries this tick.
    pub fn tick(&self) -> u32 {
        self.tick
    }

    pub fn score(&self) -> u32 {
        self.score
    }

    pub fn lives(&self) -> u32 {
        self.lives
    }

    pub fn catches(&self) -> u32 {
        self.catches
    }

    pub fn misses(&self) -> u32 {
        self.misses
    }

    pub fn level(&self) -> u32 {
        self.catches / CATCHES_PER_LEVEL
    }

    pub fn game_over(&self) -> bool {
        self.game_over
    }

    pub fn basket_x(&self) -> i32 {
        self.basket_x
    }

    pub fn target_x(&self) -> i32 {
        self.target_x
    }

    /// Tick at which the next egg appears.
    pub fn next_spawn(&self) -> u32 {
        self.next_spawn
    }

    /// Eggs in the air, in spawn order.
    pub fn eggs(&self) -> &[Egg] {
        &self.eggs
    }

    pub fn outcome(&self) -> Outcome {
        let stats = BTreeMap::from([
            ("catches".to_owned(), self.catches),
            ("misses".to_owned(), self.misses),
            ("lives".to_owned(), self.lives),
            ("level".to_owned(), self.level()),
        ]);
        Outcome {
            score: self.score,
            ticks: self.tick,
            game_over: self.game_over,
            stats,
            flags: self.plausibility.flags(),
        }
    }
}

/// The Egg Catcher game as served by the arcade.
#[derive(Debug, Clone, Copy, Default)]
pub struct EggCatcher;

pub static EGG_CATCHER: EggCatcher = EggCatcher;

/// Checks inputs in order; for each one: order, then value, then tick against `end_tick`.
fn validate(
    prev_tick: Option<u32>,
    inputs: &[Input],
    index_base: usize,
    end_tick: u32,
) -> Result<(), ReplayError> {
    let count = index_base.saturating_add(inputs.len());
    if count > MAX_INPUTS {
        return Err(ReplayError::TooManyInputs {
            count,
            max: MAX_INPUTS,
        });
    }
    let mut prev = prev_tick;
    for (i, input) in inputs.iter().enumerate() {
        let index = index_base + i;
        if prev.is_some_and(|p| input.tick <= p) {
            return Err(ReplayError::InputOutOfOrder { index });
        }
        if input.value > MAX_INPUT_VALUE {
            return Err(ReplayError::InputValueOutOfRange {
                index,
                value: input.value,
                max: MAX_INPUT_VALUE,
            });
        }
        if input.tick >= end_tick {
            return Err(ReplayError::InputAfterEnd {
                index,
                tick: input.tick,
                end_tick,
            });
        }
        prev = Some(input.tick);
    }
    Ok(())
}

impl Game for EggCatcher {
    fn id(&self) -> &'static str {
        ID
    }

    fn title(&self) -> &'static str {
        "Egg Catcher"
    }

    fn description(&self) -> &'static str {
        "Slide the basket to catch falling eggs; they fall faster every ten catches, and three \
         broken eggs end the game."
    }

    fn rules_version(&self) -> u32 {
        RULES_VERSION
    }

    fn tick_hz(&self) -> u32 {
        TICK_HZ
    }

    fn max_ticks(&self) -> u32 {
        MAX_TICKS
    }

    fn max_inputs(&self) -> usize {
        MAX_INPUTS
    }

    fn check_inputs(
        &self,
        prev_tick: Option<u32>,
        inputs: &[Input],
        index_base: usize,
    ) -> Result<(), ReplayError> {
        validate(prev_tick, inputs, index_base, MAX_TICKS)
    }

    fn replay(
        &self,
        seeds: Seeds<'_>,
        inputs: &[Input],
        end_tick: u32,
    ) -> Result<Outcome, ReplayError> {
        if end_tick > MAX_TICKS {
            return Err(ReplayError::TooManyTicks {
                ticks: end_tick,
                max: MAX_TICKS,
            });
        }
        validate(None, inputs, 0, end_tick)?;

        let mut sim = Sim::new(seeds(0));
        let mut pending = inputs.iter().peekable();
        while sim.tick() < end_tick && !sim.game_over() {
            if sim.waiting() {
                sim.reveal(seeds(sim.revealed()));
            }
            // Validation guarantees no pending input is behind the current tick.
            if let Some(input) = pending.next_if(|i| i.tick == sim.tick()) {
                sim.set_target(input.value as i32);
            }
            sim.step();
        }
        // Inputs after the game-over tick are ignored: the last frame may record a move.
        Ok(sim.outcome())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rng::derived_seeds;

    fn input(tick: u32, value: u32) -> Input {
        Input { tick, value }
    }

    /// Window seeds whose first is `first` (so they match `Sim::new(first)`), the rest
    /// derived from it.
    fn seeds(first: u32) -> impl Fn(u32) -> u32 {
        let rest = derived_seeds(first);
        move |k| if k == 0 { first } else { rest(k) }
    }

    /// Runs `sim` until the first egg exists, then puts it at `y` directly above `x`.
    fn sim_with_egg_at(seed: u32, x: i32, y: i32) -> Sim {
        let mut sim = Sim::new(seed);
        while sim.eggs().is_empty() {
            sim.step();
        }
        sim.eggs[0].x = x;
        sim.eggs[0].y = y;
        sim
    }

    #[test]
    fn level_curves() {
        assert_eq!(spawn_interval(0), 66);
        assert_eq!(spawn_interval(1), 60);
        assert_eq!(spawn_interval(7), 24);
        assert_eq!(spawn_interval(8), 24);
        assert_eq!(spawn_interval(u32::MAX), 24);
        assert_eq!(fall_speed(0), 4_000);
        assert_eq!(fall_speed(2), 5_400);
        assert_eq!(fall_speed(14), 13_800);
        assert_eq!(fall_speed(15), 14_000);
        assert_eq!(fall_speed(u32::MAX), 14_000);
    }

    #[test]
    fn basket_moves_at_most_its_speed_and_stops_on_target() {
        let mut sim = Sim::new(1);
        sim.set_target(BASKET_START_X + 20_000);
        sim.step();
        assert_eq!(sim.basket_x(), BASKET_START_X + 9_000);
        sim.step();
        assert_eq!(sim.basket_x(), BASKET_START_X + 18_000);
        sim.step();
        assert_eq!(sim.basket_x(), BASKET_START_X + 20_000);
        sim.step();
        assert_eq!(sim.basket_x(), BASKET_START_X + 20_000);

        sim.set_target(-5);
        assert_eq!(sim.target_x(), 0);
        for _ in 0..100 {
            sim.step();
        }
        assert_eq!(sim.basket_x(), 0);
        sim.set_target(i32::MAX);
        assert_eq!(sim.target_x(), WORLD_WIDTH);
    }

    #[test]
    fn first_egg_spawns_at_tick_30_and_falls_the_same_tick() {
        let mut sim = Sim::new(5);
        for _ in 0..30 {
            sim.step();
        }
        assert!(sim.eggs().is_empty());
        assert_eq!(sim.next_spawn(), FIRST_SPAWN_TICK);
        sim.step();
        let egg = sim.eggs()[0];
        assert_eq!(egg.y, EGG_SPAWN_Y + FALL_SPEED_BASE);
        assert_eq!(egg.speed, FALL_SPEED_BASE);
        assert!((EGG_MIN_X..=EGG_MAX_X).contains(&egg.x));
        let gap = sim.next_spawn() - FIRST_SPAWN_TICK;
        assert!((66..=99).contains(&gap), "{gap}");
    }

    #[test]
    fn catch_on_the_reach_edge() {
        // Egg centre lands exactly on the line, exactly CATCH_REACH from the basket.
        let mut sim = sim_with_egg_at(3, BASKET_START_X + CATCH_REACH, CATCH_Y - FALL_SPEED_BASE);
        sim.step();
        assert_eq!((sim.catches(), sim.score(), sim.misses()), (1, 10, 0));
        assert!(sim.eggs().iter().all(|e| e.id != 0));

        // One unit further out falls past.
        let mut sim = sim_with_egg_at(
            3,
            BASKET_START_X - CATCH_REACH - 1,
            CATCH_Y - FALL_SPEED_BASE,
        );
        sim.step();
        assert_eq!(sim.catches(), 0);
        assert_eq!(sim.eggs()[0].y, CATCH_Y);
    }

    #[test]
    fn only_the_crossing_tick_catches() {
        // Already on the line: the crossing happened earlier, so moving under it is too late.
        let mut sim = sim_with_egg_at(3, BASKET_START_X, CATCH_Y);
        sim.step();
        assert_eq!(sim.catches(), 0);
        // One short of the line after this tick, then crosses on the next.
        let mut sim = sim_with_egg_at(3, BASKET_START_X, CATCH_Y - 2 * FALL_SPEED_BASE + 1);
        sim.step();
        assert_eq!(sim.catches(), 0);
        sim.step();
        assert_eq!(sim.catches(), 1);
    }

    #[test]
    fn basket_moves_before_the_catch_check() {
        let x = BASKET_START_X + CATCH_REACH + BASKET_SPEED;
        let mut sim = sim_with_egg_at(3, x, CATCH_Y - 1);
        sim.set_target(WORLD_WIDTH);
        sim.step();
        assert_eq!(sim.catches(), 1);
    }

    #[test]
    fn missed_egg_costs_a_life_when_fully_below_the_field() {
        let mut sim = sim_with_egg_at(3, 0, WORLD_HEIGHT + EGG_RADIUS - FALL_SPEED_BASE - 1);
        sim.step();
        assert_eq!((sim.misses(), sim.lives()), (0, 3));
        sim.step();
        assert_eq!((sim.misses(), sim.lives()), (1, 2));
        assert!(sim.eggs().iter().all(|e| e.id != 0));
        assert!(!sim.game_over());
    }

    #[test]
    fn level_up_speeds_new_eggs_only() {
        let mut sim = Sim::new(11);
        while sim.eggs().is_empty() {
            sim.step();
        }
        sim.catches = 20;
        assert_eq!(sim.level(), 2);
        let spawn = sim.next_spawn();
        while sim.tick() <= spawn {
            sim.step();
        }
        let speeds: Vec<i32> = sim.eggs().iter().map(|e| e.speed).collect();
        assert_eq!(speeds, [4_000, 5_400]);
        let gap = sim.next_spawn() - spawn;
        assert!((54..=81).contains(&gap), "{gap}");
    }

    #[test]
    fn game_over_stops_the_sim() {
        let mut sim = Sim::new(42);
        sim.set_target(0);
        while !sim.game_over() {
            sim.step();
        }
        let end = sim.clone();
        assert_eq!(sim.lives(), 0);
        assert_eq!(sim.misses(), 3);
        sim.step();
        assert_eq!((sim.tick(), sim.eggs()), (end.tick(), end.eggs()));

        let outcome = EGG_CATCHER
            .replay(&seeds(42), &[input(0, 0)], MAX_TICKS)
            .unwrap();
        assert!(outcome.game_over);
        assert_eq!(outcome.ticks, end.tick());
        assert_eq!(outcome, end.outcome());
        // Inputs after game over but before the end tick are accepted and ignored.
        let late = [
            input(0, 0),
            input(end.tick(), 480_000),
            input(end.tick() + 5, 7),
        ];
        assert_eq!(
            EGG_CATCHER.replay(&seeds(42), &late, MAX_TICKS).unwrap(),
            outcome
        );
    }

    #[test]
    fn replay_stops_at_end_tick() {
        let outcome = EGG_CATCHER.replay(&seeds(9), &[], 100).unwrap();
        assert_eq!(outcome.ticks, 100);
        assert!(!outcome.game_over);
        assert_eq!(outcome.stats["lives"], 3);
        assert_eq!(EGG_CATCHER.replay(&seeds(9), &[], 0).unwrap().ticks, 0);
        // An input on the last simulated tick is allowed.
        let outcome = EGG_CATCHER.replay(&seeds(9), &[input(99, 0)], 100).unwrap();
        assert_eq!(outcome.ticks, 100);
    }

    #[test]
    fn replay_applies_inputs_on_their_tick() {
        let mut sim = Sim::new(77);
        let inputs = [
            input(0, 100_000),
            input(40, 400_000),
            input(41, 12),
            input(300, 0),
        ];
        for i in &inputs {
            while sim.tick() < i.tick && !sim.game_over() {
                sim.step();
            }
            sim.set_target(i.value as i32);
        }
        while sim.tick() < 600 && !sim.game_over() {
            sim.step();
        }
        assert_eq!(
            EGG_CATCHER.replay(&seeds(77), &inputs, 600).unwrap(),
            sim.outcome()
        );
    }

    #[test]
    fn check_inputs_errors() {
        let g = &EGG_CATCHER;
        assert_eq!(g.check_inputs(None, &[], 0), Ok(()));
        assert_eq!(
            g.check_inputs(None, &[input(0, 0), input(1, 480_000)], 0),
            Ok(())
        );
        assert_eq!(
            g.check_inputs(Some(5), &[input(6, 1), input(6, 2)], 10),
            Err(ReplayError::InputOutOfOrder { index: 11 })
        );
        assert_eq!(
            g.check_inputs(Some(5), &[input(5, 1)], 3),
            Err(ReplayError::InputOutOfOrder { index: 3 })
        );
        assert_eq!(
            g.check_inputs(None, &[input(0, 1), input(1, 480_001)], 0),
            Err(ReplayError::InputValueOutOfRange {
                index: 1,
                value: 480_001,
                max: 480_000
            })
        );
        assert_eq!(
            g.check_inputs(None, &[input(MAX_TICKS, 1)], 0),
            Err(ReplayError::InputAfterEnd {
                index: 0,
                tick: MAX_TICKS,
                end_tick: MAX_TICKS
            })
        );
        assert_eq!(
            g.check_inputs(None, &[input(1, 1), input(2, 2)], MAX_INPUTS - 1),
            Err(ReplayError::TooManyInputs {
                count: MAX_INPUTS + 1,
                max: MAX_INPUTS
            })
        );
    }

    #[test]
    fn replay_errors() {
        let g = &EGG_CATCHER;
        assert_eq!(
            g.replay(&seeds(1), &[], MAX_TICKS + 1),
            Err(ReplayError::TooManyTicks {
                ticks: MAX_TICKS + 1,
                max: MAX_TICKS
            })
        );
        assert_eq!(
            g.replay(&seeds(1), &[input(3, 1), input(2, 1)], 10),
            Err(ReplayError::InputOutOfOrder { index: 1 })
        );
        assert_eq!(
            g.replay(&seeds(1), &[input(10, 1)], 10),
            Err(ReplayError::InputAfterEnd {
                index: 0,
                tick: 10,
                end_tick: 10
            })
        );
        let many: Vec<Input> = (0..=MAX_INPUTS as u32).map(|t| input(t, 0)).collect();
        assert_eq!(
            g.replay(&seeds(1), &many, MAX_TICKS),
            Err(ReplayError::TooManyInputs {
                count: MAX_INPUTS + 1,
                max: MAX_INPUTS
            })
        );
    }

    #[test]
    fn long_replay_completes() {
        // Five minutes of a basket sweeping back and forth.
        let inputs: Vec<Input> = (0..18_000u32)
            .step_by(50)
            .map(|t| input(t, if t % 100 == 0 { 60_000 } else { 420_000 }))
            .collect();
        let outcome = EGG_CATCHER.replay(&seeds(2024), &inputs, 18_000).unwrap();
        assert!(outcome.ticks > 0 && outcome.ticks <= 18_000);
        let (inputs, outcome) = bot::play(&seeds(2024), 100, 18_000);
        assert_eq!(
            EGG_CATCHER.replay(&seeds(2024), &inputs, 18_000).unwrap(),
            outcome
        );
    }

    /// Steps `sim` until `ticks` ticks or game over, revealing windows from `seeds` and
    /// keeping the basket under the egg landing soonest.
    fn run(sim: &mut Sim, seeds: &dyn Fn(u32) -> u32, ticks: u32) {
        while sim.tick() < ticks && !sim.game_over() {
            if sim.waiting() {
                sim.reveal(seeds(sim.revealed()));
            }
            if let Some(egg) = soonest(sim) {
                sim.set_target(egg.x);
            }
            sim.step();
        }
    }

    #[test]
    fn the_sim_waits_at_a_window_it_was_not_given() {
        let mut sim = Sim::new(3);
        run(&mut sim, &|_| 3, crate::WINDOW_TICKS);
        for _ in 0..100 {
            sim.step();
        }
        assert_eq!(sim.tick(), crate::WINDOW_TICKS);
        assert!(sim.waiting());
        sim.reveal(4);
        assert!(!sim.waiting());
        sim.step();
        assert_eq!(sim.tick(), crate::WINDOW_TICKS + 1);
    }

    #[test]
    fn each_window_draws_from_its_own_seed_from_its_first_tick() {
        let first = seeds(21);
        let other = |k| if k == 1 { 12_345 } else { first(k) };
        let (mut a, mut b) = (Sim::new(21), Sim::new(21));
        run(&mut a, &first, crate::WINDOW_TICKS);
        run(&mut b, &other, crate::WINDOW_TICKS);
        assert!(!a.game_over());
        assert_eq!((a.eggs(), a.next_spawn()), (b.eggs(), b.next_spawn()));
        // The same tick of the next window spawns a different egg.
        let spawn = a.next_spawn();
        run(&mut a, &first, spawn + 1);
        run(&mut b, &other, spawn + 1);
        assert_ne!(a.eggs().last().map(|e| e.x), b.eggs().last().map(|e| e.x));
        // Replays ask for the windows they reach, and only those.
        let asked = std::cell::RefCell::new(Vec::new());
        let recording = |k| {
            asked.borrow_mut().push(k);
            first(k)
        };
        let (inputs, outcome) = bot::play(&first, 100, 1_300);
        assert_eq!(EGG_CATCHER.replay(&recording, &inputs, 1_300), Ok(outcome));
        assert_eq!(*asked.borrow(), [0, 1, 2]);
    }

    /// Plays with `policy` choosing the target every tick (all windows known), as a script
    /// would; the outcome of the replay of what it recorded.
    fn scripted(seed: u32, policy: impl Fn(&Sim, &dyn Fn(u32) -> u32) -> i32) -> Outcome {
        let seeds = seeds(seed);
        let mut sim = Sim::new(seed);
        let mut inputs = Vec::new();
        while sim.tick() < 36_000 && !sim.game_over() {
            if sim.waiting() {
                sim.reveal(seeds(sim.revealed()));
            }
            let target = policy(&sim, &seeds);
            if target != sim.target_x() {
                sim.set_target(target);
                inputs.push(input(sim.tick(), target as u32));
            }
            sim.step();
        }
        let outcome = EGG_CATCHER.replay(&seeds, &inputs, sim.tick()).unwrap();
        assert_eq!(outcome, sim.outcome());
        outcome
    }

    /// The egg landing soonest.
    fn soonest(sim: &Sim) -> Option<Egg> {
        sim.eggs()
            .iter()
            .filter(|e| e.y < CATCH_Y)
            .min_by_key(|e| (CATCH_Y - e.y) / e.speed)
            .copied()
    }

    #[test]
    fn a_script_that_reacts_at_once_is_flagged() {
        for seed in 0..5 {
            let outcome = scripted(seed, |sim, _| soonest(sim).map_or(sim.target_x(), |e| e.x));
            assert!(outcome.score > 300, "{outcome:?}");
            assert_eq!(outcome.flags, [FLAG_FAST_REACTIONS], "{outcome:?}");
        }
    }

    #[test]
    fn a_script_that_knows_where_eggs_will_fall_is_flagged() {
        // It looks ahead in the windows it holds and waits where the next egg will appear
        // once the egg landing soonest is low enough to be caught on the way.
        let next_egg_x = |sim: &Sim, seeds: &dyn Fn(u32) -> u32| {
            let mut ahead = sim.clone();
            let count = sim.eggs().iter().map(|e| e.id + 1).max().unwrap_or(0);
            while !ahead.game_over() && ahead.eggs().iter().all(|e| e.id < count) {
                if ahead.waiting() {
                    ahead.reveal(seeds(ahead.revealed()));
                }
                ahead.step();
            }
            ahead.eggs().iter().find(|e| e.id >= count).map(|e| e.x)
        };
        for seed in 0..5 {
            let outcome = scripted(seed, |sim, seeds| match soonest(sim) {
                Some(e) if e.y < CATCH_Y - 30 * e.speed => next_egg_x(sim, seeds).unwrap_or(e.x),
                Some(e) => e.x,
                None => next_egg_x(sim, seeds).unwrap_or(sim.target_x()),
            });
            assert!(
                outcome.flags.contains(&FLAG_ANTICIPATION.to_owned()),
                "{outcome:?}"
            );
        }
    }
}
