//! Seasons' use cases: operators add and remove seasons (each audited), anyone lists them and
//! reads a game's board of a season.
//!
//! A season may be removed until it is over (one added by mistake, or with the wrong dates,
//! is removed and added again); a finished season's board is an archive, and stays.

use serde_json::json;

use crate::DomainError;
use crate::admin::{AdminAction, NewAudit, parse_reason};
use crate::query::{self, Limit};
use crate::ranks::Ranked;
use crate::season::{MAX_SEASONS, Season, parse_slug};
use crate::time::Timestamp;

use super::Arcade;

/// A page of a game's board of a season.
#[derive(Debug, Clone)]
pub struct SeasonBoardPage {
    pub game: String,
    pub season: Season,
    /// Whether the season is over: its board is final for play.
    pub finished: bool,
    pub entries: Vec<Ranked>,
    pub next_cursor: Option<String>,
}

/// A season as the audit log shows it.
fn season_json(s: &Season) -> serde_json::Value {
    json!({
        "slug": s.slug,
        "title": s.title,
        "starts_at": s.starts_at.to_rfc3339(),
        "ends_at": s.ends_at.to_rfc3339(),
        "created_at": s.created_at.to_rfc3339(),
    })
}

impl Arcade {
    /// Every season, newest first.
    pub async fn seasons(&self) -> Result<Vec<Season>, DomainError> {
        Ok(self.ports.seasons.seasons().await?)
    }

    /// The season of this slug; `SeasonNotFound` when there is none.
    pub async fn season(&self, slug: &str) -> Result<Season, DomainError> {
        let slug = parse_slug(slug).map_err(|_| DomainError::SeasonNotFound(slug.to_owned()))?;
        self.ports
            .seasons
            .season(&slug)
            .await?
            .ok_or(DomainError::SeasonNotFound(slug))
    }

    /// Add a season from `starts_at` (included) to `ends_at` (excluded), on behalf of
    /// `actor`. Its boards rank the scores played within it, before it was added too.
    pub async fn add_season(
        &self,
        slug: &str,
        title: &str,
        starts_at: Timestamp,
        ends_at: Timestamp,
        actor: &str,
        reason: Option<&str>,
    ) -> Result<Season, DomainError> {
        let reason = parse_reason(reason)?;
        let now = self.now();
        let season = Season::parse(slug, title, starts_at, ends_at, now)?;
        if self.ports.seasons.seasons().await?.len() >= MAX_SEASONS {
            return Err(DomainError::InvalidSeason(format!(
                "the arcade keeps at most {MAX_SEASONS} seasons"
            )));
        }
        let audit = NewAudit {
            at: now,
            actor: actor.to_owned(),
            action: AdminAction::SeasonAdded,
            target: format!("season:{}", season.slug),
            reason,
            before: None,
            after: Some(season_json(&season)),
        };
        if !self.ports.seasons.add_season(&season, &audit).await? {
            return Err(DomainError::SeasonExists(season.slug));
        }
        self.ports.observer.admin_action(&audit);
        Ok(season)
    }

    /// Remove a season that is not over yet, on behalf of `actor`, who says why.
    pub async fn remove_season(
        &self,
        slug: &str,
        actor: &str,
        reason: Option<&str>,
    ) -> Result<Season, DomainError> {
        let reason = parse_reason(reason)?.ok_or_else(|| {
            DomainError::InvalidReason("removing a season needs a reason".to_owned())
        })?;
        let season = self.season(slug).await?;
        let now = self.now();
        if season.is_finished(now) {
            return Err(DomainError::SeasonFinished(season.slug));
        }
        let audit = NewAudit {
            at: now,
            actor: actor.to_owned(),
            action: AdminAction::SeasonRemoved,
            target: format!("season:{}", season.slug),
            reason: Some(reason),
            before: Some(season_json(&season)),
            after: None,
        };
        if !self
            .ports
            .seasons
            .remove_season(&season.slug, &audit)
            .await?
        {
            // Removed meanwhile by someone else.
            return Err(DomainError::SeasonNotFound(season.slug));
        }
        self.ports.observer.admin_action(&audit);
        Ok(season)
    }

    /// A page of a game's board of a season: every player's best score within it. A season
    /// still to come has an empty board.
    pub async fn season_leaderboard(
        &self,
        game_id: &str,
        slug: &str,
        limit: Limit,
        cursor: Option<&str>,
    ) -> Result<SeasonBoardPage, DomainError> {
        let game = self.game(game_id)?;
        let after = cursor.map(query::decode_board_cursor).transpose()?;
        let season = self.season(slug).await?;
        // Whether it is over is decided before the read: a page read as the season ends is
        // served as a running one's, never cached as final with a score missing.
        let finished = season.is_finished(self.now());
        let entries = self
            .ports
            .seasons
            .season_page(
                game.id(),
                season.starts_at..season.ends_at,
                after.as_ref(),
                limit.get() + 1,
            )
            .await?;
        let (entries, next_cursor) = super::board_entries(entries, limit);
        Ok(SeasonBoardPage {
            game: game.id().to_owned(),
            season,
            finished,
            entries,
            next_cursor,
        })
    }
}
