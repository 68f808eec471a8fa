//! Sessions in a map behind a mutex: one process, so a lock is the whole concurrency story.
//! Each session's inputs are a vector of their own, appended to in place.

use std::collections::{BTreeMap, HashMap};
use std::ops::Range;
use std::sync::Mutex;

use arcade_domain::games::Input;
use arcade_domain::ports::{InputsChange, SessionStore};
use arcade_domain::session::{Session, SessionId};
use arcade_domain::time::Timestamp;
use arcade_domain::{BackendError, DomainError};
use async_trait::async_trait;

#[derive(Debug)]
struct Entry {
    session: Session,
    inputs: Vec<Input>,
    forget_at: Timestamp,
}

#[derive(Debug, Default)]
pub struct MemorySessionStore {
    sessions: Mutex<HashMap<SessionId, Entry>>,
}

impl MemorySessionStore {
    pub fn new() -> Self {
        Self::default()
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<SessionId, Entry>> {
        // A panic while holding the lock cannot leave a half-applied change (changes are
        // all-or-nothing), so a poisoned map is still consistent.
        self.sessions.lock().unwrap_or_else(|p| p.into_inner())
    }
}

#[async_trait]
impl SessionStore for MemorySessionStore {
    async fn insert(
        &self,
        session: &Session,
        inputs: &[Input],
        forget_at: Timestamp,
    ) -> Result<bool, BackendError> {
        let mut map = self.lock();
        if map.contains_key(&session.id) {
            return Ok(false);
        }
        map.insert(
            session.id,
            Entry {
                session: session.clone(),
                inputs: inputs.to_vec(),
                forget_at,
            },
        );
        Ok(true)
    }

    async fn get(&self, id: SessionId) -> Result<Option<Session>, BackendError> {
        Ok(self.lock().get(&id).map(|e| e.session.clone()))
    }

    async fn inputs(&self, id: SessionId, count: usize) -> Result<Vec<Input>, BackendError> {
        Ok(self
            .lock()
            .get(&id)
            .map(|e| e.inputs[..count.min(e.inputs.len())].to_vec())
            .unwrap_or_default())
    }

    async fn append(
        &self,
        id: SessionId,
        held: Range<usize>,
        change: InputsChange<'_>,
    ) -> Result<Session, DomainError> {
        let mut map = self.lock();
        let entry = map
            .get_mut(&id)
            .ok_or_else(|| DomainError::SessionNotFound(id.to_string()))?;
        let from = held.start.min(entry.inputs.len());
        let to = held.end.clamp(from, entry.inputs.len());
        // The change runs on a copy of the session (without its inputs): when it fails,
        // nothing is written.
        let mut changed = entry.session.clone();
        let fresh = change(&mut changed, &entry.inputs[from..to])?;
        entry.inputs.extend_from_slice(&fresh);
        entry.session = changed;
        Ok(entry.session.clone())
    }

    async fn count_active(&self, now: Timestamp) -> Result<BTreeMap<String, u64>, BackendError> {
        let mut counts = BTreeMap::new();
        for e in self.lock().values() {
            if e.session.is_active(now) {
                *counts.entry(e.session.game.clone()).or_insert(0) += 1;
            }
        }
        Ok(counts)
    }

    async fn forget_player(&self, player_key: &str) -> Result<usize, BackendError> {
        let mut map = self.lock();
        let before = map.len();
        map.retain(|_, e| e.session.player_key != player_key);
        Ok(before - map.len())
    }

    async fn purge(&self, now: Timestamp) -> Result<usize, BackendError> {
        let mut map = self.lock();
        let before = map.len();
        map.retain(|_, e| e.forget_at > now);
        Ok(before - map.len())
    }

    async fn ping(&self) -> Result<(), BackendError> {
        Ok(())
    }
}
