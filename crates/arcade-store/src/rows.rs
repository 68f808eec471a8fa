//! Rows as both databases return them (`sqlx::FromRow`), the queries that select them, and
//! their conversion to the domain's types, in one place for the SQLite and PostgreSQL stores.
//!
//! The two schemas hold the same columns in different types (a session id is text in SQLite
//! and a uuid in PostgreSQL; numbers are 64-bit integers in SQLite and 32-bit in PostgreSQL),
//! so a row struct takes those column types as parameters and each store names its own.

use std::collections::BTreeMap;

use arcade_domain::BackendError;
use arcade_domain::admin::{AuditRecord, Operator, ReviewItem, ReviewKind};
use arcade_domain::ports::{PlayerRecord, ScoreRow};
use arcade_domain::ranks::{Ranked, Standing};
use arcade_domain::session::SessionId;
use arcade_domain::time::{BoardKey, Period, Timestamp};
use arcade_domain::token::TokenDigest;
use sqlx::types::Json;
use uuid::Uuid;

// Each query macro makes one `&'static str` at compile time: the `SELECT` of the columns its
// row struct reads, followed by the clauses given (literals, or macros that expand to them).

/// Stored scores with their players' names, as [`ScoreRecord`] reads them.
macro_rules! score_query {
    ($($rest:expr),+ $(,)?) => {
        concat!(
            "SELECT s.session_id, s.game, s.player_key, p.name, s.score, s.ticks, s.game_over, \
             s.rules_version, s.stats, s.achieved_at, s.previous_best, s.flags, \
             p.hidden_at IS NULL AS listed \
             FROM scores s JOIN players p ON p.key = s.player_key ",
            $($rest),+
        )
    };
}

/// Board bests (alias `b`) with their players' names, as [`StandingRecord`] reads them.
macro_rules! standing_query {
    ($($rest:expr),+ $(,)?) => {
        concat!(
            "SELECT b.player_key, p.name, b.score, b.achieved_at FROM best_scores b \
             JOIN players p ON p.key = b.player_key ",
            $($rest),+
        )
    };
}

/// Players, as [`PlayerRow`] reads them.
macro_rules! player_query {
    ($($rest:expr),+ $(,)?) => {
        concat!(
            "SELECT key, name, token_digest, created_at, hidden_at, banned_at FROM players ",
            $($rest),+
        )
    };
}

/// Operators, as [`OperatorRecord`] reads them.
macro_rules! operator_query {
    ($($rest:expr),+ $(,)?) => {
        concat!(
            "SELECT id, name, token_digest, created_at, revoked_at FROM operators ",
            $($rest),+
        )
    };
}

/// Audit records, as [`AuditRow`] reads them.
macro_rules! audit_query {
    ($($rest:expr),+ $(,)?) => {
        concat!(
            "SELECT id, at, actor, action, target, reason, state_before, state_after \
             FROM audit_log ",
            $($rest),+
        )
    };
}

/// A player's bests on every board, recomputed from their scores (none while they are hidden),
/// for the player's key in `$1`. The buckets are those kept with each score (`NewScore::day`,
/// `week`), or for a score kept without them (stored before they were), its UTC day and week
/// as `Period::bucket` counts them (the only calendar then). An upsert, as a finish of the
/// player's may raise a best between the caller's delete and this insert.
pub(crate) const RECOMPUTE_BESTS: &str = "\
    INSERT INTO best_scores (game, period, bucket, player_key, score, achieved_at, session_id) \
    SELECT game, period, bucket, player_key, score, achieved_at, session_id FROM ( \
      SELECT c.*, ROW_NUMBER() OVER (PARTITION BY game, period, bucket \
        ORDER BY score DESC, achieved_at, session_id) AS n FROM ( \
        SELECT s.game, p.period, CASE p.period WHEN 'all' THEN 0 \
            WHEN 'day' THEN COALESCE(s.day, s.achieved_at / 86400000) \
            ELSE COALESCE(s.week, (s.achieved_at / 86400000 + 3) / 7) END AS bucket, \
          s.player_key, s.score, s.achieved_at, s.session_id \
        FROM scores s CROSS JOIN (SELECT 'all' AS period UNION ALL SELECT 'day' \
          UNION ALL SELECT 'week') p \
        WHERE s.player_key = $1 AND s.score > 0 AND NOT EXISTS (SELECT 1 FROM players h \
          WHERE h.key = s.player_key AND h.hidden_at IS NOT NULL) \
      ) c \
    ) r WHERE n = 1 \
    ON CONFLICT (game, period, bucket, player_key) DO UPDATE SET \
      score = excluded.score, achieved_at = excluded.achieved_at, \
      session_id = excluded.session_id \
    WHERE excluded.score > best_scores.score \
       OR (excluded.score = best_scores.score \
           AND excluded.achieved_at < best_scores.achieved_at)";

/// A player's bests with their name, as [`BestRow`] reads them, for the key in `$1`.
pub(crate) const BESTS_OF_PLAYER: &str = "\
    SELECT b.game, b.period, b.bucket, b.player_key, p.name, b.score, b.achieved_at \
    FROM best_scores b JOIN players p ON p.key = b.player_key \
    WHERE b.player_key = $1 AND p.hidden_at IS NULL";

/// The review queue as one relation `q` (item, kind, player, game, session, score, flags,
/// reason, at), in each database's dialect: flagged scores not reviewed, then reports not
/// reviewed; the clauses given follow it.
macro_rules! review_query {
    (postgres, $($rest:expr),+ $(,)?) => {
        concat!(
            "SELECT q.item, q.kind, q.player, q.game, q.session, q.score, q.flags, q.reason, \
             q.at FROM ( \
               SELECT 'score:' || s.session_id::text AS item, 'flagged_score' AS kind, \
                 p.name AS player, s.game, s.session_id::text AS session, \
                 s.score::bigint AS score, s.flags AS flags, NULL::text AS reason, \
                 s.achieved_at AS at \
               FROM scores s JOIN players p ON p.key = s.player_key \
               WHERE s.flags <> '[]'::jsonb AND NOT EXISTS (SELECT 1 FROM reviews v \
                 WHERE v.item = 'score:' || s.session_id::text) \
               UNION ALL \
               SELECT 'report:' || r.id::text, 'report', COALESCE(p.name, r.player_key), \
                 s.game, r.session_id::text, s.score::bigint, COALESCE(s.flags, '[]'::jsonb), \
                 r.reason, r.created_at \
               FROM reports r LEFT JOIN players p ON p.key = r.player_key \
                 LEFT JOIN scores s ON s.session_id = r.session_id \
               WHERE NOT EXISTS (SELECT 1 FROM reviews v WHERE v.item = 'report:' || r.id::text) \
             ) q ",
            $($rest),+
        )
    };
    (sqlite, $($rest:expr),+ $(,)?) => {
        concat!(
            "SELECT q.item, q.kind, q.player, q.game, q.session, q.score, q.flags, q.reason, \
             q.at FROM ( \
               SELECT 'score:' || s.session_id AS item, 'flagged_score' AS kind, \
                 p.name AS player, s.game AS game, s.session_id AS session, s.score AS score, \
                 s.flags AS flags, NULL AS reason, s.achieved_at AS at \
               FROM scores s JOIN players p ON p.key = s.player_key \
               WHERE s.flags <> '[]' AND NOT EXISTS (SELECT 1 FROM reviews v \
                 WHERE v.item = 'score:' || s.session_id) \
               UNION ALL \
               SELECT 'report:' || r.id, 'report', COALESCE(p.name, r.player_key), s.game, \
                 r.session_id, s.score, COALESCE(s.flags, '[]'), r.reason, r.created_at \
               FROM reports r LEFT JOIN players p ON p.key = r.player_key \
                 LEFT JOIN scores s ON s.session_id = r.session_id \
               WHERE NOT EXISTS (SELECT 1 FROM reviews v WHERE v.item = 'report:' || r.id) \
             ) q ",
            $($rest),+
        )
    };
}

pub(crate) use {
    audit_query, operator_query, player_query, review_query, score_query, standing_query,
};

/// A stored score joined with its player's name. `Id` is the session id's column type and
/// `Int` that of the score's numbers.
#[derive(Debug, sqlx::FromRow)]
pub(crate) struct ScoreRecord<Id, Int> {
    session_id: Id,
    game: String,
    player_key: String,
    name: String,
    score: Int,
    ticks: Int,
    game_over: bool,
    rules_version: Int,
    stats: Json<BTreeMap<String, u32>>,
    achieved_at: i64,
    previous_best: Option<Int>,
    flags: Json<Vec<String>>,
    listed: bool,
}

impl<Id: Into<Uuid>, Int: Into<i64>> From<ScoreRecord<Id, Int>> for ScoreRow {
    fn from(r: ScoreRecord<Id, Int>) -> Self {
        Self {
            session_id: SessionId(r.session_id.into()),
            game: r.game,
            player_key: r.player_key,
            player_name: r.name,
            score: count(r.score),
            ticks: count(r.ticks),
            game_over: r.game_over,
            rules_version: count(r.rules_version),
            stats: r.stats.0,
            achieved_at: Timestamp(r.achieved_at),
            previous_best: r.previous_best.map(count),
            flags: r.flags.0,
            listed: r.listed,
        }
    }
}

/// A board best joined with its player's name; `Int` is the score's column type.
#[derive(Debug, sqlx::FromRow)]
pub(crate) struct StandingRecord<Int> {
    pub(crate) player_key: String,
    name: String,
    pub(crate) score: Int,
    pub(crate) achieved_at: i64,
}

impl<Int: Into<i64>> From<StandingRecord<Int>> for Standing {
    fn from(r: StandingRecord<Int>) -> Self {
        Self {
            score: u64::try_from(r.score.into()).unwrap_or(0),
            achieved_at_ms: r.achieved_at,
            player_key: r.player_key,
            player_name: r.name,
        }
    }
}

/// A player who claimed a name; the same column types in both databases.
#[derive(Debug, sqlx::FromRow)]
pub(crate) struct PlayerRow {
    key: String,
    name: String,
    token_digest: Vec<u8>,
    created_at: i64,
    hidden_at: Option<i64>,
    banned_at: Option<i64>,
}

impl PlayerRow {
    pub(crate) fn into_record(self, backend: &'static str) -> Result<PlayerRecord, BackendError> {
        let token_digest = TokenDigest::from_slice(&self.token_digest).ok_or_else(|| {
            BackendError::defect(
                backend,
                format!("player {} has a malformed token digest", self.key),
            )
        })?;
        Ok(PlayerRecord {
            key: self.key,
            name: self.name,
            token_digest,
            created_at: Timestamp(self.created_at),
            hidden_at: self.hidden_at.map(Timestamp),
            banned_at: self.banned_at.map(Timestamp),
        })
    }
}

/// An operator; `Id` is the id's column type.
#[derive(Debug, sqlx::FromRow)]
pub(crate) struct OperatorRecord<Id> {
    id: Id,
    name: String,
    token_digest: Vec<u8>,
    created_at: i64,
    revoked_at: Option<i64>,
}

impl<Id: Into<Uuid>> OperatorRecord<Id> {
    pub(crate) fn into_operator(self, backend: &'static str) -> Result<Operator, BackendError> {
        let token_digest = TokenDigest::from_slice(&self.token_digest).ok_or_else(|| {
            BackendError::defect(
                backend,
                format!("operator {} has a malformed token digest", self.name),
            )
        })?;
        Ok(Operator {
            id: self.id.into(),
            name: self.name,
            token_digest,
            created_at: Timestamp(self.created_at),
            revoked_at: self.revoked_at.map(Timestamp),
        })
    }
}

/// An item of the review queue, as [`review_query`] reads it in both databases.
#[derive(Debug, sqlx::FromRow)]
pub(crate) struct ReviewRow {
    item: String,
    kind: String,
    player: String,
    game: Option<String>,
    session: Option<String>,
    score: Option<i64>,
    flags: Json<Vec<String>>,
    reason: Option<String>,
    at: i64,
}

impl ReviewRow {
    pub(crate) fn into_item(self, backend: &'static str) -> Result<ReviewItem, BackendError> {
        let kind = match self.kind.as_str() {
            "flagged_score" => ReviewKind::FlaggedScore,
            "report" => ReviewKind::Report,
            other => {
                return Err(BackendError::defect(
                    backend,
                    format!("a review item of kind {other:?}"),
                ));
            }
        };
        let session_id = self
            .session
            .map(|s| SessionId::parse(&s))
            .transpose()
            .map_err(|_| BackendError::defect(backend, "a review item's session is not a uuid"))?;
        Ok(ReviewItem {
            item: self.item,
            kind,
            player: self.player,
            game: self.game,
            session_id,
            score: self.score.map(count),
            flags: self.flags.0,
            reason: self.reason,
            at: Timestamp(self.at),
        })
    }
}

/// A player's best on one board; `Int` is the score's column type.
#[derive(Debug, sqlx::FromRow)]
pub(crate) struct BestRow<Int> {
    game: String,
    period: String,
    bucket: i64,
    player_key: String,
    name: String,
    score: Int,
    achieved_at: i64,
}

impl<Int: Into<i64>> BestRow<Int> {
    pub(crate) fn into_best(
        self,
        backend: &'static str,
    ) -> Result<(BoardKey, Standing), BackendError> {
        let period = Period::parse(&self.period).map_err(|_| {
            BackendError::defect(backend, format!("a best of period {:?}", self.period))
        })?;
        Ok((
            BoardKey {
                game: self.game,
                period,
                bucket: self.bucket,
            },
            Standing {
                score: u64::try_from(self.score.into()).unwrap_or(0),
                achieved_at_ms: self.achieved_at,
                player_key: self.player_key,
                player_name: self.name,
            },
        ))
    }
}

/// An audit record; the same column types in both databases (JSON as `jsonb` or text).
#[derive(Debug, sqlx::FromRow)]
pub(crate) struct AuditRow {
    id: i64,
    at: i64,
    actor: String,
    action: String,
    target: String,
    reason: Option<String>,
    state_before: Option<Json<serde_json::Value>>,
    state_after: Option<Json<serde_json::Value>>,
}

impl From<AuditRow> for AuditRecord {
    fn from(r: AuditRow) -> Self {
        Self {
            id: r.id,
            at: Timestamp(r.at),
            actor: r.actor,
            action: r.action,
            target: r.target,
            reason: r.reason,
            before: r.state_before.map(|j| j.0),
            after: r.state_after.map(|j| j.0),
        }
    }
}

/// A stored count (score, ticks, rules version) as the domain's `u32`. Both stores write
/// `u32`s, so the clamping only guards against rows written by hand.
/// What an outbox payload (an event as JSON) holds when the event names `player`: its
/// `player` field, as serde_json writes it.
pub(crate) fn outbox_needle(backend: &'static str, player: &str) -> Result<String, BackendError> {
    let quoted = serde_json::to_string(player).map_err(|e| {
        BackendError::defect(backend, "cannot encode a player's name").with_source(e)
    })?;
    Ok(format!("\"player\":{quoted}"))
}

/// The standing a board page follows, as its query binds it: score, time and key, or one
/// ahead of every row for the first page.
pub(crate) fn page_bound(after: Option<&Standing>) -> (i64, i64, &str) {
    after.map_or((i64::MAX, i64::MIN, ""), |a| {
        (
            i64::try_from(a.score).unwrap_or(i64::MAX),
            a.achieved_at_ms,
            a.player_key.as_str(),
        )
    })
}

pub(crate) fn count(v: impl Into<i64>) -> u32 {
    u32::try_from(v.into().max(0)).unwrap_or(u32::MAX)
}

/// A score's stats as both stores write them: a JSON object (text in SQLite, `jsonb` in
/// PostgreSQL).
pub(crate) fn encode_stats(
    backend: &'static str,
    stats: &BTreeMap<String, u32>,
) -> Result<String, BackendError> {
    serde_json::to_string(stats)
        .map_err(|e| BackendError::defect(backend, "cannot encode a score's stats").with_source(e))
}

/// A score's flags as both stores write them: a JSON list of names.
pub(crate) fn encode_flags(
    backend: &'static str,
    flags: &[String],
) -> Result<String, BackendError> {
    serde_json::to_string(flags)
        .map_err(|e| BackendError::defect(backend, "cannot encode a score's flags").with_source(e))
}

/// Name rules, as [`NameRuleRow`] reads them.
macro_rules! name_rule_query {
    ($($rest:expr),+ $(,)?) => {
        concat!(
            "SELECT id, kind, value, folded, created_at, created_by FROM name_rules ",
            $($rest),+
        )
    };
}

pub(crate) use name_rule_query;

/// A rule of the name deny list; the same column types in both databases.
#[derive(Debug, sqlx::FromRow)]
pub(crate) struct NameRuleRow {
    id: i64,
    kind: String,
    value: String,
    folded: String,
    created_at: i64,
    created_by: String,
}

impl NameRuleRow {
    pub(crate) fn into_rule(
        self,
        backend: &'static str,
    ) -> Result<arcade_domain::name_rules::NameRule, BackendError> {
        let kind = arcade_domain::name_rules::RuleKind::parse(&self.kind).ok_or_else(|| {
            BackendError::defect(
                backend,
                format!("name rule {} has an unknown kind {:?}", self.id, self.kind),
            )
        })?;
        Ok(arcade_domain::name_rules::NameRule {
            id: self.id,
            kind,
            value: self.value,
            folded: self.folded,
            created_at: Timestamp(self.created_at),
            created_by: self.created_by,
        })
    }
}

/// Seasons, as [`SeasonRow`] reads them.
macro_rules! season_query {
    ($($rest:expr),+ $(,)?) => {
        concat!(
            "SELECT slug, title, starts_at, ends_at, created_at FROM seasons ",
            $($rest),+
        )
    };
}

pub(crate) use season_query;

/// A season; the same column types in both databases.
#[derive(Debug, sqlx::FromRow)]
pub(crate) struct SeasonRow {
    slug: String,
    title: String,
    starts_at: i64,
    ends_at: i64,
    created_at: i64,
}

impl From<SeasonRow> for arcade_domain::season::Season {
    fn from(r: SeasonRow) -> Self {
        Self {
            slug: r.slug,
            title: r.title,
            starts_at: Timestamp(r.starts_at),
            ends_at: Timestamp(r.ends_at),
            created_at: Timestamp(r.created_at),
        }
    }
}

/// A page of a season's board, in either database: `$1` the game, `$2` and `$3` the season's
/// start and end; `$4`, `$5`, `$6` the standing the page follows (score, time, key; one
/// ahead of every row when there is none); `$7` the limit. Each player's best within the
/// season (the earliest of equal ones), then the board's order and ranks over those.
pub(crate) const SEASON_PAGE: &str = "\
    WITH tried AS ( \
        SELECT s.player_key, p.name, CAST(s.score AS BIGINT) AS score, s.achieved_at, \
            ROW_NUMBER() OVER (PARTITION BY s.player_key \
                ORDER BY s.score DESC, s.achieved_at) AS nth \
        FROM scores s JOIN players p ON p.key = s.player_key \
        WHERE s.game = $1 AND s.achieved_at >= $2 AND s.achieved_at < $3 \
            AND s.score > 0 AND p.hidden_at IS NULL \
    ), board AS ( \
        SELECT player_key, name, score, achieved_at, \
            ROW_NUMBER() OVER (ORDER BY score DESC, achieved_at, player_key) AS place \
        FROM tried WHERE nth = 1 \
    ) \
    SELECT player_key, name, score, achieved_at, place FROM board \
    WHERE score < $4 OR (score = $4 AND (achieved_at > $5 \
        OR (achieved_at = $5 AND player_key > $6))) \
    ORDER BY place LIMIT $7";

/// A place on a season's board.
#[derive(Debug, sqlx::FromRow)]
pub(crate) struct SeasonPlaceRow {
    player_key: String,
    name: String,
    score: i64,
    achieved_at: i64,
    place: i64,
}

impl From<SeasonPlaceRow> for Ranked {
    fn from(r: SeasonPlaceRow) -> Self {
        Self {
            rank: u64::try_from(r.place).unwrap_or(0),
            standing: Standing {
                score: u64::try_from(r.score).unwrap_or(0),
                achieved_at_ms: r.achieved_at,
                player_key: r.player_key,
                player_name: r.name,
            },
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_outside_u32_are_clamped_rather_than_wrapped() {
        assert_eq!(count(-5_i32), 0);
        assert_eq!(count(i64::from(u32::MAX) + 1), u32::MAX);
        assert_eq!(count(i32::MAX), i32::MAX as u32);
    }

    #[test]
    fn a_player_row_with_a_short_digest_is_a_failure_not_a_panic() {
        let row = PlayerRow {
            key: "ann".into(),
            name: "Ann".into(),
            token_digest: vec![1, 2, 3],
            created_at: 0,
            hidden_at: None,
            banned_at: None,
        };
        let e = row.into_record("sqlite").unwrap_err();
        assert!(e.to_string().contains("malformed token digest"), "{e}");
    }
}
