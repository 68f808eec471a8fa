//! What the server takes on: the HTTP settings that bound a request (body size, time, requests
//! in flight) and the per-client limit on session starts.

use std::net::IpAddr;
use std::num::NonZeroU32;
use std::time::Duration;

use governor::clock::{Clock, DefaultClock};
use governor::{DefaultKeyedRateLimiter, Quota, RateLimiter};

/// HTTP-level settings.
#[derive(Debug, Clone)]
pub struct HttpSettings {
    /// Largest request body accepted (413 above).
    pub max_body_bytes: usize,
    /// Requests taking longer are answered 503.
    pub request_timeout: Duration,
    /// API requests (play, reads from storage) in flight at once; more are answered 503 at
    /// once, so an overload shows as quick refusals instead of a queue that grows in memory.
    pub max_requests_in_flight: usize,
    /// Session starts allowed per client IP per minute (429 above).
    pub starts_per_minute: NonZeroU32,
    /// Take the client IP from the first `X-Forwarded-For` entry (only behind a trusted proxy).
    pub trust_forwarded_for: bool,
}

impl Default for HttpSettings {
    fn default() -> Self {
        Self {
            max_body_bytes: 256 * 1024,
            request_timeout: Duration::from_secs(10),
            max_requests_in_flight: 512,
            starts_per_minute: NonZeroU32::new(30).unwrap_or(NonZeroU32::MIN),
            trust_forwarded_for: false,
        }
    }
}

/// Per-client-IP limit on session starts (GCRA, so bursts are allowed up to the quota).
#[derive(Debug)]
pub struct StartLimiter {
    limiter: DefaultKeyedRateLimiter<IpAddr>,
}

impl StartLimiter {
    pub fn new(per_minute: NonZeroU32) -> Self {
        Self {
            limiter: RateLimiter::keyed(Quota::per_minute(per_minute)),
        }
    }

    /// `Err(wait)` when the client must wait before starting another session.
    pub fn check(&self, ip: IpAddr) -> Result<(), Duration> {
        self.limiter
            .check_key(&ip)
            .map_err(|not_until| not_until.wait_time_from(DefaultClock::default().now()))
    }

    /// Forget clients whose allowance is full again, so the map does not grow forever.
    pub fn forget_idle(&self) {
        self.limiter.retain_recent();
    }
}
