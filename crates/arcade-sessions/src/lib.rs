//! Live state adapters behind the domain's `SessionStore`, `RankIndex` and `RateLimit` ports:
//! in memory for the embedded default (one process), and on Redis for a fleet of replicas.
//!
//! Redis: connect one [`RedisBackend`] per process and take [`RedisBackend::sessions`],
//! [`RedisBackend::ranks`] and [`RedisBackend::rate_limit`] from it; all share its connection. [`RedisTarget`] reads the
//! deployment from `REDIS_URL`: one server, or the primary of a set of Sentinels, followed
//! across failovers.

mod memory_limits;
mod memory_ranks;
mod memory_sessions;
mod redis_backend;
mod redis_limits;
mod redis_ranks;
mod redis_sessions;
mod redis_target;

pub use memory_limits::MemoryRateLimit;
pub use memory_ranks::MemoryRankIndex;
pub use memory_sessions::MemorySessionStore;
pub use redis_backend::RedisBackend;
pub use redis_limits::RedisRateLimit;
pub use redis_ranks::RedisRankIndex;
pub use redis_sessions::RedisSessionStore;
pub use redis_target::{RedisTarget, RedisTargetError, SENTINEL_PORT, SENTINEL_SCHEME};
