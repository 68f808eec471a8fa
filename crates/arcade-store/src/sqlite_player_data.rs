//! Players' data in SQLite: everything kept of one player, read in one transaction, and
//! their erasure in one transaction on the writing connection with its audit record and
//! events.

use arcade_domain::BackendError;
use arcade_domain::admin::NewAudit;
use arcade_domain::event::Event;
use arcade_domain::games::Input;
use arcade_domain::player_data::{Erased, Erasure, ExportedScore, PlayerData, ReportAbout};
use arcade_domain::ports::ScoreRow;
use arcade_domain::session::SessionId;
use arcade_domain::time::Timestamp;
use uuid::fmt::Hyphenated;

use crate::rows::{PlayerRow, ScoreRecord, outbox_needle, player_query, score_query};
use crate::sqlite::SqliteStore;
use crate::{Dialect, backend_error};

const BACKEND: &str = "sqlite";

fn err(e: sqlx::Error) -> BackendError {
    backend_error(Dialect::Sqlite, e)
}

/// Audit records about the player of key `?1` and name `?2` (see the PostgreSQL store's).
const ABOUT_PLAYER: &str = "target = 'player:' || ?1 \
    OR target IN (SELECT 'score:' || session_id FROM scores WHERE player_key = ?1) \
    OR (target NOT LIKE 'operator:%' AND ( \
      json_extract(state_before, '$.name') IN (?1, ?2) \
      OR json_extract(state_before, '$.player') IN (?1, ?2) \
      OR json_extract(state_after, '$.name') IN (?1, ?2) \
      OR json_extract(state_after, '$.player') IN (?1, ?2)))";

pub(crate) async fn player_data(
    store: &SqliteStore,
    key: &str,
) -> Result<Option<PlayerData>, BackendError> {
    let mut tx = store.reads.begin().await.map_err(err)?;
    let Some(player) = sqlx::query_as::<_, PlayerRow>(player_query!("WHERE key = ?"))
        .bind(key)
        .fetch_optional(&mut *tx)
        .await
        .map_err(err)?
    else {
        return Ok(None);
    };
    let rows = sqlx::query_as::<_, ScoreRecord<Hyphenated, i64>>(score_query!(
        "WHERE s.player_key = ? ORDER BY s.achieved_at, s.session_id"
    ))
    .bind(key)
    .fetch_all(&mut *tx)
    .await
    .map_err(err)?;
    let replays: Vec<(String, i64, String)> =
        sqlx::query_as("SELECT session_id, seed, replay FROM scores WHERE player_key = ?")
            .bind(key)
            .fetch_all(&mut *tx)
            .await
            .map_err(err)?;
    let reports: Vec<(Option<Hyphenated>, Option<String>, i64)> = sqlx::query_as(
        "SELECT session_id, reason, created_at FROM reports WHERE player_key = ? \
         ORDER BY created_at, id",
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
            let id = row.session_id.to_string();
            let (_, seed, replay) = replays
                .iter()
                .find(|(s, _, _)| *s == id)
                .ok_or_else(|| BackendError::defect(BACKEND, "a score without its replay"))?;
            // '' once the retention removed it.
            let inputs = if replay.is_empty() {
                None
            } else {
                let inputs: Vec<Input> = serde_json::from_str(replay).map_err(|e| {
                    BackendError::defect(BACKEND, "an unreadable stored replay").with_source(e)
                })?;
                Some(inputs)
            };
            Ok(ExportedScore {
                seed: u32::try_from(*seed).unwrap_or_default(),
                inputs,
                row,
            })
        })
        .collect::<Result<_, BackendError>>()?;
    Ok(Some(PlayerData {
        player: player.into_record(BACKEND)?,
        scores,
        reports: reports
            .into_iter()
            .map(|(session_id, reason, at)| ReportAbout {
                session_id: session_id.map(|s| SessionId(s.into_uuid())),
                reason,
                at: Timestamp(at),
            })
            .collect(),
    }))
}

pub(crate) async fn erase_player(
    store: &SqliteStore,
    e: &Erasure,
    audit: &NewAudit,
    events: &[Event],
) -> Result<Option<Erased>, BackendError> {
    let (key, name) = (e.player_key.as_str(), e.player_name.as_str());
    let mut tx = store
        .writes
        .begin_with("BEGIN IMMEDIATE")
        .await
        .map_err(err)?;
    let found: Option<i64> = sqlx::query_scalar("SELECT 1 FROM players WHERE key = ?")
        .bind(key)
        .fetch_optional(&mut *tx)
        .await
        .map_err(err)?;
    if found.is_none() {
        return Ok(None);
    }
    let targets: Vec<String> = sqlx::query_scalar(&format!(
        "SELECT target FROM audit_log WHERE {ABOUT_PLAYER}"
    ))
    .bind(key)
    .bind(name)
    .fetch_all(&mut *tx)
    .await
    .map_err(err)?;
    sqlx::query(&format!(
        "UPDATE audit_log SET target = ?3, state_before = NULL, state_after = NULL \
         WHERE {ABOUT_PLAYER}"
    ))
    .bind(key)
    .bind(name)
    .bind(&e.reference)
    .execute(&mut *tx)
    .await
    .map_err(err)?;
    for item in &targets {
        sqlx::query("DELETE FROM reviews WHERE item = ?")
            .bind(item)
            .execute(&mut *tx)
            .await
            .map_err(err)?;
    }
    sqlx::query(
        "DELETE FROM reviews \
         WHERE item IN (SELECT 'score:' || session_id FROM scores WHERE player_key = ?1) \
           OR item IN (SELECT 'report:' || id FROM reports WHERE player_key = ?1 \
             OR session_id IN (SELECT session_id FROM scores WHERE player_key = ?1))",
    )
    .bind(key)
    .execute(&mut *tx)
    .await
    .map_err(err)?;
    let reports = sqlx::query(
        "DELETE FROM reports WHERE player_key = ?1 \
           OR session_id IN (SELECT session_id FROM scores WHERE player_key = ?1)",
    )
    .bind(key)
    .execute(&mut *tx)
    .await
    .map_err(err)?
    .rows_affected();
    sqlx::query("DELETE FROM best_scores WHERE player_key = ?")
        .bind(key)
        .execute(&mut *tx)
        .await
        .map_err(err)?;
    let scores = sqlx::query("DELETE FROM scores WHERE player_key = ?")
        .bind(key)
        .execute(&mut *tx)
        .await
        .map_err(err)?
        .rows_affected();
    sqlx::query("DELETE FROM players WHERE key = ?")
        .bind(key)
        .execute(&mut *tx)
        .await
        .map_err(err)?;
    sqlx::query("DELETE FROM outbox WHERE instr(payload, ?) > 0")
        .bind(outbox_needle(BACKEND, name)?)
        .execute(&mut *tx)
        .await
        .map_err(err)?;
    if let Some(at) = e.block_name {
        sqlx::query(
            "INSERT INTO blocked_names (key, blocked_at) VALUES (?, ?) \
             ON CONFLICT (key) DO NOTHING",
        )
        .bind(key)
        .bind(at.0)
        .execute(&mut *tx)
        .await
        .map_err(err)?;
    }
    SqliteStore::append_audit(&mut tx, audit).await?;
    SqliteStore::add_events(&mut tx, events).await?;
    tx.commit().await.map_err(err)?;
    Ok(Some(Erased { scores, reports }))
}
