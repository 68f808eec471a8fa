//! Seasons: named stretches of time an operator defines (`summer-2027`, from one instant to
//! another), each with a board per game of every player's best score played within it.
//!
//! A season's board is read from the scores themselves, not kept apart: a season added late
//! ranks what was played within it all the same, and an operator's action (a player hidden, a
//! score removed) shows on it at once. Seasons may overlap (a year and an event within it
//! count the same scores, each on its own board). Once a season is over its board is final
//! for play, and the season stays: an archive is never removed.

use crate::DomainError;
use crate::time::Timestamp;

/// Longest season slug.
pub const MAX_SLUG: usize = 40;
/// Longest season title, in characters.
pub const MAX_TITLE: usize = 80;
/// Most seasons an arcade keeps: the public list is one unpaged answer.
pub const MAX_SEASONS: usize = 500;

/// A season as stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Season {
    /// How the season is named in addresses: 1 to [`MAX_SLUG`] lowercase ASCII letters,
    /// digits and `-`.
    pub slug: String,
    /// How the season is shown: one line of 1 to [`MAX_TITLE`] characters.
    pub title: String,
    /// Scores achieved at or after this instant count…
    pub starts_at: Timestamp,
    /// …and those achieved before this one.
    pub ends_at: Timestamp,
    pub created_at: Timestamp,
}

impl Season {
    /// A season from an operator's input, validated: a slug of the shape above, a title, and
    /// an end after the start.
    pub fn parse(
        slug: &str,
        title: &str,
        starts_at: Timestamp,
        ends_at: Timestamp,
        created_at: Timestamp,
    ) -> Result<Self, DomainError> {
        let slug = parse_slug(slug)?;
        let title = title.trim();
        if title.is_empty() || title.chars().count() > MAX_TITLE {
            return Err(DomainError::InvalidSeason(format!(
                "a season's title is 1 to {MAX_TITLE} characters"
            )));
        }
        if title.chars().any(char::is_control) {
            return Err(DomainError::InvalidSeason(
                "a season's title is one line of text without control characters".to_owned(),
            ));
        }
        if ends_at <= starts_at {
            return Err(DomainError::InvalidSeason(format!(
                "a season ends after it starts: {} is not after {}",
                ends_at.to_rfc3339(),
                starts_at.to_rfc3339()
            )));
        }
        Ok(Self {
            slug,
            title: title.to_owned(),
            starts_at,
            ends_at,
            created_at,
        })
    }

    /// Whether the season is over at `now`: its board is final for play.
    pub fn is_finished(&self, now: Timestamp) -> bool {
        now >= self.ends_at
    }

    /// Whether a score achieved at `at` counts in the season.
    pub fn contains(&self, at: Timestamp) -> bool {
        self.starts_at <= at && at < self.ends_at
    }
}

/// A season's slug: 1 to [`MAX_SLUG`] lowercase ASCII letters, digits and `-`, as given.
pub fn parse_slug(raw: &str) -> Result<String, DomainError> {
    let allowed = |c: char| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-';
    if raw.is_empty() || raw.len() > MAX_SLUG || !raw.chars().all(allowed) {
        return Err(DomainError::InvalidSeason(format!(
            "a season's slug is 1 to {MAX_SLUG} lowercase letters, digits or '-'; got {raw:?}"
        )));
    }
    Ok(raw.to_owned())
}

/// An instant given as RFC 3339 (`2027-06-01T00:00:00Z`, any offset), to the millisecond.
pub fn parse_instant(what: &str, raw: &str) -> Result<Timestamp, DomainError> {
    raw.trim()
        .parse::<jiff::Timestamp>()
        .map(|t| Timestamp(t.as_millisecond()))
        .map_err(|_| {
            DomainError::InvalidSeason(format!(
                "{what} is an RFC 3339 date and time such as 2027-06-01T00:00:00Z; got {raw:?}"
            ))
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    const T: Timestamp = Timestamp(1_800_000_000_000);

    fn season(slug: &str, title: &str, start: i64, end: i64) -> Result<Season, DomainError> {
        Season::parse(slug, title, Timestamp(start), Timestamp(end), T)
    }

    #[test]
    fn slugs_are_short_lowercase_letters_digits_and_dashes() {
        assert_eq!(parse_slug("summer-2027").unwrap(), "summer-2027");
        assert!(parse_slug(&"a".repeat(MAX_SLUG)).is_ok());
        for bad in [
            "",
            "Summer",
            "summer 2027",
            "été",
            "a_b",
            &"a".repeat(MAX_SLUG + 1),
        ] {
            let e = parse_slug(bad).unwrap_err();
            assert_eq!(e.code(), "invalid_season", "{bad:?}");
        }
    }

    #[test]
    fn a_season_has_a_title_of_one_line_and_ends_after_it_starts() {
        let s = season("s1", "  Summer  ", 10, 20).unwrap();
        assert_eq!(s.title, "Summer");
        assert!(season("s1", &"é".repeat(MAX_TITLE), 10, 20).is_ok());
        assert!(season("s1", &"é".repeat(MAX_TITLE + 1), 10, 20).is_err());
        assert!(season("s1", "  ", 10, 20).is_err());
        assert!(season("s1", "two\nlines", 10, 20).is_err());
        assert!(season("s1", "Summer", 20, 20).is_err());
        assert!(season("s1", "Summer", 20, 10).is_err());
    }

    #[test]
    fn a_season_holds_its_start_but_not_its_end() {
        let s = season("s1", "Summer", 10, 20).unwrap();
        assert!(!s.contains(Timestamp(9)));
        assert!(s.contains(Timestamp(10)));
        assert!(s.contains(Timestamp(19)));
        assert!(!s.contains(Timestamp(20)));
        assert!(!s.is_finished(Timestamp(19)));
        assert!(s.is_finished(Timestamp(20)));
    }

    #[test]
    fn instants_are_rfc3339_with_any_offset() {
        assert_eq!(
            parse_instant("start", "2027-06-01T02:00:00+02:00").unwrap(),
            parse_instant("start", "2027-06-01T00:00:00Z").unwrap()
        );
        assert_eq!(
            parse_instant("start", "1970-01-01T00:00:00.250Z").unwrap(),
            Timestamp(250)
        );
        let e = parse_instant("start", "2027-06-01").unwrap_err();
        assert_eq!(e.code(), "invalid_season");
        assert!(e.to_string().contains("start"));
    }
}
