//! Players' rights: a player exports everything Arcade keeps of them and erases it, and
//! afterwards nothing of them is left: every column of every table of the database (whatever
//! tables exist, read from the database's own catalogue), every key of the server's Redis
//! prefix and every answer of the API is searched for their name, key, sessions and token.
//! On SQLite and memory, and on PostgreSQL and Redis when `DATABASE_URL` and `REDIS_URL`
//! name them.

use std::time::Duration;

use arcade_testkit::{StatusCode, TestApp, TestEnv, spawn_app_in, spawn_app_with_args};
use serde_json::{Value, json};

use crate::admin::{admin_cli, admin_get, admin_post, operator_token};

const GAMES: [&str; 2] = ["egg-catcher", "2048"];

/// What identifies a player in stored data: text (compared without case, so a name also finds
/// its key) and bytes (in binary columns).
#[derive(Debug)]
struct Traces {
    texts: Vec<String>,
    bytes: Vec<Vec<u8>>,
}

impl Traces {
    fn of(name: &str, sessions: &[String], token: Option<&str>) -> Self {
        let mut texts = vec![name.to_lowercase()];
        let mut bytes = vec![name.as_bytes().to_vec(), name.to_lowercase().into_bytes()];
        for s in sessions {
            texts.push(s.to_lowercase());
            bytes.push(uuid::Uuid::parse_str(s).unwrap().as_bytes().to_vec());
        }
        if let Some(token) = token {
            let digest = arcade_domain::token::TokenDigest::of(token).0;
            texts.push(digest.iter().map(|b| format!("{b:02x}")).collect());
            bytes.push(digest.to_vec());
        }
        Self { texts, bytes }
    }

    fn found_in(&self, value: &[u8]) -> bool {
        let text = String::from_utf8_lossy(value).to_lowercase();
        self.texts.iter().any(|t| text.contains(t.as_str()))
            || self
                .bytes
                .iter()
                .any(|b| value.windows(b.len()).any(|w| w == b.as_slice()))
    }
}

/// Every `table.column` of the server's database holding a trace.
async fn database_traces(app: &TestApp, traces: &Traces) -> Vec<String> {
    match &app.env.database {
        Some(db) => postgres_traces(&db.url, traces).await,
        None => sqlite_traces(&app.env.data_dir.path().join("arcade.db"), traces).await,
    }
}

async fn postgres_traces(url: &str, traces: &Traces) -> Vec<String> {
    let pool = sqlx::PgPool::connect(url).await.unwrap();
    let columns: Vec<(String, String, String)> = sqlx::query_as(
        "SELECT table_name::text, column_name::text, data_type::text \
         FROM information_schema.columns WHERE table_schema = current_schema() \
         ORDER BY table_name, ordinal_position",
    )
    .fetch_all(&pool)
    .await
    .unwrap();
    assert!(
        columns.iter().any(|(t, _, _)| t == "players"),
        "{columns:?}"
    );
    let mut found = Vec::new();
    for (table, column, kind) in &columns {
        // Every type has a text form (bytea's is its hex, which the digest's text finds).
        let mut hits: i64 = 0;
        for text in &traces.texts {
            hits += sqlx::query_scalar::<_, i64>(&format!(
                "SELECT count(*) FROM \"{table}\" WHERE strpos(lower(\"{column}\"::text), $1) > 0"
            ))
            .bind(text)
            .fetch_one(&pool)
            .await
            .unwrap();
        }
        if kind == "bytea" {
            for bytes in &traces.bytes {
                hits += sqlx::query_scalar::<_, i64>(&format!(
                    "SELECT count(*) FROM \"{table}\" WHERE position($1::bytea in \"{column}\") > 0"
                ))
                .bind(bytes)
                .fetch_one(&pool)
                .await
                .unwrap();
            }
        }
        if hits > 0 {
            found.push(format!("{table}.{column}"));
        }
    }
    pool.close().await;
    found
}

async fn sqlite_traces(file: &std::path::Path, traces: &Traces) -> Vec<String> {
    let options = sqlx::sqlite::SqliteConnectOptions::new()
        .filename(file)
        .read_only(true);
    let pool = sqlx::SqlitePool::connect_with(options).await.unwrap();
    let tables: Vec<String> =
        sqlx::query_scalar("SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name")
            .fetch_all(&pool)
            .await
            .unwrap();
    assert!(tables.iter().any(|t| t == "players"), "{tables:?}");
    let mut found = Vec::new();
    for table in &tables {
        let columns: Vec<String> = sqlx::query_scalar("SELECT name FROM pragma_table_info(?)")
            .bind(table)
            .fetch_all(&pool)
            .await
            .unwrap();
        for column in &columns {
            let mut hits: i64 = 0;
            for text in &traces.texts {
                hits += sqlx::query_scalar::<_, i64>(&format!(
                    "SELECT count(*) FROM \"{table}\" \
                     WHERE instr(lower(CAST(\"{column}\" AS TEXT)), ?) > 0"
                ))
                .bind(text)
                .fetch_one(&pool)
                .await
                .unwrap();
            }
            for bytes in &traces.bytes {
                hits += sqlx::query_scalar::<_, i64>(&format!(
                    "SELECT count(*) FROM \"{table}\" \
                     WHERE instr(CAST(\"{column}\" AS BLOB), ?) > 0"
                ))
                .bind(bytes)
                .fetch_one(&pool)
                .await
                .unwrap();
            }
            if hits > 0 {
                found.push(format!("{table}.{column}"));
            }
        }
    }
    pool.close().await;
    found
}

/// Every key of the server's Redis prefix whose name or content holds a trace (none without
/// Redis).
async fn redis_traces(app: &TestApp, traces: &Traces) -> Vec<String> {
    let Some(r) = &app.env.redis else {
        return Vec::new();
    };
    let client = redis::Client::open(r.url.as_str()).unwrap();
    let mut conn = client.get_multiplexed_async_connection().await.unwrap();
    let mut keys: Vec<Vec<u8>> = Vec::new();
    let mut cursor: u64 = 0;
    loop {
        let (next, batch): (u64, Vec<Vec<u8>>) = redis::cmd("SCAN")
            .arg(cursor)
            .arg("MATCH")
            .arg(format!("{}*", r.prefix))
            .arg("COUNT")
            .arg(1000)
            .query_async(&mut conn)
            .await
            .unwrap();
        keys.extend(batch);
        if next == 0 {
            break;
        }
        cursor = next;
    }
    assert!(!keys.is_empty(), "the server keeps something in Redis");
    let mut found = Vec::new();
    for key in keys {
        let kind: String = redis::cmd("TYPE")
            .arg(&key)
            .query_async(&mut conn)
            .await
            .unwrap();
        let read = |command: &'static str, args: &'static [&'static str]| {
            let mut cmd = redis::cmd(command);
            cmd.arg(&key).arg(args);
            cmd
        };
        let values: Vec<Vec<u8>> = match kind.as_str() {
            "string" => vec![read("GET", &[]).query_async(&mut conn).await.unwrap()],
            "hash" => read("HGETALL", &[]).query_async(&mut conn).await.unwrap(),
            "list" => read("LRANGE", &["0", "-1"])
                .query_async(&mut conn)
                .await
                .unwrap(),
            "set" => read("SMEMBERS", &[]).query_async(&mut conn).await.unwrap(),
            "zset" => read("ZRANGE", &["0", "-1"])
                .query_async(&mut conn)
                .await
                .unwrap(),
            "none" => Vec::new(), // expired since the scan
            other => panic!("a Redis key of a type this check cannot read: {other}"),
        };
        if traces.found_in(&key) || values.iter().any(|v| traces.found_in(v)) {
            found.push(String::from_utf8_lossy(&key).into_owned());
        }
    }
    found
}

/// Where traces are left, in the database and Redis, once the erasure has settled (its
/// events leave the outbox once the bus has them): polled for a few seconds, then answered.
async fn settled_traces(app: &TestApp, traces: &Traces, allowed: &[&str]) -> Vec<String> {
    // The change's event waits in the outbox for the server's relay, and reaches the boards
    // within seconds even on a loaded machine.
    let mut left = Vec::new();
    for _ in 0..100 {
        left = database_traces(app, traces).await;
        left.extend(redis_traces(app, traces).await);
        left.retain(|place| !allowed.contains(&place.as_str()));
        if left.is_empty() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    left
}

async fn delete(app: &TestApp, path: &str, token: Option<&str>) -> reqwest::Response {
    let mut request = app.client.delete(app.url(path));
    if let Some(t) = token {
        request = request.bearer_auth(t);
    }
    request.send().await.unwrap()
}

async fn export(app: &TestApp, name: &str, token: Option<&str>) -> reqwest::Response {
    let mut request = app
        .client
        .get(app.url(&format!("/api/players/{name}/export")));
    if let Some(t) = token {
        request = request.bearer_auth(t);
    }
    request.send().await.unwrap()
}

/// The names on every board of every game.
async fn names_on_boards(app: &TestApp) -> Vec<String> {
    places_on_boards(app)
        .await
        .into_iter()
        .map(|(_, name)| name)
        .collect()
}

/// Every entry of the current boards of every game: the board (`game/period`) and the name.
async fn places_on_boards(app: &TestApp) -> Vec<(String, String)> {
    let mut places = Vec::new();
    for game in GAMES {
        for period in ["all", "day", "week"] {
            let page: Value = app
                .get(&format!(
                    "/api/games/{game}/leaderboard?period={period}&limit=100"
                ))
                .await
                .json()
                .await
                .unwrap();
            for e in page["entries"].as_array().unwrap() {
                let name = e["player"].as_str().unwrap().to_owned();
                places.push((format!("{game}/{period}"), name));
            }
        }
    }
    places
}

/// A player who played both games, reported and was moderated, with a game in progress:
/// their token and every session of theirs.
async fn a_player_with_a_history(
    app: &TestApp,
    name: &str,
    operator: &str,
) -> (String, Vec<String>) {
    let mut sessions = Vec::new();
    let mut token: Option<String> = None;
    for (game, skill) in [("egg-catcher", 85), ("2048", 60), ("egg-catcher", 70)] {
        let (status, finished, _, claimed) =
            app.play_game(game, name, token.as_deref(), skill).await;
        assert_eq!(status, StatusCode::OK, "{finished}");
        token = token.or(claimed);
        sessions.push(finished["session_id"].as_str().unwrap().to_owned());
    }
    let token = token.unwrap();
    let (playing, _, _) = app.start_ok("2048", name, Some(&token)).await;
    sessions.push(playing);
    for body in [
        json!({"player": name, "session_id": sessions[0], "reason": "too good"}),
        json!({"player": name.to_lowercase(), "reason": "rude name"}),
    ] {
        assert_eq!(
            app.post_json("/api/reports", &body).await.status(),
            StatusCode::ACCEPTED
        );
    }
    for (path, body) in [
        (
            format!("/api/admin/players/{name}/hide"),
            json!({"reason": "rude name"}),
        ),
        (format!("/api/admin/players/{name}/unhide"), json!({})),
        (
            format!("/api/admin/players/{name}/ban"),
            json!({"reason": "abuse"}),
        ),
        (format!("/api/admin/players/{name}/unban"), json!({})),
        (
            format!("/api/admin/scores/{}/remove", sessions[2]),
            json!({"reason": "bot"}),
        ),
    ] {
        assert_eq!(
            admin_post(app, &path, operator, body).await,
            StatusCode::NO_CONTENT,
            "{path}"
        );
    }
    let queue: Value = admin_get(app, "/api/admin/review?limit=100", operator)
        .await
        .json()
        .await
        .unwrap();
    let item = queue["items"][0]["item"].as_str().unwrap().to_owned();
    let resolve = format!("/api/admin/review/{item}/resolve");
    assert_eq!(
        admin_post(app, &resolve, operator, json!({"resolution": "dismiss"})).await,
        StatusCode::NO_CONTENT
    );
    (token, sessions)
}

async fn erased_player_leaves_nothing(app: TestApp) {
    let operator = operator_token(&app, "ann");
    let (status, _, _, _) = app.play_game("egg-catcher", "Bystander", None, 80).await;
    assert_eq!(status, StatusCode::OK);
    let (token, sessions) = a_player_with_a_history(&app, "Quillon", &operator).await;

    let r = export(&app, "quillon", Some(&token)).await;
    assert_eq!(r.status(), StatusCode::OK);
    assert_eq!(r.headers()["cache-control"], "no-store");
    assert!(
        r.headers()["content-disposition"]
            .to_str()
            .unwrap()
            .starts_with("attachment")
    );
    let data: Value = r.json().await.unwrap();
    assert_eq!(data["player"]["name"], "Quillon");
    assert!(data["player"]["hidden_at"].is_null() && data["player"]["banned_at"].is_null());
    let scores = data["scores"].as_array().unwrap();
    assert_eq!(scores.len(), 2, "the removed score is gone: {data}");
    assert!(
        scores
            .iter()
            .all(|s| !s["inputs"].as_array().unwrap().is_empty())
    );
    assert_eq!(data["reports_about_player"].as_array().unwrap().len(), 2);
    assert_eq!(data["reports_made"]["linked"], false);
    for (who, wrong) in [
        ("Quillon", None),
        ("Quillon", Some("not the token")),
        ("Bystander", Some(token.as_str())),
    ] {
        let r = export(&app, who, wrong).await;
        assert_eq!(r.status(), StatusCode::UNAUTHORIZED, "{who} {wrong:?}");
        assert_eq!(r.headers()["cache-control"], "no-store");
        let p: Value = r.json().await.unwrap();
        assert_eq!(p["type"], "player_token_invalid");
    }
    assert_eq!(
        export(&app, "Nobody", Some(&token)).await.status(),
        StatusCode::NOT_FOUND
    );
    let admin_export = admin_get(&app, "/api/admin/players/Quillon/export", &operator).await;
    assert_eq!(admin_export.status(), StatusCode::OK);
    let admin_data: Value = admin_export.json().await.unwrap();
    assert_eq!(
        admin_data["scores"], data["scores"],
        "operators see the same"
    );

    let traces = Traces::of("Quillon", &sessions, Some(&token));
    let before = database_traces(&app, &traces).await;
    assert!(before.contains(&"players.name".to_owned()), "{before:?}");
    assert!(
        before.contains(&"scores.session_id".to_owned()),
        "{before:?}"
    );
    assert!(
        before.contains(&"audit_log.target".to_owned()),
        "{before:?}"
    );
    if app.env.redis.is_some() {
        assert!(
            !redis_traces(&app, &traces).await.is_empty(),
            "boards and sessions"
        );
    }
    let wrong = delete(&app, "/api/players/Quillon", Some("not the token")).await;
    assert_eq!(wrong.status(), StatusCode::UNAUTHORIZED);

    let r = delete(&app, "/api/players/Quillon", Some(&token)).await;
    assert_eq!(r.status(), StatusCode::OK);
    assert_eq!(r.headers()["cache-control"], "no-store");
    let erased: Value = r.json().await.unwrap();
    assert_eq!(erased["scores_erased"], 2);
    assert_eq!(erased["reports_erased"], 2);
    assert_eq!(erased["name_blocked"], false);
    let reference = erased["reference"].as_str().unwrap().to_owned();

    let left = settled_traces(&app, &traces, &[]).await;
    assert!(
        left.is_empty(),
        "traces of the erased player left in {left:?}"
    );
    let bystander = Traces::of("Bystander", &[], None);
    let theirs = database_traces(&app, &bystander).await;
    assert!(
        theirs.contains(&"players.name".to_owned()),
        "the search finds what is there: {theirs:?}"
    );
    if app.env.redis.is_some() {
        assert!(
            !redis_traces(&app, &bystander).await.is_empty(),
            "the bystander's places stay"
        );
    }

    let names = names_on_boards(&app).await;
    assert!(names.iter().any(|n| n == "Bystander"), "{names:?}");
    assert!(
        !names.iter().any(|n| n.eq_ignore_ascii_case("quillon")),
        "{names:?}"
    );
    for game in GAMES {
        for path in [
            format!("/api/games/{game}/players/Quillon"),
            format!("/api/games/{game}/players/Quillon/scores"),
        ] {
            assert_eq!(
                app.get(&path).await.status(),
                StatusCode::NOT_FOUND,
                "{path}"
            );
        }
    }
    assert_eq!(
        export(&app, "Quillon", Some(&token)).await.status(),
        StatusCode::NOT_FOUND
    );
    assert_eq!(
        delete(&app, "/api/players/Quillon", Some(&token))
            .await
            .status(),
        StatusCode::NOT_FOUND
    );
    let log = admin_get(&app, "/api/admin/audit?limit=100", &operator)
        .await
        .text()
        .await
        .unwrap();
    assert!(!log.to_lowercase().contains("quillon"), "{log}");
    let log: Value = serde_json::from_str(&log).unwrap();
    assert_eq!(log["entries"][0]["action"], "player_erased");
    assert_eq!(log["entries"][0]["actor"], "player");
    assert_eq!(log["entries"][0]["target"], reference.as_str());
    assert_eq!(
        log["entries"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|e| e["target"] == reference.as_str())
            .count(),
        7,
        "five actions, a resolved report and the erasure itself, kept without the name"
    );
    let (_, _, claimed) = app.start_ok("egg-catcher", "Quillon", None).await;
    assert!(claimed.is_some(), "the name is free again");
}

#[tokio::test]
async fn nothing_of_an_erased_player_is_left_in_sqlite_or_the_api() {
    // The services the environment names are left out: SQLite, memory, the bus in process.
    let env = TestEnv::without_services();
    let mut args = env.serve_args(&[]).await;
    args.storage.database_url = None;
    args.redis.redis_url = None;
    args.nats.nats_url = None;
    erased_player_leaves_nothing(spawn_app_with_args(env, args).await).await;
}

#[tokio::test]
async fn nothing_of_an_erased_player_is_left_in_postgres_redis_or_the_api() {
    use arcade_testkit::backends::{self, Service};
    if backends::urls([Service::Postgres, Service::Redis]).is_none() {
        return;
    }
    erased_player_leaves_nothing(spawn_app_in(TestEnv::new().await, &[]).await).await;
}

#[tokio::test]
async fn an_operator_deletes_a_player_from_the_command_line_and_may_block_the_name() {
    let app = arcade_testkit::spawn_app().await;
    let (status, finished, _, _) = app.play_game("egg-catcher", "Blockme", None, 80).await;
    assert_eq!(status, StatusCode::OK);
    let session = finished["session_id"].as_str().unwrap().to_owned();
    let out = admin_cli(&app, &["player", "export", "Blockme"]);
    let data: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(data["scores"][0]["session_id"], session.as_str());
    let out = admin_cli(
        &app,
        &[
            "players",
            "delete",
            "blockme",
            "--block-name",
            "--reason",
            "asked by mail",
        ],
    );
    let erased: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(erased["name_blocked"], true);
    // The change's event waits in the outbox for the server's relay, and reaches the boards
    // within seconds even on a loaded machine.
    let mut left = Vec::new();
    for _ in 0..100 {
        left = places_on_boards(&app).await;
        left.retain(|(_, name)| name == "Blockme");
        if left.is_empty() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    assert!(
        left.is_empty(),
        "the server follows the command line's erasure; still on {left:?}"
    );
    let r = app
        .post_json(
            "/api/games/egg-catcher/sessions",
            &json!({"player": "Blockme"}),
        )
        .await;
    assert_eq!(r.status(), StatusCode::CONFLICT);
    let traces = Traces::of("Blockme", &[session], None);
    let left = settled_traces(&app, &traces, &["blocked_names.key"]).await;
    assert!(left.is_empty(), "only the blocked name stays: {left:?}");
    let log = String::from_utf8(admin_cli(&app, &["audit"]).stdout).unwrap();
    let last: Value = serde_json::from_str(log.lines().next().unwrap()).unwrap();
    assert_eq!(last["action"], "player_erased");
    assert_eq!(last["actor"], "cli:tester");
    assert_eq!(last["reason"], "asked by mail");
}

#[tokio::test]
async fn the_players_endpoints_are_described_with_their_token_scheme() {
    let app = arcade_testkit::spawn_app().await;
    let doc: Value = app.get("/openapi.json").await.json().await.unwrap();
    assert_eq!(
        doc["components"]["securitySchemes"]["player_token"]["scheme"],
        "bearer"
    );
    let export = &doc["paths"]["/api/players/{name}/export"]["get"];
    assert_eq!(export["security"], json!([{"player_token": []}]));
    assert_eq!(export["tags"], json!(["players"]));
    let erase = &doc["paths"]["/api/players/{name}"]["delete"];
    assert_eq!(erase["security"], json!([{"player_token": []}]));
    for status in ["200", "401", "404", "422"] {
        assert!(erase["responses"][status].is_object(), "{status}");
    }
    let admin = &doc["paths"]["/api/admin/players/{name}"]["delete"];
    assert_eq!(admin["security"], json!([{"operator_token": []}]));
    assert_eq!(admin["tags"], json!(["admin"]));
}

/// Two replicas on shared PostgreSQL and Redis (and NATS when configured): a player erased
/// through one is gone from the boards and the API of the other, whose live pages reload.
#[tokio::test]
async fn a_player_erased_through_one_replica_is_gone_from_the_other() {
    use arcade_testkit::backends::{self, Service};
    use arcade_testkit::sse::SseClient;
    if backends::urls([Service::Postgres, Service::Redis]).is_none() {
        return;
    }
    let env = TestEnv::new().await;
    let a = spawn_app_in(env.clone(), &[]).await;
    let b = spawn_app_in(env.clone(), &[]).await;
    let (status, _, _, token) = a.play_game("egg-catcher", "Twice", None, 85).await;
    assert_eq!(status, StatusCode::OK);
    let token = token.unwrap();
    let mut on_b = false;
    for _ in 0..50 {
        on_b = names_on_boards(&b).await.iter().any(|n| n == "Twice");
        if on_b {
            break;
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    assert!(on_b, "the other replica shows the player first");
    let mut live_b = SseClient::connect(&b.url("/api/events?game=egg-catcher"), None).await;
    let r = delete(&a, "/api/players/Twice", Some(&token)).await;
    assert_eq!(r.status(), StatusCode::OK);
    let mut gone = false;
    for _ in 0..50 {
        gone = !names_on_boards(&b).await.iter().any(|n| n == "Twice");
        if gone {
            break;
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    assert!(gone, "the other replica's boards follow");
    assert_eq!(
        export(&b, "Twice", Some(&token)).await.status(),
        StatusCode::NOT_FOUND
    );
    if backends::configured(Service::Nats).is_some() {
        let reset = live_b.next_named("reset", Duration::from_secs(10)).await;
        assert!(reset.is_some(), "the other replica's live pages reload");
    }
}
