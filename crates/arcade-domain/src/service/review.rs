//! The review queue: scores stored with human-likeness flags and players' reports wait there
//! until an operator resolves them (dismissed, the score removed, or the player hidden).

use crate::DomainError;
use crate::admin::{
    AdminAction, NewAudit, NewReport, Resolution, ReviewDepth, ReviewItem, parse_reason,
};
use crate::name::PlayerName;
use crate::ports::{HistoryCursor, PlayerRecord};
use crate::query::Limit;
use crate::season::parse_instant;
use crate::session::SessionId;
use crate::time::Timestamp;

use super::Arcade;

/// How many of a player's scores of one instant a report looks through for the one shown.
const SAME_INSTANT: usize = 8;

/// A score as a board shows it: the game, the score and when it was achieved.
#[derive(Debug, Clone, Copy)]
pub struct ShownScore<'a> {
    pub game: &'a str,
    pub score: u64,
    pub achieved_at: &'a str,
}

impl Arcade {
    /// A player's report of a name (and, when given, one of its scores), for review. The score
    /// is named by its session id (as the player's history shows it), or as a board shows it;
    /// both may be given when they name the same score. Nothing of who reported is kept.
    pub async fn report(
        &self,
        player: &str,
        session_id: Option<&str>,
        shown: Option<ShownScore<'_>>,
        reason: Option<&str>,
    ) -> Result<(), DomainError> {
        let reason = parse_reason(reason)?;
        let name = PlayerName::parse(player)?;
        let record = self
            .ports
            .scores
            .find_player(name.key())
            .await?
            .ok_or_else(|| DomainError::PlayerNotFound(name.as_str().to_owned()))?;
        let by_id = match session_id {
            None => None,
            Some(raw) => {
                let id = SessionId::parse(raw)?;
                match self.ports.scores.score_by_session(id).await? {
                    Some(row) if row.player_key == record.key => Some(id),
                    _ => return Err(DomainError::ScoreNotFound(id.to_string())),
                }
            }
        };
        let by_board = match shown {
            None => None,
            Some(shown) => Some(self.shown_score(&record, shown).await?),
        };
        let session_id = match (by_id, by_board) {
            (Some(a), Some(b)) if a != b => {
                return Err(DomainError::ScoreNotFound(format!(
                    "{a} (the score shown is another one)"
                )));
            }
            (a, b) => a.or(b),
        };
        self.ports
            .admin
            .add_report(&NewReport {
                player_key: record.key,
                session_id,
                reason,
                at: self.now(),
            })
            .await?;
        Ok(())
    }

    /// The session of the player's score a board shows: theirs in that game, of that score,
    /// achieved at that instant.
    async fn shown_score(
        &self,
        record: &PlayerRecord,
        shown: ShownScore<'_>,
    ) -> Result<SessionId, DomainError> {
        let game = self.game(shown.game)?;
        let at = parse_instant("achieved_at", shown.achieved_at)
            .map_err(|e| DomainError::InvalidReport(e.to_string()))?;
        // The player's scores of that instant: those achieved before the next millisecond,
        // newest first (a session id sorts after none at all).
        let cursor = HistoryCursor {
            achieved_at: Timestamp(at.0.saturating_add(1)),
            session_id: SessionId(uuid::Uuid::nil()),
        };
        self.ports
            .scores
            .history(game.id(), &record.key, Some(&cursor), SAME_INSTANT)
            .await?
            .into_iter()
            .find(|r| r.achieved_at == at && u64::from(r.score) == shown.score)
            .map(|r| r.session_id)
            .ok_or_else(|| {
                DomainError::ScoreNotFound(format!(
                    "{} of {} in {} at {}",
                    shown.score,
                    record.name,
                    game.id(),
                    shown.achieved_at
                ))
            })
    }

    /// The items waiting for review, oldest first.
    pub async fn review_queue(&self, limit: Limit) -> Result<Vec<ReviewItem>, DomainError> {
        Ok(self.ports.admin.review_queue(limit.get()).await?)
    }

    /// How many items wait for review, and since when the oldest.
    pub async fn review_depth(&self) -> Result<ReviewDepth, DomainError> {
        Ok(self.ports.admin.review_depth().await?)
    }

    /// Resolve an item of the queue: dismiss it, remove its score, or hide its player (each
    /// audited on its own), then mark it resolved.
    pub async fn resolve_review(
        &self,
        item: &str,
        resolution: Resolution,
        actor: &str,
        reason: Option<&str>,
    ) -> Result<(), DomainError> {
        let reason = parse_reason(reason)?;
        let found = self
            .ports
            .admin
            .review_item(item)
            .await?
            .ok_or_else(|| DomainError::ReviewItemNotFound(item.to_owned()))?;
        let why = reason
            .as_deref()
            .unwrap_or("resolved from the review queue");
        match resolution {
            Resolution::Dismiss => {}
            Resolution::RemoveScore => {
                let id = found.session_id.ok_or_else(|| {
                    DomainError::InvalidReason(format!("{item} names no score to remove"))
                })?;
                match self.remove_score(&id.to_string(), actor, Some(why)).await {
                    // Removed already (by another item about the same score): resolve this one.
                    Ok(()) | Err(DomainError::ScoreNotFound(_)) => {}
                    Err(e) => return Err(e),
                }
            }
            Resolution::HidePlayer => {
                self.set_player_hidden(&found.player, true, actor, Some(why))
                    .await?;
            }
        }
        let audit = NewAudit {
            at: self.now(),
            actor: actor.to_owned(),
            action: AdminAction::ReviewResolved,
            target: item.to_owned(),
            reason,
            before: Some(serde_json::json!({
                "kind": found.kind,
                "player": found.player,
                "game": found.game,
                "score": found.score,
                "flags": found.flags,
                "reason": found.reason,
            })),
            after: Some(serde_json::json!({ "resolution": resolution.as_str() })),
        };
        if !self
            .ports
            .admin
            .resolve_review(item, resolution.as_str(), &audit)
            .await?
        {
            return Err(DomainError::ReviewItemNotFound(item.to_owned()));
        }
        self.ports.observer.admin_action(&audit);
        Ok(())
    }
}
