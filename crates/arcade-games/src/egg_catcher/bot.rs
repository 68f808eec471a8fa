//! A deterministic player for tests and load generation. It makes valid replays with known
//! outcomes: the inputs it records replay to exactly the `Outcome` it returns.
//!
//! Its own decisions come from a separate generator seeded from the game seed, so the game's
//! stream is the same as for a human player with that seed.

use super::{BASKET_SPEED, CATCH_REACH, CATCH_Y, EGG_CATCHER, Egg, MAX_TICKS, Sim, WORLD_WIDTH};
use crate::rng::Xoshiro128StarStar;
use crate::{Game, Input, Outcome};

/// Highest skill: reacts every tick and aims dead centre.
pub const MAX_SKILL: u8 = 100;

/// Separates the bot's decision stream from the game's stream for the same seed.
const BOT_SEED_SALT: u32 = 0xB07_5EED;

/// Plays from `seed` at `skill` (0..=100, higher values are clamped) until game over or
/// `max_ticks` (capped at the game's limit), recording inputs as the browser would: the
/// target at the tick it changes.
///
/// Lower skill means looking at the field less often, sometimes not reacting at all, and
/// aiming further off the egg.
pub fn play(seed: u32, skill: u8, max_ticks: u32) -> (Vec<Input>, Outcome) {
    let clumsiness = u32::from(MAX_SKILL - skill.min(MAX_SKILL));
    let max_ticks = max_ticks.min(MAX_TICKS);
    // Ticks between looks at the field: 1 at skill 100, up to 37 at skill 0.
    let reaction = 1 + clumsiness / 4;
    // Percent of looks that lead to no move at all.
    let lapse_percent = clumsiness * 3 / 5;
    // Aim error bound in world units; CATCH_REACH is 56_000.
    let max_error = clumsiness * 1_000;

    let mut rng = Xoshiro128StarStar::new(seed ^ BOT_SEED_SALT);
    let mut sim = Sim::new(seed);
    let mut inputs = Vec::new();
    let mut next_look = 0;
    // (egg id, aim offset): the offset is drawn once per egg so the aim does not jitter.
    let mut aim: Option<(u32, i32)> = None;

    while sim.tick() < max_ticks && !sim.game_over() {
        if sim.tick() >= next_look {
            next_look = sim.tick() + reaction + rng.below(reaction / 2 + 1);
            let lapse = rng.below(100) < lapse_percent;
            if let Some(egg) = choose_egg(&sim).filter(|_| !lapse) {
                let offset = match aim {
                    Some((id, offset)) if id == egg.id => offset,
                    _ => rng.below(2 * max_error + 1) as i32 - max_error as i32,
                };
                aim = Some((egg.id, offset));
                let target = (egg.x + offset).clamp(0, WORLD_WIDTH);
                if target != sim.target_x() {
                    sim.set_target(target);
                    inputs.push(Input {
                        tick: sim.tick(),
                        value: target as u32,
                    });
                }
            }
        }
        sim.step();
    }

    let outcome = sim.outcome();
    debug_assert_eq!(EGG_CATCHER.check_inputs(None, &inputs, 0), Ok(()));
    (inputs, outcome)
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

    #[test]
    fn replay_of_bot_inputs_matches_its_outcome() {
        for seed in 0..40u32 {
            for skill in [0, 25, 50, 75, 90, 100] {
                let seed = seed.wrapping_mul(0x9E37_79B9);
                let (inputs, outcome) = play(seed, skill, 20_000);
                assert_eq!(EGG_CATCHER.check_inputs(None, &inputs, 0), Ok(()));
                let replayed = EGG_CATCHER.replay(seed, &inputs, 20_000).unwrap();
                assert_eq!(replayed, outcome, "seed {seed} skill {skill}");
            }
        }
    }

    #[test]
    fn bot_is_deterministic() {
        assert_eq!(play(5, 60, 5_000), play(5, 60, 5_000));
    }

    #[test]
    fn skill_matters() {
        let seeds = 0..20u32;
        let levels = |skill| -> Vec<u32> {
            seeds
                .clone()
                .map(|s| play(s, skill, 36_000).1.stats["level"])
                .collect()
        };
        let best = levels(100);
        let survived_several = best.iter().filter(|&&l| l >= 3).count();
        assert!(survived_several >= 15, "{best:?}");
        for seed in seeds.clone() {
            let (_, outcome) = play(seed, 0, 36_000);
            assert!(outcome.game_over && outcome.ticks < 3_600, "{outcome:?}");
            assert!(outcome.stats["level"] <= 1, "{outcome:?}");
        }
    }

    #[test]
    fn respects_max_ticks() {
        let (inputs, outcome) = play(8, 100, 500);
        assert_eq!(outcome.ticks, 500);
        assert!(inputs.iter().all(|i| i.tick < 500));
        let (_, outcome) = play(8, 100, u32::MAX);
        assert!(outcome.ticks <= MAX_TICKS);
    }
}
