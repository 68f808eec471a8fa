//! Posting to webhooks: one worker task per target, fed in order through a bounded channel
//! (a slow target slows intake instead of growing memory). Each worker drops duplicates,
//! sends within its rate, folds the overflow into one digest when the window allows, retries
//! with backoff, and parks what it cannot deliver.

use std::sync::Arc;
use std::time::Duration;

use arcade_domain::event::Event;
use secrecy::{ExposeSecret, SecretString};
use serde_json::Value;
use tokio::sync::mpsc;
use tokio::task::JoinHandle;
use tokio::time::Instant;

use super::message::{self, Digest, Notice};
use super::policy::{DedupWindow, RateWindow, RetryPolicy, Verdict, classify};
use super::{
    Completion, DeadLetter, DeadLetters, DeliveryObserver, Outcome, Settings, Settle, Target,
};

/// Events waiting per target before intake waits for the worker.
const QUEUE: usize = 256;

struct Item {
    event: Arc<Event>,
    notice: Arc<Notice>,
    done: Arc<Completion>,
}

/// Hands events to every target's worker (or, with none configured, logs them).
pub struct Notifier {
    workers: Vec<(Target, mpsc::Sender<Item>)>,
    tasks: Vec<JoinHandle<()>>,
    public_url: Option<String>,
    observer: Arc<dyn DeliveryObserver>,
}

impl std::fmt::Debug for Notifier {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Notifier")
            .field(
                "targets",
                &self
                    .workers
                    .iter()
                    .map(|(t, _)| t.as_str())
                    .collect::<Vec<_>>(),
            )
            .finish()
    }
}

impl Drop for Notifier {
    fn drop(&mut self) {
        for t in &self.tasks {
            t.abort();
        }
    }
}

impl Notifier {
    /// Start a worker per configured webhook.
    pub fn start(
        settings: &Settings,
        dead_letters: Arc<dyn DeadLetters>,
        observer: Arc<dyn DeliveryObserver>,
    ) -> Result<Self, reqwest::Error> {
        let client = reqwest::Client::builder()
            .timeout(settings.request_timeout)
            .user_agent(concat!("arcade-notifier/", env!("CARGO_PKG_VERSION")))
            .build()?;
        let mut workers = Vec::new();
        let mut tasks = Vec::new();
        for hook in &settings.webhooks {
            let (tx, rx) = mpsc::channel(QUEUE);
            let worker = Worker {
                target: hook.target,
                url: hook.url.clone(),
                client: client.clone(),
                retry: settings.retry,
                rate: RateWindow::new(settings.per_minute, settings.rate_window),
                seen: DedupWindow::new(settings.dedup_window),
                public_url: settings.public_url.clone(),
                dead_letters: dead_letters.clone(),
                observer: observer.clone(),
            };
            tasks.push(tokio::spawn(worker.run(rx)));
            workers.push((hook.target, tx));
        }
        Ok(Self {
            workers,
            tasks,
            public_url: settings.public_url.clone(),
            observer,
        })
    }

    /// Stop taking events and let the workers finish the message in hand, for up to
    /// `timeout`; events still waiting (digests) stay unacknowledged and are redelivered.
    pub async fn finish(mut self, timeout: Duration) {
        self.workers.clear();
        let tasks = std::mem::take(&mut self.tasks);
        let aborts: Vec<_> = tasks.iter().map(JoinHandle::abort_handle).collect();
        if tokio::time::timeout(timeout, futures::future::join_all(tasks))
            .await
            .is_err()
        {
            tracing::warn!("webhook deliveries did not finish in time");
            for a in aborts {
                a.abort();
            }
        }
    }

    /// No webhook configured: events are logged, not sent.
    pub fn is_log_only(&self) -> bool {
        self.workers.is_empty()
    }

    /// Take one event; `settle` is called once every target is done with it. Waits while
    /// a target's queue is full.
    pub async fn handle(&self, event: Event, settle: Settle) {
        let Some(notice) = Notice::from_event(&event, self.public_url.as_deref()) else {
            tracing::debug!(event_id = %event.id, kind = event.kind.as_str(), "event not announced");
            settle(true).await;
            return;
        };
        if self.is_log_only() {
            tracing::info!(event_id = %event.id, game = %event.game, message = %notice.summary(),
                "log-only mode: would announce");
            self.observer.outcome("log", Outcome::Logged);
            settle(true).await;
            return;
        }
        let done = Completion::new(self.workers.len(), settle);
        let (event, notice) = (Arc::new(event), Arc::new(notice));
        for (target, tx) in &self.workers {
            let item = Item {
                event: event.clone(),
                notice: notice.clone(),
                done: done.clone(),
            };
            if tx.send(item).await.is_err() {
                tracing::error!(target_name = target.as_str(), "webhook worker stopped");
                done.done(false).await;
            }
        }
    }
}

struct Worker {
    target: Target,
    url: SecretString,
    client: reqwest::Client,
    retry: RetryPolicy,
    rate: RateWindow,
    seen: DedupWindow,
    public_url: Option<String>,
    dead_letters: Arc<dyn DeadLetters>,
    observer: Arc<dyn DeliveryObserver>,
}

/// Why a delivery ended without the target taking it.
struct Failure {
    attempts: u32,
    error: String,
}

impl Worker {
    fn name(&self) -> &'static str {
        self.target.as_str()
    }

    async fn run(mut self, mut rx: mpsc::Receiver<Item>) {
        let mut waiting: Vec<Item> = Vec::new();
        loop {
            let flush_at = (!waiting.is_empty())
                .then(|| Instant::from_std(self.rate.next_free(Instant::now().into_std())));
            tokio::select! {
                item = rx.recv() => match item {
                    Some(item) => self.accept(item, &mut waiting).await,
                    // Unsettled waiting events are redelivered by the bus.
                    None => return,
                },
                () = sleep_until(flush_at) => self.flush(&mut waiting).await,
            }
        }
    }

    async fn accept(&mut self, item: Item, waiting: &mut Vec<Item>) {
        if !self.seen.insert(item.event.id) {
            tracing::info!(target_name = self.name(), event_id = %item.event.id, "duplicate event dropped");
            self.observer.outcome(self.name(), Outcome::Deduplicated);
            item.done.done(true).await;
            return;
        }
        // Once something waits for the window, later events queue behind it (keeps order).
        if waiting.is_empty() && self.rate.try_take(Instant::now().into_std()) {
            self.send_one(item).await;
        } else {
            waiting.push(item);
        }
    }

    async fn flush(&mut self, waiting: &mut Vec<Item>) {
        if !self.rate.try_take(Instant::now().into_std()) {
            return;
        }
        let items = std::mem::take(waiting);
        match items.len() {
            0 => {}
            1 => {
                if let Some(item) = items.into_iter().next() {
                    self.send_one(item).await;
                }
            }
            n => {
                let notices: Vec<&Notice> = items.iter().map(|i| i.notice.as_ref()).collect();
                let digest = Digest::new(&notices, self.public_url.as_deref());
                let body = match self.target {
                    Target::Discord => digest.discord(),
                    Target::Slack => digest.slack(),
                };
                tracing::info!(target_name = self.name(), events = n, "sending a digest");
                let result = self.post_with_retries(&body).await;
                for item in items {
                    self.settle(item, &result, Outcome::Digested).await;
                }
            }
        }
    }

    async fn send_one(&mut self, item: Item) {
        let body = match self.target {
            Target::Discord => message::discord(&item.notice),
            Target::Slack => message::slack(&item.notice),
        };
        let result = self.post_with_retries(&body).await;
        self.settle(item, &result, Outcome::Delivered).await;
    }

    async fn settle(&mut self, item: Item, result: &Result<(), Failure>, success: Outcome) {
        let Err(failure) = result else {
            self.observer.outcome(self.name(), success);
            item.done.done(true).await;
            return;
        };
        let letter = DeadLetter {
            target: self.name().to_owned(),
            error: failure.error.clone(),
            attempts: failure.attempts,
            event: item.event.as_ref().clone(),
        };
        match self.dead_letters.park(&letter).await {
            Ok(()) => {
                tracing::warn!(target_name = self.name(), event_id = %item.event.id,
                    attempts = failure.attempts, error = %failure.error,
                    "webhook delivery failed; event parked as a dead letter");
                self.observer.outcome(self.name(), Outcome::DeadLettered);
                item.done.done(true).await;
            }
            Err(e) => {
                tracing::error!(target_name = self.name(), event_id = %item.event.id,
                    error = %failure.error, park_error = %e,
                    "webhook delivery failed and the dead letter could not be parked; the event will be redelivered");
                self.observer.outcome(self.name(), Outcome::Failed);
                // Let the redelivery through this target's duplicate check.
                self.seen.forget(item.event.id);
                item.done.done(false).await;
            }
        }
    }

    async fn post_with_retries(&self, body: &Value) -> Result<(), Failure> {
        let mut attempt = 0;
        loop {
            attempt += 1;
            let (after, error) = match self.post(body).await {
                Verdict::Accepted => return Ok(()),
                Verdict::Reject { reason } => {
                    return Err(Failure {
                        attempts: attempt,
                        error: reason,
                    });
                }
                Verdict::Retry { after, reason } => (after, reason),
            };
            if attempt >= self.retry.max_attempts {
                return Err(Failure {
                    attempts: attempt,
                    error,
                });
            }
            let wait = self.retry.wait(attempt, rand::random::<f64>(), after);
            tracing::warn!(target_name = self.name(), attempt, error = %error,
                retry_ms = wait.as_millis() as u64, "webhook delivery failed; retrying");
            self.observer.outcome(self.name(), Outcome::Retried);
            tokio::time::sleep(wait).await;
        }
    }

    async fn post(&self, body: &Value) -> Verdict {
        let started = std::time::Instant::now();
        let sent = self
            .client
            .post(self.url.expose_secret())
            .json(body)
            .send()
            .await;
        let verdict = match sent {
            Ok(response) => {
                let status = response.status().as_u16();
                let retry_after = response
                    .headers()
                    .get(reqwest::header::RETRY_AFTER)
                    .and_then(|v| v.to_str().ok())
                    .map(str::to_owned);
                let bytes = response.bytes().await.unwrap_or_default();
                classify(status, retry_after.as_deref(), &bytes)
            }
            // The error's URL is the secret: never show it.
            Err(e) => Verdict::Retry {
                after: None,
                reason: describe(&e.without_url()),
            },
        };
        self.observer
            .latency(self.name(), started.elapsed().as_secs_f64());
        verdict
    }
}

fn describe(e: &reqwest::Error) -> String {
    if e.is_timeout() {
        "timed out".to_owned()
    } else if e.is_connect() {
        "could not connect".to_owned()
    } else {
        e.to_string()
    }
}

async fn sleep_until(at: Option<Instant>) {
    match at {
        Some(at) => tokio::time::sleep_until(at).await,
        None => std::future::pending().await,
    }
}
