//! Live leaderboards over server-sent events.

use std::time::Duration;

use arcade_testkit::backends::{self, Service};
use arcade_testkit::sse::SseClient;
use arcade_testkit::{StatusCode, TestEnv, spawn_app, spawn_app_in, spawn_app_with_args};

const WAIT: Duration = Duration::from_secs(10);

#[tokio::test]
async fn an_open_page_sees_a_finished_score_and_can_resume_after_a_reconnect() {
    let app = spawn_app().await;
    // With NATS configured, events reach pages once the bus is connected.
    app.wait_ready().await;
    let mut page = SseClient::connect(&app.url("/api/events?game=egg-catcher"), None).await;
    let (status, body, _, _) = app.play_game("egg-catcher", "Rita", None, 70).await;
    assert_eq!(status, StatusCode::OK);
    let score = page
        .next_about("score", "Rita", WAIT)
        .await
        .expect("a score event");
    assert_eq!(score.json()["score"], body["score"]);
    assert_eq!(score.json()["rank"], 1);
    let top = page
        .next_about("top", "Rita", WAIT)
        .await
        .expect("a top-10 event");
    let mut last_seen = top.id.clone().expect("events carry ids");
    // Read the rest of this game's events (one top-10 event per board) before leaving.
    while let Some(m) = page.next(Duration::from_millis(300)).await {
        last_seen = m.id.expect("events carry ids");
    }
    drop(page);

    // While the page is away, another game ends; the reconnect gets it.
    let (status, _, _, _) = app.play_game("egg-catcher", "Sam", None, 40).await;
    assert_eq!(status, StatusCode::OK);
    let mut again =
        SseClient::connect(&app.url("/api/events?game=egg-catcher"), Some(&last_seen)).await;
    let mut players = Vec::new();
    while let Some(m) = again.next(Duration::from_millis(500)).await {
        players.push((
            m.event.clone(),
            m.json()["player"].as_str().unwrap_or("").to_owned(),
        ));
    }
    assert!(
        players.contains(&("score".to_owned(), "Sam".to_owned())),
        "{players:?}"
    );
    assert!(
        !players.iter().any(|(_, p)| p == "Rita"),
        "nothing before the last seen: {players:?}"
    );

    // An id the server no longer knows asks the page to reload.
    let mut lost = SseClient::connect(
        &app.url("/api/events"),
        Some("00000000-0000-0000-0000-000000000000"),
    )
    .await;
    assert_eq!(lost.next(WAIT).await.unwrap().event, "reset");
}

#[tokio::test]
async fn other_games_are_filtered_out_and_unknown_games_refused() {
    let app = spawn_app().await;
    let r = app.get("/api/events?game=pong").await;
    assert_eq!(r.status(), StatusCode::NOT_FOUND);
    let r = app.get("/api/events?colour=red").await;
    assert_eq!(r.status(), StatusCode::BAD_REQUEST);
}

#[tokio::test]
async fn a_player_hears_when_someone_overtakes_them() {
    // Without NATS: another test's score on the shared subjects could overtake first.
    let env = TestEnv::new().await;
    let mut args = env.serve_args(&[]).await;
    args.nats.nats_url = None;
    let app = spawn_app_with_args(env, args).await;
    app.wait_ready().await;
    // A score of nothing takes no place to be overtaken from.
    let (_, low, _, _) = app.play_scoring_game("egg-catcher", "Tess", None, 45).await;
    assert!(low["ranks"]["all"] == 1, "Tess leads the board: {low}");
    let mut page =
        SseClient::connect(&app.url("/api/events?game=egg-catcher&player=Tess"), None).await;
    let (_, high, _, _) = app.play_game("egg-catcher", "Uma", None, 95).await;
    assert!(high["score"].as_u64() > low["score"].as_u64());
    let o = page
        .next_named("overtaken", WAIT)
        .await
        .expect("an overtaken event");
    assert_eq!(o.json()["by"], "Uma");
    assert_eq!(o.json()["rank"], 2);
}

#[tokio::test]
async fn a_page_on_one_replica_sees_a_score_finished_on_another() {
    if backends::urls([Service::Postgres, Service::Redis, Service::Nats]).is_none() {
        return;
    }
    let env = TestEnv::new().await;
    let a = spawn_app_in(env.clone(), &[]).await;
    let b = spawn_app_in(env, &[]).await;
    a.wait_ready().await;
    b.wait_ready().await;
    let name = format!("Vic {}", &uuid::Uuid::new_v4().simple().to_string()[..6]);
    let mut page = SseClient::connect(&a.url("/api/events?game=egg-catcher"), None).await;
    let (status, body, _, _) = b.play_game("egg-catcher", &name, None, 50).await;
    assert_eq!(status, StatusCode::OK);
    let deadline = tokio::time::Instant::now() + WAIT;
    loop {
        let left = deadline.saturating_duration_since(tokio::time::Instant::now());
        let m = page
            .next(left)
            .await
            .expect("the score reaches the other replica");
        if m.event == "score" && m.json()["player"] == name.as_str() {
            assert_eq!(m.json()["score"], body["score"]);
            break;
        }
    }
}
