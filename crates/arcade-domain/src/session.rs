//! Game sessions: what the server knows about a game in progress, how recorded inputs are
//! accepted (in order, idempotently, never before a tick already reported, with pauses
//! recorded within a budget, neither ahead of the wall clock nor behind it), how a game's
//! windows of randomness are revealed as it reaches them, and how a finished session is
//! replayed into a verified score.

use std::collections::BTreeMap;
use std::fmt;
use std::time::Duration;

use arcade_games::{Game, Input, Outcome, WINDOW_TICKS};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::error::{BackendError, DomainError, Rejection};
use crate::keys::WindowKey;
use crate::ticket::Ticket;
use crate::time::{Period, Timestamp};

/// Most pauses one session may record.
pub const MAX_PAUSES: usize = 500;

/// The flag of a finish that came later than its last ticks can have been played: its pace
/// could not be checked.
pub const FLAG_LATE_FINISH: &str = "late_finish";

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
    /// Extra ticks tolerated at any moment, as time (covers request latency and clock skew),
    /// ahead of the wall clock and behind it.
    pub tick_slack: Duration,
    /// How long a client may take from the start to its first tick (the page's 3-2-1
    /// countdown and the start's answer reaching it): game time may lag the wall clock by
    /// this much more.
    pub start_delay: Duration,
    /// How much time a session may spend in recorded pauses, all told.
    pub pause_budget: Duration,
    /// How close to the end of its last window a session must be, both by its ticks and by
    /// the wall clock, for a heartbeat to reveal the next window. Longer than the heartbeat
    /// interval, so a client on time always has the next window before it needs it.
    pub reveal_lead: Duration,
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
            start_delay: Duration::from_secs(3),
            pause_budget: Duration::from_secs(600),
            reveal_lead: Duration::from_secs(4),
            retention: Duration::from_secs(3600),
        }
    }
}

/// `ms` of `game`'s clock in ticks, rounded down.
fn ticks_in(game: &dyn Game, ms: u64) -> u64 {
    ms * u64::from(game.tick_hz()) / 1000
}

impl PlayRules {
    /// The most ticks a session of `game` can honestly have simulated after `played_ms` of
    /// wall clock outside its pauses.
    pub fn allowed_ticks(&self, game: &dyn Game, played_ms: u64) -> u32 {
        let hz = u64::from(game.tick_hz());
        let paced = played_ms * hz * (100 + u64::from(self.tick_rate_slack_percent)) / 100_000;
        let slack = ticks_in(game, self.tick_slack.as_millis() as u64);
        u32::try_from(paced + slack).unwrap_or(u32::MAX)
    }

    /// The fewest ticks a session of `game` can have simulated after `played_ms` of wall
    /// clock outside its pauses: game time may lag the clock by the start's delay and the
    /// slack, no more.
    pub fn least_ticks(&self, game: &dyn Game, played_ms: u64) -> u32 {
        let lag = (self.start_delay + self.tick_slack).as_millis() as u64;
        u32::try_from(ticks_in(game, played_ms.saturating_sub(lag))).unwrap_or(u32::MAX)
    }

    /// [`PlayRules::reveal_lead`] in `game`'s ticks.
    pub fn reveal_ticks(&self, game: &dyn Game) -> u32 {
        u32::try_from(ticks_in(game, self.reveal_lead.as_millis() as u64)).unwrap_or(u32::MAX)
    }
}

/// A pause the client recorded: at `tick` (ticks played so far), the game stood still for
/// `ms` milliseconds (a pause by the player, the tab hidden, or the game's clock held up).
/// JSON: `[tick, ms]`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(from = "(u32, u32)", into = "(u32, u32)")]
pub struct Pause {
    pub tick: u32,
    pub ms: u32,
}

impl From<(u32, u32)> for Pause {
    fn from((tick, ms): (u32, u32)) -> Self {
        Self { tick, ms }
    }
}

impl From<Pause> for (u32, u32) {
    fn from(p: Pause) -> Self {
        (p.tick, p.ms)
    }
}

/// One window of a game's randomness: its number and its seed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Window {
    pub index: u32,
    pub seed: u32,
}

/// Which request a batch came with: a heartbeat's lateness is refused, a finish's only
/// flagged (a finish may be retried long after the game ended).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Arrival {
    Heartbeat,
    Finish,
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
    /// Every pause the client recorded so far, in order (a retried older batch may hold fewer
    /// than the server has).
    #[serde(default)]
    pub pauses: Vec<Pause>,
}

impl InputBatch {
    /// The positions of the session's inputs this batch covers: what the session must hold
    /// of them to check a retried batch against.
    pub fn held(&self) -> std::ops::Range<usize> {
        self.offset..self.offset.saturating_add(self.inputs.len())
    }
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

fn one() -> u32 {
    1
}

/// A game in progress (or just ended, kept for `retention`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Session {
    pub id: SessionId,
    pub game: String,
    pub player_key: String,
    pub player_name: String,
    pub rules_version: u32,
    pub started_at: Timestamp,
    pub expires_at: Timestamp,
    /// How many inputs the session holds. The inputs themselves are kept apart and only ever
    /// appended to, a batch at a time, so that recording a batch costs the batch, not the
    /// game so far.
    #[serde(default)]
    pub input_count: usize,
    /// The last of them.
    #[serde(default)]
    pub last_input: Option<Input>,
    /// Ticks the client reported played so far: inputs before this tick are final.
    pub tick: u32,
    pub reported_score: Option<u32>,
    /// Windows of randomness revealed to the client (window 0 at the start).
    #[serde(default = "one")]
    pub windows: u32,
    #[serde(default)]
    pub pauses: Vec<Pause>,
    /// What the server noticed while the game was played that a review should see (beside
    /// the replay's own flags).
    #[serde(default)]
    pub flags: Vec<String>,
    pub finish: Option<FinishState>,
}

impl Session {
    pub fn start(
        id: SessionId,
        game: &dyn Game,
        player_key: &str,
        player_name: &str,
        now: Timestamp,
        rules: &PlayRules,
    ) -> Self {
        Self {
            id,
            game: game.id().to_owned(),
            player_key: player_key.to_owned(),
            player_name: player_name.to_owned(),
            rules_version: game.rules_version(),
            started_at: now,
            expires_at: now.plus(rules.session_ttl),
            input_count: 0,
            last_input: None,
            tick: 0,
            reported_score: None,
            windows: 1,
            pauses: Vec::new(),
            flags: Vec::new(),
            finish: None,
        }
    }

    /// Wall-clock time spent in recorded pauses.
    pub fn paused_ms(&self) -> u64 {
        self.pauses.iter().map(|p| u64::from(p.ms)).sum()
    }

    /// Wall-clock time since the start outside recorded pauses.
    pub fn played_ms(&self, now: Timestamp) -> u64 {
        now.millis_since(self.started_at)
            .saturating_sub(self.paused_ms())
    }

    /// The last window revealed, with its seed.
    pub fn last_window(&self, key: &WindowKey) -> Window {
        let index = self.windows.saturating_sub(1);
        Window {
            index,
            seed: key.seed(self.id, index),
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

    /// Accept a batch of inputs: in order and idempotent for a retried batch; nothing before
    /// the ticks already reported (those are final); pauses in order and within the budget;
    /// no tick beyond the windows revealed; neither more ticks than the wall clock allows nor,
    /// outside recorded pauses, fewer (for a finish, fewer is only flagged). `held` is what the
    /// session holds of [`InputBatch::held`] (its inputs from the batch's offset on, as many as
    /// the batch has). Returns the inputs to append (the batch's new ones). A refused batch
    /// changes nothing.
    pub fn record<'b>(
        &mut self,
        game: &dyn Game,
        batch: &'b InputBatch,
        held: &[Input],
        now: Timestamp,
        rules: &PlayRules,
        arrival: Arrival,
    ) -> Result<&'b [Input], DomainError> {
        if self.finish.is_some() {
            return Err(DomainError::SessionFinished(self.id.to_string()));
        }
        if self.is_expired(now) {
            return Err(DomainError::SessionExpired(self.id.to_string()));
        }
        let have = self.input_count;
        if batch.offset > have {
            return Err(DomainError::InputGap {
                expected: have,
                got: batch.offset,
            });
        }
        // The part of the batch the server already has must be identical to what it has.
        let overlap = (have - batch.offset).min(batch.inputs.len());
        if held.len() < overlap {
            return Err(BackendError::defect(
                "sessions",
                format!(
                    "the store gave {} of the {overlap} inputs a batch overlaps",
                    held.len()
                ),
            )
            .into());
        }
        if let Some(i) = (0..overlap).find(|&i| batch.inputs[i] != held[i]) {
            return Err(DomainError::InputConflict {
                index: batch.offset + i,
            });
        }
        let fresh = &batch.inputs[overlap..];
        let reject = |rejection: Rejection| DomainError::Rejected {
            game: self.game.clone(),
            rejection,
        };
        if have + fresh.len() > game.max_inputs() {
            return Err(reject(Rejection::invalid_inputs(
                &arcade_games::ReplayError::TooManyInputs {
                    count: have + fresh.len(),
                    max: game.max_inputs(),
                },
            )));
        }
        // Once the server heard that ticks were played, inputs for them are final: adding one
        // later would let a client replay the past in slow motion, or rewrite it.
        if let Some((i, late)) = fresh.iter().enumerate().find(|(_, i)| i.tick < self.tick) {
            return Err(reject(Rejection::late_input(
                have + i,
                late.tick,
                self.tick,
            )));
        }
        let last_tick = self.last_input.map(|i| i.tick);
        game.check_inputs(last_tick, fresh, have)
            .map_err(|e| reject(Rejection::invalid_inputs(&e)))?;
        // A retried older heartbeat may carry a smaller tick: keep the furthest seen.
        let tick = batch.tick.max(self.tick);
        if let Some(last) = fresh.last().or(self.last_input.as_ref())
            && tick < last.tick
        {
            return Err(DomainError::TickBehindInputs {
                claimed: tick,
                last_input: last.tick,
            });
        }
        let new_pauses = self.new_pauses(&batch.pauses, tick).map_err(reject)?;
        let paused_ms = self.paused_ms() + new_pauses.iter().map(|p| u64::from(p.ms)).sum::<u64>();
        let budget = rules.pause_budget.as_millis() as u64;
        if paused_ms > budget {
            return Err(reject(Rejection::pause_budget_exceeded(paused_ms, budget)));
        }
        if tick > game.max_ticks() {
            return Err(reject(Rejection::invalid_inputs(
                &arcade_games::ReplayError::TooManyTicks {
                    ticks: tick,
                    max: game.max_ticks(),
                },
            )));
        }
        let revealed = self.windows.saturating_mul(WINDOW_TICKS);
        if tick > revealed {
            return Err(reject(Rejection::window_not_revealed(tick, self.windows)));
        }
        let played_ms = now.millis_since(self.started_at).saturating_sub(paused_ms);
        let allowed = rules.allowed_ticks(game, played_ms);
        if tick > allowed {
            return Err(reject(Rejection::too_fast(tick, allowed)));
        }
        // Only a batch that plays on is judged for lateness: a retried one says nothing new
        // about when its ticks were played.
        let least = rules.least_ticks(game, played_ms);
        let late = tick > self.tick && tick < least;
        if late && arrival == Arrival::Heartbeat {
            return Err(reject(Rejection::too_slow(tick, least, paused_ms)));
        }
        if late && !self.flags.iter().any(|f| f == FLAG_LATE_FINISH) {
            self.flags.push(FLAG_LATE_FINISH.to_owned());
        }
        self.input_count += fresh.len();
        if let Some(&last) = fresh.last() {
            self.last_input = Some(last);
        }
        self.pauses.extend_from_slice(new_pauses);
        self.tick = tick;
        if batch.score.is_some() {
            self.reported_score = batch.score;
        }
        Ok(fresh)
    }

    /// The session a ticket is of, as it started.
    pub fn from_ticket(ticket: &Ticket) -> Self {
        Self {
            id: ticket.session_id,
            game: ticket.game.clone(),
            player_key: ticket.player_key.clone(),
            player_name: ticket.player_name.clone(),
            rules_version: ticket.rules_version,
            started_at: ticket.started_at,
            expires_at: ticket.expires_at,
            input_count: 0,
            last_input: None,
            tick: 0,
            reported_score: None,
            windows: 1,
            pauses: Vec::new(),
            flags: Vec::new(),
            finish: None,
        }
    }

    /// A session the store lost, rebuilt from its `ticket` and a batch of every input and
    /// pause the client recorded (offset 0), judged by the same rules as a batch of a session
    /// the store kept, against the ticket's start: the windows that the batch's ticks reach
    /// count as revealed (a client can only have played them knowing their seeds, and its
    /// ticks are held to the clock). Returns the session and its inputs.
    pub fn resume(
        ticket: &Ticket,
        game: &dyn Game,
        batch: &InputBatch,
        now: Timestamp,
        rules: &PlayRules,
        arrival: Arrival,
    ) -> Result<(Self, Vec<Input>), DomainError> {
        let mut session = Self::from_ticket(ticket);
        if session.is_expired(now) {
            return Err(DomainError::SessionExpired(session.id.to_string()));
        }
        if batch.offset != 0 {
            return Err(DomainError::SessionLost(session.id.to_string()));
        }
        session.windows = batch.tick.div_ceil(WINDOW_TICKS).max(1);
        let inputs = session
            .record(game, batch, &[], now, rules, arrival)?
            .to_vec();
        Ok((session, inputs))
    }

    /// The pauses of `sent` (every pause the client recorded) that the server does not have
    /// yet, checked: the ones it has unchanged, new ones in order, none before a tick already
    /// reported nor after `tick`, each at least a millisecond, at most [`MAX_PAUSES`] in all.
    fn new_pauses<'a>(&self, sent: &'a [Pause], tick: u32) -> Result<&'a [Pause], Rejection> {
        let have = self.pauses.len();
        let common = have.min(sent.len());
        if let Some(i) = (0..common).find(|&i| sent[i] != self.pauses[i]) {
            return Err(Rejection::pause_invalid(format!(
                "pause {i} differs from the one already recorded for this session"
            )));
        }
        let fresh = &sent[common..];
        if have + fresh.len() > MAX_PAUSES {
            return Err(Rejection::pause_invalid(format!(
                "{} pauses, more than the {MAX_PAUSES} a session may record",
                have + fresh.len()
            )));
        }
        let mut prev = self
            .pauses
            .last()
            .map_or(self.tick, |p| p.tick.max(self.tick));
        for (i, p) in fresh.iter().enumerate() {
            let index = have + i;
            if p.tick < prev || p.tick > tick || p.ms == 0 {
                return Err(Rejection::pause_invalid(format!(
                    "pause {index} at tick {} for {} ms is not after the ticks already reported \
                     ({prev}) and before the session's tick ({tick}), or lasts no time",
                    p.tick, p.ms
                )));
            }
            prev = p.tick;
        }
        Ok(fresh)
    }

    /// Reveal the next window if the session is close enough to it, both by its ticks and by
    /// the wall clock, and on time: a client on time always gets the next window before it
    /// needs it, and never more than one window ahead. Returns whether it did.
    pub fn reveal_next(&mut self, game: &dyn Game, now: Timestamp, rules: &PlayRules) -> bool {
        let boundary = u64::from(self.windows) * u64::from(WINDOW_TICKS);
        if self.finish.is_some() || boundary >= u64::from(game.max_ticks()) {
            return false;
        }
        let played_ms = self.played_ms(now);
        let lead = u64::from(rules.reveal_ticks(game));
        let near = u64::from(self.tick) + lead >= boundary;
        let on_clock = ticks_in(game, played_ms) + lead >= boundary;
        let on_time = self.tick >= rules.least_ticks(game, played_ms);
        if near && on_clock && on_time {
            self.windows += 1;
        }
        near && on_clock && on_time
    }

    /// Replay the session's `inputs` (all of them) with the windows' seeds; the replayed score is the score. A
    /// reported score that disagrees is a rejection. The outcome's flags are the replay's and
    /// the session's.
    pub fn replay(
        &self,
        game: &dyn Game,
        key: &WindowKey,
        inputs: &[Input],
    ) -> Result<Outcome, Rejection> {
        let mut outcome = game
            .replay(&|k| key.seed(self.id, k), inputs, self.tick)
            .map_err(|e| Rejection::invalid_inputs(&e))?;
        outcome.flags.extend(self.flags.iter().cloned());
        match self.reported_score {
            Some(reported) if reported != outcome.score => {
                Err(Rejection::score_mismatch(reported, outcome.score))
            }
            _ => Ok(outcome),
        }
    }
}

/// The refusals of live play, beside the replay's own (`Rejection::invalid_inputs`).
impl Rejection {
    fn late_input(index: usize, tick: u32, reported: u32) -> Self {
        Self {
            reason: "late_input".to_owned(),
            message: format!(
                "input {index} is at tick {tick}, but the session already reported {reported} \
                 ticks played: inputs before tick {reported} are final"
            ),
        }
    }

    fn window_not_revealed(tick: u32, windows: u32) -> Self {
        Self {
            reason: "window_not_revealed".to_owned(),
            message: format!(
                "the session claims {tick} ticks, but only {windows} window(s) of the game \
                 ({} ticks) were revealed to it: a game cannot be played past what it was given",
                u64::from(windows) * u64::from(WINDOW_TICKS)
            ),
        }
    }

    fn too_slow(claimed: u32, least: u32, paused_ms: u64) -> Self {
        Self {
            reason: "too_slow".to_owned(),
            message: format!(
                "the session claims {claimed} ticks, but the time since it started, less \
                 {paused_ms} ms of recorded pauses, means at least {least}: a game may not fall \
                 behind the clock outside recorded pauses"
            ),
        }
    }

    fn pause_budget_exceeded(paused_ms: u64, budget_ms: u64) -> Self {
        Self {
            reason: "pause_budget_exceeded".to_owned(),
            message: format!(
                "the session's pauses add up to {paused_ms} ms, more than the {budget_ms} ms a \
                 game may be paused"
            ),
        }
    }

    fn pause_invalid(message: String) -> Self {
        Self {
            reason: "pause_invalid".to_owned(),
            message,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::keys::SessionSecret;
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
    const HEARTBEAT: Arrival = Arrival::Heartbeat;

    /// A session with its inputs beside it, as a store keeps them.
    struct Held {
        session: Session,
        inputs: Vec<Input>,
    }

    impl std::ops::Deref for Held {
        type Target = Session;
        fn deref(&self) -> &Session {
            &self.session
        }
    }

    impl std::ops::DerefMut for Held {
        fn deref_mut(&mut self) -> &mut Session {
            &mut self.session
        }
    }

    impl Held {
        /// [`Session::record`], handed what the session holds of the batch and appending what
        /// it returns.
        fn record(
            &mut self,
            game: &dyn Game,
            batch: &InputBatch,
            now: Timestamp,
            rules: &PlayRules,
            arrival: Arrival,
        ) -> Result<(), DomainError> {
            let from = batch.offset.min(self.inputs.len());
            let to = batch.held().end.min(self.inputs.len());
            let fresh =
                self.session
                    .record(game, batch, &self.inputs[from..to], now, rules, arrival)?;
            self.inputs.extend_from_slice(fresh);
            assert_eq!(self.inputs.len(), self.session.input_count);
            assert_eq!(self.inputs.last(), self.session.last_input.as_ref());
            Ok(())
        }
    }

    fn session() -> Held {
        Held {
            session: Session::start(
                SessionId::random(),
                &EGG_CATCHER,
                "alice",
                "Alice",
                T0,
                &PlayRules::default(),
            ),
            inputs: Vec::new(),
        }
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
            pauses: Vec::new(),
        }
    }

    fn paused(mut b: InputBatch, pauses: &[(u32, u32)]) -> InputBatch {
        b.pauses = pauses.iter().map(|&p| Pause::from(p)).collect();
        b
    }

    fn at_secs(s: u64) -> Timestamp {
        T0.plus(Duration::from_secs(s))
    }

    /// The reason of a rejection, or what else came back.
    fn reason(r: Result<(), DomainError>) -> String {
        match r {
            Err(DomainError::Rejected { rejection, .. }) => rejection.reason,
            other => format!("not a rejection: {other:?}"),
        }
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
            HEARTBEAT,
        )
        .unwrap();
        s.record(
            &EGG_CATCHER,
            &batch(2, &[(130, 300)], 240),
            at_secs(4),
            &r,
            HEARTBEAT,
        )
        .unwrap();
        assert_eq!(s.inputs.len(), 3);
        assert_eq!(s.tick, 240);
    }

    #[test]
    fn a_retried_batch_is_recognised_not_duplicated() {
        let mut s = session();
        let r = PlayRules::default();
        let b = batch(0, &[(5, 100), (60, 200)], 120);
        s.record(&EGG_CATCHER, &b, at_secs(2), &r, HEARTBEAT)
            .unwrap();
        s.record(&EGG_CATCHER, &b, at_secs(3), &r, HEARTBEAT)
            .unwrap();
        assert_eq!(s.inputs.len(), 2);
        // Overlapping batch with one new input at the end.
        s.record(
            &EGG_CATCHER,
            &batch(1, &[(60, 200), (125, 1)], 130),
            at_secs(3),
            &r,
            HEARTBEAT,
        )
        .unwrap();
        assert_eq!(s.inputs.len(), 3);
    }

    #[test]
    fn a_gap_or_a_changed_input_is_refused() {
        let mut s = session();
        let r = PlayRules::default();
        s.record(
            &EGG_CATCHER,
            &batch(0, &[(5, 100)], 10),
            at_secs(1),
            &r,
            HEARTBEAT,
        )
        .unwrap();
        assert!(matches!(
            s.record(
                &EGG_CATCHER,
                &batch(3, &[(50, 1)], 60),
                at_secs(1),
                &r,
                HEARTBEAT
            ),
            Err(DomainError::InputGap {
                expected: 1,
                got: 3
            })
        ));
        assert!(matches!(
            s.record(
                &EGG_CATCHER,
                &batch(0, &[(5, 999)], 60),
                at_secs(1),
                &r,
                HEARTBEAT
            ),
            Err(DomainError::InputConflict { index: 0 })
        ));
    }

    #[test]
    fn inputs_before_a_tick_already_reported_are_final() {
        let mut s = session();
        let r = PlayRules::default();
        // Seven seconds in, 400 ticks played and no input.
        s.record(&EGG_CATCHER, &batch(0, &[], 400), at_secs(7), &r, HEARTBEAT)
            .unwrap();
        let rewrite = batch(0, &[(10, 1), (100, 2)], 450);
        assert_eq!(
            reason(s.record(&EGG_CATCHER, &rewrite, at_secs(8), &r, HEARTBEAT)),
            "late_input"
        );
        let err = s
            .record(&EGG_CATCHER, &rewrite, at_secs(8), &r, Arrival::Finish)
            .unwrap_err();
        assert!(
            err.to_string().contains("inputs before tick 400 are final"),
            "{err}"
        );
        assert!(s.inputs.is_empty() && s.tick == 400, "nothing changed");
        // At the reported tick itself it is not too late: that tick was not played yet.
        let on_time = batch(0, &[(400, 1), (420, 2)], 450);
        s.record(&EGG_CATCHER, &on_time, at_secs(8), &r, HEARTBEAT)
            .unwrap();
        // The same batch again is a retry, not an addition.
        s.record(&EGG_CATCHER, &on_time, at_secs(9), &r, HEARTBEAT)
            .unwrap();
        assert_eq!((s.inputs.len(), s.tick), (2, 450));
    }

    #[test]
    fn more_ticks_than_the_clock_allows_is_rejected() {
        let mut s = session();
        s.windows = 2;
        let r = PlayRules::default();
        // 10 s at 60 Hz + 10% + 3 s slack = 660 + 180 = 840 ticks.
        assert_eq!(r.allowed_ticks(&EGG_CATCHER, 10_000), 840);
        s.record(
            &EGG_CATCHER,
            &batch(0, &[], 840),
            at_secs(10),
            &r,
            HEARTBEAT,
        )
        .unwrap();
        assert_eq!(
            reason(s.record(
                &EGG_CATCHER,
                &batch(0, &[], 841),
                at_secs(10),
                &r,
                HEARTBEAT
            )),
            "too_fast"
        );
    }

    #[test]
    fn fewer_ticks_than_the_clock_needs_are_refused_unless_pauses_say_why() {
        let r = PlayRules::default();
        // 30 s less the start's 3 s and the slack's 3 s: at least 24 s of play, 1 440 ticks.
        assert_eq!(r.least_ticks(&EGG_CATCHER, 30_000), 1_440);
        let mut s = session();
        s.windows = 3;
        let slow = batch(0, &[], 1_200);
        assert_eq!(
            reason(s.record(&EGG_CATCHER, &slow, at_secs(30), &r, HEARTBEAT)),
            "too_slow"
        );
        // Ten seconds paused at tick 600 explain it.
        let explained = paused(slow.clone(), &[(600, 10_000)]);
        s.record(&EGG_CATCHER, &explained, at_secs(30), &r, HEARTBEAT)
            .unwrap();
        assert_eq!((s.tick, s.paused_ms()), (1_200, 10_000));
        // A heartbeat with no new tick is not judged: it says nothing new.
        s.record(&EGG_CATCHER, &explained, at_secs(60), &r, HEARTBEAT)
            .unwrap();
        // A late finish is taken, and flagged.
        let mut s = session();
        s.windows = 3;
        s.record(&EGG_CATCHER, &slow, at_secs(30), &r, Arrival::Finish)
            .unwrap();
        assert_eq!(s.flags, [FLAG_LATE_FINISH]);
        s.record(&EGG_CATCHER, &slow, at_secs(40), &r, Arrival::Finish)
            .unwrap();
        assert_eq!(s.flags, [FLAG_LATE_FINISH], "flagged once");
    }

    #[test]
    fn pauses_beyond_the_budget_are_refused() {
        let r = PlayRules::default();
        let mut s = session();
        let within = paused(batch(0, &[], 300), &[(100, 300_000), (200, 300_000)]);
        s.record(&EGG_CATCHER, &within, at_secs(606), &r, HEARTBEAT)
            .unwrap();
        let beyond = paused(
            batch(0, &[], 310),
            &[(100, 300_000), (200, 300_000), (300, 1)],
        );
        let refused = s.record(&EGG_CATCHER, &beyond, at_secs(607), &r, HEARTBEAT);
        assert_eq!(reason(refused), "pause_budget_exceeded");
        assert_eq!(s.pauses.len(), 2, "nothing changed");
    }

    #[test]
    fn a_changed_or_misplaced_pause_is_refused() {
        let r = PlayRules::default();
        let mut s = session();
        s.record(
            &EGG_CATCHER,
            &paused(batch(0, &[], 300), &[(120, 2_000)]),
            at_secs(8),
            &r,
            HEARTBEAT,
        )
        .unwrap();
        for pauses in [
            &[(120, 2_500)][..],               // changes a recorded pause
            &[(120, 2_000), (200, 1_000)][..], // before the tick already reported
            &[(120, 2_000), (400, 1_000)][..], // after the batch's tick
            &[(120, 2_000), (320, 0)][..],     // lasts no time
        ] {
            let b = paused(batch(0, &[], 350), pauses);
            assert_eq!(
                reason(s.record(&EGG_CATCHER, &b, at_secs(9), &r, HEARTBEAT)),
                "pause_invalid",
                "{pauses:?}"
            );
        }
        // A retried older batch with fewer pauses takes nothing away.
        s.record(&EGG_CATCHER, &batch(0, &[], 350), at_secs(9), &r, HEARTBEAT)
            .unwrap();
        assert_eq!(s.pauses, [Pause::from((120, 2_000))]);
        let many: Vec<(u32, u32)> = std::iter::once((120, 2_000))
            .chain((0..MAX_PAUSES as u32).map(|i| (350 + i, 1)))
            .collect();
        let b = paused(batch(0, &[], 500), &many);
        assert_eq!(
            reason(s.record(&EGG_CATCHER, &b, at_secs(10), &r, HEARTBEAT)),
            "pause_invalid"
        );
    }

    #[test]
    fn a_session_cannot_play_past_the_windows_revealed() {
        let r = PlayRules::default();
        let mut s = session();
        s.record(
            &EGG_CATCHER,
            &batch(0, &[], 600),
            at_secs(12),
            &r,
            HEARTBEAT,
        )
        .unwrap();
        let past = batch(0, &[], 601);
        let refused = s.record(&EGG_CATCHER, &past, at_secs(12), &r, HEARTBEAT);
        assert_eq!(reason(refused.clone()), "window_not_revealed");
        assert!(
            refused
                .unwrap_err()
                .to_string()
                .contains("only 1 window(s)")
        );
        assert!(s.reveal_next(&EGG_CATCHER, at_secs(12), &r));
        s.record(&EGG_CATCHER, &past, at_secs(12), &r, HEARTBEAT)
            .unwrap();
    }

    #[test]
    fn the_next_window_is_revealed_near_its_start_on_time_and_once() {
        let r = PlayRules::default();
        assert_eq!(r.reveal_ticks(&EGG_CATCHER), 240);
        let mut s = session();
        // 359 ticks: not yet within four seconds of window 1.
        s.record(&EGG_CATCHER, &batch(0, &[], 359), at_secs(7), &r, HEARTBEAT)
            .unwrap();
        assert!(!s.reveal_next(&EGG_CATCHER, at_secs(7), &r));
        // 360 ticks, but the clock says only five seconds passed: too early.
        let mut early = session();
        early
            .record(&EGG_CATCHER, &batch(0, &[], 360), at_secs(5), &r, HEARTBEAT)
            .unwrap();
        assert!(!early.reveal_next(&EGG_CATCHER, at_secs(5), &r));
        s.record(&EGG_CATCHER, &batch(0, &[], 360), at_secs(7), &r, HEARTBEAT)
            .unwrap();
        assert!(s.reveal_next(&EGG_CATCHER, at_secs(7), &r));
        assert_eq!(s.windows, 2);
        // Window 2 waits for its own time.
        assert!(!s.reveal_next(&EGG_CATCHER, at_secs(8), &r));
        assert_eq!(s.windows, 2);
        let key = SessionSecret::random().window_key();
        assert_eq!(
            s.last_window(&key),
            Window {
                index: 1,
                seed: key.seed(s.id, 1)
            }
        );
        // A session behind the clock gets nothing until it catches up.
        let mut behind = session();
        behind
            .record(&EGG_CATCHER, &batch(0, &[], 400), at_secs(9), &r, HEARTBEAT)
            .unwrap();
        assert!(!behind.reveal_next(&EGG_CATCHER, at_secs(14), &r));
    }

    #[test]
    fn expired_and_finished_sessions_take_no_inputs() {
        let mut s = session();
        let r = PlayRules::default();
        assert!(matches!(
            s.record(
                &EGG_CATCHER,
                &batch(0, &[], 1),
                at_secs(3600),
                &r,
                HEARTBEAT
            ),
            Err(DomainError::SessionExpired(_))
        ));
        s.finish = Some(FinishState::Rejected(Rejection::too_fast(1, 0)));
        assert!(matches!(
            s.record(&EGG_CATCHER, &batch(0, &[], 1), at_secs(1), &r, HEARTBEAT),
            Err(DomainError::SessionFinished(_))
        ));
        assert!(!s.reveal_next(&EGG_CATCHER, at_secs(1), &r));
    }

    #[test]
    fn the_replayed_score_is_the_score_and_a_wrong_hint_is_a_mismatch() {
        let key = SessionSecret::random().window_key();
        let mut s = session();
        let (inputs, outcome) =
            arcade_games::egg_catcher::bot::play(&|k| key.seed(s.id, k), 80, 20_000);
        s.inputs = inputs;
        s.tick = outcome.ticks;
        s.windows = outcome.ticks.div_ceil(WINDOW_TICKS);
        assert_eq!(s.replay(&EGG_CATCHER, &key, &s.inputs).unwrap(), outcome);
        s.reported_score = Some(outcome.score + 10);
        assert_eq!(
            s.replay(&EGG_CATCHER, &key, &s.inputs).unwrap_err().reason,
            "score_mismatch"
        );
        s.reported_score = Some(outcome.score);
        assert_eq!(
            s.replay(&EGG_CATCHER, &key, &s.inputs).unwrap().score,
            outcome.score
        );
        // What the session noticed joins the replay's flags.
        s.flags.push(FLAG_LATE_FINISH.to_owned());
        assert_eq!(
            s.replay(&EGG_CATCHER, &key, &s.inputs).unwrap().flags,
            [FLAG_LATE_FINISH]
        );
    }

    #[test]
    fn a_lost_session_is_rebuilt_from_its_ticket_and_every_input() {
        let r = PlayRules::default();
        let started = session();
        let ticket = Ticket::of(&started);
        let all = paused(
            batch(0, &[(5, 100), (650, 200), (700, 300)], 760),
            &[(100, 2_000)],
        );
        let (s, inputs) =
            Session::resume(&ticket, &EGG_CATCHER, &all, at_secs(15), &r, HEARTBEAT).unwrap();
        assert_eq!(inputs, all.inputs);
        assert_eq!(
            (s.input_count, s.last_input),
            (3, all.inputs.last().copied())
        );
        assert_eq!((s.tick, s.windows, s.pauses.len()), (760, 2, 1));
        assert_eq!((s.id, s.started_at), (started.id, started.started_at));
        // From any other offset the client is told to send everything.
        let later = batch(2, &[(700, 300)], 760);
        assert!(matches!(
            Session::resume(&ticket, &EGG_CATCHER, &later, at_secs(15), &r, HEARTBEAT),
            Err(DomainError::SessionLost(_))
        ));
        // Judged against the ticket's start: too fast, too slow (a finish only flagged).
        assert!(matches!(
            Session::resume(&ticket, &EGG_CATCHER, &all, at_secs(5), &r, HEARTBEAT),
            Err(DomainError::Rejected { rejection, .. }) if rejection.reason == "too_fast"
        ));
        assert!(matches!(
            Session::resume(&ticket, &EGG_CATCHER, &all, at_secs(40), &r, HEARTBEAT),
            Err(DomainError::Rejected { rejection, .. }) if rejection.reason == "too_slow"
        ));
        let (late, _) = Session::resume(
            &ticket,
            &EGG_CATCHER,
            &all,
            at_secs(40),
            &r,
            Arrival::Finish,
        )
        .unwrap();
        assert_eq!(late.flags, [FLAG_LATE_FINISH]);
        assert!(matches!(
            Session::resume(
                &ticket,
                &EGG_CATCHER,
                &all,
                at_secs(3600),
                &r,
                Arrival::Finish
            ),
            Err(DomainError::SessionExpired(_))
        ));
    }

    #[test]
    fn a_pause_is_a_json_pair() {
        let p = Pause { tick: 3, ms: 1_500 };
        assert_eq!(serde_json::to_string(&p).unwrap(), "[3,1500]");
        let b: InputBatch =
            serde_json::from_str(r#"{"offset":0,"inputs":[],"tick":3,"score":null}"#).unwrap();
        assert!(b.pauses.is_empty(), "pauses may be left out");
    }
}
