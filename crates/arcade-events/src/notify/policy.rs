//! When to try again, how long to wait, what counts as sent, and how often a target may be
//! posted to. Pure logic over times the caller passes in, so it is tested without clocks or
//! sockets.

use std::collections::{HashSet, VecDeque};
use std::time::{Duration, Instant};

use uuid::Uuid;

/// Retries of one message to one target.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RetryPolicy {
    /// Attempts in all (the first one included) before the message is dead-lettered.
    pub max_attempts: u32,
    /// Wait after the first failure; doubled after each further one.
    pub base: Duration,
    /// Longest wait between attempts, whatever the backoff or the target asks.
    pub max: Duration,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        Self {
            max_attempts: 5,
            base: Duration::from_secs(1),
            max: Duration::from_secs(30),
        }
    }
}

impl RetryPolicy {
    /// The wait after failed attempt `attempt` (1-based): exponential, with "equal jitter"
    /// (half fixed, half random from `jitter` in [0, 1)) so targets that failed together do
    /// not retry together, and never shorter than the target's own `Retry-After`.
    pub fn wait(&self, attempt: u32, jitter: f64, retry_after: Option<Duration>) -> Duration {
        let exp = self
            .base
            .saturating_mul(
                1u32.checked_shl(attempt.saturating_sub(1))
                    .unwrap_or(u32::MAX),
            )
            .min(self.max);
        let backoff = exp / 2 + exp.mul_f64(jitter.clamp(0.0, 1.0) / 2.0);
        backoff.max(retry_after.unwrap_or_default()).min(self.max)
    }

    /// The longest a message can spend in retries: the consumer's ack wait must exceed it.
    pub fn worst_case(&self, request_timeout: Duration) -> Duration {
        (request_timeout + self.max).saturating_mul(self.max_attempts)
    }
}

/// What a target's answer means.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Verdict {
    Accepted,
    /// Worth trying again (5xx, 429, 408, timeouts, connection errors), after at least
    /// `after` when the target said so.
    Retry {
        after: Option<Duration>,
        reason: String,
    },
    /// Trying again cannot help (a deleted webhook, a body the target refuses).
    Reject {
        reason: String,
    },
}

/// Classify an HTTP answer. `retry_after` is the `Retry-After` header; Discord also sends
/// `{"retry_after": seconds}` in a 429 body, and the longer of the two wins.
pub fn classify(status: u16, retry_after: Option<&str>, body: &[u8]) -> Verdict {
    match status {
        200..=299 => Verdict::Accepted,
        408 | 429 | 500..=599 => {
            let header = retry_after.and_then(parse_retry_after);
            let in_body = (status == 429)
                .then(|| serde_json::from_slice::<serde_json::Value>(body).ok())
                .flatten()
                .and_then(|v| v.get("retry_after").and_then(serde_json::Value::as_f64))
                .and_then(seconds);
            Verdict::Retry {
                after: header.max(in_body),
                reason: format!("HTTP {status}"),
            }
        }
        _ => Verdict::Reject {
            reason: format!("HTTP {status}: {}", snippet(body)),
        },
    }
}

/// The start of a refusal's body, for the dead letter (targets explain 4xx there).
fn snippet(body: &[u8]) -> String {
    let text = String::from_utf8_lossy(body);
    let mut s: String = text.chars().take(200).collect();
    if text.chars().count() > 200 {
        s.push('…');
    }
    s
}

fn seconds(s: f64) -> Option<Duration> {
    (s.is_finite() && s >= 0.0).then(|| Duration::from_secs_f64(s.min(86_400.0)))
}

/// `Retry-After` as delay-seconds (fractions accepted, as Discord and Slack send). The
/// HTTP-date form is not used by either target and is ignored.
pub fn parse_retry_after(value: &str) -> Option<Duration> {
    value.trim().parse::<f64>().ok().and_then(seconds)
}

/// The ids of the last `capacity` events handed to a target, to drop redeliveries and
/// duplicates. Bounded: the oldest id is forgotten first.
#[derive(Debug)]
pub struct DedupWindow {
    capacity: usize,
    order: VecDeque<Uuid>,
    seen: HashSet<Uuid>,
}

impl DedupWindow {
    pub fn new(capacity: usize) -> Self {
        Self {
            capacity: capacity.max(1),
            order: VecDeque::new(),
            seen: HashSet::new(),
        }
    }

    /// `true` when `id` is new (and remembers it), `false` for a duplicate.
    pub fn insert(&mut self, id: Uuid) -> bool {
        if !self.seen.insert(id) {
            return false;
        }
        self.order.push_back(id);
        while self.order.len() > self.capacity {
            if let Some(old) = self.order.pop_front() {
                self.seen.remove(&old);
            }
        }
        true
    }

    /// Forget `id` so a redelivery is tried again (its delivery failed without being parked).
    pub fn forget(&mut self, id: Uuid) {
        if self.seen.remove(&id) {
            self.order.retain(|x| *x != id);
        }
    }

    pub fn len(&self) -> usize {
        self.order.len()
    }

    pub fn is_empty(&self) -> bool {
        self.order.is_empty()
    }
}

/// At most `limit` messages per `per` to a target (a sliding window of send times).
#[derive(Debug)]
pub struct RateWindow {
    limit: usize,
    per: Duration,
    sent: VecDeque<Instant>,
}

impl RateWindow {
    pub fn new(limit: u32, per: Duration) -> Self {
        Self {
            limit: (limit as usize).max(1),
            per,
            sent: VecDeque::new(),
        }
    }

    fn expire(&mut self, now: Instant) {
        while self
            .sent
            .front()
            .is_some_and(|t| now.saturating_duration_since(*t) >= self.per)
        {
            self.sent.pop_front();
        }
    }

    /// Take a slot when one is free at `now`.
    pub fn try_take(&mut self, now: Instant) -> bool {
        self.expire(now);
        if self.sent.len() < self.limit {
            self.sent.push_back(now);
            true
        } else {
            false
        }
    }

    /// When the next slot frees up (`now` if one is free).
    pub fn next_free(&mut self, now: Instant) -> Instant {
        self.expire(now);
        if self.sent.len() < self.limit {
            now
        } else {
            self.sent.front().map_or(now, |t| *t + self.per)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_doubles_with_jitter_and_stops_at_the_maximum() {
        let p = RetryPolicy {
            max_attempts: 5,
            base: Duration::from_secs(1),
            max: Duration::from_secs(10),
        };
        assert_eq!(p.wait(1, 0.0, None), Duration::from_millis(500));
        assert_eq!(p.wait(1, 0.999_999, None).as_millis(), 999);
        assert_eq!(p.wait(3, 0.0, None), Duration::from_secs(2));
        assert_eq!(p.wait(30, 1.0, None), Duration::from_secs(10));
        assert_eq!(p.wait(200, 1.0, None), Duration::from_secs(10));
    }

    #[test]
    fn a_target_asking_for_a_longer_wait_gets_it_up_to_the_maximum() {
        let p = RetryPolicy::default();
        assert_eq!(
            p.wait(1, 0.0, Some(Duration::from_secs(7))),
            Duration::from_secs(7)
        );
        assert_eq!(p.wait(1, 0.0, Some(Duration::from_secs(900))), p.max);
    }

    #[test]
    fn answers_are_classified() {
        assert_eq!(classify(204, None, b""), Verdict::Accepted);
        assert_eq!(
            classify(503, Some("2"), b""),
            Verdict::Retry {
                after: Some(Duration::from_secs(2)),
                reason: "HTTP 503".into()
            }
        );
        assert!(matches!(
            classify(500, None, b""),
            Verdict::Retry { after: None, .. }
        ));
        assert!(
            matches!(classify(404, None, b"Unknown Webhook"), Verdict::Reject { reason } if reason.contains("Unknown Webhook"))
        );
        assert!(matches!(classify(400, None, b""), Verdict::Reject { .. }));
    }

    #[test]
    fn discord_retry_after_in_the_body_counts_and_the_longer_wait_wins() {
        let body = br#"{"message":"You are being rate limited.","retry_after":1.5,"global":false}"#;
        assert_eq!(
            classify(429, Some("1"), body),
            Verdict::Retry {
                after: Some(Duration::from_millis(1500)),
                reason: "HTTP 429".into()
            }
        );
        assert_eq!(parse_retry_after(" 3 "), Some(Duration::from_secs(3)));
        assert_eq!(parse_retry_after("Wed, 21 Oct 2015 07:28:00 GMT"), None);
        assert_eq!(parse_retry_after("-1"), None);
    }

    #[test]
    fn the_dedup_window_drops_repeats_and_forgets_the_oldest() {
        let mut w = DedupWindow::new(2);
        let (a, b, c) = (Uuid::from_u128(1), Uuid::from_u128(2), Uuid::from_u128(3));
        assert!(w.insert(a));
        assert!(!w.insert(a));
        assert!(w.insert(b));
        assert!(w.insert(c));
        assert_eq!(w.len(), 2);
        assert!(w.insert(a), "the oldest id was forgotten");
        w.forget(c);
        assert!(w.insert(c));
    }

    #[test]
    fn the_rate_window_allows_a_burst_then_waits_for_the_oldest_send_to_age_out() {
        let t0 = Instant::now();
        let mut r = RateWindow::new(2, Duration::from_secs(60));
        assert!(r.try_take(t0));
        assert!(r.try_take(t0 + Duration::from_secs(1)));
        assert!(!r.try_take(t0 + Duration::from_secs(2)));
        assert_eq!(
            r.next_free(t0 + Duration::from_secs(2)),
            t0 + Duration::from_secs(60)
        );
        assert!(r.try_take(t0 + Duration::from_secs(60)));
        assert!(!r.try_take(t0 + Duration::from_secs(60)));
    }
}
