//! Fault tests that stop servers of the test's own ([`arcade_testkit::servers`]) under load
//! and start them again: what clients get meanwhile, and what is stored afterwards. They need
//! no shared service, only the servers' binaries (without them they are skipped, or fail under
//! `ARCADE_REQUIRE_BACKENDS=1`).

use std::collections::BTreeMap;
use std::future::Future;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::time::Duration;

use arcade_store::{PgSettings, PostgresStore};
use arcade_testkit::servers::PrivatePostgres;
use arcade_testkit::{BotGame, Response, StatusCode, TestApp, TestEnv, spawn_app_with_args};
use serde_json::{Value, json};
use tokio::sync::Mutex;

/// Players playing at once.
const PLAYERS: usize = 12;
/// Longest a client following `Retry-After` waits here between tries: the header says
/// seconds, and the test would take minutes.
const RETRY_WAIT: Duration = Duration::from_millis(200);

/// Every answer the load got.
#[derive(Debug, Default)]
struct Answers {
    statuses: BTreeMap<u16, usize>,
    /// 503s that did not say when to retry.
    without_retry_after: usize,
    /// Finishes answered 200: the session and its score.
    acknowledged: Vec<(String, u64)>,
}

/// Send until the answer is not a 503 (waiting between tries as a client does), counting
/// every answer; the last answer's status and body.
async fn until_not_unavailable<F, Fut>(answers: &Mutex<Answers>, send: F) -> (StatusCode, Value)
where
    F: Fn() -> Fut,
    Fut: Future<Output = Response>,
{
    loop {
        let r = send().await;
        let status = r.status();
        let retry_after = r.headers().contains_key("retry-after");
        let body: Value = r.json().await.unwrap_or(Value::Null);
        {
            let mut a = answers.lock().await;
            *a.statuses.entry(status.as_u16()).or_default() += 1;
            if status == StatusCode::SERVICE_UNAVAILABLE && !retry_after {
                a.without_retry_after += 1;
            }
        }
        if status != StatusCode::SERVICE_UNAVAILABLE {
            return (status, body);
        }
        tokio::time::sleep(RETRY_WAIT).await;
    }
}

/// Play games as `player` until `done`, retrying every 503 until it is answered.
async fn keep_playing(
    app: Arc<TestApp>,
    answers: Arc<Mutex<Answers>>,
    finished: Arc<AtomicUsize>,
    done: Arc<AtomicBool>,
    player: String,
    token: String,
) {
    let start = json!({ "player": player, "token": token });
    while !done.load(Ordering::SeqCst) {
        let (status, started) = until_not_unavailable(&answers, || {
            app.post_json("/api/games/egg-catcher/sessions", &start)
        })
        .await;
        assert_eq!(status, StatusCode::CREATED, "start: {started}");
        let id = started["session_id"].as_str().unwrap().to_owned();
        let seed = u32::try_from(started["seed"].as_u64().unwrap()).unwrap();
        let game = BotGame::play("egg-catcher", seed, 30);
        app.advance_ticks(game.outcome.ticks);
        let body = json!({
            "offset": 0,
            "inputs": game.inputs_json(0, game.inputs.len()),
            "tick": game.outcome.ticks,
            "score": game.outcome.score,
        });
        let (status, receipt) = until_not_unavailable(&answers, || app.finish(&id, &body)).await;
        assert_eq!(status, StatusCode::OK, "finish: {receipt}");
        assert_eq!(receipt["score"], game.outcome.score);
        answers
            .lock()
            .await
            .acknowledged
            .push((id, u64::from(game.outcome.score)));
        finished.fetch_add(1, Ordering::SeqCst);
    }
}

/// Wait until `count` reaches `at_least`.
async fn reaches(count: &AtomicUsize, at_least: usize, what: &str) {
    tokio::time::timeout(Duration::from_secs(120), async {
        while count.load(Ordering::SeqCst) < at_least {
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    })
    .await
    .unwrap_or_else(|_| panic!("{what}: {} of {at_least}", count.load(Ordering::SeqCst)));
}

#[tokio::test]
async fn postgres_stopped_mid_load_answers_503s_never_a_500_and_stores_every_finish_once() {
    let Some(pg) = PrivatePostgres::start().await else {
        return;
    };
    let migrator = PostgresStore::connect(&pg.url(), None, PgSettings::default()).unwrap();
    migrator.migrate().await.unwrap();
    migrator.close().await;
    let env = TestEnv::without_services();
    let mut args = env
        .serve_args(&[
            "--database-url",
            &pg.url(),
            "--database-connect-timeout",
            "1s",
            // The shared clock runs ahead by every game played at once.
            "--session-ttl",
            "24h",
        ])
        .await;
    args.redis_url = None;
    args.nats_url = None;
    let app = Arc::new(spawn_app_with_args(env, args).await);

    // Names are claimed before the outage: a claim whose answer is lost leaves its token
    // unknown, which is a client's problem, not the server's.
    let answers = Arc::new(Mutex::new(Answers::default()));
    let finished = Arc::new(AtomicUsize::new(0));
    let done = Arc::new(AtomicBool::new(false));
    let mut players = Vec::new();
    for i in 0..PLAYERS {
        let name = format!("Restart {i}");
        let (_, _, token) = app.start_ok("egg-catcher", &name, None).await;
        players.push(tokio::spawn(keep_playing(
            app.clone(),
            answers.clone(),
            finished.clone(),
            done.clone(),
            name,
            token.expect("a first start claims the name"),
        )));
    }

    reaches(&finished, PLAYERS, "finishes before the outage").await;
    pg.stop_fast().await;
    tokio::time::sleep(Duration::from_secs(1)).await;
    pg.resume().await;
    let after = finished.load(Ordering::SeqCst);
    reaches(&finished, after + 2 * PLAYERS, "finishes after the restart").await;
    done.store(true, Ordering::SeqCst);
    for p in players {
        p.await.expect("a player's games end answered");
    }

    let answers = answers.lock().await;
    let unexpected: Vec<_> = answers
        .statuses
        .iter()
        .filter(|(s, _)| ![200, 201, 503].contains(*s))
        .collect();
    assert!(unexpected.is_empty(), "{:?}", answers.statuses);
    assert!(
        answers.statuses.get(&503).is_some_and(|n| *n > 0),
        "the load ran into the outage: {:?}",
        answers.statuses
    );
    assert_eq!(
        answers.without_retry_after, 0,
        "every 503 says when to retry"
    );

    // Every acknowledged finish is stored, once, with its score; nothing else is.
    let mut db = <sqlx::PgConnection as sqlx::Connection>::connect(&pg.url())
        .await
        .unwrap();
    let stored: Vec<(String, i32)> =
        sqlx::query_as("SELECT session_id::text, score FROM scores ORDER BY session_id")
            .fetch_all(&mut db)
            .await
            .unwrap();
    let mut acknowledged: Vec<(String, i32)> = answers
        .acknowledged
        .iter()
        .map(|(id, score)| (id.clone(), i32::try_from(*score).unwrap()))
        .collect();
    acknowledged.sort();
    assert_eq!(stored, acknowledged);
}
