//! The reads answered before routing give the router's own answers, and leave to it every
//! request they cannot answer at once.

use arcade::app::{Application, system_clock};
use arcade::runtime::metrics;
use arcade_testkit::{StatusCode, TestEnv, spawn_app_in};
use axum::body::Body;
use axum::http::{HeaderMap, Request, header};
use axum::response::Response;
use tower::ServiceExt;

const BROWSER: &str = "gzip, deflate, br, zstd";

fn get(path: &str, headers: &[(header::HeaderName, &str)]) -> Request<Body> {
    let mut request = Request::get(path);
    for (name, value) in headers {
        request = request.header(name, *value);
    }
    request.body(Body::empty()).expect("a valid request")
}

/// Status, headers and body, but for the request id (each answer has its own) and the
/// length, which the router writes as a header and the connection writes for any body of known
/// size (checked here to be the body's).
async fn parts(response: Response) -> (StatusCode, HeaderMap, axum::body::Bytes) {
    let (parts, body) = response.into_parts();
    let mut headers = parts.headers;
    assert!(headers.remove(arcade_server::REQUEST_ID).is_some());
    let length = headers.remove(header::CONTENT_LENGTH);
    let hint = axum::body::HttpBody::size_hint(&body).exact();
    let body = axum::body::to_bytes(body, usize::MAX).await.unwrap();
    assert_eq!(hint, Some(body.len() as u64));
    if let Some(length) = length {
        assert_eq!(length.to_str().unwrap(), body.len().to_string());
    }
    (parts.status, headers, body)
}

#[tokio::test]
async fn hot_reads_answer_as_the_router_does_and_leave_the_rest_to_it() {
    let env = TestEnv::new().await;
    let filling = spawn_app_in(env.clone(), &[]).await;
    for (i, skill) in [30, 60, 90].into_iter().enumerate() {
        let (status, body, ..) = filling
            .play_game("egg-catcher", &format!("hot{i}"), None, skill)
            .await;
        assert_eq!(status, StatusCode::OK, "{body}");
    }
    // Over a socket, the second read is answered at once, with its length.
    for _ in 0..2 {
        let r = filling.get("/api/games/egg-catcher/leaderboard").await;
        assert_eq!(r.status(), StatusCode::OK);
        let length = r.headers()[header::CONTENT_LENGTH]
            .to_str()
            .unwrap()
            .to_owned();
        assert_eq!(length, r.bytes().await.unwrap().len().to_string());
    }
    filling.stop().await.unwrap();
    let args = env.serve_args(&[]).await;
    let app = Application::build(&args.settings().unwrap(), system_clock(), metrics())
        .await
        .unwrap();
    let (hot, router) = (app.service(), app.router());

    let etag = router
        .clone()
        .oneshot(get(
            "/play/egg-catcher",
            &[(header::ACCEPT_ENCODING, BROWSER)],
        ))
        .await
        .unwrap()
        .headers()[header::ETAG]
        .to_str()
        .unwrap()
        .to_owned();
    let answered: Vec<(&str, Vec<(header::HeaderName, &str)>)> = vec![
        ("/api/games/egg-catcher/leaderboard", vec![]),
        (
            "/api/games/egg-catcher/leaderboard?limit=10",
            vec![(header::ACCEPT_ENCODING, BROWSER)],
        ),
        (
            "/api/games/egg-catcher/leaderboard?limit=2&period=day",
            vec![(header::ACCEPT_ENCODING, "gzip")],
        ),
        (
            "/api/games/egg-catcher/leaderboard?period=week",
            vec![(header::ACCEPT_ENCODING, "br")],
        ),
        ("/play/egg-catcher", vec![]),
        (
            "/play/egg-catcher",
            vec![(header::ACCEPT_ENCODING, BROWSER)],
        ),
        ("/play/egg-catcher", vec![(header::ACCEPT_ENCODING, "gzip")]),
        (
            "/play/egg-catcher",
            vec![
                (header::ACCEPT_ENCODING, BROWSER),
                (header::IF_NONE_MATCH, &etag),
            ],
        ),
    ];
    for (path, headers) in &answered {
        // The router's first answer keeps the page in memory; its second is from there too.
        let first = router.clone().oneshot(get(path, headers)).await.unwrap();
        assert!(
            first.status().is_success() || first.status() == StatusCode::NOT_MODIFIED,
            "{path}: {}",
            first.status()
        );
        let routed = parts(router.clone().oneshot(get(path, headers)).await.unwrap()).await;
        let at_once = hot
            .answer(&get(path, headers))
            .unwrap_or_else(|| panic!("{path} {headers:?} is answered at once"));
        let at_once = parts(at_once).await;
        assert_eq!(at_once, routed, "{path} {headers:?}");
        let served = parts(hot.clone().oneshot(get(path, headers)).await.unwrap()).await;
        assert_eq!(served, routed, "{path} {headers:?}");
    }

    let left = [
        "/api/games/egg-catcher/leaderboard?limit=0",
        "/api/games/egg-catcher/leaderboard?limit=ten",
        "/api/games/egg-catcher/leaderboard?period=century",
        "/api/games/egg-catcher/leaderboard?colour=red",
        "/api/games/egg-catcher/leaderboard?cursor=abc",
        "/api/games/egg-catcher/leaderboard?limit=7",
        "/api/games/pong/leaderboard",
        "/api/games/egg%2Dcatcher/leaderboard",
        "/api/games/egg-catcher/leaderboard/",
        "/play/pong",
        "/play/egg%2Dcatcher",
    ];
    for path in left {
        assert!(
            hot.answer(&get(path, &[])).is_none(),
            "{path} is the router's"
        );
        let served = parts(hot.clone().oneshot(get(path, &[])).await.unwrap()).await;
        let routed = parts(router.clone().oneshot(get(path, &[])).await.unwrap()).await;
        assert_eq!(served.0, routed.0, "{path}");
        assert_eq!(
            served.1.get(header::CONTENT_TYPE),
            routed.1.get(header::CONTENT_TYPE),
            "{path}"
        );
    }
    let head = Request::head("/play/egg-catcher")
        .body(Body::empty())
        .unwrap();
    assert!(hot.answer(&head).is_none(), "only GET is answered at once");

    // Counted under the router's own templates: one label each, whichever answered.
    let metrics = parts(hot.clone().oneshot(get("/metrics", &[])).await.unwrap())
        .await
        .2;
    let metrics = String::from_utf8(metrics.to_vec()).unwrap();
    let routes: std::collections::BTreeSet<&str> = metrics
        .lines()
        .filter(|l| l.starts_with("arcade_http_requests_total{"))
        .filter_map(|l| l.split("route=\"").nth(1)?.split('"').next())
        .collect();
    for (route, part) in [
        (arcade_server::hot_paths::BOARD_ROUTE, "/leaderboard"),
        (arcade_server::hot_paths::PLAY_ROUTE, "/play/"),
    ] {
        let labels: Vec<_> = routes.iter().filter(|r| r.contains(part)).collect();
        assert_eq!(labels, [&route], "{metrics}");
    }
}
