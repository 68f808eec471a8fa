//! Boards held in memory as `RankedBoard`s, rebuilt from the score store at start.

use std::collections::HashMap;
use std::sync::RwLock;

use arcade_domain::BackendError;
use arcade_domain::ports::RankIndex;
use arcade_domain::ranks::{Ranked, RankedBoard, Standing, Submission};
use arcade_domain::time::{BoardKey, Period};
use async_trait::async_trait;

#[derive(Debug, Default)]
pub struct MemoryRankIndex {
    boards: RwLock<HashMap<BoardKey, RankedBoard>>,
}

impl MemoryRankIndex {
    pub fn new() -> Self {
        Self::default()
    }

    fn read<T>(&self, board: &BoardKey, f: impl FnOnce(&RankedBoard) -> T) -> T {
        let boards = self.boards.read().unwrap_or_else(|p| p.into_inner());
        match boards.get(board) {
            Some(b) => f(b),
            None => f(&RankedBoard::new()),
        }
    }
}

#[async_trait]
impl RankIndex for MemoryRankIndex {
    async fn submit(
        &self,
        board: &BoardKey,
        standing: Standing,
    ) -> Result<Submission, BackendError> {
        let mut boards = self.boards.write().unwrap_or_else(|p| p.into_inner());
        // Day and week boards of past buckets are never read again: drop them as time moves on.
        if board.period != Period::All {
            boards.retain(|k, _| {
                k.game != board.game || k.period != board.period || k.bucket >= board.bucket
            });
        }
        Ok(boards.entry(board.clone()).or_default().submit(standing))
    }

    async fn page(
        &self,
        board: &BoardKey,
        after: Option<&Standing>,
        limit: usize,
    ) -> Result<Vec<Ranked>, BackendError> {
        Ok(self.read(board, |b| b.page(after, limit)))
    }

    async fn get(
        &self,
        board: &BoardKey,
        player_key: &str,
    ) -> Result<Option<Ranked>, BackendError> {
        Ok(self.read(board, |b| b.get(player_key)))
    }

    async fn around(
        &self,
        board: &BoardKey,
        player_key: &str,
        before: usize,
        after: usize,
    ) -> Result<Vec<Ranked>, BackendError> {
        Ok(self.read(board, |b| b.around(player_key, before, after)))
    }

    async fn set(
        &self,
        board: &BoardKey,
        player_key: &str,
        standing: Option<Standing>,
    ) -> Result<(), BackendError> {
        let mut boards = self.boards.write().unwrap_or_else(|p| p.into_inner());
        match standing {
            Some(s) => boards
                .entry(board.clone())
                .or_default()
                .set(player_key, Some(s)),
            None => {
                if let Some(b) = boards.get_mut(board) {
                    b.remove(player_key);
                }
            }
        }
        Ok(())
    }

    async fn load(&self, board: &BoardKey, standings: Vec<Standing>) -> Result<(), BackendError> {
        let fresh = RankedBoard::from_standings(standings);
        self.boards
            .write()
            .unwrap_or_else(|p| p.into_inner())
            .insert(board.clone(), fresh);
        Ok(())
    }

    async fn ping(&self) -> Result<(), BackendError> {
        Ok(())
    }
}
