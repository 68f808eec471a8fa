//! `arcade backup`: an online copy of the embedded SQLite database, taken from a separate
//! process while the server runs, restored by putting it in place as `arcade.db`.

use std::process::Command;

use arcade_testkit::{StatusCode, TestEnv, spawn_app_with_args, test_args};

/// Embedded-mode server arguments on `dir`, whatever the environment names.
fn embedded(dir: &std::path::Path) -> arcade::config::ServeArgs {
    let mut args = test_args(dir, &[]);
    args.storage.database_url = None;
    args.storage.database_read_url = None;
    args.redis.redis_url = None;
    args.nats.nats_url = None;
    args
}

/// `arcade backup` with only the given flags: no service URL from the test's environment.
fn backup(flags: &[&str]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_arcade"))
        .arg("backup")
        .args(flags)
        .env_clear()
        .env("PATH", "/usr/bin:/bin")
        .env("ARCADE_LOG", "warn")
        .output()
        .unwrap()
}

fn unique_player(prefix: &str) -> String {
    format!(
        "{prefix}{}",
        &uuid::Uuid::new_v4().simple().to_string()[..8]
    )
}

async fn leaderboard(app: &arcade_testkit::TestApp) -> String {
    let r = app
        .get("/api/games/egg-catcher/leaderboard?limit=100")
        .await;
    assert_eq!(r.status(), StatusCode::OK);
    r.text().await.unwrap()
}

#[tokio::test]
async fn a_backup_taken_while_serving_restores_the_scores_it_saw() {
    let env = TestEnv::new().await;
    let data = env.data_dir.path().to_owned();
    let app = spawn_app_with_args(env.clone(), embedded(&data)).await;
    let before = unique_player("Bea");
    let (status, body, _, _) = app.play_game("egg-catcher", &before, None, 80).await;
    assert_eq!(status, StatusCode::OK, "{body}");

    let out = tempfile::tempdir().unwrap();
    let copy = out.path().join("arcade-copy.db");
    let copy_flag = copy.to_str().unwrap();
    let data_flag = data.to_str().unwrap();
    let taken = backup(&["--data-dir", data_flag, "--to", copy_flag]);
    assert!(taken.status.success(), "{taken:?}");
    assert_eq!(
        String::from_utf8_lossy(&taken.stdout).trim(),
        copy_flag,
        "the command prints the file it wrote"
    );
    // A copy is never overwritten.
    let again = backup(&["--data-dir", data_flag, "--to", copy_flag]);
    assert!(!again.status.success());
    assert!(
        String::from_utf8_lossy(&again.stderr).contains("exists already"),
        "{again:?}"
    );
    // Into a directory: a time-stamped file there.
    let dated = backup(&[
        "--data-dir",
        data_flag,
        "--to",
        out.path().to_str().unwrap(),
    ]);
    assert!(dated.status.success(), "{dated:?}");
    let dated = String::from_utf8_lossy(&dated.stdout).trim().to_owned();
    assert!(
        dated.contains("/arcade-") && dated.ends_with("Z.db"),
        "{dated}"
    );

    // The server goes on; a game after the copy is not in it.
    let after = unique_player("Cid");
    let (status, body, _, _) = app.play_game("egg-catcher", &after, None, 80).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert!(leaderboard(&app).await.contains(&after));
    app.stop().await.unwrap();

    // Restore: the copy in place as arcade.db of a fresh data directory.
    let restored = TestEnv::new().await;
    let restored_dir = restored.data_dir.path().to_owned();
    std::fs::copy(&copy, restored_dir.join("arcade.db")).unwrap();
    let app = spawn_app_with_args(restored, embedded(&restored_dir)).await;
    let board = leaderboard(&app).await;
    assert!(board.contains(&before), "{board}");
    assert!(!board.contains(&after), "{board}");
    app.stop().await.unwrap();
}

#[test]
fn backup_refuses_postgresql_and_a_missing_database() {
    let dir = tempfile::tempdir().unwrap();
    let to = dir.path().join("x.db");
    let out = backup(&[
        "--database-url",
        "postgres://arcade:hunter2@db:5432/arcade",
        "--to",
        to.to_str().unwrap(),
    ]);
    let said = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success());
    assert!(
        said.contains("PostgreSQL") && !said.contains("hunter2"),
        "{said}"
    );
    let out = backup(&[
        "--data-dir",
        dir.path().join("none").to_str().unwrap(),
        "--to",
        to.to_str().unwrap(),
    ]);
    assert!(!out.status.success());
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("no database"),
        "{out:?}"
    );
    assert!(!to.exists());
}
