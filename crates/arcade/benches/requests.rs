//! The server's own work per request, without sockets or the kernel: each request goes through
//! the same router and layers as a served one (cloned per request, as a connection does),
//! beside an axum "hello world" route, the floor the HTTP benchmarks compare with. The gap
//! between the two is what Arcade adds to every response. Heartbeats and finishes of real bot
//! games go the same way, on the backends the environment selects as for the tests
//! (`DATABASE_URL` and `REDIS_URL` for PostgreSQL and Redis); their `_cpu` rows count the
//! server's CPU time instead of the time waited, which includes the stores' round trips.
//! `cargo bench -p arcade --bench requests`.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};

use arcade::app::{Application, system_clock};
use arcade::runtime::metrics;
use arcade_domain::time::{Clock, ManualClock, SystemClock};
use arcade_testkit::{TestEnv, spawn_app_in};
use std::convert::Infallible;

use axum::Router;
use axum::body::Body;
use axum::extract::ConnectInfo;
use axum::http::{Request, StatusCode, header};
use axum::response::Response;
use axum::routing::get;
use criterion::{Criterion, criterion_group, criterion_main};
use serde_json::{Value, json};
use tower::ServiceExt;
use tower::util::BoxCloneSyncService;

const BROWSER_ENCODINGS: &str = "gzip, deflate, br, zstd";

/// The service over a board of ten players, built as `arcade serve` builds it.
fn arcade_service(rt: &tokio::runtime::Runtime) -> (Answering, TestEnv) {
    rt.block_on(async {
        let env = TestEnv::new().await;
        let app = spawn_app_in(env.clone(), &[]).await;
        for i in 0..10 {
            let (status, body, ..) = app
                .play_game("egg-catcher", &format!("bench{i}"), None, 40 + i * 5)
                .await;
            assert_eq!(status, StatusCode::OK, "{body}");
        }
        app.stop().await.expect("the filling server stops");
        let args = env.serve_args(&[]).await;
        let settings = args.settings().expect("the bench settings are valid");
        let app = Application::build(&settings, system_clock(), metrics())
            .await
            .expect("the server builds");
        (BoxCloneSyncService::new(app.router()), env)
    })
}

/// The service on fresh backends whose clock the bench moves, so that a heartbeat can carry two
/// seconds of play without the bench waiting two seconds.
fn play_service(rt: &tokio::runtime::Runtime) -> (Answering, Arc<ManualClock>, TestEnv) {
    rt.block_on(async {
        let env = TestEnv::new().await;
        let args = env.serve_args(&["--starts-per-minute", "100000000"]).await;
        let clock = Arc::new(ManualClock::new(SystemClock.now()));
        let settings = args.settings().expect("the bench settings are valid");
        let app = Application::build(&settings, clock.clone(), metrics())
            .await
            .expect("the server builds");
        (BoxCloneSyncService::new(app.router()), clock, env)
    })
}

/// What answers the bench's requests, the hello router or Arcade's service, behind one type
/// (so both pay the same for it, and `send` is one function whose instructions
/// `bench/run.sh instructions` counts).
type Answering = BoxCloneSyncService<Request<Body>, Response, Infallible>;

fn hello_router() -> Router {
    Router::new().route("/", get(|| async { "Hello, world!" }))
}

/// A request as a browser sends it, with the peer address a served connection attaches.
fn from_browser(request: axum::http::request::Builder, body: Body) -> Request<Body> {
    let mut r = request
        .header(header::HOST, "127.0.0.1:8080")
        .header(header::ACCEPT_ENCODING, BROWSER_ENCODINGS)
        .body(body)
        .expect("a valid request");
    r.extensions_mut()
        .insert(ConnectInfo(SocketAddr::from(([127, 0, 0, 1], 40_000))));
    r
}

fn request(path: &str) -> Request<Body> {
    from_browser(Request::get(path), Body::empty())
}

/// `iters` requests to `path`, one after another, each answered in full (body included).
async fn answer(router: &Answering, path: &str, iters: u64) -> Duration {
    let started = Instant::now();
    for _ in 0..iters {
        let (status, _) = send(router, request(path)).await;
        assert!(status.is_success(), "{path}: {status}");
    }
    started.elapsed()
}

/// One request to `path` outside [`send`], whose instructions are the ones counted: the first
/// answer of a page makes its compressed copies, kept after, which is not the cost of a
/// request.
async fn warm(router: &Answering, path: &str) {
    let response = router
        .clone()
        .oneshot(request(path))
        .await
        .expect("routers are infallible");
    assert!(
        response.status().is_success(),
        "{path}: {}",
        response.status()
    );
    axum::body::to_bytes(response.into_body(), usize::MAX)
        .await
        .expect("an in-memory body");
}

fn post(path: &str, body: Vec<u8>) -> Request<Body> {
    from_browser(
        Request::post(path).header(header::CONTENT_TYPE, "application/json"),
        Body::from(body),
    )
}

/// Answer `request` through a clone of `router`, as a connection does, body read in full.
async fn send(router: &Answering, request: Request<Body>) -> (StatusCode, axum::body::Bytes) {
    let response = router
        .clone()
        .oneshot(request)
        .await
        .expect("routers are infallible");
    let status = response.status();
    let body = axum::body::to_bytes(response.into_body(), usize::MAX)
        .await
        .expect("an in-memory body");
    (status, body)
}

async fn post_json(router: &Answering, path: &str, body: Vec<u8>) -> (StatusCode, Value) {
    let (status, body) = send(router, post(path, body)).await;
    (status, serde_json::from_slice(&body).unwrap_or(Value::Null))
}

/// A started session and the bodies a bot's game of its first window (ten seconds, as far as
/// the start's seed reaches) sends: heartbeats of two seconds of play each, as the load
/// generator's players send them, then the finish.
struct PlayedSession {
    heartbeat_path: String,
    heartbeats: std::vec::IntoIter<Vec<u8>>,
    finish_path: String,
    finish: Vec<u8>,
}

async fn played_session(router: &Answering, token: &mut Option<String>) -> PlayedSession {
    let mut start = json!({ "player": "bench player" });
    if let Some(t) = token.as_deref() {
        start["token"] = json!(t);
    }
    let (status, started) = post_json(
        router,
        "/api/games/egg-catcher/sessions",
        start.to_string().into_bytes(),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED, "{started}");
    if let Some(t) = started["player"]["token"].as_str() {
        *token = Some(t.to_owned());
    }
    let seed = u32::try_from(started["seed"].as_u64().expect("a seed")).expect("a u32 seed");
    let (inputs, outcome) =
        arcade_games::egg_catcher::bot::play(&|_| seed, 70, arcade_games::WINDOW_TICKS);
    let batch = |from: usize, to: usize, tick: u32| {
        let slice: Vec<_> = inputs[from..to].iter().map(|i| [i.tick, i.value]).collect();
        json!({ "offset": from, "inputs": slice, "tick": tick })
    };
    let mut heartbeats = Vec::new();
    let mut sent = 0;
    for end in (120..).step_by(120).take_while(|&t| t < outcome.ticks) {
        let fresh = inputs[sent..].iter().take_while(|i| i.tick < end).count();
        heartbeats.push(batch(sent, sent + fresh, end).to_string().into_bytes());
        sent += fresh;
    }
    let mut finish = batch(sent, inputs.len(), outcome.ticks);
    finish["score"] = json!(outcome.score);
    let id = started["session_id"].as_str().expect("a session id");
    PlayedSession {
        heartbeat_path: format!("/api/sessions/{id}/heartbeat"),
        heartbeats: heartbeats.into_iter(),
        finish_path: format!("/api/sessions/{id}/finish"),
        finish: finish.to_string().into_bytes(),
    }
}

/// CPU time this thread has run, from the kernel's scheduler statistics (nanoseconds).
fn thread_cpu() -> Duration {
    let stat =
        std::fs::read_to_string("/proc/thread-self/schedstat").expect("Linux scheduler statistics");
    let ns = stat
        .split_whitespace()
        .next()
        .and_then(|n| n.parse().ok())
        .expect("a run time in nanoseconds");
    Duration::from_nanos(ns)
}

/// What some requests took: wall time, and CPU time on this thread, which on a
/// current-thread runtime is all the server's work for them (its store clients' included).
#[derive(Debug, Clone, Copy, Default)]
struct Spent {
    wall: Duration,
    cpu: Duration,
}

impl Spent {
    fn pick(self, cpu: bool) -> Duration {
        if cpu { self.cpu } else { self.wall }
    }
}

/// Send one request and read its answer in full, adding what it took to `spent`.
async fn timed_post(router: &Answering, path: &str, body: Vec<u8>, spent: &mut Spent) {
    let request = post(path, body);
    let (cpu, wall) = (thread_cpu(), Instant::now());
    let (status, body) = send(router, request).await;
    spent.wall += wall.elapsed();
    spent.cpu += thread_cpu() - cpu;
    assert_eq!(
        status,
        StatusCode::OK,
        "{path}: {}",
        String::from_utf8_lossy(&body)
    );
}

/// The bench's player on the play router: sessions claim its name once, later ones present
/// the token, and every post carries two seconds of play on the moved clock.
struct Player<'a> {
    router: &'a Answering,
    clock: &'a ManualClock,
    token: Option<String>,
}

impl Player<'_> {
    async fn session(&mut self) -> PlayedSession {
        played_session(self.router, &mut self.token).await
    }

    /// Two seconds later, post `body` to `path`, adding what it took to `spent`.
    async fn play(&self, path: &str, body: Vec<u8>, spent: &mut Spent) {
        self.clock.advance(Duration::from_secs(2));
        timed_post(self.router, path, body, spent).await;
    }

    /// `iters` heartbeats, each the next of a session's (a new session when one runs out);
    /// only the heartbeats are counted.
    async fn heartbeats(&mut self, iters: u64) -> Spent {
        let mut spent = Spent::default();
        let mut session: Option<PlayedSession> = None;
        for _ in 0..iters {
            let (path, body) = loop {
                if let Some(s) = &mut session
                    && let Some(body) = s.heartbeats.next()
                {
                    break (s.heartbeat_path.clone(), body);
                }
                session = Some(self.session().await);
            };
            self.play(&path, body, &mut spent).await;
        }
        spent
    }

    /// `iters` finishes, each of a game whose heartbeats were sent first (not counted).
    async fn finishes(&mut self, iters: u64) -> Spent {
        let mut spent = Spent::default();
        let mut untimed = Spent::default();
        for _ in 0..iters {
            let session = self.session().await;
            for body in session.heartbeats {
                self.play(&session.heartbeat_path, body, &mut untimed).await;
            }
            self.play(&session.finish_path, session.finish, &mut spent)
                .await;
        }
        spent
    }
}

fn requests(c: &mut Criterion) {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("a runtime");
    let hello = BoxCloneSyncService::new(hello_router());
    let (arcade, _env) = arcade_service(&rt);
    let mut group = c.benchmark_group("request");
    let cases: [(&str, &Answering, &str); 5] = [
        ("hello_floor", &hello, "/"),
        ("health_live", &arcade, "/health/live"),
        (
            "leaderboard_top10",
            &arcade,
            "/api/games/egg-catcher/leaderboard?limit=10",
        ),
        ("game_page", &arcade, "/play/egg-catcher"),
        ("games_list", &arcade, "/api/games"),
    ];
    for (name, router, path) in cases {
        rt.block_on(warm(router, path));
        group.bench_function(name, |b| {
            b.iter_custom(|iters| rt.block_on(answer(router, path, iters)))
        });
    }
    // Sessions on their own backends, whose clock moves.
    let (router, clock, _play_env) = play_service(&rt);
    let mut player = Player {
        router: &router,
        clock: &clock,
        token: None,
    };
    for (name, cpu) in [("heartbeat", false), ("heartbeat_cpu", true)] {
        group.bench_function(name, |b| {
            b.iter_custom(|iters| rt.block_on(player.heartbeats(iters)).pick(cpu))
        });
    }
    for (name, cpu) in [("finish", false), ("finish_cpu", true)] {
        group.bench_function(name, |b| {
            b.iter_custom(|iters| rt.block_on(player.finishes(iters)).pick(cpu))
        });
    }
    group.finish();
}

criterion_group!(benches, requests);
criterion_main!(benches);
