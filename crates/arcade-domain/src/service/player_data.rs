//! Players' rights: a player (with their token) or an operator exports everything Arcade
//! keeps of the player, or erases it. An erasure is audited under a random reference, never
//! the name, and its events tell every replica to forget the player: their sessions, and
//! their entries on the boards the rank index may still hold ([`Arcade::forget_erased_player`]).

use serde_json::json;

use crate::DomainError;
use crate::admin::{AdminAction, NewAudit, parse_reason};
use crate::event::{Event, EventKind};
use crate::player_data::{Erased, Erasure, PlayerData};
use crate::ports::PlayerRecord;
use crate::time::{BoardKey, Calendar, Period, Timestamp};

use super::Arcade;

/// Who the audit log says erased a player who asked for it themselves.
pub const PLAYER_ACTOR: &str = "player";

/// Days back whose day boards, and weeks back whose week boards, an erasure clears in the
/// rank index: the boards it keeps after their period ended (a day board two days, a week
/// board eight), with a day and a week to spare.
const DAYS_KEPT: i64 = 3;
const WEEKS_KEPT: i64 = 2;
const DAY_MS: i64 = 86_400_000;

/// What an erasure did, for whoever asked for it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ErasureReceipt {
    /// The audit log's reference of the erasure (`erasure:ID`).
    pub reference: String,
    pub erased: Erased,
    /// Whether the name is blocked from now on (otherwise anyone may claim it).
    pub name_blocked: bool,
}

impl Arcade {
    /// The player of this name whose token `token` is; `NameTaken` (the token is missing or
    /// not theirs) otherwise.
    async fn player_by_token(
        &self,
        player: &str,
        token: Option<&str>,
    ) -> Result<PlayerRecord, DomainError> {
        let record = self.known_player(player).await?;
        match token {
            Some(t) if record.token_digest.matches(t) => Ok(record),
            _ => Err(DomainError::NameTaken(record.name)),
        }
    }

    async fn player_data(&self, record: &PlayerRecord) -> Result<PlayerData, DomainError> {
        self.ports
            .admin
            .player_data(&record.key)
            .await?
            .ok_or_else(|| DomainError::PlayerNotFound(record.name.clone()))
    }

    /// Everything kept of a player, for the player who shows their token.
    pub async fn export_own_data(
        &self,
        player: &str,
        token: Option<&str>,
    ) -> Result<PlayerData, DomainError> {
        let record = self.player_by_token(player, token).await?;
        self.player_data(&record).await
    }

    /// Everything kept of a player, for an operator.
    pub async fn export_player(&self, player: &str) -> Result<PlayerData, DomainError> {
        let record = self.known_player(player).await?;
        self.player_data(&record).await
    }

    /// Erase the player who shows their token; the name is free again at once.
    pub async fn erase_own_data(
        &self,
        player: &str,
        token: Option<&str>,
    ) -> Result<ErasureReceipt, DomainError> {
        let record = self.player_by_token(player, token).await?;
        self.erase(record, false, PLAYER_ACTOR, None).await
    }

    /// Erase a player on an operator's decision, saying why; with `block_name`, nobody may
    /// claim the name again.
    pub async fn erase_player(
        &self,
        player: &str,
        block_name: bool,
        actor: &str,
        reason: Option<&str>,
    ) -> Result<ErasureReceipt, DomainError> {
        let reason = parse_reason(reason)?.ok_or_else(|| {
            DomainError::InvalidReason("erasing a player needs a reason".to_owned())
        })?;
        let record = self.known_player(player).await?;
        self.erase(record, block_name, actor, Some(reason)).await
    }

    async fn erase(
        &self,
        record: PlayerRecord,
        block_name: bool,
        actor: &str,
        reason: Option<String>,
    ) -> Result<ErasureReceipt, DomainError> {
        let now = self.now();
        let erasure = Erasure {
            player_key: record.key.clone(),
            player_name: record.name.clone(),
            block_name: block_name.then_some(now),
            reference: format!("erasure:{}", uuid::Uuid::new_v4()),
        };
        let audit = NewAudit {
            at: now,
            actor: actor.to_owned(),
            action: AdminAction::PlayerErased,
            target: erasure.reference.clone(),
            reason,
            before: None,
            after: Some(json!({
                "requested_by": if actor == PLAYER_ACTOR { "player" } else { "operator" },
                "name": if block_name { "blocked" } else { "released" },
            })),
        };
        // The replicas need the name to find the player in their rank indexes and live
        // pages; the events leave the outbox once the bus has them.
        let subject = uuid::Uuid::new_v4();
        let events: Vec<Event> = self
            .games()
            .iter()
            .map(|g| {
                Event::moderation(EventKind::PlayerDeleted, g.id(), &record.name, subject, now)
            })
            .collect();
        let erased = self
            .ports
            .admin
            .erase_player(&erasure, &audit, &events)
            .await?
            .ok_or_else(|| DomainError::PlayerNotFound(record.name.clone()))?;
        self.ports.observer.admin_action(&audit);
        self.forget_erased_player(&record.key).await?;
        // Stored with the erasure, and never written again: they leave once the bus has them.
        self.ports.outbox.wake();
        Ok(ErasureReceipt {
            reference: erasure.reference,
            erased,
            name_blocked: block_name,
        })
    }

    /// What every replica does when a player is erased: forget their sessions and take them
    /// off every board the rank index may hold (the current ones and those of the last days
    /// and weeks). Doing it twice does nothing more.
    pub async fn forget_erased_player(&self, player_key: &str) -> Result<(), DomainError> {
        self.ports.sessions.forget_player(player_key).await?;
        let boards = recent_boards(
            &self.calendar,
            self.games().iter().map(|g| g.id()),
            self.now(),
        );
        futures::future::try_join_all(
            boards
                .iter()
                .map(|b| async move { self.ports.ranks.set(b, player_key, None).await }),
        )
        .await?;
        Ok(())
    }
}

/// Every board of `games` a rank index may still hold at `now`, days and weeks as
/// `calendar` counts them.
fn recent_boards<'a>(
    calendar: &Calendar,
    games: impl Iterator<Item = &'a str>,
    now: Timestamp,
) -> Vec<BoardKey> {
    let mut boards = Vec::new();
    for game in games {
        let back = |days: i64| Timestamp(now.0 - days * DAY_MS);
        let mut keys = vec![calendar.board(game, Period::All, now)];
        keys.extend((0..=DAYS_KEPT).map(|d| calendar.board(game, Period::Day, back(d))));
        keys.extend((0..=WEEKS_KEPT).map(|w| calendar.board(game, Period::Week, back(w * 7))));
        for key in keys {
            if !boards.contains(&key) {
                boards.push(key);
            }
        }
    }
    boards
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_erasure_clears_the_current_boards_and_those_kept_after_their_period() {
        let now = Timestamp(1_800_000_000_000);
        let calendar = Calendar::utc();
        let boards = recent_boards(&calendar, ["g"].into_iter(), now);
        let days: Vec<_> = boards.iter().filter(|b| b.period == Period::Day).collect();
        let weeks: Vec<_> = boards.iter().filter(|b| b.period == Period::Week).collect();
        assert_eq!(boards.iter().filter(|b| b.period == Period::All).count(), 1);
        assert_eq!(days.len(), 4, "today and the three days before");
        assert_eq!(weeks.len(), 3, "this week and the two before");
        assert!(days.contains(&&calendar.board("g", Period::Day, now)));
        let last_week = calendar.board("g", Period::Week, Timestamp(now.0 - 8 * DAY_MS));
        assert!(weeks.contains(&&last_week));
    }
}
