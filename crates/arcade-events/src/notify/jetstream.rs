//! The notifier's JetStream side: a durable pull consumer on the `ARCADE` stream (an event
//! published while the notifier is down is delivered when it is back), explicit
//! acknowledgements settled by the workers, and dead letters published back into the stream.

use std::sync::Arc;
use std::time::Duration;

use arcade_domain::BackendError;
use arcade_domain::event::EventKind;
use async_nats::jetstream::consumer::{AckPolicy, DeliverPolicy, PullConsumer, pull};
use async_nats::jetstream::{self, AckKind};
use async_trait::async_trait;
use futures::StreamExt;

use super::{DEAD_LETTER_SUBJECT, DeadLetter, DeadLetters, Settle};
use crate::nats::{NatsBus, STREAM, decode};

/// Subjects the notifier announces.
pub const SUBJECTS: [EventKind; 2] = [EventKind::ScoreSubmitted, EventKind::LeaderboardTop];
/// A handed-back event waits this long before JetStream offers it again.
const NAK_DELAY: Duration = Duration::from_secs(30);

/// The durable consumer's settings.
#[derive(Debug, Clone)]
pub struct ConsumerSettings {
    /// Durable name: the notifier's position in the stream survives restarts under it.
    pub name: String,
    /// Events handed out and not yet acknowledged, at most (bounds memory and digests).
    pub max_ack_pending: i64,
    /// An event not acknowledged in this time is redelivered; longer than any retry sequence.
    pub ack_wait: Duration,
}

/// Create the consumer unless it exists. A new consumer starts at new events: a notifier
/// deployed for the first time must not announce a week of history.
pub async fn consumer(
    bus: &NatsBus,
    settings: &ConsumerSettings,
) -> Result<PullConsumer, async_nats::Error> {
    bus.ensure_stream().await?;
    let stream = bus.jetstream().get_stream(STREAM).await?;
    let consumer = stream
        .get_or_create_consumer(
            &settings.name,
            pull::Config {
                durable_name: Some(settings.name.clone()),
                description: Some("arcade notify: webhook notifications".to_owned()),
                ack_policy: AckPolicy::Explicit,
                ack_wait: settings.ack_wait,
                max_ack_pending: settings.max_ack_pending,
                deliver_policy: DeliverPolicy::New,
                filter_subjects: SUBJECTS.iter().map(|k| k.subject().to_owned()).collect(),
                ..Default::default()
            },
        )
        .await?;
    Ok(consumer)
}

/// Whether the consumer still exists on the server (readiness): the stream or the consumer
/// missing, or NATS not answering, all leave the notifier unable to work until it is back.
pub async fn consumer_exists(bus: &NatsBus, name: &str) -> Result<(), BackendError> {
    let unavailable =
        || BackendError::unavailable("nats", format!("consumer {name} cannot be read"));
    let stream = bus
        .jetstream()
        .get_stream(STREAM)
        .await
        .map_err(|e| unavailable().with_source(e))?;
    stream
        .consumer_info(name)
        .await
        .map_err(|e| unavailable().with_source(e))?;
    Ok(())
}

/// Delete the durable consumer (tests; an operator retiring the notifier).
pub async fn delete_consumer(bus: &NatsBus, name: &str) -> Result<(), async_nats::Error> {
    let stream = bus.jetstream().get_stream(STREAM).await?;
    stream.delete_consumer(name).await?;
    Ok(())
}

/// Pull events and hand them to `handle` until `shutdown` resolves. Each message is settled
/// through the `Settle` it comes with: acknowledged, or handed back for redelivery.
pub async fn run<H, F>(
    consumer: PullConsumer,
    handle: H,
    shutdown: impl std::future::Future<Output = ()>,
) -> Result<(), async_nats::Error>
where
    H: Fn(arcade_domain::event::Event, Settle) -> F,
    F: std::future::Future<Output = ()>,
{
    let mut messages = consumer.messages().await?;
    tokio::pin!(shutdown);
    loop {
        let next = tokio::select! {
            () = &mut shutdown => return Ok(()),
            next = messages.next() => next,
        };
        let message = match next {
            None => return Ok(()),
            Some(Ok(m)) => m,
            Some(Err(e)) => {
                tracing::warn!(error = %e, "pulling events failed; retrying");
                tokio::time::sleep(Duration::from_secs(1)).await;
                continue;
            }
        };
        let Some(event) = decode(&message.payload) else {
            // Retrying cannot make it readable: acknowledge so it does not block the rest.
            tracing::error!(subject = %message.subject, "undecodable event skipped");
            if let Err(e) = message.ack().await {
                tracing::warn!(error = %e, "acknowledging an undecodable event failed");
            }
            continue;
        };
        let message = Arc::new(message);
        let settle: Settle = Box::new(move |ok| {
            Box::pin(async move {
                let result = if ok {
                    message.ack().await
                } else {
                    message.ack_with(AckKind::Nak(Some(NAK_DELAY))).await
                };
                if let Err(e) = result {
                    // Unacknowledged, it comes back after the ack wait; duplicates are dropped.
                    tracing::warn!(error = %e, "settling an event with JetStream failed");
                }
            })
        });
        handle(event, settle).await;
    }
}

/// Parks dead letters on `arcade.dead.webhook` in the stream, once per event and target.
#[derive(Debug, Clone)]
pub struct NatsDeadLetters {
    jetstream: jetstream::Context,
}

impl NatsDeadLetters {
    pub fn new(bus: &NatsBus) -> Self {
        Self {
            jetstream: bus.jetstream().clone(),
        }
    }
}

#[async_trait]
impl DeadLetters for NatsDeadLetters {
    async fn park(&self, letter: &DeadLetter) -> Result<(), String> {
        let payload = serde_json::to_vec(letter).map_err(|e| e.to_string())?;
        let mut headers = async_nats::HeaderMap::new();
        headers.insert(
            "Nats-Msg-Id",
            format!("dead:{}:{}", letter.target, letter.event.id).as_str(),
        );
        let ack = self
            .jetstream
            .publish_with_headers(DEAD_LETTER_SUBJECT, headers, payload.into())
            .await
            .map_err(|e| e.to_string())?;
        ack.await.map(|_| ()).map_err(|e| e.to_string())
    }
}
