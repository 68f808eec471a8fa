//! The name deny list: rules added through the operators' API or `arcade admin names` refuse
//! new names on every replica, leave the players who had such a name playing, and find them on
//! demand. On SQLite, or on PostgreSQL when `DATABASE_URL` names one.

use std::time::Duration;

use arcade_testkit::{StatusCode, TestApp, spawn_app};
use serde_json::{Value, json};

use crate::admin::{admin_cli, admin_get, admin_post, operator_token};

async fn add_rule(app: &TestApp, token: &str, body: Value) -> (StatusCode, Value) {
    let r = app
        .client
        .post(app.url("/api/admin/names/rules"))
        .bearer_auth(token)
        .json(&body)
        .send()
        .await
        .unwrap();
    (r.status(), r.json().await.unwrap())
}

/// The names `app`'s deny list matches among the players, as its check answers.
async fn checked_names(app: &TestApp, token: &str) -> Vec<String> {
    let page: Value = admin_get(app, "/api/admin/names/check?limit=100", token)
        .await
        .json()
        .await
        .unwrap();
    page["matches"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["player"].as_str().unwrap().to_owned())
        .collect()
}

/// Polls `app`'s check until it lists `player` (`listed`) or not: a change made elsewhere
/// reaches a replica by the bus.
async fn wait_checked(app: &TestApp, token: &str, player: &str, listed: bool) {
    let mut names = Vec::new();
    for _ in 0..100 {
        names = checked_names(app, token).await;
        if names.iter().any(|n| n == player) == listed {
            return;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("{player} checked: expected {listed}, got {names:?}");
}

#[tokio::test]
async fn a_denied_name_cannot_be_claimed_in_any_spelling_and_its_first_holder_plays_on() {
    let app = spawn_app().await;
    let (_, _, holder) = app.start_ok("egg-catcher", "Rudeboy", None).await;
    let holder = holder.unwrap();
    app.start_ok("egg-catcher", "Polite", None).await;
    let token = operator_token(&app, "ann");

    let (status, rule) = add_rule(
        &app,
        &token,
        json!({"kind": "word", "value": "RUDE", "reason": "insult"}),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED, "{rule}");
    assert_eq!(rule["kind"], "word");
    assert_eq!(rule["value"], "RUDE");
    assert_eq!(rule["created_by"], "ann");
    let id = rule["id"].as_i64().unwrap();

    for name in ["rude", "RUDE_girl", "xRuDe", "r u d e"] {
        let (status, body) = app.start("egg-catcher", name, None).await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{name}: {body}");
        assert_eq!(body["type"], "name_denied");
        let detail = body["detail"].as_str().unwrap();
        assert!(
            !detail.contains("word") && !detail.contains(&id.to_string()),
            "{detail}"
        );
    }
    // Whoever had the name first plays on; an operator finds them on demand.
    app.start_ok("egg-catcher", "Rudeboy", Some(&holder)).await;
    let check: Value = admin_get(&app, "/api/admin/names/check", &token)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(
        check,
        json!({"matches": [{"player": "Rudeboy", "rule": id, "hidden": false, "banned": false}]})
    );

    let (status, again) = add_rule(&app, &token, json!({"kind": "word", "value": "rüde"})).await;
    assert_eq!(status, StatusCode::CREATED, "another word: {again}");
    let (status, same) = add_rule(&app, &token, json!({"kind": "word", "value": "Rude"})).await;
    assert_eq!(status, StatusCode::CONFLICT);
    assert_eq!(same["type"], "name_rule_exists");
    for bad in [
        json!({"kind": "pattern", "value": "(open"}),
        json!({"kind": "pattern", "value": ".*"}),
        json!({"kind": "word", "value": "not.a.name"}),
    ] {
        let (status, body) = add_rule(&app, &token, bad.clone()).await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{bad}");
        assert_eq!(body["type"], "invalid_name_rule", "{bad}");
    }
    let list: Value = admin_get(&app, "/api/admin/names/rules", &token)
        .await
        .json()
        .await
        .unwrap();
    let values: Vec<_> = list["rules"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["value"].as_str().unwrap())
        .collect();
    assert_eq!(values, ["RUDE", "rüde"]);

    let remove = format!("/api/admin/names/rules/{id}/remove");
    let body = json!({"reason": "too broad"});
    assert_eq!(
        admin_post(&app, &remove, &token, body.clone()).await,
        StatusCode::NO_CONTENT
    );
    assert_eq!(
        admin_post(&app, &remove, &token, body).await,
        StatusCode::NOT_FOUND
    );
    app.start_ok("egg-catcher", "RUDE_girl", None).await;
    let log: Value = admin_get(&app, "/api/admin/audit?limit=3", &token)
        .await
        .json()
        .await
        .unwrap();
    let entries = log["entries"].as_array().unwrap();
    assert_eq!(entries[0]["action"], "name_rule_removed");
    assert_eq!(entries[0]["target"], format!("name_rule:{id}"));
    assert_eq!(entries[0]["reason"], "too broad");
    assert_eq!(entries[0]["before"]["value"], "RUDE");
    assert_eq!(entries[2]["action"], "name_rule_added");
    assert_eq!(entries[2]["reason"], "insult");
    let metrics = app.get("/metrics").await.text().await.unwrap();
    assert!(
        metrics.contains("arcade_admin_actions_total{action=\"name_rule_added\"} 2"),
        "{metrics}"
    );
}

#[tokio::test]
async fn a_pattern_refuses_what_it_matches_after_folding_and_nothing_else() {
    let app = spawn_app().await;
    let token = operator_token(&app, "ann");
    let (status, rule) =
        add_rule(&app, &token, json!({"kind": "pattern", "value": "^admin"})).await;
    assert_eq!(status, StatusCode::CREATED, "{rule}");
    for name in ["Admin", "ADM1N_real", "adrnin", "Ad Min"] {
        let (status, body) = app.start("egg-catcher", name, None).await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{name}: {body}");
        assert_eq!(body["type"], "name_denied");
    }
    app.start_ok("egg-catcher", "Not Admin", None).await;
}

#[tokio::test]
async fn name_rules_need_an_operator_token_and_well_formed_requests() {
    let app = spawn_app().await;
    let r = app
        .post_json(
            "/api/admin/names/rules",
            &json!({"kind": "word", "value": "x"}),
        )
        .await;
    assert_eq!(r.status(), StatusCode::UNAUTHORIZED);
    assert_eq!(
        app.get("/api/admin/names/check").await.status(),
        StatusCode::UNAUTHORIZED
    );
    let token = operator_token(&app, "ann");
    let (status, body) = add_rule(&app, &token, json!({"kind": "regex", "value": "x"})).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
    let r = admin_get(&app, "/api/admin/names/check?cursor=%21%21", &token).await;
    assert_eq!(r.status(), StatusCode::BAD_REQUEST);
    let r = admin_get(&app, "/api/admin/names/check?limit=0", &token).await;
    assert_eq!(r.status(), StatusCode::BAD_REQUEST);
    let status = admin_post(
        &app,
        "/api/admin/names/rules/nope/remove",
        &token,
        json!({}),
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    let doc: Value = app.get("/openapi.json").await.json().await.unwrap();
    for (path, method) in [
        ("/api/admin/names/rules", "get"),
        ("/api/admin/names/rules", "post"),
        ("/api/admin/names/rules/{id}/remove", "post"),
        ("/api/admin/names/check", "get"),
    ] {
        let op = &doc["paths"][path][method];
        assert_eq!(op["tags"][0], "admin", "{method} {path}");
        assert!(
            op["security"][0]["operator_token"].is_array(),
            "{method} {path}"
        );
    }
}

#[tokio::test]
async fn the_command_line_adds_checks_and_removes_rules_that_a_running_server_follows() {
    let app = spawn_app().await;
    app.start_ok("egg-catcher", "Spammer", None).await;
    let token = operator_token(&app, "ann");
    let out = admin_cli(&app, &["names", "add", "spam", "--reason", "ads"]);
    let rule: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(rule["created_by"], "cli:tester");
    let id = rule["id"].as_i64().unwrap().to_string();
    // The change's event waits in the database's outbox for the server's relay, which makes
    // the server reload its list.
    wait_checked(&app, &token, "Spammer", true).await;
    let (status, body) = app.start("egg-catcher", "SPAM_bot", None).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");

    let listed = String::from_utf8(admin_cli(&app, &["names", "list"]).stdout).unwrap();
    assert_eq!(listed.lines().count(), 1, "{listed}");
    assert!(listed.contains("\"value\":\"spam\""), "{listed}");
    let checked = String::from_utf8(admin_cli(&app, &["names", "check"]).stdout).unwrap();
    let found: Value = serde_json::from_str(checked.trim()).unwrap();
    assert_eq!(found["player"], "Spammer");
    assert_eq!(found["rule"].as_i64().unwrap().to_string(), id);

    admin_cli(&app, &["names", "remove", &id, "--reason", "fixed"]);
    wait_checked(&app, &token, "Spammer", false).await;
    app.start_ok("egg-catcher", "SPAM_bot", None).await;
    let printed = String::from_utf8(admin_cli(&app, &["audit", "--limit", "2"]).stdout).unwrap();
    let actions: Vec<Value> = printed
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(actions[0]["action"], "name_rule_removed");
    assert_eq!(actions[1]["action"], "name_rule_added");
    assert_eq!(actions[1]["actor"], "cli:tester");
}

/// Two replicas on shared PostgreSQL and Redis (and NATS when configured): a rule added through
/// one refuses a claim on the other, and its removal lets the claim through there again.
#[tokio::test]
async fn a_name_rule_added_through_one_replica_refuses_the_claim_on_the_other() {
    use arcade_testkit::backends::{self, Service};
    if backends::urls([Service::Postgres, Service::Redis]).is_none() {
        return;
    }
    let env = arcade_testkit::TestEnv::new().await;
    let a = arcade_testkit::spawn_app_in(env.clone(), &[]).await;
    let b = arcade_testkit::spawn_app_in(env.clone(), &[]).await;
    a.start_ok("egg-catcher", "Trollface", None).await;
    let token = operator_token(&a, "ann");
    let (status, rule) = add_rule(&a, &token, json!({"kind": "word", "value": "troll"})).await;
    assert_eq!(status, StatusCode::CREATED, "{rule}");
    wait_checked(&b, &token, "Trollface", true).await;
    let (status, body) = b.start("egg-catcher", "Troll2", None).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
    assert_eq!(body["type"], "name_denied");

    let remove = format!("/api/admin/names/rules/{}/remove", rule["id"]);
    assert_eq!(
        admin_post(&a, &remove, &token, json!({})).await,
        StatusCode::NO_CONTENT
    );
    wait_checked(&b, &token, "Trollface", false).await;
    b.start_ok("egg-catcher", "Troll2", None).await;
}
