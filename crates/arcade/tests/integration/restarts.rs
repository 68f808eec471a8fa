//! Fault tests that stop servers of the test's own ([`arcade_testkit::servers`]) and the
//! arcade itself, and start them again: what clients get meanwhile, and what is stored and
//! published afterwards. Without the servers' binaries (or, for the one that needs it, the
//! shared PostgreSQL) they are skipped, or fail under `ARCADE_REQUIRE_BACKENDS=1`.

use std::collections::BTreeMap;
use std::future::Future;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::time::Duration;

use arcade_domain::event::{Event, EventKind};
use arcade_domain::time::Period;
use arcade_store::{PgSettings, PostgresStore};
use arcade_testkit::backends::{self, Service, TestDatabase};
use arcade_testkit::servers::{PrivateNats, PrivatePostgres};
use arcade_testkit::{BotGame, Response, StatusCode, TestApp, TestEnv, spawn_app_with_args};
use futures::StreamExt;
use serde_json::{Value, json};
use tokio::process::{Child, Command};
use tokio::sync::Mutex;
use uuid::Uuid;

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
        let game = BotGame::in_first_window("egg-catcher", seed, 30);
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
    args.redis.redis_url = None;
    args.nats.nats_url = None;
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

/// `arcade serve` as a child process, which the test can SIGKILL.
struct Replica {
    process: Child,
    base: String,
    client: reqwest::Client,
    _data_dir: tempfile::TempDir,
}

impl Replica {
    /// Serve on a free port with `flags`, in an environment holding nothing else; returns once
    /// it answers.
    async fn start(flags: &[&str]) -> Self {
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .unwrap()
            .port();
        let data_dir = tempfile::tempdir().unwrap();
        let process = Command::new(env!("CARGO_BIN_EXE_arcade"))
            .arg("serve")
            .args(["--listen", &format!("127.0.0.1:{port}")])
            .arg("--data-dir")
            .arg(data_dir.path())
            .args(flags)
            .env_clear()
            .env("PATH", "/usr/bin:/bin")
            .env("ARCADE_LOG", "warn")
            .stdout(std::process::Stdio::null())
            .kill_on_drop(true)
            .spawn()
            .expect("the arcade binary starts");
        let replica = Self {
            process,
            base: format!("http://127.0.0.1:{port}"),
            client: reqwest::Client::new(),
            _data_dir: data_dir,
        };
        for _ in 0..200 {
            if let Ok(r) = replica.client.get(replica.url("/health/live")).send().await
                && r.status() == StatusCode::OK
            {
                return replica;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        panic!("the arcade did not answer in 10 s");
    }

    fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    async fn post(&self, path: &str, body: &Value) -> (StatusCode, Value) {
        let r = self
            .client
            .post(self.url(path))
            .json(body)
            .send()
            .await
            .unwrap();
        (r.status(), r.json().await.unwrap_or(Value::Null))
    }

    /// Kill it at once (SIGKILL): no shutdown, no drain.
    async fn kill(mut self) {
        self.process.kill().await.unwrap();
    }
}

/// How many messages of the stream `ARCADE` carry each message id.
async fn stored_message_ids(nats_url: &str) -> BTreeMap<String, usize> {
    use async_nats::jetstream::consumer::{DeliverPolicy, pull};
    let client = async_nats::connect(nats_url).await.unwrap();
    let jetstream = async_nats::jetstream::new(client);
    let Ok(stream) = jetstream.get_stream(arcade_events::STREAM).await else {
        return BTreeMap::new();
    };
    let consumer = stream
        .create_consumer(pull::Config {
            deliver_policy: DeliverPolicy::All,
            ..Default::default()
        })
        .await
        .unwrap();
    let mut ids = BTreeMap::new();
    let mut messages = consumer
        .fetch()
        .max_messages(10_000)
        .expires(Duration::from_millis(500))
        .messages()
        .await
        .unwrap();
    while let Some(m) = messages.next().await {
        let m = m.unwrap();
        let id = m
            .headers
            .as_ref()
            .and_then(|h| h.get("Nats-Msg-Id"))
            .map(|v| v.as_str().to_owned())
            .expect("every event carries its id as Nats-Msg-Id");
        *ids.entry(id).or_default() += 1;
    }
    ids
}

#[tokio::test]
async fn events_of_acknowledged_games_reach_the_stream_once_after_nats_and_the_replica_fail() {
    let Some(server) = backends::url(Service::Postgres) else {
        return;
    };
    let Some(nats) = PrivateNats::start().await else {
        return;
    };
    let db = TestDatabase::create(&server).await;
    let migrator = PostgresStore::connect(&db.url, None, PgSettings::default()).unwrap();
    migrator.migrate().await.unwrap();
    let flags = [
        "--database-url",
        db.url.as_str(),
        "--nats-url",
        &nats.url(),
        // Games are played by the bot at once, not in real time.
        "--tick-slack",
        "1h",
        "--drain-delay",
        "0s",
    ];
    let replica = Replica::start(&flags).await;

    nats.stop().await;
    // Every event these games make: each start's, each score's, and each top-10 entry's.
    let mut expected = Vec::new();
    for i in 0..6 {
        let player = format!("Outbox {i}");
        let (status, started) = replica
            .post(
                "/api/games/egg-catcher/sessions",
                &json!({ "player": player }),
            )
            .await;
        assert_eq!(status, StatusCode::CREATED, "{started}");
        let session: Uuid = started["session_id"].as_str().unwrap().parse().unwrap();
        let seed = u32::try_from(started["seed"].as_u64().unwrap()).unwrap();
        let game = BotGame::in_first_window("egg-catcher", seed, 40 + 8 * i);
        let body = json!({
            "offset": 0,
            "inputs": game.inputs_json(0, game.inputs.len()),
            "tick": game.outcome.ticks,
            "score": game.outcome.score,
        });
        let (status, receipt) = replica
            .post(&format!("/api/sessions/{session}/finish"), &body)
            .await;
        assert_eq!(
            status,
            StatusCode::OK,
            "acknowledged without NATS: {receipt}"
        );
        expected.push(Event::derived_id(session, EventKind::SessionStarted, None));
        expected.push(Event::derived_id(session, EventKind::ScoreSubmitted, None));
        if game.outcome.score > 0 {
            // Each player plays once: every rank is a new entry, a top-10 one up to 10.
            for period in Period::ALL {
                let rank = receipt["ranks"][period.as_str()].as_u64().unwrap();
                if rank <= 10 {
                    expected.push(Event::derived_id(
                        session,
                        EventKind::LeaderboardTop,
                        Some(period),
                    ));
                }
            }
        }
    }
    replica.kill().await;
    nats.resume().await;
    let replica = Replica::start(&flags).await;

    // The new replica's relay publishes what the killed one left (once the leases of what it
    // was publishing when it died have ended).
    let expected: Vec<String> = expected.iter().map(Uuid::to_string).collect();
    let deadline = tokio::time::Instant::now() + Duration::from_secs(60);
    let stored = loop {
        let stored = stored_message_ids(&nats.url()).await;
        if expected.iter().all(|id| stored.contains_key(id)) {
            break stored;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "missing from the stream: {:?}",
            expected
                .iter()
                .filter(|id| !stored.contains_key(*id))
                .collect::<Vec<_>>()
        );
        tokio::time::sleep(Duration::from_millis(250)).await;
    };
    let twice: Vec<_> = stored.iter().filter(|(_, n)| **n > 1).collect();
    assert!(twice.is_empty(), "stored more than once: {twice:?}");
    let unexpected: Vec<_> = stored.keys().filter(|id| !expected.contains(id)).collect();
    assert!(unexpected.is_empty(), "events no game made: {unexpected:?}");
    let (left,): (i64,) = sqlx::query_as("SELECT count(*) FROM outbox")
        .fetch_one(migrator.pool())
        .await
        .unwrap();
    assert_eq!(left, 0, "the outbox is empty once everything is relayed");
    migrator.close().await;
    replica.kill().await;
}
