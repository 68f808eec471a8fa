//! Read traffic at fixed rates, open loop, sent as a browser sends it (accepting compressed
//! bodies): each worker has a schedule and sends every due request on one of its idle
//! connections, opening another when none is idle, as independent users would, so one slow
//! answer never holds back the requests due after it. A request the worker itself sent late
//! is timed from when it was due, so a server that falls behind shows it in the percentiles
//! instead of quietly slowing the load down; how late each request went out is recorded too,
//! to tell the generator's delay from the server's. A worker drives its connections itself (no pool,
//! no task per request), so that the generator leaves most of the CPU to the server.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};

use bytes::Bytes;
use futures::FutureExt as _;
use futures::StreamExt as _;
use futures::stream::FuturesUnordered;
use rand::rngs::StdRng;
use rand::{Rng as _, SeedableRng as _};

use crate::connection::{BROWSER_ENCODINGS, Connection, get_request};
use crate::players::PlayerPlan;
use crate::stats::Recorder;
use crate::target::Target;

/// Requests a single worker schedules per second at most; faster rates get more workers.
const PER_WORKER_RPS: f64 = 500.0;
/// Connections of one endpoint at most (each holds one request in flight): past it, the
/// workers wait and fall behind schedule, which the percentiles then show, instead of opening
/// connections until the load generator runs out of file descriptors.
const MAX_CONNECTIONS: usize = 512;
/// Connections a worker may hold however many workers share the limit.
const MIN_CONNECTIONS_PER_WORKER: usize = 8;

/// What a read endpoint asks for.
#[derive(Debug, Clone)]
pub enum Read {
    /// A fixed path, e.g. the top-10 page or the home page.
    Path { label: &'static str, path: String },
    /// A random player's rank.
    Rank(Ranks),
}

/// Whose rank a rank read asks for.
#[derive(Debug, Clone)]
pub enum Ranks {
    /// Names `{prefix}{n}` for n in 0..count (e.g. seeded players) in `game`.
    Seeded {
        game: &'static str,
        prefix: String,
        count: usize,
    },
    /// The simulated players that have finished a game.
    Players { plan: Arc<PlayerPlan> },
}

impl Read {
    fn label(&self) -> &'static str {
        match self {
            Self::Path { label, .. } => label,
            Self::Rank(_) => "rank",
        }
    }
}

impl Ranks {
    /// The next rank's path, or none when there is nobody to ask for yet.
    fn path(&self, rng: &mut StdRng) -> Option<String> {
        let rank = |game: &str, name: String| format!("/api/games/{game}/players/{name}");
        match self {
            Self::Seeded {
                game,
                prefix,
                count,
            } => Some(rank(
                game,
                format!("{prefix}{}", rng.random_range(0..*count)),
            )),
            Self::Players { plan } => {
                // A few tries to find a player with a finished game; none yet early on.
                (0..8).find_map(|_| {
                    let i = rng.random_range(0..plan.finished.len());
                    let game = plan.finished.game_of(i)?;
                    Some(rank(plan.games.games()[game].id(), plan.name(i)))
                })
            }
        }
    }
}

/// Run `read` at `rps` until `deadline`, spread over enough workers.
pub fn spawn(
    target: &Target,
    timeout: Duration,
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
    let connections = (MAX_CONNECTIONS / workers).max(MIN_CONNECTIONS_PER_WORKER);
    let start = Instant::now();
    (0..workers)
        .map(|w| {
            let (addr, read) = (target.addr, read.clone());
            // Workers are offset within the period so their requests interleave.
            let first = start + period.mul_f64(w as f64 / workers as f64);
            let schedule = Schedule {
                first,
                period,
                deadline,
            };
            let lane = Lane::new(connections, Recorder::new(measure_from));
            tokio::spawn(lane.run(addr, read, schedule, timeout, w as u64 ^ 0x5EED))
        })
        .collect()
}

struct Schedule {
    first: Instant,
    period: Duration,
    deadline: Instant,
}

/// One worker: its connections and what it has recorded.
struct Lane {
    idle: Vec<Connection>,
    /// Connections held, idle or in flight.
    held: usize,
    max_held: usize,
    rec: Recorder,
}

/// A request's end: when it was due, how long it took, its outcome, and its connection when
/// that can carry the next request.
type Done = (Instant, Duration, Result<(), String>, Option<Connection>);

impl Lane {
    fn new(max_held: usize, rec: Recorder) -> Self {
        Self {
            idle: Vec::new(),
            held: 0,
            max_held,
            rec,
        }
    }

    async fn run(
        mut self,
        addr: SocketAddr,
        read: Read,
        schedule: Schedule,
        timeout: Duration,
        seed: u64,
    ) -> Recorder {
        let mut rng = StdRng::seed_from_u64(seed);
        let label = read.label();
        let host = addr.to_string();
        let encode = |path: &str| Bytes::from(get_request(&host, path, BROWSER_ENCODINGS));
        // A fixed path's request is encoded once; a rank's is drawn for each request.
        enum Requests<'a> {
            Fixed(Bytes),
            Ranks(&'a Ranks),
        }
        let requests = match &read {
            Read::Path { path, .. } => Requests::Fixed(encode(path)),
            Read::Rank(ranks) => Requests::Ranks(ranks),
        };
        let mut in_flight = FuturesUnordered::new();
        let sleep = tokio::time::sleep_until(schedule.first.into());
        tokio::pin!(sleep);
        for n in 0u32.. {
            let due = schedule.first + schedule.period * n;
            if due >= schedule.deadline {
                break;
            }
            // On schedule, the clock starts when the timer fires (its lateness, up to a
            // millisecond, is the load generator's, not the server's). Behind schedule, it
            // started when the request was due. Answers are taken in while waiting.
            let start = if Instant::now() < due {
                sleep.as_mut().reset(due.into());
                loop {
                    tokio::select! {
                        biased;
                        () = &mut sleep => break,
                        Some(done) = in_flight.next() => self.settle(label, done),
                    }
                }
                Instant::now()
            } else {
                due
            };
            let request = match &requests {
                Requests::Fixed(request) => request.clone(),
                Requests::Ranks(ranks) => match ranks.path(&mut rng) {
                    Some(path) => encode(&path),
                    None => continue,
                },
            };
            let connection = match self.idle.pop() {
                Some(c) => Some(c),
                None if self.held < self.max_held => None,
                // Every connection is busy: the request waits (and its wait is timed).
                None => loop {
                    let Some(done) = in_flight.next().await else {
                        break None;
                    };
                    self.settle(label, done);
                    if let Some(c) = self.idle.pop() {
                        break Some(c);
                    }
                    // A connection that failed freed its slot for a new one.
                    if self.held < self.max_held {
                        break None;
                    }
                },
            };
            if connection.is_none() {
                self.held += 1;
            }
            self.rec.sent_late(label, due, start.elapsed());
            in_flight.push(exchange(connection, addr, request, timeout, due, start));
            // Send it now, and take in whatever has already been answered.
            while let Some(Some(done)) = in_flight.next().now_or_never() {
                self.settle(label, done);
            }
        }
        while let Some(done) = in_flight.next().await {
            self.settle(label, done);
        }
        self.rec
    }

    fn settle(&mut self, label: &'static str, (due, latency, outcome, connection): Done) {
        self.rec.record(label, due, latency, outcome);
        match connection {
            Some(c) => self.idle.push(c),
            None => self.held -= 1,
        }
    }
}

/// One request due at `due` and timed from `start`, on `connection` or, without one, on a
/// new connection to `addr`.
async fn exchange(
    connection: Option<Connection>,
    addr: SocketAddr,
    request: Bytes,
    timeout: Duration,
    due: Instant,
    start: Instant,
) -> Done {
    let mut connection = match connection {
        Some(c) => c,
        None => match Connection::open(addr).await {
            Ok(c) => c,
            Err(e) => return (due, start.elapsed(), Err(e), None),
        },
    };
    let answer = tokio::time::timeout(timeout, connection.send(&request)).await;
    let latency = start.elapsed();
    match answer {
        Ok(Ok(answer)) => {
            let outcome = if answer.is_success() {
                Ok(())
            } else {
                Err(format!("status {}", answer.status))
            };
            (due, latency, outcome, answer.reusable.then_some(connection))
        }
        Ok(Err(e)) => (due, latency, Err(e), None),
        Err(_) => (due, latency, Err("timeout".to_owned()), None),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicBool, Ordering};

    use axum::Router;
    use axum::http::HeaderMap;
    use axum::routing::get;

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
        let target = Target::parse(&url).unwrap();
        let now = Instant::now();
        let read = Read::Path {
            label: "board",
            path: "/board".to_owned(),
        };
        let mut rec = Recorder::new(now);
        for worker in spawn(
            &target,
            Duration::from_secs(5),
            read,
            40.0,
            now + Duration::from_secs(1),
            now,
        ) {
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
