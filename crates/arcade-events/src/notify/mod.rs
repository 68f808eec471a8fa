//! The notifier's delivery: game events become messages for people on Discord and Slack.
//!
//! - [`message`]: what is said (notices, Discord embeds, Slack blocks, digests); pure.
//! - [`policy`]: retries, backoff, what an answer means, rate and duplicate windows; pure.
//! - [`deliver`]: one worker per target that posts, retries, folds bursts into digests and
//!   parks what cannot be delivered on the dead-letter subject.
//! - [`jetstream`]: the durable JetStream consumer that feeds it and the dead-letter sink.
//!
//! Delivery is at-least-once from the bus and effectively once to people: each target keeps a
//! bounded window of the event ids it has handled ([`policy::DedupWindow`]), and JetStream
//! drops republished ids within its duplicate window. The window is in memory on purpose: an
//! event is only acknowledged once every target took it (or it was parked), so what a restart
//! forgets is exactly what was never confirmed, and the rare cost is one repeated message after
//! a crash between a target's answer and the acknowledgement. A shared store would not remove
//! that gap (the post and the store write cannot be one transaction), only move it.

pub mod deliver;
pub mod jetstream;
pub mod message;
pub mod policy;

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::time::Duration;

use arcade_domain::event::Event;
use async_trait::async_trait;
use futures::future::BoxFuture;
use secrecy::SecretString;
use tokio::sync::Mutex;

pub use deliver::Notifier;
pub use message::{Digest, Notice};
pub use policy::{RetryPolicy, Verdict};

/// The subject undeliverable notifications are parked on (captured by the `ARCADE` stream).
pub const DEAD_LETTER_SUBJECT: &str = "arcade.dead.webhook";

/// Where notifications go.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Target {
    Discord,
    Slack,
}

impl Target {
    /// The `target` label of the webhook metrics.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Discord => "discord",
            Self::Slack => "slack",
        }
    }
}

/// A configured webhook. The URL is the credential: it is never logged or shown.
#[derive(Debug, Clone)]
pub struct Webhook {
    pub target: Target,
    pub url: SecretString,
}

/// How the notifier behaves.
#[derive(Debug, Clone)]
pub struct Settings {
    /// No webhook: log-only mode (staging), events are logged and acknowledged.
    pub webhooks: Vec<Webhook>,
    /// The arcade's public address, for links (`https://arcade.example.com`).
    pub public_url: Option<String>,
    pub retry: RetryPolicy,
    /// One HTTP attempt gives up after this long (and counts as a retryable failure).
    pub request_timeout: Duration,
    /// Messages per `rate_window` per target; more are folded into a digest.
    pub per_minute: u32,
    /// The rate limit's window: a minute, shorter in tests.
    pub rate_window: Duration,
    /// Event ids remembered per target to drop duplicates.
    pub dedup_window: usize,
}

impl Default for Settings {
    fn default() -> Self {
        Self {
            webhooks: Vec::new(),
            public_url: None,
            retry: RetryPolicy::default(),
            request_timeout: Duration::from_secs(10),
            per_minute: 20,
            rate_window: Duration::from_secs(60),
            dedup_window: 10_000,
        }
    }
}

impl Settings {
    /// The longest an event can wait in a worker before it is settled: a full rate window
    /// for its digest, then the worst case of retries. The consumer's ack wait exceeds it.
    pub fn longest_hold(&self) -> Duration {
        self.rate_window + self.retry.worst_case(self.request_timeout)
    }
}

/// The `outcome` label of `arcade_webhook_deliveries_total`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    /// A message about this event was accepted by the target.
    Delivered,
    /// One attempt failed and will be tried again.
    Retried,
    /// A final failure that could not be parked either: the event goes back to the bus.
    Failed,
    /// A final failure parked on the dead-letter subject.
    DeadLettered,
    /// Log-only mode: written to the log instead of sent.
    Logged,
    /// A duplicate of an event already handled.
    Deduplicated,
    /// Folded into a digest that was delivered.
    Digested,
}

impl Outcome {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Delivered => "delivered",
            Self::Retried => "retried",
            Self::Failed => "failed",
            Self::DeadLettered => "dead_lettered",
            Self::Logged => "logged",
            Self::Deduplicated => "deduplicated",
            Self::Digested => "digested",
        }
    }
}

/// Lets the binary count deliveries (metrics) without this crate knowing how.
pub trait DeliveryObserver: Send + Sync {
    fn outcome(&self, _target: &str, _outcome: Outcome) {}
    /// One HTTP attempt's duration, answered or not.
    fn latency(&self, _target: &str, _seconds: f64) {}
}

/// An observer that ignores everything.
#[derive(Debug, Default)]
pub struct NoDeliveryObserver;

impl DeliveryObserver for NoDeliveryObserver {}

/// An event that a target would not take, with why.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct DeadLetter {
    pub target: String,
    pub error: String,
    pub attempts: u32,
    pub event: Event,
}

/// Where dead letters are parked.
#[async_trait]
pub trait DeadLetters: Send + Sync {
    async fn park(&self, letter: &DeadLetter) -> Result<(), String>;
}

/// Parks dead letters in the log only (the embedded default has no durable place for them).
#[derive(Debug, Default)]
pub struct LogDeadLetters;

#[async_trait]
impl DeadLetters for LogDeadLetters {
    async fn park(&self, letter: &DeadLetter) -> Result<(), String> {
        tracing::error!(target_name = %letter.target, event_id = %letter.event.id,
            attempts = letter.attempts, error = %letter.error, "webhook delivery abandoned");
        Ok(())
    }
}

/// Settles an event with its source once: `true` to acknowledge, `false` to hand it back
/// for redelivery.
pub type Settle = Box<dyn FnOnce(bool) -> BoxFuture<'static, ()> + Send>;

/// Tracks one event across targets: the source is settled when the last target is done,
/// acknowledged only if none of them failed. Dropped unsettled (shutdown), nothing is
/// acknowledged and the bus redelivers.
pub struct Completion {
    remaining: AtomicUsize,
    failed: AtomicBool,
    settle: Mutex<Option<Settle>>,
}

impl std::fmt::Debug for Completion {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Completion")
            .field("remaining", &self.remaining.load(Ordering::SeqCst))
            .finish()
    }
}

impl Completion {
    pub fn new(targets: usize, settle: Settle) -> Arc<Self> {
        Arc::new(Self {
            remaining: AtomicUsize::new(targets),
            failed: AtomicBool::new(false),
            settle: Mutex::new(Some(settle)),
        })
    }

    /// One target is done with the event (`ok`: delivered, deduplicated or parked).
    pub async fn done(&self, ok: bool) {
        if !ok {
            self.failed.store(true, Ordering::SeqCst);
        }
        if self.remaining.fetch_sub(1, Ordering::SeqCst) == 1
            && let Some(settle) = self.settle.lock().await.take()
        {
            settle(!self.failed.load(Ordering::SeqCst)).await;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::AtomicU8;

    fn recorder() -> (Arc<AtomicU8>, Settle) {
        let seen = Arc::new(AtomicU8::new(0));
        let s = seen.clone();
        (
            seen,
            Box::new(move |ok| {
                Box::pin(async move {
                    s.store(if ok { 1 } else { 2 }, Ordering::SeqCst);
                })
            }),
        )
    }

    #[tokio::test]
    async fn an_event_is_acknowledged_only_when_every_target_is_done() {
        let (seen, settle) = recorder();
        let c = Completion::new(2, settle);
        c.done(true).await;
        assert_eq!(seen.load(Ordering::SeqCst), 0);
        c.done(true).await;
        assert_eq!(seen.load(Ordering::SeqCst), 1);
    }

    #[tokio::test]
    async fn one_failed_target_hands_the_event_back() {
        let (seen, settle) = recorder();
        let c = Completion::new(2, settle);
        c.done(false).await;
        c.done(true).await;
        assert_eq!(seen.load(Ordering::SeqCst), 2);
    }

    #[test]
    fn webhook_urls_never_show_in_debug_output() {
        let w = Webhook {
            target: Target::Discord,
            url: SecretString::from("https://discord.com/api/webhooks/1/secret-token"),
        };
        assert!(!format!("{w:?}").contains("secret-token"));
    }
}
