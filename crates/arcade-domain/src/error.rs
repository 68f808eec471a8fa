//! The domain's errors. The HTTP layer maps each variant to a status in one place.

use std::time::Duration;

use arcade_games::ReplayError;

use crate::name::NameError;

/// A storage or event backend failed. The message is for logs, never for players.
#[derive(Debug, Clone, thiserror::Error)]
pub enum StoreError {
    /// The backend cannot be reached right now; retrying later may work.
    #[error("{backend} is unavailable: {message}")]
    Unavailable {
        backend: &'static str,
        message: String,
    },
    /// The backend answered with something we cannot use (corrupt row, failed query).
    #[error("{backend} failed: {message}")]
    Failed {
        backend: &'static str,
        message: String,
    },
    /// A cache that lost a board (flushed, restarted empty) refuses to answer for it until the
    /// board is loaded again; whoever holds the truth answers meanwhile.
    #[error("{backend} does not hold board {board} until it is rebuilt")]
    NotLoaded {
        backend: &'static str,
        board: String,
    },
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
    #[error("too many requests: try again in {} s", retry_after.as_secs().max(1))]
    RateLimited { retry_after: Duration },
    #[error(transparent)]
    Store(#[from] StoreError),
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
            Self::InputGap { .. } => "input_gap",
            Self::InputConflict { .. } => "input_conflict",
            Self::TickBehindInputs { .. } => "tick_behind_inputs",
            Self::Rejected { .. } => "replay_rejected",
            Self::InvalidQuery(_) => "invalid_query",
            Self::RateLimited { .. } => "rate_limited",
            Self::Store(StoreError::Unavailable { .. } | StoreError::NotLoaded { .. }) => {
                "service_unavailable"
            }
            Self::Store(StoreError::Failed { .. }) => "internal_error",
        }
    }
}
