//! Sessions in a map behind a mutex: one process, so a lock is the whole concurrency story.

use std::collections::{BTreeMap, HashMap};
use std::sync::Mutex;

use arcade_domain::ports::{SessionChange, SessionStore};
use arcade_domain::session::{Session, SessionId};
use arcade_domain::time::Timestamp;
use arcade_domain::{BackendError, DomainError};
use async_trait::async_trait;

#[derive(Debug, Default)]
pub struct MemorySessionStore {
    sessions: Mutex<HashMap<SessionId, (Session, Timestamp)>>,
}

impl MemorySessionStore {
    pub fn new() -> Self {
        Self::default()
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<SessionId, (Session, Timestamp)>> {
        // A panic while holding the lock cannot leave a half-applied change (changes are
        // all-or-nothing), so a poisoned map is still consistent.
        self.sessions.lock().unwrap_or_else(|p| p.into_inner())
    }
}

#[async_trait]
impl SessionStore for MemorySessionStore {
    async fn insert(&self, session: &Session, forget_at: Timestamp) -> Result<(), BackendError> {
        self.lock().insert(session.id, (session.clone(), forget_at));
        Ok(())
    }

    async fn get(&self, id: SessionId) -> Result<Option<Session>, BackendError> {
        Ok(self.lock().get(&id).map(|(s, _)| s.clone()))
    }

    async fn update(
        &self,
        id: SessionId,
        change: SessionChange<'_>,
    ) -> Result<Session, DomainError> {
        let mut map = self.lock();
        let (session, _) = map
            .get_mut(&id)
            .ok_or_else(|| DomainError::SessionNotFound(id.to_string()))?;
        change(session)?;
        Ok(session.clone())
    }

    async fn count_active(&self, now: Timestamp) -> Result<BTreeMap<String, u64>, BackendError> {
        let mut counts = BTreeMap::new();
        for (s, _) in self.lock().values() {
            if s.is_active(now) {
                *counts.entry(s.game.clone()).or_insert(0) += 1;
            }
        }
        Ok(counts)
    }

    async fn purge(&self, now: Timestamp) -> Result<usize, BackendError> {
        let mut map = self.lock();
        let before = map.len();
        map.retain(|_, (_, forget_at)| *forget_at > now);
        Ok(before - map.len())
    }

    async fn ping(&self) -> Result<(), BackendError> {
        Ok(())
    }
}
