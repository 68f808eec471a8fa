//! One path for every request: the hottest reads (a board's first page, a game's page) go
//! through the same router and layers as any other, and come out answered from memory with
//! their route group's headers, as they do over a socket.

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
async fn the_hot_reads_go_through_the_router_and_its_layers_like_any_request() {
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
    let router = app.router();

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
        // The first answer keeps the page in memory; the next ones are from there, the same.
        let first = router.clone().oneshot(get(path, headers)).await.unwrap();
        assert!(
            first.status().is_success() || first.status() == StatusCode::NOT_MODIFIED,
            "{path}: {}",
            first.status()
        );
        let first = parts(first).await;
        let again = parts(router.clone().oneshot(get(path, headers)).await.unwrap()).await;
        assert_eq!(again, first, "{path} {headers:?}");
        let (_, headers_out, _) = &again;
        // Every answer of a group carries the group's policy, 304 included.
        let page = path.starts_with("/play/");
        let policy = headers_out[header::CONTENT_SECURITY_POLICY]
            .to_str()
            .unwrap();
        assert_eq!(
            policy.contains("default-src 'self'"),
            page,
            "{path}: {policy}"
        );
        assert_eq!(
            headers_out.contains_key("permissions-policy"),
            page,
            "{path}"
        );
        assert_eq!(headers_out[header::X_CONTENT_TYPE_OPTIONS], "nosniff");
    }
    let left = [
        "/api/games/egg-catcher/leaderboard?limit=0",
        "/api/games/egg-catcher/leaderboard?limit=ten",
        "/api/games/egg-catcher/leaderboard?period=century",
        "/api/games/egg-catcher/leaderboard?colour=red",
        "/api/games/egg-catcher/leaderboard?cursor=abc",
        "/api/games/pong/leaderboard",
        "/api/games/egg-catcher/leaderboard/",
        "/play/pong",
    ];
    for path in left {
        let r = router.clone().oneshot(get(path, &[])).await.unwrap();
        assert!(r.status().is_client_error(), "{path}: {}", r.status());
        let (_, headers, _) = parts(r).await;
        assert_eq!(
            headers[header::CONTENT_TYPE],
            "application/problem+json",
            "{path}"
        );
        assert!(
            headers.contains_key(header::CONTENT_SECURITY_POLICY),
            "{path}"
        );
    }
    // A HEAD of a page is answered by the same route, without a body.
    let head = Request::head("/play/egg-catcher")
        .body(Body::empty())
        .unwrap();
    let head = router.clone().oneshot(head).await.unwrap();
    assert_eq!(head.status(), StatusCode::OK);
    assert!(head.headers().contains_key("permissions-policy"));

    // Counted under the router's own templates: one label each.
    let metrics = parts(router.clone().oneshot(get("/metrics", &[])).await.unwrap())
        .await
        .2;
    let metrics = String::from_utf8(metrics.to_vec()).unwrap();
    let routes: std::collections::BTreeSet<&str> = metrics
        .lines()
        .filter(|l| l.starts_with("arcade_http_requests_total{"))
        .filter_map(|l| l.split("route=\"").nth(1)?.split('"').next())
        .collect();
    for (route, part) in [
        ("/api/games/{game}/leaderboard", "/leaderboard"),
        ("/play/{game}", "/play/"),
    ] {
        let labels: Vec<_> = routes.iter().filter(|r| r.contains(part)).collect();
        assert_eq!(labels, [&route], "{metrics}");
    }
}
