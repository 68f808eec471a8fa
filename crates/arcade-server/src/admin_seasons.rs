//! The operators' API for seasons, under `/api/admin/seasons`: add and remove them (anyone
//! lists them at `GET /api/seasons`). Merged into the operators' routes, so it shares their
//! token check, per-client limit and `no-store`.

use arcade_domain::season::parse_instant;
use axum::Json;
use axum::http::StatusCode;
use serde::Deserialize;
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::admin::{ActionRequest, Caller};
use crate::dto::SeasonInfo;
use crate::error::{AdminProblems, ApiError, Problem};
use crate::extract::{ApiJson, ApiPath};
use crate::state::AppState;

/// The seasons' routes (without the operators' layers, which [`crate::admin::routes`] adds).
pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(add_season))
        .routes(routes!(remove_season))
}

/// A season to add.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AddSeasonRequest {
    /// 1 to 40 lowercase letters, digits or '-': how addresses name the season.
    #[schema(pattern = r"^[a-z0-9-]{1,40}$", example = "summer-2027")]
    pub slug: String,
    /// One line, 1 to 80 characters.
    #[schema(
        min_length = 1,
        max_length = 80,
        pattern = "^[^\\x00-\\x1F\\x7F-\\x9F]*[^\\s\\x00-\\x1F\\x7F-\\x9F][^\\x00-\\x1F\\x7F-\\x9F]*$",
        example = "Summer 2027"
    )]
    pub title: String,
    /// RFC 3339: scores achieved from this instant on count.
    #[schema(format = DateTime, example = "2027-06-01T00:00:00Z")]
    pub starts_at: String,
    /// RFC 3339, after the start: scores achieved from this instant on no longer count.
    #[schema(format = DateTime, example = "2027-09-01T00:00:00Z")]
    pub ends_at: String,
    /// Why, for the audit log (one line, at most 500 characters).
    pub reason: Option<String>,
}

/// Add a season. Its boards rank the scores achieved within it, those played before it was
/// added too. Seasons may overlap.
#[utoipa::path(post, path = "/api/admin/seasons", tag = "admin",
    security(("operator_token" = [])),
    request_body = AddSeasonRequest,
    responses(
        (status = 201, description = "Added, and audited", body = SeasonInfo),
        (status = 400, description = "Malformed JSON (`malformed_json`)", body = Problem, content_type = "application/problem+json"),
        AdminProblems,
        (status = 409, description = "There is a season of this slug (`season_exists`)", body = Problem, content_type = "application/problem+json"),
        (status = 415, description = "The body is not sent as `application/json` (`unsupported_media_type`)", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "A bad slug, title or time, an end not after the start, too many seasons (`invalid_season`); a bad reason (`invalid_reason`); a body of the wrong shape (`invalid_body`)", body = Problem, content_type = "application/problem+json"),
        (status = 503, description = "Storage unavailable; see Retry-After", body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn add_season(
    state: axum::extract::State<AppState>,
    Caller(operator): Caller,
    ApiJson(body): ApiJson<AddSeasonRequest>,
) -> Result<(StatusCode, Json<SeasonInfo>), ApiError> {
    let starts_at = parse_instant("starts_at", &body.starts_at)?;
    let ends_at = parse_instant("ends_at", &body.ends_at)?;
    let season = state
        .arcade
        .add_season(
            &body.slug,
            &body.title,
            starts_at,
            ends_at,
            &operator.name,
            body.reason.as_deref(),
        )
        .await?;
    let info = SeasonInfo::of(&season, state.arcade.now());
    Ok((StatusCode::CREATED, Json(info)))
}

/// Remove a season that is not over yet (added by mistake, or with the wrong dates: add it
/// again). A finished season's boards are an archive: it stays.
#[utoipa::path(delete, path = "/api/admin/seasons/{slug}", tag = "admin",
    security(("operator_token" = [])),
    params(("slug" = String, Path, description = "The season's slug")),
    request_body = ActionRequest,
    responses(
        (status = 204, description = "Removed, and audited"),
        (status = 400, description = "Malformed JSON (`malformed_json`)", body = Problem, content_type = "application/problem+json"),
        AdminProblems,
        (status = 404, description = "No such season (`season_not_found`)", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "The season is over: its boards stay (`season_finished`)", body = Problem, content_type = "application/problem+json"),
        (status = 415, description = "The body is not sent as `application/json` (`unsupported_media_type`)", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "No reason, or a bad one (`invalid_reason`)", body = Problem, content_type = "application/problem+json"),
        (status = 503, description = "Storage unavailable; see Retry-After", body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn remove_season(
    state: axum::extract::State<AppState>,
    Caller(operator): Caller,
    ApiPath(slug): ApiPath<String>,
    ApiJson(body): ApiJson<ActionRequest>,
) -> Result<StatusCode, ApiError> {
    state
        .arcade
        .remove_season(&slug, &operator.name, body.reason.as_deref())
        .await?;
    Ok(StatusCode::NO_CONTENT)
}
