//! The operators' API and `arcade admin`: tokens made on the command line open the API, are
//! kept apart from players' tokens, stop working once revoked, and every change is in the
//! audit log the API pages through. On SQLite, or on PostgreSQL when `DATABASE_URL` names one.

use std::process::{Command, Output};
use std::time::Duration;

use arcade_testkit::sse::SseClient;
use arcade_testkit::{StatusCode, TestApp, spawn_app};
use serde_json::{Value, json};

/// `arcade admin ARGS` on the test server's database, as `cli:tester`.
pub fn admin_cli(app: &TestApp, args: &[&str]) -> Output {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_arcade"));
    cmd.arg("admin")
        .env_clear()
        .env("PATH", "/usr/bin:/bin")
        .env("USER", "tester")
        .env("ARCADE_DATA_DIR", app.env.data_dir.path());
    if let Some(db) = &app.env.database {
        cmd.env("DATABASE_URL", &db.url);
    }
    let out = cmd.args(args).output().expect("the arcade binary runs");
    assert!(
        out.status.success(),
        "`arcade admin {}` failed: {}",
        args.join(" "),
        String::from_utf8_lossy(&out.stderr)
    );
    out
}

/// A new operator's token, made on the command line.
pub fn operator_token(app: &TestApp, name: &str) -> String {
    let out = admin_cli(app, &["token", "create", "--name", name]);
    let token = String::from_utf8(out.stdout).unwrap().trim().to_owned();
    assert!(token.starts_with("arcade_op_"), "{token}");
    token
}

pub async fn admin_get(app: &TestApp, path: &str, token: &str) -> reqwest::Response {
    app.client
        .get(app.url(path))
        .bearer_auth(token)
        .send()
        .await
        .unwrap()
}

#[tokio::test]
async fn an_operator_token_from_the_command_line_opens_the_admin_api_until_revoked() {
    let app = spawn_app().await;
    let token = operator_token(&app, "ann");
    let me = admin_get(&app, "/api/admin/me", &token).await;
    assert_eq!(me.status(), StatusCode::OK);
    assert_eq!(me.headers()["cache-control"], "no-store");
    let me: Value = me.json().await.unwrap();
    assert_eq!(me["name"], "ann");
    assert!(me.get("token").is_none() && me.get("token_digest").is_none());

    let listed = String::from_utf8(admin_cli(&app, &["token", "list"]).stdout).unwrap();
    assert!(listed.contains("\"name\":\"ann\""), "{listed}");
    assert!(!listed.contains(&token), "a token is shown once only");

    admin_cli(&app, &["token", "revoke", "ann", "--reason", "rotated"]);
    let refused = admin_get(&app, "/api/admin/me", &token).await;
    assert_eq!(refused.status(), StatusCode::UNAUTHORIZED);

    let other = operator_token(&app, "bob");
    let log: Value = admin_get(&app, "/api/admin/audit?limit=2", &other)
        .await
        .json()
        .await
        .unwrap();
    let entries = log["entries"].as_array().unwrap();
    assert_eq!(entries[0]["action"], "token_created");
    assert_eq!(entries[0]["target"], "operator:bob");
    assert_eq!(entries[1]["action"], "token_revoked");
    assert_eq!(entries[1]["actor"], "cli:tester");
    assert_eq!(entries[1]["reason"], "rotated");
    assert!(entries[1]["before"]["revoked_at"].is_null());
    assert!(entries[1]["after"]["revoked_at"].is_string());
    let cursor = log["next_cursor"].as_str().unwrap();
    let older: Value = admin_get(&app, &format!("/api/admin/audit?cursor={cursor}"), &other)
        .await
        .json()
        .await
        .unwrap();
    let older = older["entries"].as_array().unwrap();
    assert_eq!(older.len(), 1);
    assert_eq!(older[0]["target"], "operator:ann");
    assert_eq!(older[0]["action"], "token_created");
    let printed = String::from_utf8(admin_cli(&app, &["audit"]).stdout).unwrap();
    assert_eq!(printed.lines().count(), 3, "{printed}");
}

#[tokio::test]
async fn the_admin_api_refuses_players_tokens_and_strangers_alike_and_is_never_cached() {
    let app = spawn_app().await;
    let (_, _, player_token) = app.start_ok("egg-catcher", "Mallory", None).await;
    let player_token = player_token.unwrap();
    for auth in [
        None,
        Some(format!("Bearer {player_token}")),
        Some("Bearer arcade_op_guessed".to_owned()),
        Some("Basic YWRtaW46YWRtaW4=".to_owned()),
    ] {
        let mut request = app.client.get(app.url("/api/admin/audit"));
        if let Some(a) = &auth {
            request = request.header("authorization", a);
        }
        let r = request.send().await.unwrap();
        assert_eq!(r.status(), StatusCode::UNAUTHORIZED, "{auth:?}");
        assert_eq!(r.headers()["cache-control"], "no-store");
        assert_eq!(
            r.headers()["www-authenticate"],
            "Bearer realm=\"arcade-admin\""
        );
        let p: Value = r.json().await.unwrap();
        assert_eq!(p["type"], "operator_unauthorized");
    }
    let token = operator_token(&app, "ann");
    let r = admin_get(&app, "/api/admin/audit?limit=0", &token).await;
    assert_eq!(r.status(), StatusCode::BAD_REQUEST);
    let r = admin_get(&app, "/api/admin/audit?cursor=nope", &token).await;
    assert_eq!(r.status(), StatusCode::BAD_REQUEST);
}

#[tokio::test]
async fn guessing_operator_tokens_is_limited_per_client() {
    let app = spawn_app().await;
    let mut limited = None;
    // The allowance refills as the guesses go (one every half second): the limit bites a
    // little after the burst when the server takes a while to refuse each.
    for i in 0..2 * arcade_server::admin::REQUESTS_PER_MINUTE {
        let r = admin_get(&app, "/api/admin/me", &format!("arcade_op_guess{i}")).await;
        if r.status() == StatusCode::TOO_MANY_REQUESTS {
            limited = Some((i, r.headers()["retry-after"].to_str().unwrap().to_owned()));
            break;
        }
        assert_eq!(r.status(), StatusCode::UNAUTHORIZED);
    }
    let (after, retry) = limited.expect("the guesses were limited");
    assert!(
        after >= arcade_server::admin::REQUESTS_PER_MINUTE,
        "{after}"
    );
    assert!(retry.parse::<u64>().unwrap() >= 1);
    // A request without a token guesses none: it is told so, and not counted.
    let r = app.get("/api/admin/me").await;
    assert_eq!(r.status(), StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn the_admin_api_has_its_own_tag_and_security_scheme_in_the_openapi_document() {
    let app = spawn_app().await;
    let doc: Value = app.get("/openapi.json").await.json().await.unwrap();
    for path in ["/api/admin/me", "/api/admin/operators", "/api/admin/audit"] {
        let op = &doc["paths"][path]["get"];
        assert_eq!(op["tags"][0], "admin", "{path}");
        assert!(op["security"][0]["operator_token"].is_array(), "{path}");
    }
    assert_eq!(
        doc["components"]["securitySchemes"]["operator_token"]["scheme"],
        "bearer"
    );
    assert!(
        doc["tags"]
            .as_array()
            .unwrap()
            .iter()
            .any(|t| t["name"] == "admin")
    );
    // No player operation is tagged admin, nor needs an operator token (a player's own data
    // needs the player's).
    for (path, item) in doc["paths"].as_object().unwrap() {
        if !path.starts_with("/api/admin/") {
            for op in item.as_object().unwrap().values() {
                if let Some(security) = op.get("security") {
                    assert_eq!(security, &json!([{"player_token": []}]), "{path}");
                }
            }
        }
    }
}

pub async fn admin_post(app: &TestApp, path: &str, token: &str, body: Value) -> StatusCode {
    app.client
        .post(app.url(path))
        .bearer_auth(token)
        .json(&body)
        .send()
        .await
        .unwrap()
        .status()
}

/// The names on each board of `game` (all time, today, this week), as `app` serves them.
async fn names_on_boards(app: &TestApp, game: &str) -> Vec<Vec<String>> {
    let mut boards = Vec::new();
    for period in ["all", "day", "week"] {
        let page: Value = app
            .get(&format!(
                "/api/games/{game}/leaderboard?period={period}&limit=100"
            ))
            .await
            .json()
            .await
            .unwrap();
        boards.push(
            page["entries"]
                .as_array()
                .unwrap()
                .iter()
                .map(|e| e["player"].as_str().unwrap().to_owned())
                .collect(),
        );
    }
    boards
}

/// Polls until `player` is on every board of `game` (`on`) or on none: board pages are cached
/// for a second, and a change made elsewhere arrives by the bus.
async fn wait_boards(app: &TestApp, game: &str, player: &str, on: bool) -> Vec<Vec<String>> {
    let mut boards = Vec::new();
    for _ in 0..100 {
        boards = names_on_boards(app, game).await;
        if boards.iter().all(|b| b.iter().any(|n| n == player) == on) {
            return boards;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("{player} on the boards: expected {on}, got {boards:?}");
}

#[tokio::test]
async fn a_hidden_player_vanishes_from_every_board_live_pages_reload_and_they_return() {
    let app = spawn_app().await;
    let (status, _, _, _) = app.play_game("egg-catcher", "Hal", None, 85).await;
    assert_eq!(status, StatusCode::OK);
    let (status, _, _, _) = app.play_scoring_game("egg-catcher", "Ivy", None, 40).await;
    assert_eq!(status, StatusCode::OK);
    wait_boards(&app, "egg-catcher", "Hal", true).await;
    let mut live = SseClient::connect(&app.url("/api/events?game=egg-catcher"), None).await;
    let token = operator_token(&app, "ann");

    let hide = "/api/admin/players/hal/hide";
    let status = admin_post(&app, hide, &token, json!({"reason": "rude name"})).await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    let boards = wait_boards(&app, "egg-catcher", "Hal", false).await;
    assert!(
        boards.iter().all(|b| b.contains(&"Ivy".to_owned())),
        "{boards:?}"
    );
    let reset = live.next_named("reset", Duration::from_secs(10)).await;
    let reset = reset.expect("live pages are told to reload");
    assert_eq!(reset.json()["game"], "egg-catcher");
    assert_eq!(reset.json()["player"], "", "a hidden name is not spread");
    // A player hidden keeps playing, off the boards.
    let (_, _, _, _) = app.play_game("egg-catcher", "Hal2", None, 10).await;
    let status = admin_post(
        &app,
        "/api/admin/players/nobody-at-all/hide",
        &token,
        json!({}),
    )
    .await;
    assert_eq!(status, StatusCode::NOT_FOUND);

    let status = admin_post(&app, "/api/admin/players/HAL/unhide", &token, json!({})).await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    wait_boards(&app, "egg-catcher", "Hal", true).await;
    let log: Value = admin_get(&app, "/api/admin/audit", &token)
        .await
        .json()
        .await
        .unwrap();
    let actions: Vec<_> = log["entries"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["action"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(
        actions[..3],
        ["player_unhidden", "player_hidden", "token_created"]
    );
    assert_eq!(log["entries"][1]["actor"], "ann");
    assert_eq!(log["entries"][1]["reason"], "rude name");
    let metrics = app.get("/metrics").await.text().await.unwrap();
    assert!(
        metrics.contains("arcade_admin_actions_total{action=\"player_hidden\"} 1"),
        "{metrics}"
    );
}

#[tokio::test]
async fn a_removed_score_gives_way_to_the_next_best_and_a_ban_stops_new_games() {
    let app = spawn_app().await;
    let (status, low, _, claimed) = app.play_scoring_game("egg-catcher", "Rex", None, 40).await;
    assert_eq!(status, StatusCode::OK);
    let token = claimed.unwrap();
    let (status, high, _, _) = app.play_game("egg-catcher", "Rex", Some(&token), 90).await;
    assert_eq!(status, StatusCode::OK);
    assert!(high["score"].as_u64() > low["score"].as_u64());
    let operator = operator_token(&app, "ann");
    let remove = format!(
        "/api/admin/scores/{}/remove",
        high["session_id"].as_str().unwrap()
    );
    let status = admin_post(&app, &remove, &operator, json!({})).await;
    assert_eq!(
        status,
        StatusCode::UNPROCESSABLE_ENTITY,
        "a reason is required"
    );
    let status = admin_post(&app, &remove, &operator, json!({"reason": "bot"})).await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    let status = admin_post(&app, &remove, &operator, json!({"reason": "bot"})).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    // Every replica (this one too) follows the change's event as well: the board converges on
    // the next best, within seconds even on a loaded machine.
    for _ in 0..200 {
        let standing: Value = app
            .get("/api/games/egg-catcher/players/Rex")
            .await
            .json()
            .await
            .unwrap();
        if standing["best"]["score"] == low["score"] {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let standing: Value = app
        .get("/api/games/egg-catcher/players/Rex")
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(standing["best"]["score"], low["score"], "{standing}");

    let status = admin_post(&app, "/api/admin/players/Rex/ban", &operator, json!({})).await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    let (status, body) = app.start("egg-catcher", "Rex", Some(&token)).await;
    assert_eq!(status, StatusCode::FORBIDDEN, "{body}");
    assert_eq!(body["type"], "player_banned");
    admin_cli(&app, &["player", "unban", "Rex", "--reason", "appeal"]);
    app.start_ok("egg-catcher", "Rex", Some(&token)).await;
}

#[tokio::test]
async fn the_command_line_hides_a_player_on_a_running_server() {
    let app = spawn_app().await;
    let (status, _, _, _) = app.play_game("egg-catcher", "Cli", None, 85).await;
    assert_eq!(status, StatusCode::OK);
    wait_boards(&app, "egg-catcher", "Cli", true).await;
    admin_cli(&app, &["player", "hide", "Cli", "--reason", "spam"]);
    // The change's event waits in the database's outbox for the server's relay, which brings
    // the server's boards up to date.
    wait_boards(&app, "egg-catcher", "Cli", false).await;
    admin_cli(&app, &["player", "unhide", "Cli"]);
    wait_boards(&app, "egg-catcher", "Cli", true).await;
    let printed = String::from_utf8(admin_cli(&app, &["audit"]).stdout).unwrap();
    assert!(
        printed
            .lines()
            .next()
            .unwrap()
            .contains("\"player_unhidden\""),
        "{printed}"
    );
    assert!(printed.contains("\"cli:tester\""), "{printed}");
}

/// Two replicas on shared PostgreSQL and Redis (and NATS when configured): a player hidden
/// through one is gone from the boards the other serves, whose live pages are told to reload,
/// and comes back on both.
#[tokio::test]
async fn a_player_hidden_through_one_replica_vanishes_from_the_other() {
    use arcade_testkit::backends::{self, Service};
    if backends::urls([Service::Postgres, Service::Redis]).is_none() {
        return;
    }
    let env = arcade_testkit::TestEnv::new().await;
    let a = arcade_testkit::spawn_app_in(env.clone(), &[]).await;
    let b = arcade_testkit::spawn_app_in(env.clone(), &[]).await;
    let (status, _, _, _) = a.play_game("egg-catcher", "Rep", None, 85).await;
    assert_eq!(status, StatusCode::OK);
    wait_boards(&b, "egg-catcher", "Rep", true).await;
    let mut live_b = SseClient::connect(&b.url("/api/events?game=egg-catcher"), None).await;
    let token = operator_token(&a, "ann");
    let status = admin_post(&a, "/api/admin/players/Rep/hide", &token, json!({})).await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    wait_boards(&b, "egg-catcher", "Rep", false).await;
    wait_boards(&a, "egg-catcher", "Rep", false).await;
    if backends::configured(Service::Nats).is_some() {
        let reset = live_b.next_named("reset", Duration::from_secs(10)).await;
        assert!(reset.is_some(), "the other replica's live pages reload");
    }
    let status = admin_post(&b, "/api/admin/players/Rep/unhide", &token, json!({})).await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    wait_boards(&a, "egg-catcher", "Rep", true).await;
    wait_boards(&b, "egg-catcher", "Rep", true).await;
}

#[tokio::test]
async fn a_renamed_player_plays_on_under_the_new_name_and_the_old_one_can_be_blocked() {
    let app = spawn_app().await;
    let (status, _, _, claimed) = app.play_game("egg-catcher", "Badword", None, 80).await;
    assert_eq!(status, StatusCode::OK);
    let player_token = claimed.unwrap();
    app.start_ok("egg-catcher", "Taken", None).await;
    let token = operator_token(&app, "ann");
    let rename = "/api/admin/players/Badword/rename";
    let status = admin_post(&app, rename, &token, json!({"to": "taken"})).await;
    assert_eq!(status, StatusCode::CONFLICT);
    let body = json!({"to": "Goodword", "block_old": true, "reason": "rude"});
    assert_eq!(
        admin_post(&app, rename, &token, body).await,
        StatusCode::NO_CONTENT
    );
    wait_boards(&app, "egg-catcher", "Goodword", true).await;
    wait_boards(&app, "egg-catcher", "Badword", false).await;
    app.start_ok("egg-catcher", "Goodword", Some(&player_token))
        .await;
    let (status, body) = app.start("egg-catcher", "BADWORD", None).await;
    assert_eq!(status, StatusCode::CONFLICT, "{body}");
    assert_eq!(body["type"], "name_unavailable");
    admin_cli(&app, &["rename", "Goodword", "Fine"]);
    app.start_ok("egg-catcher", "Goodword", None).await;
}

#[tokio::test]
async fn a_score_is_reported_as_the_board_shows_it() {
    let app = spawn_app().await;
    let (status, finished, _, token) = app.play_game("egg-catcher", "Shown", None, 80).await;
    assert_eq!(status, StatusCode::OK);
    app.clock.advance(Duration::from_secs(5));
    let (status, later, _, _) = app
        .play_game("egg-catcher", "Shown", token.as_deref(), 20)
        .await;
    assert_eq!(status, StatusCode::OK);
    // The board shows the better of the two (the earlier on a tie).
    let (best, other) = if later["score"].as_u64() > finished["score"].as_u64() {
        (later, finished)
    } else {
        (finished, later)
    };
    let wanted = best["score"].as_u64().unwrap();
    let entry = {
        let mut found = Value::Null;
        for _ in 0..100 {
            let board: Value = app
                .get("/api/games/egg-catcher/leaderboard")
                .await
                .json()
                .await
                .unwrap();
            found = board["entries"][0].clone();
            if found["score"] == wanted {
                break;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        found
    };
    assert_eq!(entry["score"], wanted, "{entry}");
    let report = |score: &Value, at: &Value| {
        let shown = json!({"game": "egg-catcher", "score": score, "achieved_at": at});
        json!({"player": "shown", "shown": shown})
    };
    let r = app
        .post_json(
            "/api/reports",
            &report(&entry["score"], &entry["achieved_at"]),
        )
        .await;
    assert_eq!(r.status(), StatusCode::ACCEPTED);
    let r = app
        .post_json(
            "/api/reports",
            &report(&json!(wanted + 1), &entry["achieved_at"]),
        )
        .await;
    assert_eq!(r.status(), StatusCode::NOT_FOUND);
    let r = app
        .post_json(
            "/api/reports",
            &report(&entry["score"], &json!("yesterday")),
        )
        .await;
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let problem: Value = r.json().await.unwrap();
    assert_eq!(problem["type"], "invalid_report", "{problem}");
    // A session id and a shown score naming two scores name none.
    let mut mismatched = report(&entry["score"], &entry["achieved_at"]);
    mismatched["session_id"] = other["session_id"].clone();
    let r = app.post_json("/api/reports", &mismatched).await;
    assert_eq!(r.status(), StatusCode::NOT_FOUND);
    let operator = operator_token(&app, "ann");
    let queue: Value = admin_get(&app, "/api/admin/review", &operator)
        .await
        .json()
        .await
        .unwrap();
    let items = queue["items"].as_array().unwrap();
    assert_eq!(items.len(), 1, "{queue}");
    assert_eq!(items[0]["session_id"], best["session_id"], "{queue}");
    assert_eq!(items[0]["score"], wanted);
}

#[tokio::test]
async fn reports_wait_in_the_review_queue_until_an_operator_resolves_them() {
    let app = spawn_app().await;
    let (status, finished, _, _) = app.play_game("egg-catcher", "Sly", None, 80).await;
    assert_eq!(status, StatusCode::OK);
    let session = finished["session_id"].as_str().unwrap().to_owned();
    let r = app
        .post_json(
            "/api/reports",
            &json!({"player": "sly", "session_id": session, "reason": "bot"}),
        )
        .await;
    assert_eq!(r.status(), StatusCode::ACCEPTED);
    let r = app
        .post_json("/api/reports", &json!({"player": "Nobody"}))
        .await;
    assert_eq!(r.status(), StatusCode::NOT_FOUND);
    let token = operator_token(&app, "ann");
    let queue: Value = admin_get(&app, "/api/admin/review", &token)
        .await
        .json()
        .await
        .unwrap();
    let items = queue["items"].as_array().unwrap();
    assert_eq!(items.len(), 1, "{queue}");
    assert_eq!(items[0]["kind"], "report");
    assert_eq!(items[0]["player"], "Sly");
    assert_eq!(items[0]["reason"], "bot");
    assert_eq!(items[0]["session_id"], session.as_str());
    let item = items[0]["item"].as_str().unwrap();
    let resolve = format!("/api/admin/review/{item}/resolve");
    let body = json!({"resolution": "remove_score", "reason": "replayed a bot"});
    assert_eq!(
        admin_post(&app, &resolve, &token, body.clone()).await,
        StatusCode::NO_CONTENT
    );
    assert_eq!(
        admin_post(&app, &resolve, &token, body).await,
        StatusCode::NOT_FOUND
    );
    wait_boards(&app, "egg-catcher", "Sly", false).await;
    let queue: Value = admin_get(&app, "/api/admin/review", &token)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(queue["items"].as_array().unwrap().len(), 0);
    let metrics = app.get("/metrics").await.text().await.unwrap();
    assert!(metrics.contains("arcade_review_queue_items "), "{metrics}");
    assert!(
        metrics.contains("arcade_review_queue_oldest_age_seconds "),
        "{metrics}"
    );
}

#[tokio::test]
async fn reports_are_limited_per_client() {
    let app = spawn_app().await;
    app.start_ok("egg-catcher", "Target", None).await;
    let mut limited = false;
    for _ in 0..2 * arcade_server::admin::REPORTS_PER_MINUTE {
        let r = app
            .post_json("/api/reports", &json!({"player": "Target"}))
            .await;
        if r.status() == StatusCode::TOO_MANY_REQUESTS {
            limited = true;
            break;
        }
        assert_eq!(r.status(), StatusCode::ACCEPTED);
    }
    assert!(limited, "reports are limited");
}

#[tokio::test]
async fn the_command_line_lists_the_review_queue_and_resolves_an_item() {
    let app = spawn_app().await;
    app.start_ok("egg-catcher", "Loud", None).await;
    let r = app
        .post_json("/api/reports", &json!({"player": "Loud", "reason": "rude"}))
        .await;
    assert_eq!(r.status(), StatusCode::ACCEPTED);
    let printed = String::from_utf8(admin_cli(&app, &["review", "list"]).stdout).unwrap();
    let items: Vec<Value> = printed
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(items.len(), 1, "{printed}");
    assert_eq!(items[0]["kind"], "report");
    assert_eq!(items[0]["player"], "Loud");
    assert_eq!(items[0]["reason"], "rude");
    let item = items[0]["item"].as_str().unwrap();
    admin_cli(
        &app,
        &[
            "review",
            "resolve",
            item,
            "--resolution",
            "hide-player",
            "--reason",
            "rude name",
        ],
    );
    let printed = String::from_utf8(admin_cli(&app, &["review", "list"]).stdout).unwrap();
    assert_eq!(printed, "", "the queue is empty");
    let printed = String::from_utf8(admin_cli(&app, &["audit"]).stdout).unwrap();
    let newest: Value = serde_json::from_str(printed.lines().next().unwrap()).unwrap();
    assert_eq!(newest["action"], "review_resolved", "{printed}");
    assert_eq!(newest["actor"], "cli:tester");
    assert!(printed.contains("\"player_hidden\""), "{printed}");
    let token = operator_token(&app, "ann");
    let queue: Value = admin_get(&app, "/api/admin/review", &token)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(queue["items"].as_array().unwrap().len(), 0);
}
