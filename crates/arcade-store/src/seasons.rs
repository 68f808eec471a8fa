//! Seasons, in either database: each change with its audit record in one write transaction.
//! The seasons are read where every committed write is seen (PostgreSQL's primary: an operator
//! reads a season they just added); boards on the reads that may lag.

use std::ops::Range;

use arcade_domain::BackendError;
use arcade_domain::admin::NewAudit;
use arcade_domain::ports::SeasonStore;
use arcade_domain::ranks::{Ranked, Standing};
use arcade_domain::season::Season;
use arcade_domain::time::Timestamp;
use async_trait::async_trait;

use crate::dialect::{Backend, span_names};
use crate::postgres::PostgresStore;
use crate::rows::{self, SeasonPlaceRow, SeasonRow, season_query};
use crate::sqlite::SqliteStore;

/// `SeasonStore` for the store of `$backend` (`sqlite` or `postgres`).
macro_rules! season_store {
    ($backend:ident, $store:ty) => {
        const _: () = {
            span_names!($backend:
                SEASONS = seasons,
                SEASON = season,
                ADD_SEASON = add_season,
                REMOVE_SEASON = remove_season,
                SEASON_PAGE = season_page,
            );

            fn err(e: sqlx::Error) -> BackendError {
                <$store as Backend>::err(e)
            }

            #[async_trait]
            impl SeasonStore for $store {
                #[tracing::instrument(name = SEASONS, skip_all, fields(db.system = Self::SYSTEM))]
                async fn seasons(&self) -> Result<Vec<Season>, BackendError> {
                    Ok(
                        sqlx::query_as::<_, SeasonRow>(season_query!(
                            "ORDER BY starts_at DESC, slug"
                        ))
                        .fetch_all(self.fresh_reads())
                        .await
                        .map_err(err)?
                        .into_iter()
                        .map(Season::from)
                        .collect(),
                    )
                }

                #[tracing::instrument(name = SEASON, skip_all, fields(db.system = Self::SYSTEM))]
                async fn season(&self, slug: &str) -> Result<Option<Season>, BackendError> {
                    Ok(
                        sqlx::query_as::<_, SeasonRow>(season_query!("WHERE slug = $1"))
                            .bind(slug)
                            .fetch_optional(self.fresh_reads())
                            .await
                            .map_err(err)?
                            .map(Season::from),
                    )
                }

                #[tracing::instrument(name = ADD_SEASON, skip_all, fields(db.system = Self::SYSTEM))]
                async fn add_season(
                    &self,
                    season: &Season,
                    audit: &NewAudit,
                ) -> Result<bool, BackendError> {
                    self.change_one_row(
                        sqlx::query(
                            "INSERT INTO seasons (slug, title, starts_at, ends_at, created_at) \
                             VALUES ($1, $2, $3, $4, $5) ON CONFLICT (slug) DO NOTHING",
                        )
                        .bind(&season.slug)
                        .bind(&season.title)
                        .bind(season.starts_at.0)
                        .bind(season.ends_at.0)
                        .bind(season.created_at.0),
                        audit,
                        &[],
                    )
                    .await
                }

                #[tracing::instrument(name = REMOVE_SEASON, skip_all, fields(db.system = Self::SYSTEM))]
                async fn remove_season(
                    &self,
                    slug: &str,
                    audit: &NewAudit,
                ) -> Result<bool, BackendError> {
                    self.change_one_row(
                        sqlx::query("DELETE FROM seasons WHERE slug = $1")
                            .bind(slug),
                        audit,
                        &[],
                    )
                    .await
                }

                #[tracing::instrument(name = SEASON_PAGE, skip_all, fields(db.system = Self::SYSTEM))]
                async fn season_page(
                    &self,
                    game: &str,
                    during: Range<Timestamp>,
                    after: Option<&Standing>,
                    limit: usize,
                ) -> Result<Vec<Ranked>, BackendError> {
                    let (score, at, key) = crate::rows::page_bound(after);
                    Ok(sqlx::query_as::<_, SeasonPlaceRow>(rows::SEASON_PAGE)
                        .bind(game)
                        .bind(during.start.0)
                        .bind(during.end.0)
                        .bind(score)
                        .bind(at)
                        .bind(key)
                        .bind(i64::try_from(limit).unwrap_or(i64::MAX))
                        .fetch_all(self.reads())
                        .await
                        .map_err(err)?
                        .into_iter()
                        .map(Ranked::from)
                        .collect())
                }
            }
        };
    };
}

season_store!(sqlite, SqliteStore);
season_store!(postgres, PostgresStore);
