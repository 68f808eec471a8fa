//! Per-client limits shared by every replica on one Redis: the same GCRA as in memory, in a
//! script that reads and moves a client's theoretical arrival time in one atomic step.
//!
//! Keys (after the prefix): `limit:{name}:{client}`, holding the client's theoretical arrival
//! time in microseconds of the Redis server's clock, expiring when it has passed.

use std::num::NonZeroU32;
use std::time::Duration;

use arcade_domain::BackendError;
use arcade_domain::ports::RateLimit;
use async_trait::async_trait;
use redis::Script;

use crate::redis_backend::{RedisBackend, backend_error};

const MINUTE_US: u64 = 60_000_000;

/// A `RateLimit` on Redis. Build it with [`RedisBackend::rate_limit`].
#[derive(Debug, Clone)]
pub struct RedisRateLimit {
    redis: RedisBackend,
    name: &'static str,
    interval_us: u64,
    tolerance_us: u64,
    acquire: Script,
}

impl RedisRateLimit {
    pub(crate) fn new(redis: RedisBackend, name: &'static str, per_minute: NonZeroU32) -> Self {
        let quota = u64::from(per_minute.get());
        let interval_us = MINUTE_US / quota;
        Self {
            redis,
            name,
            interval_us,
            // A fresh client may act `quota` times at once, as the in-memory limiter allows.
            tolerance_us: interval_us * (quota - 1),
            acquire: Script::new(include_str!("lua/limit_acquire.lua")),
        }
    }
}

#[async_trait]
impl RateLimit for RedisRateLimit {
    #[tracing::instrument(name = "redis.limit", skip_all, fields(db.system = "redis"))]
    async fn acquire(&self, client: &str) -> Result<Option<Duration>, BackendError> {
        let key = self.redis.key(format_args!("limit:{}:{client}", self.name));
        let wait_us: u64 = self
            .acquire
            .key(key)
            .arg(self.interval_us)
            .arg(self.tolerance_us)
            .invoke_async(&mut self.redis.conn())
            .await
            .map_err(backend_error)?;
        Ok((wait_us > 0).then(|| Duration::from_micros(wait_us)))
    }
}
