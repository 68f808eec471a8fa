//! The operators' API and `arcade admin`: tokens made on the command line open the API, are
//! kept apart from players' tokens, stop working once revoked, and every change is in the
//! audit log the API pages through. On SQLite, or on PostgreSQL when `DATABASE_URL` names one.

use std::process::{Command, Output};

use arcade_testkit::{StatusCode, TestApp, spawn_app};
use serde_json::Value;

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
    // No player operation is tagged admin, nor needs an operator token.
    for (path, item) in doc["paths"].as_object().unwrap() {
        if !path.starts_with("/api/admin/") {
            for op in item.as_object().unwrap().values() {
                assert!(op.get("security").is_none(), "{path}");
            }
        }
    }
}
