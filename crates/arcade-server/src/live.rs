//! Live leaderboards over server-sent events. Each replica follows the event bus once (NATS
//! carries every replica's events) and fans out to its own clients through a bounded channel:
//! a client that cannot keep up is disconnected rather than allowed to slow the others, and
//! its browser reconnects with `Last-Event-ID` to get what it missed from a short history.

use std::collections::VecDeque;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use arcade_domain::event::{Event, EventKind};
use arcade_domain::service::Arcade;
use arcade_domain::time::Period;
use arcade_telemetry::Metrics;
use axum::response::sse::{Event as SseEvent, KeepAlive, Sse};
use futures::stream::{self, BoxStream, StreamExt};
use serde::Serialize;
use std::convert::Infallible;
use tokio::sync::broadcast;
use tokio_stream::wrappers::BroadcastStream;
use tokio_stream::wrappers::errors::BroadcastStreamRecvError;

use crate::board_cache::BoardCache;

/// Events kept for clients that reconnect: a few minutes of a busy arcade.
const HISTORY: usize = 1024;
/// Events a client may fall behind before it is dropped (and resumes by reconnecting).
const CLIENT_BUFFER: usize = 256;
/// Comment lines keep proxies from closing idle streams.
pub const KEEP_ALIVE: Duration = Duration::from_secs(15);

/// What a page receives.
#[derive(Debug, Clone, Serialize)]
pub struct LiveEvent {
    #[serde(skip)]
    pub id: String,
    #[serde(skip)]
    pub name: &'static str,
    pub game: String,
    pub player: String,
    pub score: Option<u32>,
    pub rank: Option<u64>,
    pub period: Option<Period>,
    pub at: String,
}

impl LiveEvent {
    fn from_event(e: &Event) -> Option<Self> {
        let name = match e.kind {
            EventKind::ScoreSubmitted => "score",
            EventKind::LeaderboardTop => "top",
            // Nothing a page shows.
            EventKind::SessionStarted | EventKind::NameRulesChanged => return None,
            // An operator changed who is on the game's boards: pages load them again. The
            // player is not named (a hidden name stays out of every page).
            EventKind::PlayerHidden
            | EventKind::PlayerRestored
            | EventKind::ScoreRemoved
            | EventKind::PlayerRenamed
            | EventKind::PlayerDeleted => "reset",
        };
        Some(Self {
            id: e.id.to_string(),
            name,
            game: e.game.clone(),
            player: if e.kind.is_moderation() {
                String::new()
            } else {
                e.player.clone()
            },
            score: e.score,
            rank: e.rank,
            period: e.period,
            at: e.at.to_rfc3339(),
        })
    }

    fn to_sse(&self) -> SseEvent {
        SseEvent::default()
            .id(&self.id)
            .event(self.name)
            .json_data(self)
            .unwrap_or_else(|_| SseEvent::default().comment("unencodable event"))
    }
}

/// The replica's fan-out point.
pub struct LiveFeed {
    sender: broadcast::Sender<Arc<LiveEvent>>,
    history: Mutex<VecDeque<Arc<LiveEvent>>>,
    metrics: Arc<Metrics>,
}

impl std::fmt::Debug for LiveFeed {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LiveFeed").finish_non_exhaustive()
    }
}

impl LiveFeed {
    /// Follow `events` (the bus) in a background task, dropping the cached pages of a game
    /// whenever one of its boards changed on any replica.
    pub fn start(
        events: BoxStream<'static, Event>,
        metrics: Arc<Metrics>,
        boards: Arc<BoardCache>,
    ) -> Arc<Self> {
        let feed = Arc::new(Self {
            sender: broadcast::channel(CLIENT_BUFFER).0,
            history: Mutex::new(VecDeque::with_capacity(HISTORY)),
            metrics,
        });
        let weak = Arc::downgrade(&feed);
        tokio::spawn(async move {
            let mut events = events;
            while let Some(e) = events.next().await {
                let Some(feed) = weak.upgrade() else { break };
                if e.kind != EventKind::SessionStarted {
                    boards.invalidate(&e.game);
                }
                feed.push(&e);
            }
        });
        feed
    }

    fn push(&self, e: &Event) {
        let Some(live) = LiveEvent::from_event(e) else {
            return;
        };
        let live = Arc::new(live);
        if let Ok(mut h) = self.history.lock() {
            // An erased player's events are not replayed to pages that reconnect.
            if e.kind == EventKind::PlayerDeleted {
                h.retain(|x| x.player != e.player);
            }
            // NATS may deliver an event twice (a retried publish); pages see it once.
            if h.iter().any(|x| x.id == live.id) {
                return;
            }
            if h.len() == HISTORY {
                h.pop_front();
            }
            h.push_back(live.clone());
        }
        let _ = self.sender.send(live);
    }

    /// The stream for one client: what it missed since `last_event_id` (or a reset when
    /// that is too old to know), then live events, filtered to `game` when given.
    fn stream(
        self: &Arc<Self>,
        game: Option<String>,
        last_event_id: Option<String>,
    ) -> BoxStream<'static, Item> {
        // Subscribe before reading the history so nothing falls between the two.
        let receiver = self.sender.subscribe();
        let wanted = move |e: &LiveEvent| game.as_deref().is_none_or(|g| g == e.game);
        let (missed, reset) = match last_event_id {
            None => (Vec::new(), false),
            Some(id) => {
                let h = self.history.lock().map(|h| h.clone()).unwrap_or_default();
                match h.iter().position(|e| e.id == id) {
                    Some(i) => (h.into_iter().skip(i + 1).collect::<Vec<_>>(), false),
                    None => (Vec::new(), true),
                }
            }
        };
        let mut skipping = missed.last().map(|e| e.id.clone());
        let wanted_missed = wanted.clone();
        let replay = stream::iter(reset.then_some(Item::Reset)).chain(stream::iter(
            missed
                .into_iter()
                .filter(move |e| wanted_missed(e))
                .map(Item::Event),
        ));
        let guard = ConnectionGuard::new(self.metrics.clone());
        let live = BroadcastStream::new(receiver)
            .take_while(move |r| {
                let keep = !matches!(r, Err(BroadcastStreamRecvError::Lagged(_)));
                if !keep {
                    guard.dropped();
                }
                futures::future::ready(keep)
            })
            .filter_map(move |r| {
                let out = match r {
                    // Events already replayed from history arrive again live: skip them.
                    Ok(e) if skipping.is_some() => {
                        if skipping.as_deref() == Some(e.id.as_str()) {
                            skipping = None;
                        }
                        None
                    }
                    Ok(e) if wanted(&e) => Some(Item::Event(e)),
                    _ => None,
                };
                futures::future::ready(out)
            });
        replay.chain(live).boxed()
    }
}

/// One thing to send to a client.
#[derive(Debug, Clone)]
enum Item {
    Event(Arc<LiveEvent>),
    Reset,
    Overtaken(Overtaken),
}

impl Item {
    fn to_sse(&self) -> SseEvent {
        match self {
            Self::Event(e) => e.to_sse(),
            Self::Reset => SseEvent::default().event("reset").data(
                "{\"reason\":\"the events since your last one are no longer kept: reload the boards\"}",
            ),
            Self::Overtaken(o) => SseEvent::default()
                .event("overtaken")
                .json_data(o)
                .unwrap_or_else(|_| SseEvent::default().comment("overtaken")),
        }
    }
}

/// The JSON Schema of one event of the stream, each `data` a JSON document of its own
/// (`contentMediaType`/`contentSchema`, which the OpenAPI model of the derive macros lacks, so
/// [`crate::openapi`] puts this in place of the plain string it declares).
pub fn event_schema() -> serde_json::Value {
    let data = |schema: serde_json::Value| {
        serde_json::json!({
            "type": "string",
            "contentMediaType": "application/json",
            "contentSchema": schema,
        })
    };
    let count = |min: u64| serde_json::json!({"type": ["integer", "null"], "minimum": min});
    serde_json::json!({
        "oneOf": [
            {
                "type": "object",
                "description": "`score`: a score was stored; `top`: it entered a board's top ten (`rank` and `period` say where).",
                "required": ["event", "data", "id"],
                "properties": {
                    "event": {"enum": ["score", "top"]},
                    "id": {"type": "string", "description": "Send back as Last-Event-ID to resume"},
                    "data": data(serde_json::json!({
                        "type": "object",
                        "required": ["game", "player", "at"],
                        "properties": {
                            "game": {"type": "string"},
                            "player": {"type": "string"},
                            "score": count(0),
                            "rank": count(1),
                            "period": {"enum": ["all", "day", "week", null]},
                            "at": {"type": "string", "format": "date-time"},
                        },
                    })),
                },
            },
            {
                "type": "object",
                "description": "Someone passed the page's `player` on the game's all-time board.",
                "required": ["event", "data"],
                "properties": {
                    "event": {"const": "overtaken"},
                    "data": data(serde_json::json!({
                        "type": "object",
                        "required": ["game", "by", "rank"],
                        "properties": {
                            "game": {"type": "string"},
                            "by": {"type": "string"},
                            "score": count(0),
                            "rank": {"type": "integer", "minimum": 1},
                        },
                    })),
                },
            },
            {
                "type": "object",
                "description": "The events since Last-Event-ID are no longer kept: reload the boards.",
                "required": ["event", "data"],
                "properties": {
                    "event": {"const": "reset"},
                    "data": data(serde_json::json!({
                        "type": "object",
                        "required": ["reason"],
                        "properties": {"reason": {"type": "string"}},
                    })),
                },
            },
        ],
    })
}

/// Counts open streams while it lives.
struct ConnectionGuard {
    metrics: Arc<Metrics>,
}

impl ConnectionGuard {
    fn new(metrics: Arc<Metrics>) -> Self {
        metrics.sse_connections.inc();
        Self { metrics }
    }

    fn dropped(&self) {
        self.metrics.sse_dropped.inc();
    }
}

impl Drop for ConnectionGuard {
    fn drop(&mut self) {
        self.metrics.sse_connections.dec();
    }
}

/// Tells one player when someone else's score pushed them down the all-time board.
#[derive(Debug, Clone, Serialize)]
struct Overtaken {
    game: String,
    by: String,
    score: Option<u32>,
    rank: u64,
}

/// The player's all-time rank, if they have one.
async fn rank_of(arcade: &Arcade, game: &str, player: &str) -> Option<u64> {
    arcade
        .player_standing(game, player, Period::All)
        .await
        .ok()
        .and_then(|s| s.best.map(|b| b.rank))
}

/// The SSE response for a client. With `watch` (the page's player, and a game filter), the
/// stream also carries `overtaken` events for that player.
pub async fn response(
    feed: &Arc<LiveFeed>,
    game: Option<String>,
    last_event_id: Option<String>,
    watch: Option<(Arc<Arcade>, String)>,
) -> impl axum::response::IntoResponse {
    let items = feed.stream(game.clone(), last_event_id);
    let items = match (watch, game) {
        (Some((arcade, player)), Some(game)) => {
            // The rank as of connecting, then as of the last event; shared by the stream's steps.
            let initial = rank_of(&arcade, &game, &player).await;
            let state = Arc::new(tokio::sync::Mutex::new(initial));
            items
                .then(move |item| {
                    let (arcade, player, game, state) =
                        (arcade.clone(), player.clone(), game.clone(), state.clone());
                    async move {
                        let mut known = state.lock().await;
                        let mut out = vec![item.clone()];
                        if let Item::Event(e) = &item
                            && e.period.is_none_or(|p| p == Period::All)
                            && !e.player.eq_ignore_ascii_case(&player)
                            && let (Some(mine), Some(theirs)) = (*known, e.rank)
                            && theirs <= mine
                        {
                            let now = rank_of(&arcade, &game, &player).await;
                            if let Some(now) = now
                                && now > mine
                            {
                                out.push(Item::Overtaken(Overtaken {
                                    game: game.clone(),
                                    by: e.player.clone(),
                                    score: e.score,
                                    rank: now,
                                }));
                            }
                            *known = now;
                        }
                        stream::iter(out)
                    }
                })
                .flatten()
                .boxed()
        }
        _ => items,
    };
    let events = items.map(|i| Ok::<_, Infallible>(i.to_sse()));
    Sse::new(events).keep_alive(KeepAlive::new().interval(KEEP_ALIVE))
}

#[cfg(test)]
mod tests {
    use super::*;
    use arcade_domain::time::Timestamp;
    use uuid::Uuid;

    fn score_event(n: u32) -> Event {
        Event {
            id: Uuid::from_u128(u128::from(n) + 1),
            kind: EventKind::ScoreSubmitted,
            game: "egg-catcher".into(),
            player: format!("P{n}"),
            session_id: Uuid::from_u128(u128::from(n) + 1),
            score: Some(n),
            rank: Some(1),
            period: None,
            at: Timestamp(0),
        }
    }

    #[tokio::test]
    async fn a_client_that_never_reads_is_dropped_without_slowing_the_others() {
        let (tx, rx) = tokio::sync::mpsc::unbounded_channel();
        let metrics = Arc::new(Metrics::new("test", "test"));
        let feed = LiveFeed::start(
            tokio_stream::wrappers::UnboundedReceiverStream::new(rx).boxed(),
            metrics.clone(),
            Arc::new(BoardCache::new([])),
        );
        let mut reader = feed.stream(None, None);
        let mut sleeper = feed.stream(None, None);
        assert_eq!(metrics.sse_connections.get(), 2);
        let total = (CLIENT_BUFFER * 3) as u32;
        let mut seen = 0;
        for n in 0..total {
            tx.send(score_event(n)).unwrap();
            // The reading client keeps up; the sleeping one never polls.
            match reader.next().await {
                Some(Item::Event(e)) => assert_eq!(e.score, Some(n)),
                other => panic!("unexpected {other:?}"),
            }
            seen += 1;
        }
        assert_eq!(seen, total);
        // When the sleeper finally reads, its buffer overflowed: it gets at most the buffer,
        // then its stream ends so the browser reconnects and resumes from the history.
        let mut late = 0;
        while let Some(_item) = sleeper.next().await {
            late += 1;
        }
        assert!(late <= CLIENT_BUFFER, "{late}");
        assert_eq!(metrics.sse_dropped.get(), 1);
        drop(sleeper);
        assert_eq!(metrics.sse_connections.get(), 1);
    }

    #[tokio::test]
    async fn duplicates_from_the_bus_reach_pages_once() {
        let (tx, rx) = tokio::sync::mpsc::unbounded_channel();
        let metrics = Arc::new(Metrics::new("test", "test"));
        let feed = LiveFeed::start(
            tokio_stream::wrappers::UnboundedReceiverStream::new(rx).boxed(),
            metrics,
            Arc::new(BoardCache::new([])),
        );
        let mut reader = feed.stream(None, None);
        tx.send(score_event(1)).unwrap();
        tx.send(score_event(1)).unwrap();
        tx.send(score_event(2)).unwrap();
        let first = reader.next().await;
        let second = reader.next().await;
        assert!(matches!(first, Some(Item::Event(e)) if e.score == Some(1)));
        assert!(matches!(second, Some(Item::Event(e)) if e.score == Some(2)));
    }

    #[tokio::test]
    async fn a_score_from_the_bus_drops_the_cached_pages_of_its_game() {
        use crate::board_cache::{Lookup, PageKey};
        use axum::body::Bytes;

        let (tx, rx) = tokio::sync::mpsc::unbounded_channel();
        let boards = Arc::new(BoardCache::new(["egg-catcher"]));
        let feed = LiveFeed::start(
            tokio_stream::wrappers::UnboundedReceiverStream::new(rx).boxed(),
            Arc::new(Metrics::new("test", "test")),
            boards.clone(),
        );
        let key = PageKey {
            game: "egg-catcher",
            period: Period::All,
            bucket: 0,
            season: None,
            limit: 10,
        };
        let Lookup::Miss(ticket) = boards.get(key) else {
            panic!("an empty cache has no page");
        };
        boards.put(ticket, Bytes::from_static(b"{}"));
        assert!(matches!(boards.get(key), Lookup::Hit(_)));
        // Pages wait for the event: once a client sees it, the page is gone.
        let mut reader = feed.stream(None, None);
        tx.send(Event {
            kind: EventKind::SessionStarted,
            ..score_event(1)
        })
        .unwrap();
        tx.send(score_event(2)).unwrap();
        assert!(matches!(reader.next().await, Some(Item::Event(_))));
        assert!(matches!(boards.get(key), Lookup::Miss(_)));
    }
}
