//! Players' rights over what Arcade keeps of them: everything held about a player, as an
//! export hands it to them, and what erasing a player removes, recorded without their name.

use arcade_games::Input;

use crate::ports::{PlayerRecord, ScoreRow};
use crate::session::SessionId;
use crate::time::Timestamp;

/// One of the player's scores with its replay: the inputs and window 0's seed it was
/// verified from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExportedScore {
    pub row: ScoreRow,
    pub seed: u32,
    /// `None` once the replay retention removed them.
    pub inputs: Option<Vec<Input>>,
}

/// A report other players made about the player (reports keep nothing of who made them).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReportAbout {
    pub session_id: Option<SessionId>,
    pub reason: Option<String>,
    pub at: Timestamp,
}

/// Everything the database keeps of one player: their record (name, when they claimed it,
/// moderation state), their scores with replays, oldest first, and reports about them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PlayerData {
    pub player: PlayerRecord,
    pub scores: Vec<ExportedScore>,
    pub reports: Vec<ReportAbout>,
}

/// What to erase: the player and, when an operator chose so, the name blocked from being
/// claimed again (as of `block_name`). Every audit record about the player is kept with its
/// target replaced by `reference` and without the states it recorded (which hold the name).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Erasure {
    pub player_key: String,
    pub player_name: String,
    pub block_name: Option<Timestamp>,
    /// `erasure:ID`, a random id: nothing of the player can be read back from it.
    pub reference: String,
}

/// What an erasure removed from the database.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Erased {
    pub scores: u64,
    pub reports: u64,
}
