//! Checks the Rust simulation against the vectors shared with the browser module
//! (`web/test/egg-catcher-vectors.test.mjs` checks the same file).

use arcade_games::egg_catcher::{EGG_CATCHER, RULES_VERSION, Sim};
use arcade_games::rng::Xoshiro128StarStar;
use arcade_games::{Game, Input, Outcome};
use serde::Deserialize;

#[derive(Deserialize)]
struct File {
    game: String,
    rules_version: u32,
    rng: Vec<RngCase>,
    vectors: Vec<Vector>,
    rejections: Vec<Rejection>,
    traces: Vec<Trace>,
}

#[derive(Deserialize)]
struct RngCase {
    seed: u32,
    first: Vec<u32>,
}

#[derive(Deserialize)]
struct Vector {
    name: String,
    seed: u32,
    inputs: Vec<Input>,
    end_tick: u32,
    expected: Outcome,
}

#[derive(Deserialize)]
struct Rejection {
    name: String,
    seed: u32,
    inputs: Vec<Input>,
    end_tick: u32,
    reason: String,
}

/// `[tick, score, lives, basket_x, [[id, x, y, speed], ...]]` after a step.
type Frame = (u32, u32, u32, i32, Vec<[i32; 4]>);

#[derive(Deserialize)]
struct Trace {
    name: String,
    seed: u32,
    inputs: Vec<Input>,
    end_tick: u32,
    frames: Vec<Frame>,
}

fn load() -> File {
    let text = include_str!("../vectors/egg-catcher.json");
    serde_json::from_str(text).expect("vectors file parses")
}

#[test]
fn header_matches() {
    let file = load();
    assert_eq!(file.game, EGG_CATCHER.id());
    assert_eq!(file.rules_version, RULES_VERSION);
    assert!(file.vectors.len() >= 8);
}

#[test]
fn rng_outputs() {
    for case in load().rng {
        let mut rng = Xoshiro128StarStar::new(case.seed);
        let got: Vec<u32> = case.first.iter().map(|_| rng.next_u32()).collect();
        assert_eq!(got, case.first, "seed {}", case.seed);
    }
}

#[test]
fn replays_match() {
    for v in load().vectors {
        let outcome = EGG_CATCHER.replay(v.seed, &v.inputs, v.end_tick);
        assert_eq!(outcome.as_ref(), Ok(&v.expected), "{}", v.name);
    }
}

#[test]
fn stepping_by_hand_matches() {
    // The step API the bot and tools use must agree with `replay`.
    for v in load().vectors {
        let mut sim = Sim::new(v.seed);
        let mut pending = v.inputs.iter().peekable();
        while sim.tick() < v.end_tick && !sim.game_over() {
            if let Some(i) = pending.next_if(|i| i.tick == sim.tick()) {
                sim.set_target(i.value as i32);
            }
            sim.step();
        }
        assert_eq!(sim.outcome(), v.expected, "{}", v.name);
    }
}

#[test]
fn rejections_match() {
    let file = load();
    let reasons: std::collections::BTreeSet<_> =
        file.rejections.iter().map(|r| r.reason.as_str()).collect();
    for reason in [
        "input_out_of_order",
        "input_value_out_of_range",
        "input_after_end",
        "too_many_ticks",
    ] {
        assert!(reasons.contains(reason), "no vector for {reason}");
    }
    for r in file.rejections {
        let err = EGG_CATCHER
            .replay(r.seed, &r.inputs, r.end_tick)
            .expect_err(&r.name);
        assert_eq!(err.reason(), r.reason, "{}", r.name);
    }
}

#[test]
fn traces_match() {
    for t in load().traces {
        let mut sim = Sim::new(t.seed);
        let mut pending = t.inputs.iter().peekable();
        let mut frames = t.frames.iter();
        while sim.tick() < t.end_tick && !sim.game_over() {
            if let Some(i) = pending.next_if(|i| i.tick == sim.tick()) {
                sim.set_target(i.value as i32);
            }
            sim.step();
            let Some(frame) = frames.as_slice().first() else {
                continue;
            };
            if frame.0 == sim.tick() {
                let eggs: Vec<[i32; 4]> = sim
                    .eggs()
                    .iter()
                    .map(|e| [e.id as i32, e.x, e.y, e.speed])
                    .collect();
                let got = (sim.tick(), sim.score(), sim.lives(), sim.basket_x(), eggs);
                assert_eq!(&got, frame, "{}", t.name);
                frames.next();
            }
        }
        assert!(frames.next().is_none(), "{}: frames left over", t.name);
    }
}
