//! Players' data in PostgreSQL: everything kept of one player, read in one snapshot, and
//! their erasure in one transaction with its audit record and events.

use arcade_domain::BackendError;
use arcade_domain::admin::NewAudit;
use arcade_domain::event::Event;
use arcade_domain::games::replay_codec;
use arcade_domain::player_data::{Erased, Erasure, ExportedScore, PlayerData, ReportAbout};
use arcade_domain::ports::ScoreRow;
use arcade_domain::session::SessionId;
use arcade_domain::time::Timestamp;
use sqlx::PgPool;

use crate::postgres::PostgresStore;
use crate::rows::{PlayerRow, ScoreRecord, outbox_needle, player_query, score_query};
use crate::{Dialect, backend_error};

const BACKEND: &str = "postgres";

fn err(e: sqlx::Error) -> BackendError {
    backend_error(Dialect::Postgres, e)
}

/// Audit records about the player of key `$1` and name `$2`: by their target, or by the
/// player's name or key in the states they recorded (an operator's records name operators).
const ABOUT_PLAYER: &str = "target = 'player:' || $1 \
    OR target IN (SELECT 'score:' || session_id::text FROM scores WHERE player_key = $1) \
    OR (target NOT LIKE 'operator:%' AND ( \
      state_before->>'name' IN ($1, $2) OR state_before->>'player' IN ($1, $2) \
      OR state_after->>'name' IN ($1, $2) OR state_after->>'player' IN ($1, $2)))";

pub(crate) async fn player_data(
    pool: &PgPool,
    key: &str,
) -> Result<Option<PlayerData>, BackendError> {
    let mut tx = pool.begin().await.map_err(err)?;
    // One snapshot: scores and their replays as of the same moment.
    sqlx::query("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ READ ONLY")
        .execute(&mut *tx)
        .await
        .map_err(err)?;
    let Some(player) = sqlx::query_as::<_, PlayerRow>(player_query!("WHERE key = $1"))
        .bind(key)
        .fetch_optional(&mut *tx)
        .await
        .map_err(err)?
    else {
        return Ok(None);
    };
    let rows = sqlx::query_as::<_, ScoreRecord<uuid::Uuid, i32>>(score_query!(
        "WHERE s.player_key = $1 ORDER BY s.achieved_at, s.session_id"
    ))
    .bind(key)
    .fetch_all(&mut *tx)
    .await
    .map_err(err)?;
    let replays: Vec<(uuid::Uuid, i64, Option<Vec<u8>>)> =
        sqlx::query_as("SELECT session_id, seed, replay FROM scores WHERE player_key = $1")
            .bind(key)
            .fetch_all(&mut *tx)
            .await
            .map_err(err)?;
    let reports: Vec<(Option<uuid::Uuid>, Option<String>, i64)> = sqlx::query_as(
        "SELECT session_id, reason, created_at FROM reports WHERE player_key = $1 \
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
            let (_, seed, replay) = replays
                .iter()
                .find(|(id, _, _)| *id == row.session_id.0)
                .ok_or_else(|| BackendError::defect(BACKEND, "a score without its replay"))?;
            // NULL once the retention removed it.
            let inputs = replay
                .as_deref()
                .map(replay_codec::unpack)
                .transpose()
                .map_err(|e| {
                    BackendError::defect(BACKEND, "an unreadable stored replay").with_source(e)
                })?;
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
                session_id: session_id.map(SessionId),
                reason,
                at: Timestamp(at),
            })
            .collect(),
    }))
}

pub(crate) async fn erase_player(
    pool: &PgPool,
    e: &Erasure,
    audit: &NewAudit,
    events: &[Event],
) -> Result<Option<Erased>, BackendError> {
    let (key, name) = (e.player_key.as_str(), e.player_name.as_str());
    let mut tx = pool.begin().await.map_err(err)?;
    // The player's row locked: a concurrent finish of theirs waits for the erasure, then
    // finds no player to store a score for.
    let found: Option<i32> = sqlx::query_scalar("SELECT 1 FROM players WHERE key = $1 FOR UPDATE")
        .bind(key)
        .fetch_optional(&mut *tx)
        .await
        .map_err(err)?;
    if found.is_none() {
        return Ok(None);
    }
    // The records keep what was done and when, under the erasure's reference; the targets
    // they had name the review items of the player's scores, removed ones too.
    let targets: Vec<String> = sqlx::query_scalar(&format!(
        "WITH about AS (SELECT id, target FROM audit_log WHERE {ABOUT_PLAYER}), \
         redacted AS (UPDATE audit_log a SET target = $3, state_before = NULL, \
           state_after = NULL FROM about WHERE a.id = about.id) \
         SELECT target FROM about"
    ))
    .bind(key)
    .bind(name)
    .bind(&e.reference)
    .fetch_all(&mut *tx)
    .await
    .map_err(err)?;
    sqlx::query(
        "DELETE FROM reviews WHERE item = ANY($2) \
           OR item IN (SELECT 'score:' || session_id::text FROM scores WHERE player_key = $1) \
           OR item IN (SELECT 'report:' || id::text FROM reports WHERE player_key = $1 \
             OR session_id IN (SELECT session_id FROM scores WHERE player_key = $1))",
    )
    .bind(key)
    .bind(&targets)
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
    sqlx::query("DELETE FROM outbox WHERE strpos(payload, $1) > 0")
        .bind(outbox_needle(BACKEND, name)?)
        .execute(&mut *tx)
        .await
        .map_err(err)?;
    if let Some(at) = e.block_name {
        sqlx::query(
            "INSERT INTO blocked_names (key, blocked_at) VALUES ($1, $2) \
             ON CONFLICT (key) DO NOTHING",
        )
        .bind(key)
        .bind(at.0)
        .execute(&mut *tx)
        .await
        .map_err(err)?;
    }
    PostgresStore::append_audit(&mut tx, audit).await?;
    PostgresStore::add_events(&mut tx, events).await?;
    tx.commit().await.map_err(err)?;
    Ok(Some(Erased { scores, reports }))
}
