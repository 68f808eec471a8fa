//! Operators and the audit log in SQLite: each change and its audit record in one
//! transaction on the writing connection.

use arcade_domain::BackendError;
use arcade_domain::admin::{AuditRecord, NewAudit, NewReport, Operator, ReviewDepth, ReviewItem};
use arcade_domain::event::Event;
use arcade_domain::player_data::{Erased, Erasure, PlayerData};
use arcade_domain::ports::AdminStore;
use arcade_domain::ranks::Standing;
use arcade_domain::retention::RetentionReport;
use arcade_domain::session::SessionId;
use arcade_domain::time::{BoardKey, Timestamp};
use arcade_domain::token::TokenDigest;
use async_trait::async_trait;
use uuid::fmt::Hyphenated;

use crate::rows::{
    AuditRow, BestRow, OperatorRecord, ReviewRow, audit_query, operator_query, player_bests_query,
    review_query,
};
use crate::sqlite::SqliteStore;
use crate::{Dialect, backend_error};

const BACKEND: &str = "sqlite";

fn err(e: sqlx::Error) -> BackendError {
    backend_error(Dialect::Sqlite, e)
}

#[async_trait]
impl AdminStore for SqliteStore {
    #[tracing::instrument(name = "sqlite.create_operator", skip_all, fields(db.system = "sqlite"))]
    async fn create_operator(
        &self,
        operator: &Operator,
        audit: &NewAudit,
    ) -> Result<bool, BackendError> {
        let mut tx = self
            .writes
            .begin_with("BEGIN IMMEDIATE")
            .await
            .map_err(err)?;
        let created = sqlx::query(
            "INSERT INTO operators (id, name, token_digest, created_at, revoked_at) \
             VALUES (?, ?, ?, ?, ?) ON CONFLICT DO NOTHING",
        )
        .bind(operator.id.hyphenated().to_string())
        .bind(&operator.name)
        .bind(&operator.token_digest.0[..])
        .bind(operator.created_at.0)
        .bind(operator.revoked_at.map(|t| t.0))
        .execute(&mut *tx)
        .await
        .map_err(err)?
        .rows_affected()
            == 1;
        if !created {
            return Ok(false);
        }
        Self::append_audit(&mut tx, audit).await?;
        tx.commit().await.map_err(err)?;
        Ok(true)
    }

    #[tracing::instrument(name = "sqlite.operators", skip_all, fields(db.system = "sqlite"))]
    async fn operators(&self) -> Result<Vec<Operator>, BackendError> {
        sqlx::query_as::<_, OperatorRecord<Hyphenated>>(operator_query!("ORDER BY name"))
            .fetch_all(&self.reads)
            .await
            .map_err(err)?
            .into_iter()
            .map(|r| r.into_operator(BACKEND))
            .collect()
    }

    #[tracing::instrument(name = "sqlite.operator_by_token", skip_all, fields(db.system = "sqlite"))]
    async fn operator_by_token(
        &self,
        digest: &TokenDigest,
    ) -> Result<Option<Operator>, BackendError> {
        sqlx::query_as::<_, OperatorRecord<Hyphenated>>(operator_query!("WHERE token_digest = ?"))
            .bind(&digest.0[..])
            .fetch_optional(&self.reads)
            .await
            .map_err(err)?
            .map(|r| r.into_operator(BACKEND))
            .transpose()
    }

    #[tracing::instrument(name = "sqlite.revoke_operator", skip_all, fields(db.system = "sqlite"))]
    async fn revoke_operator(&self, name: &str, audit: &NewAudit) -> Result<bool, BackendError> {
        let mut tx = self
            .writes
            .begin_with("BEGIN IMMEDIATE")
            .await
            .map_err(err)?;
        let revoked = sqlx::query(
            "UPDATE operators SET revoked_at = ? WHERE name = ? AND revoked_at IS NULL",
        )
        .bind(audit.at.0)
        .bind(name)
        .execute(&mut *tx)
        .await
        .map_err(err)?
        .rows_affected()
            == 1;
        if !revoked {
            return Ok(false);
        }
        Self::append_audit(&mut tx, audit).await?;
        tx.commit().await.map_err(err)?;
        Ok(true)
    }

    #[tracing::instrument(name = "sqlite.set_hidden", skip_all, fields(db.system = "sqlite"))]
    async fn set_hidden(
        &self,
        player_key: &str,
        hidden_at: Option<Timestamp>,
        audit: &NewAudit,
        events: &[Event],
    ) -> Result<bool, BackendError> {
        let mut tx = self
            .writes
            .begin_with("BEGIN IMMEDIATE")
            .await
            .map_err(err)?;
        let found = sqlx::query("UPDATE players SET hidden_at = ? WHERE key = ?")
            .bind(hidden_at.map(|t| t.0))
            .bind(player_key)
            .execute(&mut *tx)
            .await
            .map_err(err)?
            .rows_affected()
            == 1;
        if !found {
            return Ok(false);
        }
        Self::rebuild_bests(&mut tx, player_key).await?;
        Self::append_audit(&mut tx, audit).await?;
        Self::add_events(&mut tx, events).await?;
        tx.commit().await.map_err(err)?;
        Ok(true)
    }

    #[tracing::instrument(name = "sqlite.set_banned", skip_all, fields(db.system = "sqlite"))]
    async fn set_banned(
        &self,
        player_key: &str,
        banned_at: Option<Timestamp>,
        audit: &NewAudit,
    ) -> Result<bool, BackendError> {
        let mut tx = self
            .writes
            .begin_with("BEGIN IMMEDIATE")
            .await
            .map_err(err)?;
        let found = sqlx::query("UPDATE players SET banned_at = ? WHERE key = ?")
            .bind(banned_at.map(|t| t.0))
            .bind(player_key)
            .execute(&mut *tx)
            .await
            .map_err(err)?
            .rows_affected()
            == 1;
        if !found {
            return Ok(false);
        }
        Self::append_audit(&mut tx, audit).await?;
        tx.commit().await.map_err(err)?;
        Ok(true)
    }

    #[tracing::instrument(name = "sqlite.remove_score", skip_all, fields(db.system = "sqlite"))]
    async fn remove_score(
        &self,
        session_id: SessionId,
        audit: &NewAudit,
        events: &[Event],
    ) -> Result<bool, BackendError> {
        let mut tx = self
            .writes
            .begin_with("BEGIN IMMEDIATE")
            .await
            .map_err(err)?;
        let player: Option<String> =
            sqlx::query_scalar("DELETE FROM scores WHERE session_id = ? RETURNING player_key")
                .bind(session_id.to_string())
                .fetch_optional(&mut *tx)
                .await
                .map_err(err)?;
        let Some(player) = player else {
            return Ok(false);
        };
        Self::rebuild_bests(&mut tx, &player).await?;
        Self::append_audit(&mut tx, audit).await?;
        Self::add_events(&mut tx, events).await?;
        tx.commit().await.map_err(err)?;
        Ok(true)
    }

    #[tracing::instrument(name = "sqlite.rename_player", skip_all, fields(db.system = "sqlite"))]
    async fn rename_player(
        &self,
        old_key: &str,
        new_key: &str,
        new_name: &str,
        block_old: Option<Timestamp>,
        audit: &NewAudit,
        events: &[Event],
    ) -> Result<bool, BackendError> {
        let mut tx = self
            .writes
            .begin_with("BEGIN IMMEDIATE")
            .await
            .map_err(err)?;
        if old_key == new_key {
            let found = sqlx::query("UPDATE players SET name = ? WHERE key = ?")
                .bind(new_name)
                .bind(old_key)
                .execute(&mut *tx)
                .await
                .map_err(err)?
                .rows_affected()
                == 1;
            if !found {
                return Ok(false);
            }
        } else {
            // The new row first, then the scores and bests move to it, then the old row goes:
            // every foreign key holds at every statement.
            let moved = sqlx::query(
                "INSERT INTO players (key, name, token_digest, created_at, hidden_at, banned_at) \
                 SELECT ?, ?, token_digest, created_at, hidden_at, banned_at \
                 FROM players WHERE key = ? ON CONFLICT (key) DO NOTHING",
            )
            .bind(new_key)
            .bind(new_name)
            .bind(old_key)
            .execute(&mut *tx)
            .await
            .map_err(err)?
            .rows_affected()
                == 1;
            if !moved {
                return Ok(false);
            }
            for table in [
                "UPDATE scores SET player_key = ? WHERE player_key = ?",
                "UPDATE best_scores SET player_key = ? WHERE player_key = ?",
            ] {
                sqlx::query(table)
                    .bind(new_key)
                    .bind(old_key)
                    .execute(&mut *tx)
                    .await
                    .map_err(err)?;
            }
            sqlx::query("DELETE FROM players WHERE key = ?")
                .bind(old_key)
                .execute(&mut *tx)
                .await
                .map_err(err)?;
        }
        if let Some(at) = block_old {
            sqlx::query(
                "INSERT INTO blocked_names (key, blocked_at) VALUES (?, ?) \
                 ON CONFLICT (key) DO NOTHING",
            )
            .bind(old_key)
            .bind(at.0)
            .execute(&mut *tx)
            .await
            .map_err(err)?;
        }
        Self::append_audit(&mut tx, audit).await?;
        Self::add_events(&mut tx, events).await?;
        tx.commit().await.map_err(err)?;
        Ok(true)
    }

    #[tracing::instrument(name = "sqlite.is_blocked", skip_all, fields(db.system = "sqlite"))]
    async fn is_blocked(&self, key: &str) -> Result<bool, BackendError> {
        sqlx::query_scalar::<_, i32>("SELECT 1 FROM blocked_names WHERE key = ?")
            .bind(key)
            .fetch_optional(&self.reads)
            .await
            .map(|found| found.is_some())
            .map_err(err)
    }

    #[tracing::instrument(name = "sqlite.player_bests", skip_all, fields(db.system = "sqlite"))]
    async fn player_bests(
        &self,
        player_key: &str,
    ) -> Result<Vec<(BoardKey, Standing)>, BackendError> {
        sqlx::query_as::<_, BestRow<i64>>(player_bests_query!("?"))
            .bind(player_key)
            .fetch_all(&self.reads)
            .await
            .map_err(err)?
            .into_iter()
            .map(|r| r.into_best(BACKEND))
            .collect()
    }

    #[tracing::instrument(name = "sqlite.add_report", skip_all, fields(db.system = "sqlite"))]
    async fn add_report(&self, r: &NewReport) -> Result<(), BackendError> {
        sqlx::query(
            "INSERT INTO reports (player_key, session_id, reason, created_at) \
             VALUES (?, ?, ?, ?)",
        )
        .bind(&r.player_key)
        .bind(r.session_id.map(|id| id.to_string()))
        .bind(&r.reason)
        .bind(r.at.0)
        .execute(&self.writes)
        .await
        .map_err(err)?;
        Ok(())
    }

    #[tracing::instrument(name = "sqlite.review_queue", skip_all, fields(db.system = "sqlite"))]
    async fn review_queue(&self, limit: usize) -> Result<Vec<ReviewItem>, BackendError> {
        sqlx::query_as::<_, ReviewRow>(review_query!(sqlite, "ORDER BY q.at, q.item LIMIT ?"))
            .bind(i64::try_from(limit).unwrap_or(i64::MAX))
            .fetch_all(&self.reads)
            .await
            .map_err(err)?
            .into_iter()
            .map(|r| r.into_item(BACKEND))
            .collect()
    }

    #[tracing::instrument(name = "sqlite.review_item", skip_all, fields(db.system = "sqlite"))]
    async fn review_item(&self, item: &str) -> Result<Option<ReviewItem>, BackendError> {
        sqlx::query_as::<_, ReviewRow>(review_query!(sqlite, "WHERE q.item = ?"))
            .bind(item)
            .fetch_optional(&self.reads)
            .await
            .map_err(err)?
            .map(|r| r.into_item(BACKEND))
            .transpose()
    }

    #[tracing::instrument(name = "sqlite.review_depth", skip_all, fields(db.system = "sqlite"))]
    async fn review_depth(&self) -> Result<ReviewDepth, BackendError> {
        let (items, oldest): (i64, Option<i64>) = sqlx::query_as(concat!(
            "SELECT COUNT(*), MIN(at) FROM (",
            review_query!(sqlite, ""),
            ") d"
        ))
        .fetch_one(&self.reads)
        .await
        .map_err(err)?;
        Ok(ReviewDepth {
            items: u64::try_from(items).unwrap_or(0),
            oldest_at: oldest.map(Timestamp),
        })
    }

    #[tracing::instrument(name = "sqlite.resolve_review", skip_all, fields(db.system = "sqlite"))]
    async fn resolve_review(
        &self,
        item: &str,
        resolution: &str,
        audit: &NewAudit,
    ) -> Result<bool, BackendError> {
        let mut tx = self
            .writes
            .begin_with("BEGIN IMMEDIATE")
            .await
            .map_err(err)?;
        let resolved = sqlx::query(
            "INSERT INTO reviews (item, resolved_at, resolution, actor) \
             VALUES (?, ?, ?, ?) ON CONFLICT (item) DO NOTHING",
        )
        .bind(item)
        .bind(audit.at.0)
        .bind(resolution)
        .bind(&audit.actor)
        .execute(&mut *tx)
        .await
        .map_err(err)?
        .rows_affected()
            == 1;
        if !resolved {
            return Ok(false);
        }
        Self::append_audit(&mut tx, audit).await?;
        tx.commit().await.map_err(err)?;
        Ok(true)
    }

    #[tracing::instrument(name = "sqlite.player_data", skip_all, fields(db.system = "sqlite"))]
    async fn player_data(&self, player_key: &str) -> Result<Option<PlayerData>, BackendError> {
        self.read_player_data(player_key).await
    }

    #[tracing::instrument(name = "sqlite.apply_retention", skip_all, fields(db.system = "sqlite"))]
    async fn apply_retention(
        &self,
        replays_before: Option<Timestamp>,
        history_before: Option<Timestamp>,
    ) -> Result<Option<RetentionReport>, BackendError> {
        crate::sqlite_retention::apply_retention(self, replays_before, history_before).await
    }

    #[tracing::instrument(name = "sqlite.erase_player", skip_all, fields(db.system = "sqlite"))]
    async fn erase_player(
        &self,
        erasure: &Erasure,
        audit: &NewAudit,
        events: &[Event],
    ) -> Result<Option<Erased>, BackendError> {
        self.erase_player_data(erasure, audit, events).await
    }

    #[tracing::instrument(name = "sqlite.audit_log", skip_all, fields(db.system = "sqlite"))]
    async fn audit_log(
        &self,
        before: Option<i64>,
        limit: usize,
    ) -> Result<Vec<AuditRecord>, BackendError> {
        let rows =
            sqlx::query_as::<_, AuditRow>(audit_query!("WHERE id < ? ORDER BY id DESC LIMIT ?"))
                .bind(before.unwrap_or(i64::MAX))
                .bind(i64::try_from(limit).unwrap_or(i64::MAX))
                .fetch_all(&self.reads)
                .await
                .map_err(err)?;
        Ok(rows.into_iter().map(AuditRecord::from).collect())
    }
}
