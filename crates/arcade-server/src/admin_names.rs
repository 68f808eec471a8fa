//! The operators' API for the name deny list, under `/api/admin/names/...`: list, add and
//! remove rules, and check existing names against them. Merged into the operators' routes, so
//! it shares their token check, per-client limit and `no-store`.

use arcade_domain::name_rules::{MAX_RULE_CHARS, NameRule, RuleKind};
use arcade_domain::query::Limit;
use axum::Json;
use axum::http::StatusCode;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::admin::{ActionRequest, Caller};
use crate::error::{AdminProblems, ApiError, Problem};
use crate::extract::{ApiJson, ApiPath, ApiQuery};
use crate::state::AppState;

/// The deny list's routes (without the operators' layers, which [`crate::admin::routes`]
/// adds).
pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list_name_rules, add_name_rule))
        .routes(routes!(remove_name_rule))
        .routes(routes!(check_names))
}

/// What a rule matches.
#[derive(Debug, Clone, Copy, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum NameRuleKind {
    /// A word found anywhere in a name.
    Word,
    /// A regular expression (Rust `regex` syntax) searched for in a name.
    Pattern,
}

impl From<NameRuleKind> for RuleKind {
    fn from(k: NameRuleKind) -> Self {
        match k {
            NameRuleKind::Word => Self::Word,
            NameRuleKind::Pattern => Self::Pattern,
        }
    }
}

impl From<RuleKind> for NameRuleKind {
    fn from(k: RuleKind) -> Self {
        match k {
            RuleKind::Word => Self::Word,
            RuleKind::Pattern => Self::Pattern,
        }
    }
}

/// A rule of the name deny list.
#[derive(Debug, Serialize, ToSchema)]
pub struct NameRuleInfo {
    #[schema(minimum = 1)]
    pub id: i64,
    pub kind: NameRuleKind,
    /// The rule as written (a word normalised as a name is).
    pub value: String,
    /// What is matched against names' look-alike-proof keys: the word's folded letters, or
    /// the pattern with its letters folded.
    pub folded: String,
    #[schema(format = DateTime)]
    pub created_at: String,
    /// The operator who added it, or `cli:USER`.
    pub created_by: String,
}

impl From<NameRule> for NameRuleInfo {
    fn from(r: NameRule) -> Self {
        Self {
            id: r.id,
            kind: r.kind.into(),
            value: r.value,
            folded: r.folded,
            created_at: r.created_at.to_rfc3339(),
            created_by: r.created_by,
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct NameRuleList {
    /// Oldest first.
    pub rules: Vec<NameRuleInfo>,
}

/// A rule to add.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AddNameRuleRequest {
    pub kind: NameRuleKind,
    /// A word (written like a name: letters, digits, spaces, '_' or '-', at most 24) or a
    /// pattern. Case, look-alikes, spaces, '_' and '-' do not matter either way.
    #[schema(min_length = 1, max_length = 200)]
    pub value: String,
    /// Why, for the audit log (one line, at most 500 characters).
    pub reason: Option<String>,
}

/// The deny list's rules, oldest first.
#[utoipa::path(get, path = "/api/admin/names/rules", tag = "admin",
    security(("operator_token" = [])),
    responses(
        (status = 200, description = "Every rule", body = NameRuleList),
        AdminProblems,
        (status = 503, description = "Storage unavailable; see Retry-After", body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn list_name_rules(
    state: axum::extract::State<AppState>,
    Caller(_caller): Caller,
) -> Result<Json<NameRuleList>, ApiError> {
    let rules = state.arcade.name_rules().await?;
    Ok(Json(NameRuleList {
        rules: rules.into_iter().map(NameRuleInfo::from).collect(),
    }))
}

/// Add a rule to the deny list: a new name it matches is refused (422 `name_denied`), on
/// every replica within moments. Names already claimed are left alone: find them with
/// `GET /api/admin/names/check`.
#[utoipa::path(post, path = "/api/admin/names/rules", tag = "admin",
    security(("operator_token" = [])),
    request_body = AddNameRuleRequest,
    responses(
        (status = 201, description = "Added, and audited", body = NameRuleInfo),
        (status = 400, description = "Malformed JSON (`malformed_json`)", body = Problem, content_type = "application/problem+json"),
        AdminProblems,
        (status = 409, description = "The list has a rule of this kind that matches the same (`name_rule_exists`)", body = Problem, content_type = "application/problem+json"),
        (status = 415, description = "The body is not sent as `application/json` (`unsupported_media_type`)", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "A word that could not be in a name, a pattern that is not a regular expression, too large, or matches every name, a full list (`invalid_name_rule`); a bad reason (`invalid_reason`); a body of the wrong shape (`invalid_body`)", body = Problem, content_type = "application/problem+json"),
        (status = 503, description = "Storage unavailable; see Retry-After", body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn add_name_rule(
    state: axum::extract::State<AppState>,
    Caller(operator): Caller,
    ApiJson(body): ApiJson<AddNameRuleRequest>,
) -> Result<(StatusCode, Json<NameRuleInfo>), ApiError> {
    let rule = state
        .arcade
        .add_name_rule(
            body.kind.into(),
            &body.value,
            &operator.name,
            body.reason.as_deref(),
        )
        .await?;
    Ok((StatusCode::CREATED, Json(rule.into())))
}

/// Remove a rule from the deny list.
#[utoipa::path(post, path = "/api/admin/names/rules/{id}/remove", tag = "admin",
    security(("operator_token" = [])),
    params(("id" = i64, Path, minimum = 1, description = "The rule's id, as the list shows it")),
    request_body = ActionRequest,
    responses(
        (status = 204, description = "Removed, and audited"),
        (status = 400, description = "Malformed JSON or id (`invalid_path`)", body = Problem, content_type = "application/problem+json"),
        AdminProblems,
        (status = 404, description = "No such rule (`name_rule_not_found`)", body = Problem, content_type = "application/problem+json"),
        (status = 415, description = "The body is not sent as `application/json` (`unsupported_media_type`)", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "A bad reason (`invalid_reason`)", body = Problem, content_type = "application/problem+json"),
        (status = 503, description = "Storage unavailable; see Retry-After", body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn remove_name_rule(
    state: axum::extract::State<AppState>,
    Caller(operator): Caller,
    ApiPath(id): ApiPath<i64>,
    ApiJson(body): ApiJson<ActionRequest>,
) -> Result<StatusCode, ApiError> {
    state
        .arcade
        .remove_name_rule(id, &operator.name, body.reason.as_deref())
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
pub struct CheckQuery {
    /// Matches per page, 1 to 100 (default 10).
    #[param(minimum = 1, maximum = 100)]
    pub limit: Option<i64>,
    /// `next_cursor` of the previous page.
    #[param(pattern = "^[A-Za-z0-9_-]+$")]
    pub cursor: Option<String>,
}

/// A claimed name a rule matches.
#[derive(Debug, Serialize, ToSchema)]
pub struct DeniedNameEntry {
    /// The player's name as shown.
    pub player: String,
    /// The id of the first rule that matches it.
    #[schema(minimum = 1)]
    pub rule: i64,
    /// Whether an operator keeps the player off the boards already.
    pub hidden: bool,
    /// Whether an operator banned the player already.
    pub banned: bool,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct NameCheckResult {
    /// By the names' keys.
    pub matches: Vec<DeniedNameEntry>,
    /// Pass as `cursor` to go on; absent once every player was checked. A page reads a
    /// bounded number of players, so it may hold fewer matches than asked for and still have
    /// a next one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub next_cursor: Option<String>,
}

/// Check the names players already claimed against the deny list (as in force on the
/// replica that answers), a page at a time, to rename or hide them.
#[utoipa::path(get, path = "/api/admin/names/check", tag = "admin",
    security(("operator_token" = [])),
    params(CheckQuery),
    responses(
        (status = 200, description = "Players whose names a rule matches", body = NameCheckResult),
        (status = 400, description = "A bad limit or cursor (`invalid_query`)", body = Problem, content_type = "application/problem+json"),
        AdminProblems,
        (status = 503, description = "Storage unavailable; see Retry-After", body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn check_names(
    state: axum::extract::State<AppState>,
    Caller(_caller): Caller,
    ApiQuery(q): ApiQuery<CheckQuery>,
) -> Result<Json<NameCheckResult>, ApiError> {
    let page = state
        .arcade
        .check_names(Limit::parse(q.limit)?, q.cursor.as_deref())
        .await?;
    Ok(Json(NameCheckResult {
        matches: page
            .matches
            .into_iter()
            .map(|m| DeniedNameEntry {
                player: m.player.name,
                rule: m.rule,
                hidden: m.player.hidden_at.is_some(),
                banned: m.player.banned_at.is_some(),
            })
            .collect(),
        next_cursor: page.next_cursor,
    }))
}

// The request's bound and the domain's are one number.
const _: () = assert!(MAX_RULE_CHARS == 200);
