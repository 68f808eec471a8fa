//! A rank index kept in a fast cache (Redis) with the score store as the truth behind it.
//! Every operation goes to the cache first; when the cache is down, or refuses a board it lost
//! (flushed, restarted empty), the store answers and the board is rebuilt in the background,
//! so requests never wait for a rebuild and answers stay correct meanwhile. The cache checks
//! that it holds the board in the same round trip as its answer, so the common case costs one
//! round trip.
//!
//! The store's answers are dearer (a rank is an index range count), so only a few run at once:
//! a cache that times out because the whole machine is overloaded must not send every request
//! to the database as well, which would keep the machine overloaded after the burst that
//! started it is over. Requests beyond those wait a moment for their turn, then get
//! an unavailable `BackendError` (503, retry).
//!
//! A change the cache missed (a submit or a removal that failed on it while the store took
//! it) leaves the board stale: the board is rebuilt from the store, now and, should that fail
//! too, at its next answer from the cache, so a cache that was only out of reach for a while
//! does not keep an old picture.

use std::collections::{HashMap, HashSet};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use arcade_domain::error::report;
use arcade_domain::ports::{Observer, RankFallback, RankIndex, ScoreStore};
use arcade_domain::ranks::{Ranked, Standing, Submission};
use arcade_domain::time::{BoardKey, Clock, Timestamp};
use arcade_domain::{BackendError, BackendErrorKind};
use async_trait::async_trait;
use tokio::sync::Semaphore;

/// Scores recorded this close to a rebuild's snapshot are submitted again after it, covering
/// commits that raced the snapshot and clock differences between replicas.
const CATCH_UP_MARGIN: Duration = Duration::from_secs(10);
/// Requests the store answers at once in the cache's place, unless set with
/// [`FailoverRankIndex::with_store_answers_at_once`]. A few keep boards readable through a
/// Redis outage; more would take the database connections and cores that starts and finishes
/// need.
const STORE_ANSWERS_AT_ONCE: usize = 4;
/// How long a request waits for the store to answer it in the cache's place: a burst of
/// finishes during an outage queues, a machine too busy to keep up sheds the excess.
const STORE_TURN_WAIT: Duration = Duration::from_millis(500);

/// Entries set on boards while they are rebuilt, by board: set again over the rebuild's
/// snapshot, which may predate them.
type SetsDuringRebuild = Arc<Mutex<HashMap<BoardKey, Vec<(String, Option<Standing>)>>>>;

pub struct FailoverRankIndex {
    cache: Arc<dyn RankIndex>,
    truth: Arc<dyn RankIndex>,
    scores: Arc<dyn ScoreStore>,
    clock: Arc<dyn Clock>,
    rebuilding: Arc<Mutex<HashSet<BoardKey>>>,
    sets_during_rebuild: SetsDuringRebuild,
    /// Boards the cache missed a change of, until a rebuild succeeds; `any_stale` spares the
    /// lock when there are none.
    stale: Arc<Mutex<HashSet<BoardKey>>>,
    any_stale: Arc<AtomicBool>,
    store_answers: Semaphore,
    store_answers_at_once: usize,
    observer: Arc<dyn Observer>,
}

impl std::fmt::Debug for FailoverRankIndex {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("FailoverRankIndex").finish_non_exhaustive()
    }
}

impl FailoverRankIndex {
    /// `truth` answers from the score store (e.g. `PostgresStore`); `scores` feeds rebuilds;
    /// `observer` hears of every request the cache could not answer.
    pub fn new(
        cache: Arc<dyn RankIndex>,
        truth: Arc<dyn RankIndex>,
        scores: Arc<dyn ScoreStore>,
        clock: Arc<dyn Clock>,
        observer: Arc<dyn Observer>,
    ) -> Self {
        Self {
            cache,
            truth,
            scores,
            clock,
            rebuilding: Arc::default(),
            sets_during_rebuild: Arc::default(),
            stale: Arc::default(),
            any_stale: Arc::default(),
            store_answers: Semaphore::new(STORE_ANSWERS_AT_ONCE),
            store_answers_at_once: STORE_ANSWERS_AT_ONCE,
            observer,
        }
    }

    /// Let `n` (at least 1) requests at once be answered by the store in the cache's place.
    pub fn with_store_answers_at_once(mut self, n: usize) -> Self {
        let n = n.max(1);
        self.store_answers = Semaphore::new(n);
        self.store_answers_at_once = n;
        self
    }

    /// The store's share of a database pool of `connections`: two in five (4 of the default
    /// 10), so that starts and finishes keep the rest through a cache outage.
    pub fn store_answers_for_pool(connections: u32) -> usize {
        (connections as usize * 2 / 5).max(1)
    }

    /// The cache's answer; else the store's, when the cache is down or lost the board (which
    /// starts its rebuild) and one of the store's turns comes free within
    /// [`STORE_TURN_WAIT`]. The cache must refuse lost boards itself
    /// ([`BackendError::NotLoaded`]), in the same round trip as the answer. `from_store` is
    /// only called when the store answers, since each trait call boxes its future.
    async fn answer<T, F>(
        &self,
        board: &BoardKey,
        cached: Result<T, BackendError>,
        from_store: impl FnOnce() -> F,
    ) -> Result<T, BackendError>
    where
        F: Future<Output = Result<T, BackendError>>,
    {
        let refused = match cached {
            Ok(t) => {
                if self.any_stale.load(Ordering::Relaxed) && self.is_stale(board) {
                    self.rebuild_in_background(board);
                }
                return Ok(t);
            }
            Err(e) if e.kind() == BackendErrorKind::NotLoaded => {
                self.rebuild_in_background(board);
                e
            }
            Err(e) => e,
        };
        let Ok(Ok(_turn)) =
            tokio::time::timeout(STORE_TURN_WAIT, self.store_answers.acquire()).await
        else {
            self.observer.rank_fallback(RankFallback::Refused);
            return Err(BackendError::unavailable(
                "postgres",
                format!(
                    "busy with {} rank requests in the cache's place for {STORE_TURN_WAIT:?}",
                    self.store_answers_at_once
                ),
            )
            .with_source(refused));
        };
        self.observer.rank_fallback(RankFallback::Answered);
        if refused.kind() != BackendErrorKind::NotLoaded {
            tracing::warn!(error = %report(&refused), "rank cache unavailable; answering from the database");
        }
        from_store().await
    }

    fn is_stale(&self, board: &BoardKey) -> bool {
        self.stale
            .lock()
            .map(|s| s.contains(board))
            .unwrap_or(false)
    }

    /// The cache missed a change of `board` that the store took: rebuild it from the store.
    fn missed(&self, board: &BoardKey, error: &BackendError) {
        tracing::warn!(
            error = %report(error),
            game = board.game,
            period = board.period.as_str(),
            "rank cache missed a change; rebuilding the board from the database"
        );
        if let Ok(mut stale) = self.stale.lock() {
            stale.insert(board.clone());
            self.any_stale.store(true, Ordering::Relaxed);
        }
        self.rebuild_in_background(board);
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
        if let Ok(mut sets) = self.sets_during_rebuild.lock() {
            sets.insert(board.clone(), Vec::new());
        }
        let (cache, scores, clock, busy, board) = (
            self.cache.clone(),
            self.scores.clone(),
            self.clock.clone(),
            self.rebuilding.clone(),
            board.clone(),
        );
        let sets = self.sets_during_rebuild.clone();
        let (stale, any_stale) = (self.stale.clone(), self.any_stale.clone());
        tokio::spawn(async move {
            let rebuilt = rebuild(
                cache.as_ref(),
                scores.as_ref(),
                clock.as_ref(),
                &board,
                || {
                    sets.lock()
                        .map(|mut s| s.get_mut(&board).map(std::mem::take).unwrap_or_default())
                        .unwrap_or_default()
                },
            )
            .await;
            if let Ok(mut s) = sets.lock() {
                s.remove(&board);
            }
            match rebuilt {
                Ok(n) => {
                    if let Ok(mut stale) = stale.lock() {
                        stale.remove(&board);
                        any_stale.store(!stale.is_empty(), Ordering::Relaxed);
                    }
                    tracing::info!(
                        game = board.game,
                        period = board.period.as_str(),
                        players = n,
                        "rank cache rebuilt from the database"
                    )
                }
                Err(e) => {
                    tracing::warn!(error = %report(&e), "rank cache rebuild failed; will retry")
                }
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

/// Load the board from a snapshot; set again the entries `set_meanwhile` gives (an operator's
/// changes made while the snapshot was read and loaded, which it may predate: a player taken
/// off would be back); then submit again whatever changed since shortly before the snapshot
/// (best-only submits make repeats harmless, and keep a finish the sets would undo).
async fn rebuild(
    cache: &dyn RankIndex,
    scores: &dyn ScoreStore,
    clock: &dyn Clock,
    board: &BoardKey,
    set_meanwhile: impl FnOnce() -> Vec<(String, Option<Standing>)>,
) -> Result<usize, BackendError> {
    let started = clock.now();
    let standings = scores.best_standings(board, None).await?;
    let n = standings.len();
    cache.load(board, standings).await?;
    for (key, standing) in set_meanwhile() {
        cache.set(board, &key, standing).await?;
    }
    let since = Timestamp(started.0 - CATCH_UP_MARGIN.as_millis() as i64);
    for s in scores.best_standings(board, Some(since)).await? {
        cache.submit(board, s).await?;
    }
    Ok(n)
}

#[async_trait]
impl RankIndex for FailoverRankIndex {
    async fn submit(
        &self,
        board: &BoardKey,
        standing: Standing,
    ) -> Result<Submission, BackendError> {
        let cached = self.cache.submit(board, standing.clone()).await;
        if let Err(e) = &cached
            && e.kind() != BackendErrorKind::NotLoaded
        {
            self.missed(board, e);
        }
        self.answer(board, cached, || self.truth.submit(board, standing))
            .await
    }

    async fn page(
        &self,
        board: &BoardKey,
        after: Option<&Standing>,
        limit: usize,
    ) -> Result<Vec<Ranked>, BackendError> {
        let cached = self.cache.page(board, after, limit).await;
        self.answer(board, cached, || self.truth.page(board, after, limit))
            .await
    }

    async fn get(&self, board: &BoardKey, key: &str) -> Result<Option<Ranked>, BackendError> {
        let cached = self.cache.get(board, key).await;
        self.answer(board, cached, || self.truth.get(board, key))
            .await
    }

    async fn around(
        &self,
        board: &BoardKey,
        key: &str,
        before: usize,
        after: usize,
    ) -> Result<Vec<Ranked>, BackendError> {
        let cached = self.cache.around(board, key, before, after).await;
        self.answer(board, cached, || {
            self.truth.around(board, key, before, after)
        })
        .await
    }

    /// The store's bests were changed by whoever asked; this follows them. A change the cache
    /// misses is made good by rebuilding the board from the store, and a board the cache lost
    /// is rebuilt at its next read, with the change.
    async fn set(
        &self,
        board: &BoardKey,
        key: &str,
        standing: Option<Standing>,
    ) -> Result<(), BackendError> {
        let result = self.cache.set(board, key, standing.clone()).await;
        if let Ok(mut sets) = self.sets_during_rebuild.lock()
            && let Some(meanwhile) = sets.get_mut(board)
        {
            meanwhile.push((key.to_owned(), standing));
        }
        match result {
            Err(e) if e.kind() != BackendErrorKind::NotLoaded => {
                self.missed(board, &e);
                Ok(())
            }
            _ => Ok(()),
        }
    }

    async fn load(&self, board: &BoardKey, standings: Vec<Standing>) -> Result<(), BackendError> {
        self.cache.load(board, standings).await
    }

    async fn is_loaded(&self, board: &BoardKey) -> Result<bool, BackendError> {
        self.cache.is_loaded(board).await
    }

    /// The index can answer as long as the database can.
    async fn ping(&self) -> Result<(), BackendError> {
        self.truth.ping().await
    }
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::{AtomicUsize, Ordering};

    use arcade_domain::ranks::RankedBoard;
    use arcade_domain::time::{Period, SystemClock};

    use super::*;
    use crate::SqliteStore;

    /// A rank index that either times out on everything, as Redis does on an overloaded
    /// machine, or answers only once the test closes `release`, counting the answers held.
    struct TestIndex {
        times_out: bool,
        running: AtomicUsize,
        release: Semaphore,
    }

    impl TestIndex {
        fn new(times_out: bool) -> Self {
            Self {
                times_out,
                running: AtomicUsize::new(0),
                release: Semaphore::new(0),
            }
        }

        async fn answer<T>(&self, answer: T) -> Result<T, BackendError> {
            if self.times_out {
                return Err(BackendError::new(
                    BackendErrorKind::TimedOut,
                    "redis",
                    "timed out",
                ));
            }
            self.running.fetch_add(1, Ordering::SeqCst);
            drop(self.release.acquire().await);
            self.running.fetch_sub(1, Ordering::SeqCst);
            Ok(answer)
        }
    }

    #[async_trait]
    impl RankIndex for TestIndex {
        async fn submit(&self, _: &BoardKey, _: Standing) -> Result<Submission, BackendError> {
            self.answer(Submission::New { rank: 1 }).await
        }
        async fn page(
            &self,
            _: &BoardKey,
            _: Option<&Standing>,
            _: usize,
        ) -> Result<Vec<Ranked>, BackendError> {
            self.answer(Vec::new()).await
        }
        async fn get(&self, _: &BoardKey, _: &str) -> Result<Option<Ranked>, BackendError> {
            self.answer(None).await
        }
        async fn around(
            &self,
            _: &BoardKey,
            _: &str,
            _: usize,
            _: usize,
        ) -> Result<Vec<Ranked>, BackendError> {
            self.answer(Vec::new()).await
        }
        async fn set(
            &self,
            _: &BoardKey,
            _: &str,
            _: Option<Standing>,
        ) -> Result<(), BackendError> {
            Ok(())
        }

        async fn load(&self, _: &BoardKey, _: Vec<Standing>) -> Result<(), BackendError> {
            self.answer(()).await
        }
        async fn ping(&self) -> Result<(), BackendError> {
            self.answer(()).await
        }
    }

    /// Counts what the index reports of the requests the cache could not answer.
    #[derive(Default)]
    struct Fallbacks {
        answered: AtomicUsize,
        refused: AtomicUsize,
    }

    impl Observer for Fallbacks {
        fn rank_fallback(&self, outcome: RankFallback) {
            let count = match outcome {
                RankFallback::Answered => &self.answered,
                RankFallback::Refused => &self.refused,
            };
            count.fetch_add(1, Ordering::SeqCst);
        }
    }

    /// A rank index in memory whose loads wait for the test to open `gate`.
    struct GatedIndex {
        boards: Mutex<HashMap<BoardKey, RankedBoard>>,
        gate: Semaphore,
    }

    impl GatedIndex {
        fn new() -> Self {
            Self {
                boards: Mutex::default(),
                gate: Semaphore::new(0),
            }
        }

        fn board<T>(&self, board: &BoardKey, f: impl FnOnce(&mut RankedBoard) -> T) -> T {
            f(self
                .boards
                .lock()
                .unwrap()
                .entry(board.clone())
                .or_default())
        }
    }

    #[async_trait]
    impl RankIndex for GatedIndex {
        async fn submit(&self, b: &BoardKey, s: Standing) -> Result<Submission, BackendError> {
            Ok(self.board(b, |board| board.submit(s)))
        }
        async fn page(
            &self,
            b: &BoardKey,
            after: Option<&Standing>,
            limit: usize,
        ) -> Result<Vec<Ranked>, BackendError> {
            Ok(self.board(b, |board| board.page(after, limit)))
        }
        async fn get(&self, b: &BoardKey, key: &str) -> Result<Option<Ranked>, BackendError> {
            Ok(self.board(b, |board| board.get(key)))
        }
        async fn around(
            &self,
            b: &BoardKey,
            key: &str,
            before: usize,
            after: usize,
        ) -> Result<Vec<Ranked>, BackendError> {
            Ok(self.board(b, |board| board.around(key, before, after)))
        }
        async fn set(
            &self,
            b: &BoardKey,
            key: &str,
            standing: Option<Standing>,
        ) -> Result<(), BackendError> {
            self.board(b, |board| board.set(key, standing));
            Ok(())
        }
        async fn load(&self, b: &BoardKey, standings: Vec<Standing>) -> Result<(), BackendError> {
            self.gate.acquire().await.unwrap().forget();
            self.board(b, |board| *board = RankedBoard::from_standings(standings));
            Ok(())
        }
        async fn ping(&self) -> Result<(), BackendError> {
            Ok(())
        }
    }

    #[tokio::test]
    async fn an_entry_set_while_the_board_is_rebuilt_outlives_the_older_snapshot() {
        let scores = SqliteStore::open_url("sqlite::memory:").await.unwrap();
        let cache = Arc::new(GatedIndex::new());
        let ranks = FailoverRankIndex::new(
            cache.clone(),
            Arc::new(TestIndex::new(false)),
            Arc::new(scores),
            Arc::new(SystemClock),
            Arc::new(Fallbacks::default()),
        );
        let board = BoardKey::current("egg-catcher", Period::All, Timestamp(0));
        // The rebuild reads its snapshot (nobody), then waits to load it; an operator's change
        // sets an entry meanwhile, which the snapshot predates.
        ranks.rebuild_in_background(&board);
        let ann = Standing {
            score: 30,
            achieved_at_ms: 1,
            player_key: "ann".to_owned(),
            player_name: "Ann".to_owned(),
        };
        ranks.set(&board, "ann", Some(ann.clone())).await.unwrap();
        cache.gate.add_permits(1);
        ranks.settle().await;
        let kept = cache.get(&board, "ann").await.unwrap();
        assert_eq!(kept.map(|r| r.standing), Some(ann));
    }

    #[test]
    fn the_store_takes_two_in_five_of_the_pool_and_always_one() {
        assert_eq!(
            FailoverRankIndex::store_answers_for_pool(10),
            STORE_ANSWERS_AT_ONCE
        );
        assert_eq!(FailoverRankIndex::store_answers_for_pool(50), 20);
        assert_eq!(FailoverRankIndex::store_answers_for_pool(2), 1);
        assert_eq!(FailoverRankIndex::store_answers_for_pool(1), 1);
    }

    #[tokio::test]
    async fn only_a_few_requests_fall_back_to_the_store_at_once() {
        // Not the default, so the test also shows the setting is the one applied.
        const LIMIT: usize = STORE_ANSWERS_AT_ONCE - 1;
        let scores = SqliteStore::open_url("sqlite::memory:").await.unwrap();
        let store = Arc::new(TestIndex::new(false));
        let fallbacks = Arc::new(Fallbacks::default());
        let ranks = Arc::new(
            FailoverRankIndex::new(
                Arc::new(TestIndex::new(true)),
                store.clone(),
                Arc::new(scores),
                Arc::new(SystemClock),
                fallbacks.clone(),
            )
            .with_store_answers_at_once(LIMIT),
        );
        let board = BoardKey::current("egg-catcher", Period::All, Timestamp(0));
        let calls: Vec<_> = (0..3 * LIMIT)
            .map(|i| {
                let (ranks, board) = (ranks.clone(), board.clone());
                tokio::spawn(async move {
                    match i % 3 {
                        0 => ranks.get(&board, "ann").await.map(drop),
                        1 => ranks.page(&board, None, 10).await.map(drop),
                        _ => ranks.around(&board, "ann", 2, 2).await.map(drop),
                    }
                })
            })
            .collect();
        // The calls beyond the limit give up after their wait, while the store still holds
        // the others.
        tokio::time::sleep(STORE_TURN_WAIT + Duration::from_millis(100)).await;
        let mut refused = 0;
        let mut pending = Vec::new();
        for call in calls {
            if call.is_finished() {
                let error = call.await.unwrap().unwrap_err();
                assert_eq!(error.kind(), BackendErrorKind::Unavailable, "{error:?}");
                assert!(error.to_string().contains("busy with"), "{error}");
                refused += 1;
            } else {
                pending.push(call);
            }
        }
        assert_eq!(store.running.load(Ordering::SeqCst), LIMIT);
        assert_eq!(refused, 2 * LIMIT);
        // Once the store is done with them, the next requests reach it again.
        store.release.close();
        for call in pending {
            call.await.unwrap().unwrap();
        }
        let standing = Standing {
            score: 10,
            achieved_at_ms: 0,
            player_key: "ann".into(),
            player_name: "Ann".into(),
        };
        let submitted = ranks.submit(&board, standing).await.unwrap();
        assert_eq!(submitted, Submission::New { rank: 1 });
        assert_eq!(fallbacks.answered.load(Ordering::SeqCst), LIMIT + 1);
        assert_eq!(fallbacks.refused.load(Ordering::SeqCst), refused);
    }
}
