//! Writes `vectors/2048.json`, the test vectors shared by the Rust and browser simulations of
//! 2048. Expected values come from this crate; rerun after any rules change:
//!
//! ```sh
//! cargo run -p arcade-games --example twenty_forty_eight_vectors
//! ```

use arcade_games::WINDOW_TICKS;
use arcade_games::rng::derived_seeds;
use arcade_games::twenty_forty_eight::{
    Board, Direction, MAX_TICKS, MIN_MOVE_GAP, RULES_VERSION, Sim, TWENTY_FORTY_EIGHT, bot, slide,
    tile_value,
};
use arcade_games::{Game, Input};
use serde_json::{Value, json};

use Direction::{Down, Left, Right, Up};

fn inputs(pairs: &[(u32, u32)]) -> Vec<Input> {
    pairs.iter().copied().map(Input::from).collect()
}

/// `dirs`, one every `gap` ticks from `first`.
fn paced(first: u32, gap: u32, dirs: impl IntoIterator<Item = Direction>) -> Vec<Input> {
    dirs.into_iter()
        .enumerate()
        .map(|(i, d)| Input::from((first + i as u32 * gap, d.value())))
        .collect()
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
    let _ = TWENTY_FORTY_EIGHT.replay(&recording, inputs, end_tick);
    (0..=asked.get()).map(&seeds).collect()
}

/// Plays `inputs` move by move with `seeds`, as the browser does (revealing each window when
/// the game reaches it), and returns the simulation at the end.
fn play(seeds: &[u32], inputs: &[Input], end_tick: u32) -> Sim {
    let mut sim = Sim::new(seeds[0]);
    let mut pending = inputs.iter().peekable();
    while sim.tick() < end_tick && !sim.game_over() {
        if sim.waiting() {
            sim.reveal(seeds[sim.revealed() as usize]);
        }
        if let Some(i) = pending.next_if(|i| i.tick == sim.tick()) {
            sim.play(Direction::from_value(i.value).expect("a direction"));
        }
        sim.step();
    }
    sim
}

fn vector(name: &str, base: u32, inputs: &[Input], end_tick: u32) -> Value {
    let expected = TWENTY_FORTY_EIGHT
        .replay(&derived_seeds(base), inputs, end_tick)
        .unwrap_or_else(|e| panic!("{name}: {e}"));
    let seeds = window_seeds(base, inputs, end_tick);
    let sim = play(&seeds, inputs, end_tick);
    assert_eq!(sim.outcome(), expected, "{name}");
    json!({
        "name": name,
        "seeds": seeds,
        "inputs": inputs,
        "end_tick": end_tick,
        "expected": expected,
        "board": sim.values(),
    })
}

fn bot_vector(name: &str, base: u32, skill: u8, end_tick: u32) -> Value {
    let (inputs, outcome) = bot::play(&derived_seeds(base), skill, end_tick);
    let v = vector(name, base, &inputs, end_tick);
    assert_eq!(v["expected"], json!(outcome), "{name}");
    v
}

/// The score and board after every move, so step-level differences show up even when they do
/// not change the outcome.
fn trace(name: &str, base: u32, skill: u8, end_tick: u32) -> Value {
    let (inputs, _) = bot::play(&derived_seeds(base), skill, end_tick);
    let seeds = window_seeds(base, &inputs, end_tick);
    let mut sim = Sim::new(seeds[0]);
    let mut frames = Vec::new();
    for i in &inputs {
        while (sim.revealed() as usize) < seeds.len() && sim.revealed() * WINDOW_TICKS <= i.tick {
            sim.reveal(seeds[sim.revealed() as usize]);
        }
        sim.advance_to(i.tick);
        sim.play(Direction::from_value(i.value).expect("a direction"));
        frames.push(json!([i.tick, sim.score(), sim.values()]));
        sim.step();
    }
    json!({"name": name, "seeds": seeds, "inputs": inputs, "end_tick": end_tick, "frames": frames})
}

fn rejection(name: &str, base: u32, inputs: &[Input], end_tick: u32) -> Value {
    let err = TWENTY_FORTY_EIGHT
        .replay(&derived_seeds(base), inputs, end_tick)
        .expect_err(name);
    let seeds = window_seeds(base, inputs, end_tick);
    json!({"name": name, "seeds": seeds, "inputs": inputs, "end_tick": end_tick, "reason": err.reason()})
}

fn to_board(values: [u32; 16]) -> Board {
    values.map(|v| if v == 0 { 0 } else { v.trailing_zeros() as u8 })
}

/// One slide of a board with no tile added, in every direction.
fn slides(name: &str, values: [u32; 16]) -> Vec<Value> {
    Direction::ALL
        .iter()
        .map(|&d| {
            let (out, gained) = slide(&to_board(values), d);
            json!({
                "name": name,
                "board": values,
                "direction": d.value(),
                "expected": out.map(tile_value),
                "gained": gained,
            })
        })
        .collect()
}

fn main() {
    #[rustfmt::skip]
    let slide_cases = [
        slides("four-in-a-row", [
            2, 2, 2, 2,
            2, 0, 0, 0,
            2, 0, 0, 0,
            2, 0, 0, 0,
        ]),
        slides("merged-tile-does-not-merge-again", [
            4, 4, 8, 0,
            2, 2, 4, 0,
            0, 0, 0, 0,
            8, 8, 8, 0,
        ]),
        slides("gaps-and-pairs", [
            2, 0, 0, 2,
            0, 4, 0, 4,
            2, 2, 4, 4,
            0, 0, 0, 2,
        ]),
        slides("no-merge-possible", [
            2, 4, 2, 4,
            4, 2, 4, 2,
            2, 4, 2, 4,
            4, 2, 4, 2,
        ]),
        slides("big-tiles", [
            1024, 1024, 0, 0,
            65536, 0, 0, 65536,
            2048, 2048, 2048, 0,
            0, 0, 131072, 0,
        ]),
    ]
    .concat();

    // A game to game over at the fastest pace allowed, then moves after it.
    let cycle = [Down, Left, Right].into_iter().cycle().take(3_000);
    let fastest = paced(0, MIN_MOVE_GAP, cycle);
    let over = TWENTY_FORTY_EIGHT
        .replay(&derived_seeds(7), &fastest, MAX_TICKS)
        .expect("valid");
    assert!(over.game_over);
    let fastest: Vec<Input> = fastest
        .into_iter()
        .filter(|i| i.tick < over.ticks)
        .collect();
    let mut late = fastest.clone();
    late.extend(inputs(&[(over.ticks + 2, 0), (over.ticks + 40, 3)]));

    let (mut last_tick, _) = bot::play(&derived_seeds(6), 80, 897);
    last_tick.retain(|i| i.tick + MIN_MOVE_GAP <= 899);
    last_tick.push(Input::from((899, Up.value())));

    let (cut, cut_outcome) = bot::play(&derived_seeds(5), 100, 3_000);
    assert!(!cut_outcome.game_over);

    let vectors = [
        vector("no-moves", 1, &[], 600),
        vector("zero-ticks", 9, &[], 0),
        vector(
            "one-move-each-way",
            2,
            &paced(30, 20, [Up, Right, Down, Left]),
            200,
        ),
        vector(
            "repeated-move-changes-nothing",
            3,
            &paced(10, 5, [Up; 12]),
            200,
        ),
        vector(
            "nothing-changes-then-moves",
            4,
            &paced(0, 3, [Left, Left, Left, Right, Right, Down, Down, Up]),
            100,
        ),
        vector("fastest-pace-to-game-over", 7, &fastest, MAX_TICKS),
        vector("inputs-after-game-over", 7, &late, MAX_TICKS),
        vector("input-at-final-tick", 6, &last_tick, 900),
        vector("end-tick-before-game-over", 5, &cut, 3_000),
        bot_vector("bot-skill-0", 10, 0, MAX_TICKS),
        bot_vector("bot-skill-50", 11, 50, MAX_TICKS),
        bot_vector("bot-skill-100-wins", 12, 100, MAX_TICKS),
        bot_vector("seed-0", 0, 90, MAX_TICKS),
        bot_vector("seed-max", u32::MAX, 60, MAX_TICKS),
        vector(
            "fastest-pace-for-a-minute-flagged",
            13,
            &paced(0, MIN_MOVE_GAP, [Up, Down].into_iter().cycle().take(1_200)),
            3_600,
        ),
    ];
    let stats = |i: usize, key: &str| vectors[i]["expected"]["stats"][key].as_u64().unwrap();
    let moves = |i: usize| vectors[i]["inputs"].as_array().unwrap().len() as u64;
    assert!(stats(3, "moves") < moves(3), "no-op moves are recorded");
    assert!(stats(4, "moves") < moves(4), "no-op moves are recorded");
    assert_eq!(stats(11, "won"), 1, "a won game");
    assert!(stats(11, "moves") >= 1_000, "a long game");
    for v in &vectors[5..=6] {
        assert_eq!(v["expected"]["game_over"], json!(true));
    }
    assert_eq!(
        vectors[14]["expected"]["flags"],
        json!(["fast_moves"]),
        "a script's pace"
    );
    for v in &vectors[..14] {
        assert!(v["expected"].get("flags").is_none(), "{}", v["name"]);
    }
    assert!(
        vectors[11]["seeds"].as_array().unwrap().len() > 10,
        "a game over many windows"
    );

    let rejections = [
        rejection("same-tick-twice", 1, &inputs(&[(5, 1), (5, 2)]), 100),
        rejection("tick-goes-back", 1, &inputs(&[(5, 1), (9, 2), (8, 3)]), 100),
        rejection(
            "moves-two-ticks-apart",
            1,
            &inputs(&[(0, 1), (3, 2), (5, 3)]),
            100,
        ),
        rejection(
            "moves-on-consecutive-ticks",
            1,
            &inputs(&[(10, 2), (11, 2)]),
            100,
        ),
        rejection("direction-out-of-range", 1, &inputs(&[(0, 1), (3, 4)]), 100),
        rejection("input-at-end-tick", 1, &inputs(&[(0, 1), (100, 2)]), 100),
        rejection("too-many-ticks", 1, &[], MAX_TICKS + 1),
    ];

    let traces = [
        trace("bot-skill-50-to-game-over", 0x8000_0000, 50, MAX_TICKS),
        trace("bot-skill-100-first-5000-ticks", 4, 100, 5_000),
    ];

    let lines = |items: &[Value]| -> String {
        items
            .iter()
            .map(|v| format!("    {v}"))
            .collect::<Vec<_>>()
            .join(",\n")
    };
    let text = format!(
        "{{\n  \"game\": \"{}\",\n  \"rules_version\": {},\n  \"min_move_gap\": {},\n  \
         \"window_ticks\": {},\n  \"slides\": [\n{}\n  ],\n  \"vectors\": [\n{}\n  ],\n  \"rejections\": [\n{}\n  ],\n  \
         \"traces\": [\n{}\n  ]\n}}\n",
        TWENTY_FORTY_EIGHT.id(),
        RULES_VERSION,
        MIN_MOVE_GAP,
        WINDOW_TICKS,
        lines(&slide_cases),
        lines(&vectors),
        lines(&rejections),
        lines(&traces),
    );
    // Round-trip so a formatting slip cannot produce invalid JSON.
    serde_json::from_str::<Value>(&text).expect("valid JSON");

    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/vectors/2048.json");
    std::fs::write(path, text).expect("write vectors");
    println!("wrote {path}");
}
