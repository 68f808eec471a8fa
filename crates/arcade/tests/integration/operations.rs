//! Operations: health, draining, metrics, request ids, OpenAPI, pages and the healthcheck.

use std::time::Duration;

use arcade::config::HealthcheckArgs;
use arcade_testkit::{StatusCode, TestEnv, spawn_app, spawn_app_with};
use serde_json::{Value, json};
use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};

#[tokio::test]
async fn liveness_and_readiness_report_each_dependency() {
    let app = spawn_app().await;
    let live: Value = app.get("/health/live").await.json().await.unwrap();
    assert_eq!(live["status"], "live");
    let ready = app.wait_ready().await;
    assert_eq!(ready["status"], "ready");
    assert_eq!(ready["dependencies"][0]["name"], "database");
    assert_eq!(ready["dependencies"][0]["status"], "up");
}

#[tokio::test]
async fn readiness_turns_503_while_draining_and_in_flight_requests_finish() {
    let env = TestEnv::new().await;
    let args = env.serve_args(&["--drain-delay", "700ms"]).await;
    let clock = std::sync::Arc::new(arcade_domain::time::SystemClock);
    let app = arcade::app::Application::build(
        &args.settings().unwrap(),
        clock,
        arcade::runtime::metrics(),
    )
    .await
    .unwrap();
    let base = format!("http://{}", app.local_addr());
    let (tx, rx) = tokio::sync::oneshot::channel::<()>();
    let server = tokio::spawn(app.run_until(async {
        let _ = rx.await;
    }));
    let client = reqwest::Client::new();
    let ready = |c: reqwest::Client, b: String| async move {
        c.get(format!("{b}/health/ready"))
            .send()
            .await
            .map(|r| r.status())
    };
    // Dependencies (NATS) connect in the background: wait until ready before draining.
    let mut status = None;
    for _ in 0..200 {
        status = ready(client.clone(), base.clone()).await.ok();
        if status == Some(StatusCode::OK) {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert_eq!(status, Some(StatusCode::OK));
    tx.send(()).unwrap();
    tokio::time::sleep(Duration::from_millis(150)).await;
    let draining = client
        .get(format!("{base}/health/ready"))
        .send()
        .await
        .unwrap();
    assert_eq!(draining.status(), StatusCode::SERVICE_UNAVAILABLE);
    let body: Value = draining.json().await.unwrap();
    assert_eq!(body["status"], "draining");
    // Still serving other requests while draining.
    let games = client
        .get(format!("{base}/api/games"))
        .send()
        .await
        .unwrap();
    assert_eq!(games.status(), StatusCode::OK);
    tokio::time::timeout(Duration::from_secs(10), server)
        .await
        .expect("the server stops after draining")
        .unwrap()
        .unwrap();
    assert!(ready(client, base).await.is_err(), "the listener is closed");
}

#[tokio::test]
async fn past_the_in_flight_limit_requests_are_refused_at_once_but_probes_and_pages_are_not() {
    let app = spawn_app_with(&["--max-requests-in-flight", "1"]).await;
    app.wait_ready().await;
    // A start whose body has not all arrived keeps its handler reading, and the one permit.
    let body = br#"{"player":"held"}"#;
    let mut held = tokio::net::TcpStream::connect(app.address).await.unwrap();
    let head = format!(
        "POST /api/games/egg-catcher/sessions HTTP/1.1\r\nhost: arcade\r\n\
         content-type: application/json\r\ncontent-length: {}\r\n\r\n",
        body.len()
    );
    held.write_all(head.as_bytes()).await.unwrap();
    held.write_all(&body[..4]).await.unwrap();
    let mut refused = None;
    for _ in 0..200 {
        let r = app.get("/api/games").await;
        if r.status() == StatusCode::SERVICE_UNAVAILABLE {
            refused = Some(r);
            break;
        }
        assert_eq!(r.status(), StatusCode::OK);
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    let refused = refused.expect("a request is refused while another holds the only permit");
    assert_eq!(refused.headers()["retry-after"], "1");
    assert_eq!(
        refused.headers()["content-type"],
        "application/problem+json"
    );
    let problem: Value = refused.json().await.unwrap();
    assert_eq!(problem["type"], "overloaded");
    assert_eq!(problem["status"], 503);
    let metrics = app.get("/metrics").await.text().await.unwrap();
    assert!(
        metrics
            .lines()
            .any(|l| l.starts_with("arcade_requests_refused_total ") && !l.ends_with(" 0")),
        "{metrics}"
    );
    // Probes, scrapes, pages and cached boards are not counted against the limit.
    for path in [
        "/health/live",
        "/health/ready",
        "/metrics",
        "/",
        "/play/egg-catcher",
        "/api/games/egg-catcher/leaderboard",
    ] {
        assert_eq!(app.get(path).await.status(), StatusCode::OK, "{path}");
    }
    // The held request completes normally, and frees its permit.
    held.write_all(&body[4..]).await.unwrap();
    let mut answer = vec![0u8; 12];
    tokio::time::timeout(Duration::from_secs(5), held.read_exact(&mut answer))
        .await
        .expect("the held request is answered")
        .unwrap();
    assert_eq!(&answer, b"HTTP/1.1 201");
    assert_eq!(app.get("/api/games").await.status(), StatusCode::OK);
}

#[tokio::test]
async fn metrics_expose_the_contract_names_after_a_game() {
    let app = spawn_app().await;
    let (status, _, _, _) = app.play_game("egg-catcher", "Lee", None, 60).await;
    assert_eq!(status, StatusCode::OK);
    app.start_ok("egg-catcher", "Lee2", None).await;
    app.get("/api/games/egg-catcher/leaderboard").await;
    let expected: Vec<&str> = arcade_telemetry::METRIC_NAMES
        .iter()
        .copied()
        .filter(|name| {
            // No webhook configured, no cheating (nor any score flagged) in this test,
            // embedded boards have no cache to fall back from, and no operator acted.
            ![
                "arcade_webhook_deliveries_total",
                "arcade_webhook_delivery_duration_seconds",
                "arcade_replays_rejected_total",
                "arcade_scores_flagged_total",
                "arcade_rank_fallbacks_total",
                "arcade_admin_actions_total",
            ]
            .contains(name)
        })
        .collect();
    // The relay publishes the game's events soon after, not within the finish.
    let mut text = String::new();
    for _ in 0..50 {
        let r = app.get("/metrics").await;
        assert!(
            r.headers()["content-type"]
                .to_str()
                .unwrap()
                .starts_with("application/openmetrics-text")
        );
        text = r.text().await.unwrap();
        if expected
            .iter()
            .all(|name| text.lines().any(|l| l.starts_with(name)))
        {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    for name in expected {
        assert!(
            text.lines().any(|l| l.starts_with(name)),
            "{name} missing:\n{text}"
        );
    }
    assert!(
        text.contains("arcade_active_sessions{game=\"egg-catcher\"} 1"),
        "{text}"
    );
    assert!(text.contains("arcade_sessions_started_total{game=\"egg-catcher\"} 2"));
    assert!(text.contains("arcade_sessions_resumed_total{game=\"2048\"} 0"));
    assert!(text.contains("arcade_scores_submitted_total{game=\"egg-catcher\"} 1"));
    assert!(text.contains("arcade_dependency_up{dependency=\"database\"} 1"));
    // Routes are labelled by their template, never the raw path.
    assert!(text.contains("route=\"/api/games/{game}/leaderboard\""));
    assert!(!text.contains("route=\"/api/games/egg-catcher/leaderboard\""));
}

#[tokio::test]
async fn request_ids_are_echoed_or_generated() {
    let app = spawn_app().await;
    let r = app
        .client
        .get(app.url("/api/games"))
        .header("x-request-id", "trace-me-123")
        .send()
        .await
        .unwrap();
    assert_eq!(r.headers()["x-request-id"], "trace-me-123");
    let r = app.get("/api/games").await;
    let generated = r.headers()["x-request-id"].to_str().unwrap();
    assert_eq!(generated.len(), 36, "a UUID: {generated}");
}

#[tokio::test]
async fn the_openapi_document_describes_every_endpoint_and_error() {
    let app = spawn_app().await;
    let doc: Value = app.get("/openapi.json").await.json().await.unwrap();
    let paths = doc["paths"].as_object().unwrap();
    for (path, method) in [
        ("/api/games", "get"),
        ("/api/games/{game}/sessions", "post"),
        ("/api/sessions/{id}/heartbeat", "post"),
        ("/api/sessions/{id}/finish", "post"),
        ("/api/games/{game}/leaderboard", "get"),
        ("/api/games/{game}/players/{name}", "get"),
        ("/api/games/{game}/players/{name}/scores", "get"),
        ("/health/live", "get"),
        ("/health/ready", "get"),
        ("/metrics", "get"),
    ] {
        assert!(
            paths[path][method].is_object(),
            "{method} {path} undocumented"
        );
    }
    let start = &paths["/api/games/{game}/sessions"]["post"]["responses"];
    for status in ["201", "400", "401", "404", "413", "422", "429", "503"] {
        assert!(
            start[status].is_object(),
            "start session: {status} undocumented"
        );
    }
    let finish = &paths["/api/sessions/{id}/finish"]["post"]["responses"];
    for status in ["200", "404", "409", "410", "422", "503"] {
        assert!(finish[status].is_object(), "finish: {status} undocumented");
    }
    assert!(doc["components"]["schemas"]["Problem"].is_object());
    // The served document is the one generated from the code.
    // Every status, bound and format the server enforces is in the document.
    for path in ["/api/sessions/{id}/heartbeat", "/api/sessions/{id}/finish"] {
        let op = &paths[path]["post"];
        assert!(
            op["responses"]["415"].is_object(),
            "{path}: 415 undocumented"
        );
        assert_eq!(op["parameters"][0]["schema"]["format"], "uuid", "{path}");
    }
    assert!(start["415"].is_object(), "start session: 415 undocumented");
    let schemas = &doc["components"]["schemas"];
    let player = &schemas["StartSessionRequest"]["properties"]["player"];
    assert_eq!(player["minLength"], 1);
    assert_eq!(player["format"], "player-name");
    let pair = &schemas["InputsRequest"]["properties"]["inputs"]["items"];
    assert_eq!(
        (pair["minItems"].as_u64(), pair["maxItems"].as_u64()),
        (Some(2), Some(2))
    );
    assert_eq!(pair["items"]["maximum"], u32::MAX);
    let board = paths["/api/games/{game}/leaderboard"]["get"]["parameters"]
        .as_array()
        .unwrap();
    let limit = board.iter().find(|p| p["name"] == "limit").unwrap();
    assert_eq!(
        (
            limit["schema"]["minimum"].as_u64(),
            limit["schema"]["maximum"].as_u64()
        ),
        (Some(1), Some(100))
    );
    let period = board.iter().find(|p| p["name"] == "period").unwrap();
    assert_eq!(period["schema"]["$ref"], "#/components/schemas/PeriodName");
    assert_eq!(schemas["PeriodName"]["enum"], json!(["all", "day", "week"]));
    let stream =
        &paths["/api/events"]["get"]["responses"]["200"]["content"]["text/event-stream"]["schema"];
    let reset = stream["oneOf"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["properties"]["event"]["const"] == "reset")
        .expect("the reset event is described");
    assert_eq!(
        reset["properties"]["data"]["contentMediaType"],
        "application/json"
    );
    assert_eq!(doc, serde_json::to_value(arcade_server::openapi()).unwrap());
}

#[tokio::test]
async fn strict_transport_security_is_sent_only_when_configured() {
    let app = spawn_app().await;
    for path in ["/", "/api/games", "/assets/games/egg-catcher/sim.js"] {
        let r = app.get(path).await;
        assert!(
            r.headers().get("strict-transport-security").is_none(),
            "{path}"
        );
    }
    let app = arcade_testkit::spawn_app_with(&["--hsts-max-age", "365d"]).await;
    for path in [
        "/",
        "/api/games",
        "/assets/games/egg-catcher/sim.js",
        "/no-such-page",
    ] {
        let r = app.get(path).await;
        assert_eq!(
            r.headers()["strict-transport-security"],
            "max-age=31536000; includeSubDomains",
            "{path}"
        );
    }
}

#[tokio::test]
async fn pages_and_assets_are_served_with_caching_security_and_compression() {
    let app = spawn_app().await;
    let home = app.get("/").await;
    assert_eq!(home.status(), StatusCode::OK);
    assert!(
        home.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/html")
    );
    assert!(
        home.headers()["content-security-policy"]
            .to_str()
            .unwrap()
            .contains("default-src 'self'")
    );
    assert_eq!(home.headers()["cache-control"], "no-cache");
    // Answers that are not pages may load and frame nothing.
    let games = app.get("/api/games").await;
    assert_eq!(
        games.headers()["content-security-policy"],
        "default-src 'none'; frame-ancestors 'none'"
    );
    let play = app.get("/play/egg-catcher").await;
    assert_eq!(play.status(), StatusCode::OK);
    let sim = app.get("/assets/games/egg-catcher/sim.js").await;
    assert_eq!(sim.status(), StatusCode::OK);
    assert!(
        sim.headers()["content-type"]
            .to_str()
            .unwrap()
            .contains("javascript")
    );
    let etag = sim.headers()["etag"].to_str().unwrap().to_owned();
    let again = app
        .client
        .get(app.url("/assets/games/egg-catcher/sim.js"))
        .header("if-none-match", &etag)
        .send()
        .await
        .unwrap();
    assert_eq!(again.status(), StatusCode::NOT_MODIFIED);
    let gz = reqwest::Client::builder()
        .no_gzip()
        .build()
        .unwrap()
        .get(app.url("/assets/games/egg-catcher/sim.js"))
        .header("accept-encoding", "gzip")
        .send()
        .await
        .unwrap();
    assert_eq!(gz.headers()["content-encoding"], "gzip");
    assert_eq!(
        app.get("/assets/nope.js").await.status(),
        StatusCode::NOT_FOUND
    );
    assert_eq!(
        app.get("/assets/../Cargo.toml").await.status(),
        StatusCode::NOT_FOUND
    );
}

#[tokio::test]
async fn the_operators_console_is_a_page_like_the_others_kept_from_search_engines() {
    let app = spawn_app().await;
    let home = app.get("/").await;
    let console = app.get("/admin").await;
    assert_eq!(console.status(), StatusCode::OK);
    // The pages' policy and headers: its script and styles are files, nothing inline runs.
    for name in [
        "content-security-policy",
        "permissions-policy",
        "x-frame-options",
        "referrer-policy",
        "x-content-type-options",
        "cache-control",
    ] {
        assert_eq!(
            console.headers().get(name),
            home.headers().get(name),
            "{name}"
        );
    }
    assert_eq!(console.headers()["cache-control"], "no-cache");
    assert_eq!(console.headers()["x-robots-tag"], "noindex, nofollow");
    let etag = console.headers()["etag"].to_str().unwrap().to_owned();
    let html = console.text().await.unwrap();
    assert!(html.contains(r#"<meta name="robots" content="noindex, nofollow">"#));
    assert!(html.contains(r#"<script type="module" src="/assets/js/admin.js">"#));
    assert!(!html.contains("<script>") && !html.contains("<style") && !html.contains(" style="));
    let again = app
        .client
        .get(app.url("/admin"))
        .header("if-none-match", &etag)
        .send()
        .await
        .unwrap();
    assert_eq!(again.status(), StatusCode::NOT_MODIFIED);
    assert_eq!(again.headers()["x-robots-tag"], "noindex, nofollow");
    assert_eq!(
        again.headers()["content-security-policy"],
        home.headers()["content-security-policy"]
    );
    // Its script is an asset like the others: cached briefly, loading nothing itself.
    let script = app.get("/assets/js/admin.js").await;
    assert_eq!(script.status(), StatusCode::OK);
    assert!(
        script.headers()["content-type"]
            .to_str()
            .unwrap()
            .contains("javascript")
    );
    assert_eq!(script.headers()["cache-control"], "public, max-age=300");
    assert_eq!(
        script.headers()["content-security-policy"],
        "default-src 'none'; frame-ancestors 'none'"
    );
    // Nothing public links to it.
    assert!(!home.text().await.unwrap().contains("/admin"));
}

#[tokio::test]
async fn the_game_page_is_served_precompressed_with_its_own_etag() {
    let app = spawn_app().await;
    let get = |accept: &'static str, if_none_match: Option<String>| {
        let mut request = app
            .client
            .get(app.url("/play/egg-catcher"))
            .header("accept-encoding", accept);
        if let Some(tag) = if_none_match {
            request = request.header("if-none-match", tag);
        }
        request.send()
    };
    let br = get("gzip, deflate, br", None).await.unwrap();
    assert_eq!(br.status(), StatusCode::OK);
    let headers = br.headers().clone();
    assert_eq!(headers["content-encoding"], "br");
    assert_eq!(headers["vary"], "accept-encoding");
    assert_eq!(headers.get_all("vary").iter().count(), 1);
    assert_eq!(headers["content-type"], "text/html");
    assert_eq!(headers["cache-control"], "no-cache");
    assert!(headers.contains_key("content-security-policy"));
    let tag = headers["etag"].to_str().unwrap().to_owned();
    assert!(tag.ends_with("-br\""), "{tag}");
    let length: usize = headers["content-length"].to_str().unwrap().parse().unwrap();
    assert_eq!(br.bytes().await.unwrap().len(), length);
    let plain = get("identity", None).await.unwrap();
    assert!(!plain.headers().contains_key("content-encoding"));
    let plain_tag = plain.headers()["etag"].to_str().unwrap().to_owned();
    assert_eq!(format!("{}-br\"", plain_tag.trim_end_matches('"')), tag);
    assert!(plain.bytes().await.unwrap().len() > length);

    let again = get("br", Some(tag.clone())).await.unwrap();
    assert_eq!(again.status(), StatusCode::NOT_MODIFIED);
    assert_eq!(again.headers()["etag"], tag.as_str());
    let other = get("gzip", Some(tag)).await.unwrap();
    assert_eq!(other.status(), StatusCode::OK);
    assert_eq!(other.headers()["content-encoding"], "gzip");

    // Other responses are still compressed on the way out, when large enough to gain.
    let doc = get_with_gzip(&app, "/openapi.json").await;
    assert_eq!(doc.headers()["content-encoding"], "gzip");
    let games = get_with_gzip(&app, "/api/games").await;
    assert!(games.headers().get("content-encoding").is_none());
    let games = games.bytes().await.unwrap();
    assert!(
        games.len() < 512,
        "the catalogue grew: {} bytes",
        games.len()
    );
    serde_json::from_slice::<Value>(&games).expect("a JSON body as it is");
}

async fn get_with_gzip(app: &arcade_testkit::TestApp, path: &str) -> reqwest::Response {
    app.client
        .get(app.url(path))
        .header("accept-encoding", "gzip")
        .send()
        .await
        .unwrap()
}

#[tokio::test]
async fn the_healthcheck_command_passes_on_a_ready_server_and_fails_otherwise() {
    let app = spawn_app().await;
    app.wait_ready().await;
    let args = HealthcheckArgs {
        url: None,
        listen: app.address,
        timeout: Duration::from_secs(2),
    };
    arcade::healthcheck::probe(&args).await.unwrap();
    let closed = HealthcheckArgs {
        url: Some("http://127.0.0.1:9/health/ready".to_owned()),
        ..args
    };
    assert!(arcade::healthcheck::probe(&closed).await.is_err());
}

#[tokio::test]
async fn a_revalidated_page_or_asset_keeps_the_headers_of_its_full_answer() {
    // A browser that revalidates a kept page applies the 304's headers to it (RFC 9111
    // 4.3.4): a 304 with another security policy than its 200 leaves the page unstyled and
    // its scripts blocked on every return visit.
    let app = spawn_app().await;
    let kept = [
        "cache-control",
        "etag",
        "vary",
        "content-security-policy",
        "x-content-type-options",
        "referrer-policy",
        "x-frame-options",
    ];
    let client = reqwest::Client::builder()
        .no_gzip()
        .no_brotli()
        .build()
        .unwrap();
    for path in [
        "/",
        "/play/egg-catcher",
        "/admin",
        "/assets/css/arcade.css",
        "/assets/js/play.js",
        "/assets/js/admin.js",
        "/assets/img/favicon.svg",
        "/favicon.ico",
    ] {
        for accept in ["identity", "gzip", "gzip, deflate, br, zstd"] {
            let full = client
                .get(app.url(path))
                .header("accept-encoding", accept)
                .send()
                .await
                .unwrap();
            assert_eq!(full.status(), StatusCode::OK, "{path} ({accept})");
            let etag = full.headers()["etag"].to_str().unwrap().to_owned();
            let again = client
                .get(app.url(path))
                .header("accept-encoding", accept)
                .header("if-none-match", &etag)
                .send()
                .await
                .unwrap();
            assert_eq!(
                again.status(),
                StatusCode::NOT_MODIFIED,
                "{path} ({accept})"
            );
            for name in kept {
                assert_eq!(
                    again.headers().get(name),
                    full.headers().get(name),
                    "{name} of {path} ({accept}) differs between the 304 and the 200"
                );
            }
            assert!(
                full.headers().contains_key("content-security-policy"),
                "{path} has no policy"
            );
        }
    }
}
