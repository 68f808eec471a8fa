//! The ports: traits the storage and event adapters implement. The service holds them as
//! `Arc<dyn …>`, so the same use cases run on SQLite and memory or PostgreSQL, Redis and NATS.

use std::collections::BTreeMap;
use std::ops::Range;
use std::time::Duration;

use arcade_games::Input;
use async_trait::async_trait;
use futures::stream::BoxStream;
use uuid::Uuid;

use crate::admin::{AuditRecord, NewAudit, NewReport, Operator, ReviewDepth, ReviewItem};
use crate::error::{BackendError, DomainError};
use crate::event::{Event, EventKind};
use crate::name_rules::{NameRule, NewNameRule};
use crate::player_data::{Erased, Erasure, PlayerData};
use crate::ranks::{Ranked, Standing, Submission};
use crate::retention::RetentionReport;
use crate::season::Season;
use crate::session::{Session, SessionId};
use crate::time::{BoardKey, Timestamp};
use crate::token::TokenDigest;

/// A player who claimed a name.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PlayerRecord {
    pub key: String,
    pub name: String,
    pub token_digest: TokenDigest,
    pub created_at: Timestamp,
    /// Since when an operator keeps the player off the boards, if they do.
    pub hidden_at: Option<Timestamp>,
    /// Since when an operator keeps the player from starting games, if they do.
    pub banned_at: Option<Timestamp>,
}

/// A verified score to store.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewScore {
    pub session_id: SessionId,
    pub game: String,
    pub player_key: String,
    pub player_name: String,
    pub score: u32,
    pub ticks: u32,
    pub game_over: bool,
    pub rules_version: u32,
    /// Window 0's seed (the others follow from the session secret and the session id).
    pub seed: u32,
    pub stats: BTreeMap<String, u32>,
    pub inputs: Vec<Input>,
    pub achieved_at: Timestamp,
    /// The buckets of the day and the week the score counts in, in the arcade's calendar when
    /// it was achieved: kept with the score, so that bests recomputed later (an operator's
    /// action) land on the boards the score was played on, whatever the time zone is then.
    pub day: i64,
    pub week: i64,
    /// The score's event (`arcade.score.submitted`, without its rank), written to the outbox
    /// in the score's transaction and held there until the finish adds it again with its
    /// rank, or [`EVENT_HOLD`] passes.
    pub event: Event,
    /// The human-likeness checks the game failed: stored and ranked, marked for review.
    pub flags: Vec<String>,
}

/// A stored score.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ScoreRow {
    pub session_id: SessionId,
    pub game: String,
    pub player_key: String,
    pub player_name: String,
    pub score: u32,
    pub ticks: u32,
    pub game_over: bool,
    pub rules_version: u32,
    pub stats: BTreeMap<String, u32>,
    pub achieved_at: Timestamp,
    /// The player's all-time best in this game before this score, fixed when it was stored.
    pub previous_best: Option<u32>,
    /// The human-likeness checks the game failed (empty for most): for review.
    pub flags: Vec<String>,
    /// Whether the player is on the boards (not hidden by an operator) as the row was read.
    pub listed: bool,
}

/// The result of storing a score: the stored row (the existing one when the session was
/// already recorded) and whether this call inserted it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Recorded {
    pub row: ScoreRow,
    pub inserted: bool,
}

/// Keyset position in a player's history (newest first).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HistoryCursor {
    pub achieved_at: Timestamp,
    pub session_id: SessionId,
}

/// The durable store: players, scores and each player's best per board. The source of truth.
#[async_trait]
pub trait ScoreStore: Send + Sync {
    async fn find_player(&self, key: &str) -> Result<Option<PlayerRecord>, BackendError>;
    /// Claim a name. `false` when the key was already taken (then nothing changes).
    async fn create_player(&self, player: &PlayerRecord) -> Result<bool, BackendError>;
    /// Store a score, update the player's bests and put the score's event in the outbox (held,
    /// see [`NewScore::event`]), atomically and idempotently: the session id is unique, so
    /// recording the same session twice stores it (and its event) once.
    async fn record_score(&self, score: &NewScore) -> Result<Recorded, BackendError>;
    async fn score_by_session(&self, id: SessionId) -> Result<Option<ScoreRow>, BackendError>;
    /// A player's scores in a game, newest first, strictly after `after`.
    async fn history(
        &self,
        game: &str,
        player_key: &str,
        after: Option<&HistoryCursor>,
        limit: usize,
    ) -> Result<Vec<ScoreRow>, BackendError>;
    /// Every player's best on a board, for (re)building the rank index; with `since`, only
    /// bests achieved at or after it (to catch up on what changed during a rebuild).
    async fn best_standings(
        &self,
        board: &BoardKey,
        since: Option<Timestamp>,
    ) -> Result<Vec<Standing>, BackendError>;
    /// A page of a board from the bests kept for it, in board order, strictly after `after`,
    /// with ranks: how the board of a finished day or week is read (the rank index holds only
    /// the current ones). Hidden players are not on it.
    async fn board_page(
        &self,
        board: &BoardKey,
        after: Option<&Standing>,
        limit: usize,
    ) -> Result<Vec<Ranked>, BackendError>;
    /// Cheap round trip for readiness.
    async fn ping(&self) -> Result<(), BackendError>;
}

/// An identity provider operators may sign in with (OpenID Connect), beside their own
/// operator tokens.
#[async_trait]
pub trait OperatorIdentity: Send + Sync {
    /// The operator's name, as the provider knows them, when `token` is a valid identity
    /// token of the provider that grants the operator's role; `None` for any other token. An
    /// error only when the provider could not be asked (its keys are out of reach).
    async fn verify(&self, token: &str) -> Result<Option<String>, BackendError>;
}

/// Operators and the audit log, in the database beside the scores. A change is written with
/// its audit record in one transaction: no action without its record, and no record of an
/// action that did not happen.
#[async_trait]
pub trait AdminStore: Send + Sync {
    /// Store a new operator with the record of its creation. `false` when the name is taken
    /// (by an operator revoked or not), and then nothing is written.
    async fn create_operator(
        &self,
        operator: &Operator,
        audit: &NewAudit,
    ) -> Result<bool, BackendError>;
    /// Every operator, revoked ones too, by name.
    async fn operators(&self) -> Result<Vec<Operator>, BackendError>;
    /// The operator, revoked or not, whose token has this digest.
    async fn operator_by_token(
        &self,
        digest: &TokenDigest,
    ) -> Result<Option<Operator>, BackendError>;
    /// Revoke the active operator called `name` as of `audit.at`, with the record. `false`
    /// when there is no such active operator (then nothing is written).
    async fn revoke_operator(&self, name: &str, audit: &NewAudit) -> Result<bool, BackendError>;
    /// Hide the player as of `hidden_at`, or show them again (`None`), with the audit record
    /// and `events`, in one transaction: a hidden player's bests leave every board of every
    /// period, and come back recomputed from their scores when shown. `false` when there is
    /// no such player (then nothing is written).
    async fn set_hidden(
        &self,
        player_key: &str,
        hidden_at: Option<Timestamp>,
        audit: &NewAudit,
        events: &[Event],
    ) -> Result<bool, BackendError>;
    /// Ban the player from starting games as of `banned_at`, or lift the ban (`None`), with
    /// the audit record. `false` when there is no such player.
    async fn set_banned(
        &self,
        player_key: &str,
        banned_at: Option<Timestamp>,
        audit: &NewAudit,
    ) -> Result<bool, BackendError>;
    /// Delete one score and recompute its player's bests from the scores left, with the audit
    /// record and `events`, in one transaction. `false` when there is no such score.
    async fn remove_score(
        &self,
        session_id: SessionId,
        audit: &NewAudit,
        events: &[Event],
    ) -> Result<bool, BackendError>;
    /// Rename the player `old_key` to `new_name` (whose key is `new_key`): their token, state,
    /// scores and bests move with them; with `block_old`, nobody may claim the old name again.
    /// With the audit record and `events`, in one transaction. `false` when `new_key` belongs
    /// to another player already (then nothing is written).
    async fn rename_player(
        &self,
        old_key: &str,
        new_key: &str,
        new_name: &str,
        block_old: Option<Timestamp>,
        audit: &NewAudit,
        events: &[Event],
    ) -> Result<bool, BackendError>;
    /// Whether an operator blocked the name of this key.
    async fn is_blocked(&self, key: &str) -> Result<bool, BackendError>;
    /// The player's best on every board they are on (none while hidden), with their name.
    async fn player_bests(
        &self,
        player_key: &str,
    ) -> Result<Vec<(BoardKey, Standing)>, BackendError>;
    /// Keep a player's report for review.
    async fn add_report(&self, report: &NewReport) -> Result<(), BackendError>;
    /// Up to `limit` items waiting for review (flagged scores and reports not resolved),
    /// oldest first.
    async fn review_queue(&self, limit: usize) -> Result<Vec<ReviewItem>, BackendError>;
    /// One item waiting for review, if it does.
    async fn review_item(&self, item: &str) -> Result<Option<ReviewItem>, BackendError>;
    /// How many items wait, and since when the oldest.
    async fn review_depth(&self) -> Result<ReviewDepth, BackendError>;
    /// Mark an item waiting for review resolved, with the audit record. `false` when it does
    /// not wait (resolved already, or no such item).
    async fn resolve_review(
        &self,
        item: &str,
        resolution: &str,
        audit: &NewAudit,
    ) -> Result<bool, BackendError>;
    /// Everything kept of the player of this key (see [`PlayerData`]); `None` when there is
    /// no such player.
    async fn player_data(&self, player_key: &str) -> Result<Option<PlayerData>, BackendError>;
    /// Erase a player, in one transaction with the audit record and `events`: their record,
    /// scores (with replays) and bests, reports about them or their scores and the review
    /// items of those, the events waiting in the outbox that name them; audit records about
    /// them keep what was done and when, under `erasure.reference`, without the states they
    /// recorded. With `erasure.block_name`, the name is blocked. `None` when there is no
    /// such player (then nothing is written).
    async fn erase_player(
        &self,
        erasure: &Erasure,
        audit: &NewAudit,
        events: &[Event],
    ) -> Result<Option<Erased>, BackendError>;
    /// Apply the retention: scores achieved before `replays_before` lose their replay (the
    /// score, its bests and ranks stay); scores achieved before `history_before` that are no
    /// board's best and wait for no review are deleted. In batches of bounded size, each its
    /// own statement, so the tables are never locked long. `None` when another replica is
    /// applying it (then this one does nothing).
    async fn apply_retention(
        &self,
        replays_before: Option<Timestamp>,
        history_before: Option<Timestamp>,
    ) -> Result<Option<RetentionReport>, BackendError>;
    /// Up to `limit` audit records, newest first, of ids below `before` when given.
    async fn audit_log(
        &self,
        before: Option<i64>,
        limit: usize,
    ) -> Result<Vec<AuditRecord>, BackendError>;
}

/// The audit record of a rule, made once the store has given the rule its id.
pub type RuleAudit<'a> = &'a (dyn Fn(&NameRule) -> NewAudit + Send + Sync);

/// The name deny list, in the database beside the players. Like the operators' other
/// actions, a change is written with its audit record and its event in one transaction.
#[async_trait]
pub trait NameRuleStore: Send + Sync {
    /// Every rule, oldest first.
    async fn name_rules(&self) -> Result<Vec<NameRule>, BackendError>;
    /// Store a rule with the audit record `audit` makes of it and `events`. `None` when a
    /// rule of the same kind and folded form exists (then nothing is written).
    async fn add_name_rule(
        &self,
        rule: &NewNameRule,
        audit: RuleAudit<'_>,
        events: &[Event],
    ) -> Result<Option<NameRule>, BackendError>;
    /// Delete rule `id` with the audit record and `events`. `false` when there is no such
    /// rule (then nothing is written).
    async fn remove_name_rule(
        &self,
        id: i64,
        audit: &NewAudit,
        events: &[Event],
    ) -> Result<bool, BackendError>;
    /// Up to `limit` players by key, of keys after `after` when given: a walk through every
    /// player, for checking their names against the list.
    async fn players_after(
        &self,
        after: Option<&str>,
        limit: usize,
    ) -> Result<Vec<PlayerRecord>, BackendError>;
}

/// Seasons, in the database beside the scores their boards are read from. Like the operators'
/// other actions, a change is written with its audit record in one transaction.
#[async_trait]
pub trait SeasonStore: Send + Sync {
    /// Every season, newest first (the latest start first, then by slug).
    async fn seasons(&self) -> Result<Vec<Season>, BackendError>;
    /// The season of this slug, if there is one.
    async fn season(&self, slug: &str) -> Result<Option<Season>, BackendError>;
    /// Store a season with its audit record. `false` when the slug is taken (then nothing is
    /// written).
    async fn add_season(&self, season: &Season, audit: &NewAudit) -> Result<bool, BackendError>;
    /// Delete the season of this slug with its audit record. `false` when there is no such
    /// season (then nothing is written).
    async fn remove_season(&self, slug: &str, audit: &NewAudit) -> Result<bool, BackendError>;
    /// A page of `game`'s board of every player's best score achieved within `during`
    /// (scores above zero; the earliest of equal bests), in board order, strictly after
    /// `after`, with ranks. Read from the scores themselves; hidden players are not on it.
    async fn season_page(
        &self,
        game: &str,
        during: Range<Timestamp>,
        after: Option<&Standing>,
        limit: usize,
    ) -> Result<Vec<Ranked>, BackendError>;
}

/// A change applied to a stored session. It must leave the session untouched when it fails.
pub type SessionChange<'a> = &'a (dyn Fn(&mut Session) -> Result<(), DomainError> + Send + Sync);

/// A change that may add inputs to a stored session: it gets the session and what the session
/// holds of the range asked for, changes the session and returns the inputs to append. It must
/// leave the session untouched when it fails.
pub type InputsChange<'a> =
    &'a (dyn Fn(&mut Session, &[Input]) -> Result<Vec<Input>, DomainError> + Send + Sync);

/// Live sessions, kept until `Session::forget_at`. A session's inputs are kept apart from the
/// rest of it and only ever appended to, so that recording a batch costs the batch: the store
/// reads and writes the inputs a change needs, never all of them, except for [`inputs`]
/// (the finish's replay).
///
/// [`inputs`]: SessionStore::inputs
#[async_trait]
pub trait SessionStore: Send + Sync {
    /// Store a new session with its `inputs` (none at the start; all of a session rebuilt from
    /// its ticket), unless the store has a session of that id already (then nothing changes).
    /// Returns whether it stored it.
    async fn insert(
        &self,
        session: &Session,
        inputs: &[Input],
        forget_at: Timestamp,
    ) -> Result<bool, BackendError>;
    /// The session, without its inputs.
    async fn get(&self, id: SessionId) -> Result<Option<Session>, BackendError>;
    /// The session's first `count` inputs (fewer if it holds fewer, none if it is gone).
    async fn inputs(&self, id: SessionId, count: usize) -> Result<Vec<Input>, BackendError>;
    /// Apply `change` atomically (no lost update between concurrent calls), handing it the
    /// inputs the session holds at the positions `held` (fewer where it holds fewer), append
    /// what it returns, and return the session as stored afterwards. `SessionNotFound` when
    /// there is no such session.
    async fn append(
        &self,
        id: SessionId,
        held: Range<usize>,
        change: InputsChange<'_>,
    ) -> Result<Session, DomainError>;
    /// Apply `change` atomically, adding no input, and return the session as stored
    /// afterwards. `SessionNotFound` when there is no such session.
    async fn update(
        &self,
        id: SessionId,
        change: SessionChange<'_>,
    ) -> Result<Session, DomainError> {
        self.append(id, 0..0, &|s: &mut Session, _: &[Input]| {
            change(s)?;
            Ok(Vec::new())
        })
        .await
    }
    /// Forget every session of the player of this key, finished or not (the player was
    /// erased); returns how many.
    async fn forget_player(&self, player_key: &str) -> Result<usize, BackendError>;
    /// Sessions neither finished nor expired, per game.
    async fn count_active(&self, now: Timestamp) -> Result<BTreeMap<String, u64>, BackendError>;
    /// Forget sessions past their retention; returns how many.
    async fn purge(&self, now: Timestamp) -> Result<usize, BackendError>;
    async fn ping(&self) -> Result<(), BackendError>;
}

/// Sorted boards for fast top-N pages and ranks (never a `COUNT(*)`).
#[async_trait]
pub trait RankIndex: Send + Sync {
    /// Keep the player's best on the board; returns how it compared and the rank after.
    async fn submit(
        &self,
        board: &BoardKey,
        standing: Standing,
    ) -> Result<Submission, BackendError>;
    async fn page(
        &self,
        board: &BoardKey,
        after: Option<&Standing>,
        limit: usize,
    ) -> Result<Vec<Ranked>, BackendError>;
    async fn get(&self, board: &BoardKey, player_key: &str)
    -> Result<Option<Ranked>, BackendError>;
    async fn around(
        &self,
        board: &BoardKey,
        player_key: &str,
        before: usize,
        after: usize,
    ) -> Result<Vec<Ranked>, BackendError>;
    /// Make the player's entry on a board exactly `standing`, or take them off it with `None`,
    /// in one step, so readers never find them missing meanwhile: an operator's change made
    /// their best there worse or took it away, which a best-only `submit` cannot say.
    async fn set(
        &self,
        board: &BoardKey,
        player_key: &str,
        standing: Option<Standing>,
    ) -> Result<(), BackendError>;
    /// Replace a board's contents (rebuild from the score store).
    async fn load(&self, board: &BoardKey, standings: Vec<Standing>) -> Result<(), BackendError>;
    /// Whether the board has been loaded since the index last lost its data (a cache that was
    /// flushed or restarted empty answers `false` until a rebuild `load`s it again).
    async fn is_loaded(&self, _board: &BoardKey) -> Result<bool, BackendError> {
        Ok(true)
    }
    async fn ping(&self) -> Result<(), BackendError>;
}

/// How long an event stored with its score waits for the rest of its finish (the rank) before
/// it is relayed as it is: a finish that stopped half-way (its process killed) still
/// announces its score.
pub const EVENT_HOLD: Duration = Duration::from_secs(60);

/// An event waiting in the outbox, claimed by a relay: its id and the event as JSON (decoded
/// by the relay, so that an event of a kind this build does not know stays for one that does).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OutboxEntry {
    pub id: Uuid,
    pub payload: String,
}

/// How many events wait in the outbox, and how long the oldest has waited.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct OutboxDepth {
    pub events: u64,
    pub oldest_age: Duration,
}

/// Events waiting to reach the bus, kept in the database with the changes they report: an
/// event is stored before the request that made it is answered, and leaves the outbox only
/// once the bus has taken it. Relays in every replica share it; a claim is a lease, so an
/// event whose relay died is claimed again when the lease ends.
#[async_trait]
pub trait Outbox: Send + Sync {
    /// Store events ready to relay, durably. An event already there (its id derived from what
    /// it reports, as a retried use case derives it again) takes the new content and is ready
    /// at once, which is how a finish releases the event held with its score.
    async fn add(&self, events: &[Event]) -> Result<(), BackendError>;
    /// Up to `limit` ready events, oldest first, each leased to the caller for `lease`.
    async fn claim(&self, limit: usize, lease: Duration) -> Result<Vec<OutboxEntry>, BackendError>;
    /// Forget events the bus has taken.
    async fn remove(&self, ids: &[Uuid]) -> Result<(), BackendError>;
    /// Give claimed events back, ready at once (the bus refused them).
    async fn unclaim(&self, ids: &[Uuid]) -> Result<(), BackendError>;
    /// How many events wait and for how long (for metrics and the shutdown log).
    async fn depth(&self) -> Result<OutboxDepth, BackendError>;
    /// Have this process's relay look at the outbox now: for events another store wrote in
    /// the transaction of its change (an operator's). An outbox without a relay in the
    /// process leaves them to the next poll of a server's relay.
    fn wake(&self) {}
}

/// Publishes events and lets local listeners (live pages) follow them. Use cases write
/// events to the [`Outbox`]; its relay publishes them here.
#[async_trait]
pub trait EventBus: Send + Sync {
    async fn publish(&self, event: &Event) -> Result<(), BackendError>;
    /// Events published from now on (by any replica, where the bus spans replicas).
    fn subscribe(&self) -> BoxStream<'static, Event>;
    async fn ping(&self) -> Result<(), BackendError>;
}

/// Hooks the service calls so the server can count what happens (metrics, logs) without the
/// domain knowing how.
pub trait Observer: Send + Sync {
    fn session_started(&self, _game: &str) {}
    /// A session the session store had lost was put back from its ticket.
    fn session_resumed(&self, _game: &str) {}
    fn score_submitted(&self, _game: &str, _score: u32) {}
    /// A stored score failed the human-likeness check `flag`.
    fn score_flagged(&self, _game: &str, _flag: &str) {}
    fn replay_rejected(&self, _game: &str, _reason: &str) {}
    /// The bus took an event from the outbox.
    fn event_published(&self, _kind: EventKind) {}
    /// A round of the outbox relay failed: the bus or the database refused (the events stay
    /// in the outbox and are tried again).
    fn relay_failed(&self, _error: &BackendError) {}
    /// The outbox's depth, as the relay last read it.
    fn outbox_depth(&self, _depth: OutboxDepth) {}
    /// A rank request the rank cache could not answer, and what became of it.
    fn rank_fallback(&self, _outcome: RankFallback) {}
    /// An operator acted (the audit record is stored).
    fn admin_action(&self, _audit: &NewAudit) {}
}

/// What became of a rank request the rank cache could not answer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RankFallback {
    /// The database answered it instead.
    Answered,
    /// Refused: the database was busy answering others in the cache's place.
    Refused,
}

impl RankFallback {
    /// The `outcome` label of `arcade_rank_fallbacks_total`.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Answered => "answered",
            Self::Refused => "refused",
        }
    }
}

/// An observer that ignores everything.
#[derive(Debug, Default)]
pub struct NoObserver;

impl Observer for NoObserver {}

/// How often one client may do something, counted wherever the adapter keeps its state: per
/// process in memory, across every replica on Redis. A steady rate with bursts up to the
/// quota (GCRA: a fresh client may act a minute's quota at once, then once per interval).
#[async_trait]
pub trait RateLimit: Send + Sync {
    /// Take one from `client`'s allowance: `None` when it may go ahead, `Some(wait)` when it
    /// must wait that long first (nothing is taken then).
    async fn acquire(&self, client: &str) -> Result<Option<Duration>, BackendError>;
}
