//! Real fault tests: a TCP proxy between the server and the machine's PostgreSQL, Redis or
//! NATS takes the service away mid-game and brings it back. Each needs its service
//! (`DATABASE_URL`, `REDIS_URL`, `NATS_URL`): without it, it is skipped, or fails under
//! `ARCADE_REQUIRE_BACKENDS=1`.

use std::time::Duration;

use arcade_testkit::backends::{self, Service};
use arcade_testkit::fault::{FaultProxy, target_of};
use arcade_testkit::{StatusCode, TestApp, TestEnv, spawn_app_in};
use futures::StreamExt;
use serde_json::Value;

async fn ready_status(app: &TestApp) -> (StatusCode, Value) {
    let r = app.get("/health/ready").await;
    (r.status(), r.json().await.unwrap())
}

fn dependency<'a>(ready: &'a Value, name: &str) -> &'a Value {
    ready["dependencies"]
        .as_array()
        .unwrap()
        .iter()
        .find(|d| d["name"] == name)
        .unwrap_or_else(|| panic!("no {name} in {ready}"))
}

#[tokio::test]
async fn postgres_down_at_finish_is_a_503_and_nothing_is_lost_when_it_returns() {
    let Some(pg) = backends::url(Service::Postgres) else {
        return;
    };
    let env = TestEnv::new().await;
    let db_url = env.database.as_ref().unwrap().url.clone();
    let proxy = FaultProxy::start(target_of(&pg)).await;
    let proxied = proxy.rewrite_url(&db_url);
    let app = spawn_app_in(
        env,
        &[
            "--database-url",
            &proxied,
            "--database-connect-timeout",
            "1s",
        ],
    )
    .await;
    let (id, game, body) = app.played_session("egg-catcher", "Mona", 60).await;

    proxy.cut();
    let r = app.finish(&id, &body).await;
    assert_eq!(r.status(), StatusCode::SERVICE_UNAVAILABLE);
    assert!(r.headers().contains_key("retry-after"));
    let problem: Value = r.json().await.unwrap();
    assert_eq!(problem["type"], "unavailable");
    let (status, ready) = ready_status(&app).await;
    assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE);
    assert_eq!(dependency(&ready, "database")["status"], "down");

    proxy.restore();
    let mut done = None;
    for _ in 0..50 {
        let r = app.finish(&id, &body).await;
        if r.status() == StatusCode::OK {
            done = Some(r.json::<Value>().await.unwrap());
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let done = done.expect("the finish succeeds once PostgreSQL is back");
    assert_eq!(done["score"], game.outcome.score);
    let history: Value = app
        .get("/api/games/egg-catcher/players/Mona/scores")
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(
        history["scores"].as_array().unwrap().len(),
        1,
        "stored once"
    );
    app.wait_ready().await;
}

/// A server whose Redis is behind a fault proxy, with `flags` added; `None` when the test is
/// skipped, PostgreSQL and Redis not both configured (see [`backends::url`]).
async fn behind_a_redis_proxy(flags: &[&str]) -> Option<(FaultProxy, TestApp)> {
    let [_, redis] = backends::urls([Service::Postgres, Service::Redis])?;
    let env = TestEnv::new().await;
    let proxy = FaultProxy::start(target_of(&redis)).await;
    let proxied = proxy.rewrite_url(&redis);
    let mut args = vec!["--redis-url", proxied.as_str()];
    args.extend_from_slice(flags);
    let app = spawn_app_in(env, &args).await;
    Some((proxy, app))
}

#[tokio::test]
async fn redis_down_refuses_play_but_boards_answer_from_postgres() {
    let Some((proxy, app)) = behind_a_redis_proxy(&[]).await else {
        return;
    };
    let (status, body, game, token) = app.play_game("egg-catcher", "Nico", None, 80).await;
    assert_eq!(status, StatusCode::OK, "{body}");

    proxy.cut();
    let (status, problem) = app.start("egg-catcher", "Nico", token.as_deref()).await;
    assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE, "{problem}");
    let (status, _) = app.start("egg-catcher", "Newcomer", None).await;
    assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE);
    let (status, ready) = ready_status(&app).await;
    assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE);
    assert_eq!(dependency(&ready, "redis")["status"], "down");
    assert_eq!(dependency(&ready, "database")["status"], "up");
    let board = app.get("/api/games/egg-catcher/leaderboard").await;
    assert_eq!(board.status(), StatusCode::OK);
    let board: Value = board.json().await.unwrap();
    assert_eq!(board["entries"][0]["player"], "Nico");
    assert_eq!(board["entries"][0]["score"], game.outcome.score);
    let me = app.get("/api/games/egg-catcher/players/Nico").await;
    assert_eq!(me.status(), StatusCode::OK);

    proxy.restore();
    let mut started = false;
    for _ in 0..50 {
        if app.start("egg-catcher", "Newcomer", None).await.0 == StatusCode::CREATED {
            started = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(started, "play resumes once Redis is back");
    // The name was not claimed by the refused starts, so it was free to claim now.
}

#[tokio::test]
async fn a_change_the_rank_cache_missed_while_redis_was_away_reaches_it_when_back() {
    use crate::admin::{admin_post, operator_token};
    let Some((proxy, app)) = behind_a_redis_proxy(&[]).await else {
        return;
    };
    let (status, low, _, token) = app.play_scoring_game("egg-catcher", "Rex", None, 40).await;
    assert_eq!(status, StatusCode::OK, "{low}");
    let (status, high, _, _) = app
        .play_game("egg-catcher", "Rex", token.as_deref(), 90)
        .await;
    assert_eq!(status, StatusCode::OK, "{high}");
    assert!(high["score"].as_u64() > low["score"].as_u64());
    let operator = operator_token(&app, "ann");

    // The database takes the removal; the rank cache in Redis cannot hear of it.
    proxy.cut();
    let remove = format!(
        "/api/admin/scores/{}/remove",
        high["session_id"].as_str().unwrap()
    );
    let status = admin_post(
        &app,
        &remove,
        &operator,
        serde_json::json!({"reason": "bot"}),
    )
    .await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    proxy.restore();

    // Back, the cache's board is rebuilt from the database: the next best, not the removed one.
    let mut best = Value::Null;
    for _ in 0..100 {
        let standing: Value = app
            .get("/api/games/egg-catcher/players/Rex")
            .await
            .json()
            .await
            .unwrap_or_default();
        best = standing["best"]["score"].clone();
        if best == low["score"] {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(
        best, low["score"],
        "the cache still holds the removed score"
    );
}

#[tokio::test]
async fn a_board_read_that_hangs_on_redis_is_a_503_within_the_request_timeout() {
    let Some((proxy, app)) = behind_a_redis_proxy(&["--request-timeout", "300ms"]).await else {
        return;
    };
    // A loaded machine may take longer than the short timeout to play: a game is tried again
    // (under another name, as the timed-out one may hold its name) until one is in.
    let mut played = None;
    for name in ["Odin", "Odin2", "Odin3", "Odin4", "Odin5"] {
        let (status, body, _, _) = app.play_game("egg-catcher", name, None, 60).await;
        if status == StatusCode::OK {
            played = Some(body);
            break;
        }
    }
    assert!(
        played.is_some(),
        "no game could be played before Redis hangs"
    );

    // Redis stops answering (the connection stays open): the board read, not yet cached for
    // this period and limit, would wait for Redis's own 2 s response timeout.
    proxy.hold();
    let asked = std::time::Instant::now();
    let board = app.get("/api/games/egg-catcher/leaderboard?limit=7").await;
    let waited = asked.elapsed();
    assert_eq!(board.status(), StatusCode::SERVICE_UNAVAILABLE);
    assert!(board.headers().contains_key("retry-after"));
    let problem: Value = board.json().await.unwrap();
    assert_eq!(problem["type"], "timed_out");
    assert!(
        waited < Duration::from_millis(1500),
        "answered after {waited:?}"
    );

    proxy.release();
    let mut answered = false;
    for _ in 0..50 {
        if app
            .get("/api/games/egg-catcher/leaderboard?limit=7")
            .await
            .status()
            == StatusCode::OK
        {
            answered = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(answered, "boards answer again once Redis does");
}

#[tokio::test]
async fn a_heartbeat_that_hangs_on_redis_is_a_503_within_the_request_timeout() {
    let Some((proxy, app)) = behind_a_redis_proxy(&["--request-timeout", "300ms"]).await else {
        return;
    };
    let (id, _, _) = app.start_ok("egg-catcher", "Sigrid", None).await;
    proxy.hold();
    let asked = std::time::Instant::now();
    let r = app
        .heartbeat(
            &id,
            &serde_json::json!({"offset": 0, "inputs": [], "tick": 0}),
        )
        .await;
    let waited = asked.elapsed();
    assert_eq!(r.status(), StatusCode::SERVICE_UNAVAILABLE);
    let problem: Value = r.json().await.unwrap();
    assert_eq!(problem["type"], "timeout", "{problem}");
    assert!(
        waited < Duration::from_millis(1500),
        "answered after {waited:?}"
    );
    proxy.release();
}

#[tokio::test]
async fn nats_down_does_not_stop_play_and_events_flow_when_it_returns() {
    let Some(nats) = backends::url(Service::Nats) else {
        return;
    };
    let env = TestEnv::new().await;
    let proxy = FaultProxy::start(target_of(&nats)).await;
    let proxied = proxy.rewrite_url(&nats);
    let app = spawn_app_in(env, &["--nats-url", &proxied]).await;
    app.wait_ready().await;
    let listener = async_nats::connect(&nats).await.unwrap();
    let mut events = listener.subscribe("arcade.score.submitted").await.unwrap();
    listener.flush().await.unwrap();

    proxy.cut();
    let (id, game, body) = app.played_session("egg-catcher", "Opal", 60).await;
    let r = app.finish(&id, &body).await;
    assert_eq!(r.status(), StatusCode::OK, "play goes on without NATS");
    // Every replica shares NATS: they stay in the load balancer, reported degraded.
    let (status, ready) = ready_status(&app).await;
    assert_eq!(status, StatusCode::OK, "{ready}");
    assert_eq!(ready["status"], "degraded");
    assert_eq!(dependency(&ready, "nats")["status"], "down");
    assert_eq!(dependency(&ready, "nats")["required"], false);
    assert_eq!(dependency(&ready, "database")["required"], true);

    proxy.restore();
    let want = id.clone();
    let arrived = tokio::time::timeout(Duration::from_secs(20), async {
        while let Some(m) = events.next().await {
            let e: Value = serde_json::from_slice(&m.payload).unwrap();
            if e["session_id"] == want.as_str() {
                return e;
            }
        }
        panic!("the subscription ended");
    })
    .await
    .expect("the event is published once NATS is back");
    assert_eq!(arrived["score"], game.outcome.score);
    assert_eq!(arrived["player"], "Opal");
}
