//! Playing: start, heartbeat, finish, verification, idempotency, names and tokens.

use std::time::Duration;

use arcade_testkit::{StatusCode, TestApp, spawn_app, spawn_app_with};
use serde_json::{Value, json};

#[tokio::test]
async fn every_game_of_the_catalogue_plays_to_its_replayed_score_on_its_own_board() {
    let app = spawn_app().await;
    for game in arcade_games::catalogue() {
        let id = game.id();
        let player = format!("Bot of {id}");
        let (status, body, played, _) = app.play_game(id, &player, None, 90).await;
        assert_eq!(status, StatusCode::OK, "{id}: {body}");
        assert_eq!(body["game"], id);
        assert_eq!(body["score"], played.outcome.score, "{id}");
        assert_eq!(body["ticks"], played.outcome.ticks, "{id}");
        assert_eq!(body["stats"], json!(played.outcome.stats), "{id}");
        assert!(played.outcome.score > 0, "{id}: a skilled bot scores");
        let board: Value = app
            .get(&format!("/api/games/{id}/leaderboard"))
            .await
            .json()
            .await
            .unwrap();
        let entries = board["entries"].as_array().unwrap();
        assert_eq!(
            entries.len(),
            1,
            "{id}: one player on its own board: {board}"
        );
        assert_eq!(entries[0]["player"], player.as_str());
    }
}

#[tokio::test]
async fn a_played_game_gets_its_replayed_score_rank_and_personal_best() {
    let app = spawn_app().await;
    let (status, body, game, token) = app.play_game("egg-catcher", "Alice", None, 90).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert!(token.is_some(), "the first start claims the name");
    assert_eq!(body["score"], game.outcome.score);
    assert_eq!(body["ticks"], game.outcome.ticks);
    assert_eq!(body["game_over"], game.outcome.game_over);
    assert_eq!(body["stats"]["catches"], game.outcome.stats["catches"]);
    assert_eq!(body["rank"], 1);
    assert_eq!(body["ranks"], json!({"all": 1, "day": 1, "week": 1}));
    assert_eq!(body["personal_best"], game.outcome.score);
    assert_eq!(body["new_personal_best"], true);
    assert!(game.outcome.score > 0, "a skilled bot catches eggs");

    let board: Value = app
        .get("/api/games/egg-catcher/leaderboard?period=all")
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(board["entries"][0]["player"], "Alice");
    assert_eq!(board["entries"][0]["score"], game.outcome.score);
    let history: Value = app
        .get("/api/games/egg-catcher/players/Alice/scores")
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(history["scores"].as_array().unwrap().len(), 1);
    assert_eq!(history["scores"][0]["score"], game.outcome.score);
}

#[tokio::test]
async fn a_second_game_under_a_claimed_name_needs_the_token() {
    let app = spawn_app().await;
    let (_, _, token) = app.start_ok("egg-catcher", "Bob", None).await;
    let token = token.unwrap();
    let (status, body) = app.start("egg-catcher", "Bob", None).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert_eq!(body["type"], "player_token_invalid");
    let (status, _) = app.start("egg-catcher", "bob", Some("wrong-token")).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    // Look-alikes are the same name: capital I for l, different case.
    let (status, _) = app.start("egg-catcher", "BOB", Some(&token)).await;
    assert_eq!(status, StatusCode::CREATED);
    let (status, body) = app.start("egg-catcher", "Bob", Some(&token)).await;
    assert_eq!(status, StatusCode::CREATED);
    assert!(
        body["player"].get("token").is_none(),
        "the token is shown once"
    );
    assert_eq!(body["player"]["name"], "Bob");
}

#[tokio::test]
async fn a_worse_game_keeps_the_personal_best() {
    let app = spawn_app().await;
    let (_, first, _, token) = app.play_game("egg-catcher", "Cleo", None, 95).await;
    let (status, second, _, _) = app
        .play_game("egg-catcher", "Cleo", token.as_deref(), 0)
        .await;
    assert_eq!(status, StatusCode::OK, "{second}");
    assert!(second["score"].as_u64() < first["score"].as_u64());
    assert_eq!(second["personal_best"], first["score"]);
    assert_eq!(second["new_personal_best"], false);
    let board: Value = app
        .get("/api/games/egg-catcher/leaderboard")
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(
        board["entries"].as_array().unwrap().len(),
        1,
        "one entry per player"
    );
    assert_eq!(board["entries"][0]["score"], first["score"]);
}

#[tokio::test]
async fn a_repeated_finish_returns_the_first_result_and_stores_one_score() {
    let app = spawn_app().await;
    let (id, _, body) = app.played_session("egg-catcher", "Dana", 70).await;
    let first: Value = app.finish(&id, &body).await.json().await.unwrap();
    app.advance(Duration::from_secs(5));
    let r = app.finish(&id, &body).await;
    assert_eq!(r.status(), StatusCode::OK);
    let second: Value = r.json().await.unwrap();
    assert_eq!(first, second);
    // A heartbeat after the finish is refused.
    let r = app.heartbeat(&id, &body).await;
    assert_eq!(r.status(), StatusCode::CONFLICT);
    let history: Value = app
        .get("/api/games/egg-catcher/players/Dana/scores")
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(history["scores"].as_array().unwrap().len(), 1);
}

#[tokio::test]
async fn concurrent_finishes_of_one_session_make_one_entry() {
    let app = spawn_app().await;
    let (id, game, body) = app.played_session("egg-catcher", "Dana", 70).await;
    let finishes = (0..8).map(|_| app.finish(&id, &body));
    let results = futures::future::join_all(finishes).await;
    for r in results {
        assert_eq!(r.status(), StatusCode::OK);
        let v: Value = r.json().await.unwrap();
        assert_eq!(v["score"], game.outcome.score);
    }
    let history: Value = app
        .get("/api/games/egg-catcher/players/Dana/scores")
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(history["scores"].as_array().unwrap().len(), 1);
}

#[tokio::test]
async fn a_wrong_score_claim_is_rejected_and_counted() {
    let app = spawn_app().await;
    let (id, game, mut body) = app.played_session("egg-catcher", "Dana", 70).await;
    body["score"] = json!(game.outcome.score + 500);
    let r = app.finish(&id, &body).await;
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let problem: Value = r.json().await.unwrap();
    assert_eq!(problem["type"], "replay_rejected");
    assert!(
        problem["detail"]
            .as_str()
            .unwrap()
            .contains("does not match")
    );
    // The rejection is final: the honest claim cannot be slipped in afterwards.
    body["score"] = json!(game.outcome.score);
    assert_eq!(
        app.finish(&id, &body).await.status(),
        StatusCode::UNPROCESSABLE_ENTITY
    );
    let metrics = app.get("/metrics").await.text().await.unwrap();
    assert!(
        metrics.contains(
            "arcade_replays_rejected_total{game=\"egg-catcher\",reason=\"score_mismatch\"} 1"
        ),
        "{metrics}"
    );
    let board: Value = app
        .get("/api/games/egg-catcher/leaderboard")
        .await
        .json()
        .await
        .unwrap();
    assert!(board["entries"].as_array().unwrap().is_empty());
}

#[tokio::test]
async fn more_ticks_than_the_wall_clock_allows_are_rejected() {
    let app = spawn_app().await;
    let (id, _, _) = app.start_ok("egg-catcher", "Eli", None).await;
    app.advance(Duration::from_secs(5));
    // 5 s at 60 Hz with 10% and 3 s of slack allows 510 ticks.
    let ok = app
        .heartbeat(
            &id,
            &json!({"offset": 0, "inputs": [[5, 1000]], "tick": 510}),
        )
        .await;
    assert_eq!(ok.status(), StatusCode::OK);
    let r = app
        .heartbeat(&id, &json!({"offset": 1, "inputs": [], "tick": 600}))
        .await;
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let problem: Value = r.json().await.unwrap();
    assert_eq!(problem["type"], "replay_rejected");
    let metrics = app.get("/metrics").await.text().await.unwrap();
    assert!(metrics.contains("reason=\"too_fast\"} 1"), "{metrics}");
}

#[tokio::test]
async fn heartbeats_are_idempotent_and_refuse_gaps_and_rewrites() {
    let app = spawn_app().await;
    let (id, _, _) = app.start_ok("egg-catcher", "Fay", None).await;
    app.advance(Duration::from_secs(5));
    let batch = json!({"offset": 0, "inputs": [[5, 1000], [30, 2000]], "tick": 60});
    for _ in 0..2 {
        let r = app.heartbeat(&id, &batch).await;
        assert_eq!(r.status(), StatusCode::OK);
        let v: Value = r.json().await.unwrap();
        assert_eq!(v["accepted_inputs"], 2);
    }
    let gap = app
        .heartbeat(&id, &json!({"offset": 5, "inputs": [[90, 1]], "tick": 100}))
        .await;
    assert_eq!(gap.status(), StatusCode::CONFLICT);
    let v: Value = gap.json().await.unwrap();
    assert_eq!(v["type"], "input_gap");
    let rewrite = app
        .heartbeat(&id, &json!({"offset": 1, "inputs": [[30, 9]], "tick": 100}))
        .await;
    assert_eq!(rewrite.status(), StatusCode::CONFLICT);
    let order = app
        .heartbeat(&id, &json!({"offset": 2, "inputs": [[10, 9]], "tick": 100}))
        .await;
    assert_eq!(order.status(), StatusCode::UNPROCESSABLE_ENTITY);
}

#[tokio::test]
async fn unknown_sessions_are_404_expired_410_and_malformed_ids_400() {
    let app = spawn_app_with(&["--session-ttl", "10m"]).await;
    let body = json!({"offset": 0, "inputs": [], "tick": 0});
    let r = app
        .heartbeat("7d9f8f5e-2c1a-4d8e-9a7b-1c2d3e4f5a6b", &body)
        .await;
    assert_eq!(r.status(), StatusCode::NOT_FOUND);
    let v: Value = r.json().await.unwrap();
    assert_eq!(v["type"], "session_not_found");
    let r = app.finish("not-a-uuid", &body).await;
    assert_eq!(r.status(), StatusCode::BAD_REQUEST);
    let (id, _, _) = app.start_ok("egg-catcher", "Gil", None).await;
    app.advance(Duration::from_secs(601));
    let r = app.heartbeat(&id, &body).await;
    assert_eq!(r.status(), StatusCode::GONE);
    let r = app.finish(&id, &body).await;
    assert_eq!(r.status(), StatusCode::GONE);
    let v: Value = r.json().await.unwrap();
    assert_eq!(v["type"], "session_expired");
}

#[tokio::test]
async fn invalid_names_are_refused_with_a_reason() {
    let app = spawn_app().await;
    for (name, code) in [
        ("", "invalid_player_name"),
        (
            "a-name-that-is-far-too-long-for-a-board",
            "invalid_player_name",
        ),
        ("zero\u{200b}width", "invalid_player_name"),
        ("p\u{0430}ypal", "invalid_player_name"),
        ("tab\there", "invalid_player_name"),
    ] {
        let (status, body) = app.start("egg-catcher", name, None).await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{name:?}: {body}");
        assert_eq!(body["type"], code);
        assert!(!body["detail"].as_str().unwrap().is_empty());
    }
    let (status, body) = app.start("egg-catcher", "Ｊｏｓé ñ_1", None).await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    assert_eq!(body["player"]["name"], "José ñ_1");
}

#[tokio::test]
async fn session_starts_are_rate_limited_per_client() {
    let app = spawn_app_with(&["--starts-per-minute", "3"]).await;
    for i in 0..3 {
        let (status, _) = app.start("egg-catcher", &format!("Hal{i}"), None).await;
        assert_eq!(status, StatusCode::CREATED);
    }
    let r = app
        .post_json(
            "/api/games/egg-catcher/sessions",
            &json!({"player": "Hal9"}),
        )
        .await;
    assert_eq!(r.status(), StatusCode::TOO_MANY_REQUESTS);
    let retry: u64 = r.headers()["retry-after"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!((1..=60).contains(&retry), "{retry}");
    let v: Value = r.json().await.unwrap();
    assert_eq!(v["type"], "rate_limited");
}

/// Start as a client behind the proxy the test server trusts; the status.
async fn start_forwarded_for(app: &TestApp, forwarded_for: &str, player: &str) -> StatusCode {
    app.client
        .post(app.url("/api/games/egg-catcher/sessions"))
        .header("x-forwarded-for", forwarded_for)
        .json(&json!({ "player": player }))
        .send()
        .await
        .unwrap()
        .status()
}

#[tokio::test]
async fn behind_a_trusted_proxy_each_forwarded_client_has_its_own_allowance() {
    let app = spawn_app_with(&[
        "--starts-per-minute",
        "2",
        "--trusted-proxies",
        "127.0.0.0/8,192.0.2.0/24",
    ])
    .await;
    for i in 0..2 {
        let status = start_forwarded_for(&app, "198.51.100.1", &format!("Ida{i}")).await;
        assert_eq!(status, StatusCode::CREATED);
    }
    assert_eq!(
        start_forwarded_for(&app, "198.51.100.1", "Ida2").await,
        StatusCode::TOO_MANY_REQUESTS
    );
    // A client cannot pass for another by writing its own X-Forwarded-For: the proxies
    // append the address they saw, and the right-most untrusted one is the client.
    assert_eq!(
        start_forwarded_for(&app, "198.51.100.7, 198.51.100.1, 192.0.2.9", "Ida3").await,
        StatusCode::TOO_MANY_REQUESTS
    );
    assert_eq!(
        start_forwarded_for(&app, "198.51.100.1, 198.51.100.2", "Ida4").await,
        StatusCode::CREATED
    );
}

#[tokio::test]
async fn without_trusted_proxies_x_forwarded_for_is_ignored() {
    let app = spawn_app_with(&["--starts-per-minute", "2"]).await;
    for (i, forwarded_for) in ["198.51.100.1", "198.51.100.2"].into_iter().enumerate() {
        let status = start_forwarded_for(&app, forwarded_for, &format!("Ned{i}")).await;
        assert_eq!(status, StatusCode::CREATED);
    }
    assert_eq!(
        start_forwarded_for(&app, "198.51.100.3", "Ned2").await,
        StatusCode::TOO_MANY_REQUESTS
    );
}

#[tokio::test]
async fn the_game_list_names_each_game_its_rules_and_its_page() {
    let app = spawn_app().await;
    for _ in 0..2 {
        let r = app.get("/api/games").await;
        assert_eq!(r.status(), StatusCode::OK);
        assert_eq!(r.headers()["content-type"], "application/json");
        assert_eq!(r.headers()["vary"], "accept-encoding");
        let list: Value = r.json().await.unwrap();
        let games = list["games"].as_array().unwrap();
        assert_eq!(games.len(), 2, "{list}");
        for (game, (id, title)) in games
            .iter()
            .zip([("egg-catcher", "Egg Catcher"), ("2048", "2048")])
        {
            assert_eq!(game["id"], id);
            assert_eq!(game["title"], title);
            assert_eq!(game["play_url"], format!("/play/{id}"));
            assert_eq!(game["tick_hz"], 60);
            assert!(game["rules_version"].as_u64().unwrap() >= 1, "{game}");
            assert!(!game["description"].as_str().unwrap().is_empty());
        }
    }
}
