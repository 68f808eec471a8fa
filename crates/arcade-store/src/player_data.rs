//! Players' data, in either database: everything kept of one player, read as of one moment,
//! and their erasure in one write transaction with its audit record and events.

use arcade_domain::BackendError;
use arcade_domain::admin::NewAudit;
use arcade_domain::event::Event;
use arcade_domain::games::{Input, replay_codec};
use arcade_domain::player_data::{Erased, Erasure, ExportedScore, PlayerData, ReportAbout};
use arcade_domain::ports::ScoreRow;
use arcade_domain::session::SessionId;
use arcade_domain::time::Timestamp;
use uuid::Uuid;

use crate::dialect::{Backend, pick};
use crate::postgres::PostgresStore;
use crate::rows::{PlayerRow, ScoreRecord, outbox_needle, player_query, score_query};
use crate::sqlite::SqliteStore;

/// How each database keeps a score's replay.
trait StoredReplay: Backend {
    /// The replay column as read.
    type Replay;

    /// The inputs of a stored replay, or `None` once the retention removed it.
    fn inputs(replay: &Self::Replay) -> Result<Option<Vec<Input>>, BackendError>;
}

/// SQLite: a JSON array of inputs, '' once removed.
impl StoredReplay for SqliteStore {
    type Replay = String;

    fn inputs(replay: &String) -> Result<Option<Vec<Input>>, BackendError> {
        if replay.is_empty() {
            return Ok(None);
        }
        serde_json::from_str(replay).map(Some).map_err(|e| {
            BackendError::defect(Self::NAME, "an unreadable stored replay").with_source(e)
        })
    }
}

/// PostgreSQL: packed inputs (`replay_codec`), NULL once removed.
impl StoredReplay for PostgresStore {
    type Replay = Option<Vec<u8>>;

    fn inputs(replay: &Option<Vec<u8>>) -> Result<Option<Vec<Input>>, BackendError> {
        replay
            .as_deref()
            .map(replay_codec::unpack)
            .transpose()
            .map_err(|e| {
                BackendError::defect(Self::NAME, "an unreadable stored replay").with_source(e)
            })
    }
}

/// Audit records about the player of key `$1` and name `$2`: by their target, or by the
/// player's name or key in the states they recorded (an operator's records name operators).
const ABOUT_PLAYER: &str = "target = 'player:' || $1 \
    OR target IN (SELECT 'score:' || CAST(session_id AS TEXT) FROM scores \
      WHERE player_key = $1) \
    OR (target NOT LIKE 'operator:%' AND ( \
      state_before->>'name' IN ($1, $2) OR state_before->>'player' IN ($1, $2) \
      OR state_after->>'name' IN ($1, $2) OR state_after->>'player' IN ($1, $2)))";

/// The export and the erasure of a player's data, as methods of the store of `$backend`.
macro_rules! player_data {
    ($backend:ident, $store:ty) => {
        impl $store {
            /// Everything kept of the player of `key`, or `None` when there is no such player.
            pub(crate) async fn read_player_data(
                &self,
                key: &str,
            ) -> Result<Option<PlayerData>, BackendError> {
                let err = Self::err;
                // One snapshot: scores and their replays as of the same moment.
                let mut tx = self.begin_snapshot().await?;
                let Some(player) =
                    sqlx::query_as::<_, PlayerRow>(player_query!("WHERE key = $1"))
                        .bind(key)
                        .fetch_optional(&mut *tx)
                        .await
                        .map_err(err)?
                else {
                    return Ok(None);
                };
                let rows = sqlx::query_as::<
                    _,
                    ScoreRecord<<Self as Backend>::Uuid, <Self as Backend>::Int>,
                >(score_query!(
                    "WHERE s.player_key = $1 ORDER BY s.achieved_at, s.session_id"
                ))
                .bind(key)
                .fetch_all(&mut *tx)
                .await
                .map_err(err)?;
                let replays: Vec<(<Self as Backend>::Uuid, i64, <Self as StoredReplay>::Replay)> =
                    sqlx::query_as(
                        "SELECT session_id, seed, replay FROM scores WHERE player_key = $1",
                    )
                    .bind(key)
                    .fetch_all(&mut *tx)
                    .await
                    .map_err(err)?;
                let reports: Vec<(Option<<Self as Backend>::Uuid>, Option<String>, i64)> =
                    sqlx::query_as(
                        "SELECT session_id, reason, created_at FROM reports \
                         WHERE player_key = $1 ORDER BY created_at, id",
                    )
                    .bind(key)
                    .fetch_all(&mut *tx)
                    .await
                    .map_err(err)?;
                tx.commit().await.map_err(err)?;
                let scores = rows
                    .into_iter()
                    .map(ScoreRow::from)
                    .map(|row| {
                        let (_, seed, replay) = replays
                            .iter()
                            .find(|(id, _, _)| Uuid::from(*id) == row.session_id.0)
                            .ok_or_else(|| {
                                BackendError::defect(Self::NAME, "a score without its replay")
                            })?;
                        Ok(ExportedScore {
                            seed: u32::try_from(*seed).unwrap_or_default(),
                            inputs: Self::inputs(replay)?,
                            row,
                        })
                    })
                    .collect::<Result<_, BackendError>>()?;
                Ok(Some(PlayerData {
                    player: player.into_record(Self::NAME)?,
                    scores,
                    reports: reports
                        .into_iter()
                        .map(|(session_id, reason, at)| ReportAbout {
                            session_id: session_id.map(|s| SessionId(s.into())),
                            reason,
                            at: Timestamp(at),
                        })
                        .collect(),
                }))
            }

            /// Erase the player `e` names, with `audit` and `events`; `None` when there is no
            /// such player.
            pub(crate) async fn erase_player_data(
                &self,
                e: &Erasure,
                audit: &NewAudit,
                events: &[Event],
            ) -> Result<Option<Erased>, BackendError> {
                let err = Self::err;
                let (key, name) = (e.player_key.as_str(), e.player_name.as_str());
                let mut tx = self.begin_write().await?;
                let found: Option<i32> = sqlx::query_scalar(pick!($backend,
                    // The write transaction holds the database.
                    sqlite: "SELECT 1 FROM players WHERE key = $1",
                    // The player's row locked: a concurrent finish of theirs waits for the
                    // erasure, then finds no player to store a score for.
                    postgres: "SELECT 1 FROM players WHERE key = $1 FOR UPDATE",
                ))
                .bind(key)
                .fetch_optional(&mut *tx)
                .await
                .map_err(err)?;
                if found.is_none() {
                    return Ok(None);
                }
                // The records keep what was done and when, under the erasure's reference; the
                // targets they had name the review items of the player's scores, removed ones
                // too.
                pick!($backend,
                    sqlite: {
                        let targets: Vec<String> = sqlx::query_scalar(&format!(
                            "SELECT target FROM audit_log WHERE {ABOUT_PLAYER}"
                        ))
                        .bind(key)
                        .bind(name)
                        .fetch_all(&mut *tx)
                        .await
                        .map_err(err)?;
                        sqlx::query(&format!(
                            "UPDATE audit_log SET target = $3, state_before = NULL, \
                             state_after = NULL WHERE {ABOUT_PLAYER}"
                        ))
                        .bind(key)
                        .bind(name)
                        .bind(&e.reference)
                        .execute(&mut *tx)
                        .await
                        .map_err(err)?;
                        for item in &targets {
                            sqlx::query("DELETE FROM reviews WHERE item = $1")
                                .bind(item)
                                .execute(&mut *tx)
                                .await
                                .map_err(err)?;
                        }
                    },
                    postgres: {
                        let targets: Vec<String> = sqlx::query_scalar(&format!(
                            "WITH about AS (SELECT id, target FROM audit_log \
                               WHERE {ABOUT_PLAYER}), \
                             redacted AS (UPDATE audit_log a SET target = $3, \
                               state_before = NULL, state_after = NULL \
                               FROM about WHERE a.id = about.id) \
                             SELECT target FROM about"
                        ))
                        .bind(key)
                        .bind(name)
                        .bind(&e.reference)
                        .fetch_all(&mut *tx)
                        .await
                        .map_err(err)?;
                        sqlx::query("DELETE FROM reviews WHERE item = ANY($1)")
                            .bind(&targets)
                            .execute(&mut *tx)
                            .await
                            .map_err(err)?;
                    },
                );
                sqlx::query(
                    "DELETE FROM reviews \
                     WHERE item IN (SELECT 'score:' || CAST(session_id AS TEXT) FROM scores \
                       WHERE player_key = $1) \
                       OR item IN (SELECT 'report:' || CAST(id AS TEXT) FROM reports \
                         WHERE player_key = $1 \
                         OR session_id IN (SELECT session_id FROM scores \
                           WHERE player_key = $1))",
                )
                .bind(key)
                .execute(&mut *tx)
                .await
                .map_err(err)?;
                let reports = sqlx::query(
                    "DELETE FROM reports WHERE player_key = $1 \
                       OR session_id IN (SELECT session_id FROM scores WHERE player_key = $1)",
                )
                .bind(key)
                .execute(&mut *tx)
                .await
                .map_err(err)?
                .rows_affected();
                sqlx::query("DELETE FROM best_scores WHERE player_key = $1")
                    .bind(key)
                    .execute(&mut *tx)
                    .await
                    .map_err(err)?;
                let scores = sqlx::query("DELETE FROM scores WHERE player_key = $1")
                    .bind(key)
                    .execute(&mut *tx)
                    .await
                    .map_err(err)?
                    .rows_affected();
                sqlx::query("DELETE FROM players WHERE key = $1")
                    .bind(key)
                    .execute(&mut *tx)
                    .await
                    .map_err(err)?;
                sqlx::query(pick!($backend,
                    sqlite: "DELETE FROM outbox WHERE instr(payload, $1) > 0",
                    postgres: "DELETE FROM outbox WHERE strpos(payload, $1) > 0",
                ))
                .bind(outbox_needle(Self::NAME, name)?)
                .execute(&mut *tx)
                .await
                .map_err(err)?;
                if let Some(at) = e.block_name {
                    Self::block_name(&mut tx, key, at).await?;
                }
                Self::commit_change(tx, audit, events).await?;
                Ok(Some(Erased { scores, reports }))
            }
        }
    };
}

player_data!(sqlite, SqliteStore);
player_data!(postgres, PostgresStore);
