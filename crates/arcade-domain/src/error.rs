//! The domain's errors. The HTTP layer maps each variant to a status in one place.

use std::borrow::Cow;
use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use arcade_games::ReplayError;

use crate::name::NameError;

/// What a caller may do about a [`BackendError`]: every kind but [`Defect`](Self::Defect) is
/// worth trying again later.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum BackendErrorKind {
    /// The backend cannot be reached (refused, reset, no connection free in time).
    Unavailable,
    /// The backend is shutting down, restarting or failing over, or this process is.
    ShuttingDown,
    /// The backend did not answer in time (a statement timeout, a command timeout).
    TimedOut,
    /// A change lost to a concurrent one (serialization failure, deadlock, a lock not
    /// available): the same change tried again succeeds.
    Conflict,
    /// A cache that lost a board (flushed, restarted empty) refuses to answer for it until the
    /// board is loaded again; whoever holds the truth answers meanwhile.
    NotLoaded,
    /// A bug, corrupt data or a setting that cannot work: trying again does not help.
    Defect,
}

impl BackendErrorKind {
    /// Whether the same request may succeed later.
    pub fn is_transient(self) -> bool {
        !matches!(self, Self::Defect)
    }

    /// A stable snake_case name, for logs.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Unavailable => "unavailable",
            Self::ShuttingDown => "shutting_down",
            Self::TimedOut => "timed_out",
            Self::Conflict => "conflict",
            Self::NotLoaded => "not_loaded",
            Self::Defect => "defect",
        }
    }

    fn describe(self) -> &'static str {
        match self {
            Self::Unavailable => "is unavailable",
            Self::ShuttingDown => "is shutting down",
            Self::TimedOut => "did not answer in time",
            Self::Conflict => "refused a change that conflicted with another",
            Self::NotLoaded => "does not hold the board until it is rebuilt",
            Self::Defect => "failed",
        }
    }
}

/// The cause of a [`BackendError`], as the driver reported it. Shared, so that the error
/// stays `Clone`: one failed batch is the failure of every item in it.
pub type Cause = Arc<dyn std::error::Error + Send + Sync + 'static>;

/// A storage, cache or event backend failed (a database, Redis, NATS, or a readiness ping of
/// one). The adapter that converts its driver's error says what kind of failure it is; the
/// driver's error is kept as the source. The message and the cause are for logs, never for
/// players.
#[derive(Debug, Clone, thiserror::Error)]
pub struct BackendError {
    kind: BackendErrorKind,
    backend: &'static str,
    detail: Option<Cow<'static, str>>,
    #[source]
    source: Option<Cause>,
}

impl BackendError {
    /// An error of `kind` in `backend`, said in our own words.
    pub fn new(
        kind: BackendErrorKind,
        backend: &'static str,
        detail: impl Into<Cow<'static, str>>,
    ) -> Self {
        Self {
            kind,
            backend,
            detail: Some(detail.into()),
            source: None,
        }
    }

    /// An error of `kind` in `backend` whose cause is the driver's `source`.
    pub fn caused_by(
        kind: BackendErrorKind,
        backend: &'static str,
        source: impl std::error::Error + Send + Sync + 'static,
    ) -> Self {
        Self {
            kind,
            backend,
            detail: None,
            source: Some(Arc::new(source)),
        }
    }

    /// A defect: a bug, corrupt data, a setting that cannot work.
    pub fn defect(backend: &'static str, detail: impl Into<Cow<'static, str>>) -> Self {
        Self::new(BackendErrorKind::Defect, backend, detail)
    }

    /// The backend cannot be reached.
    pub fn unavailable(backend: &'static str, detail: impl Into<Cow<'static, str>>) -> Self {
        Self::new(BackendErrorKind::Unavailable, backend, detail)
    }

    /// A cache that lost `board` refuses to answer for it until it is loaded again.
    pub fn not_loaded(backend: &'static str, board: impl fmt::Display) -> Self {
        Self::new(
            BackendErrorKind::NotLoaded,
            backend,
            format!("board {board}"),
        )
    }

    /// The same error, its cause being `source`.
    pub fn with_source(mut self, source: impl std::error::Error + Send + Sync + 'static) -> Self {
        self.source = Some(Arc::new(source));
        self
    }

    pub fn kind(&self) -> BackendErrorKind {
        self.kind
    }

    pub fn backend(&self) -> &'static str {
        self.backend
    }

    /// Whether the same request may succeed later (see [`BackendErrorKind::is_transient`]).
    pub fn is_transient(&self) -> bool {
        self.kind.is_transient()
    }
}

impl fmt::Display for BackendError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {}", self.backend, self.kind.describe())?;
        match &self.detail {
            Some(detail) => write!(f, ": {detail}"),
            None => Ok(()),
        }
    }
}

/// An error and every cause under it on one line (`a: b: c`), for logs: an error's own
/// message leaves its causes out. A cause whose text the line already ends with (a driver
/// error that prints its own source) is not repeated.
pub fn report(error: &(dyn std::error::Error + 'static)) -> String {
    let mut line = error.to_string();
    let mut cause = error.source();
    while let Some(e) = cause {
        let text = e.to_string();
        if !text.is_empty() && !line.ends_with(&text) {
            line.push_str(": ");
            line.push_str(&text);
        }
        cause = e.source();
    }
    line
}

/// Why a replay was refused: a stable snake_case `reason` (the label of
/// `arcade_replays_rejected_total`) and a message for people. Stored with a finished session so a
/// repeated finish gives the same answer.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error, serde::Serialize, serde::Deserialize)]
#[error("{message}")]
pub struct Rejection {
    pub reason: String,
    pub message: String,
}

impl Rejection {
    pub fn invalid_inputs(e: &ReplayError) -> Self {
        Self {
            reason: e.reason().to_owned(),
            message: format!("the inputs are not a valid replay: {e}"),
        }
    }

    pub fn too_fast(claimed: u32, allowed: u32) -> Self {
        Self {
            reason: "too_fast".to_owned(),
            message: format!(
                "the session claims {claimed} ticks but at most {allowed} can have passed since it started"
            ),
        }
    }

    pub fn score_mismatch(reported: u32, replayed: u32) -> Self {
        Self {
            reason: "score_mismatch".to_owned(),
            message: format!(
                "the reported score {reported} does not match the replayed score {replayed}"
            ),
        }
    }
}

/// Everything a use case can refuse, with messages a person can act on.
#[derive(Debug, Clone, thiserror::Error)]
pub enum DomainError {
    #[error("there is no game called '{0}'")]
    UnknownGame(String),
    #[error("{0}")]
    InvalidName(#[from] NameError),
    #[error(
        "the name '{0}' belongs to another player: use the token saved in the browser that claimed it, or pick another name"
    )]
    NameTaken(String),
    #[error("no player called '{0}' has played this game")]
    PlayerNotFound(String),
    #[error("{0}")]
    InvalidSessionId(String),
    #[error("there is no session {0}")]
    SessionNotFound(String),
    #[error("session {0} has expired: start a new game")]
    SessionExpired(String),
    #[error("session {0} is already finished")]
    SessionFinished(String),
    #[error(
        "the server lost session {0} (its session store restarted): send the ticket with every input and pause from offset 0 to go on, or to finish"
    )]
    SessionLost(String),
    #[error("{0}")]
    TicketInvalid(String),
    #[error(
        "the server has {expected} inputs for this session but the request starts at offset {got}: resend from offset {expected}"
    )]
    InputGap { expected: usize, got: usize },
    #[error("input {index} differs from the one already recorded for this session")]
    InputConflict { index: usize },
    #[error("the tick {claimed} is behind the last recorded input at tick {last_input}")]
    TickBehindInputs { claimed: u32, last_input: u32 },
    #[error("{rejection}")]
    Rejected { game: String, rejection: Rejection },
    #[error("{0}")]
    InvalidQuery(String),
    #[error("too many requests: try again in {} s", whole_seconds(*retry_after))]
    RateLimited { retry_after: Duration },
    #[error("{0}")]
    InvalidOperatorName(String),
    #[error("{0}")]
    InvalidReason(String),
    #[error("{0}")]
    InvalidReport(String),
    #[error(
        "this request needs an operator token: send `Authorization: Bearer <token>` with a token from `arcade admin token create`"
    )]
    OperatorUnauthorized,
    #[error("there is an operator called '{0}' already: pick another name")]
    OperatorExists(String),
    #[error("there is no active operator called '{0}'")]
    OperatorNotFound(String),
    #[error("the player '{0}' may not start games: an operator banned them")]
    PlayerBanned(String),
    #[error("there is no score of session {0}")]
    ScoreNotFound(String),
    #[error("the name '{0}' is not available: pick another")]
    NameUnavailable(String),
    #[error("nothing called '{0}' waits for review")]
    ReviewItemNotFound(String),
    /// A name the deny list refuses; the message does not say which rule matched.
    #[error("the name '{0}' is not allowed: pick another")]
    NameDenied(String),
    #[error("{0}")]
    InvalidNameRule(String),
    #[error("the deny list has this {0} already")]
    NameRuleExists(String),
    #[error("there is no name rule {0}")]
    NameRuleNotFound(i64),
    #[error("{0}")]
    InvalidSeason(String),
    #[error("there is a season '{0}' already: pick another slug")]
    SeasonExists(String),
    #[error("there is no season '{0}': see /api/seasons for the seasons there are")]
    SeasonNotFound(String),
    /// A finished season is an archive: it stays.
    #[error("the season '{0}' is over: its board is an archive and stays")]
    SeasonFinished(String),
    #[error(transparent)]
    Backend(#[from] BackendError),
}

impl DomainError {
    /// A stable snake_case code clients can branch on.
    pub fn code(&self) -> &'static str {
        match self {
            Self::UnknownGame(_) => "unknown_game",
            Self::InvalidName(_) => "invalid_player_name",
            Self::NameTaken(_) => "player_token_invalid",
            Self::PlayerNotFound(_) => "player_not_found",
            Self::InvalidSessionId(_) => "invalid_session_id",
            Self::SessionNotFound(_) => "session_not_found",
            Self::SessionExpired(_) => "session_expired",
            Self::SessionFinished(_) => "session_finished",
            Self::SessionLost(_) => "session_lost",
            Self::TicketInvalid(_) => "ticket_invalid",
            Self::InputGap { .. } => "input_gap",
            Self::InputConflict { .. } => "input_conflict",
            Self::TickBehindInputs { .. } => "tick_behind_inputs",
            Self::Rejected { .. } => "replay_rejected",
            Self::InvalidQuery(_) => "invalid_query",
            Self::RateLimited { .. } => "rate_limited",
            Self::InvalidOperatorName(_) => "invalid_operator_name",
            Self::InvalidReason(_) => "invalid_reason",
            Self::InvalidReport(_) => "invalid_report",
            Self::OperatorUnauthorized => "operator_unauthorized",
            Self::OperatorExists(_) => "operator_exists",
            Self::OperatorNotFound(_) => "operator_not_found",
            Self::PlayerBanned(_) => "player_banned",
            Self::ScoreNotFound(_) => "score_not_found",
            Self::NameUnavailable(_) => "name_unavailable",
            Self::ReviewItemNotFound(_) => "review_item_not_found",
            Self::NameDenied(_) => "name_denied",
            Self::InvalidNameRule(_) => "invalid_name_rule",
            Self::NameRuleExists(_) => "name_rule_exists",
            Self::NameRuleNotFound(_) => "name_rule_not_found",
            Self::InvalidSeason(_) => "invalid_season",
            Self::SeasonExists(_) => "season_exists",
            Self::SeasonNotFound(_) => "season_not_found",
            Self::SeasonFinished(_) => "season_finished",
            Self::Backend(e) => match e.kind() {
                BackendErrorKind::Unavailable | BackendErrorKind::NotLoaded => "unavailable",
                BackendErrorKind::ShuttingDown => "shutting_down",
                BackendErrorKind::TimedOut => "timed_out",
                BackendErrorKind::Conflict => "write_conflict",
                BackendErrorKind::Defect => "internal_error",
            },
        }
    }
}

/// A wait in whole seconds, rounded up and at least one: what `Retry-After` carries, so the
/// message and the header of one answer never disagree.
pub fn whole_seconds(wait: Duration) -> u64 {
    (wait.as_secs() + u64::from(wait.subsec_nanos() > 0)).max(1)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug, thiserror::Error)]
    #[error("connection refused")]
    struct Refused;

    #[test]
    fn a_backend_error_keeps_its_cause_as_its_source() {
        let e = BackendError::caused_by(BackendErrorKind::Unavailable, "postgres", Refused);
        assert_eq!(e.to_string(), "postgres is unavailable");
        let source = std::error::Error::source(&e).expect("a source");
        assert_eq!(source.to_string(), "connection refused");
        assert_eq!(report(&e), "postgres is unavailable: connection refused");
        let wrapped = DomainError::from(e.clone());
        assert_eq!(
            report(&wrapped),
            "postgres is unavailable: connection refused"
        );
    }

    #[test]
    fn only_a_defect_is_not_worth_retrying() {
        for kind in [
            BackendErrorKind::Unavailable,
            BackendErrorKind::ShuttingDown,
            BackendErrorKind::TimedOut,
            BackendErrorKind::Conflict,
            BackendErrorKind::NotLoaded,
        ] {
            assert!(kind.is_transient(), "{kind:?}");
            assert_ne!(
                DomainError::from(BackendError::new(kind, "x", "y")).code(),
                "internal_error"
            );
        }
        let defect = DomainError::from(BackendError::defect("x", "corrupt row"));
        assert_eq!(defect.code(), "internal_error");
        assert_eq!(defect.to_string(), "x failed: corrupt row");
    }

    #[test]
    fn a_cause_that_prints_its_own_source_is_not_repeated() {
        #[derive(Debug, thiserror::Error)]
        #[error("publish failed: connection refused")]
        struct Publish(#[source] Refused);
        let e = BackendError::caused_by(BackendErrorKind::Unavailable, "nats", Publish(Refused));
        assert_eq!(
            report(&e),
            "nats is unavailable: publish failed: connection refused"
        );
    }
}
