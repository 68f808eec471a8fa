//! Shared state of the HTTP server: the use cases, metrics, readiness and limits.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use arcade_domain::BackendError;
use arcade_domain::service::Arcade;
use arcade_telemetry::{DependencyLabels, Metrics};
use futures::future::BoxFuture;

/// HTTP-level settings.
#[derive(Debug, Clone)]
pub struct HttpSettings {
    /// Largest request body accepted (413 above).
    pub max_body_bytes: usize,
    /// Requests taking longer are answered 503.
    pub request_timeout: Duration,
    /// API requests (play, reads from storage) in flight at once; more are answered 503 at
    /// once, so an overload shows as quick refusals instead of a queue that grows in memory.
    pub max_requests_in_flight: usize,
    /// Proxies whose `X-Forwarded-For` is believed: the client is the right-most address
    /// not among them (see [`crate::forwarded`]).
    pub trusted_proxies: Vec<ipnet::IpNet>,
}

impl Default for HttpSettings {
    fn default() -> Self {
        Self {
            max_body_bytes: 256 * 1024,
            request_timeout: Duration::from_secs(10),
            max_requests_in_flight: 512,
            trusted_proxies: Vec::new(),
        }
    }
}

/// A check of one dependency for readiness (e.g. `database`).
#[derive(Clone)]
pub struct DependencyCheck {
    pub name: String,
    pub backend: String,
    /// Whether the server can serve without it. A required dependency down makes readiness
    /// 503; an optional one (the event bus for a server, whose events wait in the outbox)
    /// only makes it `degraded`: every replica shares the dependency, and taking them all out
    /// of the load balancer for it would stop play that works without it.
    pub required: bool,
    pub check: Ping,
}

/// How a dependency is checked: a ping that answers `Ok` while it is up.
type Ping = Arc<dyn Fn() -> BoxFuture<'static, Result<(), BackendError>> + Send + Sync>;

impl DependencyCheck {
    /// A dependency readiness fails without.
    pub fn required(
        name: &str,
        backend: &str,
        check: impl Fn() -> BoxFuture<'static, Result<(), BackendError>> + Send + Sync + 'static,
    ) -> Self {
        Self::new(name, backend, true, Arc::new(check))
    }

    /// A dependency the server serves without, reported `degraded` while it is down.
    pub fn optional(
        name: &str,
        backend: &str,
        check: impl Fn() -> BoxFuture<'static, Result<(), BackendError>> + Send + Sync + 'static,
    ) -> Self {
        Self::new(name, backend, false, Arc::new(check))
    }

    fn new(name: &str, backend: &str, required: bool, check: Ping) -> Self {
        Self {
            name: name.to_owned(),
            backend: backend.to_owned(),
            required,
            check,
        }
    }
}

impl std::fmt::Debug for DependencyCheck {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DependencyCheck")
            .field("name", &self.name)
            .field("backend", &self.backend)
            .field("required", &self.required)
            .finish()
    }
}

/// The result of checking one dependency.
#[derive(Debug, Clone, serde::Serialize, utoipa::ToSchema)]
pub struct DependencyStatus {
    pub name: String,
    pub backend: String,
    /// Whether readiness fails while it is down (else the server is only `degraded`).
    pub required: bool,
    /// `up` or `down`.
    pub status: &'static str,
    pub latency_ms: u64,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
}

/// Readiness: draining after a shutdown signal, and dependency checks.
#[derive(Debug)]
pub struct Health {
    draining: AtomicBool,
    checks: Vec<DependencyCheck>,
    timeout: Duration,
}

impl Health {
    pub fn new(checks: Vec<DependencyCheck>, timeout: Duration) -> Self {
        Self {
            draining: AtomicBool::new(false),
            checks,
            timeout,
        }
    }

    /// From now on readiness answers 503 so load balancers stop sending new requests.
    pub fn start_draining(&self) {
        self.draining.store(true, Ordering::SeqCst);
    }

    pub fn is_draining(&self) -> bool {
        self.draining.load(Ordering::SeqCst)
    }

    /// Check every dependency concurrently, each with a short timeout, and record
    /// `arcade_dependency_up`.
    pub async fn check_all(&self, metrics: &Metrics) -> Vec<DependencyStatus> {
        let checks = self.checks.iter().map(|c| async move {
            let started = Instant::now();
            let result = tokio::time::timeout(self.timeout, (c.check)()).await;
            let error = match result {
                Ok(Ok(())) => None,
                Ok(Err(e)) => Some(e.to_string()),
                Err(_) => Some(format!("no answer within {} ms", self.timeout.as_millis())),
            };
            metrics
                .dependency_up
                .get_or_create(&DependencyLabels {
                    dependency: c.name.clone(),
                })
                .set(i64::from(error.is_none()));
            DependencyStatus {
                name: c.name.clone(),
                backend: c.backend.clone(),
                required: c.required,
                status: if error.is_none() { "up" } else { "down" },
                latency_ms: started.elapsed().as_millis() as u64,
                error,
            }
        });
        futures::future::join_all(checks).await
    }
}

/// Everything handlers share, behind one pointer: cloned for every request, so a clone is a
/// single reference count.
#[derive(Clone)]
pub struct AppState(Arc<Shared>);

pub struct Shared {
    pub arcade: Arc<Arcade>,
    /// The encoded first pages of the boards, dropped on score events.
    pub boards: Arc<crate::board_cache::BoardCache>,
    /// The list of games on offer, encoded once: it is the same for the life of the process.
    pub games: Arc<crate::encoding::SharedBody>,
    pub live: Arc<crate::live::LiveFeed>,
    pub metrics: Arc<Metrics>,
    pub health: Arc<Health>,
    pub settings: Arc<HttpSettings>,
}

impl std::ops::Deref for AppState {
    type Target = Shared;

    fn deref(&self) -> &Shared {
        &self.0
    }
}

impl AppState {
    pub fn new(
        arcade: Arc<Arcade>,
        metrics: Arc<Metrics>,
        health: Arc<Health>,
        settings: HttpSettings,
    ) -> Self {
        let boards = Arc::new(crate::board_cache::BoardCache::new(
            arcade.games().iter().map(|g| g.id()),
        ));
        let games = crate::dto::GameList {
            games: arcade
                .games()
                .iter()
                .map(|g| crate::dto::GameInfo::of(*g))
                .collect(),
        };
        let games = serde_json::to_vec(&games).expect("the game list encodes");
        Self(Arc::new(Shared {
            games: Arc::new(crate::encoding::SharedBody::new(games.into())),
            live: crate::live::LiveFeed::start(
                arcade.ports().events.subscribe(),
                metrics.clone(),
                boards.clone(),
            ),
            boards,
            arcade,
            metrics,
            health,
            settings: Arc::new(settings),
        }))
    }
}
