//! Timestamps, the clock port, leaderboard periods and the calendar they follow.

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

    pub fn minus(self, d: Duration) -> Self {
        Self(
            self.0
                .saturating_sub(i64::try_from(d.as_millis()).unwrap_or(i64::MAX)),
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

/// A leaderboard period. Days are calendar days and weeks ISO weeks (Monday to Sunday) of the
/// arcade's time zone (see [`Calendar`]).
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

    /// The bucket a moment falls in when days are UTC days: 0 for all-time, days since the
    /// epoch for a day, and Monday-based weeks since the epoch for a week (1970-01-01 was a
    /// Thursday). The arcade's boards follow its [`Calendar`], which is this in UTC.
    pub fn bucket(self, at: Timestamp) -> i64 {
        self.bucket_of_day(at.0.div_euclid(DAY_MS))
    }

    /// The bucket of the calendar day `day` (days since 1970-01-01).
    fn bucket_of_day(self, day: i64) -> i64 {
        match self {
            Self::All => 0,
            Self::Day => day,
            Self::Week => (day + 3).div_euclid(7),
        }
    }

    /// How the API names a bucket: `YYYY-MM-DD` for a day, the ISO week `YYYY-Www` for a
    /// week; all-time has one bucket and no name.
    pub fn bucket_name(self, bucket: i64) -> Option<String> {
        match self {
            Self::All => None,
            Self::Day => {
                let (y, m, d) = civil_from_days(bucket);
                Some(format!("{y:04}-{m:02}-{d:02}"))
            }
            Self::Week => {
                let (y, m, d) = civil_from_days(bucket.saturating_mul(7).saturating_sub(3));
                let monday = civil_date(y, m.into(), d.into()).ok()?;
                let week = monday.iso_week_date();
                Some(format!("{:04}-W{:02}", week.year(), week.week()))
            }
        }
    }

    /// The bucket named `raw` ([`Period::bucket_name`]'s form): a day as `YYYY-MM-DD`, a week
    /// as `YYYY-Www`. The bucket of a name does not depend on the time zone: only which
    /// moments fall in it does.
    pub fn parse_bucket(self, raw: &str) -> Result<i64, DomainError> {
        let invalid = |why: &str| DomainError::InvalidQuery(format!("'{raw}' {why}"));
        match self {
            Self::All => Err(invalid(
                "names a day or a week: the all-time board has no other",
            )),
            Self::Day => {
                let digits = |r: std::ops::Range<usize>| raw.get(r).and_then(number);
                let (Some(y), Some(m), Some(d), 10, Some("-"), Some("-")) = (
                    digits(0..4),
                    digits(5..7),
                    digits(8..10),
                    raw.len(),
                    raw.get(4..5),
                    raw.get(7..8),
                ) else {
                    return Err(invalid("is not a date: use YYYY-MM-DD"));
                };
                let date = civil_date(y, m, d).map_err(|_| invalid("is no day of the calendar"))?;
                Ok(days_since_epoch(date))
            }
            Self::Week => {
                let (Some(y), Some(w), 8, Some("-W")) = (
                    raw.get(0..4).and_then(number),
                    raw.get(6..8).and_then(number),
                    raw.len(),
                    raw.get(4..6),
                ) else {
                    return Err(invalid("is not an ISO week: use YYYY-Www, e.g. 2026-W49"));
                };
                let monday = i16::try_from(y)
                    .ok()
                    .zip(i8::try_from(w).ok())
                    .and_then(|(y, w)| {
                        jiff::civil::ISOWeekDate::new(y, w, jiff::civil::Weekday::Monday).ok()
                    })
                    .ok_or_else(|| invalid("is no week of that year"))?
                    .date();
                Ok(self.bucket_of_day(days_since_epoch(monday)))
            }
        }
    }
}

/// Up to four ASCII digits as a number (no sign, no spaces).
fn number(raw: &str) -> Option<i64> {
    if raw.is_empty() || !raw.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    raw.parse().ok()
}

fn civil_date(y: i64, m: i64, d: i64) -> Result<jiff::civil::Date, jiff::Error> {
    let narrow = |v: i64| i8::try_from(v).unwrap_or(i8::MAX);
    jiff::civil::Date::new(i16::try_from(y).unwrap_or(i16::MAX), narrow(m), narrow(d))
}

fn days_since_epoch(date: jiff::civil::Date) -> i64 {
    // Every date jiff holds has a UTC midnight jiff can hold.
    let midnight = date.to_datetime(jiff::civil::Time::midnight());
    let utc = jiff::tz::Offset::UTC
        .to_timestamp(midnight)
        .map_or(0, |t| t.as_second());
    utc.div_euclid(86_400)
}

/// Where the arcade's days and weeks begin: the calendar of one time zone (UTC unless the
/// operator sets another). A day's bucket is the number of its local calendar date (days since
/// 1970-01-01), a week's that of its local Monday, so in UTC they are [`Period::bucket`]'s and
/// a date names the same bucket in every zone. Changing the zone changes which moments fall in
/// a day from then on; boards of days already played keep the scores they were given.
///
/// The zone database is built into the binary, so every replica, with or without a system
/// zone database, applies the same rules (offsets and daylight saving changes).
#[derive(Debug, Clone)]
pub struct Calendar {
    name: String,
    zone: jiff::tz::TimeZone,
}

/// A time zone the built-in database does not know.
#[derive(Debug, thiserror::Error)]
#[error(
    "unknown time zone '{name}': use an IANA name such as UTC, Europe/Berlin or America/New_York"
)]
pub struct UnknownTimeZone {
    pub name: String,
    #[source]
    source: jiff::Error,
}

impl Default for Calendar {
    fn default() -> Self {
        Self::utc()
    }
}

impl Calendar {
    pub fn utc() -> Self {
        Self {
            name: "UTC".to_owned(),
            zone: jiff::tz::TimeZone::UTC,
        }
    }

    /// The calendar of the IANA time zone `name` (e.g. `Europe/Berlin`).
    pub fn parse(name: &str) -> Result<Self, UnknownTimeZone> {
        let zone = jiff::tz::db().get(name).map_err(|source| UnknownTimeZone {
            name: name.to_owned(),
            source,
        })?;
        Ok(Self {
            name: name.to_owned(),
            zone,
        })
    }

    /// The zone's IANA name, as configured.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The bucket of `period` that `at` falls in, in this calendar.
    pub fn bucket(&self, period: Period, at: Timestamp) -> i64 {
        period.bucket_of_day(self.day(at))
    }

    /// The board of `game` for `period` that `at` falls in.
    pub fn board(&self, game: &str, period: Period, at: Timestamp) -> BoardKey {
        BoardKey {
            game: game.to_owned(),
            period,
            bucket: self.bucket(period, at),
        }
    }

    /// The local calendar day `at` falls in, as days since 1970-01-01: the moment shifted by
    /// the zone's offset then, counted in whole days.
    fn day(&self, at: Timestamp) -> i64 {
        let offset_ms = jiff::Timestamp::from_millisecond(at.0)
            .map_or(0, |t| i64::from(self.zone.to_offset(t).seconds()) * 1000);
        at.0.saturating_add(offset_ms).div_euclid(DAY_MS)
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
    /// The board of `period` that `now` falls in, with UTC days; the arcade's own boards come
    /// from its [`Calendar::board`].
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

    /// The moment of an RFC 3339 time with its offset.
    fn at(rfc3339: &str) -> Timestamp {
        Timestamp(rfc3339.parse::<jiff::Timestamp>().unwrap().as_millisecond())
    }

    fn day(name: &str, at: Timestamp) -> String {
        let calendar = Calendar::parse(name).unwrap();
        Period::Day
            .bucket_name(calendar.bucket(Period::Day, at))
            .unwrap()
    }

    fn week(name: &str, at: Timestamp) -> String {
        let calendar = Calendar::parse(name).unwrap();
        Period::Week
            .bucket_name(calendar.bucket(Period::Week, at))
            .unwrap()
    }

    #[test]
    fn the_utc_calendar_keeps_the_buckets_of_utc_days() {
        let utc = Calendar::utc();
        for ms in [0, 1_795_305_600_000 - 1, 1_795_392_000_000, -DAY_MS - 1] {
            for period in Period::ALL {
                assert_eq!(
                    utc.bucket(period, Timestamp(ms)),
                    period.bucket(Timestamp(ms))
                );
            }
        }
        assert_eq!(Calendar::parse("UTC").unwrap().name(), "UTC");
    }

    #[test]
    fn a_day_begins_at_local_midnight() {
        // Berlin is an hour ahead of UTC in winter.
        assert_eq!(
            day("Europe/Berlin", at("2026-12-06T22:59:59.999Z")),
            "2026-12-06"
        );
        assert_eq!(
            day("Europe/Berlin", at("2026-12-06T23:00:00Z")),
            "2026-12-07"
        );
        // New York is five hours behind.
        assert_eq!(
            day("America/New_York", at("2026-12-07T04:59:59.999Z")),
            "2026-12-06"
        );
        assert_eq!(
            day("America/New_York", at("2026-12-07T05:00:00Z")),
            "2026-12-07"
        );
        assert_eq!(day("UTC", at("2026-12-06T23:59:59.999Z")), "2026-12-06");
        assert_eq!(day("UTC", at("2026-12-07T00:00:00Z")), "2026-12-07");
    }

    #[test]
    fn a_day_of_a_daylight_saving_change_is_its_local_day() {
        // Berlin springs forward on 2026-03-29: that day has 23 hours.
        assert_eq!(
            day("Europe/Berlin", at("2026-03-28T22:59:59Z")),
            "2026-03-28"
        );
        assert_eq!(
            day("Europe/Berlin", at("2026-03-28T23:00:00Z")),
            "2026-03-29"
        );
        assert_eq!(
            day("Europe/Berlin", at("2026-03-29T21:59:59Z")),
            "2026-03-29"
        );
        assert_eq!(
            day("Europe/Berlin", at("2026-03-29T22:00:00Z")),
            "2026-03-30"
        );
        // New York falls back on 2026-11-01: that day has 25 hours.
        assert_eq!(
            day("America/New_York", at("2026-11-01T03:59:59Z")),
            "2026-10-31"
        );
        assert_eq!(
            day("America/New_York", at("2026-11-01T04:00:00Z")),
            "2026-11-01"
        );
        assert_eq!(
            day("America/New_York", at("2026-11-02T04:59:59Z")),
            "2026-11-01"
        );
        assert_eq!(
            day("America/New_York", at("2026-11-02T05:00:00Z")),
            "2026-11-02"
        );
    }

    #[test]
    fn zones_off_the_hour_begin_their_days_off_the_hour() {
        // Kolkata is 5:30 ahead, Kathmandu 5:45.
        assert_eq!(
            day("Asia/Kolkata", at("2026-12-06T18:29:59Z")),
            "2026-12-06"
        );
        assert_eq!(
            day("Asia/Kolkata", at("2026-12-06T18:30:00Z")),
            "2026-12-07"
        );
        assert_eq!(
            day("Asia/Kathmandu", at("2026-12-06T18:14:59Z")),
            "2026-12-06"
        );
        assert_eq!(
            day("Asia/Kathmandu", at("2026-12-06T18:15:00Z")),
            "2026-12-07"
        );
    }

    #[test]
    fn a_week_begins_at_local_midnight_on_monday() {
        // 2026-12-07 is the Monday of ISO week 50.
        assert_eq!(
            week("Europe/Berlin", at("2026-12-06T22:59:59Z")),
            "2026-W49"
        );
        assert_eq!(
            week("Europe/Berlin", at("2026-12-06T23:00:00Z")),
            "2026-W50"
        );
        assert_eq!(week("UTC", at("2026-12-06T23:00:00Z")), "2026-W49");
        assert_eq!(
            week("America/New_York", at("2026-12-07T04:59:59Z")),
            "2026-W49"
        );
        assert_eq!(
            week("America/New_York", at("2026-12-07T05:00:00Z")),
            "2026-W50"
        );
        assert_eq!(week("Asia/Kolkata", at("2026-12-06T18:30:00Z")), "2026-W50");
        // The week after Berlin springs forward begins on Monday 2026-03-30 at 00:00 CEST.
        assert_eq!(
            week("Europe/Berlin", at("2026-03-29T21:59:59Z")),
            "2026-W13"
        );
        assert_eq!(
            week("Europe/Berlin", at("2026-03-29T22:00:00Z")),
            "2026-W14"
        );
    }

    #[test]
    fn unknown_time_zones_are_refused_by_name() {
        let e = Calendar::parse("Mars/Olympus_Mons").unwrap_err();
        assert!(e.to_string().contains("Mars/Olympus_Mons"), "{e}");
    }

    #[test]
    fn bucket_names_read_back_as_their_buckets() {
        for bucket in [-1, 0, 20_780, 20_794] {
            for period in [Period::Day, Period::Week] {
                let name = period.bucket_name(bucket).unwrap();
                assert_eq!(period.parse_bucket(&name).unwrap(), bucket, "{name}");
            }
        }
        assert_eq!(Period::Day.parse_bucket("2026-11-23").unwrap(), 20_780);
        assert_eq!(Period::Day.bucket_name(0).unwrap(), "1970-01-01");
        // 1970-01-01 is the Thursday of ISO week 1 of 1970; 2021-01-01 falls in 2020-W53.
        assert_eq!(Period::Week.bucket_name(0).unwrap(), "1970-W01");
        assert_eq!(
            Period::Week.parse_bucket("2020-W53").unwrap(),
            Period::Week.bucket(at("2021-01-01T12:00:00Z"))
        );
        assert_eq!(Period::All.bucket_name(0), None);
    }

    #[test]
    fn malformed_or_impossible_bucket_names_are_refused() {
        for raw in [
            "2026-02-30",
            "2026-13-01",
            "2026-1-01",
            "26-01-01",
            "2026-01-01T00:00",
            "+026-01-01",
            "2026/01/01",
            "",
            "２０２６-01-01",
        ] {
            assert!(
                matches!(
                    Period::Day.parse_bucket(raw),
                    Err(DomainError::InvalidQuery(_))
                ),
                "{raw}"
            );
        }
        for raw in [
            "2026-W54", "2025-W53", "2026-W00", "2026-W1", "2026W01", "2026-w01", "2026-01",
        ] {
            assert!(
                matches!(
                    Period::Week.parse_bucket(raw),
                    Err(DomainError::InvalidQuery(_))
                ),
                "{raw}"
            );
        }
        // 2026 begins on a Thursday, so it has 53 weeks; 2025 has 52.
        assert!(Period::Week.parse_bucket("2026-W53").is_ok());
        assert!(Period::All.parse_bucket("2026-01-01").is_err());
    }

    #[test]
    fn manual_clock_moves_forward() {
        let c = ManualClock::new(Timestamp(1000));
        c.advance(Duration::from_secs(2));
        assert_eq!(c.now(), Timestamp(3000));
    }
}
