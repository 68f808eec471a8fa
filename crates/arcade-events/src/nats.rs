//! NATS JetStream bus: events go to the stream `ARCADE` (subjects `arcade.>`) with the event
//! id as `Nats-Msg-Id`, so a retried publish is stored once; live listeners (each replica's
//! pages) follow the same subjects on core NATS.
//!
//! Arcade authenticates with a user and password (or a token) in the URL, or with a
//! credentials file (a NATS account user's JWT and NKey seed, [`NatsOptions::creds`]).

use std::path::PathBuf;
use std::time::Duration;

use arcade_domain::event::{Event, EventKind};
use arcade_domain::ports::EventBus;
use arcade_domain::{BackendError, BackendErrorKind};
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

/// The domain's error for a NATS client error, its kind chosen by [`Classify`].
fn backend_error<E: Classify>(e: E) -> BackendError {
    BackendError::caused_by(e.kind(), BACKEND, e)
}

fn timed_out(detail: &'static str) -> BackendError {
    BackendError::new(BackendErrorKind::TimedOut, BACKEND, detail)
}

/// What a NATS client error means for the caller, error type by error type: the connection
/// gone, a timeout or JetStream not (yet) there are transient; a request NATS refuses as
/// such (bad names, a stream configured otherwise, a payload too large, a bad credential)
/// is a defect.
trait Classify: std::error::Error + Send + Sync + 'static {
    fn kind(&self) -> BackendErrorKind;
}

impl Classify for async_nats::ConnectError {
    fn kind(&self) -> BackendErrorKind {
        use async_nats::ConnectErrorKind as K;
        match self.kind() {
            K::TimedOut => BackendErrorKind::TimedOut,
            K::Io | K::Dns | K::Tls | K::MaxReconnects => BackendErrorKind::Unavailable,
            K::ServerParse | K::Authentication | K::AuthorizationViolation => {
                BackendErrorKind::Defect
            }
        }
    }
}

impl Classify for jetstream::context::PublishError {
    fn kind(&self) -> BackendErrorKind {
        use jetstream::context::PublishErrorKind as K;
        match self.kind() {
            K::TimedOut => BackendErrorKind::TimedOut,
            // The connection broke, JetStream is behind, or the stream is not there yet (a
            // server restarted without its store): another try later can work.
            K::BrokenPipe | K::MaxAckPending | K::StreamNotFound | K::Other => {
                BackendErrorKind::Unavailable
            }
            K::WrongLastMessageId | K::WrongLastSequence | K::MaxPayloadExceeded => {
                BackendErrorKind::Defect
            }
        }
    }
}

impl Classify for jetstream::context::CreateStreamError {
    fn kind(&self) -> BackendErrorKind {
        use jetstream::context::CreateStreamErrorKind as K;
        match self.kind() {
            K::TimedOut => BackendErrorKind::TimedOut,
            K::JetStreamUnavailable => BackendErrorKind::Unavailable,
            _ => BackendErrorKind::Defect,
        }
    }
}

impl Classify for async_nats::client::FlushError {
    fn kind(&self) -> BackendErrorKind {
        // Either the request could not be sent or the connection went before the answer.
        BackendErrorKind::Unavailable
    }
}

/// How to reach NATS, who Arcade is there, and how the stream it creates is kept.
#[derive(Clone)]
pub struct NatsOptions {
    /// One server: `nats://[user:password@]host:port`, or `nats://token@host:port`.
    pub url: String,
    /// A credentials file (`.creds`: JWT and NKey seed) instead of, or besides, the URL's.
    pub creds: Option<PathBuf>,
    /// Copies of the stream JetStream keeps (1 for one server, 3 on a cluster).
    pub stream_replicas: usize,
}

impl std::fmt::Debug for NatsOptions {
    // The URL may hold a password.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("NatsOptions")
            .field("creds", &self.creds)
            .field("stream_replicas", &self.stream_replicas)
            .finish_non_exhaustive()
    }
}

impl NatsOptions {
    /// One server at `url`, a one-copy stream.
    pub fn new(url: &str) -> Self {
        Self {
            url: url.to_owned(),
            creds: None,
            stream_replicas: 1,
        }
    }

    /// The client's options and the URL to give it: async-nats reads no credentials from a
    /// URL, so the user and password (or token) are taken out of it and set here.
    async fn connect_options(&self) -> Result<(async_nats::ConnectOptions, String), BackendError> {
        let mut options = match &self.creds {
            Some(path) => async_nats::ConnectOptions::with_credentials_file(path)
                .await
                .map_err(|e| {
                    BackendError::defect(BACKEND, "cannot read the NATS credentials file")
                        .with_source(e)
                })?,
            None => async_nats::ConnectOptions::new(),
        };
        let mut url = url::Url::parse(&self.url)
            .map_err(|e| BackendError::defect(BACKEND, "invalid NATS URL").with_source(e))?;
        let decode = |raw: &str| {
            percent_encoding::percent_decode_str(raw)
                .decode_utf8()
                .map(|s| s.into_owned())
                .map_err(|_| {
                    BackendError::defect(
                        BACKEND,
                        "the NATS URL's user or password is not valid UTF-8",
                    )
                })
        };
        let user = decode(url.username())?;
        let password = url.password().map(decode).transpose()?;
        match (user.is_empty(), password) {
            (true, None) => {}
            (false, None) => options = options.token(user),
            (_, Some(password)) => options = options.user_and_password(user, password),
        }
        // Infallible on a URL with a host, which a NATS URL has.
        let _ = url.set_username("");
        let _ = url.set_password(None);
        Ok((options, url.into()))
    }
}

/// The JetStream-backed bus. Connects in the background: the server starts (and play goes
/// on) while NATS is away, and events flow once it is back.
#[derive(Debug, Clone)]
pub struct NatsBus {
    client: async_nats::Client,
    jetstream: jetstream::Context,
    stream_ready: std::sync::Arc<OnceCell<()>>,
    stream_replicas: usize,
}

impl NatsBus {
    /// Connect to one server at `url` (credentials in the URL, if any).
    pub async fn connect(url: &str) -> Result<Self, BackendError> {
        Self::connect_with(&NatsOptions::new(url)).await
    }

    pub async fn connect_with(nats: &NatsOptions) -> Result<Self, BackendError> {
        let (options, url) = nats.connect_options().await?;
        let client = options
            .name("arcade")
            .retry_on_initial_connect()
            .connection_timeout(Duration::from_secs(2))
            .connect(url)
            .await
            .map_err(backend_error)?;
        let mut jetstream = jetstream::new(client.clone());
        jetstream.set_timeout(ACK_TIMEOUT);
        Ok(Self {
            client,
            jetstream,
            stream_ready: std::sync::Arc::new(OnceCell::new()),
            stream_replicas: nats.stream_replicas.max(1),
        })
    }

    pub fn client(&self) -> &async_nats::Client {
        &self.client
    }

    pub fn jetstream(&self) -> &jetstream::Context {
        &self.jetstream
    }

    /// Create the stream on first use (idempotent across replicas), with the configured
    /// number of copies; a stream created with another number is changed to it (JetStream
    /// moves a stream from one copy to three in place on a cluster).
    pub async fn ensure_stream(&self) -> Result<(), BackendError> {
        self.stream_ready
            .get_or_try_init(|| async {
                let config = jetstream::stream::Config {
                    name: STREAM.to_owned(),
                    subjects: vec![SUBJECTS.to_owned()],
                    duplicate_window: DUPLICATE_WINDOW,
                    max_age: MAX_AGE,
                    num_replicas: self.stream_replicas,
                    ..Default::default()
                };
                let mut stream = self
                    .jetstream
                    .get_or_create_stream(config)
                    .await
                    .map_err(backend_error)?;
                let existing = stream
                    .info()
                    .await
                    .map_err(|e| {
                        BackendError::unavailable(BACKEND, "cannot read the stream's settings")
                            .with_source(e)
                    })?
                    .config
                    .clone();
                if existing.num_replicas != self.stream_replicas {
                    tracing::info!(
                        from = existing.num_replicas,
                        to = self.stream_replicas,
                        "changing the replicas of the {STREAM} stream"
                    );
                    self.jetstream
                        .update_stream(jetstream::stream::Config {
                            num_replicas: self.stream_replicas,
                            ..existing
                        })
                        .await
                        .map_err(|e| {
                            BackendError::unavailable(BACKEND, "cannot change the stream's copies")
                                .with_source(e)
                        })?;
                }
                Ok(())
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
    async fn publish(&self, event: &Event) -> Result<(), BackendError> {
        self.ensure_stream().await?;
        let payload = serde_json::to_vec(event)
            .map_err(|e| BackendError::defect(BACKEND, "cannot encode an event").with_source(e))?;
        let mut headers = async_nats::HeaderMap::new();
        headers.insert("Nats-Msg-Id", event.id.to_string().as_str());
        let ack = self
            .jetstream
            .publish_with_headers(event.kind.subject(), headers, payload.into())
            .await
            .map_err(backend_error)?;
        tokio::time::timeout(ACK_TIMEOUT, ack)
            .await
            .map_err(|_| timed_out("no acknowledgement from JetStream in time"))?
            .map(|_| ())
            .map_err(backend_error)
    }

    fn subscribe(&self) -> BoxStream<'static, Event> {
        let client = self.client.clone();
        futures::stream::once(async move { client.subscribe(SUBJECTS).await })
            .filter_map(|r| async move { r.ok() })
            .flatten()
            .filter_map(|m| async move { decode(&m.payload) })
            .boxed()
    }

    async fn ping(&self) -> Result<(), BackendError> {
        match self.client.connection_state() {
            async_nats::connection::State::Connected => {
                tokio::time::timeout(Duration::from_secs(1), self.client.flush())
                    .await
                    .map_err(|_| timed_out("no answer to a flush in time"))?
                    .map_err(backend_error)
            }
            other => Err(BackendError::unavailable(
                BACKEND,
                format!("the connection is {other:?}"),
            )),
        }
    }
}

/// Every subject an event can have, for checks and consumers.
pub fn subjects() -> impl Iterator<Item = &'static str> {
    EventKind::ALL.iter().map(|k| k.subject())
}

#[cfg(test)]
mod tests {
    use super::*;
    use BackendErrorKind::{Defect, TimedOut, Unavailable};
    use async_nats::client::{FlushError, FlushErrorKind};
    use async_nats::jetstream::context::{
        CreateStreamError, CreateStreamErrorKind, PublishError, PublishErrorKind,
    };
    use async_nats::{ConnectError, ConnectErrorKind};

    #[test]
    fn a_lost_connection_and_timeouts_are_transient() {
        for (e, kind) in [
            (
                backend_error(ConnectError::new(ConnectErrorKind::Io)),
                Unavailable,
            ),
            (
                backend_error(ConnectError::new(ConnectErrorKind::Dns)),
                Unavailable,
            ),
            (
                backend_error(ConnectError::new(ConnectErrorKind::TimedOut)),
                TimedOut,
            ),
            (
                backend_error(ConnectError::new(ConnectErrorKind::MaxReconnects)),
                Unavailable,
            ),
            (
                backend_error(PublishError::new(PublishErrorKind::TimedOut)),
                TimedOut,
            ),
            (
                backend_error(PublishError::new(PublishErrorKind::BrokenPipe)),
                Unavailable,
            ),
            (
                backend_error(PublishError::new(PublishErrorKind::StreamNotFound)),
                Unavailable,
            ),
            (
                backend_error(PublishError::new(PublishErrorKind::MaxAckPending)),
                Unavailable,
            ),
            (
                backend_error(CreateStreamError::new(
                    CreateStreamErrorKind::JetStreamUnavailable,
                )),
                Unavailable,
            ),
            (
                backend_error(CreateStreamError::new(CreateStreamErrorKind::TimedOut)),
                TimedOut,
            ),
            (
                backend_error(FlushError::new(FlushErrorKind::SendError)),
                Unavailable,
            ),
        ] {
            assert_eq!(e.kind(), kind, "{e}");
            assert_eq!(e.backend(), "nats");
            assert!(
                std::error::Error::source(&e).is_some(),
                "{e} keeps its cause"
            );
        }
    }

    #[test]
    fn requests_nats_refuses_as_such_are_defects() {
        for e in [
            backend_error(ConnectError::new(ConnectErrorKind::AuthorizationViolation)),
            backend_error(ConnectError::new(ConnectErrorKind::ServerParse)),
            backend_error(PublishError::new(PublishErrorKind::MaxPayloadExceeded)),
            backend_error(PublishError::new(PublishErrorKind::WrongLastSequence)),
            backend_error(CreateStreamError::new(
                CreateStreamErrorKind::InvalidStreamName,
            )),
        ] {
            assert_eq!(e.kind(), Defect, "{e}");
        }
    }
}
