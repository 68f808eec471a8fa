//! OpenTelemetry: with `OTEL_EXPORTER_OTLP_ENDPOINT` set, the real binary exports spans for
//! requests and storage calls over OTLP/HTTP, and its JSON log lines carry the trace id.

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::Router;
use axum::body::Bytes;
use axum::routing::post;

fn hex_to_bytes(hex: &str) -> Vec<u8> {
    (0..hex.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&hex[i..i + 2], 16).unwrap())
        .collect()
}

fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    haystack.windows(needle.len()).any(|w| w == needle)
}

fn count(haystack: &[u8], needle: &[u8]) -> usize {
    haystack
        .windows(needle.len())
        .filter(|w| *w == needle)
        .count()
}

#[tokio::test]
async fn requests_and_storage_calls_are_traced_and_logs_carry_the_trace_id() {
    // An in-test collector: keeps every OTLP/HTTP trace export it receives.
    let received: Arc<Mutex<Vec<Bytes>>> = Arc::default();
    let sink = received.clone();
    let collector = Router::new().route(
        "/v1/traces",
        post(move |body: Bytes| {
            let sink = sink.clone();
            async move {
                sink.lock().unwrap().push(body);
                ""
            }
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let collector_addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, collector).await.unwrap() });

    let data = tempfile::tempdir().unwrap();
    let port = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap().port()
    };
    let mut server = Command::new(env!("CARGO_BIN_EXE_arcade"))
        .args([
            "serve",
            "--listen",
            &format!("127.0.0.1:{port}"),
            "--drain-delay",
            "0s",
        ])
        .arg("--data-dir")
        .arg(data.path())
        .env(
            "OTEL_EXPORTER_OTLP_ENDPOINT",
            format!("http://{collector_addr}"),
        )
        .env("ARCADE_LOG_FORMAT", "json")
        .env("ARCADE_LOG", "info")
        .env_remove("DATABASE_URL")
        .env_remove("REDIS_URL")
        .env_remove("NATS_URL")
        .stdout(Stdio::piped())
        .spawn()
        .expect("the arcade binary starts");
    let stdout = server.stdout.take().unwrap();
    let lines: Arc<Mutex<Vec<String>>> = Arc::default();
    let log = lines.clone();
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines().map_while(Result::ok) {
            log.lock().unwrap().push(line);
        }
    });

    let base = format!("http://127.0.0.1:{port}");
    let client = reqwest::Client::new();
    let mut up = false;
    for _ in 0..100 {
        if client
            .get(format!("{base}/health/live"))
            .send()
            .await
            .is_ok()
        {
            up = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert!(up, "the server came up");
    let r = client
        .post(format!("{base}/api/games/egg-catcher/sessions"))
        .json(&serde_json::json!({"player": "Wren"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), reqwest::StatusCode::CREATED);
    // A board page read (not in memory, then from memory) and a page the router answers (an
    // unknown game): one span each, whichever answered it.
    for (path, status) in [
        (
            "/api/games/egg-catcher/leaderboard",
            reqwest::StatusCode::OK,
        ),
        (
            "/api/games/egg-catcher/leaderboard",
            reqwest::StatusCode::OK,
        ),
        ("/play/pong", reqwest::StatusCode::NOT_FOUND),
    ] {
        let r = client.get(format!("{base}{path}")).send().await.unwrap();
        assert_eq!(r.status(), status, "{path}");
    }

    // A graceful stop flushes the spans still buffered.
    let stopped = Command::new("kill")
        .args(["-TERM", &server.id().to_string()])
        .status()
        .unwrap();
    assert!(stopped.success());
    let exit = tokio::task::spawn_blocking(move || server.wait())
        .await
        .unwrap()
        .unwrap();
    assert!(exit.success(), "{exit:?}");
    tokio::time::sleep(Duration::from_millis(200)).await;

    let lines = lines.lock().unwrap().clone();
    let start_line = lines
        .iter()
        .map(|l| serde_json::from_str::<serde_json::Value>(l).unwrap_or_default())
        .find(|v| v["route"] == "/api/games/{game}/sessions")
        .unwrap_or_else(|| panic!("no log line for the start: {lines:?}"));
    let trace_id = start_line["trace_id"]
        .as_str()
        .expect("a trace id in the log line");
    assert_eq!(trace_id.len(), 32);
    let exports = received.lock().unwrap().clone();
    assert!(!exports.is_empty(), "no trace export arrived");
    let all: Vec<u8> = exports.iter().flat_map(|b| b.iter().copied()).collect();
    assert!(
        contains(&all, b"POST /api/games/{game}/sessions"),
        "request span missing"
    );
    assert_eq!(count(&all, b"GET /api/games/{game}/leaderboard"), 2);
    assert_eq!(count(&all, b"GET /play/{game}"), 1);
    assert!(
        contains(&all, b"sqlite.find_player"),
        "database span missing"
    );
    assert!(
        contains(&all, &hex_to_bytes(trace_id)),
        "the logged trace id was not exported"
    );
}
