//! Seasons in PostgreSQL: each change with its audit record in one transaction on the
//! primary. The seasons are read on the primary too (an operator reads a season they just
//! added); boards on the read pool.

use std::ops::Range;

use arcade_domain::BackendError;
use arcade_domain::admin::NewAudit;
use arcade_domain::ports::SeasonStore;
use arcade_domain::ranks::{Ranked, Standing};
use arcade_domain::season::Season;
use arcade_domain::time::Timestamp;
use async_trait::async_trait;

use crate::postgres::PostgresStore;
use crate::postgres_admin::append_audit;
use crate::rows::{SEASON_PAGE, SeasonPlaceRow, SeasonRow, season_query};
use crate::{Dialect, backend_error};

fn err(e: sqlx::Error) -> BackendError {
    backend_error(Dialect::Postgres, e)
}

#[async_trait]
impl SeasonStore for PostgresStore {
    #[tracing::instrument(name = "postgres.seasons", skip_all, fields(db.system = "postgresql"))]
    async fn seasons(&self) -> Result<Vec<Season>, BackendError> {
        Ok(
            sqlx::query_as::<_, SeasonRow>(season_query!("ORDER BY starts_at DESC, slug"))
                .fetch_all(self.pool())
                .await
                .map_err(err)?
                .into_iter()
                .map(Season::from)
                .collect(),
        )
    }

    #[tracing::instrument(name = "postgres.season", skip_all, fields(db.system = "postgresql"))]
    async fn season(&self, slug: &str) -> Result<Option<Season>, BackendError> {
        Ok(
            sqlx::query_as::<_, SeasonRow>(season_query!("WHERE slug = $1"))
                .bind(slug)
                .fetch_optional(self.pool())
                .await
                .map_err(err)?
                .map(Season::from),
        )
    }

    #[tracing::instrument(name = "postgres.add_season", skip_all, fields(db.system = "postgresql"))]
    async fn add_season(&self, season: &Season, audit: &NewAudit) -> Result<bool, BackendError> {
        let mut tx = self.pool().begin().await.map_err(err)?;
        let added = sqlx::query(
            "INSERT INTO seasons (slug, title, starts_at, ends_at, created_at) \
             VALUES ($1, $2, $3, $4, $5) ON CONFLICT (slug) DO NOTHING",
        )
        .bind(&season.slug)
        .bind(&season.title)
        .bind(season.starts_at.0)
        .bind(season.ends_at.0)
        .bind(season.created_at.0)
        .execute(&mut *tx)
        .await
        .map_err(err)?
        .rows_affected()
            == 1;
        if !added {
            return Ok(false);
        }
        append_audit(&mut tx, audit).await?;
        tx.commit().await.map_err(err)?;
        Ok(true)
    }

    #[tracing::instrument(name = "postgres.remove_season", skip_all, fields(db.system = "postgresql"))]
    async fn remove_season(&self, slug: &str, audit: &NewAudit) -> Result<bool, BackendError> {
        let mut tx = self.pool().begin().await.map_err(err)?;
        let removed = sqlx::query("DELETE FROM seasons WHERE slug = $1")
            .bind(slug)
            .execute(&mut *tx)
            .await
            .map_err(err)?
            .rows_affected()
            == 1;
        if !removed {
            return Ok(false);
        }
        append_audit(&mut tx, audit).await?;
        tx.commit().await.map_err(err)?;
        Ok(true)
    }

    #[tracing::instrument(name = "postgres.season_page", skip_all, fields(db.system = "postgresql"))]
    async fn season_page(
        &self,
        game: &str,
        during: Range<Timestamp>,
        after: Option<&Standing>,
        limit: usize,
    ) -> Result<Vec<Ranked>, BackendError> {
        let (score, at, key) = after.map_or((i64::MAX, i64::MIN, ""), |a| {
            (
                i64::try_from(a.score).unwrap_or(i64::MAX),
                a.achieved_at_ms,
                a.player_key.as_str(),
            )
        });
        Ok(sqlx::query_as::<_, SeasonPlaceRow>(SEASON_PAGE)
            .bind(game)
            .bind(during.start.0)
            .bind(during.end.0)
            .bind(score)
            .bind(at)
            .bind(key)
            .bind(i64::try_from(limit).unwrap_or(i64::MAX))
            .fetch_all(&self.reads)
            .await
            .map_err(err)?
            .into_iter()
            .map(Ranked::from)
            .collect())
    }
}
