//! Shared state of the HTTP server: the use cases, the kept answers (boards, the game list),
//! the live feed, metrics, readiness and HTTP settings, behind one pointer handlers clone.

use std::sync::Arc;

use arcade_domain::service::Arcade;
use arcade_telemetry::Metrics;

use crate::board_cache::BoardCache;
use crate::dto::{GameInfo, GameList};
use crate::encoding::SharedBody;
use crate::health::Health;
use crate::limits::HttpSettings;
use crate::live::LiveFeed;

/// Everything handlers share, behind one pointer: cloned for every request, so a clone is a
/// single reference count.
#[derive(Clone)]
pub struct AppState(Arc<Shared>);

pub struct Shared {
    pub arcade: Arc<Arcade>,
    /// The encoded first pages of the boards, dropped on score events.
    pub boards: Arc<BoardCache>,
    /// The list of games on offer, encoded once: it is the same for the life of the process.
    pub games: Arc<SharedBody>,
    pub live: Arc<LiveFeed>,
    pub metrics: Arc<Metrics>,
    pub health: Arc<Health>,
    pub settings: Arc<HttpSettings>,
}

impl std::ops::Deref for AppState {
    type Target = Shared;

    fn deref(&self) -> &Shared {
        &self.0
    }
}

impl AppState {
    pub fn new(
        arcade: Arc<Arcade>,
        metrics: Arc<Metrics>,
        health: Arc<Health>,
        settings: HttpSettings,
    ) -> Self {
        let boards = Arc::new(BoardCache::new(arcade.games().iter().map(|g| g.id())));
        let games = GameList {
            games: arcade.games().iter().map(|g| GameInfo::of(*g)).collect(),
        };
        let games = serde_json::to_vec(&games).expect("the game list encodes");
        Self(Arc::new(Shared {
            games: Arc::new(SharedBody::new(games.into())),
            live: LiveFeed::start(
                arcade.ports().events.subscribe(),
                metrics.clone(),
                boards.clone(),
            ),
            boards,
            arcade,
            metrics,
            health,
            settings: Arc::new(settings),
        }))
    }
}
