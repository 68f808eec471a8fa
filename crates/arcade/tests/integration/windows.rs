//! What a client knows and may do: a game's future is revealed a window at a time, inputs for
//! ticks already reported are final, game time keeps up with the clock outside recorded pauses
//! within a budget, and scores beyond human-likeness thresholds are kept, ranked and flagged.

use std::time::Duration;

use arcade_games::egg_catcher::{CATCH_Y, Sim};
use arcade_games::{Bot, Input, Outcome, WINDOW_TICKS};
use arcade_testkit::{StatusCode, TestApp, inputs_json, spawn_app, spawn_app_with};
use serde_json::{Value, json};

/// The problem's `type` and `detail`, and the status, of a refused request.
async fn refused(r: arcade_testkit::Response) -> (StatusCode, String, String) {
    let status = r.status();
    let p: Value = r.json().await.unwrap();
    (
        status,
        p["type"].as_str().unwrap_or_default().to_owned(),
        p["detail"].as_str().unwrap_or_default().to_owned(),
    )
}

async fn metrics(app: &TestApp) -> String {
    app.get("/metrics").await.text().await.unwrap()
}

#[tokio::test]
async fn the_start_tells_a_client_what_it_needs_to_know_about_windows_and_pauses() {
    let app = spawn_app().await;
    let (status, started) = app.start("egg-catcher", "Abe", None).await;
    assert_eq!(status, StatusCode::CREATED);
    assert_eq!(started["window_ticks"], WINDOW_TICKS);
    assert_eq!(started["reveal_ticks"], 240, "four seconds at 60 Hz");
    assert_eq!(
        started["pause_budget_ms"], 600_000,
        "ten minutes by default"
    );
    assert!(started["seed"].is_u64());
}

#[tokio::test]
async fn a_script_that_knows_only_the_first_window_cannot_play_past_it() {
    let app = spawn_app().await;
    let (id, seed, _) = app.start_ok("egg-catcher", "Bea", None).await;
    // The script simulates window 0 offline, as far as its seed goes.
    let mut bot = arcade_testkit::bot("egg-catcher", seed, 100);
    bot.play_until(36_000);
    assert_eq!(bot.tick(), WINDOW_TICKS);
    // Asking early, or claiming the clock ran faster, reveals nothing.
    app.advance_ticks(120);
    let r = app
        .heartbeat(&id, &json!({"offset": 0, "inputs": [], "tick": 120}))
        .await;
    let ack: Value = r.json().await.unwrap();
    assert_eq!(ack["window"], json!({"index": 0, "seed": seed}));
    let r = app
        .heartbeat(&id, &json!({"offset": 0, "inputs": [], "tick": 500}))
        .await;
    assert_eq!(refused(r).await.1, "replay_rejected", "500 ticks after 2 s");
    // Past its window nothing is taken, at any pace.
    app.advance(Duration::from_secs(60));
    let inputs: Vec<Input> = bot
        .inputs()
        .iter()
        .copied()
        .filter(|i| i.tick >= 120)
        .collect();
    let past = json!({"offset": 0, "inputs": inputs_json(&inputs), "tick": WINDOW_TICKS + 1});
    let (status, kind, detail) = refused(app.heartbeat(&id, &past).await).await;
    assert_eq!(
        (status, kind.as_str()),
        (StatusCode::UNPROCESSABLE_ENTITY, "replay_rejected")
    );
    assert!(detail.contains("window"), "{detail}");
    let (status, _, detail) = refused(app.finish(&id, &past).await).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{detail}");
    assert!(
        metrics(&app)
            .await
            .contains("reason=\"window_not_revealed\"} 2")
    );
}

#[tokio::test]
async fn inputs_for_ticks_already_reported_are_refused() {
    let app = spawn_app().await;
    let (id, _, _) = app.start_ok("egg-catcher", "Cal", None).await;
    app.advance(Duration::from_secs(8));
    let r = app
        .heartbeat(&id, &json!({"offset": 0, "inputs": [], "tick": 400}))
        .await;
    assert_eq!(r.status(), StatusCode::OK);
    // Slow motion or rewind: inputs for ticks 10 and 100, after 400 were reported.
    let late = json!({"offset": 0, "inputs": [[10, 1000], [100, 2000]], "tick": 450});
    let (status, kind, detail) = refused(app.heartbeat(&id, &late).await).await;
    assert_eq!(
        (status, kind.as_str()),
        (StatusCode::UNPROCESSABLE_ENTITY, "replay_rejected")
    );
    assert!(
        detail.contains("inputs before tick 400 are final"),
        "{detail}"
    );
    assert!(metrics(&app).await.contains("reason=\"late_input\"} 1"));
    // An input at the reported tick itself is on time, and a retry of it is no addition.
    let on_time = json!({"offset": 0, "inputs": [[400, 1000], [430, 2000]], "tick": 450});
    for _ in 0..2 {
        let r = app.heartbeat(&id, &on_time).await;
        assert_eq!(r.status(), StatusCode::OK);
        let ack: Value = r.json().await.unwrap();
        assert_eq!(ack["accepted_inputs"], 2);
    }
    // Nor may a finish add them: the session ends rejected.
    let finish = json!({"offset": 2, "inputs": [[420, 5]], "tick": 460, "score": 0});
    let (status, _, detail) = refused(app.finish(&id, &finish).await).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{detail}");
    assert!(detail.contains("final"), "{detail}");
}

#[tokio::test]
async fn a_session_that_falls_behind_the_clock_is_refused_unless_paused() {
    let app = spawn_app().await;
    let (id, _, _) = app.start_ok("egg-catcher", "Dee", None).await;
    // Thirty seconds for ten seconds of game: slow motion.
    app.advance(Duration::from_secs(30));
    let slow = json!({"offset": 0, "inputs": [], "tick": WINDOW_TICKS});
    let (status, kind, detail) = refused(app.heartbeat(&id, &slow).await).await;
    assert_eq!(
        (status, kind.as_str()),
        (StatusCode::UNPROCESSABLE_ENTITY, "replay_rejected")
    );
    assert!(detail.contains("behind the clock"), "{detail}");
    assert!(metrics(&app).await.contains("reason=\"too_slow\"} 1"));
    // Eighteen seconds recorded as a pause account for it.
    let paused = json!({"offset": 0, "inputs": [], "tick": WINDOW_TICKS, "pauses": [[300, 18000]]});
    let r = app.heartbeat(&id, &paused).await;
    assert_eq!(r.status(), StatusCode::OK, "{}", r.text().await.unwrap());
}

#[tokio::test]
async fn pauses_within_the_budget_are_accepted_and_beyond_it_refused() {
    let app = spawn_app_with(&["--pause-budget", "30s"]).await;
    let (id, _, _) = app.start_ok("egg-catcher", "Eve", None).await;
    app.advance(Duration::from_secs(20));
    let within = json!({"offset": 0, "inputs": [], "tick": 300, "pauses": [[120, 15000]]});
    let r = app.heartbeat(&id, &within).await;
    assert_eq!(r.status(), StatusCode::OK, "{}", r.text().await.unwrap());
    app.advance(Duration::from_secs(30));
    let beyond = json!({
        "offset": 0, "inputs": [], "tick": 420, "pauses": [[120, 15000], [300, 20000]]
    });
    let (status, kind, detail) = refused(app.heartbeat(&id, &beyond).await).await;
    assert_eq!(
        (status, kind.as_str()),
        (StatusCode::UNPROCESSABLE_ENTITY, "replay_rejected")
    );
    assert!(detail.contains("35000 ms"), "{detail}");
    assert!(
        metrics(&app)
            .await
            .contains("reason=\"pause_budget_exceeded\"} 1")
    );
    // A pause that rewrites one already recorded is refused too.
    let changed = json!({"offset": 0, "inputs": [], "tick": 420, "pauses": [[120, 1000]]});
    let (_, _, detail) = refused(app.heartbeat(&id, &changed).await).await;
    assert!(detail.contains("differs"), "{detail}");
}

/// A script that reads the game and puts the basket under the egg landing soonest the moment
/// it can: perfect reactions, no person's.
struct Script {
    sim: Sim,
    inputs: Vec<Input>,
}

impl Bot for Script {
    fn reveal(&mut self, seed: u32) {
        self.sim.reveal(seed);
    }
    fn revealed(&self) -> u32 {
        self.sim.revealed()
    }
    fn play_until(&mut self, until: u32) {
        while self.sim.tick() < until && !self.sim.game_over() && !self.sim.waiting() {
            let soonest = self
                .sim
                .eggs()
                .iter()
                .filter(|e| e.y < CATCH_Y)
                .min_by_key(|e| (CATCH_Y - e.y) / e.speed)
                .map(|e| e.x);
            if let Some(x) = soonest.filter(|&x| x != self.sim.target_x()) {
                self.sim.set_target(x);
                self.inputs.push(Input {
                    tick: self.sim.tick(),
                    value: x as u32,
                });
            }
            self.sim.step();
        }
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

#[tokio::test]
async fn a_flagged_score_is_stored_ranked_and_visible_in_the_players_history() {
    let app = spawn_app().await;
    let (id, seed, _) = app.start_ok("egg-catcher", "Fox", None).await;
    let mut script = Script {
        sim: Sim::new(seed),
        inputs: Vec::new(),
    };
    let (played, body) = app
        .play_through_windows("egg-catcher", &id, &mut script)
        .await;
    assert!(played.outcome.score > 0);
    let r = app.finish(&id, &body).await;
    assert_eq!(r.status(), StatusCode::OK);
    let result: Value = r.json().await.unwrap();
    assert_eq!(result["ranks"]["all"], 1, "ranked as any score");
    // A bot that plays like a person is not flagged.
    let (status, _, _, _) = app.play_game("egg-catcher", "Gus", None, 90).await;
    assert_eq!(status, StatusCode::OK);
    for (player, flags) in [("Fox", json!(["fast_reactions"])), ("Gus", json!([]))] {
        let path = format!("/api/games/egg-catcher/players/{player}/scores");
        let history: Value = app.get(&path).await.json().await.unwrap();
        assert_eq!(history["scores"][0]["flags"], flags, "{player}");
    }
    let board: Value = app
        .get("/api/games/egg-catcher/leaderboard")
        .await
        .json()
        .await
        .unwrap();
    let players: Vec<_> = board["entries"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["player"].as_str().unwrap().to_owned())
        .collect();
    assert!(players.contains(&"Fox".to_owned()), "{board}");
    let text = metrics(&app).await;
    assert!(
        text.contains(
            "arcade_scores_flagged_total{game=\"egg-catcher\",flag=\"fast_reactions\"} 1"
        ),
        "{text}"
    );
}
