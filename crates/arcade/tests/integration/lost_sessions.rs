//! Games that outlive their session store: a lone server restarted (its sessions were in its
//! memory) and Redis restarted empty, mid-game. Each game goes on from its ticket, sending
//! every input again when told `session_lost`, and finishes with its verified score.

use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use arcade_games::Bot;
use arcade_testkit::backends::{self, Service};
use arcade_testkit::{
    StatusCode, TestApp, TestEnv, bot, inputs_json, spawn_app_in, spawn_app_with_args,
};
use serde_json::{Value, json};

const GAME: &str = "egg-catcher";
/// Longest a client keeps retrying 503s here.
const RETRY_FOR: Duration = Duration::from_secs(60);

/// A game in progress, as a browser holds it: the ticket and every input.
struct Player {
    name: String,
    id: String,
    ticket: String,
    bot: Box<dyn Bot>,
    /// Inputs the server acknowledged.
    sent: usize,
    /// Times the server had lost the session.
    lost: usize,
}

impl Player {
    async fn start(app: &TestApp, name: &str) -> Self {
        let (status, started) = send(
            app,
            "/api/games/egg-catcher/sessions",
            &json!({ "player": name }),
        )
        .await;
        assert_eq!(status, StatusCode::CREATED, "start: {started}");
        let seed = u32::try_from(started["seed"].as_u64().unwrap()).unwrap();
        Self {
            name: name.to_owned(),
            id: started["session_id"].as_str().unwrap().to_owned(),
            ticket: started["ticket"].as_str().expect("a ticket").to_owned(),
            bot: bot(GAME, seed, 80),
            sent: 0,
            lost: 0,
        }
    }

    fn body(&self, offset: usize) -> Value {
        let outcome = self.bot.outcome();
        json!({
            "offset": offset,
            "inputs": inputs_json(&self.bot.inputs()[offset..]),
            "tick": self.bot.tick(),
            "score": outcome.score,
            "ticket": self.ticket,
        })
    }

    /// Send a heartbeat or the finish as the page does: from what the server acknowledged,
    /// and from offset 0 once the server says it lost the session.
    async fn send(&mut self, app: &TestApp, what: &str) -> Value {
        let path = format!("/api/sessions/{}/{what}", self.id);
        let (mut status, mut answer) = send(app, &path, &self.body(self.sent)).await;
        if status == StatusCode::CONFLICT && answer["type"] == "session_lost" {
            self.lost += 1;
            (status, answer) = send(app, &path, &self.body(0)).await;
        }
        assert_eq!(status, StatusCode::OK, "{what}: {answer}");
        answer
    }

    /// Play to the end of the windows held; a heartbeat; the next window.
    async fn play_a_window(&mut self, app: &TestApp) {
        let ack = self.send(app, "heartbeat").await;
        self.sent = usize::try_from(ack["accepted_inputs"].as_u64().unwrap()).unwrap();
        let window = &ack["window"];
        assert_eq!(
            window["index"].as_u64(),
            Some(u64::from(self.bot.revealed())),
            "{ack}"
        );
        self.bot
            .reveal(u32::try_from(window["seed"].as_u64().unwrap()).unwrap());
    }

    fn playing(&self) -> bool {
        !self.bot.game_over() && self.bot.tick() < 60 * 300
    }
}

/// POST, retrying 503s (a store restarting) as a client following `Retry-After` does.
async fn send(app: &TestApp, path: &str, body: &Value) -> (StatusCode, Value) {
    let deadline = Instant::now() + RETRY_FOR;
    loop {
        let r = app.post_json(path, body).await;
        let status = r.status();
        let answer: Value = r.json().await.unwrap_or(Value::Null);
        if status != StatusCode::SERVICE_UNAVAILABLE || Instant::now() > deadline {
            return (status, answer);
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// Let every player play on in step (the clock moves once per window for all): `windows`
/// windows each, or to the end of their game when `None`.
async fn play_on(app: &TestApp, players: &mut [Player], windows: Option<usize>) {
    let mut played = 0;
    while players.iter().any(Player::playing) && windows.is_none_or(|w| played < w) {
        let before = players.iter().map(|p| p.bot.tick()).max().unwrap_or(0);
        for p in players.iter_mut().filter(|p| p.playing()) {
            p.bot.play_until(60 * 300);
        }
        let after = players.iter().map(|p| p.bot.tick()).max().unwrap_or(0);
        app.advance_ticks(after - before);
        for p in players.iter_mut().filter(|p| p.playing()) {
            p.play_a_window(app).await;
        }
        played += 1;
    }
}

/// Finish every game; each one's score is the replayed score of its every input.
async fn finish_all(app: &TestApp, players: &mut [Player]) {
    for p in players.iter_mut() {
        let receipt = p.send(app, "finish").await;
        let outcome = p.bot.outcome();
        assert_eq!(receipt["score"], outcome.score, "{receipt}");
        assert_eq!(receipt["ticks"], outcome.ticks, "{receipt}");
        // Replayed: the first answer again.
        assert_eq!(p.send(app, "finish").await, receipt);
    }
}

/// A lone server on `env`'s data directory, whatever services the environment names, with
/// no session secret configured: it keeps its own there.
async fn lone_server(env: &TestEnv) -> TestApp {
    let mut args = env.serve_args(&[]).await;
    args.session_secret = None;
    args.storage.database_url = None;
    args.redis.redis_url = None;
    args.nats.nats_url = None;
    spawn_app_with_args(env.clone(), args).await
}

#[tokio::test]
async fn games_go_on_after_the_embedded_server_restarts_and_forgets_them() {
    let env = TestEnv::without_services();
    let app = lone_server(&env).await;
    let mut players = vec![
        Player::start(&app, "Quinn").await,
        Player::start(&app, "Ray").await,
    ];
    play_on(&app, &mut players, Some(2)).await;
    let played_until = app.clock_now();
    app.stop().await.unwrap();
    let kept = env.data_dir.path().join("session.secret");
    let mode =
        std::os::unix::fs::PermissionsExt::mode(&std::fs::metadata(&kept).unwrap().permissions());
    assert_eq!(mode & 0o777, 0o600, "the kept secret is its owner's only");

    // The same data, the same secret; its memory (the sessions) is gone.
    let app = lone_server(&env).await;
    let behind = played_until.millis_since(app.clock_now());
    app.advance(Duration::from_millis(behind));
    play_on(&app, &mut players, None).await;
    finish_all(&app, &mut players).await;
    assert!(
        players.iter().all(|p| p.lost == 1),
        "each was lost once, and went on"
    );
    let metrics = app.get("/metrics").await.text().await.unwrap();
    assert!(
        metrics.contains("arcade_sessions_resumed_total{game=\"egg-catcher\"} 2"),
        "{metrics}"
    );
    app.stop().await.unwrap();
}

/// A process of ours, killed with the test.
struct Process(Child);

impl Drop for Process {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn redis_server() -> Option<PathBuf> {
    let path = std::env::var_os("PATH").unwrap_or_default();
    std::env::split_paths(&path)
        .chain(["/usr/sbin", "/usr/local/sbin"].map(PathBuf::from))
        .map(|p| p.join("redis-server"))
        .find(|p| p.is_file())
}

/// A Redis of the test's own on `port`, keeping nothing on disk: a restart starts it empty.
fn empty_redis(bin: &PathBuf, port: u16) -> Process {
    let child = Command::new(bin)
        .args(["--port", &port.to_string(), "--bind", "127.0.0.1"])
        .args(["--save", "", "--appendonly", "no"])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("redis-server starts");
    Process(child)
}

async fn until_redis_answers(port: u16) {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    for _ in 0..100 {
        if let Ok(mut c) = tokio::net::TcpStream::connect(("127.0.0.1", port)).await {
            let mut pong = [0u8; 7];
            if c.write_all(b"PING\r\n").await.is_ok()
                && c.read_exact(&mut pong).await.is_ok()
                && &pong == b"+PONG\r\n"
            {
                return;
            }
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("redis-server did not answer on port {port}");
}

#[tokio::test]
async fn every_game_in_progress_finishes_after_redis_restarts_empty() {
    let Some(bin) = redis_server() else {
        return backends::skip_or_fail("redis-server on PATH");
    };
    if backends::configured(Service::Postgres).is_none() {
        return backends::skip_or_fail("DATABASE_URL");
    }
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .unwrap()
        .port();
    let mut redis = empty_redis(&bin, port);
    until_redis_answers(port).await;
    let mut env = TestEnv::new().await;
    env.redis = None;
    let url = format!("redis://127.0.0.1:{port}");
    let app = spawn_app_in(env, &["--redis-url", &url]).await;
    let mut players = Vec::new();
    for name in ["Sam", "Tao", "Uma", "Vic", "Wen", "Xia"] {
        players.push(Player::start(&app, name).await);
    }
    play_on(&app, &mut players, Some(2)).await;

    drop(redis);
    redis = empty_redis(&bin, port);
    until_redis_answers(port).await;

    play_on(&app, &mut players, None).await;
    finish_all(&app, &mut players).await;
    assert!(
        players.iter().all(|p| p.lost == 1),
        "each game was lost once, and went on: {:?}",
        players.iter().map(|p| p.lost).collect::<Vec<_>>()
    );
    // Each score is stored once.
    for p in &players {
        let history: Value = app
            .get(&format!("/api/games/egg-catcher/players/{}/scores", p.name))
            .await
            .json()
            .await
            .unwrap();
        let scores = history["scores"].as_array().unwrap();
        assert_eq!(scores.len(), 1, "{history}");
        assert_eq!(scores[0]["score"], p.bot.outcome().score);
    }
    app.stop().await.unwrap();
    drop(redis);
}
