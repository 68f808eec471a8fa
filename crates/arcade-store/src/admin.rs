//! Operators and the audit log, in either database: each change with its audit record (and
//! its events in the outbox) in one write transaction.

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
use sqlx::Transaction;
use sqlx::types::Json;

use crate::dialect::{Backend, Conn, Statement, pick, span_names};
use crate::outbox::{EventRow, now_ms};
use crate::postgres::PostgresStore;
use crate::rows::{
    AuditRow, BESTS_OF_PLAYER, BestRow, OperatorRecord, RECOMPUTE_BESTS, ReviewRow, audit_query,
    operator_query, review_query,
};
use crate::sqlite::SqliteStore;

/// An operator's change and what it writes beside it (its audit record, its events, the bests
/// it changes), for the store of `$store`; the seasons' and name rules' changes use them too.
macro_rules! change_writes {
    ($store:ty) => {
        impl $store {
            /// A change of one row by `statement`, with its audit record and `events`, in one
            /// write transaction; whether there was a row to change (a conditional insert that
            /// found its row there changed none).
            pub(crate) async fn change_one_row(
                &self,
                statement: Statement<'_, Self>,
                audit: &NewAudit,
                events: &[Event],
            ) -> Result<bool, BackendError> {
                let mut tx = self.begin_write().await?;
                let changed = statement
                    .execute(&mut *tx)
                    .await
                    .map_err(Self::err)?
                    .rows_affected()
                    == 1;
                if !changed {
                    return Ok(false);
                }
                Self::commit_change(tx, audit, events).await?;
                Ok(true)
            }

            /// Write the change's `audit` record and `events` in its transaction `tx`, and
            /// commit it.
            pub(crate) async fn commit_change(
                mut tx: Transaction<'static, <Self as Backend>::Db>,
                audit: &NewAudit,
                events: &[Event],
            ) -> Result<(), BackendError> {
                Self::append_audit(&mut tx, audit).await?;
                Self::add_events(&mut tx, events).await?;
                tx.commit().await.map_err(Self::err)
            }

            /// Keep anybody from claiming the name of `key` from `at` on.
            pub(crate) async fn block_name(
                conn: &mut Conn<Self>,
                key: &str,
                at: Timestamp,
            ) -> Result<(), BackendError> {
                sqlx::query(
                    "INSERT INTO blocked_names (key, blocked_at) VALUES ($1, $2) \
                     ON CONFLICT (key) DO NOTHING",
                )
                .bind(key)
                .bind(at.0)
                .execute(&mut *conn)
                .await
                .map_err(Self::err)?;
                Ok(())
            }

            /// Write `audit` on `conn` (inside the caller's transaction).
            async fn append_audit(
                conn: &mut Conn<Self>,
                audit: &NewAudit,
            ) -> Result<i64, BackendError> {
                sqlx::query_scalar(
                    "INSERT INTO audit_log \
                     (at, actor, action, target, reason, state_before, state_after) \
                     VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING id",
                )
                .bind(audit.at.0)
                .bind(&audit.actor)
                .bind(audit.action.as_str())
                .bind(&audit.target)
                .bind(&audit.reason)
                .bind(audit.before.as_ref().map(Json))
                .bind(audit.after.as_ref().map(Json))
                .fetch_one(&mut *conn)
                .await
                .map_err(Self::err)
            }

            /// Put `events` in the outbox, ready at once, inside the caller's transaction.
            async fn add_events(
                conn: &mut Conn<Self>,
                events: &[Event],
            ) -> Result<(), BackendError> {
                let now = now_ms();
                for event in events {
                    let row = EventRow::of(Self::NAME, event)?;
                    sqlx::query(
                        "INSERT INTO outbox (id, subject, payload, created_at, available_at) \
                         VALUES ($1, $2, $3, $4, $4) ON CONFLICT (id) DO NOTHING",
                    )
                    .bind(Self::uuid(row.id))
                    .bind(row.subject)
                    .bind(&row.payload)
                    .bind(now)
                    .execute(&mut *conn)
                    .await
                    .map_err(Self::err)?;
                }
                Ok(())
            }

            /// Drop the player's bests and recompute them from their scores (none while
            /// hidden).
            async fn rebuild_bests(
                conn: &mut Conn<Self>,
                player_key: &str,
            ) -> Result<(), BackendError> {
                sqlx::query("DELETE FROM best_scores WHERE player_key = $1")
                    .bind(player_key)
                    .execute(&mut *conn)
                    .await
                    .map_err(Self::err)?;
                sqlx::query(RECOMPUTE_BESTS)
                    .bind(player_key)
                    .execute(&mut *conn)
                    .await
                    .map_err(Self::err)?;
                Ok(())
            }
        }
    };
}

change_writes!(SqliteStore);
change_writes!(PostgresStore);

/// `AdminStore` for the store of `$backend` (`sqlite` or `postgres`): each change and its
/// audit record in one write transaction. Reads see every committed write (PostgreSQL's
/// primary): a revoked token must stop working at once, not once a replica caught up.
macro_rules! admin_store {
    ($backend:ident, $store:ty) => {
        const _: () = {
            span_names!($backend:
                CREATE_OPERATOR = create_operator,
                OPERATORS = operators,
                OPERATOR_BY_TOKEN = operator_by_token,
                REVOKE_OPERATOR = revoke_operator,
                SET_HIDDEN = set_hidden,
                SET_BANNED = set_banned,
                REMOVE_SCORE = remove_score,
                RENAME_PLAYER = rename_player,
                IS_BLOCKED = is_blocked,
                PLAYER_BESTS = player_bests,
                ADD_REPORT = add_report,
                REVIEW_QUEUE = review_queue,
                REVIEW_ITEM = review_item,
                REVIEW_DEPTH = review_depth,
                RESOLVE_REVIEW = resolve_review,
                PLAYER_DATA = player_data,
                APPLY_RETENTION = apply_retention,
                ERASE_PLAYER = erase_player,
                AUDIT_LOG = audit_log,
            );

            fn err(e: sqlx::Error) -> BackendError {
                <$store as Backend>::err(e)
            }

            #[async_trait]
            impl AdminStore for $store {
                #[tracing::instrument(name = CREATE_OPERATOR, skip_all, fields(db.system = Self::SYSTEM))]
                async fn create_operator(
                    &self,
                    operator: &Operator,
                    audit: &NewAudit,
                ) -> Result<bool, BackendError> {
                    self.change_one_row(
                        sqlx::query(
                            "INSERT INTO operators \
                             (id, name, token_digest, created_at, revoked_at) \
                             VALUES ($1, $2, $3, $4, $5) ON CONFLICT DO NOTHING",
                        )
                        .bind(Self::uuid(operator.id))
                        .bind(&operator.name)
                        .bind(&operator.token_digest.0[..])
                        .bind(operator.created_at.0)
                        .bind(operator.revoked_at.map(|t| t.0)),
                        audit,
                        &[],
                    )
                    .await
                }

                #[tracing::instrument(name = OPERATORS, skip_all, fields(db.system = Self::SYSTEM))]
                async fn operators(&self) -> Result<Vec<Operator>, BackendError> {
                    sqlx::query_as::<_, OperatorRecord<<Self as Backend>::Uuid>>(
                        operator_query!("ORDER BY name"),
                    )
                    .fetch_all(self.fresh_reads())
                    .await
                    .map_err(err)?
                    .into_iter()
                    .map(|r| r.into_operator(Self::NAME))
                    .collect()
                }

                #[tracing::instrument(name = OPERATOR_BY_TOKEN, skip_all, fields(db.system = Self::SYSTEM))]
                async fn operator_by_token(
                    &self,
                    digest: &TokenDigest,
                ) -> Result<Option<Operator>, BackendError> {
                    sqlx::query_as::<_, OperatorRecord<<Self as Backend>::Uuid>>(
                        operator_query!("WHERE token_digest = $1"),
                    )
                    .bind(&digest.0[..])
                    .fetch_optional(self.fresh_reads())
                    .await
                    .map_err(err)?
                    .map(|r| r.into_operator(Self::NAME))
                    .transpose()
                }

                #[tracing::instrument(name = REVOKE_OPERATOR, skip_all, fields(db.system = Self::SYSTEM))]
                async fn revoke_operator(
                    &self,
                    name: &str,
                    audit: &NewAudit,
                ) -> Result<bool, BackendError> {
                    self.change_one_row(
                        sqlx::query(
                            "UPDATE operators SET revoked_at = $1 \
                             WHERE name = $2 AND revoked_at IS NULL",
                        )
                        .bind(audit.at.0)
                        .bind(name),
                        audit,
                        &[],
                    )
                    .await
                }

                #[tracing::instrument(name = SET_HIDDEN, skip_all, fields(db.system = Self::SYSTEM))]
                async fn set_hidden(
                    &self,
                    player_key: &str,
                    hidden_at: Option<Timestamp>,
                    audit: &NewAudit,
                    events: &[Event],
                ) -> Result<bool, BackendError> {
                    let mut tx = self.begin_write().await?;
                    let found = sqlx::query("UPDATE players SET hidden_at = $1 WHERE key = $2")
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
                    Self::commit_change(tx, audit, events).await?;
                    Ok(true)
                }

                #[tracing::instrument(name = SET_BANNED, skip_all, fields(db.system = Self::SYSTEM))]
                async fn set_banned(
                    &self,
                    player_key: &str,
                    banned_at: Option<Timestamp>,
                    audit: &NewAudit,
                ) -> Result<bool, BackendError> {
                    self.change_one_row(
                        sqlx::query("UPDATE players SET banned_at = $1 WHERE key = $2")
                            .bind(banned_at.map(|t| t.0))
                            .bind(player_key),
                        audit,
                        &[],
                    )
                    .await
                }

                #[tracing::instrument(name = REMOVE_SCORE, skip_all, fields(db.system = Self::SYSTEM))]
                async fn remove_score(
                    &self,
                    session_id: SessionId,
                    audit: &NewAudit,
                    events: &[Event],
                ) -> Result<bool, BackendError> {
                    let mut tx = self.begin_write().await?;
                    let player: Option<String> = sqlx::query_scalar(
                        "DELETE FROM scores WHERE session_id = $1 RETURNING player_key",
                    )
                    .bind(Self::uuid(session_id.0))
                    .fetch_optional(&mut *tx)
                    .await
                    .map_err(err)?;
                    let Some(player) = player else {
                        return Ok(false);
                    };
                    Self::rebuild_bests(&mut tx, &player).await?;
                    Self::commit_change(tx, audit, events).await?;
                    Ok(true)
                }

                #[tracing::instrument(name = RENAME_PLAYER, skip_all, fields(db.system = Self::SYSTEM))]
                async fn rename_player(
                    &self,
                    old_key: &str,
                    new_key: &str,
                    new_name: &str,
                    block_old: Option<Timestamp>,
                    audit: &NewAudit,
                    events: &[Event],
                ) -> Result<bool, BackendError> {
                    let mut tx = self.begin_write().await?;
                    if old_key == new_key {
                        let found = sqlx::query("UPDATE players SET name = $1 WHERE key = $2")
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
                        // The new row first, then the scores and bests move to it, then the old
                        // row goes: every foreign key holds at every statement.
                        let moved = sqlx::query(
                            "INSERT INTO players \
                             (key, name, token_digest, created_at, hidden_at, banned_at) \
                             SELECT $1, $2, token_digest, created_at, hidden_at, banned_at \
                             FROM players WHERE key = $3 ON CONFLICT (key) DO NOTHING",
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
                            "UPDATE scores SET player_key = $1 WHERE player_key = $2",
                            "UPDATE best_scores SET player_key = $1 WHERE player_key = $2",
                        ] {
                            sqlx::query(table)
                                .bind(new_key)
                                .bind(old_key)
                                .execute(&mut *tx)
                                .await
                                .map_err(err)?;
                        }
                        sqlx::query("DELETE FROM players WHERE key = $1")
                            .bind(old_key)
                            .execute(&mut *tx)
                            .await
                            .map_err(err)?;
                    }
                    if let Some(at) = block_old {
                        Self::block_name(&mut tx, old_key, at).await?;
                    }
                    Self::commit_change(tx, audit, events).await?;
                    Ok(true)
                }

                #[tracing::instrument(name = IS_BLOCKED, skip_all, fields(db.system = Self::SYSTEM))]
                async fn is_blocked(&self, key: &str) -> Result<bool, BackendError> {
                    sqlx::query_scalar::<_, i32>("SELECT 1 FROM blocked_names WHERE key = $1")
                        .bind(key)
                        .fetch_optional(self.fresh_reads())
                        .await
                        .map(|found| found.is_some())
                        .map_err(err)
                }

                #[tracing::instrument(name = PLAYER_BESTS, skip_all, fields(db.system = Self::SYSTEM))]
                async fn player_bests(
                    &self,
                    player_key: &str,
                ) -> Result<Vec<(BoardKey, Standing)>, BackendError> {
                    sqlx::query_as::<_, BestRow<<Self as Backend>::Int>>(BESTS_OF_PLAYER)
                        .bind(player_key)
                        .fetch_all(self.fresh_reads())
                        .await
                        .map_err(err)?
                        .into_iter()
                        .map(|r| r.into_best(Self::NAME))
                        .collect()
                }

                #[tracing::instrument(name = ADD_REPORT, skip_all, fields(db.system = Self::SYSTEM))]
                async fn add_report(&self, r: &NewReport) -> Result<(), BackendError> {
                    sqlx::query(
                        "INSERT INTO reports (player_key, session_id, reason, created_at) \
                         VALUES ($1, $2, $3, $4)",
                    )
                    .bind(&r.player_key)
                    .bind(r.session_id.map(|id| Self::uuid(id.0)))
                    .bind(&r.reason)
                    .bind(r.at.0)
                    .execute(self.writes())
                    .await
                    .map_err(err)?;
                    Ok(())
                }

                #[tracing::instrument(name = REVIEW_QUEUE, skip_all, fields(db.system = Self::SYSTEM))]
                async fn review_queue(&self, limit: usize) -> Result<Vec<ReviewItem>, BackendError> {
                    sqlx::query_as::<_, ReviewRow>(review_query!(
                        $backend,
                        "ORDER BY q.at, q.item LIMIT $1"
                    ))
                    .bind(i64::try_from(limit).unwrap_or(i64::MAX))
                    .fetch_all(self.fresh_reads())
                    .await
                    .map_err(err)?
                    .into_iter()
                    .map(|r| r.into_item(Self::NAME))
                    .collect()
                }

                #[tracing::instrument(name = REVIEW_ITEM, skip_all, fields(db.system = Self::SYSTEM))]
                async fn review_item(&self, item: &str) -> Result<Option<ReviewItem>, BackendError> {
                    sqlx::query_as::<_, ReviewRow>(review_query!($backend, "WHERE q.item = $1"))
                        .bind(item)
                        .fetch_optional(self.fresh_reads())
                        .await
                        .map_err(err)?
                        .map(|r| r.into_item(Self::NAME))
                        .transpose()
                }

                #[tracing::instrument(name = REVIEW_DEPTH, skip_all, fields(db.system = Self::SYSTEM))]
                async fn review_depth(&self) -> Result<ReviewDepth, BackendError> {
                    let (items, oldest): (i64, Option<i64>) = sqlx::query_as(concat!(
                        "SELECT COUNT(*), MIN(at) FROM (",
                        review_query!($backend, ""),
                        ") d"
                    ))
                    .fetch_one(self.fresh_reads())
                    .await
                    .map_err(err)?;
                    Ok(ReviewDepth {
                        items: u64::try_from(items).unwrap_or(0),
                        oldest_at: oldest.map(Timestamp),
                    })
                }

                #[tracing::instrument(name = RESOLVE_REVIEW, skip_all, fields(db.system = Self::SYSTEM))]
                async fn resolve_review(
                    &self,
                    item: &str,
                    resolution: &str,
                    audit: &NewAudit,
                ) -> Result<bool, BackendError> {
                    self.change_one_row(
                        sqlx::query(
                            "INSERT INTO reviews (item, resolved_at, resolution, actor) \
                             VALUES ($1, $2, $3, $4) ON CONFLICT (item) DO NOTHING",
                        )
                        .bind(item)
                        .bind(audit.at.0)
                        .bind(resolution)
                        .bind(&audit.actor),
                        audit,
                        &[],
                    )
                    .await
                }

                #[tracing::instrument(name = PLAYER_DATA, skip_all, fields(db.system = Self::SYSTEM))]
                async fn player_data(
                    &self,
                    player_key: &str,
                ) -> Result<Option<PlayerData>, BackendError> {
                    self.read_player_data(player_key).await
                }

                #[tracing::instrument(name = APPLY_RETENTION, skip_all, fields(db.system = Self::SYSTEM))]
                async fn apply_retention(
                    &self,
                    replays_before: Option<Timestamp>,
                    history_before: Option<Timestamp>,
                ) -> Result<Option<RetentionReport>, BackendError> {
                    pick!($backend,
                        sqlite: crate::sqlite_retention::apply_retention(
                            self,
                            replays_before,
                            history_before,
                        ),
                        postgres: crate::postgres_retention::apply_retention(
                            self.pool(),
                            replays_before,
                            history_before,
                        ),
                    )
                    .await
                }

                #[tracing::instrument(name = ERASE_PLAYER, skip_all, fields(db.system = Self::SYSTEM))]
                async fn erase_player(
                    &self,
                    erasure: &Erasure,
                    audit: &NewAudit,
                    events: &[Event],
                ) -> Result<Option<Erased>, BackendError> {
                    self.erase_player_data(erasure, audit, events).await
                }

                #[tracing::instrument(name = AUDIT_LOG, skip_all, fields(db.system = Self::SYSTEM))]
                async fn audit_log(
                    &self,
                    before: Option<i64>,
                    limit: usize,
                ) -> Result<Vec<AuditRecord>, BackendError> {
                    let rows = sqlx::query_as::<_, AuditRow>(audit_query!(
                        "WHERE id < $1 ORDER BY id DESC LIMIT $2"
                    ))
                    .bind(before.unwrap_or(i64::MAX))
                    .bind(i64::try_from(limit).unwrap_or(i64::MAX))
                    .fetch_all(self.fresh_reads())
                    .await
                    .map_err(err)?;
                    Ok(rows.into_iter().map(AuditRecord::from).collect())
                }
            }
        };
    };
}

admin_store!(sqlite, SqliteStore);
admin_store!(postgres, PostgresStore);
