//! Event bus adapters behind the domain's `EventBus` port: the in-process bus of the
//! embedded default and NATS JetStream for fleets; the [`Relay`] that moves events from the
//! outbox to the bus; and [`notify`], the webhook delivery of `arcade notify`.

mod nats;
pub mod notify;
mod relay;

pub use nats::{NatsBus, NatsOptions, STREAM, SUBJECTS, decode, subjects};
pub use relay::{Relay, RelayHandle};

use arcade_domain::BackendError;
use arcade_domain::event::Event;
use arcade_domain::ports::EventBus;
use async_trait::async_trait;
use futures::StreamExt;
use futures::stream::BoxStream;
use tokio::sync::broadcast as fanout;
use tokio_stream::wrappers::BroadcastStream;

/// Delivers events to subscribers in this process. A subscriber that falls more than
/// `capacity` events behind skips the ones it missed rather than slowing the publisher.
#[derive(Debug, Clone)]
pub struct InProcessBus {
    sender: fanout::Sender<Event>,
}

impl InProcessBus {
    pub fn new(capacity: usize) -> Self {
        Self {
            sender: fanout::channel(capacity.max(1)).0,
        }
    }
}

impl Default for InProcessBus {
    fn default() -> Self {
        Self::new(1024)
    }
}

#[async_trait]
impl EventBus for InProcessBus {
    async fn publish(&self, event: &Event) -> Result<(), BackendError> {
        // No subscriber is not an error: nobody is listening yet.
        let _ = self.sender.send(event.clone());
        Ok(())
    }

    fn subscribe(&self) -> BoxStream<'static, Event> {
        BroadcastStream::new(self.sender.subscribe())
            .filter_map(|r| async move { r.ok() })
            .boxed()
    }

    async fn ping(&self) -> Result<(), BackendError> {
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use arcade_domain::event::EventKind;
    use arcade_domain::time::Timestamp;

    #[tokio::test]
    async fn subscribers_receive_events_published_after_they_subscribe() {
        let bus = InProcessBus::new(8);
        let event = |n: u32| Event {
            id: uuid_for(n),
            kind: EventKind::ScoreSubmitted,
            game: "egg-catcher".into(),
            player: "Alice".into(),
            session_id: uuid_for(n),
            score: Some(n),
            rank: Some(1),
            period: None,
            at: Timestamp(0),
        };
        bus.publish(&event(1)).await.unwrap();
        let mut stream = bus.subscribe();
        bus.publish(&event(2)).await.unwrap();
        assert_eq!(stream.next().await.unwrap().score, Some(2));
    }

    fn uuid_for(n: u32) -> uuid::Uuid {
        uuid::Uuid::from_u128(u128::from(n))
    }
}
