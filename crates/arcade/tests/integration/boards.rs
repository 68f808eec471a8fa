//! Leaderboards, standings, ties, pagination and persistence across restarts.

use std::collections::HashSet;

use arcade_testkit::{StatusCode, TestApp, spawn_app, spawn_app_in};
use serde_json::Value;

async fn json(app: &TestApp, path: &str) -> Value {
    let r = app.get(path).await;
    assert_eq!(r.status(), StatusCode::OK, "{path}");
    r.json().await.unwrap()
}

/// Several players with distinct bots; returns (name, score) in play order.
async fn populate(app: &TestApp, players: usize) -> Vec<(String, u64)> {
    let mut out = Vec::new();
    for i in 0..players {
        let name = format!("Player {i}");
        let skill = u8::try_from((i * 37) % 101).unwrap();
        let (status, body, _, _) = app.play_game("egg-catcher", &name, None, skill).await;
        assert_eq!(status, StatusCode::OK, "{body}");
        out.push((name, body["score"].as_u64().unwrap()));
    }
    out
}

#[tokio::test]
async fn the_board_orders_by_score_then_earlier_achievement_and_ranks_agree() {
    let app = spawn_app().await;
    let played = populate(&app, 12).await;
    let board = json(&app, "/api/games/egg-catcher/leaderboard?limit=100").await;
    let entries = board["entries"].as_array().unwrap();
    // A run that scored nothing takes no place (the bot at skill 0 often scores nothing).
    let scored = played.iter().filter(|(_, score)| *score > 0).count();
    assert_eq!(entries.len(), scored);
    for (i, w) in entries.windows(2).enumerate() {
        let (a, b) = (&w[0], &w[1]);
        assert_eq!(a["rank"], i as u64 + 1);
        let (sa, sb) = (a["score"].as_u64().unwrap(), b["score"].as_u64().unwrap());
        assert!(sa > sb || (sa == sb && a["achieved_at"].as_str() <= b["achieved_at"].as_str()));
    }
    // Equal scores: whoever played first ranks higher.
    let first_index = |n: &str| played.iter().position(|(p, _)| p == n).unwrap();
    for w in entries.windows(2) {
        if w[0]["score"] == w[1]["score"] {
            let (a, b) = (
                w[0]["player"].as_str().unwrap(),
                w[1]["player"].as_str().unwrap(),
            );
            assert!(first_index(a) < first_index(b), "{a} should precede {b}");
        }
    }
    // The player view agrees with the board.
    for e in entries {
        let name = e["player"].as_str().unwrap();
        let view = json(&app, &format!("/api/games/egg-catcher/players/{name}")).await;
        assert_eq!(view["best"]["rank"], e["rank"], "{name}");
        assert_eq!(view["best"]["score"], e["score"]);
        let neighbours = view["neighbours"].as_array().unwrap();
        assert!(neighbours.iter().any(|n| n["player"] == name));
        assert!(neighbours.len() <= 5);
    }
}

#[tokio::test]
async fn cursor_pages_cover_the_board_exactly_once() {
    let app = spawn_app().await;
    app.start_a_new_day();
    let scored = populate(&app, 8)
        .await
        .iter()
        .filter(|(_, score)| *score > 0)
        .count() as u64;
    let mut seen = Vec::new();
    let mut path = "/api/games/egg-catcher/leaderboard?period=day&limit=3".to_owned();
    loop {
        let page = json(&app, &path).await;
        for e in page["entries"].as_array().unwrap() {
            seen.push(e["rank"].as_u64().unwrap());
        }
        match page["next_cursor"].as_str() {
            Some(c) => {
                path = format!("/api/games/egg-catcher/leaderboard?period=day&limit=3&cursor={c}")
            }
            None => break,
        }
    }
    assert_eq!(seen, (1..=scored).collect::<Vec<_>>());
}

#[tokio::test]
async fn a_run_that_scored_nothing_is_in_the_history_but_not_on_the_boards() {
    let app = spawn_app().await;
    // Finished before the first egg could fall.
    let (id, _, token) = app.start_ok("egg-catcher", "Nil", None).await;
    let r = app
        .finish(
            &id,
            &serde_json::json!({"offset": 0, "inputs": [], "tick": 0}),
        )
        .await;
    assert_eq!(r.status(), StatusCode::OK);
    let body: Value = r.json().await.unwrap();
    assert_eq!(body["score"], 0);
    assert_eq!(
        body["ranks"],
        serde_json::json!({"all": 0, "day": 0, "week": 0})
    );
    for period in ["all", "day", "week"] {
        let board = json(
            &app,
            &format!("/api/games/egg-catcher/leaderboard?period={period}"),
        )
        .await;
        assert_eq!(board["entries"], serde_json::json!([]), "{period}");
    }
    let history = json(&app, "/api/games/egg-catcher/players/Nil/scores").await;
    assert_eq!(history["scores"].as_array().unwrap().len(), 1);
    let standing = json(&app, "/api/games/egg-catcher/players/Nil").await;
    assert_eq!(standing["best"], Value::Null);
    // A later run that scores takes its place.
    let (_, body, _, _) = app
        .play_game("egg-catcher", "Nil", token.as_deref(), 100)
        .await;
    assert!(body["score"].as_u64().unwrap() > 0, "{body}");
    assert_eq!(body["ranks"]["all"], 1);
}

#[tokio::test]
async fn history_pages_newest_first() {
    let app = spawn_app().await;
    let (_, _, _, token) = app.play_game("egg-catcher", "Ivy", None, 50).await;
    for skill in [10, 60, 30, 80] {
        let (s, body, _, _) = app
            .play_game("egg-catcher", "Ivy", token.as_deref(), skill)
            .await;
        assert_eq!(s, StatusCode::OK, "{body}");
    }
    let mut ids = HashSet::new();
    let mut path = "/api/games/egg-catcher/players/ivy/scores?limit=2".to_owned();
    let mut last_time = None::<String>;
    loop {
        let page = json(&app, &path).await;
        assert_eq!(page["player"], "Ivy");
        for s in page["scores"].as_array().unwrap() {
            let t = s["achieved_at"].as_str().unwrap().to_owned();
            if let Some(prev) = &last_time {
                assert!(*prev >= t);
            }
            last_time = Some(t);
            assert!(ids.insert(s["session_id"].as_str().unwrap().to_owned()));
        }
        match page["next_cursor"].as_str() {
            Some(c) => {
                path = format!("/api/games/egg-catcher/players/ivy/scores?limit=2&cursor={c}")
            }
            None => break,
        }
    }
    assert_eq!(ids.len(), 5);
}

#[tokio::test]
async fn unknown_players_are_404_and_players_without_a_score_this_period_have_no_best() {
    let app = spawn_app().await;
    let r = app.get("/api/games/egg-catcher/players/Nobody").await;
    assert_eq!(r.status(), StatusCode::NOT_FOUND);
    let v: Value = r.json().await.unwrap();
    assert_eq!(v["type"], "player_not_found");
    app.start_ok("egg-catcher", "Jay", None).await;
    let view = json(&app, "/api/games/egg-catcher/players/Jay?period=week").await;
    assert_eq!(view["best"], Value::Null);
    assert_eq!(view["neighbours"], serde_json::json!([]));
}

#[tokio::test]
async fn the_board_survives_a_restart() {
    let app = spawn_app().await;
    let played = populate(&app, 3).await;
    let env = app.env.clone();
    let before = json(&app, "/api/games/egg-catcher/leaderboard").await;
    app.stop().await.unwrap();
    let again = spawn_app_in(env, &[]).await;
    let after = json(&again, "/api/games/egg-catcher/leaderboard").await;
    assert_eq!(before["entries"], after["entries"]);
    let scored = played.iter().filter(|(_, score)| *score > 0).count();
    assert_eq!(after["entries"].as_array().unwrap().len(), scored);
}

#[tokio::test]
async fn a_board_read_right_after_a_finish_shows_the_new_score() {
    let app = spawn_app().await;
    app.start_a_new_day();
    populate(&app, 1).await;
    let paths = [
        "/api/games/egg-catcher/leaderboard",
        "/api/games/egg-catcher/leaderboard?period=day&limit=5",
    ];
    for path in paths {
        // The second read is answered from memory, with the same bytes and headers.
        let first = app.get(path).await;
        assert_eq!(first.headers()["content-type"], "application/json");
        let first = first.bytes().await.unwrap();
        let again = app.get(path).await;
        assert_eq!(again.headers()["content-type"], "application/json");
        assert_eq!(again.bytes().await.unwrap(), first, "{path}");
    }
    let (id, game, body) = app.played_session("egg-catcher", "Rory", 80).await;
    let r = app.finish(&id, &body).await;
    assert_eq!(r.status(), StatusCode::OK);
    for path in paths {
        let board = json(&app, path).await;
        let rory = board["entries"]
            .as_array()
            .unwrap()
            .iter()
            .find(|e| e["player"] == "Rory")
            .unwrap_or_else(|| panic!("{path} shows the new score: {board}"));
        assert_eq!(rory["score"], game.outcome.score);
    }
}

#[tokio::test]
async fn a_board_is_sent_compressed_to_clients_that_accept_it_and_decodes_to_the_plain_page() {
    use std::io::Read as _;

    let app = spawn_app().await;
    populate(&app, 12).await;
    let path = "/api/games/egg-catcher/leaderboard";
    let plain = app.get(path).await;
    assert!(!plain.headers().contains_key("content-encoding"));
    let plain = plain.bytes().await.unwrap();
    // Twice: once as the page is stored, once from memory.
    for _ in 0..2 {
        let r = app
            .client
            .get(app.url(path))
            .header("accept-encoding", "gzip")
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), StatusCode::OK);
        assert_eq!(r.headers()["content-encoding"], "gzip");
        assert_eq!(r.headers()["content-type"], "application/json");
        assert_eq!(r.headers()["vary"], "accept-encoding");
        let packed = r.bytes().await.unwrap();
        assert!(packed.len() < plain.len());
        let mut page = Vec::new();
        flate2::read::GzDecoder::new(&packed[..])
            .read_to_end(&mut page)
            .unwrap();
        assert_eq!(page, plain);
    }
}
