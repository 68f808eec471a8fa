//! `arcade broadcast`: the worker that announces scores and new leaders on Discord and Slack.
//! It follows the JetStream stream with a durable consumer, hands events to the webhook
//! workers (`arcade_events::notify`), and serves health and metrics like the server does.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;
use arcade_domain::StoreError;
use arcade_domain::ports::EventBus;
use arcade_events::NatsBus;
use arcade_events::notify::{
    DeliveryObserver, LogDeadLetters, Notifier, Outcome, RetryPolicy, Settings, Target, Webhook,
    jetstream::{self, ConsumerSettings, NatsDeadLetters},
};
use arcade_server::state::{DependencyCheck, Health};
use arcade_telemetry::{Metrics, TargetLabels, WebhookLabels};
use axum::Router;
use axum::extract::State;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use clap::Args;
use futures::FutureExt;
use secrecy::{ExposeSecret, SecretString};
use tokio::net::TcpListener;

use crate::app::{VERSION, revision};
use crate::config::LogArgs;

/// Readiness gives each dependency this long to answer.
const DEPENDENCY_TIMEOUT: Duration = Duration::from_secs(2);
/// After a shutdown signal, messages being sent get this long to finish (then they are
/// redelivered to the next broadcaster, and its duplicate check cannot know them).
const FINISH_TIMEOUT: Duration = Duration::from_secs(10);
/// Margin of the ack wait over the longest time a worker may hold an event.
const ACK_WAIT_MARGIN: Duration = Duration::from_secs(30);

/// Settings of `arcade broadcast`.
#[derive(Debug, Clone, Args)]
pub struct BroadcastArgs {
    /// Address to serve /health/live, /health/ready and /metrics on.
    #[arg(long, env = "ARCADE_LISTEN", default_value = "127.0.0.1:8080")]
    pub listen: SocketAddr,
    #[command(flatten)]
    pub log: LogArgs,
    /// NATS URL: the events come from its JetStream stream ARCADE (required).
    #[arg(long, env = "NATS_URL", hide_env_values = true)]
    pub nats_url: Option<SecretString>,
    #[command(flatten)]
    pub webhooks: WebhookArgs,
    /// Name of the durable JetStream consumer: the broadcaster's place in the stream.
    #[arg(
        long,
        env = "ARCADE_BROADCAST_CONSUMER",
        default_value = "arcade-broadcaster"
    )]
    pub consumer: String,
    /// Events handed out and not yet acknowledged, at most.
    #[arg(long, env = "ARCADE_BROADCAST_MAX_ACK_PENDING", default_value_t = 1000)]
    pub max_ack_pending: u32,
}

/// Webhook delivery settings, shared with the embedded broadcaster inside `serve`.
#[derive(Debug, Clone, Args)]
pub struct WebhookArgs {
    /// Discord webhook URL (a secret). Without any webhook the broadcaster only logs.
    #[arg(long, env = "ARCADE_DISCORD_WEBHOOK_URL", hide_env_values = true)]
    pub discord_webhook_url: Option<SecretString>,
    /// File holding the Discord webhook URL (a mounted secret), instead of the URL itself.
    #[arg(
        long,
        env = "ARCADE_DISCORD_WEBHOOK_URL_FILE",
        conflicts_with = "discord_webhook_url"
    )]
    pub discord_webhook_url_file: Option<PathBuf>,
    /// Slack incoming-webhook URL (a secret).
    #[arg(long, env = "ARCADE_SLACK_WEBHOOK_URL", hide_env_values = true)]
    pub slack_webhook_url: Option<SecretString>,
    /// File holding the Slack webhook URL, instead of the URL itself.
    #[arg(
        long,
        env = "ARCADE_SLACK_WEBHOOK_URL_FILE",
        conflicts_with = "slack_webhook_url"
    )]
    pub slack_webhook_url_file: Option<PathBuf>,
    /// The arcade's public address, for links in messages, e.g. https://arcade.example.com.
    #[arg(long, env = "ARCADE_PUBLIC_URL")]
    pub public_url: Option<String>,
    /// Attempts per message (the first included) before it is parked on arcade.dead.webhook.
    #[arg(long, env = "ARCADE_WEBHOOK_MAX_ATTEMPTS", default_value_t = 5)]
    pub webhook_max_attempts: u32,
    /// Wait after a first failed attempt; doubled after each further one (with jitter).
    #[arg(long, env = "ARCADE_WEBHOOK_RETRY_BASE", default_value = "1s", value_parser = humantime::parse_duration)]
    pub webhook_retry_base: Duration,
    /// Longest wait between attempts, Retry-After included.
    #[arg(long, env = "ARCADE_WEBHOOK_RETRY_MAX", default_value = "30s", value_parser = humantime::parse_duration)]
    pub webhook_retry_max: Duration,
    /// One attempt gives up after this long (and is retried).
    #[arg(long, env = "ARCADE_WEBHOOK_TIMEOUT", default_value = "10s", value_parser = humantime::parse_duration)]
    pub webhook_timeout: Duration,
    /// Messages per minute per webhook; more are folded into one digest sent when allowed.
    #[arg(long, env = "ARCADE_WEBHOOK_PER_MINUTE", default_value_t = 20)]
    pub webhook_per_minute: u32,
    /// Event ids remembered per webhook to drop duplicates.
    #[arg(long, env = "ARCADE_WEBHOOK_DEDUP_WINDOW", default_value_t = 10_000)]
    pub webhook_dedup_window: usize,
}

/// A broadcaster setting that cannot work. Never shows a webhook URL beyond its scheme.
#[derive(Debug, thiserror::Error)]
pub enum BroadcastConfigError {
    #[error("arcade broadcast needs NATS_URL (the events come from JetStream)")]
    NoNats,
    #[error("{name} must start with {expected}; got a URL starting with '{scheme}'")]
    BadUrl {
        name: &'static str,
        expected: &'static str,
        scheme: String,
    },
    #[error("cannot read {name} ({path}): {error}")]
    SecretFile {
        name: &'static str,
        path: String,
        error: String,
    },
    #[error("{name} must be greater than zero")]
    Zero { name: &'static str },
    #[error("ARCADE_WEBHOOK_RETRY_BASE must not exceed ARCADE_WEBHOOK_RETRY_MAX")]
    RetryOrder,
}

/// Only a URL's scheme is ever shown; without one, nothing of it is.
fn scheme_of(raw: &str) -> String {
    match raw.split_once("://") {
        Some((scheme, _))
            if scheme
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '+') =>
        {
            scheme.to_owned()
        }
        _ => "(no scheme)".to_owned(),
    }
}

fn http_url(name: &'static str, raw: &str) -> Result<(), BroadcastConfigError> {
    if raw.starts_with("https://") || raw.starts_with("http://") {
        Ok(())
    } else {
        Err(BroadcastConfigError::BadUrl {
            name,
            expected: "https://",
            scheme: scheme_of(raw),
        })
    }
}

fn read_secret(name: &'static str, path: &Path) -> Result<SecretString, BroadcastConfigError> {
    std::fs::read_to_string(path)
        .map(|s| SecretString::from(s.trim().to_owned()))
        .map_err(|e| BroadcastConfigError::SecretFile {
            name,
            path: path.display().to_string(),
            error: e.kind().to_string(),
        })
}

impl WebhookArgs {
    /// The configured webhooks, reading URL files; empty means log-only.
    pub fn webhooks(&self) -> Result<Vec<Webhook>, BroadcastConfigError> {
        let mut hooks = Vec::new();
        for (target, name, url, file, file_name) in [
            (
                Target::Discord,
                "ARCADE_DISCORD_WEBHOOK_URL",
                &self.discord_webhook_url,
                &self.discord_webhook_url_file,
                "ARCADE_DISCORD_WEBHOOK_URL_FILE",
            ),
            (
                Target::Slack,
                "ARCADE_SLACK_WEBHOOK_URL",
                &self.slack_webhook_url,
                &self.slack_webhook_url_file,
                "ARCADE_SLACK_WEBHOOK_URL_FILE",
            ),
        ] {
            let url = match (url, file) {
                (Some(url), _) => Some(url.clone()),
                (None, Some(path)) => Some(read_secret(file_name, path)?),
                (None, None) => None,
            };
            // An empty value (an unset secret rendered as "") means no webhook.
            if let Some(url) = url.filter(|u| !u.expose_secret().is_empty()) {
                http_url(name, url.expose_secret())?;
                hooks.push(Webhook { target, url });
            }
        }
        Ok(hooks)
    }

    /// The delivery settings, validated.
    pub fn settings(&self) -> Result<Settings, BroadcastConfigError> {
        let webhooks = self.webhooks()?;
        let public_url = self
            .public_url
            .as_deref()
            .filter(|u| !u.is_empty())
            .map(|u| http_url("ARCADE_PUBLIC_URL", u).map(|()| u.trim_end_matches('/').to_owned()))
            .transpose()?;
        for (name, zero) in [
            (
                "ARCADE_WEBHOOK_MAX_ATTEMPTS",
                self.webhook_max_attempts == 0,
            ),
            ("ARCADE_WEBHOOK_TIMEOUT", self.webhook_timeout.is_zero()),
            ("ARCADE_WEBHOOK_PER_MINUTE", self.webhook_per_minute == 0),
            (
                "ARCADE_WEBHOOK_DEDUP_WINDOW",
                self.webhook_dedup_window == 0,
            ),
        ] {
            if zero {
                return Err(BroadcastConfigError::Zero { name });
            }
        }
        if self.webhook_retry_base > self.webhook_retry_max {
            return Err(BroadcastConfigError::RetryOrder);
        }
        Ok(Settings {
            webhooks,
            public_url,
            retry: RetryPolicy {
                max_attempts: self.webhook_max_attempts,
                base: self.webhook_retry_base,
                max: self.webhook_retry_max,
            },
            request_timeout: self.webhook_timeout,
            per_minute: self.webhook_per_minute,
            rate_window: Duration::from_secs(60),
            dedup_window: self.webhook_dedup_window,
        })
    }
}

impl BroadcastArgs {
    /// Check settings that clap's types cannot.
    pub fn validate(&self) -> Result<(), BroadcastConfigError> {
        let Some(url) = &self.nats_url else {
            return Err(BroadcastConfigError::NoNats);
        };
        let raw = url.expose_secret();
        if !["nats://", "tls://", "ws://", "wss://"]
            .iter()
            .any(|s| raw.starts_with(s))
        {
            return Err(BroadcastConfigError::BadUrl {
                name: "NATS_URL",
                expected: "nats://",
                scheme: scheme_of(raw),
            });
        }
        if self.max_ack_pending == 0 {
            return Err(BroadcastConfigError::Zero {
                name: "ARCADE_BROADCAST_MAX_ACK_PENDING",
            });
        }
        self.webhooks.settings().map(|_| ())
    }
}

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

/// A built broadcaster, its health listener bound.
pub struct BroadcastApp {
    listener: TcpListener,
    ops: Ops,
    bus: NatsBus,
    broadcaster: Notifier,
    consumer: ConsumerSettings,
}

impl BroadcastApp {
    pub async fn build(args: &BroadcastArgs) -> anyhow::Result<Self> {
        args.validate()?;
        let settings = args.webhooks.settings()?;
        let url = args.nats_url.as_ref().context("NATS_URL is required")?;
        let bus = NatsBus::connect(url.expose_secret())
            .await
            .context("cannot use NATS_URL")?;
        let metrics = Arc::new(Metrics::new(VERSION, revision()));
        let consumer = ConsumerSettings {
            name: args.consumer.clone(),
            max_ack_pending: i64::from(args.max_ack_pending),
            ack_wait: settings.longest_hold() + ACK_WAIT_MARGIN,
        };
        // The broadcaster does nothing without the stream.
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
                    async move {
                        jetstream::consumer_exists(&bus, &name).await.map_err(|e| {
                            StoreError::Unavailable {
                                backend: "nats",
                                message: format!("consumer {name}: {e}"),
                            }
                        })
                    }
                    .boxed()
                }
            }),
        ];
        let broadcaster = Notifier::start(
            &settings,
            Arc::new(NatsDeadLetters::new(&bus)),
            Arc::new(MetricsDeliveryObserver(metrics.clone())),
        )
        .context("cannot build the webhook client")?;
        if broadcaster.is_log_only() {
            tracing::warn!("no webhook configured: log-only mode (events are logged, not sent)");
        }
        let listener = TcpListener::bind(args.listen)
            .await
            .with_context(|| format!("cannot listen on {}", args.listen))?;
        Ok(Self {
            listener,
            ops: Ops {
                health: Arc::new(Health::new(checks, DEPENDENCY_TIMEOUT)),
                metrics,
            },
            bus,
            broadcaster,
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
        let broadcaster = self.broadcaster;
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
                ack_wait_s = self.consumer.ack_wait.as_secs(), "broadcasting");
            jetstream::run(
                consumer,
                |event, settle| broadcaster.handle(event, settle),
                stopped(),
            )
            .await
            .map_err(|e| anyhow::anyhow!("consuming events failed: {e}"))?;
        }
        broadcaster.finish(FINISH_TIMEOUT).await;
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

/// The embedded broadcaster: the same delivery, fed from a bus subscription (the in-process
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
    let broadcaster = Notifier::start(
        settings,
        Arc::new(LogDeadLetters),
        Arc::new(MetricsDeliveryObserver(metrics)),
    )
    .context("cannot build the webhook client")?;
    let mut events = bus.subscribe();
    Ok(Some(tokio::spawn(async move {
        use futures::StreamExt;
        while let Some(event) = events.next().await {
            broadcaster
                .handle(event, Box::new(|_| Box::pin(async {})))
                .await;
        }
    })))
}

/// Run `arcade broadcast` until SIGTERM or Ctrl-C.
pub async fn run(args: BroadcastArgs) -> anyhow::Result<()> {
    let app = BroadcastApp::build(&args)
        .await
        .context("the broadcaster could not start")?;
    let addr = app.local_addr();
    tracing::info!(version = VERSION, address = %addr, "broadcaster health and metrics on http://{addr}/");
    app.run_until(crate::app::shutdown_signal()).await
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::{Cli, Command};
    use clap::Parser;

    fn parse(args: &[&str]) -> BroadcastArgs {
        let mut argv = vec!["arcade", "broadcast"];
        argv.extend_from_slice(args);
        match Cli::try_parse_from(argv).unwrap().command {
            Some(Command::Broadcast(a)) => a,
            _ => panic!("expected broadcast"),
        }
    }

    #[test]
    fn without_webhooks_the_broadcaster_is_log_only_and_needs_nats() {
        // clap reads NATS_URL from the environment too: only without it is NATS missing.
        if std::env::var_os("NATS_URL").is_none() {
            let args = parse(&[]);
            assert!(matches!(args.validate(), Err(BroadcastConfigError::NoNats)));
        }
        let args = parse(&["--nats-url", "nats://127.0.0.1:4222"]);
        args.validate().unwrap();
        assert!(args.webhooks.webhooks().unwrap().is_empty());
        assert_eq!(args.consumer, "arcade-broadcaster");
    }

    #[test]
    fn webhook_urls_come_from_files_and_never_show() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("discord");
        std::fs::write(&path, "https://discord.com/api/webhooks/1/hush-hush\n").unwrap();
        let args = parse(&[
            "--nats-url",
            "nats://n:4222",
            "--discord-webhook-url-file",
            path.to_str().unwrap(),
            "--slack-webhook-url",
            "https://hooks.slack.com/services/T/B/quiet",
            "--public-url",
            "https://arcade.example.com/",
        ]);
        let settings = args.webhooks.settings().unwrap();
        assert_eq!(settings.webhooks.len(), 2);
        assert_eq!(
            settings.webhooks[0].url.expose_secret(),
            "https://discord.com/api/webhooks/1/hush-hush"
        );
        assert_eq!(
            settings.public_url.as_deref(),
            Some("https://arcade.example.com")
        );
        let shown = format!("{args:?} {settings:?}");
        assert!(
            !shown.contains("hush-hush") && !shown.contains("quiet"),
            "{shown}"
        );
    }

    #[test]
    fn bad_webhook_settings_are_refused_without_echoing_the_url() {
        let args = parse(&[
            "--nats-url",
            "nats://n:4222",
            "--slack-webhook-url",
            "hooks.slack.com/services/secret",
        ]);
        let msg = args.validate().unwrap_err().to_string();
        assert!(
            msg.contains("ARCADE_SLACK_WEBHOOK_URL") && !msg.contains("secret"),
            "{msg}"
        );
        let args = parse(&["--nats-url", "nats://n:4222", "--webhook-max-attempts", "0"]);
        assert!(args.validate().is_err());
        let missing = parse(&[
            "--nats-url",
            "nats://n:4222",
            "--discord-webhook-url-file",
            "/nonexistent/discord",
        ]);
        assert!(matches!(
            missing.validate(),
            Err(BroadcastConfigError::SecretFile { .. })
        ));
    }
}
