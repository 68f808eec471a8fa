//! Arcade's HTTP server: axum routes that translate HTTP to the domain's use cases, one
//! `ApiError` mapped to problem+json, the OpenAPI document generated from the handlers,
//! middleware (request ids, metrics, logs, limits, compression) and the embedded web pages.
//! It depends on the domain's ports only, never on a database or broker crate.

pub mod admin;
pub mod admin_names;
pub mod admin_seasons;
pub mod api;
pub mod assets;
pub mod board_cache;
pub mod dto;
pub mod encoding;
pub mod error;
pub mod extract;
pub mod forwarded;
pub mod health;
pub mod limits;
pub mod live;
mod middleware;
pub mod observer;
pub mod players;
pub mod state;

use axum::Router;
use axum::extract::DefaultBodyLimit;
use axum::http::{StatusCode, header};
use axum::response::IntoResponse;
use axum::routing::get;
use tower::ServiceBuilder;
use tower_http::compression::CompressionLayer;
use tower_http::compression::predicate::{NotForContentType, Predicate, SizeAbove};
use tower_http::limit::RequestBodyLimitLayer;
use tower_http::timeout::TimeoutLayer;
use utoipa::OpenApi;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use middleware::Group;
pub use middleware::REQUEST_ID;
pub use state::AppState;

#[derive(OpenApi)]
#[openapi(
    info(
        title = "Arcade",
        description = "Browser games with leaderboards nobody can fake: the server replays every game's inputs and the replayed score is the score. Errors are application/problem+json with a stable snake_case `type`."
    ),
    tags(
        (name = "games", description = "The games on offer"),
        (name = "sessions", description = "Playing: start, heartbeat, finish"),
        (name = "leaderboards", description = "Boards, standings and histories"),
        (name = "operations", description = "Health and metrics"),
    ),
    components(schemas(error::Problem, dto::PeriodName))
)]
struct ApiDoc;

fn api_router() -> OpenApiRouter<AppState> {
    OpenApiRouter::with_openapi(ApiDoc::openapi())
        .routes(routes!(api::list_games))
        .routes(routes!(api::list_seasons))
        .routes(routes!(api::player_standing))
        .routes(routes!(api::player_scores))
        .routes(routes!(api::events))
        .merge(admin::routes())
        .merge(players::routes())
}

/// Readiness and metrics: bounded in time like the API, but never refused for load, so a
/// busy server stays visible to its probes and its scrapes.
fn operations_router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(api::ready))
        .routes(routes!(api::metrics))
}

/// Playing: start, heartbeat, finish, the hottest writes. Their answers (and problems) are a
/// few hundred bytes, under what the compression layer compresses, so they skip its checks
/// and body wrapping.
fn play_router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(api::start_session))
        .routes(routes!(api::heartbeat))
        .routes(routes!(api::finish))
}

/// The board pages: the hottest read, answered from memory in the coding it negotiates
/// itself, so it passes through neither the compression layer nor the timeout layer (a cached
/// page waits for nothing; a board read bounds its own wait, see [`api::leaderboard`]).
fn board_router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(api::leaderboard))
}

/// Liveness answers at once with a few bytes: neither a timeout nor compression has anything
/// to do for it, and a probe should cost the least the server can spend.
fn liveness_router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(api::live))
}

/// The OpenAPI document of every API endpoint.
pub fn openapi() -> serde_json::Value {
    document(
        api_router()
            .merge(operations_router())
            .merge(play_router())
            .merge(board_router())
            .merge(liveness_router())
            .split_for_parts()
            .1,
    )
}

/// The document as served: the derived one, with the event stream's schema put in place.
fn document(doc: utoipa::openapi::OpenApi) -> serde_json::Value {
    let mut doc = serde_json::to_value(doc).unwrap_or_default();
    if let Some(stream) =
        doc.pointer_mut("/paths/~1api~1events/get/responses/200/content/text~1event-stream/schema")
    {
        *stream = live::event_schema();
    }
    doc
}

/// Compression of the other API responses, per response. Bodies under the size the kept bodies
/// use as their limit go out as they are: setting up an encoder costs more than such an
/// answer itself, to save a few dozen bytes.
fn compression() -> CompressionLayer<impl Predicate> {
    let min = u16::try_from(encoding::MIN_COMPRESS_BYTES).unwrap_or(u16::MAX);
    CompressionLayer::new().compress_when(
        SizeAbove::new(min)
            .and(NotForContentType::GRPC)
            .and(NotForContentType::IMAGES)
            .and(NotForContentType::SSE),
    )
}

/// The whole application: every request goes through this one router and the same layers
/// ([`middleware::layered`]), then the bounds of the routes that need them.
pub fn app(state: AppState) -> Router {
    let (api, mut doc) = api_router().split_for_parts();
    let (operations, operations_doc) = operations_router().split_for_parts();
    doc.merge(operations_doc);
    let (play, play_doc) = play_router().split_for_parts();
    doc.merge(play_doc);
    let (boards, board_doc) = board_router().split_for_parts();
    doc.merge(board_doc);
    let (liveness, liveness_doc) = liveness_router().split_for_parts();
    doc.merge(liveness_doc);
    let doc_json = document(doc).to_string();
    let settings = state.settings.clone();
    // The API's storage waits are bounded, and its routes are the ones that read bodies, so
    // the body limit goes with them (pages, boards and probes carry neither). Each route's
    // bounds are one stack, so the router boxes them once (see [`middleware::layered`]); the
    // limit's answers have a body type of their own, made an axum body under the timeout.
    // The limit replaces axum's own default for the extractors that read bodies, which is
    // turned off on these routes only: elsewhere it would be an extension set on every
    // request for nothing to read.
    let timeout = || {
        TimeoutLayer::with_status_code(StatusCode::SERVICE_UNAVAILABLE, settings.request_timeout)
    };
    let body_limit = RequestBodyLimitLayer::new(settings.max_body_bytes);
    // One budget of requests in flight for the API and play routes together (see
    // [`limits::InFlightLimitLayer`]); probes, scrapes, pages and boards stay outside it.
    let in_flight = limits::InFlightLimitLayer::new(
        settings.max_requests_in_flight,
        state.metrics.requests_refused.clone(),
    );
    let api = api
        .route(
            "/openapi.json",
            get(move || async move { ([(header::CONTENT_TYPE, "application/json")], doc_json) }),
        )
        .layer(
            ServiceBuilder::new()
                .layer(compression())
                .layer(in_flight.clone())
                .layer(timeout())
                .map_response(IntoResponse::into_response)
                .layer(body_limit)
                .layer(DefaultBodyLimit::disable()),
        );
    let operations = operations.layer(ServiceBuilder::new().layer(compression()).layer(timeout()));
    let play = play.layer(
        ServiceBuilder::new()
            .layer(in_flight)
            .layer(timeout())
            .map_response(IntoResponse::into_response)
            .layer(body_limit)
            .layer(DefaultBodyLimit::disable()),
    );
    let api = api
        .merge(play)
        .merge(operations)
        .merge(boards)
        .merge(liveness)
        .fallback(api::not_found);
    // The pages and the files they load are answered from memory, in the coding they
    // negotiate themselves: nothing to wait for, nothing for the compression layer to do.
    let pages = Router::new()
        .route("/", get(api::home))
        .route("/play/{game}", get(api::play))
        .route("/admin", get(api::admin));
    let assets = Router::new()
        .route("/assets/{*path}", get(api::asset))
        .route("/favicon.ico", get(api::favicon));
    let hsts = settings.hsts_max_age;
    let metrics = &state.metrics;
    middleware::layered(api, Group::Api, hsts, metrics)
        .merge(middleware::layered(pages, Group::Pages, hsts, metrics))
        .merge(middleware::layered(assets, Group::Assets, hsts, metrics))
        .with_state(state)
}

#[cfg(test)]
mod tests {
    /// Every pattern of the document that keeps control characters out keeps out all that
    /// the domain refuses (`char::is_control`: C0, DEL and C1), so that a client following the
    /// document never sends a value the server then refuses.
    #[test]
    fn patterns_refuse_every_control_character_the_domain_refuses() {
        fn patterns(v: &serde_json::Value, out: &mut Vec<String>) {
            match v {
                serde_json::Value::Object(m) => {
                    if let Some(p) = m.get("pattern").and_then(|p| p.as_str()) {
                        out.push(p.to_owned());
                    }
                    m.values().for_each(|v| patterns(v, out));
                }
                serde_json::Value::Array(a) => a.iter().for_each(|v| patterns(v, out)),
                _ => {}
            }
        }
        let mut found = Vec::new();
        patterns(&super::openapi(), &mut found);
        let text_patterns: Vec<_> = found.iter().filter(|p| p.contains(r"\x00")).collect();
        assert!(text_patterns.len() >= 4, "{found:?}");
        for p in text_patterns {
            let re = regex::Regex::new(p).unwrap();
            assert!(re.is_match("one line"), "{p}");
            for c in (0..=0x9f_u32)
                .filter_map(char::from_u32)
                .filter(|c| c.is_control())
            {
                assert!(
                    !re.is_match(&format!("one{c}line")),
                    "{p} lets U+{:04X} through",
                    u32::from(c)
                );
            }
        }
    }
}
