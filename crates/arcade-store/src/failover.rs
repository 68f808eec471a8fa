//! A rank index kept in a fast cache (Redis) with the score store as the truth behind it.
//! Every operation goes to the cache first; when the cache is down, or refuses a board it lost
//! (flushed, restarted empty), the store answers and the board is rebuilt in the background,
//! so requests never wait for a rebuild and answers stay correct meanwhile. The cache checks
//! that it holds the board in the same round trip as its answer, so the common case costs one
//! round trip.

use std::collections::HashSet;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use arcade_domain::StoreError;
use arcade_domain::ports::{RankIndex, ScoreStore};
use arcade_domain::ranking::{Ranked, Standing, Submission};
use arcade_domain::time::{BoardKey, Clock, Timestamp};
use async_trait::async_trait;

/// Scores recorded this close to a rebuild's snapshot are submitted again after it, covering
/// commits that raced the snapshot and clock differences between replicas.
const CATCH_UP_MARGIN: Duration = Duration::from_secs(10);

pub struct FailoverRankIndex {
    cache: Arc<dyn RankIndex>,
    truth: Arc<dyn RankIndex>,
    scores: Arc<dyn ScoreStore>,
    clock: Arc<dyn Clock>,
    rebuilding: Arc<Mutex<HashSet<BoardKey>>>,
}

impl std::fmt::Debug for FailoverRankIndex {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("FailoverRankIndex").finish_non_exhaustive()
    }
}

impl FailoverRankIndex {
    /// `truth` answers from the score store (e.g. `PostgresStore`); `scores` feeds rebuilds.
    pub fn new(
        cache: Arc<dyn RankIndex>,
        truth: Arc<dyn RankIndex>,
        scores: Arc<dyn ScoreStore>,
        clock: Arc<dyn Clock>,
    ) -> Self {
        Self {
            cache,
            truth,
            scores,
            clock,
            rebuilding: Arc::default(),
        }
    }

    /// The cache's answer, or `None` when the store must answer instead: the cache is down,
    /// or lost the board (which starts its rebuild). The cache must refuse lost boards
    /// itself ([`StoreError::NotLoaded`]), in the same round trip as the answer.
    fn cached<T>(&self, board: &BoardKey, answer: Result<T, StoreError>) -> Option<T> {
        match answer {
            Ok(t) => Some(t),
            Err(StoreError::NotLoaded { .. }) => {
                self.rebuild_in_background(board);
                None
            }
            Err(e) => {
                tracing::warn!(error = %e, "rank cache unavailable; answering from the database");
                None
            }
        }
    }

    fn rebuild_in_background(&self, board: &BoardKey) {
        {
            let Ok(mut busy) = self.rebuilding.lock() else {
                return;
            };
            if !busy.insert(board.clone()) {
                return; // one rebuild per board at a time in this process
            }
        }
        let (cache, scores, clock, busy, board) = (
            self.cache.clone(),
            self.scores.clone(),
            self.clock.clone(),
            self.rebuilding.clone(),
            board.clone(),
        );
        tokio::spawn(async move {
            match rebuild(cache.as_ref(), scores.as_ref(), clock.as_ref(), &board).await {
                Ok(n) => tracing::info!(
                    game = board.game,
                    period = board.period.as_str(),
                    players = n,
                    "rank cache rebuilt from the database"
                ),
                Err(e) => tracing::warn!(error = %e, "rank cache rebuild failed; will retry"),
            }
            if let Ok(mut b) = busy.lock() {
                b.remove(&board);
            }
        });
    }

    /// Wait until no rebuild is running (for tests and orderly shutdown).
    pub async fn settle(&self) {
        while self
            .rebuilding
            .lock()
            .map(|b| !b.is_empty())
            .unwrap_or(false)
        {
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }
}

/// Load the board from a snapshot, then submit again whatever changed since shortly before
/// the snapshot (best-only submits make repeats harmless).
pub async fn rebuild(
    cache: &dyn RankIndex,
    scores: &dyn ScoreStore,
    clock: &dyn Clock,
    board: &BoardKey,
) -> Result<usize, StoreError> {
    let started = clock.now();
    let standings = scores.best_standings(board, None).await?;
    let n = standings.len();
    cache.load(board, standings).await?;
    let since = Timestamp(started.0 - CATCH_UP_MARGIN.as_millis() as i64);
    for s in scores.best_standings(board, Some(since)).await? {
        cache.submit(board, s).await?;
    }
    Ok(n)
}

#[async_trait]
impl RankIndex for FailoverRankIndex {
    async fn submit(&self, board: &BoardKey, standing: Standing) -> Result<Submission, StoreError> {
        let answer = self.cache.submit(board, standing.clone()).await;
        match self.cached(board, answer) {
            Some(s) => Ok(s),
            None => self.truth.submit(board, standing).await,
        }
    }

    async fn page(
        &self,
        board: &BoardKey,
        after: Option<&Standing>,
        limit: usize,
    ) -> Result<Vec<Ranked>, StoreError> {
        let answer = self.cache.page(board, after, limit).await;
        match self.cached(board, answer) {
            Some(page) => Ok(page),
            None => self.truth.page(board, after, limit).await,
        }
    }

    async fn get(&self, board: &BoardKey, key: &str) -> Result<Option<Ranked>, StoreError> {
        let answer = self.cache.get(board, key).await;
        match self.cached(board, answer) {
            Some(r) => Ok(r),
            None => self.truth.get(board, key).await,
        }
    }

    async fn around(
        &self,
        board: &BoardKey,
        key: &str,
        before: usize,
        after: usize,
    ) -> Result<Vec<Ranked>, StoreError> {
        let answer = self.cache.around(board, key, before, after).await;
        match self.cached(board, answer) {
            Some(r) => Ok(r),
            None => self.truth.around(board, key, before, after).await,
        }
    }

    async fn load(&self, board: &BoardKey, standings: Vec<Standing>) -> Result<(), StoreError> {
        self.cache.load(board, standings).await
    }

    async fn is_loaded(&self, board: &BoardKey) -> Result<bool, StoreError> {
        self.cache.is_loaded(board).await
    }

    /// The index can answer as long as the database can.
    async fn ping(&self) -> Result<(), StoreError> {
        self.truth.ping().await
    }
}
