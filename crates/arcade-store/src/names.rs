//! The name deny list, in either database: each change with its audit record and its event
//! in one write transaction. Reads see every committed write (PostgreSQL's primary): a
//! replica that reloads the list because of a change's event must read the change.

use arcade_domain::BackendError;
use arcade_domain::admin::NewAudit;
use arcade_domain::event::Event;
use arcade_domain::name_rules::{NameRule, NewNameRule};
use arcade_domain::ports::{NameRuleStore, PlayerRecord, RuleAudit};
use async_trait::async_trait;

use crate::dialect::{Backend, span_names};
use crate::postgres::PostgresStore;
use crate::rows::{NameRuleRow, PlayerRow, name_rule_query, player_query};
use crate::sqlite::SqliteStore;

/// `NameRuleStore` for the store of `$backend` (`sqlite` or `postgres`).
macro_rules! name_rule_store {
    ($backend:ident, $store:ty) => {
        const _: () = {
            span_names!($backend:
                NAME_RULES = name_rules,
                ADD_NAME_RULE = add_name_rule,
                REMOVE_NAME_RULE = remove_name_rule,
                PLAYERS_AFTER = players_after,
            );

            fn err(e: sqlx::Error) -> BackendError {
                <$store as Backend>::err(e)
            }

            #[async_trait]
            impl NameRuleStore for $store {
                #[tracing::instrument(name = NAME_RULES, skip_all, fields(db.system = Self::SYSTEM))]
                async fn name_rules(&self) -> Result<Vec<NameRule>, BackendError> {
                    sqlx::query_as::<_, NameRuleRow>(name_rule_query!("ORDER BY id"))
                        .fetch_all(self.fresh_reads())
                        .await
                        .map_err(err)?
                        .into_iter()
                        .map(|r| r.into_rule(Self::NAME))
                        .collect()
                }

                #[tracing::instrument(name = ADD_NAME_RULE, skip_all, fields(db.system = Self::SYSTEM))]
                async fn add_name_rule(
                    &self,
                    rule: &NewNameRule,
                    audit: RuleAudit<'_>,
                    events: &[Event],
                ) -> Result<Option<NameRule>, BackendError> {
                    let mut tx = self.begin_write().await?;
                    let stored = sqlx::query_as::<_, NameRuleRow>(
                        "INSERT INTO name_rules (kind, value, folded, created_at, created_by) \
                         VALUES ($1, $2, $3, $4, $5) ON CONFLICT (kind, folded) DO NOTHING \
                         RETURNING id, kind, value, folded, created_at, created_by",
                    )
                    .bind(rule.kind.as_str())
                    .bind(&rule.value)
                    .bind(&rule.folded)
                    .bind(rule.created_at.0)
                    .bind(&rule.created_by)
                    .fetch_optional(&mut *tx)
                    .await
                    .map_err(err)?;
                    let Some(stored) = stored else {
                        return Ok(None);
                    };
                    let stored = stored.into_rule(Self::NAME)?;
                    Self::commit_change(tx, &audit(&stored), events).await?;
                    Ok(Some(stored))
                }

                #[tracing::instrument(name = REMOVE_NAME_RULE, skip_all, fields(db.system = Self::SYSTEM))]
                async fn remove_name_rule(
                    &self,
                    id: i64,
                    audit: &NewAudit,
                    events: &[Event],
                ) -> Result<bool, BackendError> {
                    self.change_one_row(
                        sqlx::query("DELETE FROM name_rules WHERE id = $1").bind(id),
                        audit,
                        events,
                    )
                    .await
                }

                #[tracing::instrument(name = PLAYERS_AFTER, skip_all, fields(db.system = Self::SYSTEM))]
                async fn players_after(
                    &self,
                    after: Option<&str>,
                    limit: usize,
                ) -> Result<Vec<PlayerRecord>, BackendError> {
                    sqlx::query_as::<_, PlayerRow>(player_query!(
                        "WHERE CAST($1 AS TEXT) IS NULL OR key > $1 ORDER BY key LIMIT $2"
                    ))
                    .bind(after)
                    .bind(i64::try_from(limit).unwrap_or(i64::MAX))
                    .fetch_all(self.fresh_reads())
                    .await
                    .map_err(err)?
                    .into_iter()
                    .map(|row| row.into_record(Self::NAME))
                    .collect()
                }
            }
        };
    };
}

name_rule_store!(sqlite, SqliteStore);
name_rule_store!(postgres, PostgresStore);
