//! Several stateless replicas on shared PostgreSQL and Redis: a game started on one continues
//! and finishes on another; both serve the same boards; a lost rank cache is rebuilt.

use std::time::Duration;

use arcade_testkit::backends::{self, Service};
use arcade_testkit::{BotGame, StatusCode, TestEnv, inputs_json, spawn_app_in};
use serde_json::{Value, json};

/// Whether PostgreSQL and Redis, which replicas share, are configured; `false` means the test
/// is skipped (see [`backends::url`]).
fn shared_backends() -> bool {
    backends::urls([Service::Postgres, Service::Redis]).is_some()
}

#[tokio::test]
async fn replicas_share_one_allowance_of_starts_per_client() {
    if !shared_backends() {
        return;
    }
    let env = TestEnv::new().await;
    let a = spawn_app_in(env.clone(), &["--starts-per-minute", "3"]).await;
    let b = spawn_app_in(env.clone(), &["--starts-per-minute", "3"]).await;
    for (i, replica) in [&a, &b, &a].into_iter().enumerate() {
        let (status, body) = replica.start("egg-catcher", &format!("Oda{i}"), None).await;
        assert_eq!(status, StatusCode::CREATED, "{body}");
    }
    for replica in [&b, &a] {
        let (status, body) = replica.start("egg-catcher", "Oda9", None).await;
        assert_eq!(status, StatusCode::TOO_MANY_REQUESTS, "{body}");
        assert_eq!(body["type"], "rate_limited");
    }
}

#[tokio::test]
async fn a_session_started_on_one_replica_finishes_on_another() {
    if !shared_backends() {
        return;
    }
    let env = TestEnv::new().await;
    let a = spawn_app_in(env.clone(), &[]).await;
    let b = spawn_app_in(env.clone(), &[]).await;
    let (id, seed, _) = a.start_ok("egg-catcher", "Pia", None).await;
    // The game's windows come from one replica, then the other, in turn: both derive the
    // same seeds from the shared secret.
    let mut bot = arcade_testkit::bot("egg-catcher", seed, 85);
    let (mut sent, mut clock) = (0, 0);
    for turn in 0.. {
        bot.play_until(36_000);
        for app in [&a, &b] {
            app.advance_ticks(bot.tick() - clock);
        }
        clock = bot.tick();
        if bot.game_over() {
            break;
        }
        let replica = if turn % 2 == 0 { &b } else { &a };
        let body =
            json!({"offset": sent, "inputs": inputs_json(&bot.inputs()[sent..]), "tick": clock});
        let r = replica.heartbeat(&id, &body).await;
        assert_eq!(r.status(), StatusCode::OK);
        let ack: Value = r.json().await.unwrap();
        sent = ack["accepted_inputs"].as_u64().unwrap() as usize;
        assert_eq!(ack["window"]["index"], bot.revealed());
        bot.reveal(ack["window"]["seed"].as_u64().unwrap() as u32);
    }
    assert!(bot.revealed() >= 3, "a game over several windows");
    let outcome = bot.outcome();
    let body = json!({
        "offset": sent,
        "inputs": inputs_json(&bot.inputs()[sent..]),
        "tick": outcome.ticks,
        "score": outcome.score,
    });
    let game = BotGame {
        inputs: bot.inputs().to_vec(),
        outcome,
    };
    let on_a: Value = a.finish(&id, &body).await.json().await.unwrap();
    let on_b: Value = b.finish(&id, &body).await.json().await.unwrap();
    assert_eq!(on_a["score"], game.outcome.score);
    assert_eq!(
        on_a, on_b,
        "a repeated finish on the other replica gives the same answer"
    );
    let board_a: Value = a
        .get("/api/games/egg-catcher/leaderboard")
        .await
        .json()
        .await
        .unwrap();
    let board_b: Value = b
        .get("/api/games/egg-catcher/leaderboard")
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(board_a["entries"], board_b["entries"]);
    assert_eq!(board_a["entries"][0]["player"], "Pia");
}

#[tokio::test]
async fn a_flushed_rank_cache_is_rebuilt_and_boards_stay_correct_meanwhile() {
    if !shared_backends() {
        return;
    }
    let env = TestEnv::new().await;
    let app = spawn_app_in(env.clone(), &[]).await;
    for (i, skill) in [90u8, 20, 60, 40, 75].into_iter().enumerate() {
        let (s, body, _, _) = app
            .play_game("egg-catcher", &format!("Quinn {i}"), None, skill)
            .await;
        assert_eq!(s, StatusCode::OK, "{body}");
    }
    let before: Value = app
        .get("/api/games/egg-catcher/leaderboard?limit=100")
        .await
        .json()
        .await
        .unwrap();
    let prefix = env.redis.as_ref().unwrap();
    let redis = arcade_sessions::RedisBackend::connect(&prefix.url, &prefix.prefix)
        .await
        .unwrap();
    // Everything under this deployment's prefix goes, as if Redis restarted empty.
    assert!(redis.clear().await.unwrap() > 0);
    // Another page size than before, so the answer is not the page cached a moment ago.
    let during: Value = app
        .get("/api/games/egg-catcher/leaderboard?limit=99")
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(
        during["entries"], before["entries"],
        "answered from PostgreSQL"
    );
    let board = arcade_domain::time::BoardKey::current(
        "egg-catcher",
        arcade_domain::time::Period::All,
        app.clock_now(),
    );
    let ranks = redis.ranks();
    let mut rebuilt = false;
    for _ in 0..100 {
        if arcade_domain::ports::RankIndex::is_loaded(&ranks, &board)
            .await
            .unwrap()
        {
            rebuilt = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert!(rebuilt, "the board is rebuilt in the background");
    let after: Value = app
        .get("/api/games/egg-catcher/leaderboard?limit=100")
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(after["entries"], before["entries"]);
    for e in after["entries"].as_array().unwrap() {
        let name = e["player"].as_str().unwrap();
        let me: Value = app
            .get(&format!("/api/games/egg-catcher/players/{name}"))
            .await
            .json()
            .await
            .unwrap();
        assert_eq!(me["best"]["rank"], e["rank"]);
    }
}
