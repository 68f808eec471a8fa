//! Writes `vectors/egg-catcher.json`, the test vectors shared by the Rust and browser
//! simulations. Expected values come from this crate; rerun after any rules change:
//!
//! ```sh
//! cargo run -p arcade-games --example egg_catcher_vectors
//! ```

use arcade_games::egg_catcher::{CATCH_Y, EGG_CATCHER, MAX_TICKS, RULES_VERSION, Sim, bot};
use arcade_games::rng::{WindowedRng, Xoshiro128StarStar, derived_seeds};
use arcade_games::{Game, Input, WINDOW_TICKS};
use serde_json::{Value, json};

const RNG_SEEDS: [u32; 5] = [0, 1, 42, 0x1234_5678, u32::MAX];

fn inputs(pairs: &[(u32, u32)]) -> Vec<Input> {
    pairs.iter().copied().map(Input::from).collect()
}

/// The window seeds a replay of `inputs` to `end_tick` with `derived_seeds(base)` asks for,
/// all of them from window 0.
fn window_seeds(base: u32, inputs: &[Input], end_tick: u32) -> Vec<u32> {
    let seeds = derived_seeds(base);
    let asked = std::cell::Cell::new(0);
    let recording = |k: u32| {
        asked.set(asked.get().max(k));
        seeds(k)
    };
    // A rejected replay asks for nothing past window 0.
    let _ = EGG_CATCHER.replay(&recording, inputs, end_tick);
    (0..=asked.get()).map(&seeds).collect()
}

fn vector(name: &str, base: u32, inputs: &[Input], end_tick: u32) -> Value {
    let expected = EGG_CATCHER
        .replay(&derived_seeds(base), inputs, end_tick)
        .unwrap_or_else(|e| panic!("{name}: {e}"));
    let seeds = window_seeds(base, inputs, end_tick);
    json!({"name": name, "seeds": seeds, "inputs": inputs, "end_tick": end_tick, "expected": expected})
}

fn bot_vector(name: &str, base: u32, skill: u8, end_tick: u32) -> Value {
    let (inputs, outcome) = bot::play(&derived_seeds(base), skill, end_tick);
    let v = vector(name, base, &inputs, end_tick);
    assert_eq!(v["expected"], json!(outcome), "{name}");
    v
}

/// A script that moves the basket under the egg landing soonest the moment it appears.
fn instant_reactions(base: u32, end_tick: u32) -> Vec<Input> {
    let seeds = derived_seeds(base);
    let mut sim = Sim::new(seeds(0));
    let mut inputs = Vec::new();
    while sim.tick() < end_tick && !sim.game_over() {
        if sim.waiting() {
            sim.reveal(seeds(sim.revealed()));
        }
        let soonest = sim
            .eggs()
            .iter()
            .filter(|e| e.y < CATCH_Y)
            .min_by_key(|e| (CATCH_Y - e.y) / e.speed);
        if let Some(x) = soonest.map(|e| e.x).filter(|&x| x != sim.target_x()) {
            sim.set_target(x);
            inputs.push(Input::from((sim.tick(), x as u32)));
        }
        sim.step();
    }
    inputs
}

/// Samples the full state every `every` ticks, so step-level differences show up even when
/// they do not change the outcome.
fn trace(name: &str, base: u32, skill: u8, end_tick: u32, every: u32) -> Value {
    let (inputs, _) = bot::play(&derived_seeds(base), skill, end_tick);
    let seeds = window_seeds(base, &inputs, end_tick);
    let mut sim = Sim::new(seeds[0]);
    let mut pending = inputs.iter().peekable();
    let mut frames = Vec::new();
    while sim.tick() < end_tick && !sim.game_over() {
        if sim.waiting() {
            sim.reveal(seeds[sim.revealed() as usize]);
        }
        if let Some(i) = pending.next_if(|i| i.tick == sim.tick()) {
            sim.set_target(i.value as i32);
        }
        sim.step();
        if sim.tick().is_multiple_of(every) || sim.game_over() {
            let eggs: Vec<_> = sim
                .eggs()
                .iter()
                .map(|e| [e.id as i32, e.x, e.y, e.speed])
                .collect();
            frames.push(json!([
                sim.tick(),
                sim.score(),
                sim.lives(),
                sim.basket_x(),
                eggs
            ]));
        }
    }
    json!({"name": name, "seeds": seeds, "inputs": inputs, "end_tick": end_tick, "frames": frames})
}

fn rejection(name: &str, base: u32, inputs: &[Input], end_tick: u32) -> Value {
    let err = EGG_CATCHER
        .replay(&derived_seeds(base), inputs, end_tick)
        .expect_err(name);
    let seeds = window_seeds(base, inputs, end_tick);
    json!({"name": name, "seeds": seeds, "inputs": inputs, "end_tick": end_tick, "reason": err.reason()})
}

/// Draws of a windowed generator at chosen ticks, skipping a window: `[tick, value]`.
fn windowed_draws(base: u32) -> Value {
    let seeds: Vec<u32> = (0..5).map(derived_seeds(base)).collect();
    let mut rng = WindowedRng::new(seeds[0]);
    for &s in &seeds[1..] {
        rng.reveal(s);
    }
    let w = WINDOW_TICKS;
    let draws: Vec<[u32; 2]> = [0, 0, 1, w - 1, w, w + 3, 3 * w, 3 * w, 4 * w + 599]
        .into_iter()
        .map(|tick| [tick, rng.at(tick).next_u32()])
        .collect();
    json!({"seeds": seeds, "draws": draws})
}

fn main() {
    let rng: Vec<Value> = RNG_SEEDS
        .iter()
        .map(|&seed| {
            let mut r = Xoshiro128StarStar::new(seed);
            let first: Vec<u32> = (0..8).map(|_| r.next_u32()).collect();
            json!({"seed": seed, "first": first})
        })
        .collect();

    // Bot games whose inputs run past game over, to show late inputs are ignored.
    let (mut late, over) = bot::play(&derived_seeds(7), 40, MAX_TICKS);
    late.push(Input::from((over.ticks, 480_000)));
    late.push(Input::from((over.ticks + 100, 0)));

    let (mut last_tick, _) = bot::play(&derived_seeds(6), 80, 899);
    last_tick.push(Input::from((899, 12_345)));

    // A basket swept back and forth with an input on every tick, as a mouse would.
    let sweep: Vec<Input> = (0..1_200u32)
        .map(|t| {
            let v = t * 4_000 % 960_000;
            Input::from((t, v.min(960_000 - v)))
        })
        .collect();

    let vectors = [
        vector("idle-basket", 1, &[], MAX_TICKS),
        bot_vector("bot-skill-0", 2, 0, MAX_TICKS),
        bot_vector("bot-skill-50", 3, 50, MAX_TICKS),
        bot_vector("bot-skill-100", 4, 100, MAX_TICKS),
        bot_vector("end-tick-before-game-over", 5, 90, 1_500),
        bot_vector("seed-0", 0, 75, MAX_TICKS),
        bot_vector("seed-max", u32::MAX, 60, MAX_TICKS),
        vector("input-at-final-tick", 6, &last_tick, 900),
        vector("inputs-after-game-over", 7, &late, MAX_TICKS),
        vector(
            "field-edges",
            8,
            &inputs(&[
                (0, 0),
                (120, 480_000),
                (121, 480_000),
                (400, 240_000),
                (401, 0),
            ]),
            MAX_TICKS,
        ),
        vector("every-tick-sweep", 10, &sweep, 1_200),
        vector("zero-ticks", 9, &[], 0),
        vector(
            "instant-reactions-flagged",
            11,
            &instant_reactions(11, 20_000),
            20_000,
        ),
    ];
    let over = &vectors[3]["expected"];
    assert!(
        over["stats"]["level"].as_u64().unwrap() >= 2,
        "bot-skill-100: {over}"
    );
    assert_eq!(vectors[4]["expected"]["game_over"], json!(false));
    assert!(
        vectors[3]["seeds"].as_array().unwrap().len() > 3,
        "a game over several windows"
    );
    assert_eq!(
        vectors[12]["expected"]["flags"],
        json!(["fast_reactions"]),
        "a script's reactions"
    );
    for v in &vectors[..12] {
        assert!(v["expected"].get("flags").is_none(), "{}", v["name"]);
    }

    let rejections = [
        rejection("same-tick-twice", 1, &inputs(&[(5, 1), (5, 2)]), 100),
        rejection("tick-goes-back", 1, &inputs(&[(5, 1), (9, 2), (8, 3)]), 100),
        rejection(
            "value-above-field",
            1,
            &inputs(&[(0, 1), (3, 480_001)]),
            100,
        ),
        rejection("input-at-end-tick", 1, &inputs(&[(0, 1), (100, 2)]), 100),
        rejection("too-many-ticks", 1, &[], MAX_TICKS + 1),
    ];

    let traces = [
        trace("bot-skill-100-first-3000-ticks", 4, 100, 3_000, 20),
        trace("bot-skill-30-to-game-over", 0x8000_0000, 30, MAX_TICKS, 10),
    ];

    let lines = |items: &[Value]| -> String {
        items
            .iter()
            .map(|v| format!("    {v}"))
            .collect::<Vec<_>>()
            .join(",\n")
    };
    let text = format!(
        "{{\n  \"game\": \"{}\",\n  \"rules_version\": {},\n  \"window_ticks\": {},\n  \
         \"rng\": [\n{}\n  ],\n  \"windowed_rng\": {},\n  \"vectors\": [\n{}\n  ],\n  \"rejections\": [\n{}\n  ],\n  \"traces\": [\n{}\n  ]\n}}\n",
        EGG_CATCHER.id(),
        RULES_VERSION,
        WINDOW_TICKS,
        lines(&rng),
        windowed_draws(0xC0FFEE),
        lines(&vectors),
        lines(&rejections),
        lines(&traces),
    );
    // Round-trip so a formatting slip cannot produce invalid JSON.
    serde_json::from_str::<Value>(&text).expect("valid JSON");

    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/vectors/egg-catcher.json");
    std::fs::write(path, text).expect("write vectors");
    println!("wrote {path}");
}
