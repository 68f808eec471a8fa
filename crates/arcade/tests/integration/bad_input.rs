//! Bad input gets a clear problem+json answer: never a 500, never a panic.

use arcade_testkit::{StatusCode, TestApp, spawn_app, spawn_app_with};
use serde_json::{Value, json};

async fn problem(r: arcade_testkit::Response, status: StatusCode, kind: &str) -> Value {
    assert_eq!(r.status(), status);
    assert_eq!(
        r.headers()["content-type"].to_str().unwrap(),
        "application/problem+json"
    );
    let request_id = r.headers()["x-request-id"].to_str().unwrap().to_owned();
    let body: Value = r.json().await.unwrap();
    assert_eq!(body["type"], kind, "{body}");
    assert_eq!(body["status"], status.as_u16());
    assert_eq!(body["request_id"], request_id.as_str());
    assert!(!body["detail"].as_str().unwrap().is_empty());
    body
}

async fn session(app: &TestApp) -> String {
    app.start_ok("egg-catcher", "Kim", None).await.0
}

#[tokio::test]
async fn malformed_json_is_400() {
    let app = spawn_app().await;
    let r = app
        .post_raw(
            "/api/games/egg-catcher/sessions",
            "application/json",
            "{\"player\": ",
        )
        .await;
    problem(r, StatusCode::BAD_REQUEST, "malformed_json").await;
}

#[tokio::test]
async fn wrong_types_and_unknown_fields_are_422_and_say_which_field() {
    let app = spawn_app().await;
    let r = app
        .post_json("/api/games/egg-catcher/sessions", &json!({"player": 42}))
        .await;
    let body = problem(r, StatusCode::UNPROCESSABLE_ENTITY, "invalid_body").await;
    assert!(
        body["detail"].as_str().unwrap().contains("player"),
        "{body}"
    );
    let r = app
        .post_json(
            "/api/games/egg-catcher/sessions",
            &json!({"player": "Kim", "score": 9999}),
        )
        .await;
    let body = problem(r, StatusCode::UNPROCESSABLE_ENTITY, "invalid_body").await;
    assert!(body["detail"].as_str().unwrap().contains("score"), "{body}");
    let id = session(&app).await;
    for bad in [
        json!({"offset": 0, "inputs": [[1]], "tick": 1}),
        json!({"offset": 0, "inputs": [[1, -5]], "tick": 1}),
        json!({"offset": -1, "inputs": [], "tick": 1}),
        json!({"offset": 0, "inputs": "lots", "tick": 1}),
        json!({"inputs": [], "tick": 1}),
    ] {
        let r = app.heartbeat(&id, &bad).await;
        problem(r, StatusCode::UNPROCESSABLE_ENTITY, "invalid_body").await;
    }
}

#[tokio::test]
async fn a_body_without_json_content_type_is_415() {
    let app = spawn_app().await;
    let r = app
        .post_raw(
            "/api/games/egg-catcher/sessions",
            "text/plain",
            "{\"player\":\"Kim\"}",
        )
        .await;
    problem(
        r,
        StatusCode::UNSUPPORTED_MEDIA_TYPE,
        "unsupported_media_type",
    )
    .await;
}

#[tokio::test]
async fn json_is_taken_with_any_json_content_type() {
    let app = spawn_app().await;
    for (player, content_type) in [
        ("Kim", "application/json; charset=utf-8"),
        ("Lee", "Application/JSON"),
        ("Ana", "application/vnd.arcade+json"),
    ] {
        let r = app
            .post_raw(
                "/api/games/egg-catcher/sessions",
                content_type,
                &format!("{{\"player\":\"{player}\"}}"),
            )
            .await;
        assert_eq!(r.status(), StatusCode::CREATED, "{content_type}");
    }
    // A body that does not decode is explained the same way whatever the route to it.
    for content_type in [
        "application/json; charset=utf-8",
        "application/vnd.arcade+json",
    ] {
        let r = app
            .post_raw(
                "/api/games/egg-catcher/sessions",
                content_type,
                "{\"player\":7}",
            )
            .await;
        let body = problem(r, StatusCode::UNPROCESSABLE_ENTITY, "invalid_body").await;
        assert!(
            body["detail"].as_str().unwrap().contains("player"),
            "{content_type}: {body}"
        );
    }
}

#[tokio::test]
async fn oversized_bodies_are_413() {
    let app = spawn_app_with(&["--max-body-bytes", "4096"]).await;
    let id = session(&app).await;
    let inputs: Vec<Value> = (0..2000).map(|t| json!([t, 100])).collect();
    let r = app
        .heartbeat(&id, &json!({"offset": 0, "inputs": inputs, "tick": 2000}))
        .await;
    problem(r, StatusCode::PAYLOAD_TOO_LARGE, "payload_too_large").await;
}

#[tokio::test]
async fn input_values_out_of_range_are_rejected() {
    let app = spawn_app().await;
    let id = session(&app).await;
    let r = app
        .heartbeat(
            &id,
            &json!({"offset": 0, "inputs": [[1, 999_999]], "tick": 2}),
        )
        .await;
    let body = problem(r, StatusCode::UNPROCESSABLE_ENTITY, "replay_rejected").await;
    assert!(
        body["detail"].as_str().unwrap().contains("999999"),
        "{body}"
    );
}

#[tokio::test]
async fn unknown_games_are_404() {
    let app = spawn_app().await;
    let r = app
        .post_json("/api/games/pong/sessions", &json!({"player": "Kim"}))
        .await;
    problem(r, StatusCode::NOT_FOUND, "unknown_game").await;
    for path in [
        "/api/games/pong/leaderboard",
        "/api/games/pong/players/Kim",
        "/api/games/pong/players/Kim/scores",
        "/play/pong",
    ] {
        problem(app.get(path).await, StatusCode::NOT_FOUND, "unknown_game").await;
    }
}

#[tokio::test]
async fn bad_pagination_is_400() {
    let app = spawn_app().await;
    for query in [
        "limit=0",
        "limit=101",
        "limit=ten",
        "period=year",
        "cursor=not-a-cursor",
        "cursor=aDE6MTI6eA",
        "colour=blue",
    ] {
        let r = app
            .get(&format!("/api/games/egg-catcher/leaderboard?{query}"))
            .await;
        assert_eq!(r.status(), StatusCode::BAD_REQUEST, "{query}");
        let body: Value = r.json().await.unwrap();
        assert!(body["type"] == "invalid_query", "{query}: {body}");
    }
    // A query that does not decode is explained with the field that is wrong.
    for (query, names) in [("limit=ten", "limit"), ("colour=blue", "colour")] {
        let r = app
            .get(&format!("/api/games/egg-catcher/leaderboard?{query}"))
            .await;
        let body: Value = r.json().await.unwrap();
        let detail = body["detail"].as_str().unwrap_or_default();
        assert!(detail.contains(names), "{query}: {body}");
    }
    app.start_ok("egg-catcher", "Kim", None).await;
    let r = app
        .get("/api/games/egg-catcher/players/Kim/scores?cursor=%%%")
        .await;
    assert_eq!(r.status(), StatusCode::BAD_REQUEST);
}

#[tokio::test]
async fn unknown_addresses_and_methods_get_problems() {
    let app = spawn_app().await;
    problem(
        app.get("/api/nothing-here").await,
        StatusCode::NOT_FOUND,
        "not_found",
    )
    .await;
    let r = app
        .client
        .delete(app.url("/api/games"))
        .send()
        .await
        .unwrap();
    problem(r, StatusCode::METHOD_NOT_ALLOWED, "method_not_allowed").await;
    let r = app
        .get("/api/games/egg-catcher/players/bad%E2%80%8Bname")
        .await;
    problem(r, StatusCode::UNPROCESSABLE_ENTITY, "invalid_player_name").await;
}
