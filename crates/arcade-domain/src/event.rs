//! Game events: what happened, published on the event bus for notifications and live boards.

use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::time::{Period, Timestamp};

/// The kinds of event and their bus subjects.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum EventKind {
    SessionStarted,
    ScoreSubmitted,
    /// A player entered or moved within a board's top 10.
    LeaderboardTop,
    /// An operator took a player off the boards.
    PlayerHidden,
    /// An operator put a hidden player back on the boards.
    PlayerRestored,
    /// An operator removed one of a player's scores.
    ScoreRemoved,
    /// An operator renamed a player (one event for the old name, one for the new).
    PlayerRenamed,
    /// An operator changed the name deny list: every replica reloads it.
    NameRulesChanged,
    /// A player was erased, at their request or an operator's: every replica forgets them.
    PlayerDeleted,
}

impl EventKind {
    pub const ALL: [EventKind; 9] = [
        EventKind::SessionStarted,
        EventKind::ScoreSubmitted,
        EventKind::LeaderboardTop,
        EventKind::PlayerHidden,
        EventKind::PlayerRestored,
        EventKind::ScoreRemoved,
        EventKind::PlayerRenamed,
        EventKind::NameRulesChanged,
        EventKind::PlayerDeleted,
    ];

    /// Whether the event reports an operator's change to a player's place on the boards:
    /// every replica brings the player's entries up to date and its live pages reload.
    pub fn is_moderation(self) -> bool {
        matches!(
            self,
            Self::PlayerHidden
                | Self::PlayerRestored
                | Self::ScoreRemoved
                | Self::PlayerRenamed
                | Self::PlayerDeleted
        )
    }

    /// The subject on the bus (JetStream stream `ARCADE`).
    pub fn subject(self) -> &'static str {
        match self {
            Self::SessionStarted => "arcade.session.started",
            Self::ScoreSubmitted => "arcade.score.submitted",
            Self::LeaderboardTop => "arcade.leaderboard.top",
            Self::PlayerHidden => "arcade.player.hidden",
            Self::PlayerRestored => "arcade.player.restored",
            Self::ScoreRemoved => "arcade.score.removed",
            Self::PlayerRenamed => "arcade.player.renamed",
            Self::NameRulesChanged => "arcade.names.rules_changed",
            Self::PlayerDeleted => "arcade.player.deleted",
        }
    }

    /// The `kind` label of `arcade_events_published_total`.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::SessionStarted => "session_started",
            Self::ScoreSubmitted => "score_submitted",
            Self::LeaderboardTop => "leaderboard_top",
            Self::PlayerHidden => "player_hidden",
            Self::PlayerRestored => "player_restored",
            Self::ScoreRemoved => "score_removed",
            Self::PlayerRenamed => "player_renamed",
            Self::NameRulesChanged => "name_rules_changed",
            Self::PlayerDeleted => "player_deleted",
        }
    }
}

/// One event. `id` is unique and lets consumers drop duplicates.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Event {
    pub id: Uuid,
    pub kind: EventKind,
    pub game: String,
    pub player: String,
    pub session_id: Uuid,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub score: Option<u32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub rank: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub period: Option<Period>,
    pub at: Timestamp,
}

impl Event {
    /// Events derived from one session get ids derived from it, so a retried finish that
    /// publishes again produces the same ids and consumers de-duplicate it.
    pub fn derived_id(session_id: Uuid, kind: EventKind, period: Option<Period>) -> Uuid {
        let name = format!("{}:{}", kind.as_str(), period.map_or("", Period::as_str));
        Uuid::new_v5(&session_id, name.as_bytes())
    }

    /// An operator's change to `player`'s place on `game`'s boards (`session_id` is the
    /// removed score's, or a fresh id for a change of the player).
    pub fn moderation(
        kind: EventKind,
        game: &str,
        player: &str,
        session_id: Uuid,
        at: Timestamp,
    ) -> Self {
        Self {
            id: Uuid::new_v4(),
            kind,
            game: game.to_owned(),
            player: player.to_owned(),
            session_id,
            score: None,
            rank: None,
            period: None,
            at,
        }
    }

    /// An operator's change of the name deny list (no game, no player).
    pub fn name_rules_changed(at: Timestamp) -> Self {
        let id = Uuid::new_v4();
        Self {
            id,
            kind: EventKind::NameRulesChanged,
            game: String::new(),
            player: String::new(),
            session_id: id,
            score: None,
            rank: None,
            period: None,
            at,
        }
    }

    /// A score's event, before its rank is known (the finish adds it).
    pub fn score_submitted(
        session_id: Uuid,
        game: &str,
        player: &str,
        score: u32,
        at: Timestamp,
    ) -> Self {
        Self {
            id: Self::derived_id(session_id, EventKind::ScoreSubmitted, None),
            kind: EventKind::ScoreSubmitted,
            game: game.to_owned(),
            player: player.to_owned(),
            session_id,
            score: Some(score),
            rank: None,
            period: None,
            at,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn subjects_follow_the_design_contract() {
        assert_eq!(
            EventKind::SessionStarted.subject(),
            "arcade.session.started"
        );
        assert_eq!(
            EventKind::ScoreSubmitted.subject(),
            "arcade.score.submitted"
        );
        assert_eq!(
            EventKind::LeaderboardTop.subject(),
            "arcade.leaderboard.top"
        );
    }

    #[test]
    fn derived_ids_are_stable_per_session_kind_and_period() {
        let s = Uuid::new_v4();
        let a = Event::derived_id(s, EventKind::ScoreSubmitted, None);
        assert_eq!(a, Event::derived_id(s, EventKind::ScoreSubmitted, None));
        assert_ne!(a, Event::derived_id(s, EventKind::LeaderboardTop, None));
        assert_ne!(
            Event::derived_id(s, EventKind::LeaderboardTop, Some(Period::Day)),
            Event::derived_id(s, EventKind::LeaderboardTop, Some(Period::Week))
        );
    }
}
