//! Players' rights over their data: a player exports everything Arcade keeps of them, or
//! erases it, showing the token their browser received when it claimed the name
//! (`Authorization: Bearer TOKEN`); operators do the same through the admin API (their routes
//! are listed in [`crate::admin`], whose limiter and headers they share). Every answer is
//! `Cache-Control: no-store`; an export is a download (`Content-Disposition: attachment`).

use arcade_domain::player_data::PlayerData;
use arcade_domain::service::ErasureReceipt;
use arcade_domain::time::Timestamp;
use axum::Json;
use axum::extract::{FromRequestParts, Request, State};
use axum::http::request::Parts;
use axum::http::{HeaderValue, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use serde::{Deserialize, Serialize};
use utoipa::openapi::security::{Http, HttpAuthScheme, SecurityScheme};
use utoipa::{Modify, OpenApi, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use uuid::Uuid;

use crate::admin::Caller;
use crate::error::{AdminProblems, ApiError, Problem, SharedProblems};
use crate::extract::{ApiJson, ApiPath};
use crate::state::AppState;

/// What an export says of the reports the player made.
pub const REPORTS_MADE: &str = "Arcade keeps reports without anything of who made them, so \
    none can be linked to you and none is in this export.";

#[derive(OpenApi)]
#[openapi(
    tags((name = "players", description = "A player's own data: export it or erase it, with the token the browser received when it claimed the name (`Authorization: Bearer TOKEN`)")),
    modifiers(&PlayerAuth),
)]
struct PlayersDoc;

/// The `player_token` security scheme the players' operations name.
struct PlayerAuth;

impl Modify for PlayerAuth {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "player_token",
            SecurityScheme::Http(Http::new(HttpAuthScheme::Bearer)),
        );
    }
}

/// The players' routes with their headers; merged into the API's router.
pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::with_openapi(PlayersDoc::openapi())
        .routes(routes!(export_own))
        .routes(routes!(erase_own))
        .layer(axum::middleware::from_fn(player_headers))
}

/// Every answer about a player's own data: never stored by a cache, and a 401 says which
/// scheme to use.
async fn player_headers(request: Request, next: Next) -> Response {
    let mut response = next.run(request).await;
    let unauthorized = response.status() == StatusCode::UNAUTHORIZED;
    let headers = response.headers_mut();
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    if unauthorized {
        headers.insert(
            header::WWW_AUTHENTICATE,
            HeaderValue::from_static("Bearer realm=\"arcade-player\""),
        );
    }
    response
}

/// The token a request shows, if it shows one (`Authorization: Bearer TOKEN`).
#[derive(Debug, Clone)]
pub struct PlayerToken(pub Option<String>);

impl<S: Send + Sync> FromRequestParts<S> for PlayerToken {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, ApiError> {
        Ok(Self(
            parts
                .headers
                .get(header::AUTHORIZATION)
                .and_then(|v| v.to_str().ok())
                .and_then(|v| {
                    v.split_once(' ')
                        .filter(|(scheme, _)| scheme.eq_ignore_ascii_case("bearer"))
                })
                .map(|(_, token)| token.trim().to_owned()),
        ))
    }
}

/// The player as Arcade keeps them: their name, when they claimed it, and whether an
/// operator keeps them off the boards or from playing.
#[derive(Debug, Serialize, ToSchema)]
pub struct ExportedPlayer {
    pub name: String,
    #[schema(format = DateTime)]
    pub created_at: String,
    /// Since when an operator keeps the player off the boards; null when they do not.
    #[schema(format = DateTime)]
    pub hidden_at: Option<String>,
    /// Since when an operator keeps the player from starting games; null when they do not.
    #[schema(format = DateTime)]
    pub banned_at: Option<String>,
}

/// One score with what it was verified from: window 0's seed and every input.
#[derive(Debug, Serialize, ToSchema)]
pub struct ExportedScore {
    pub session_id: Uuid,
    pub game: String,
    #[schema(minimum = 0, maximum = 4294967295_u64)]
    pub score: u32,
    #[schema(minimum = 0, maximum = 4294967295_u64)]
    pub ticks: u32,
    pub game_over: bool,
    #[schema(minimum = 0, maximum = 4294967295_u64)]
    pub rules_version: u32,
    pub stats: std::collections::BTreeMap<String, u32>,
    /// Checks of human likeness the game failed (empty for most games).
    pub flags: Vec<String>,
    #[schema(format = DateTime)]
    pub achieved_at: String,
    /// The player's all-time best in the game before this score; null for a first.
    #[schema(minimum = 0, maximum = 4294967295_u64)]
    pub previous_best: Option<u32>,
    /// Window 0's seed (the others follow from the server's secret).
    #[schema(minimum = 0, maximum = 4294967295_u64)]
    pub seed: u32,
    #[schema(schema_with = crate::dto::kept_inputs_schema)]
    pub inputs: Option<Vec<arcade_domain::games::Input>>,
}

/// A report other players made about the player (or one of their scores).
#[derive(Debug, Serialize, ToSchema)]
pub struct ExportedReport {
    /// The reported score's session; null for a report of the name.
    pub session_id: Option<Uuid>,
    pub reason: Option<String>,
    #[schema(format = DateTime)]
    pub at: String,
}

/// What Arcade can say of the reports the player made.
#[derive(Debug, Serialize, ToSchema)]
pub struct ReportsMade {
    /// Always false: reports keep nothing of who made them.
    pub linked: bool,
    pub explanation: String,
}

/// Everything Arcade keeps of a player.
#[derive(Debug, Serialize, ToSchema)]
pub struct PlayerExport {
    #[schema(format = DateTime)]
    pub exported_at: String,
    pub player: ExportedPlayer,
    /// Every score, oldest first.
    pub scores: Vec<ExportedScore>,
    /// Reports about the player, oldest first.
    pub reports_about_player: Vec<ExportedReport>,
    pub reports_made: ReportsMade,
}

impl PlayerExport {
    /// The export of `data`, made at `now`.
    pub fn of(data: PlayerData, now: Timestamp) -> Self {
        let p = data.player;
        Self {
            exported_at: now.to_rfc3339(),
            player: ExportedPlayer {
                name: p.name,
                created_at: p.created_at.to_rfc3339(),
                hidden_at: p.hidden_at.map(|t| t.to_rfc3339()),
                banned_at: p.banned_at.map(|t| t.to_rfc3339()),
            },
            scores: data
                .scores
                .into_iter()
                .map(|s| ExportedScore {
                    session_id: s.row.session_id.0,
                    game: s.row.game,
                    score: s.row.score,
                    ticks: s.row.ticks,
                    game_over: s.row.game_over,
                    rules_version: s.row.rules_version,
                    stats: s.row.stats,
                    flags: s.row.flags,
                    achieved_at: s.row.achieved_at.to_rfc3339(),
                    previous_best: s.row.previous_best,
                    seed: s.seed,
                    inputs: s.inputs,
                })
                .collect(),
            reports_about_player: data
                .reports
                .into_iter()
                .map(|r| ExportedReport {
                    session_id: r.session_id.map(|s| s.0),
                    reason: r.reason,
                    at: r.at.to_rfc3339(),
                })
                .collect(),
            reports_made: ReportsMade {
                linked: false,
                explanation: REPORTS_MADE.to_owned(),
            },
        }
    }

    /// The export as a download.
    fn download(self) -> Response {
        let mut response = Json(self).into_response();
        response.headers_mut().insert(
            header::CONTENT_DISPOSITION,
            HeaderValue::from_static("attachment; filename=\"arcade-player-data.json\""),
        );
        response
    }
}

/// What an erasure did.
#[derive(Debug, Serialize, ToSchema)]
pub struct Erasure {
    /// The audit log's reference of the erasure (it names nobody).
    #[schema(pattern = "^erasure:[0-9a-f-]{36}$")]
    pub reference: String,
    #[schema(minimum = 0)]
    pub scores_erased: u64,
    #[schema(minimum = 0)]
    pub reports_erased: u64,
    /// Whether the name stays blocked; otherwise anyone may claim it now.
    pub name_blocked: bool,
}

impl From<ErasureReceipt> for Erasure {
    fn from(r: ErasureReceipt) -> Self {
        Self {
            reference: r.reference,
            scores_erased: r.erased.scores,
            reports_erased: r.erased.reports,
            name_blocked: r.name_blocked,
        }
    }
}

/// Download everything Arcade keeps of you: your name and its state, every score with its
/// replay, and the reports about you.
#[utoipa::path(get, path = "/api/players/{name}/export", tag = "players",
    security(("player_token" = [])),
    params(("name" = String, Path, format = "player-name", min_length = 1, description = "Your player name, as shown or as typed")),
    responses(
        SharedProblems,
        (status = 200, description = "Your data, as a JSON download", body = PlayerExport,
            headers(("content-disposition" = String, description = "`attachment; filename=\"arcade-player-data.json\"`"))),
        (status = 401, description = "No token, or not this player's (`player_token_invalid`)", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such player (`player_not_found`)", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Not a valid player name (`invalid_player_name`)", body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn export_own(
    State(state): State<AppState>,
    ApiPath(name): ApiPath<String>,
    PlayerToken(token): PlayerToken,
) -> Result<Response, ApiError> {
    let data = state
        .arcade
        .export_own_data(&name, token.as_deref())
        .await?;
    Ok(PlayerExport::of(data, state.arcade.now()).download())
}

/// Erase yourself: your name, scores and replays, and the reports about you leave Arcade on
/// every replica; the name is free for anyone to claim. The audit log keeps that an erasure
/// happened, under a reference that names nobody.
#[utoipa::path(delete, path = "/api/players/{name}", tag = "players",
    security(("player_token" = [])),
    params(("name" = String, Path, format = "player-name", min_length = 1, description = "Your player name, as shown or as typed")),
    responses(
        SharedProblems,
        (status = 200, description = "Erased", body = Erasure),
        (status = 401, description = "No token, or not this player's (`player_token_invalid`)", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such player (`player_not_found`)", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Not a valid player name (`invalid_player_name`)", body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn erase_own(
    State(state): State<AppState>,
    ApiPath(name): ApiPath<String>,
    PlayerToken(token): PlayerToken,
) -> Result<Json<Erasure>, ApiError> {
    let receipt = state.arcade.erase_own_data(&name, token.as_deref()).await?;
    for game in state.arcade.games() {
        state.boards.invalidate(game.id());
    }
    Ok(Json(receipt.into()))
}

/// Everything Arcade keeps of a player, as the player's own export gives it.
#[utoipa::path(get, path = "/api/admin/players/{name}/export", tag = "admin",
    security(("operator_token" = [])),
    params(("name" = String, Path, description = "The player's name (any spelling of it)")),
    responses(
        (status = 200, description = "The player's data, as a JSON download", body = PlayerExport,
            headers(("content-disposition" = String, description = "`attachment; filename=\"arcade-player-data.json\"`"))),
        AdminProblems,
        (status = 404, description = "No such player (`player_not_found`)", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Not a valid player name (`invalid_player_name`)", body = Problem, content_type = "application/problem+json"),
        (status = 503, description = "Storage unavailable; see Retry-After", body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn admin_export(
    State(state): State<AppState>,
    Caller(_caller): Caller,
    ApiPath(name): ApiPath<String>,
) -> Result<Response, ApiError> {
    let data = state.arcade.export_player(&name).await?;
    Ok(PlayerExport::of(data, state.arcade.now()).download())
}

/// Why an operator erases a player, and whether the name stays blocked.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct EraseRequest {
    /// One line, at most 500 characters (required; it must not name the player, as the
    /// audit log keeps it).
    #[schema(
        min_length = 1,
        max_length = 500,
        pattern = "^[^\\x00-\\x1F\\x7F-\\x9F]*[^\\s\\x00-\\x1F\\x7F-\\x9F][^\\x00-\\x1F\\x7F-\\x9F]*$"
    )]
    pub reason: String,
    /// Keep anyone from claiming the name again.
    #[serde(default)]
    pub block_name: bool,
}

/// Erase a player, saying why: everything the player's own erasure removes; the name is
/// released, or blocked for good.
#[utoipa::path(delete, path = "/api/admin/players/{name}", tag = "admin",
    security(("operator_token" = [])),
    params(("name" = String, Path, description = "The player's name (any spelling of it)")),
    request_body = EraseRequest,
    responses(
        (status = 200, description = "Erased, and audited without the name", body = Erasure),
        (status = 400, description = "Malformed JSON", body = Problem, content_type = "application/problem+json"),
        AdminProblems,
        (status = 404, description = "No such player (`player_not_found`)", body = Problem, content_type = "application/problem+json"),
        (status = 415, description = "The body is not sent as `application/json` (`unsupported_media_type`)", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "No reason, or a bad one (`invalid_reason`), a bad name, or a bad body (`invalid_body`)", body = Problem, content_type = "application/problem+json"),
        (status = 503, description = "Storage, sessions or the rank index unavailable: try again; see Retry-After", body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn admin_erase(
    State(state): State<AppState>,
    Caller(operator): Caller,
    ApiPath(name): ApiPath<String>,
    ApiJson(body): ApiJson<EraseRequest>,
) -> Result<Json<Erasure>, ApiError> {
    let receipt = state
        .arcade
        .erase_player(&name, body.block_name, &operator.name, Some(&body.reason))
        .await?;
    for game in state.arcade.games() {
        state.boards.invalidate(game.id());
    }
    Ok(Json(receipt.into()))
}
