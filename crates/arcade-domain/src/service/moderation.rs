//! Operators' actions on players and scores: hide and show a player, ban and unban them,
//! rename them (blocking the old name or not), remove a score. Each is stored with its audit record and the events that tell every
//! replica (and the CLI's changes, the servers) to bring the player's entries in the rank
//! index up to date: [`Arcade::refresh_player`], which this replica also runs at once.

use std::collections::HashMap;

use serde_json::json;

use crate::DomainError;
use crate::admin::{AdminAction, NewAudit, parse_reason};
use crate::event::{Event, EventKind};
use crate::name::PlayerName;
use crate::ports::PlayerRecord;
use crate::ranks::Standing;
use crate::session::SessionId;
use crate::time::{BoardKey, Period};

use super::Arcade;

/// A player as the audit log shows them: their state, never their token's digest.
fn player_json(p: &PlayerRecord) -> serde_json::Value {
    json!({
        "name": p.name,
        "hidden_at": p.hidden_at.map(|t| t.to_rfc3339()),
        "banned_at": p.banned_at.map(|t| t.to_rfc3339()),
    })
}

impl Arcade {
    async fn player_record(&self, player: &str) -> Result<PlayerRecord, DomainError> {
        let name = PlayerName::parse(player)?;
        self.ports
            .scores
            .find_player(name.key())
            .await?
            .ok_or_else(|| DomainError::PlayerNotFound(name.as_str().to_owned()))
    }

    /// Take a player off every board of every period (`hidden`), or put them back. Doing what
    /// is already done changes and records nothing, but still brings the rank index up to
    /// date (so a try that failed half-way is finished by trying again).
    pub async fn set_player_hidden(
        &self,
        player: &str,
        hidden: bool,
        actor: &str,
        reason: Option<&str>,
    ) -> Result<(), DomainError> {
        let reason = parse_reason(reason)?;
        let before = self.player_record(player).await?;
        if before.hidden_at.is_some() != hidden {
            let now = self.now();
            let after = PlayerRecord {
                hidden_at: hidden.then_some(now),
                ..before.clone()
            };
            let (action, kind) = if hidden {
                (AdminAction::PlayerHidden, EventKind::PlayerHidden)
            } else {
                (AdminAction::PlayerUnhidden, EventKind::PlayerRestored)
            };
            let audit = NewAudit {
                at: now,
                actor: actor.to_owned(),
                action,
                target: format!("player:{}", before.key),
                reason,
                before: Some(player_json(&before)),
                after: Some(player_json(&after)),
            };
            let subject = uuid::Uuid::new_v4();
            let events: Vec<Event> = self
                .games()
                .iter()
                .map(|g| Event::moderation(kind, g.id(), &before.name, subject, now))
                .collect();
            if !self
                .ports
                .admin
                .set_hidden(&before.key, after.hidden_at, &audit, &events)
                .await?
            {
                return Err(DomainError::PlayerNotFound(before.name));
            }
            self.ports.observer.admin_action(&audit);
            self.refresh_player(&before.key).await?;
            // Stored with the change; this replica's relay takes them now that its rank index
            // is up to date.
            self.ports.outbox.wake();
            return Ok(());
        }
        self.refresh_player(&before.key).await
    }

    /// Ban a player from starting games, or lift the ban. Their scores stay where they are.
    pub async fn set_player_banned(
        &self,
        player: &str,
        banned: bool,
        actor: &str,
        reason: Option<&str>,
    ) -> Result<(), DomainError> {
        let reason = parse_reason(reason)?;
        let before = self.player_record(player).await?;
        if before.banned_at.is_some() == banned {
            return Ok(());
        }
        let now = self.now();
        let after = PlayerRecord {
            banned_at: banned.then_some(now),
            ..before.clone()
        };
        let audit = NewAudit {
            at: now,
            actor: actor.to_owned(),
            action: if banned {
                AdminAction::PlayerBanned
            } else {
                AdminAction::PlayerUnbanned
            },
            target: format!("player:{}", before.key),
            reason,
            before: Some(player_json(&before)),
            after: Some(player_json(&after)),
        };
        if !self
            .ports
            .admin
            .set_banned(&before.key, after.banned_at, &audit)
            .await?
        {
            return Err(DomainError::PlayerNotFound(before.name));
        }
        self.ports.observer.admin_action(&audit);
        Ok(())
    }

    /// Remove one score, saying why: the player's bests are recomputed from the scores left,
    /// on every board of every period, and their ranks follow.
    pub async fn remove_score(
        &self,
        session_id: &str,
        actor: &str,
        reason: Option<&str>,
    ) -> Result<(), DomainError> {
        let reason = parse_reason(reason)?.ok_or_else(|| {
            DomainError::InvalidReason("removing a score needs a reason".to_owned())
        })?;
        let id = SessionId::parse(session_id)?;
        let row = self
            .ports
            .scores
            .score_by_session(id)
            .await?
            .ok_or_else(|| DomainError::ScoreNotFound(id.to_string()))?;
        let now = self.now();
        let audit = NewAudit {
            at: now,
            actor: actor.to_owned(),
            action: AdminAction::ScoreRemoved,
            target: format!("score:{id}"),
            reason: Some(reason),
            before: Some(json!({
                "game": row.game,
                "player": row.player_name,
                "score": row.score,
                "achieved_at": row.achieved_at.to_rfc3339(),
                "flags": row.flags,
            })),
            after: None,
        };
        let events = [Event::moderation(
            EventKind::ScoreRemoved,
            &row.game,
            &row.player_name,
            id.0,
            now,
        )];
        if !self.ports.admin.remove_score(id, &audit, &events).await? {
            return Err(DomainError::ScoreNotFound(id.to_string()));
        }
        self.ports.observer.admin_action(&audit);
        self.refresh_player(&row.player_key).await?;
        self.ports.outbox.wake();
        Ok(())
    }

    /// Rename a player: their token, scores and bests move to the new name (the player plays
    /// on with the same token under it); with `block_old`, nobody may claim the old name
    /// again. A game the player is playing under the old name cannot be finished.
    pub async fn rename_player(
        &self,
        player: &str,
        new_name: &str,
        block_old: bool,
        actor: &str,
        reason: Option<&str>,
    ) -> Result<(), DomainError> {
        let reason = parse_reason(reason)?;
        let before = self.player_record(player).await?;
        let new = PlayerName::parse(new_name)?;
        if new.key() != before.key {
            let taken = self.ports.scores.find_player(new.key()).await?.is_some();
            if taken || self.ports.admin.is_blocked(new.key()).await? {
                return Err(DomainError::NameUnavailable(new.as_str().to_owned()));
            }
        } else if new.as_str() == before.name && !block_old {
            return Ok(());
        }
        let now = self.now();
        let audit = NewAudit {
            at: now,
            actor: actor.to_owned(),
            action: AdminAction::PlayerRenamed,
            target: format!("player:{}", before.key),
            reason,
            before: Some(player_json(&before)),
            after: Some(json!({
                "name": new.as_str(),
                "old_name_blocked": block_old,
            })),
        };
        let subject = uuid::Uuid::new_v4();
        let events: Vec<Event> = self
            .games()
            .iter()
            .flat_map(|g| {
                [before.name.as_str(), new.as_str()].map(|name| {
                    Event::moderation(EventKind::PlayerRenamed, g.id(), name, subject, now)
                })
            })
            .collect();
        let renamed = self
            .ports
            .admin
            .rename_player(
                &before.key,
                new.key(),
                new.as_str(),
                block_old.then_some(now),
                &audit,
                &events,
            )
            .await?;
        if !renamed {
            return Err(DomainError::NameUnavailable(new.as_str().to_owned()));
        }
        self.ports.observer.admin_action(&audit);
        self.refresh_player(&before.key).await?;
        self.refresh_player(new.key()).await?;
        self.ports.outbox.wake();
        Ok(())
    }

    /// Bring a player's entries on the current boards of every game up to date with the
    /// store's bests, each set in one step (readers never find the player missing meanwhile).
    /// A finish that lands between the read and the set could be undone by it, so the bests
    /// are read again afterwards and submitted best-only: its score is either read then or
    /// submitted by the finish after the set.
    pub async fn refresh_player(&self, player_key: &str) -> Result<(), DomainError> {
        let now = self.now();
        let boards: Vec<BoardKey> = self
            .games()
            .iter()
            .flat_map(|g| Period::ALL.map(|p| self.calendar.board(g.id(), p, now)))
            .collect();
        let mut bests: HashMap<BoardKey, Standing> = self
            .ports
            .admin
            .player_bests(player_key)
            .await?
            .into_iter()
            .collect();
        futures::future::try_join_all(boards.iter().map(|b| {
            let standing = bests.remove(b);
            async move { self.ports.ranks.set(b, player_key, standing).await }
        }))
        .await?;
        let bests = self.ports.admin.player_bests(player_key).await?;
        futures::future::try_join_all(
            bests
                .into_iter()
                .filter(|(board, _)| boards.contains(board))
                .map(|(board, standing)| async move {
                    self.ports.ranks.submit(&board, standing).await
                }),
        )
        .await?;
        Ok(())
    }

    /// What a replica does with an operator's event from the bus: the player's entries in
    /// this replica's rank index follow the store. `false` for any other event.
    pub async fn apply_moderation(&self, event: &Event) -> Result<bool, DomainError> {
        if !event.kind.is_moderation() {
            return Ok(false);
        }
        let name = PlayerName::parse(&event.player)?;
        if event.kind == EventKind::PlayerDeleted {
            self.forget_erased_player(name.key()).await?;
        } else {
            self.refresh_player(name.key()).await?;
        }
        Ok(true)
    }
}
