//! The operators' API under `/api/admin/...`: each request carries an operator token
//! (`Authorization: Bearer arcade_op_…`, never a player's token), is limited per client
//! (failed attempts count too, so tokens cannot be guessed at speed), and is answered with
//! `Cache-Control: no-store`. Handlers only translate: the use cases are the domain's
//! (`Arcade::authenticate_operator`, `audit_log`, …), which store every action with its audit
//! record.

use std::num::NonZeroU32;
use std::sync::Arc;
use std::sync::atomic::{AtomicU32, Ordering};

use arcade_domain::DomainError;
use arcade_domain::admin::{AuditRecord, Operator};
use arcade_domain::query::Limit;
use arcade_domain::service::ShownScore;
use axum::Json;
use axum::extract::{FromRequestParts, Request};
use axum::http::request::Parts;
use axum::http::{HeaderValue, StatusCode, header};
use axum::middleware::Next;
use axum::response::Response;
use serde::{Deserialize, Serialize};
use utoipa::openapi::security::{Http, HttpAuthScheme, SecurityScheme};
use utoipa::{IntoParams, Modify, OpenApi, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::error::{AdminProblems, ApiError, Problem};
use crate::extract::{ApiJson, ApiPath, ApiQuery, ClientIp};
use crate::state::AppState;

/// Requests to the operators' API per client IP per minute, answered or refused.
pub const REQUESTS_PER_MINUTE: u32 = 120;

/// Reports a client may make per minute.
pub const REPORTS_PER_MINUTE: u32 = 10;

/// The per-client limit of players' reports.
#[derive(Debug)]
pub struct ReportLimiter(ClientLimiter);

/// How often (in checks) the limiter forgets clients whose allowance is full again.
const FORGET_EVERY: u32 = 1024;

#[derive(OpenApi)]
#[openapi(
    tags(
        (name = "admin", description = "The operators' API: operator tokens only (`Authorization: Bearer arcade_op_…`, from `arcade admin token create`, or the identity token of the OpenID Connect provider the server is configured with), never cached, limited per client; every action is audited"),
        (name = "reports", description = "Players report a name or a score for an operator's review"),
    ),
    modifiers(&OperatorAuth),
    components(schemas(PlayerAction)),
)]
struct AdminDoc;

/// The `operator_token` security scheme the admin operations name.
struct OperatorAuth;

impl Modify for OperatorAuth {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "operator_token",
            SecurityScheme::Http(Http::new(HttpAuthScheme::Bearer)),
        );
    }
}

/// The operators' routes with their limiter and headers; merged into the API's router.
pub fn routes() -> OpenApiRouter<AppState> {
    let limiter = Arc::new(AdminLimiter(ClientLimiter::per_minute(REQUESTS_PER_MINUTE)));
    OpenApiRouter::with_openapi(AdminDoc::openapi())
        .routes(routes!(whoami))
        .routes(routes!(list_operators))
        .routes(routes!(audit_log))
        .routes(routes!(player_action))
        .routes(routes!(remove_score))
        .routes(routes!(rename_player))
        .routes(routes!(review_queue))
        .routes(routes!(resolve_review))
        .routes(routes!(report))
        .merge(crate::admin_names::routes())
        .merge(crate::admin_seasons::routes())
        .routes(routes!(crate::players::admin_export))
        .routes(routes!(crate::players::admin_erase))
        .layer(axum::middleware::from_fn(admin_headers))
        .layer(axum::Extension(limiter))
        .layer(axum::Extension(Arc::new(ReportLimiter(
            ClientLimiter::per_minute(REPORTS_PER_MINUTE),
        ))))
}

/// The per-client limit of the operators' API.
#[derive(Debug)]
pub struct AdminLimiter(ClientLimiter);

impl AdminLimiter {
    fn check(&self, ip: std::net::IpAddr) -> Result<(), DomainError> {
        self.0.check(ip)
    }
}

/// A per-client limit kept by this replica (operators are few and reports cheap to refuse: a
/// limit shared by the fleet buys nothing here), GCRA so a burst up to the quota passes.
#[derive(Debug)]
pub struct ClientLimiter {
    limiter: governor::DefaultKeyedRateLimiter<std::net::IpAddr>,
    checks: AtomicU32,
}

impl ClientLimiter {
    fn per_minute(quota: u32) -> Self {
        Self {
            limiter: governor::RateLimiter::keyed(governor::Quota::per_minute(
                NonZeroU32::new(quota).unwrap_or(NonZeroU32::MIN),
            )),
            checks: AtomicU32::new(0),
        }
    }

    fn check(&self, ip: std::net::IpAddr) -> Result<(), DomainError> {
        use governor::clock::{Clock, DefaultClock};
        if self.checks.fetch_add(1, Ordering::Relaxed) % FORGET_EVERY == FORGET_EVERY - 1 {
            self.limiter.retain_recent();
        }
        self.limiter
            .check_key(&ip)
            .map_err(|not_until| DomainError::RateLimited {
                retry_after: not_until.wait_time_from(DefaultClock::default().now()),
            })
    }
}

/// Every answer of the operators' API: never stored by a cache, and a 401 says which scheme
/// to use.
async fn admin_headers(request: Request, next: Next) -> Response {
    let mut response = next.run(request).await;
    let headers = response.headers_mut();
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    if response.status() == StatusCode::UNAUTHORIZED {
        response.headers_mut().insert(
            header::WWW_AUTHENTICATE,
            HeaderValue::from_static("Bearer realm=\"arcade-admin\""),
        );
    }
    response
}

/// The operator a request comes from: the client within its limit, then a valid, unrevoked
/// operator token, or an identity token of the configured provider. A request with nothing
/// shaped like either guesses none and is
/// refused before the limit counts it (a client that forgot its token is told so, not told
/// to wait).
#[derive(Debug, Clone)]
pub struct Caller(pub Operator);

impl FromRequestParts<AppState> for Caller {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        let token = parts
            .headers
            .get(header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| {
                v.split_once(' ')
                    .filter(|(scheme, _)| scheme.eq_ignore_ascii_case("bearer"))
            })
            .map(|(_, token)| token.trim())
            .filter(|token| {
                arcade_domain::admin::looks_like_token(token)
                    || arcade_domain::admin::looks_like_identity_token(token)
            })
            .map(str::to_owned)
            .ok_or(DomainError::OperatorUnauthorized)?;
        let Ok(ClientIp(ip)) = ClientIp::from_request_parts(parts, state).await;
        let limiter = parts
            .extensions
            .get::<Arc<AdminLimiter>>()
            .ok_or_else(|| ApiError::Internal("the admin routes lost their limiter".into()))?;
        limiter.check(ip)?;
        Ok(Self(state.arcade.authenticate_operator(&token).await?))
    }
}

/// An operator as the API shows them (never their token or its digest).
#[derive(Debug, Serialize, ToSchema)]
pub struct OperatorInfo {
    pub name: String,
    pub created_at: String,
    /// When the operator's token was revoked; absent while it is valid.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub revoked_at: Option<String>,
}

impl From<&Operator> for OperatorInfo {
    fn from(o: &Operator) -> Self {
        Self {
            name: o.name.clone(),
            created_at: o.created_at.to_rfc3339(),
            revoked_at: o.revoked_at.map(|t| t.to_rfc3339()),
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct OperatorList {
    pub operators: Vec<OperatorInfo>,
}

/// One audit record: who did what to what, when, why, and the target before and after.
#[derive(Debug, Serialize, ToSchema)]
pub struct AuditEntry {
    pub id: i64,
    pub at: String,
    /// The operator's name, or `cli:USER` for the command line on the database.
    pub actor: String,
    /// e.g. `token_created`, `player_hidden`, `score_removed`.
    pub action: String,
    /// e.g. `operator:ann`, `player:KEY`, `score:SESSION`.
    pub target: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    #[schema(value_type = Option<Object>)]
    pub before: Option<serde_json::Value>,
    #[schema(value_type = Option<Object>)]
    pub after: Option<serde_json::Value>,
}

impl From<AuditRecord> for AuditEntry {
    fn from(r: AuditRecord) -> Self {
        Self {
            id: r.id,
            at: r.at.to_rfc3339(),
            actor: r.actor,
            action: r.action,
            target: r.target,
            reason: r.reason,
            before: r.before,
            after: r.after,
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct AuditLogPage {
    pub entries: Vec<AuditEntry>,
    /// Pass as `cursor` for the next (older) page; absent on the last page.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub next_cursor: Option<String>,
}

#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
pub struct AuditQuery {
    /// Records per page, 1 to 100 (default 10).
    pub limit: Option<i64>,
    /// `next_cursor` of the previous page.
    pub cursor: Option<String>,
}

/// Who the token belongs to: what a console shows after its login.
#[utoipa::path(get, path = "/api/admin/me", tag = "admin",
    security(("operator_token" = [])),
    responses(
        (status = 200, description = "The operator the token belongs to", body = OperatorInfo),
        AdminProblems,
        (status = 503, description = "Storage unavailable; see Retry-After", body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn whoami(Caller(operator): Caller) -> Json<OperatorInfo> {
    Json(OperatorInfo::from(&operator))
}

/// Every operator, revoked ones too.
#[utoipa::path(get, path = "/api/admin/operators", tag = "admin",
    security(("operator_token" = [])),
    responses(
        (status = 200, description = "Operators by name", body = OperatorList),
        AdminProblems,
        (status = 503, description = "Storage unavailable; see Retry-After", body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn list_operators(
    state: axum::extract::State<AppState>,
    Caller(_caller): Caller,
) -> Result<Json<OperatorList>, ApiError> {
    let operators = state.arcade.operators().await?;
    Ok(Json(OperatorList {
        operators: operators.iter().map(OperatorInfo::from).collect(),
    }))
}

/// The audit log, newest first: every operator action with who, what, when, why, before and
/// after.
#[utoipa::path(get, path = "/api/admin/audit", tag = "admin",
    security(("operator_token" = [])),
    params(AuditQuery),
    responses(
        (status = 200, description = "A page of the audit log", body = AuditLogPage),
        (status = 400, description = "A bad limit or cursor (`invalid_query`)", body = Problem, content_type = "application/problem+json"),
        AdminProblems,
        (status = 503, description = "Storage unavailable; see Retry-After", body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn audit_log(
    state: axum::extract::State<AppState>,
    Caller(_caller): Caller,
    ApiQuery(q): ApiQuery<AuditQuery>,
) -> Result<Json<AuditLogPage>, ApiError> {
    let page = state
        .arcade
        .audit_log(Limit::parse(q.limit)?, q.cursor.as_deref())
        .await?;
    Ok(Json(AuditLogPage {
        entries: page.records.into_iter().map(AuditEntry::from).collect(),
        next_cursor: page.next_cursor,
    }))
}

/// Why an operator acts, for the audit log.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ActionRequest {
    /// One line, at most 500 characters; required to remove a score or a season.
    #[schema(max_length = 500, pattern = "^[^\\x00-\\x1F\\x7F-\\x9F]*$")]
    pub reason: Option<String>,
}

/// What an operator does to a player.
#[derive(Debug, Clone, Copy, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum PlayerAction {
    /// Off every board of every period, on every replica, until shown again.
    Hide,
    /// Back on the boards, with their bests recomputed from their scores.
    Unhide,
    /// No more games started under the name (scores stay).
    Ban,
    Unban,
}

/// Act on a player: hide or show them on the boards, ban or unban them. Doing what is
/// already done changes and records nothing.
#[utoipa::path(post, path = "/api/admin/players/{name}/{action}", tag = "admin",
    security(("operator_token" = [])),
    params(
        ("name" = String, Path, description = "The player's name (any spelling of it)"),
        ("action" = PlayerAction, Path, description = "`hide`, `unhide`, `ban` or `unban`"),
    ),
    request_body = ActionRequest,
    responses(
        (status = 204, description = "Done, and audited"),
        (status = 400, description = "Malformed JSON or action (`invalid_path`)", body = Problem, content_type = "application/problem+json"),
        AdminProblems,
        (status = 404, description = "No such player (`player_not_found`)", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "A bad reason (`invalid_reason`) or name", body = Problem, content_type = "application/problem+json"),
        (status = 503, description = "Storage or the rank index unavailable: try again (what was stored stays, and the retry finishes the rest); see Retry-After", body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn player_action(
    state: axum::extract::State<AppState>,
    Caller(operator): Caller,
    ApiPath((name, action)): ApiPath<(String, PlayerAction)>,
    ApiJson(body): ApiJson<ActionRequest>,
) -> Result<StatusCode, ApiError> {
    let (arcade, actor, reason) = (
        &state.arcade,
        operator.name.as_str(),
        body.reason.as_deref(),
    );
    match action {
        PlayerAction::Hide => arcade.set_player_hidden(&name, true, actor, reason).await,
        PlayerAction::Unhide => arcade.set_player_hidden(&name, false, actor, reason).await,
        PlayerAction::Ban => arcade.set_player_banned(&name, true, actor, reason).await,
        PlayerAction::Unban => arcade.set_player_banned(&name, false, actor, reason).await,
    }?;
    Ok(StatusCode::NO_CONTENT)
}

/// Remove one score, with a reason: the player's bests and ranks are recomputed from the
/// scores left.
#[utoipa::path(post, path = "/api/admin/scores/{id}/remove", tag = "admin",
    security(("operator_token" = [])),
    params(("id" = String, Path, description = "The score's session id")),
    request_body = ActionRequest,
    responses(
        (status = 204, description = "Removed, and audited"),
        (status = 400, description = "Malformed JSON or session id", body = Problem, content_type = "application/problem+json"),
        AdminProblems,
        (status = 404, description = "No such score (`score_not_found`)", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "No reason, or a bad one (`invalid_reason`)", body = Problem, content_type = "application/problem+json"),
        (status = 503, description = "Storage or the rank index unavailable; see Retry-After", body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn remove_score(
    state: axum::extract::State<AppState>,
    Caller(operator): Caller,
    ApiPath(id): ApiPath<String>,
    ApiJson(body): ApiJson<ActionRequest>,
) -> Result<StatusCode, ApiError> {
    state
        .arcade
        .remove_score(&id, &operator.name, body.reason.as_deref())
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

/// A new name for a player.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RenameRequest {
    /// The new name (the rules of a claimed name apply).
    pub to: String,
    /// Keep anyone from claiming the old name again.
    #[serde(default)]
    pub block_old: bool,
    /// Why, for the audit log: one line, at most 500 characters.
    #[schema(max_length = 500, pattern = "^[^\\x00-\\x1F\\x7F-\\x9F]*$")]
    pub reason: Option<String>,
}

/// Rename a player: their token, scores and bests move to the new name; the old name may be
/// blocked for good.
#[utoipa::path(post, path = "/api/admin/players/{name}/rename", tag = "admin",
    security(("operator_token" = [])),
    params(("name" = String, Path, description = "The player's current name")),
    request_body = RenameRequest,
    responses(
        (status = 204, description = "Renamed, and audited"),
        (status = 400, description = "Malformed JSON", body = Problem, content_type = "application/problem+json"),
        AdminProblems,
        (status = 404, description = "No such player (`player_not_found`)", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "The new name is another player's or blocked (`name_unavailable`)", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "A bad name (`invalid_player_name`) or reason (`invalid_reason`)", body = Problem, content_type = "application/problem+json"),
        (status = 503, description = "Storage or the rank index unavailable; see Retry-After", body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn rename_player(
    state: axum::extract::State<AppState>,
    Caller(operator): Caller,
    ApiPath(name): ApiPath<String>,
    ApiJson(body): ApiJson<RenameRequest>,
) -> Result<StatusCode, ApiError> {
    state
        .arcade
        .rename_player(
            &name,
            &body.to,
            body.block_old,
            &operator.name,
            body.reason.as_deref(),
        )
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

/// A player's report of a name, or of one of its scores.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ReportRequest {
    /// The reported player's name.
    #[schema(format = "player-name", min_length = 1, max_length = 256)]
    pub player: String,
    /// The reported score's session id, as the player's history shows it.
    #[schema(value_type = Option<uuid::Uuid>)]
    pub session_id: Option<String>,
    /// The reported score as a board shows it (with `session_id` too, both must name the
    /// same score).
    #[schema(nullable)]
    pub shown: Option<ShownScoreRequest>,
    /// Why (one line without control characters, at most 500 characters).
    #[schema(max_length = 500, pattern = "^[^\\x00-\\x1F\\x7F-\\x9F]*$")]
    pub reason: Option<String>,
}

/// A score as a board entry shows it.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ShownScoreRequest {
    /// The game's id.
    pub game: String,
    pub score: u64,
    /// RFC 3339, as the board entry gives it.
    #[schema(format = DateTime)]
    pub achieved_at: String,
}

/// Report a name or a score: it waits in the review queue for an operator. Nothing of who
/// reported is kept. Limited per client.
#[utoipa::path(post, path = "/api/reports", tag = "reports",
    request_body = ReportRequest,
    responses(
        (status = 202, description = "Reported: an operator will look at it"),
        (status = 400, description = "Malformed JSON or session id", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such player (`player_not_found`), game (`unknown_game`) or score of theirs (`score_not_found`, also when `session_id` and `shown` name two scores)", body = Problem, content_type = "application/problem+json"),
        (status = 415, description = "The body is not sent as `application/json` (`unsupported_media_type`)", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "A bad name or reason (`invalid_player_name`, `invalid_reason`), or a shown score's `achieved_at` not a date and time (`invalid_report`)", body = Problem, content_type = "application/problem+json"),
        (status = 429, description = "Too many reports from this client (`rate_limited`); see Retry-After", body = Problem, content_type = "application/problem+json"),
        (status = 503, description = "Storage unavailable; see Retry-After", body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn report(
    state: axum::extract::State<AppState>,
    ClientIp(ip): ClientIp,
    limiter: axum::Extension<Arc<ReportLimiter>>,
    ApiJson(body): ApiJson<ReportRequest>,
) -> Result<StatusCode, ApiError> {
    limiter.0.0.check(ip)?;
    let shown = body.shown.as_ref().map(|s| ShownScore {
        game: &s.game,
        score: s.score,
        achieved_at: &s.achieved_at,
    });
    state
        .arcade
        .report(
            &body.player,
            body.session_id.as_deref(),
            shown,
            body.reason.as_deref(),
        )
        .await?;
    Ok(StatusCode::ACCEPTED)
}

/// One item of the review queue.
#[derive(Debug, Serialize, ToSchema)]
pub struct ReviewEntry {
    /// `score:SESSION` (a flagged score) or `report:ID` (a player's report): what to resolve.
    pub item: String,
    /// `flagged_score` or `report`.
    pub kind: String,
    pub player: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub game: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub session_id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub score: Option<u32>,
    pub flags: Vec<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    /// When the score was achieved or the report made.
    pub at: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ReviewQueue {
    /// Oldest first.
    pub items: Vec<ReviewEntry>,
}

#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
pub struct ReviewQuery {
    /// Items, 1 to 100 (default 10).
    pub limit: Option<i64>,
}

/// The review queue, oldest first: scores stored with human-likeness flags, and players'
/// reports, not resolved yet.
#[utoipa::path(get, path = "/api/admin/review", tag = "admin",
    security(("operator_token" = [])),
    params(ReviewQuery),
    responses(
        (status = 200, description = "Items waiting for review", body = ReviewQueue),
        (status = 400, description = "A bad limit (`invalid_query`)", body = Problem, content_type = "application/problem+json"),
        AdminProblems,
        (status = 503, description = "Storage unavailable; see Retry-After", body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn review_queue(
    state: axum::extract::State<AppState>,
    Caller(_caller): Caller,
    ApiQuery(q): ApiQuery<ReviewQuery>,
) -> Result<Json<ReviewQueue>, ApiError> {
    let items = state.arcade.review_queue(Limit::parse(q.limit)?).await?;
    Ok(Json(ReviewQueue {
        items: items.into_iter().map(ReviewEntry::from).collect(),
    }))
}

impl From<arcade_domain::admin::ReviewItem> for ReviewEntry {
    fn from(i: arcade_domain::admin::ReviewItem) -> Self {
        Self {
            item: i.item,
            kind: match i.kind {
                arcade_domain::admin::ReviewKind::FlaggedScore => "flagged_score",
                arcade_domain::admin::ReviewKind::Report => "report",
            }
            .to_owned(),
            player: i.player,
            game: i.game,
            session_id: i.session_id.map(|s| s.to_string()),
            score: i.score,
            flags: i.flags,
            reason: i.reason,
            at: i.at.to_rfc3339(),
        }
    }
}

/// How an operator resolves a review item.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ResolveRequest {
    /// `dismiss`, `remove_score` or `hide_player`.
    #[schema(value_type = String)]
    pub resolution: arcade_domain::admin::Resolution,
    /// Why, for the audit log: one line, at most 500 characters.
    #[schema(max_length = 500, pattern = "^[^\\x00-\\x1F\\x7F-\\x9F]*$")]
    pub reason: Option<String>,
}

/// Resolve an item of the review queue: dismiss it, remove its score or hide its player (each
/// audited), and it leaves the queue.
#[utoipa::path(post, path = "/api/admin/review/{item}/resolve", tag = "admin",
    security(("operator_token" = [])),
    params(("item" = String, Path, description = "`score:SESSION` or `report:ID`, as the queue lists it")),
    request_body = ResolveRequest,
    responses(
        (status = 204, description = "Resolved, and audited"),
        (status = 400, description = "Malformed JSON", body = Problem, content_type = "application/problem+json"),
        AdminProblems,
        (status = 404, description = "Nothing of that name waits (`review_item_not_found`)", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "A bad reason, or `remove_score` for a report of a name alone (`invalid_reason`), or a bad resolution (`invalid_body`)", body = Problem, content_type = "application/problem+json"),
        (status = 503, description = "Storage or the rank index unavailable; see Retry-After", body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn resolve_review(
    state: axum::extract::State<AppState>,
    Caller(operator): Caller,
    ApiPath(item): ApiPath<String>,
    ApiJson(body): ApiJson<ResolveRequest>,
) -> Result<StatusCode, ApiError> {
    state
        .arcade
        .resolve_review(
            &item,
            body.resolution,
            &operator.name,
            body.reason.as_deref(),
        )
        .await?;
    Ok(StatusCode::NO_CONTENT)
}
