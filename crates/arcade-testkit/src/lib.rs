//! Test support: [`spawn_app`] starts the real Arcade server (the same `Application` the
//! binary runs) on a random port with its own data directory and a clock tests can move;
//! [`TestApp`] is a small typed client; [`conformance`] is the storage suite every backend runs;
//! [`servers`] starts servers of a test's own that it may stop and start again.

pub mod backends;
pub mod conformance;
pub mod fault;
pub mod identity;
pub mod servers;
pub mod sse;

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use arcade::app::Application;
use arcade::config::{Cli, Command, ServeArgs};
use arcade_domain::time::{Clock, ManualClock, SystemClock};
use arcade_games::{Bot, Input, Outcome};
use clap::Parser as _;
use serde_json::{Value, json};
use tempfile::TempDir;
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

pub use reqwest::{Response, StatusCode};

/// A running server for one test. Dropping it stops the server and deletes its data.
pub struct TestApp {
    pub address: SocketAddr,
    pub base: String,
    pub client: reqwest::Client,
    pub clock: Arc<ManualClock>,
    pub data_dir: Arc<TempDir>,
    /// The backends this server uses, to start another server on the same data.
    pub env: TestEnv,
    shutdown: Option<oneshot::Sender<()>>,
    task: Option<JoinHandle<anyhow_free::Result>>,
}

mod anyhow_free {
    /// The server task's result, as text so tests need no error crate.
    pub type Result = std::result::Result<(), String>;
}

/// Server arguments for tests: a random port, a fresh data directory, no drain delay, a
/// start limit high enough for tests that play many games, and a session secret (which
/// `REDIS_URL` in the environment would require).
pub fn test_args(data_dir: &std::path::Path, extra: &[&str]) -> ServeArgs {
    let dir = data_dir.to_string_lossy().into_owned();
    let defaults = [
        ("--listen", "127.0.0.1:0"),
        ("--data-dir", dir.as_str()),
        ("--drain-delay", "0s"),
        ("--starts-per-minute", "100000"),
        ("--log-level", "warn"),
        (
            "--session-secret",
            "a test secret of thirty-two bytes or more",
        ),
    ];
    let mut argv = vec!["arcade", "serve"];
    for (flag, value) in defaults {
        // A flag the test sets itself replaces the default (clap refuses a flag twice).
        if !extra.contains(&flag) {
            argv.extend([flag, value]);
        }
    }
    argv.extend_from_slice(extra);
    match Cli::try_parse_from(argv) {
        Ok(Cli {
            command: Some(Command::Serve(args)),
            ..
        }) => *args,
        Ok(_) => unreachable!("the argv names the serve command"),
        Err(e) => panic!("bad test server arguments: {e}"),
    }
}

/// Start a server with default test settings.
pub async fn spawn_app() -> TestApp {
    spawn_app_with(&[]).await
}

/// Where a test server keeps its data: a temporary directory, and a fresh PostgreSQL database
/// and Redis prefix when `DATABASE_URL` / `REDIS_URL` name real servers, and the session
/// secret its servers share (so replicas derive the same windows). Clones share them.
#[derive(Debug, Clone)]
pub struct TestEnv {
    pub data_dir: Arc<TempDir>,
    pub database: Option<Arc<backends::TestDatabase>>,
    pub redis: Option<Arc<backends::TestRedisPrefix>>,
    pub session_secret: String,
}

impl TestEnv {
    pub async fn new() -> Self {
        let database = match backends::configured(backends::Service::Postgres) {
            Some(server) => Some(Arc::new(backends::TestDatabase::create(&server).await)),
            None => None,
        };
        let redis = match (&database, backends::configured(backends::Service::Redis)) {
            (Some(_), Some(url)) => Some(Arc::new(backends::TestRedisPrefix::new(&url))),
            _ => None,
        };
        Self {
            data_dir: Arc::new(tempfile::tempdir().expect("a temporary directory")),
            database,
            redis,
            session_secret: format!("test-secret-{}", uuid::Uuid::new_v4().simple()),
        }
    }

    /// A fresh data directory and no service, whatever the environment names: for a test that
    /// brings its own (with flags of its own, and the environment's URLs dropped from the
    /// server's arguments).
    pub fn without_services() -> Self {
        Self {
            data_dir: Arc::new(tempfile::tempdir().expect("a temporary directory")),
            database: None,
            redis: None,
            session_secret: format!("test-secret-{}", uuid::Uuid::new_v4().simple()),
        }
    }

    /// The flags that point a server at these backends (migrating the database first) and
    /// give it the environment's session secret.
    async fn flags(&self) -> Vec<String> {
        let mut flags = vec!["--session-secret".to_owned(), self.session_secret.clone()];
        if let Some(db) = &self.database {
            let store = arcade_store::PostgresStore::connect(
                &db.url,
                None,
                arcade_store::PgSettings::default(),
            )
            .expect("a PostgreSQL pool");
            store.migrate().await.expect("migrations apply");
            store.close().await;
            flags.extend(["--database-url".to_owned(), db.url.clone()]);
        }
        if let Some(r) = &self.redis {
            flags.extend([
                "--redis-url".to_owned(),
                r.url.clone(),
                "--redis-prefix".to_owned(),
                r.prefix.clone(),
            ]);
        }
        flags
    }
}

/// Start a server with extra `serve` flags (e.g. `["--starts-per-minute", "2"]`).
pub async fn spawn_app_with(extra: &[&str]) -> TestApp {
    spawn_app_in(TestEnv::new().await, extra).await
}

impl TestEnv {
    /// Server arguments for these backends plus `extra` flags.
    pub async fn serve_args(&self, extra: &[&str]) -> ServeArgs {
        let backend_flags = self.flags().await;
        let mut all: Vec<&str> = Vec::new();
        // A flag given in `extra` replaces the backend's (e.g. a URL through a fault proxy).
        for pair in backend_flags.chunks(2) {
            if !extra.contains(&pair[0].as_str()) {
                all.extend(pair.iter().map(String::as_str));
            }
        }
        all.extend_from_slice(extra);
        test_args(self.data_dir.path(), &all)
    }
}

/// Start a server on existing data (e.g. to test a restart, or a second replica).
pub async fn spawn_app_in(env: TestEnv, extra: &[&str]) -> TestApp {
    let args = env.serve_args(extra).await;
    spawn_app_with_args(env, args).await
}

/// Start a server on `env` with arguments a test made itself, from [`TestEnv::serve_args`]
/// (to drop a setting the environment gives, such as `NATS_URL`).
pub async fn spawn_app_with_args(env: TestEnv, args: ServeArgs) -> TestApp {
    let clock = Arc::new(ManualClock::new(SystemClock.now()));
    let settings = args.settings().expect("the test server settings are valid");
    let app = Application::build(&settings, clock.clone(), arcade::runtime::metrics())
        .await
        .expect("the test server builds");
    let address = app.local_addr();
    let (tx, rx) = oneshot::channel::<()>();
    let task = tokio::spawn(async move {
        app.run_until(async {
            let _ = rx.await;
        })
        .await
        .map_err(|e| format!("{e:#}"))
    });
    TestApp {
        address,
        base: format!("http://{address}"),
        client: reqwest::Client::builder()
            .timeout(Duration::from_secs(30))
            .build()
            .expect("an HTTP client"),
        clock,
        data_dir: env.data_dir.clone(),
        env,
        shutdown: Some(tx),
        task: Some(task),
    }
}

/// A game played by the deterministic bot: the inputs and the result the server must agree on.
#[derive(Debug, Clone)]
pub struct BotGame {
    pub inputs: Vec<Input>,
    pub outcome: Outcome,
}

/// Ten minutes of play: the most a test's bot plays of one game.
pub const BOT_MAX_SECONDS: u32 = 600;

impl BotGame {
    /// The bot of `game` plays from the first window's `seed` until game over or the end of
    /// that window: a game finished in one request, with no heartbeat to bring more windows.
    pub fn in_first_window(game: &str, seed: u32, skill: u8) -> Self {
        let mut bot = bot(game, seed, skill);
        bot.play_until(arcade_games::WINDOW_TICKS);
        Self {
            inputs: bot.inputs().to_vec(),
            outcome: bot.outcome(),
        }
    }

    pub fn inputs_json(&self, from: usize, to: usize) -> Value {
        inputs_json(&self.inputs[from..to])
    }
}

/// Inputs as the API takes them: `[[tick, value], ...]`.
pub fn inputs_json(inputs: &[Input]) -> Value {
    Value::Array(inputs.iter().map(|i| json!([i.tick, i.value])).collect())
}

/// The bot of `game` at `skill`, starting on the first window's `seed`.
pub fn bot(game: &str, seed: u32, skill: u8) -> Box<dyn Bot> {
    let start = arcade_games::bot(game).unwrap_or_else(|| panic!("{game} has no bot"));
    start(seed, skill)
}

impl TestApp {
    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    /// Poll `/health/ready` until every dependency is up (they connect in the background;
    /// with an optional one still connecting the server already answers 200 `degraded`).
    pub async fn wait_ready(&self) -> Value {
        for _ in 0..200 {
            let r = self.get("/health/ready").await;
            if r.status() == StatusCode::OK {
                let body: Value = r.json().await.expect("a JSON body");
                if body["status"] == "ready" {
                    return body;
                }
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        panic!("the server did not become ready in 10 s");
    }

    pub async fn get(&self, path: &str) -> Response {
        self.client
            .get(self.url(path))
            .send()
            .await
            .expect("the server answers")
    }

    pub async fn post_json(&self, path: &str, body: &Value) -> Response {
        self.client
            .post(self.url(path))
            .json(body)
            .send()
            .await
            .expect("the server answers")
    }

    pub async fn post_raw(
        &self,
        path: &str,
        content_type: &str,
        body: impl Into<String>,
    ) -> Response {
        self.client
            .post(self.url(path))
            .header("content-type", content_type)
            .body(body.into())
            .send()
            .await
            .expect("the server answers")
    }

    /// Start a session of `game`; the JSON answer and the status.
    pub async fn start(
        &self,
        game: &str,
        player: &str,
        token: Option<&str>,
    ) -> (StatusCode, Value) {
        let mut body = json!({ "player": player });
        if let Some(t) = token {
            body["token"] = json!(t);
        }
        let r = self
            .post_json(&format!("/api/games/{game}/sessions"), &body)
            .await;
        (r.status(), r.json().await.expect("a JSON body"))
    }

    /// Start a session that must succeed; returns (session id, seed, token if claimed).
    pub async fn start_ok(
        &self,
        game: &str,
        player: &str,
        token: Option<&str>,
    ) -> (String, u32, Option<String>) {
        let (status, body) = self.start(game, player, token).await;
        assert_eq!(status, StatusCode::CREATED, "start failed: {body}");
        (
            body["session_id"].as_str().expect("session_id").to_owned(),
            u32::try_from(body["seed"].as_u64().expect("seed")).expect("a u32 seed"),
            body["player"]["token"].as_str().map(str::to_owned),
        )
    }

    pub async fn heartbeat(&self, id: &str, body: &Value) -> Response {
        self.post_json(&format!("/api/sessions/{id}/heartbeat"), body)
            .await
    }

    pub async fn finish(&self, id: &str, body: &Value) -> Response {
        self.post_json(&format!("/api/sessions/{id}/finish"), body)
            .await
    }

    /// The server's current time.
    pub fn clock_now(&self) -> arcade_domain::time::Timestamp {
        self.clock.now()
    }

    /// Move the server's clock forward (sessions expire, more ticks become plausible).
    pub fn advance(&self, d: Duration) {
        self.clock.advance(d);
    }

    /// Move the clock to just after the next midnight (UTC), so that a test whose games take
    /// minutes of server time stays on one day's and one week's boards at whatever time of
    /// day it runs.
    pub fn start_a_new_day(&self) {
        const DAY_MS: i64 = 86_400_000;
        let now = self.clock.now().0;
        let next_day = (now.div_euclid(DAY_MS) + 1) * DAY_MS + 1_000;
        self.advance(Duration::from_millis(
            u64::try_from(next_day - now).expect("the next day is ahead"),
        ));
    }

    /// Move the clock by as long as `ticks` take at 60 Hz, every game's tick rate.
    pub fn advance_ticks(&self, ticks: u32) {
        self.advance(Duration::from_millis(u64::from(ticks) * 1000 / 60 + 1));
    }

    /// Move the clock by as long as `ticks` of `game` take.
    fn advance_game_ticks(&self, game: &str, ticks: u32) {
        let hz = arcade_games::find(game).map_or(60, |g| g.tick_hz());
        self.advance(Duration::from_millis(
            u64::from(ticks) * 1000 / u64::from(hz) + 1,
        ));
    }

    /// Let `bot` play session `id` of `game` the way a browser does, ten minutes of play at
    /// most: it plays as far as its windows go while the clock moves as long as that takes,
    /// then a heartbeat sends its inputs and brings the next window. Returns the game and the
    /// finish body (the inputs not sent yet, the last tick and the score), not yet sent.
    pub async fn play_through_windows(
        &self,
        game: &str,
        id: &str,
        bot: &mut dyn Bot,
    ) -> (BotGame, Value) {
        let hz = arcade_games::find(game).map_or(60, |g| g.tick_hz());
        let max_ticks = hz * BOT_MAX_SECONDS;
        let (mut sent, mut clock) = (0, 0);
        loop {
            bot.play_until(max_ticks);
            self.advance_game_ticks(game, bot.tick() - clock);
            clock = bot.tick();
            if bot.game_over() || bot.tick() >= max_ticks {
                break;
            }
            let r = self
                .heartbeat(
                    id,
                    &json!({
                        "offset": sent,
                        "inputs": inputs_json(&bot.inputs()[sent..]),
                        "tick": bot.tick(),
                    }),
                )
                .await;
            let status = r.status();
            let ack: Value = r.json().await.expect("a JSON body");
            assert_eq!(status, StatusCode::OK, "heartbeat: {ack}");
            sent = ack["accepted_inputs"].as_u64().expect("accepted_inputs") as usize;
            let window = &ack["window"];
            assert_eq!(
                window["index"].as_u64(),
                Some(u64::from(bot.revealed())),
                "a heartbeat at the end of the windows held brings the next: {ack}"
            );
            bot.reveal(u32::try_from(window["seed"].as_u64().expect("a seed")).expect("a u32"));
        }
        let played = BotGame {
            inputs: bot.inputs().to_vec(),
            outcome: bot.outcome(),
        };
        let body = json!({
            "offset": sent,
            "inputs": played.inputs_json(sent, played.inputs.len()),
            "tick": played.outcome.ticks,
            "score": played.outcome.score,
        });
        (played, body)
    }

    /// Start a session of `game` as `player` and let the bot (of `skill`) play it to the end
    /// (see [`TestApp::play_through_windows`]); returns the session id, the game and the
    /// finish body, not yet sent.
    pub async fn played_session(
        &self,
        game: &str,
        player: &str,
        skill: u8,
    ) -> (String, BotGame, Value) {
        let (id, seed, _) = self.start_ok(game, player, None).await;
        let (played, body) = self
            .play_through_windows(game, &id, &mut *bot(game, seed, skill))
            .await;
        (id, played, body)
    }

    /// Start a session of `game_id` as `player`, let the bot play it through its windows and
    /// finish it. Returns the finish answer and the bot's game.
    pub async fn play_game(
        &self,
        game_id: &str,
        player: &str,
        token: Option<&str>,
        skill: u8,
    ) -> (StatusCode, Value, BotGame, Option<String>) {
        let (id, seed, claimed) = self.start_ok(game_id, player, token).await;
        let (game, body) = self
            .play_through_windows(game_id, &id, &mut *bot(game_id, seed, skill))
            .await;
        let r = self.finish(&id, &body).await;
        let status = r.status();
        let body = r.json().await.expect("a JSON body");
        (status, body, game, claimed)
    }

    /// [`Self::play_game`] until a game scores: a weak bot's game now and then scores
    /// nothing, and a score of nothing takes no place on the boards. The player's token, when
    /// the first game claimed the name, comes back with the last game.
    pub async fn play_scoring_game(
        &self,
        game_id: &str,
        player: &str,
        token: Option<&str>,
        skill: u8,
    ) -> (StatusCode, Value, BotGame, Option<String>) {
        let mut token = token.map(str::to_owned);
        let mut claimed = None;
        for _ in 0..20 {
            let (status, body, game, new) = self
                .play_game(game_id, player, token.as_deref(), skill)
                .await;
            if new.is_some() {
                token.clone_from(&new);
                claimed = new;
            }
            if status != StatusCode::OK || body["score"].as_u64() != Some(0) {
                return (status, body, game, claimed);
            }
        }
        panic!("{player} played twenty games of {game_id} at skill {skill} that scored nothing");
    }

    /// Stop the server gracefully and wait for it.
    pub async fn stop(mut self) -> Result<(), String> {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
        match self.task.take() {
            Some(task) => task.await.map_err(|e| e.to_string())?,
            None => Ok(()),
        }
    }
}

impl Drop for TestApp {
    fn drop(&mut self) {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
        if let Some(task) = self.task.take() {
            task.abort();
        }
    }
}
