//! The server's own work per request, without sockets or the kernel: each request goes through
//! the same router and middleware as a served one (cloned per request, as a connection does),
//! beside an axum "hello world" route, the floor the HTTP benchmarks compare with. The gap
//! between the two is what Arcade adds to every response. `cargo bench -p arcade --bench
//! requests`.

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use arcade::app::{Application, system_clock};
use arcade_testkit::{TestEnv, spawn_app_in};
use axum::Router;
use axum::body::Body;
use axum::extract::ConnectInfo;
use axum::http::{Request, StatusCode, header};
use axum::routing::get;
use criterion::{Criterion, criterion_group, criterion_main};
use tower::ServiceExt;

const BROWSER_ENCODINGS: &str = "gzip, deflate, br, zstd";

/// A router over a board of ten players, built as `arcade serve` builds it.
fn arcade_router(rt: &tokio::runtime::Runtime) -> (Router, TestEnv) {
    rt.block_on(async {
        let env = TestEnv::new().await;
        let app = spawn_app_in(env.clone(), &[]).await;
        for i in 0..10 {
            let (status, body, ..) = app.play_game(&format!("bench{i}"), None, 40 + i * 5).await;
            assert_eq!(status, StatusCode::OK, "{body}");
        }
        app.stop().await.expect("the filling server stops");
        let args = env.serve_args(&[]).await;
        let app = Application::build(&args, system_clock())
            .await
            .expect("the server builds");
        (app.router(), env)
    })
}

fn hello_router() -> Router {
    Router::new().route("/", get(|| async { "Hello, world!" }))
}

/// A GET as a browser sends it, with the peer address a served connection attaches.
fn request(path: &str) -> Request<Body> {
    let mut r = Request::get(path)
        .header(header::HOST, "127.0.0.1:8080")
        .header(header::ACCEPT_ENCODING, BROWSER_ENCODINGS)
        .body(Body::empty())
        .expect("a valid request");
    r.extensions_mut()
        .insert(ConnectInfo(SocketAddr::from(([127, 0, 0, 1], 40_000))));
    r
}

/// `iters` requests to `path`, one after another, each answered in full (body included).
async fn answer(router: &Router, path: &str, iters: u64) -> Duration {
    let started = Instant::now();
    for _ in 0..iters {
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
    started.elapsed()
}

fn requests(c: &mut Criterion) {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("a runtime");
    let hello = hello_router();
    let (arcade, _env) = arcade_router(&rt);
    let mut group = c.benchmark_group("request");
    let cases: [(&str, &Router, &str); 5] = [
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
        group.bench_function(name, |b| {
            b.iter_custom(|iters| rt.block_on(answer(router, path, iters)))
        });
    }
    group.finish();
}

criterion_group!(benches, requests);
criterion_main!(benches);
