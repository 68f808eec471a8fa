//! `arcade notify`: the worker that announces scores and new leaders on Discord and Slack.
//! It follows the JetStream stream with a durable consumer, hands events to the webhook
//! workers (`arcade_events::notify`), and serves health and metrics like the server does.
//! Also the notifier `serve` runs itself when it has no NATS ([`spawn_embedded`]).

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;
use arcade_domain::ports::EventBus;
use arcade_events::NatsBus;
use arcade_events::notify::{
    DeliveryObserver, LogDeadLetters, Notifier, Outcome, Settings,
    jetstream::{self, ConsumerSettings, NatsDeadLetters},
};
use arcade_server::health::{DependencyCheck, Health};
use arcade_telemetry::{Metrics, TargetLabels, WebhookLabels};
use axum::Router;
use axum::extract::State;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use futures::FutureExt;
use tokio::net::TcpListener;

use crate::config::{DEPENDENCY_TIMEOUT, NotifySettings};

/// After a shutdown signal, messages being sent get this long to finish (then they are
/// redelivered to the next notifier, and its duplicate check cannot know them).
const FINISH_TIMEOUT: Duration = Duration::from_secs(10);
/// Margin of the ack wait over the longest time a worker may hold an event.
const ACK_WAIT_MARGIN: Duration = Duration::from_secs(30);

/// Counts deliveries in the shared metrics.
#[derive(Debug, Clone)]
pub struct MetricsDeliveryObserver(pub Arc<Metrics>);

impl DeliveryObserver for MetricsDeliveryObserver {
    fn outcome(&self, target: &str, outcome: Outcome) {
        self.0
            .webhook_deliveries
            .get_or_create(&WebhookLabels {
                target: target.to_owned(),
                outcome: outcome.as_str().to_owned(),
            })
            .inc();
    }

    fn latency(&self, target: &str, seconds: f64) {
        self.0
            .webhook_duration
            .get_or_create(&TargetLabels {
                target: target.to_owned(),
            })
            .observe(seconds);
    }
}

#[derive(Clone)]
struct Ops {
    health: Arc<Health>,
    metrics: Arc<Metrics>,
}

/// A built notifier, its health listener bound.
pub struct NotifyApp {
    listener: TcpListener,
    ops: Ops,
    bus: NatsBus,
    notifier: Notifier,
    consumer: ConsumerSettings,
}

impl NotifyApp {
    /// Connect (NATS in the background), start the webhook workers and bind the health
    /// listener; deliveries are counted in `metrics`.
    pub async fn build(settings: &NotifySettings, metrics: Arc<Metrics>) -> anyhow::Result<Self> {
        let bus = NatsBus::connect_with(&settings.nats.options())
            .await
            .context("cannot use NATS_URL")?;
        let consumer = ConsumerSettings {
            name: settings.consumer.clone(),
            max_ack_pending: i64::from(settings.max_ack_pending.get()),
            ack_wait: settings.delivery.longest_hold() + ACK_WAIT_MARGIN,
        };
        // The notifier does nothing without the stream.
        let checks = vec![
            DependencyCheck::required("nats", "nats", {
                let bus = bus.clone();
                move || {
                    let bus = bus.clone();
                    async move { bus.ping().await }.boxed()
                }
            }),
            DependencyCheck::required("consumer", "nats", {
                let (bus, name) = (bus.clone(), consumer.name.clone());
                move || {
                    let (bus, name) = (bus.clone(), name.clone());
                    async move { jetstream::consumer_exists(&bus, &name).await }.boxed()
                }
            }),
        ];
        let notifier = Notifier::start(
            &settings.delivery,
            Arc::new(NatsDeadLetters::new(&bus)),
            Arc::new(MetricsDeliveryObserver(metrics.clone())),
        )
        .context("cannot build the webhook client")?;
        if notifier.is_log_only() {
            tracing::warn!("no webhook configured: log-only mode (events are logged, not sent)");
        }
        let listener = TcpListener::bind(settings.listen)
            .await
            .with_context(|| format!("cannot listen on {}", settings.listen))?;
        Ok(Self {
            listener,
            ops: Ops {
                health: Arc::new(Health::new(checks, DEPENDENCY_TIMEOUT)),
                metrics,
            },
            bus,
            notifier,
            consumer,
        })
    }

    pub fn local_addr(&self) -> SocketAddr {
        self.listener
            .local_addr()
            .expect("a bound listener has an address")
    }

    /// Consume and deliver until `shutdown` resolves; then stop taking events and give
    /// messages being sent a moment to finish.
    pub async fn run_until(
        self,
        shutdown: impl std::future::Future<Output = ()> + Send + 'static,
    ) -> anyhow::Result<()> {
        let (stop_tx, stop_rx) = tokio::sync::watch::channel(false);
        let health = self.ops.health.clone();
        let http = axum::serve(self.listener, router(self.ops)).with_graceful_shutdown({
            let mut stop = stop_rx.clone();
            async move {
                let _ = stop.wait_for(|s| *s).await;
            }
        });
        let http = tokio::spawn(async move { http.await });
        tokio::spawn(async move {
            shutdown.await;
            health.start_draining();
            let _ = stop_tx.send(true);
        });
        let stopped = {
            let stop = stop_rx.clone();
            move || {
                let mut stop = stop.clone();
                async move {
                    let _ = stop.wait_for(|s| *s).await;
                }
            }
        };
        let notifier = self.notifier;
        // NATS may come up after us: keep trying to set up the consumer (readiness says so).
        let consumer = loop {
            match jetstream::consumer(&self.bus, &self.consumer).await {
                Ok(c) => break Some(c),
                Err(e) => {
                    tracing::warn!(error = %e, consumer = %self.consumer.name,
                        "cannot set up the JetStream consumer; retrying");
                    tokio::select! {
                        () = stopped() => break None,
                        () = tokio::time::sleep(Duration::from_secs(2)) => {}
                    }
                }
            }
        };
        if let Some(consumer) = consumer {
            tracing::info!(consumer = %self.consumer.name,
                ack_wait_s = self.consumer.ack_wait.as_secs(), "notifying");
            jetstream::run(
                consumer,
                |event, settle| notifier.handle(event, settle),
                stopped(),
            )
            .await
            .map_err(|e| anyhow::anyhow!("consuming events failed: {e}"))?;
        }
        notifier.finish(FINISH_TIMEOUT).await;
        http.await
            .context("the health server task failed")?
            .context("the health server failed")?;
        tracing::info!("stopped");
        Ok(())
    }
}

fn router(ops: Ops) -> Router {
    Router::new()
        .route("/health/live", get(arcade_server::api::live))
        .route("/health/ready", get(ready))
        .route("/metrics", get(metrics))
        .with_state(ops)
}

async fn ready(State(ops): State<Ops>) -> impl IntoResponse {
    arcade_server::api::readiness(&ops.health, &ops.metrics).await
}

async fn metrics(State(ops): State<Ops>) -> Response {
    arcade_server::api::metrics_response(&ops.health, &ops.metrics).await
}

/// The embedded notifier: the same delivery, fed from a bus subscription (the in-process
/// bus of `serve` without NATS). There is no durable consumer, so events published while the
/// server is down are not announced, and dead letters go to the log. `None` without a webhook:
/// the embedded default stays quiet.
pub fn spawn_embedded(
    bus: Arc<dyn EventBus>,
    settings: &Settings,
    metrics: Arc<Metrics>,
) -> anyhow::Result<Option<tokio::task::JoinHandle<()>>> {
    if settings.webhooks.is_empty() {
        return Ok(None);
    }
    let notifier = Notifier::start(
        settings,
        Arc::new(LogDeadLetters),
        Arc::new(MetricsDeliveryObserver(metrics)),
    )
    .context("cannot build the webhook client")?;
    let mut events = bus.subscribe();
    Ok(Some(tokio::spawn(async move {
        use futures::StreamExt;
        while let Some(event) = events.next().await {
            notifier
                .handle(event, Box::new(|_| Box::pin(async {})))
                .await;
        }
    })))
}
