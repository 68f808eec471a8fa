//! The load generator against the real server: every request it sends is one a player's
//! browser sends, and it counts as an error any answer a player would not get (a refused
//! heartbeat, a verified score that differs from the bot's). A change on either side that
//! breaks the instrument fails here, not in the middle of a benchmark run.

use std::sync::Arc;
use std::time::{Duration, Instant};

use arcade_loadgen::client::Client;
use arcade_loadgen::players::{self, BurstPlan, Finished, GameLength, GameMix, PlayerPlan};
use arcade_loadgen::reads::{self, Ranks, Read};
use arcade_loadgen::sse;
use arcade_loadgen::stats::{EndpointSummary, Recorder};
use arcade_loadgen::target::Target;
use arcade_testkit::{TestApp, spawn_app_with};

const TIMEOUT: Duration = Duration::from_secs(10);

/// A test server whose clock follows the wall clock, as a real server's does: the server
/// refuses ticks ahead of its clock, and the load generator plays in real time.
async fn server() -> (TestApp, tokio::task::JoinHandle<()>) {
    let app = spawn_app_with(&["--starts-per-minute", "100000"]).await;
    let clock = app.clock.clone();
    let follow = tokio::spawn(async move {
        let mut last = Instant::now();
        loop {
            tokio::time::sleep(Duration::from_millis(10)).await;
            let now = Instant::now();
            clock.advance(now - last);
            last = now;
        }
    });
    (app, follow)
}

fn target(app: &TestApp) -> Target {
    Target::parse(&app.base).expect("the test server is on loopback")
}

fn errors(rows: &[EndpointSummary]) -> Vec<(&str, &std::collections::BTreeMap<String, u64>)> {
    rows.iter()
        .filter(|r| r.errors > 0)
        .map(|r| (r.endpoint.as_str(), &r.error_kinds))
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_finish_burst_finishes_every_game_it_played() {
    let (app, follow) = server().await;
    let plan = BurstPlan {
        name_prefix: "burst".to_owned(),
        sessions: 24,
        game_ticks: 2 * 60,
        skill_min: 30,
        skill_max: 90,
        games: "all".parse().expect("every game"),
        concurrency: 6,
    };
    let result = players::finish_burst(Client::new(target(&app), TIMEOUT), plan).await;
    follow.abort();

    let starts = result.starts.summary(result.finish_window);
    assert_eq!(errors(&starts), [], "starts and heartbeats: {starts:?}");
    let finishes = result.finishes.summary(result.finish_window);
    assert_eq!(errors(&finishes), [], "finishes: {finishes:?}");
    let finished: u64 = finishes.iter().map(|f| f.requests).sum();
    assert_eq!(finished, 24, "every game started is finished: {finishes:?}");
    assert!(result.game_minutes > 0.0);

    // The server stored what the burst reports: each game a score in its history.
    let metrics = app.get("/metrics").await.text().await.expect("metrics");
    let submitted: f64 = metrics
        .lines()
        .filter(|l| l.starts_with("arcade_scores_submitted_total"))
        .filter_map(|l| l.rsplit(' ').next()?.parse::<f64>().ok())
        .sum();
    assert_eq!(submitted, 24.0, "{metrics}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn players_reads_and_live_connections_run_without_errors() {
    let (app, follow) = server().await;
    let target = target(&app);
    let t0 = Instant::now();
    let deadline = t0 + Duration::from_secs(5);
    let games: GameMix = "all".parse().expect("every game");
    let players = 6;
    let plan = Arc::new(PlayerPlan {
        name_prefix: "crowd".to_owned(),
        heartbeat: Duration::from_millis(500),
        game_length: GameLength {
            min_seconds: 1,
            max_seconds: 2,
        },
        skill_min: 30,
        skill_max: 90,
        games,
        deadline,
        measure_from: t0,
        finished: Finished::new(players),
    });
    let client = Client::new(target.clone(), TIMEOUT);
    let mut tasks: Vec<tokio::task::JoinHandle<Recorder>> = (0..players)
        .map(|i| {
            let delay = plan.heartbeat.mul_f64(i as f64 / players as f64);
            tokio::spawn(players::play(client.clone(), plan.clone(), i, delay))
        })
        .collect();
    let game = games.first().id();
    let path = |label, path: String| Read::Path { label, path };
    for read in [
        path(
            "leaderboard",
            format!("/api/games/{game}/leaderboard?limit=10"),
        ),
        Read::Rank(Ranks::Players { plan: plan.clone() }),
        path("home", "/".to_owned()),
        path("game_page", format!("/play/{game}")),
    ] {
        tasks.extend(reads::spawn(&target, TIMEOUT, read, 20.0, deadline, t0));
    }
    let mut live = Recorder::new(t0);
    let stream = sse::open(
        &target,
        &format!("/api/events?game={game}"),
        deadline,
        &mut live,
    )
    .await
    .expect("a live connection opens");

    let mut all = live;
    for t in tasks {
        all.merge(t.await.expect("a load task"));
    }
    stream.await.expect("the live connection's task");
    follow.abort();

    let rows = all.summary(deadline - t0);
    assert_eq!(errors(&rows), [], "{rows:?}");
    for endpoint in [
        "start",
        "heartbeat",
        "finish",
        "leaderboard",
        "rank",
        "home",
        "game_page",
        "sse_open",
    ] {
        let row = rows.iter().find(|r| r.endpoint == endpoint);
        assert!(
            row.is_some_and(|r| r.requests > 0),
            "no {endpoint} request was answered: {rows:?}"
        );
    }
}
