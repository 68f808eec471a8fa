//! Per-client limits kept in this process (the embedded default, or a replica without Redis):
//! GCRA on a keyed `governor` limiter.

use std::num::NonZeroU32;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use arcade_domain::BackendError;
use arcade_domain::ports::RateLimit;
use async_trait::async_trait;
use governor::clock::{Clock, DefaultClock};
use governor::{DefaultKeyedRateLimiter, Quota};

/// Acquisitions between two sweeps of clients whose allowance is full again.
const SWEEP_EVERY: u64 = 4096;

/// A `RateLimit` in memory: a minute's quota at once, then one per interval, per client.
#[derive(Debug)]
pub struct MemoryRateLimit {
    limiter: DefaultKeyedRateLimiter<String>,
    acquired: AtomicU64,
}

impl MemoryRateLimit {
    pub fn per_minute(quota: NonZeroU32) -> Self {
        Self {
            limiter: DefaultKeyedRateLimiter::keyed(Quota::per_minute(quota)),
            acquired: AtomicU64::new(0),
        }
    }
}

#[async_trait]
impl RateLimit for MemoryRateLimit {
    async fn acquire(&self, client: &str) -> Result<Option<Duration>, BackendError> {
        // Forget clients whose allowance is full again now and then, so the map stays as
        // large as the clients of the last minute.
        if self.acquired.fetch_add(1, Ordering::Relaxed) % SWEEP_EVERY == SWEEP_EVERY - 1 {
            self.limiter.retain_recent();
        }
        let key = client.to_owned();
        Ok(self
            .limiter
            .check_key(&key)
            .err()
            .map(|not_until| not_until.wait_time_from(DefaultClock::default().now())))
    }
}
