//! Seasons: operators add them through the API or `arcade admin season`, each game has a board
//! per season of the scores played within it, and a finished season's board is final and
//! cached. On SQLite, or on PostgreSQL when `DATABASE_URL` names one.

use std::time::Duration;

use arcade_domain::time::Timestamp;
use arcade_testkit::{StatusCode, TestApp, spawn_app};
use reqwest::header;
use serde_json::{Value, json};

use crate::admin::{admin_cli, admin_get, admin_post, operator_token};

const BOARD: &str = "/api/games/egg-catcher/leaderboard";
const HOUR: Duration = Duration::from_secs(3600);

async fn add_season(app: &TestApp, token: &str, body: Value) -> (StatusCode, Value, String) {
    let r = app
        .client
        .post(app.url("/api/admin/seasons"))
        .bearer_auth(token)
        .json(&body)
        .send()
        .await
        .unwrap();
    let cache = r.headers()[header::CACHE_CONTROL]
        .to_str()
        .unwrap()
        .to_owned();
    (r.status(), r.json().await.unwrap(), cache)
}

async fn remove_season(app: &TestApp, token: &str, slug: &str, body: Value) -> reqwest::Response {
    app.client
        .delete(app.url(&format!("/api/admin/seasons/{slug}")))
        .bearer_auth(token)
        .json(&body)
        .send()
        .await
        .unwrap()
}

/// A season from `start` for `length`, as the API takes it.
fn season(slug: &str, start: Timestamp, length: Duration) -> Value {
    json!({
        "slug": slug,
        "title": format!("Season {slug}"),
        "starts_at": start.to_rfc3339(),
        "ends_at": start.plus(length).to_rfc3339(),
    })
}

async fn scored(app: &TestApp, player: &str) {
    let (status, body, _, _) = app.play_game("egg-catcher", player, None, 90).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert!(
        body["score"].as_u64().unwrap() > 0,
        "the bot scores: {body}"
    );
}

fn names(board: &Value) -> Vec<String> {
    board["entries"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["player"].as_str().unwrap().to_owned())
        .collect()
}

async fn problem(r: reqwest::Response, status: StatusCode, kind: &str) -> Value {
    assert_eq!(r.status(), status);
    assert_eq!(
        r.headers()[header::CONTENT_TYPE],
        "application/problem+json"
    );
    let body: Value = r.json().await.unwrap();
    assert_eq!(body["type"], kind, "{body}");
    assert!(!body["detail"].as_str().unwrap().is_empty());
    body
}

#[tokio::test]
async fn a_seasons_board_ranks_only_what_was_played_within_it_and_is_cached_once_over() {
    let app = spawn_app().await;
    let token = operator_token(&app, "ann");
    scored(&app, "Early").await;
    let start = app.clock_now().plus(Duration::from_secs(60));
    let (status, added, cache) = add_season(&app, &token, season("s1", start, 3 * HOUR)).await;
    assert_eq!(status, StatusCode::CREATED, "{added}");
    assert_eq!(cache, "no-store");
    assert_eq!(added["slug"], "s1");
    assert_eq!(added["title"], "Season s1");
    assert_eq!(added["finished"], false);
    let listed: Value = app.get("/api/seasons").await.json().await.unwrap();
    assert_eq!(listed["seasons"][0]["slug"], "s1");

    app.advance(Duration::from_secs(120));
    scored(&app, "Inside").await;
    scored(&app, "Rival").await;
    let r = app.get(&format!("{BOARD}?season=s1")).await;
    assert_eq!(r.status(), StatusCode::OK);
    assert_eq!(
        r.headers().get(header::CACHE_CONTROL),
        None,
        "a running season"
    );
    let running: Value = r.json().await.unwrap();
    assert_eq!(running["period"], "season");
    assert_eq!(running["season"]["slug"], "s1");
    assert_eq!(running["season"]["finished"], false);
    let mut players = names(&running);
    players.sort();
    assert_eq!(players, ["Inside", "Rival"], "not Early, played before it");

    let hide = "/api/admin/players/Rival/hide";
    let status = admin_post(&app, hide, &token, json!({"reason": "rude"})).await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    // The hide reaches the server's kept pages through the bus, within a second at most.
    let mut board = Value::Null;
    for _ in 0..50 {
        board = app
            .get(&format!("{BOARD}?season=s1"))
            .await
            .json()
            .await
            .unwrap();
        if names(&board) == ["Inside"] {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(names(&board), ["Inside"], "a hidden player leaves it");

    app.advance(3 * HOUR);
    scored(&app, "Late").await;
    let path = format!("{BOARD}?season=s1&limit=5");
    let r = app.get(&path).await;
    assert_eq!(r.status(), StatusCode::OK);
    assert_eq!(r.headers()[header::CACHE_CONTROL], "public, max-age=300");
    let etag = r.headers()[header::ETAG].clone();
    let finished: Value = r.json().await.unwrap();
    assert_eq!(finished["season"]["finished"], true);
    assert_eq!(names(&finished), ["Inside"], "not Late, played after it");
    let again = app
        .client
        .get(app.url(&path))
        .header(header::IF_NONE_MATCH, etag.clone())
        .send()
        .await
        .unwrap();
    assert_eq!(again.status(), StatusCode::NOT_MODIFIED);
    assert_eq!(again.headers()[header::ETAG], etag);
    assert_eq!(
        again.headers()[header::CACHE_CONTROL],
        "public, max-age=300"
    );

    let r = remove_season(&app, &token, "s1", json!({"reason": "tidy up"})).await;
    problem(r, StatusCode::CONFLICT, "season_finished").await;
    let log: Value = admin_get(&app, "/api/admin/audit", &token)
        .await
        .json()
        .await
        .unwrap();
    let actions: Vec<_> = log["entries"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["action"].as_str().unwrap())
        .collect();
    assert!(actions.contains(&"season_added"), "{actions:?}");
}

#[tokio::test]
async fn bad_seasons_and_queries_are_refused_with_a_problem() {
    let app = spawn_app().await;
    let token = operator_token(&app, "ann");
    let now = app.clock_now();
    let (status, _, _) = add_season(&app, &token, season("s1", now, HOUR)).await;
    assert_eq!(status, StatusCode::CREATED);

    for query in [
        "season=s1&period=all",
        "season=s1&period=day",
        "season=s1&period=day&date=2026-12-01",
        "season=s1&period=week&week=2026-W49",
        "season=s1&date=2026-12-01",
        "season=s1&limit=0",
    ] {
        let r = app.get(&format!("{BOARD}?{query}")).await;
        problem(r, StatusCode::BAD_REQUEST, "invalid_query").await;
    }
    for slug in ["nope", "Not-A-Slug"] {
        let r = app.get(&format!("{BOARD}?season={slug}")).await;
        let body = problem(r, StatusCode::NOT_FOUND, "season_not_found").await;
        assert!(body["detail"].as_str().unwrap().contains("/api/seasons"));
    }
    let r = app.get("/api/games/nope/leaderboard?season=s1").await;
    problem(r, StatusCode::NOT_FOUND, "unknown_game").await;

    for (body, kind) in [
        (season("s1", now, HOUR), "season_exists"),
        (season("Bad Slug", now, HOUR), "invalid_season"),
        (season("s2", now, Duration::ZERO), "invalid_season"),
        (
            json!({"slug": "s2", "title": "x", "starts_at": "tomorrow", "ends_at": now.to_rfc3339()}),
            "invalid_season",
        ),
        (
            json!({"slug": "s2", "title": "", "starts_at": now.to_rfc3339(), "ends_at": now.plus(HOUR).to_rfc3339()}),
            "invalid_season",
        ),
        (json!({"slug": "s2"}), "invalid_body"),
    ] {
        let (status, problem, _) = add_season(&app, &token, body.clone()).await;
        assert_eq!(problem["type"], kind, "{body}: {problem}");
        let expected = if kind == "season_exists" {
            StatusCode::CONFLICT
        } else {
            StatusCode::UNPROCESSABLE_ENTITY
        };
        assert_eq!(status, expected, "{body}");
    }
    let r = app
        .client
        .post(app.url("/api/admin/seasons"))
        .json(&season("s3", now, HOUR))
        .send()
        .await
        .unwrap();
    problem(r, StatusCode::UNAUTHORIZED, "operator_unauthorized").await;

    let r = remove_season(&app, &token, "s1", json!({})).await;
    problem(r, StatusCode::UNPROCESSABLE_ENTITY, "invalid_reason").await;
    let r = remove_season(&app, &token, "s1", json!({"reason": "wrong dates"})).await;
    assert_eq!(r.status(), StatusCode::NO_CONTENT);
    assert_eq!(r.headers()[header::CACHE_CONTROL], "no-store");
    let r = remove_season(&app, &token, "s1", json!({"reason": "again"})).await;
    problem(r, StatusCode::NOT_FOUND, "season_not_found").await;
    let r = app.get(&format!("{BOARD}?season=s1")).await;
    problem(r, StatusCode::NOT_FOUND, "season_not_found").await;
    let listed: Value = app.get("/api/seasons").await.json().await.unwrap();
    assert_eq!(listed["seasons"], json!([]));
}

#[tokio::test]
async fn the_command_line_adds_lists_and_removes_seasons_on_a_running_server() {
    let app = spawn_app().await;
    let start = app.clock_now().plus(HOUR);
    let end = start.plus(HOUR);
    let out = admin_cli(
        &app,
        &[
            "season",
            "add",
            "cli-season",
            "--title",
            "From the command line",
            "--start",
            &start.to_rfc3339(),
            "--end",
            &end.to_rfc3339(),
        ],
    );
    let added: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(added["slug"], "cli-season");
    let listed: Value = app.get("/api/seasons").await.json().await.unwrap();
    assert_eq!(listed["seasons"][0]["title"], "From the command line");
    assert_eq!(listed["seasons"][0]["starts_at"], start.to_rfc3339());
    let board: Value = app
        .get(&format!("{BOARD}?season=cli-season"))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(board["entries"], json!([]), "nothing played within it yet");

    let out = admin_cli(&app, &["season", "list"]);
    let lines = String::from_utf8(out.stdout).unwrap();
    assert_eq!(lines.lines().count(), 1, "{lines}");
    assert!(lines.contains("\"slug\":\"cli-season\""), "{lines}");

    admin_cli(
        &app,
        &["season", "remove", "cli-season", "--reason", "a test"],
    );
    let listed: Value = app.get("/api/seasons").await.json().await.unwrap();
    assert_eq!(listed["seasons"], json!([]));
    let audit = String::from_utf8(admin_cli(&app, &["audit"]).stdout).unwrap();
    let first = audit.lines().next().unwrap();
    assert!(first.contains("season_removed"), "{audit}");
    assert!(first.contains("cli:tester"), "{audit}");
}

#[tokio::test]
async fn the_seasons_are_in_the_openapi_document_with_the_operators_endpoints_tagged_admin() {
    let app = spawn_app().await;
    let doc: Value = app.get("/openapi.json").await.json().await.unwrap();
    let paths = &doc["paths"];
    assert_eq!(paths["/api/seasons"]["get"]["tags"][0], "leaderboards");
    for (path, method) in [
        ("/api/admin/seasons", "post"),
        ("/api/admin/seasons/{slug}", "delete"),
    ] {
        let op = &paths[path][method];
        assert_eq!(op["tags"][0], "admin", "{method} {path}");
        assert!(op["security"][0]["operator_token"].is_array(), "{path}");
        for status in ["401", "404", "409", "422", "429", "503"] {
            if status == "404" && method == "post" {
                continue;
            }
            assert!(op["responses"][status].is_object(), "{path}: {status}");
        }
    }
    let board = paths["/api/games/{game}/leaderboard"]["get"]["parameters"]
        .as_array()
        .unwrap();
    assert!(board.iter().any(|p| p["name"] == "season"));
}
