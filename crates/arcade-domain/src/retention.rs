//! How long replays and histories are kept: older scores lose their replay (the score, its
//! bests and ranks stay), and older scores that are no board's best are deleted, so a player's
//! history ends there.

use std::time::Duration;

use crate::time::Timestamp;

/// The retention settings; either may be unset (kept forever).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Retention {
    replays: Option<Duration>,
    history: Option<Duration>,
}

/// Retention settings that cannot be applied.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RetentionError {
    #[error(
        "a retention of zero would remove {0} as soon as they are stored; leave it unset to keep them"
    )]
    Zero(&'static str),
    #[error(
        "the history retention is shorter than the replay retention: scores would go before \
         their replays; make the history retention at least as long"
    )]
    HistoryBeforeReplays {
        replays: Duration,
        history: Duration,
    },
}

impl Retention {
    /// Keep replays for `replays` and scores for `history`. Refuses a zero duration, and a
    /// history shorter than the replays (the replay retention would then only ever reach the
    /// boards' bests, which is not what "keep replays N days" reads as).
    pub fn new(
        replays: Option<Duration>,
        history: Option<Duration>,
    ) -> Result<Self, RetentionError> {
        if replays.is_some_and(|d| d.is_zero()) {
            return Err(RetentionError::Zero("replays"));
        }
        if history.is_some_and(|d| d.is_zero()) {
            return Err(RetentionError::Zero("scores"));
        }
        if let (Some(replays), Some(history)) = (replays, history)
            && history < replays
        {
            return Err(RetentionError::HistoryBeforeReplays { replays, history });
        }
        Ok(Self { replays, history })
    }

    /// Whether anything is ever removed.
    pub fn is_set(&self) -> bool {
        self.replays.is_some() || self.history.is_some()
    }

    /// Scores achieved before this lose their replay, as of `now`.
    pub fn replays_before(&self, now: Timestamp) -> Option<Timestamp> {
        self.replays.map(|d| now.minus(d))
    }

    /// Scores achieved before this leave the histories, as of `now`.
    pub fn history_before(&self, now: Timestamp) -> Option<Timestamp> {
        self.history.map(|d| now.minus(d))
    }
}

/// What one round of the retention removed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct RetentionReport {
    /// Replays removed (their scores stay).
    pub replays: u64,
    /// Scores deleted from the histories.
    pub scores: u64,
}

#[cfg(test)]
mod tests {
    use super::*;

    const DAY: Duration = Duration::from_secs(86_400);

    #[test]
    fn zero_and_a_history_shorter_than_the_replays_are_refused() {
        assert_eq!(
            Retention::new(Some(Duration::ZERO), None),
            Err(RetentionError::Zero("replays"))
        );
        assert_eq!(
            Retention::new(None, Some(Duration::ZERO)),
            Err(RetentionError::Zero("scores"))
        );
        assert!(matches!(
            Retention::new(Some(90 * DAY), Some(30 * DAY)),
            Err(RetentionError::HistoryBeforeReplays { .. })
        ));
        let r = Retention::new(Some(90 * DAY), Some(90 * DAY)).unwrap();
        assert_eq!(
            r.replays_before(Timestamp(91 * 86_400_000)),
            Some(Timestamp(86_400_000))
        );
        assert!(!Retention::default().is_set());
    }
}
