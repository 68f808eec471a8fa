//! Timestamps, the clock port and leaderboard periods.

use std::sync::atomic::{AtomicI64, Ordering};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use serde::{Deserialize, Serialize};

use crate::DomainError;

const DAY_MS: i64 = 86_400_000;

/// Milliseconds since the Unix epoch, UTC.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Timestamp(pub i64);

impl Timestamp {
    pub fn millis(self) -> i64 {
        self.0
    }

    pub fn plus(self, d: Duration) -> Self {
        Self(
            self.0
                .saturating_add(i64::try_from(d.as_millis()).unwrap_or(i64::MAX)),
        )
    }

    /// Milliseconds from `earlier` to `self`, zero if `earlier` is later.
    pub fn millis_since(self, earlier: Timestamp) -> u64 {
        u64::try_from(self.0.saturating_sub(earlier.0)).unwrap_or(0)
    }

    pub fn to_system_time(self) -> SystemTime {
        match u64::try_from(self.0) {
            Ok(ms) => UNIX_EPOCH + Duration::from_millis(ms),
            Err(_) => UNIX_EPOCH,
        }
    }

    /// RFC 3339 in UTC with millisecond precision, as the API shows times.
    pub fn to_rfc3339(self) -> String {
        format_rfc3339(self)
    }
}

/// RFC 3339 formatting without pulling a date crate into the domain: civil-from-days (Howard
/// Hinnant's algorithm) is a few lines of integer maths.
fn format_rfc3339(ts: Timestamp) -> String {
    let ms = ts.0.rem_euclid(1000);
    let secs = ts.0.div_euclid(1000);
    let days = secs.div_euclid(86_400);
    let sod = secs.rem_euclid(86_400);
    let (y, m, d) = civil_from_days(days);
    format!(
        "{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}.{ms:03}Z",
        sod / 3600,
        (sod / 60) % 60,
        sod % 60
    )
}

fn civil_from_days(z: i64) -> (i64, u32, u32) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let y = yoe + era * 400;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    (if m <= 2 { y + 1 } else { y }, m, d)
}

/// Where "now" comes from. Injected so tests can move time (expiry, plausibility).
pub trait Clock: Send + Sync + std::fmt::Debug {
    fn now(&self) -> Timestamp;
}

/// The real wall clock.
#[derive(Debug, Default, Clone, Copy)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> Timestamp {
        let ms = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map(|d| d.as_millis())
            .unwrap_or(0);
        Timestamp(i64::try_from(ms).unwrap_or(i64::MAX))
    }
}

/// A clock that starts at the real time and moves only forward by [`ManualClock::advance`].
#[derive(Debug)]
pub struct ManualClock(AtomicI64);

impl ManualClock {
    pub fn new(start: Timestamp) -> Self {
        Self(AtomicI64::new(start.0))
    }

    pub fn advance(&self, d: Duration) {
        let ms = i64::try_from(d.as_millis()).unwrap_or(i64::MAX);
        self.0.fetch_add(ms, Ordering::SeqCst);
    }
}

impl Clock for ManualClock {
    fn now(&self) -> Timestamp {
        Timestamp(self.0.load(Ordering::SeqCst))
    }
}

/// A leaderboard period. Days are UTC days; weeks are ISO weeks (Monday to Sunday, UTC).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Period {
    All,
    Day,
    Week,
}

impl Period {
    pub const ALL: [Period; 3] = [Period::All, Period::Day, Period::Week];

    pub fn parse(raw: &str) -> Result<Self, DomainError> {
        match raw {
            "all" => Ok(Self::All),
            "day" => Ok(Self::Day),
            "week" => Ok(Self::Week),
            other => Err(DomainError::InvalidQuery(format!(
                "unknown period '{other}': use all, day or week"
            ))),
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Self::All => "all",
            Self::Day => "day",
            Self::Week => "week",
        }
    }

    /// The bucket a moment falls in: 0 for all-time, days since the epoch for a day, and
    /// Monday-based weeks since the epoch for a week (1970-01-01 was a Thursday).
    pub fn bucket(self, at: Timestamp) -> i64 {
        let days = at.0.div_euclid(DAY_MS);
        match self {
            Self::All => 0,
            Self::Day => days,
            Self::Week => (days + 3).div_euclid(7),
        }
    }
}

/// One leaderboard: a game, a period and the bucket of that period.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct BoardKey {
    pub game: String,
    pub period: Period,
    pub bucket: i64,
}

/// `{game}:{period}:{bucket}`, e.g. `egg-catcher:day:20780`: how boards are named in keys and
/// messages.
impl std::fmt::Display for BoardKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}:{}:{}", self.game, self.period.as_str(), self.bucket)
    }
}

impl BoardKey {
    pub fn current(game: &str, period: Period, now: Timestamp) -> Self {
        Self {
            game: game.to_owned(),
            period,
            bucket: period.bucket(now),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats_rfc3339_in_utc_with_millis() {
        assert_eq!(Timestamp(0).to_rfc3339(), "1970-01-01T00:00:00.000Z");
        assert_eq!(
            Timestamp(1_795_000_000_123).to_rfc3339(),
            "2026-11-18T11:06:40.123Z"
        );
        assert_eq!(
            Timestamp(951_782_400_000).to_rfc3339(),
            "2000-02-29T00:00:00.000Z"
        );
    }

    #[test]
    fn weeks_start_on_monday_utc() {
        // 2026-11-22 is a Sunday, 2026-11-23 a Monday.
        let sunday = Timestamp(1_795_305_600_000 + 23 * 3_600_000);
        let monday = Timestamp(1_795_392_000_000);
        assert_eq!(Period::Week.bucket(monday), Period::Week.bucket(sunday) + 1);
        assert_eq!(Period::Day.bucket(monday), Period::Day.bucket(sunday) + 1);
        assert_eq!(Period::All.bucket(monday), 0);
    }

    #[test]
    fn board_keys_name_game_period_and_bucket() {
        let key = BoardKey::current("egg-catcher", Period::Day, Timestamp(1_795_392_000_000));
        assert_eq!(key.to_string(), "egg-catcher:day:20780");
    }

    #[test]
    fn periods_parse_and_reject_unknown() {
        assert_eq!(Period::parse("day").unwrap(), Period::Day);
        assert!(matches!(
            Period::parse("year"),
            Err(DomainError::InvalidQuery(_))
        ));
    }

    #[test]
    fn manual_clock_moves_forward() {
        let c = ManualClock::new(Timestamp(1000));
        c.advance(Duration::from_secs(2));
        assert_eq!(c.now(), Timestamp(3000));
    }
}
