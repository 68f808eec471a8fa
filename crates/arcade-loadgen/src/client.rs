//! A keep-alive HTTP/1.1 client over a connection pool, light enough to share two cores with
//! the server it loads. Every call is timed and bounded by a timeout.

use std::time::{Duration, Instant};

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::{Method, Request, StatusCode};
use hyper_util::client::legacy::Client as Pool;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::TokioExecutor;

use crate::target::Target;

/// What one request got: the status (None when it failed or timed out) and the body.
#[derive(Debug)]
pub struct Answer {
    pub status: Option<StatusCode>,
    pub body: Bytes,
    pub elapsed: Duration,
    /// Why it failed, when it did not get an answer.
    pub failure: Option<String>,
}

#[derive(Clone)]
pub struct Client {
    pool: Pool<HttpConnector, Full<Bytes>>,
    target: Target,
    timeout: Duration,
}

impl Client {
    pub fn new(target: Target, timeout: Duration) -> Self {
        let mut connector = HttpConnector::new();
        connector.set_nodelay(true);
        let pool = Pool::builder(TokioExecutor::new())
            .pool_idle_timeout(Duration::from_secs(30))
            .pool_max_idle_per_host(1024)
            .build(connector);
        Self {
            pool,
            target,
            timeout,
        }
    }

    pub async fn get(&self, path: &str) -> Answer {
        self.send(Method::GET, path, None).await
    }

    pub async fn post_json(&self, path: &str, body: Vec<u8>) -> Answer {
        self.send(Method::POST, path, Some(body)).await
    }

    async fn send(&self, method: Method, path: &str, body: Option<Vec<u8>>) -> Answer {
        let started = Instant::now();
        let mut request = Request::builder().method(method).uri(self.target.url(path));
        if body.is_some() {
            request = request.header("content-type", "application/json");
        }
        let request = match request.body(Full::new(Bytes::from(body.unwrap_or_default()))) {
            Ok(r) => r,
            Err(e) => return failed(started, format!("bad request: {e}")),
        };
        let exchange = async {
            let response = self.pool.request(request).await.map_err(|e| {
                // The connection error is the useful part ("connection refused").
                let mut text = e.to_string();
                let mut source = std::error::Error::source(&e);
                while let Some(s) = source {
                    text = format!("{text}: {s}");
                    source = s.source();
                }
                text
            })?;
            let status = response.status();
            let body = response
                .into_body()
                .collect()
                .await
                .map_err(|e| format!("reading the body: {e}"))?
                .to_bytes();
            Ok::<_, String>((status, body))
        };
        match tokio::time::timeout(self.timeout, exchange).await {
            Ok(Ok((status, body))) => Answer {
                status: Some(status),
                body,
                elapsed: started.elapsed(),
                failure: None,
            },
            Ok(Err(e)) => failed(started, e),
            Err(_) => failed(started, "timeout".to_owned()),
        }
    }
}

fn failed(started: Instant, why: String) -> Answer {
    Answer {
        status: None,
        body: Bytes::new(),
        elapsed: started.elapsed(),
        failure: Some(why),
    }
}
