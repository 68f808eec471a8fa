//! Parameters of read queries: page sizes and opaque keyset cursors.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;

use crate::DomainError;
use crate::ports::HistoryCursor;
use crate::ranks::Standing;
use crate::session::SessionId;
use crate::time::Timestamp;

/// A page size: 1 to [`Limit::MAX`], [`Limit::DEFAULT`] when absent.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limit(usize);

impl Limit {
    pub const DEFAULT: usize = 10;
    pub const MAX: usize = 100;

    pub fn parse(raw: Option<i64>) -> Result<Self, DomainError> {
        match raw {
            None => Ok(Self(Self::DEFAULT)),
            Some(n) if (1..=Self::MAX as i64).contains(&n) => Ok(Self(n as usize)),
            Some(n) => Err(DomainError::InvalidQuery(format!(
                "limit must be between 1 and {}; got {n}",
                Self::MAX
            ))),
        }
    }

    pub fn get(self) -> usize {
        self.0
    }
}

fn bad_cursor() -> DomainError {
    DomainError::InvalidQuery(
        "the cursor is not one this server issued: pass next_cursor from a previous page unchanged"
            .to_owned(),
    )
}

fn decode(raw: &str) -> Result<String, DomainError> {
    let bytes = URL_SAFE_NO_PAD.decode(raw).map_err(|_| bad_cursor())?;
    String::from_utf8(bytes).map_err(|_| bad_cursor())
}

/// Board cursor: the last standing of the previous page (score, time, player key).
pub fn encode_board_cursor(s: &Standing) -> String {
    URL_SAFE_NO_PAD.encode(format!(
        "b1:{}:{}:{}",
        s.score, s.achieved_at_ms, s.player_key
    ))
}

pub fn decode_board_cursor(raw: &str) -> Result<Standing, DomainError> {
    let text = decode(raw)?;
    let mut parts = text.splitn(4, ':');
    let (Some("b1"), Some(score), Some(at), Some(key)) =
        (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return Err(bad_cursor());
    };
    Ok(Standing {
        score: score.parse().map_err(|_| bad_cursor())?,
        achieved_at_ms: at.parse().map_err(|_| bad_cursor())?,
        player_key: key.to_owned(),
        player_name: String::new(),
    })
}

/// History cursor: the last score of the previous page (time, session id).
pub fn encode_history_cursor(c: &HistoryCursor) -> String {
    URL_SAFE_NO_PAD.encode(format!("h1:{}:{}", c.achieved_at.0, c.session_id))
}

pub fn decode_history_cursor(raw: &str) -> Result<HistoryCursor, DomainError> {
    let text = decode(raw)?;
    let mut parts = text.splitn(3, ':');
    let (Some("h1"), Some(at), Some(id)) = (parts.next(), parts.next(), parts.next()) else {
        return Err(bad_cursor());
    };
    Ok(HistoryCursor {
        achieved_at: Timestamp(at.parse().map_err(|_| bad_cursor())?),
        session_id: SessionId::parse(id).map_err(|_| bad_cursor())?,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn limits_default_and_are_bounded() {
        assert_eq!(Limit::parse(None).unwrap().get(), 10);
        assert_eq!(Limit::parse(Some(100)).unwrap().get(), 100);
        assert!(Limit::parse(Some(0)).is_err());
        assert!(Limit::parse(Some(101)).is_err());
        assert!(Limit::parse(Some(-5)).is_err());
    }

    #[test]
    fn cursors_round_trip_and_garbage_is_refused() {
        let s = Standing {
            score: 120,
            achieved_at_ms: 1_800_000_000_000,
            player_key: "al:ice".into(),
            player_name: String::new(),
        };
        assert_eq!(decode_board_cursor(&encode_board_cursor(&s)).unwrap(), s);
        let h = HistoryCursor {
            achieved_at: Timestamp(5),
            session_id: SessionId::random(),
        };
        assert_eq!(
            decode_history_cursor(&encode_history_cursor(&h)).unwrap(),
            h
        );
        for bad in ["", "!!!", "YjE6eA", &encode_history_cursor(&h)] {
            assert!(decode_board_cursor(bad).is_err(), "{bad}");
        }
        assert!(decode_history_cursor(&encode_board_cursor(&s)).is_err());
    }
}
