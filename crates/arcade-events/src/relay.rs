//! The outbox relay: publishes the events waiting in the outbox to the bus and deletes each
//! once the bus took it (JetStream acknowledged it; the event id is its `Nats-Msg-Id`, so an
//! event two relays both publish is stored once). One runs in every replica: woken at once
//! when this replica adds events, and polling for what others left (a replica gone mid-relay,
//! a score's event whose hold ended). While the bus or the database is away it backs off; on
//! shutdown it relays what it can in the time it is given and says what it left, which the
//! next relay to run publishes.

use std::sync::Arc;
use std::time::Duration;

use arcade_domain::BackendError;
use arcade_domain::event::Event;
use arcade_domain::ports::{EventBus, Observer, Outbox, OutboxDepth, OutboxEntry};
use async_trait::async_trait;
use tokio::sync::{Notify, oneshot};
use tokio::time::Instant;
use uuid::Uuid;

use crate::nats::decode;

/// Events claimed (and published at once) per round.
const BATCH: usize = 256;
/// How long a claim keeps other relays off an event: longer than a round's publishing takes
/// (each publish gives up after its acknowledgement timeout), short enough that the events of
/// a relay that died are soon taken up by another.
const LEASE: Duration = Duration::from_secs(15);
/// How often the outbox is looked at without being woken, for what other replicas left.
const POLL_EVERY: Duration = Duration::from_secs(1);
/// How often the outbox's depth is read for the metrics.
const DEPTH_EVERY: Duration = Duration::from_secs(5);
/// The least time from one round's start to the next when woken: events added meanwhile wait
/// and go out together, so a busy outbox is claimed a few times a second rather than once per
/// finish (a claim is a write, and it reads past the rows earlier rounds left dead until the
/// table is vacuumed). An idle outbox's event goes out at once.
const ROUND_GAP: Duration = Duration::from_millis(50);
const FIRST_BACKOFF: Duration = Duration::from_millis(200);
const MAX_BACKOFF: Duration = Duration::from_secs(10);

/// Moves events from the outbox to the bus.
pub struct Relay {
    outbox: Arc<dyn Outbox>,
    bus: Arc<dyn EventBus>,
    observer: Arc<dyn Observer>,
    wake: Arc<Notify>,
}

impl std::fmt::Debug for Relay {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Relay").finish_non_exhaustive()
    }
}

impl Relay {
    pub fn new(
        outbox: Arc<dyn Outbox>,
        bus: Arc<dyn EventBus>,
        observer: Arc<dyn Observer>,
    ) -> Self {
        Self {
            outbox,
            bus,
            observer,
            wake: Arc::new(Notify::new()),
        }
    }

    /// The outbox for the use cases: the same one, waking this relay as soon as they added
    /// events, so that live pages see a finish as fast as the bus carries it (within
    /// a round gap while events keep coming).
    pub fn outbox(&self) -> Arc<dyn Outbox> {
        Arc::new(Waking {
            inner: self.outbox.clone(),
            wake: self.wake.clone(),
        })
    }

    /// Relay in a task of its own until [`RelayHandle::drain`].
    pub fn spawn(self) -> RelayHandle {
        let (stop, stopped) = oneshot::channel();
        RelayHandle {
            stop: Some(stop),
            task: Some(tokio::spawn(self.run(stopped))),
        }
    }

    async fn run(self, mut stop: oneshot::Receiver<Duration>) {
        let mut backoff: Option<Duration> = None;
        let mut depth_read = None::<Instant>;
        let drain_for = loop {
            let round = Instant::now();
            match self.relay_ready().await {
                Ok(()) => backoff = None,
                Err(e) => {
                    self.observer.relay_failed(&e);
                    backoff = Some(backoff.map_or(FIRST_BACKOFF, |b| (b * 2).min(MAX_BACKOFF)));
                }
            }
            if depth_read.is_none_or(|at: Instant| at.elapsed() >= DEPTH_EVERY) {
                self.report_depth().await;
                depth_read = Some(Instant::now());
            }
            // While the bus is away, new events wait for the backoff like the others.
            let woken = self.wake.notified();
            tokio::select! {
                () = woken, if backoff.is_none() => {
                    tokio::time::sleep_until(round + ROUND_GAP).await;
                }
                () = tokio::time::sleep(backoff.unwrap_or(POLL_EVERY)) => {}
                within = &mut stop => break within.unwrap_or_default(),
            }
        };
        self.drain(drain_for).await;
    }

    /// Publish every ready event, a batch at a time, until none is left or a round fails.
    async fn relay_ready(&self) -> Result<(), BackendError> {
        loop {
            let claimed = self.outbox.claim(BATCH, LEASE).await?;
            if claimed.is_empty() {
                return Ok(());
            }
            let full = claimed.len() == BATCH;
            self.publish(claimed).await?;
            if !full {
                return Ok(());
            }
        }
    }

    /// Publish claimed events at once; remove those the bus took and give the others back.
    async fn publish(&self, claimed: Vec<OutboxEntry>) -> Result<(), BackendError> {
        let events: Vec<(Uuid, Event)> = claimed
            .into_iter()
            .filter_map(|entry| match decode(entry.payload.as_bytes()) {
                Some(event) => Some((entry.id, event)),
                None => {
                    // A kind a newer build added: left leased, for a replica that knows it.
                    tracing::warn!(event_id = %entry.id, "an outbox event this build cannot read is left for another");
                    None
                }
            })
            .collect();
        let results =
            futures::future::join_all(events.iter().map(|(_, e)| self.bus.publish(e))).await;
        let mut taken = Vec::with_capacity(events.len());
        let mut refused = Vec::new();
        let mut failure = None;
        for ((id, event), result) in events.iter().zip(results) {
            match result {
                Ok(()) => {
                    taken.push(*id);
                    self.observer.event_published(event.kind);
                }
                Err(e) => {
                    refused.push(*id);
                    failure.get_or_insert(e);
                }
            }
        }
        if !taken.is_empty() {
            self.outbox.remove(&taken).await?;
        }
        match failure {
            None => Ok(()),
            Some(e) => {
                // Given back at once, so that the first relay to reach the bus again takes
                // them rather than waiting for the lease.
                if let Err(unclaimed) = self.outbox.unclaim(&refused).await {
                    tracing::debug!(error = %arcade_domain::error::report(&unclaimed), "events left to their lease");
                }
                Err(e)
            }
        }
    }

    async fn report_depth(&self) -> Option<OutboxDepth> {
        match self.outbox.depth().await {
            Ok(depth) => {
                self.observer.outbox_depth(depth);
                Some(depth)
            }
            Err(e) => {
                tracing::debug!(error = %arcade_domain::error::report(&e), "outbox depth unknown");
                None
            }
        }
    }

    /// Relay for at most `within` (at least one round), then say what is left.
    async fn drain(&self, within: Duration) {
        let deadline = Instant::now() + within;
        let drained = tokio::time::timeout_at(deadline, async {
            loop {
                match self.relay_ready().await {
                    Ok(()) => return Ok(()),
                    Err(e) if Instant::now() + FIRST_BACKOFF >= deadline => {
                        return Err(e);
                    }
                    Err(_) => tokio::time::sleep(FIRST_BACKOFF).await,
                }
            }
        })
        .await;
        let depth = self.report_depth().await;
        let left = depth.map_or(0, |d| d.events);
        match drained {
            Ok(Ok(())) if left == 0 => tracing::info!("outbox drained"),
            Ok(Ok(())) => tracing::info!(
                events = left,
                "outbox relayed; the events left are held for finishes or claimed by other replicas"
            ),
            Ok(Err(e)) => tracing::warn!(
                events = left,
                error = %arcade_domain::error::report(&e),
                "events left in the outbox: the bus did not take them; the next relay publishes them"
            ),
            Err(_) => tracing::warn!(
                events = left,
                "events left in the outbox after the shutdown timeout; the next relay publishes them"
            ),
        }
    }
}

/// A running relay.
#[derive(Debug)]
pub struct RelayHandle {
    stop: Option<oneshot::Sender<Duration>>,
    task: Option<tokio::task::JoinHandle<()>>,
}

impl RelayHandle {
    /// Stop polling, relay what is ready for at most `within`, and say what is left.
    pub async fn drain(mut self, within: Duration) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(within);
        }
        if let Some(task) = self.task.take() {
            // A publish in flight ends within its acknowledgement timeout.
            let _ = tokio::time::timeout(within + Duration::from_secs(3), task).await;
        }
    }
}

impl Drop for RelayHandle {
    fn drop(&mut self) {
        if let Some(task) = self.task.take() {
            task.abort();
        }
    }
}

/// The outbox, waking the relay once events were added.
struct Waking {
    inner: Arc<dyn Outbox>,
    wake: Arc<Notify>,
}

#[async_trait]
impl Outbox for Waking {
    async fn add(&self, events: &[Event]) -> Result<(), BackendError> {
        self.inner.add(events).await?;
        self.wake.notify_one();
        Ok(())
    }

    async fn claim(&self, limit: usize, lease: Duration) -> Result<Vec<OutboxEntry>, BackendError> {
        self.inner.claim(limit, lease).await
    }

    async fn remove(&self, ids: &[Uuid]) -> Result<(), BackendError> {
        self.inner.remove(ids).await
    }

    async fn unclaim(&self, ids: &[Uuid]) -> Result<(), BackendError> {
        self.inner.unclaim(ids).await
    }

    async fn depth(&self) -> Result<OutboxDepth, BackendError> {
        self.inner.depth().await
    }

    fn wake(&self) {
        self.wake.notify_one();
    }
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;
    use std::sync::Mutex;
    use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};

    use arcade_domain::event::EventKind;
    use arcade_domain::time::Timestamp;
    use futures::stream::BoxStream;

    use super::*;

    /// Entries by id, each with whether a relay holds it, and the claims made.
    #[derive(Default)]
    struct Memory(Mutex<BTreeMap<Uuid, (String, bool)>>, AtomicUsize);

    impl Memory {
        fn put_raw(&self, id: Uuid, payload: &str) {
            self.0
                .lock()
                .unwrap()
                .insert(id, (payload.to_owned(), false));
        }

        fn ids(&self) -> Vec<Uuid> {
            self.0.lock().unwrap().keys().copied().collect()
        }
    }

    #[async_trait]
    impl Outbox for Memory {
        async fn add(&self, events: &[Event]) -> Result<(), BackendError> {
            for e in events {
                self.put_raw(e.id, &serde_json::to_string(e).unwrap());
            }
            Ok(())
        }

        async fn claim(&self, limit: usize, _: Duration) -> Result<Vec<OutboxEntry>, BackendError> {
            self.1.fetch_add(1, Ordering::SeqCst);
            let mut entries = self.0.lock().unwrap();
            Ok(entries
                .iter_mut()
                .filter(|(_, (_, held))| !*held)
                .take(limit)
                .map(|(id, (payload, held))| {
                    *held = true;
                    OutboxEntry {
                        id: *id,
                        payload: payload.clone(),
                    }
                })
                .collect())
        }

        async fn remove(&self, ids: &[Uuid]) -> Result<(), BackendError> {
            let mut entries = self.0.lock().unwrap();
            for id in ids {
                entries.remove(id);
            }
            Ok(())
        }

        async fn unclaim(&self, ids: &[Uuid]) -> Result<(), BackendError> {
            let mut entries = self.0.lock().unwrap();
            for id in ids {
                if let Some((_, held)) = entries.get_mut(id) {
                    *held = false;
                }
            }
            Ok(())
        }

        async fn depth(&self) -> Result<OutboxDepth, BackendError> {
            Ok(OutboxDepth {
                events: self.0.lock().unwrap().len() as u64,
                oldest_age: Duration::ZERO,
            })
        }
    }

    /// Keeps what it takes, or refuses everything while `down`.
    #[derive(Default)]
    struct Bus {
        taken: Mutex<Vec<Uuid>>,
        down: AtomicBool,
    }

    #[async_trait]
    impl EventBus for Bus {
        async fn publish(&self, event: &Event) -> Result<(), BackendError> {
            if self.down.load(Ordering::SeqCst) {
                return Err(BackendError::unavailable("test bus", "down"));
            }
            self.taken.lock().unwrap().push(event.id);
            Ok(())
        }

        fn subscribe(&self) -> BoxStream<'static, Event> {
            unreachable!("the relay only publishes")
        }

        async fn ping(&self) -> Result<(), BackendError> {
            Ok(())
        }
    }

    #[derive(Default)]
    struct Counts {
        published: AtomicUsize,
        failed: AtomicUsize,
    }

    impl Observer for Counts {
        fn event_published(&self, _: EventKind) {
            self.published.fetch_add(1, Ordering::SeqCst);
        }
        fn relay_failed(&self, _: &BackendError) {
            self.failed.fetch_add(1, Ordering::SeqCst);
        }
    }

    fn events(n: u128) -> Vec<Event> {
        (0..n)
            .map(|i| Event {
                id: Uuid::from_u128(i + 1),
                kind: EventKind::SessionStarted,
                game: "egg-catcher".into(),
                player: format!("P{i}"),
                session_id: Uuid::from_u128(i + 1000),
                score: None,
                rank: None,
                period: None,
                at: Timestamp(0),
            })
            .collect()
    }

    struct Running {
        memory: Arc<Memory>,
        bus: Arc<Bus>,
        counts: Arc<Counts>,
        outbox: Arc<dyn Outbox>,
        relay: RelayHandle,
    }

    fn running() -> Running {
        let (memory, bus, counts) = (
            Arc::new(Memory::default()),
            Arc::new(Bus::default()),
            Arc::new(Counts::default()),
        );
        let relay = Relay::new(memory.clone(), bus.clone(), counts.clone());
        let outbox = relay.outbox();
        Running {
            memory,
            bus,
            counts,
            outbox,
            relay: relay.spawn(),
        }
    }

    /// Wait (at most `within`) until `done`.
    async fn soon(within: Duration, done: impl Fn() -> bool) -> bool {
        let deadline = Instant::now() + within;
        while !done() {
            if Instant::now() >= deadline {
                return false;
            }
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        true
    }

    #[tokio::test]
    async fn added_events_are_published_at_once_and_removed() {
        let r = running();
        // Let the relay's first round pass, so that only a wake-up explains what follows.
        tokio::time::sleep(Duration::from_millis(50)).await;
        r.outbox.add(&events(300)).await.unwrap();
        assert!(
            soon(POLL_EVERY / 2, || r.memory.ids().is_empty()).await,
            "published before the next poll"
        );
        assert_eq!(r.bus.taken.lock().unwrap().len(), 300);
        assert_eq!(r.counts.published.load(Ordering::SeqCst), 300);
        r.relay.drain(Duration::from_secs(1)).await;
    }

    #[tokio::test]
    async fn a_busy_outbox_is_claimed_in_rounds_not_per_event() {
        let r = running();
        tokio::time::sleep(Duration::from_millis(50)).await;
        let before = r.memory.1.load(Ordering::SeqCst);
        // Forty adds over about four round gaps, as finishes arrive under load.
        let adds: u128 = 40;
        let started = Instant::now();
        for batch in events(adds).chunks(1) {
            r.outbox.add(batch).await.unwrap();
            tokio::time::sleep(ROUND_GAP / 10).await;
        }
        assert!(
            soon(POLL_EVERY / 2, || r.memory.ids().is_empty()).await,
            "published before the next poll"
        );
        let rounds = r.memory.1.load(Ordering::SeqCst) - before;
        // About one claim per round gap; one per add without it.
        assert!(
            (rounds as u128) <= adds / 4,
            "{rounds} claims for {adds} adds in {:?}",
            started.elapsed()
        );
        assert_eq!(r.bus.taken.lock().unwrap().len() as u128, adds, "each once");
        r.relay.drain(Duration::from_secs(1)).await;
    }

    #[tokio::test]
    async fn events_another_store_wrote_are_published_once_woken() {
        let r = running();
        tokio::time::sleep(Duration::from_millis(50)).await;
        // As an operator's change writes its events in its own transaction.
        r.memory.add(&events(4)).await.unwrap();
        r.outbox.wake();
        assert!(
            soon(POLL_EVERY / 2, || r.memory.ids().is_empty()).await,
            "published before the next poll"
        );
        assert_eq!(r.bus.taken.lock().unwrap().len(), 4, "each once");
        r.relay.drain(Duration::from_secs(1)).await;
    }

    #[tokio::test]
    async fn events_wait_while_the_bus_is_down_and_flow_when_it_returns() {
        let r = running();
        r.bus.down.store(true, Ordering::SeqCst);
        r.outbox.add(&events(5)).await.unwrap();
        assert!(
            soon(Duration::from_secs(2), || r
                .counts
                .failed
                .load(Ordering::SeqCst)
                >= 2)
            .await
        );
        assert_eq!(r.memory.ids().len(), 5, "nothing lost");
        assert!(r.bus.taken.lock().unwrap().is_empty());
        r.bus.down.store(false, Ordering::SeqCst);
        assert!(
            soon(MAX_BACKOFF + POLL_EVERY, || r.memory.ids().is_empty()).await,
            "relayed once the bus is back"
        );
        assert_eq!(r.bus.taken.lock().unwrap().len(), 5);
        r.relay.drain(Duration::from_secs(1)).await;
    }

    #[tokio::test]
    async fn drain_publishes_what_waits_before_it_returns() {
        let r = running();
        tokio::time::sleep(Duration::from_millis(50)).await;
        // Added behind the relay's back: only its drain finds them before the next poll.
        r.memory.add(&events(10)).await.unwrap();
        r.relay.drain(Duration::from_secs(2)).await;
        assert!(r.memory.ids().is_empty());
        assert_eq!(r.bus.taken.lock().unwrap().len(), 10);
    }

    #[tokio::test]
    async fn a_drain_while_the_bus_is_down_ends_in_time_and_leaves_the_events() {
        let r = running();
        r.bus.down.store(true, Ordering::SeqCst);
        r.outbox.add(&events(3)).await.unwrap();
        let started = Instant::now();
        r.relay.drain(Duration::from_millis(500)).await;
        assert!(
            started.elapsed() < Duration::from_secs(2),
            "{:?}",
            started.elapsed()
        );
        assert_eq!(r.memory.ids().len(), 3, "left for the next relay");
    }

    #[tokio::test]
    async fn an_event_this_build_cannot_read_is_left_and_the_others_go() {
        let r = running();
        let unknown = Uuid::from_u128(999);
        r.memory.put_raw(unknown, r#"{"kind":"from_the_future"}"#);
        r.outbox.add(&events(2)).await.unwrap();
        assert!(
            soon(Duration::from_secs(1), || r.bus.taken.lock().unwrap().len()
                == 2)
            .await
        );
        assert_eq!(r.memory.ids(), vec![unknown]);
        r.relay.drain(Duration::from_millis(200)).await;
        assert_eq!(
            r.memory.ids(),
            vec![unknown],
            "still there for a newer build"
        );
    }
}
