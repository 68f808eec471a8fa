//! Game sessions: what the server knows about a game in progress, how recorded inputs are
//! accepted (in order, idempotently, no faster than the wall clock allows) and how a finished
//! session is replayed into a verified score.

use std::collections::BTreeMap;
use std::fmt;
use std::time::Duration;

use arcade_games::{Game, Input, Outcome};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::error::{DomainError, Rejection};
use crate::time::{Period, Timestamp};

/// A session's id: a random UUID (v4), unguessable so nobody can post to another's game.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(transparent)]
pub struct SessionId(pub Uuid);

impl SessionId {
    pub fn random() -> Self {
        Self(Uuid::new_v4())
    }

    pub fn parse(raw: &str) -> Result<Self, DomainError> {
        Uuid::try_parse(raw).map(Self).map_err(|_| {
            DomainError::InvalidSessionId(format!(
                "'{raw}' is not a session id: session ids are UUIDs such as 67e55044-10b1-426f-9247-bb680e5fe0c8"
            ))
        })
    }
}

impl fmt::Display for SessionId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}

/// Limits on live play, from configuration.
#[derive(Debug, Clone, Copy)]
pub struct PlayRules {
    /// How long a session may run before it expires.
    pub session_ttl: Duration,
    /// Extra speed tolerated over the game's tick rate, in percent (browsers' clocks drift and
    /// frames bunch up after a stall).
    pub tick_rate_slack_percent: u32,
    /// Extra ticks tolerated at any moment, as time (covers request latency and clock skew).
    pub tick_slack: Duration,
    /// How long an expired or finished session is kept so that late calls get 410 or the same
    /// result rather than 404.
    pub retention: Duration,
}

impl Default for PlayRules {
    fn default() -> Self {
        Self {
            session_ttl: Duration::from_secs(3600),
            tick_rate_slack_percent: 10,
            tick_slack: Duration::from_secs(3),
            retention: Duration::from_secs(3600),
        }
    }
}

impl PlayRules {
    /// The most ticks a session of `game` can honestly have simulated after `elapsed_ms`.
    pub fn allowed_ticks(&self, game: &dyn Game, elapsed_ms: u64) -> u32 {
        let hz = u64::from(game.tick_hz());
        let paced = elapsed_ms * hz * (100 + u64::from(self.tick_rate_slack_percent)) / 100_000;
        let slack = self.tick_slack.as_millis() as u64 * hz / 1000;
        u32::try_from(paced + slack).unwrap_or(u32::MAX)
    }
}

/// A batch of inputs sent by a heartbeat or a finish. `offset` is how many inputs the client
/// believes the server already has, so a retried request is recognised instead of duplicated.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct InputBatch {
    pub offset: usize,
    pub inputs: Vec<Input>,
    /// Ticks the client has simulated so far.
    pub tick: u32,
    /// The score the client shows; a hint used only to detect mismatches.
    pub score: Option<u32>,
}

/// Ranks of the player's best in each period's board, after a finish (0: not on that board).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct PeriodRanks {
    pub all: u64,
    pub day: u64,
    pub week: u64,
}

impl PeriodRanks {
    pub fn set(&mut self, period: Period, rank: u64) {
        match period {
            Period::All => self.all = rank,
            Period::Day => self.day = rank,
            Period::Week => self.week = rank,
        }
    }
}

/// What a successful finish tells the player. Stored with the session so that repeating the
/// finish returns exactly the same answer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FinishReceipt {
    pub session_id: SessionId,
    pub game: String,
    pub player: String,
    pub score: u32,
    pub ticks: u32,
    pub game_over: bool,
    pub stats: BTreeMap<String, u32>,
    pub achieved_at: Timestamp,
    pub ranks: PeriodRanks,
    pub personal_best: u32,
    pub new_personal_best: bool,
}

/// How a session ended.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "outcome", rename_all = "snake_case")]
pub enum FinishState {
    Accepted(FinishReceipt),
    Rejected(Rejection),
}

/// A game in progress (or just ended, kept for `retention`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Session {
    pub id: SessionId,
    pub game: String,
    pub player_key: String,
    pub player_name: String,
    pub seed: u32,
    pub rules_version: u32,
    pub started_at: Timestamp,
    pub expires_at: Timestamp,
    pub inputs: Vec<Input>,
    pub tick: u32,
    pub reported_score: Option<u32>,
    pub finish: Option<FinishState>,
}

impl Session {
    #[allow(clippy::too_many_arguments)]
    pub fn start(
        id: SessionId,
        game: &dyn Game,
        player_key: &str,
        player_name: &str,
        seed: u32,
        now: Timestamp,
        rules: &PlayRules,
    ) -> Self {
        Self {
            id,
            game: game.id().to_owned(),
            player_key: player_key.to_owned(),
            player_name: player_name.to_owned(),
            seed,
            rules_version: game.rules_version(),
            started_at: now,
            expires_at: now.plus(rules.session_ttl),
            inputs: Vec::new(),
            tick: 0,
            reported_score: None,
            finish: None,
        }
    }

    pub fn is_expired(&self, now: Timestamp) -> bool {
        now >= self.expires_at
    }

    /// When the store may forget this session entirely.
    pub fn forget_at(&self, rules: &PlayRules) -> Timestamp {
        self.expires_at.plus(rules.retention)
    }

    pub fn is_active(&self, now: Timestamp) -> bool {
        self.finish.is_none() && !self.is_expired(now)
    }

    /// Accept a batch of inputs: in order, idempotent for a retried batch, and no more ticks
    /// than the wall clock allows.
    pub fn record(
        &mut self,
        game: &dyn Game,
        batch: &InputBatch,
        now: Timestamp,
        rules: &PlayRules,
    ) -> Result<(), DomainError> {
        if self.finish.is_some() {
            return Err(DomainError::SessionFinished(self.id.to_string()));
        }
        if self.is_expired(now) {
            return Err(DomainError::SessionExpired(self.id.to_string()));
        }
        let have = self.inputs.len();
        if batch.offset > have {
            return Err(DomainError::InputGap {
                expected: have,
                got: batch.offset,
            });
        }
        // The part of the batch the server already has must be identical to what it has.
        let overlap = (have - batch.offset).min(batch.inputs.len());
        if let Some(i) = (0..overlap).find(|&i| batch.inputs[i] != self.inputs[batch.offset + i]) {
            return Err(DomainError::InputConflict {
                index: batch.offset + i,
            });
        }
        let fresh = &batch.inputs[overlap..];
        let reject = |rejection: Rejection| DomainError::Rejected {
            game: self.game.clone(),
            rejection,
        };
        if self.inputs.len() + fresh.len() > game.max_inputs() {
            return Err(reject(Rejection::invalid_inputs(
                &arcade_games::ReplayError::TooManyInputs {
                    count: self.inputs.len() + fresh.len(),
                    max: game.max_inputs(),
                },
            )));
        }
        let last_tick = self.inputs.last().map(|i| i.tick);
        game.check_inputs(last_tick, fresh, have)
            .map_err(|e| reject(Rejection::invalid_inputs(&e)))?;
        // A retried older heartbeat may carry a smaller tick: keep the furthest seen.
        let tick = batch.tick.max(self.tick);
        if let Some(last) = fresh.last().or(self.inputs.last())
            && tick < last.tick
        {
            return Err(DomainError::TickBehindInputs {
                claimed: tick,
                last_input: last.tick,
            });
        }
        if tick > game.max_ticks() {
            return Err(reject(Rejection::invalid_inputs(
                &arcade_games::ReplayError::TooManyTicks {
                    ticks: tick,
                    max: game.max_ticks(),
                },
            )));
        }
        let allowed = rules.allowed_ticks(game, now.millis_since(self.started_at));
        if tick > allowed {
            return Err(reject(Rejection::too_fast(tick, allowed)));
        }
        self.inputs.extend_from_slice(fresh);
        self.tick = tick;
        if batch.score.is_some() {
            self.reported_score = batch.score;
        }
        Ok(())
    }

    /// Replay the recorded inputs; the replayed score is the score. A reported score that
    /// disagrees is a rejection.
    pub fn replay(&self, game: &dyn Game) -> Result<Outcome, Rejection> {
        let outcome = game
            .replay(&|_| self.seed, &self.inputs, self.tick)
            .map_err(|e| Rejection::invalid_inputs(&e))?;
        match self.reported_score {
            Some(reported) if reported != outcome.score => {
                Err(Rejection::score_mismatch(reported, outcome.score))
            }
            _ => Ok(outcome),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use arcade_games::egg_catcher::EGG_CATCHER;

    #[test]
    fn each_period_rank_lands_in_its_own_field() {
        let mut ranks = PeriodRanks::default();
        ranks.set(Period::Week, 4);
        ranks.set(Period::All, 7);
        ranks.set(Period::Day, 2);
        assert_eq!(
            ranks,
            PeriodRanks {
                all: 7,
                day: 2,
                week: 4
            }
        );
    }

    const T0: Timestamp = Timestamp(1_800_000_000_000);

    fn session() -> Session {
        Session::start(
            SessionId::random(),
            &EGG_CATCHER,
            "alice",
            "Alice",
            42,
            T0,
            &PlayRules::default(),
        )
    }

    fn batch(offset: usize, inputs: &[(u32, u32)], tick: u32) -> InputBatch {
        InputBatch {
            offset,
            inputs: inputs
                .iter()
                .map(|&(tick, value)| Input { tick, value })
                .collect(),
            tick,
            score: None,
        }
    }

    fn at_secs(s: u64) -> Timestamp {
        T0.plus(Duration::from_secs(s))
    }

    #[test]
    fn batches_append_in_order() {
        let mut s = session();
        let r = PlayRules::default();
        s.record(
            &EGG_CATCHER,
            &batch(0, &[(5, 100), (60, 200)], 120),
            at_secs(2),
            &r,
        )
        .unwrap();
        s.record(&EGG_CATCHER, &batch(2, &[(130, 300)], 240), at_secs(4), &r)
            .unwrap();
        assert_eq!(s.inputs.len(), 3);
        assert_eq!(s.tick, 240);
    }

    #[test]
    fn a_retried_batch_is_recognised_not_duplicated() {
        let mut s = session();
        let r = PlayRules::default();
        let b = batch(0, &[(5, 100), (60, 200)], 120);
        s.record(&EGG_CATCHER, &b, at_secs(2), &r).unwrap();
        s.record(&EGG_CATCHER, &b, at_secs(3), &r).unwrap();
        assert_eq!(s.inputs.len(), 2);
        // Overlapping batch with one new input at the end.
        s.record(
            &EGG_CATCHER,
            &batch(1, &[(60, 200), (70, 1)], 130),
            at_secs(3),
            &r,
        )
        .unwrap();
        assert_eq!(s.inputs.len(), 3);
    }

    #[test]
    fn a_gap_or_a_changed_input_is_refused() {
        let mut s = session();
        let r = PlayRules::default();
        s.record(&EGG_CATCHER, &batch(0, &[(5, 100)], 10), at_secs(1), &r)
            .unwrap();
        assert!(matches!(
            s.record(&EGG_CATCHER, &batch(3, &[(50, 1)], 60), at_secs(1), &r),
            Err(DomainError::InputGap {
                expected: 1,
                got: 3
            })
        ));
        assert!(matches!(
            s.record(&EGG_CATCHER, &batch(0, &[(5, 999)], 60), at_secs(1), &r),
            Err(DomainError::InputConflict { index: 0 })
        ));
    }

    #[test]
    fn more_ticks_than_the_clock_allows_is_rejected() {
        let mut s = session();
        let r = PlayRules::default();
        // 10 s at 60 Hz + 10% + 3 s slack = 660 + 180 = 840 ticks.
        assert_eq!(r.allowed_ticks(&EGG_CATCHER, 10_000), 840);
        s.record(&EGG_CATCHER, &batch(0, &[], 840), at_secs(10), &r)
            .unwrap();
        let err = s
            .record(&EGG_CATCHER, &batch(0, &[], 841), at_secs(10), &r)
            .unwrap_err();
        match err {
            DomainError::Rejected { rejection, .. } => assert_eq!(rejection.reason, "too_fast"),
            other => panic!("unexpected {other:?}"),
        }
    }

    #[test]
    fn out_of_order_inputs_are_rejected_with_a_reason() {
        let mut s = session();
        let r = PlayRules::default();
        s.record(&EGG_CATCHER, &batch(0, &[(50, 100)], 60), at_secs(2), &r)
            .unwrap();
        let err = s
            .record(&EGG_CATCHER, &batch(1, &[(40, 100)], 60), at_secs(2), &r)
            .unwrap_err();
        match err {
            DomainError::Rejected { rejection, .. } => {
                assert_eq!(rejection.reason, "input_out_of_order")
            }
            other => panic!("unexpected {other:?}"),
        }
    }

    #[test]
    fn expired_and_finished_sessions_take_no_inputs() {
        let mut s = session();
        let r = PlayRules::default();
        assert!(matches!(
            s.record(&EGG_CATCHER, &batch(0, &[], 1), at_secs(3600), &r),
            Err(DomainError::SessionExpired(_))
        ));
        s.finish = Some(FinishState::Rejected(Rejection::too_fast(1, 0)));
        assert!(matches!(
            s.record(&EGG_CATCHER, &batch(0, &[], 1), at_secs(1), &r),
            Err(DomainError::SessionFinished(_))
        ));
    }

    #[test]
    fn the_replayed_score_is_the_score_and_a_wrong_hint_is_a_mismatch() {
        let (inputs, outcome) = arcade_games::egg_catcher::bot::play(&|_| 42, 80, 20_000);
        let mut s = session();
        s.inputs = inputs;
        s.tick = outcome.ticks;
        assert_eq!(s.replay(&EGG_CATCHER).unwrap(), outcome);
        s.reported_score = Some(outcome.score + 10);
        assert_eq!(s.replay(&EGG_CATCHER).unwrap_err().reason, "score_mismatch");
        s.reported_score = Some(outcome.score);
        assert_eq!(s.replay(&EGG_CATCHER).unwrap().score, outcome.score);
    }
}
