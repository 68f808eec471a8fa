//! Read traffic at fixed rates, open loop, sent as a browser sends it (accepting compressed
//! bodies): each worker has a schedule and sends every due request on a task of its own, as
//! independent users would, so one slow answer never holds back the requests due after it. A
//! request the worker itself sent late is timed from when it was due, so a server that falls
//! behind shows it in the percentiles instead of quietly slowing the load down.

use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

use rand::rngs::StdRng;
use rand::{Rng as _, SeedableRng as _};

use crate::client::Client;
use crate::players::PlayerPlan;
use crate::stats::Recorder;

/// Requests a single worker schedules per second at most; faster rates get more workers.
const PER_WORKER_RPS: f64 = 500.0;
/// Requests of one endpoint in flight at most (each holds a connection): past it, the workers
/// wait and fall behind schedule, which the percentiles then show, instead of opening
/// connections until the load generator runs out of file descriptors.
const MAX_IN_FLIGHT: usize = 512;

/// What a read endpoint asks for.
#[derive(Debug, Clone)]
pub enum Read {
    /// A fixed path, e.g. the top-10 page or the home page.
    Path { label: &'static str, path: String },
    /// A player's rank: names `{prefix}{n}` for n in 0..count (e.g. seeded players).
    SeededRank { prefix: String, count: usize },
    /// A player's rank among the simulated players that have finished a game.
    PlayerRank { plan: Arc<PlayerPlan> },
}

impl Read {
    fn label(&self) -> &'static str {
        match self {
            Self::Path { label, .. } => label,
            Self::SeededRank { .. } | Self::PlayerRank { .. } => "rank",
        }
    }

    fn path(&self, rng: &mut StdRng) -> Option<String> {
        let rank = |name: String| format!("/api/games/egg-catcher/players/{name}");
        match self {
            Self::Path { path, .. } => Some(path.clone()),
            Self::SeededRank { prefix, count } => {
                Some(rank(format!("{prefix}{}", rng.random_range(0..*count))))
            }
            Self::PlayerRank { plan } => {
                // A few tries to find a player with a finished game; none yet early on.
                (0..8).find_map(|_| {
                    let i = rng.random_range(0..plan.finished.len());
                    plan.finished[i]
                        .load(Ordering::Relaxed)
                        .then(|| rank(plan.name(i)))
                })
            }
        }
    }
}

/// Run `read` at `rps` until `deadline`, spread over enough workers.
pub fn spawn(
    client: &Client,
    read: Read,
    rps: f64,
    deadline: Instant,
    measure_from: Instant,
) -> Vec<tokio::task::JoinHandle<Recorder>> {
    if rps <= 0.0 {
        return Vec::new();
    }
    let workers = (rps / PER_WORKER_RPS).ceil().max(1.0) as usize;
    let period = Duration::from_secs_f64(workers as f64 / rps);
    let start = Instant::now();
    let slots = Arc::new(tokio::sync::Semaphore::new(MAX_IN_FLIGHT));
    (0..workers)
        .map(|w| {
            let (client, read, slots) = (client.clone(), read.clone(), slots.clone());
            // Workers are offset within the period so their requests interleave.
            let first = start + period.mul_f64(w as f64 / workers as f64);
            tokio::spawn(async move {
                let mut rec = Recorder::new(measure_from);
                let mut rng = StdRng::seed_from_u64(w as u64 ^ 0x5EED);
                let label = read.label();
                let mut in_flight = tokio::task::JoinSet::new();
                for n in 0u32.. {
                    let due = first + period * n;
                    if due >= deadline {
                        break;
                    }
                    // On schedule, the clock starts when the timer fires (its lateness, up
                    // to a millisecond, is the load generator's, not the server's). Behind
                    // schedule, it started when the request was due.
                    let start = if Instant::now() < due {
                        tokio::time::sleep_until(due.into()).await;
                        Instant::now()
                    } else {
                        due
                    };
                    while let Some(done) = in_flight.try_join_next() {
                        record(&mut rec, label, done);
                    }
                    let Some(path) = read.path(&mut rng) else {
                        continue;
                    };
                    let Ok(slot) = slots.clone().acquire_owned().await else {
                        break;
                    };
                    let client = client.clone();
                    in_flight.spawn(async move {
                        let answer = client.get_as_browser(&path).await;
                        drop(slot);
                        (due, start.elapsed(), outcome(answer))
                    });
                }
                while let Some(done) = in_flight.join_next().await {
                    record(&mut rec, label, done);
                }
                rec
            })
        })
        .collect()
}

type Done = Result<(Instant, Duration, Result<(), String>), tokio::task::JoinError>;

fn record(rec: &mut Recorder, label: &'static str, done: Done) {
    match done {
        Ok((due, latency, outcome)) => rec.record(label, due, latency, outcome),
        Err(e) => rec.record(label, Instant::now(), Duration::ZERO, Err(e.to_string())),
    }
}

fn outcome(answer: crate::client::Answer) -> Result<(), String> {
    match (answer.status, answer.failure) {
        (Some(s), _) if s.is_success() => Ok(()),
        (Some(s), _) => Err(format!("status {}", s.as_u16())),
        (None, why) => Err(why.unwrap_or_default()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::AtomicBool;

    use axum::Router;
    use axum::http::HeaderMap;
    use axum::routing::get;

    use crate::target::Target;

    /// A server whose first answer takes `stall`; every later one is immediate. It notes
    /// whether every request accepted compressed bodies, as a browser's does.
    async fn stalling_server(stall: Duration) -> (String, Arc<AtomicBool>) {
        let first = Arc::new(AtomicBool::new(true));
        let all_as_browser = Arc::new(AtomicBool::new(true));
        let seen = all_as_browser.clone();
        let app = Router::new().route(
            "/board",
            get(move |headers: HeaderMap| {
                let first = first.clone();
                let seen = seen.clone();
                async move {
                    let accepts = headers
                        .get("accept-encoding")
                        .and_then(|v| v.to_str().ok())
                        .is_some_and(|v| v.contains("br") && v.contains("gzip"));
                    if !accepts {
                        seen.store(false, Ordering::SeqCst);
                    }
                    if first.swap(false, Ordering::SeqCst) {
                        tokio::time::sleep(stall).await;
                    }
                    "{}"
                }
            }),
        );
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        tokio::spawn(async move { axum::serve(listener, app).await });
        (url, all_as_browser)
    }

    #[tokio::test]
    async fn one_slow_answer_does_not_delay_the_requests_due_after_it() {
        let (url, all_as_browser) = stalling_server(Duration::from_millis(400)).await;
        let client = Client::new(Target::parse(&url).unwrap(), Duration::from_secs(5));
        let now = Instant::now();
        let read = Read::Path {
            label: "board",
            path: "/board".to_owned(),
        };
        let mut rec = Recorder::new(now);
        for worker in spawn(&client, read, 40.0, now + Duration::from_secs(1), now) {
            rec.merge(worker.await.unwrap());
        }
        let summary = rec.summary(Duration::from_secs(1));
        let board = summary.iter().find(|s| s.endpoint == "board").unwrap();
        assert_eq!(board.requests, 40);
        assert_eq!(board.errors, 0);
        // The stalled answer is counted in full...
        assert!(board.max_ms >= 400.0, "{board:?}");
        // ...and only it: requests sent one after another would have queued ten or more
        // behind it, each timed from when it was due.
        assert!(board.p95_ms < 100.0, "{board:?}");
        assert!(all_as_browser.load(Ordering::SeqCst));
    }
}
