//! The retention, applied by the server in rounds: old replays go (the scores stay on the
//! boards), and old scores that are no best leave the histories. On SQLite, or on PostgreSQL
//! when `DATABASE_URL` names one.

use std::time::Duration;

use arcade_testkit::{StatusCode, TestApp, spawn_app_with};
use serde_json::Value;

const DAY: Duration = Duration::from_secs(86_400);

async fn json(app: &TestApp, path: &str, token: Option<&str>) -> Value {
    let mut request = app.client.get(app.url(path));
    if let Some(t) = token {
        request = request.bearer_auth(t);
    }
    let r = request.send().await.unwrap();
    assert_eq!(r.status(), StatusCode::OK, "{path}");
    r.json().await.unwrap()
}

/// The player's export once retention has left `scores_left` scores, none with its replay,
/// within a few seconds.
async fn export_after_retention(app: &TestApp, token: &str, scores_left: usize) -> Value {
    // Replays and old scores go in separate transactions of one round: wait for both.
    let mut export = Value::Null;
    for _ in 0..100 {
        export = json(app, "/api/players/Old/export", Some(token)).await;
        let scores = export["scores"].as_array().unwrap();
        if scores.len() == scores_left && scores.iter().all(|s| s["inputs"].is_null()) {
            return export;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("retention never left {scores_left} score(s) without replays: {export}");
}

#[tokio::test]
async fn old_replays_and_histories_go_while_the_best_stays_on_the_boards() {
    let app = spawn_app_with(&[
        "--replay-retention",
        "1d",
        "--history-retention",
        "2d",
        "--retention-interval",
        "200ms",
    ])
    .await;
    let (status, first, _, token) = app.play_game("egg-catcher", "Old", None, 90).await;
    assert_eq!(status, StatusCode::OK, "{first}");
    let token = token.expect("the name is claimed");
    let (status, second, _, _) = app.play_game("egg-catcher", "Old", Some(&token), 40).await;
    assert_eq!(status, StatusCode::OK, "{second}");
    // A tie keeps the earlier score as the best.
    let (best, beaten) = if second["score"].as_u64() > first["score"].as_u64() {
        (second, first)
    } else {
        (first, second)
    };
    assert!(best["score"].as_u64().unwrap() > 0, "{best}");
    let export = json(&app, "/api/players/Old/export", Some(&token)).await;
    assert!(
        export["scores"]
            .as_array()
            .unwrap()
            .iter()
            .all(|s| s["inputs"].is_array()),
        "recent replays are kept: {export}"
    );

    app.clock.advance(3 * DAY);
    let export = export_after_retention(&app, &token, 1).await;
    let kept: Vec<&Value> = export["scores"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| &s["session_id"])
        .collect();
    assert_eq!(
        kept,
        [&best["session_id"]],
        "only the best is left: {export}"
    );
    let history = json(&app, "/api/games/egg-catcher/players/Old/scores", None).await;
    let sessions: Vec<&Value> = history["scores"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| &s["session_id"])
        .collect();
    assert!(!sessions.contains(&&beaten["session_id"]), "{history}");
    let board = json(&app, "/api/games/egg-catcher/leaderboard?period=all", None).await;
    assert_eq!(board["entries"][0]["player"], "Old", "{board}");
    assert_eq!(board["entries"][0]["score"], best["score"], "{board}");
    // A round counts what it removed once its transactions are done.
    let counted = [
        "arcade_retention_removed_total{kind=\"replay\"} 2",
        "arcade_retention_removed_total{kind=\"score\"} 1",
    ];
    let mut metrics = String::new();
    for _ in 0..50 {
        metrics = app.get("/metrics").await.text().await.unwrap();
        if counted.iter().all(|c| metrics.contains(c)) {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    for c in counted {
        assert!(metrics.contains(c), "{c}: {metrics}");
    }
}

#[tokio::test]
async fn a_history_retention_shorter_than_the_replays_is_refused_at_start() {
    let dir = tempfile::tempdir().unwrap();
    let args = arcade_testkit::test_args(
        dir.path(),
        &["--replay-retention", "90d", "--history-retention", "30d"],
    );
    let err = format!("{:#}", anyhow::Error::new(args.settings().unwrap_err()));
    assert!(err.contains("ARCADE_HISTORY_RETENTION"), "{err}");
    assert!(err.contains("shorter than the replay retention"), "{err}");
    let args = arcade_testkit::test_args(dir.path(), &["--replay-retention", "0s"]);
    let err = args.settings().unwrap_err().to_string();
    assert!(err.contains("ARCADE_REPLAY_RETENTION"), "{err}");
}
