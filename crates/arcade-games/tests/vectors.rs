//! Checks the Rust simulations against the vectors shared with the browser modules
//! (`web/test/*-vectors.test.mjs` check the same files), one module per game.

/// The seed of each window, from a vector's list (a replay asking for one more fails).
fn from_list(seeds: &[u32]) -> impl Fn(u32) -> u32 + '_ {
    |k| {
        *seeds
            .get(k as usize)
            .unwrap_or_else(|| panic!("window {k} asked for, {} listed", seeds.len()))
    }
}

mod egg_catcher {
    use arcade_games::egg_catcher::{EGG_CATCHER, RULES_VERSION, Sim};
    use arcade_games::rng::{WindowedRng, Xoshiro128StarStar};
    use arcade_games::{Game, Input, Outcome, WINDOW_TICKS};
    use serde::Deserialize;

    use super::from_list;

    #[derive(Deserialize)]
    struct File {
        game: String,
        rules_version: u32,
        window_ticks: u32,
        rng: Vec<RngCase>,
        windowed_rng: WindowedCase,
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
    struct WindowedCase {
        seeds: Vec<u32>,
        /// `[tick, value]`: the next draw at that tick.
        draws: Vec<[u32; 2]>,
    }

    #[derive(Deserialize)]
    struct Vector {
        name: String,
        seeds: Vec<u32>,
        inputs: Vec<Input>,
        end_tick: u32,
        expected: Outcome,
    }

    #[derive(Deserialize)]
    struct Rejection {
        name: String,
        seeds: Vec<u32>,
        inputs: Vec<Input>,
        end_tick: u32,
        reason: String,
    }

    /// `[tick, score, lives, basket_x, [[id, x, y, speed], ...]]` after a step.
    type Frame = (u32, u32, u32, i32, Vec<[i32; 4]>);

    #[derive(Deserialize)]
    struct Trace {
        name: String,
        seeds: Vec<u32>,
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
        assert_eq!(file.window_ticks, WINDOW_TICKS);
        assert!(file.vectors.len() >= 8);
    }

    #[test]
    fn windowed_rng_draws() {
        let case = load().windowed_rng;
        let mut rng = WindowedRng::new(case.seeds[0]);
        for &s in &case.seeds[1..] {
            rng.reveal(s);
        }
        for [tick, value] in case.draws {
            assert_eq!(rng.at(tick).next_u32(), value, "tick {tick}");
        }
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
            let outcome = EGG_CATCHER.replay(&from_list(&v.seeds), &v.inputs, v.end_tick);
            assert_eq!(outcome.as_ref(), Ok(&v.expected), "{}", v.name);
        }
    }

    #[test]
    fn stepping_by_hand_matches() {
        // The step API the bot and tools use must agree with `replay`.
        for v in load().vectors {
            let mut sim = Sim::new(v.seeds[0]);
            let mut pending = v.inputs.iter().peekable();
            while sim.tick() < v.end_tick && !sim.game_over() {
                if sim.waiting() {
                    sim.reveal(v.seeds[sim.revealed() as usize]);
                }
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
                .replay(&from_list(&r.seeds), &r.inputs, r.end_tick)
                .expect_err(&r.name);
            assert_eq!(err.reason(), r.reason, "{}", r.name);
        }
    }

    #[test]
    fn traces_match() {
        for t in load().traces {
            let mut sim = Sim::new(t.seeds[0]);
            let mut pending = t.inputs.iter().peekable();
            let mut frames = t.frames.iter();
            while sim.tick() < t.end_tick && !sim.game_over() {
                if sim.waiting() {
                    sim.reveal(t.seeds[sim.revealed() as usize]);
                }
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
}

mod twenty_forty_eight {
    use std::collections::BTreeSet;

    use arcade_games::twenty_forty_eight::{
        Direction, MIN_MOVE_GAP, RULES_VERSION, Sim, TWENTY_FORTY_EIGHT, slide, tile_value,
    };
    use arcade_games::{Game, Input, Outcome, WINDOW_TICKS};
    use serde::Deserialize;

    use super::from_list;

    #[derive(Deserialize)]
    struct File {
        game: String,
        rules_version: u32,
        min_move_gap: u32,
        window_ticks: u32,
        slides: Vec<SlideCase>,
        vectors: Vec<Vector>,
        rejections: Vec<Rejection>,
        traces: Vec<Trace>,
    }

    #[derive(Deserialize)]
    struct SlideCase {
        name: String,
        board: [u32; 16],
        direction: u32,
        expected: [u32; 16],
        gained: u32,
    }

    #[derive(Deserialize)]
    struct Vector {
        name: String,
        seeds: Vec<u32>,
        inputs: Vec<Input>,
        end_tick: u32,
        expected: Outcome,
        /// Tile values, row-major, at the end.
        board: [u32; 16],
    }

    #[derive(Deserialize)]
    struct Rejection {
        name: String,
        seeds: Vec<u32>,
        inputs: Vec<Input>,
        end_tick: u32,
        reason: String,
    }

    /// `[tick, score, board]` right after each move.
    type Frame = (u32, u32, [u32; 16]);

    #[derive(Deserialize)]
    struct Trace {
        name: String,
        seeds: Vec<u32>,
        inputs: Vec<Input>,
        frames: Vec<Frame>,
    }

    fn load() -> File {
        let text = include_str!("../vectors/2048.json");
        serde_json::from_str(text).expect("vectors file parses")
    }

    fn direction(input: &Input) -> Direction {
        Direction::from_value(input.value).expect("a direction")
    }

    #[test]
    fn header_matches() {
        let file = load();
        assert_eq!(file.game, TWENTY_FORTY_EIGHT.id());
        assert_eq!(file.rules_version, RULES_VERSION);
        assert_eq!(file.min_move_gap, MIN_MOVE_GAP);
        assert_eq!(file.window_ticks, WINDOW_TICKS);
        assert!(file.vectors.len() >= 10);
    }

    #[test]
    fn slides_match() {
        for case in load().slides {
            let board = case
                .board
                .map(|v| if v == 0 { 0 } else { v.trailing_zeros() as u8 });
            let dir = Direction::from_value(case.direction).expect("a direction");
            let (out, gained) = slide(&board, dir);
            assert_eq!(
                (out.map(tile_value), gained),
                (case.expected, case.gained),
                "{} {dir:?}",
                case.name
            );
        }
    }

    #[test]
    fn replays_match() {
        for v in load().vectors {
            let outcome = TWENTY_FORTY_EIGHT.replay(&from_list(&v.seeds), &v.inputs, v.end_tick);
            assert_eq!(outcome.as_ref(), Ok(&v.expected), "{}", v.name);
        }
    }

    #[test]
    fn stepping_tick_by_tick_matches() {
        // The step API the bot and tools use must agree with `replay`, which jumps.
        for v in load().vectors {
            let mut sim = Sim::new(v.seeds[0]);
            let mut pending = v.inputs.iter().peekable();
            while sim.tick() < v.end_tick && !sim.game_over() {
                if sim.waiting() {
                    sim.reveal(v.seeds[sim.revealed() as usize]);
                }
                if let Some(i) = pending.next_if(|i| i.tick == sim.tick()) {
                    sim.play(direction(i));
                }
                sim.step();
            }
            assert_eq!(sim.outcome(), v.expected, "{}", v.name);
            assert_eq!(sim.values(), v.board, "{}", v.name);
        }
    }

    #[test]
    fn rejections_match() {
        let file = load();
        let reasons: BTreeSet<_> = file.rejections.iter().map(|r| r.reason.as_str()).collect();
        for reason in [
            "input_out_of_order",
            "inputs_too_close",
            "input_value_out_of_range",
            "input_after_end",
            "too_many_ticks",
        ] {
            assert!(reasons.contains(reason), "no vector for {reason}");
        }
        for r in file.rejections {
            let err = TWENTY_FORTY_EIGHT
                .replay(&from_list(&r.seeds), &r.inputs, r.end_tick)
                .expect_err(&r.name);
            assert_eq!(err.reason(), r.reason, "{}", r.name);
        }
    }

    #[test]
    fn traces_match() {
        for t in load().traces {
            assert_eq!(t.frames.len(), t.inputs.len(), "{}", t.name);
            let mut sim = Sim::new(t.seeds[0]);
            for (i, frame) in t.inputs.iter().zip(&t.frames) {
                while sim.revealed() * WINDOW_TICKS <= i.tick {
                    sim.reveal(t.seeds[sim.revealed() as usize]);
                }
                sim.advance_to(i.tick);
                sim.play(direction(i));
                assert_eq!(&(i.tick, sim.score(), sim.values()), frame, "{}", t.name);
                sim.step();
            }
        }
    }
}
