//! NATS JetStream bus: events go to the stream `ARCADE` (subjects `arcade.>`) with the event
//! id as `Nats-Msg-Id`, so a retried publish is stored once; live listeners (each replica's
//! pages) follow the same subjects on core NATS.

use std::time::Duration;

use arcade_domain::StoreError;
use arcade_domain::event::{Event, EventKind};
use arcade_domain::ports::EventBus;
use async_nats::jetstream;
use async_trait::async_trait;
use futures::StreamExt;
use futures::stream::BoxStream;
use tokio::sync::OnceCell;

const BACKEND: &str = "nats";
/// The JetStream stream every event is stored in.
pub const STREAM: &str = "ARCADE";
/// Subjects the stream captures.
pub const SUBJECTS: &str = "arcade.>";
/// How long JetStream remembers message ids to drop duplicates.
const DUPLICATE_WINDOW: Duration = Duration::from_secs(120);
/// Events are kept a week for late consumers (the notifier catching up).
const MAX_AGE: Duration = Duration::from_secs(7 * 24 * 3600);
/// A publish that gets no acknowledgement in this time has failed.
const ACK_TIMEOUT: Duration = Duration::from_secs(2);

fn unavailable(message: impl std::fmt::Display) -> StoreError {
    StoreError::Unavailable {
        backend: BACKEND,
        message: message.to_string(),
    }
}

/// The JetStream-backed bus. Connects in the background: the server starts (and play goes
/// on) while NATS is away, and events flow once it is back.
#[derive(Debug, Clone)]
pub struct NatsBus {
    client: async_nats::Client,
    jetstream: jetstream::Context,
    stream_ready: std::sync::Arc<OnceCell<()>>,
}

impl NatsBus {
    pub async fn connect(url: &str) -> Result<Self, StoreError> {
        let client = async_nats::ConnectOptions::new()
            .name("arcade")
            .retry_on_initial_connect()
            .connection_timeout(Duration::from_secs(2))
            .connect(url)
            .await
            .map_err(unavailable)?;
        let mut jetstream = jetstream::new(client.clone());
        jetstream.set_timeout(ACK_TIMEOUT);
        Ok(Self {
            client,
            jetstream,
            stream_ready: std::sync::Arc::new(OnceCell::new()),
        })
    }

    pub fn client(&self) -> &async_nats::Client {
        &self.client
    }

    pub fn jetstream(&self) -> &jetstream::Context {
        &self.jetstream
    }

    /// Create the stream on first use (idempotent across replicas).
    pub async fn ensure_stream(&self) -> Result<(), StoreError> {
        self.stream_ready
            .get_or_try_init(|| async {
                self.jetstream
                    .get_or_create_stream(jetstream::stream::Config {
                        name: STREAM.to_owned(),
                        subjects: vec![SUBJECTS.to_owned()],
                        duplicate_window: DUPLICATE_WINDOW,
                        max_age: MAX_AGE,
                        ..Default::default()
                    })
                    .await
                    .map(|_| ())
                    .map_err(unavailable)
            })
            .await
            .map(|_| ())
    }
}

/// Decode an event from a message payload (for consumers).
pub fn decode(payload: &[u8]) -> Option<Event> {
    serde_json::from_slice(payload).ok()
}

#[async_trait]
impl EventBus for NatsBus {
    #[tracing::instrument(name = "nats.publish", skip_all, fields(messaging.system = "nats", messaging.destination = event.kind.subject()))]
    async fn publish(&self, event: &Event) -> Result<(), StoreError> {
        self.ensure_stream().await?;
        let payload = serde_json::to_vec(event).map_err(|e| StoreError::Failed {
            backend: BACKEND,
            message: e.to_string(),
        })?;
        let mut headers = async_nats::HeaderMap::new();
        headers.insert("Nats-Msg-Id", event.id.to_string().as_str());
        let ack = self
            .jetstream
            .publish_with_headers(event.kind.subject(), headers, payload.into())
            .await
            .map_err(unavailable)?;
        tokio::time::timeout(ACK_TIMEOUT, ack)
            .await
            .map_err(|_| unavailable("no acknowledgement from JetStream in time"))?
            .map(|_| ())
            .map_err(unavailable)
    }

    fn subscribe(&self) -> BoxStream<'static, Event> {
        let client = self.client.clone();
        futures::stream::once(async move { client.subscribe(SUBJECTS).await })
            .filter_map(|r| async move { r.ok() })
            .flatten()
            .filter_map(|m| async move { decode(&m.payload) })
            .boxed()
    }

    async fn ping(&self) -> Result<(), StoreError> {
        match self.client.connection_state() {
            async_nats::connection::State::Connected => {
                tokio::time::timeout(Duration::from_secs(1), self.client.flush())
                    .await
                    .map_err(|_| unavailable("no answer to a flush in time"))?
                    .map_err(unavailable)
            }
            other => Err(unavailable(format!("connection is {other:?}"))),
        }
    }
}

/// Every subject an event can have, for checks and consumers.
pub fn subjects() -> impl Iterator<Item = &'static str> {
    EventKind::ALL.iter().map(|k| k.subject())
}
