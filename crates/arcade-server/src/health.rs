//! Readiness: the dependencies a role needs, how each is checked, and draining after a
//! shutdown signal.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use arcade_domain::BackendError;
use arcade_telemetry::{DependencyLabels, Metrics};
use futures::future::BoxFuture;

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
