//! The name deny list in PostgreSQL: each change with its audit record and its event in one
//! transaction on the primary. Reads go to the primary too: a replica that reloads the list
//! because of a change's event must read the change.

use arcade_domain::BackendError;
use arcade_domain::admin::NewAudit;
use arcade_domain::event::Event;
use arcade_domain::name_rules::{NameRule, NewNameRule};
use arcade_domain::ports::{NameRuleStore, PlayerRecord, RuleAudit};
use async_trait::async_trait;

use crate::postgres::PostgresStore;
use crate::postgres_admin::{add_events, append_audit};
use crate::rows::{NameRuleRow, PlayerRow, name_rule_query, player_query};
use crate::{Dialect, backend_error};

const BACKEND: &str = "postgres";

fn err(e: sqlx::Error) -> BackendError {
    backend_error(Dialect::Postgres, e)
}

#[async_trait]
impl NameRuleStore for PostgresStore {
    #[tracing::instrument(name = "postgres.name_rules", skip_all, fields(db.system = "postgresql"))]
    async fn name_rules(&self) -> Result<Vec<NameRule>, BackendError> {
        sqlx::query_as::<_, NameRuleRow>(name_rule_query!("ORDER BY id"))
            .fetch_all(self.pool())
            .await
            .map_err(err)?
            .into_iter()
            .map(|r| r.into_rule(BACKEND))
            .collect()
    }

    #[tracing::instrument(name = "postgres.add_name_rule", skip_all, fields(db.system = "postgresql"))]
    async fn add_name_rule(
        &self,
        rule: &NewNameRule,
        audit: RuleAudit<'_>,
        events: &[Event],
    ) -> Result<Option<NameRule>, BackendError> {
        let mut tx = self.pool().begin().await.map_err(err)?;
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
        let stored = stored.into_rule(BACKEND)?;
        append_audit(&mut tx, &audit(&stored)).await?;
        add_events(&mut tx, events).await?;
        tx.commit().await.map_err(err)?;
        Ok(Some(stored))
    }

    #[tracing::instrument(name = "postgres.remove_name_rule", skip_all, fields(db.system = "postgresql"))]
    async fn remove_name_rule(
        &self,
        id: i64,
        audit: &NewAudit,
        events: &[Event],
    ) -> Result<bool, BackendError> {
        let mut tx = self.pool().begin().await.map_err(err)?;
        let removed = sqlx::query("DELETE FROM name_rules WHERE id = $1")
            .bind(id)
            .execute(&mut *tx)
            .await
            .map_err(err)?
            .rows_affected()
            == 1;
        if !removed {
            return Ok(false);
        }
        append_audit(&mut tx, audit).await?;
        add_events(&mut tx, events).await?;
        tx.commit().await.map_err(err)?;
        Ok(true)
    }

    #[tracing::instrument(name = "postgres.players_after", skip_all, fields(db.system = "postgresql"))]
    async fn players_after(
        &self,
        after: Option<&str>,
        limit: usize,
    ) -> Result<Vec<PlayerRecord>, BackendError> {
        sqlx::query_as::<_, PlayerRow>(player_query!(
            "WHERE $1::text IS NULL OR key > $1 ORDER BY key LIMIT $2"
        ))
        .bind(after)
        .bind(i64::try_from(limit).unwrap_or(i64::MAX))
        .fetch_all(self.pool())
        .await
        .map_err(err)?
        .into_iter()
        .map(|row| row.into_record(BACKEND))
        .collect()
    }
}
