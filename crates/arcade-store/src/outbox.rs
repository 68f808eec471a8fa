//! What both stores' outboxes share: an event as its row (id, subject, JSON payload) and the
//! clock the rows are timed by. Outbox times are the machine's wall clock in ms since the
//! epoch: they order leases and holds between replicas, whose clocks agree to well within a
//! lease; the arcade's own clock (which tests move) stays with the games.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use arcade_domain::BackendError;
use arcade_domain::event::Event;

/// An event as the outbox stores it.
#[derive(Debug, Clone)]
pub(crate) struct EventRow {
    pub(crate) id: uuid::Uuid,
    pub(crate) subject: &'static str,
    pub(crate) payload: String,
}

impl EventRow {
    pub(crate) fn of(backend: &'static str, event: &Event) -> Result<Self, BackendError> {
        Ok(Self {
            id: event.id,
            subject: event.kind.subject(),
            payload: serde_json::to_string(event).map_err(|e| {
                BackendError::defect(backend, "cannot encode an event").with_source(e)
            })?,
        })
    }
}

/// Now, in ms since the epoch.
pub(crate) fn now_ms() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX))
}

/// `d` in ms, for adding to [`now_ms`].
pub(crate) fn ms(d: Duration) -> i64 {
    i64::try_from(d.as_millis()).unwrap_or(i64::MAX)
}

/// How long ago `created_at` was.
pub(crate) fn age(created_at: Option<i64>) -> Duration {
    created_at.map_or(Duration::ZERO, |at| {
        Duration::from_millis(u64::try_from(now_ms().saturating_sub(at)).unwrap_or(0))
    })
}
