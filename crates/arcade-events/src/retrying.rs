//! Publish after commit, retried until the bus takes it: a score is stored before its events
//! exist, and an event survives the bus being away (a blip, a restart of NATS). Retries are safe
//! because events carry stable ids the bus uses to drop duplicates.

use std::collections::VecDeque;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use arcade_domain::BackendError;
use arcade_domain::event::Event;
use arcade_domain::ports::EventBus;
use async_trait::async_trait;
use futures::stream::BoxStream;
use tokio::sync::Notify;

/// Events waiting for the bus beyond this are dropped oldest first (and logged): memory is
/// bounded even if the bus never returns.
const MAX_PENDING: usize = 100_000;
const FIRST_BACKOFF: Duration = Duration::from_millis(200);
const MAX_BACKOFF: Duration = Duration::from_secs(10);

/// Wraps a bus whose publishes can fail.
pub struct RetryingBus {
    inner: Arc<dyn EventBus>,
    pending: Arc<Mutex<VecDeque<Event>>>,
    wake: Arc<Notify>,
    worker: tokio::task::JoinHandle<()>,
}

impl std::fmt::Debug for RetryingBus {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RetryingBus")
            .field("pending", &self.pending_len())
            .finish()
    }
}

impl RetryingBus {
    pub fn new(inner: Arc<dyn EventBus>) -> Self {
        let pending = Arc::new(Mutex::new(VecDeque::new()));
        let wake = Arc::new(Notify::new());
        let worker = tokio::spawn(drain(inner.clone(), pending.clone(), wake.clone()));
        Self {
            inner,
            pending,
            wake,
            worker,
        }
    }

    /// Events not yet accepted by the bus.
    pub fn pending_len(&self) -> usize {
        self.pending.lock().map_or(0, |q| q.len())
    }

    fn enqueue(&self, event: Event) {
        if let Ok(mut q) = self.pending.lock() {
            if q.len() >= MAX_PENDING
                && let Some(dropped) = q.pop_front()
            {
                tracing::error!(event_id = %dropped.id, kind = dropped.kind.as_str(),
                    "event dropped: too many events waiting for the bus");
            }
            q.push_back(event);
        }
        self.wake.notify_one();
    }
}

impl Drop for RetryingBus {
    fn drop(&mut self) {
        self.worker.abort();
    }
}

async fn drain(inner: Arc<dyn EventBus>, pending: Arc<Mutex<VecDeque<Event>>>, wake: Arc<Notify>) {
    let mut backoff = FIRST_BACKOFF;
    loop {
        let next = pending.lock().ok().and_then(|q| q.front().cloned());
        let Some(event) = next else {
            wake.notified().await;
            continue;
        };
        match inner.publish(&event).await {
            Ok(()) => {
                if let Ok(mut q) = pending.lock()
                    && q.front().is_some_and(|e| e.id == event.id)
                {
                    q.pop_front();
                }
                backoff = FIRST_BACKOFF;
            }
            Err(e) => {
                tracing::warn!(error = %e, retry_ms = backoff.as_millis() as u64,
                    "event bus unavailable; retrying");
                tokio::time::sleep(backoff).await;
                backoff = (backoff * 2).min(MAX_BACKOFF);
            }
        }
    }
}

#[async_trait]
impl EventBus for RetryingBus {
    /// Publishes at once when the bus is there and nothing is queued (keeping order);
    /// otherwise queues the event for the retry loop. Never fails.
    async fn publish(&self, event: &Event) -> Result<(), BackendError> {
        if self.pending_len() == 0 && self.inner.publish(event).await.is_ok() {
            return Ok(());
        }
        self.enqueue(event.clone());
        Ok(())
    }

    fn subscribe(&self) -> BoxStream<'static, Event> {
        self.inner.subscribe()
    }

    async fn ping(&self) -> Result<(), BackendError> {
        self.inner.ping().await
    }
}
