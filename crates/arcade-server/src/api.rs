//! Handlers: each translates HTTP to one use case and back. No game or storage logic here.

use std::sync::Arc;

use arcade_domain::query::Limit;
use arcade_domain::service::BoardPage;
use arcade_domain::time::Period;
use arcade_domain::{BackendError, BackendErrorKind, DomainError};
use arcade_telemetry::{GameLabels, Metrics};
use axum::Json;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderName, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};

use crate::assets;
use crate::board_cache::{Lookup, PageKey, SeasonKey, Ticket};
use crate::dto::*;
use crate::encoding::{Negotiation, SharedBody};
use crate::error::{ApiError, Problem, SharedProblems};
use crate::extract::{ApiJson, ApiPath, ApiQuery, ClientIp, LastEventId};
use crate::health::Health;
use crate::state::AppState;

type ApiResult<T> = Result<T, ApiError>;

fn period(raw: Option<&str>) -> Result<Period, DomainError> {
    raw.map_or(Ok(Period::All), Period::parse)
}

/// The bucket a board query names with `date` (of a day) or `week`, if it names one.
fn named_bucket(
    period: Period,
    date: Option<&str>,
    week: Option<&str>,
) -> Result<Option<i64>, DomainError> {
    let refuse = |why: &str| Err(DomainError::InvalidQuery(why.to_owned()));
    match (period, date, week) {
        (_, Some(_), Some(_)) => refuse("give a date or a week, not both"),
        (Period::Day, Some(date), None) => Period::Day.parse_bucket(date).map(Some),
        (Period::Week, None, Some(week)) => Period::Week.parse_bucket(week).map(Some),
        (_, Some(_), None) => refuse("a date names a day: it goes with period=day"),
        (_, None, Some(_)) => refuse("a week goes with period=week"),
        (_, None, None) => Ok(None),
    }
}

/// The games on offer.
#[utoipa::path(get, path = "/api/games", tag = "games",
    responses(
        SharedProblems,
        (status = 200, description = "Every game the arcade serves", body = GameList),
    ))]
pub async fn list_games(State(state): State<AppState>, negotiation: Negotiation) -> Response {
    state.games.respond(&negotiation, JSON)
}

/// Start a game session. The first use of a name claims it and returns its token.
#[utoipa::path(post, path = "/api/games/{game}/sessions", tag = "sessions",
    params(("game" = String, Path, description = "Game id, e.g. `egg-catcher`")),
    request_body = StartSessionRequest,
    responses(
        SharedProblems,
        (status = 201, description = "Session started", body = SessionStarted),
        (status = 400, description = "Malformed JSON", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "The name is claimed and the token is missing or wrong (`player_token_invalid`)", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "Unknown game (`unknown_game`)", body = Problem, content_type = "application/problem+json"),
        (status = 413, description = "Body too large", body = Problem, content_type = "application/problem+json"),
        (status = 415, description = "The body is not sent as `application/json` (`unsupported_media_type`)", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Invalid name (`invalid_player_name`), a new name the operators' deny list refuses (`name_denied`), or body shape (`invalid_body`)", body = Problem, content_type = "application/problem+json"),
        (status = 429, description = "Too many starts from this client (`rate_limited`); see Retry-After", body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn start_session(
    State(state): State<AppState>,
    ClientIp(ip): ClientIp,
    ApiPath(game): ApiPath<String>,
    ApiJson(body): ApiJson<StartSessionRequest>,
) -> ApiResult<(StatusCode, Json<SessionStarted>)> {
    // Unknown games are 404 whether or not the client is over its limit.
    let game_ref = state.arcade.game(&game)?;
    state.arcade.admit_start(ip).await?;
    let started = state
        .arcade
        .start(game_ref.id(), &body.player, body.token.as_deref())
        .await?;
    let s = started.session;
    let rules = state.arcade.rules();
    Ok((
        StatusCode::CREATED,
        Json(SessionStarted {
            session_id: s.id.0,
            ticket: started.ticket,
            game: s.game,
            seed: started.window.seed,
            rules_version: s.rules_version,
            tick_hz: game_ref.tick_hz(),
            window_ticks: arcade_domain::games::WINDOW_TICKS,
            reveal_ticks: rules.reveal_ticks(game_ref),
            pause_budget_ms: u64::try_from(rules.pause_budget.as_millis()).unwrap_or(u64::MAX),
            started_at: s.started_at.to_rfc3339(),
            expires_at: s.expires_at.to_rfc3339(),
            heartbeat_interval_ms: started.heartbeat_interval_ms,
            player: PlayerInfo {
                name: s.player_name,
                token: started.claimed_token,
            },
        }),
    ))
}

/// Send the inputs recorded so far; the answer brings the next window of the game's randomness
/// once the session is near it and on time.
#[utoipa::path(post, path = "/api/sessions/{id}/heartbeat", tag = "sessions",
    params(("id" = uuid::Uuid, Path, description = "Session id (`session_id` of the start)")),
    request_body = InputsRequest,
    responses(
        SharedProblems,
        (status = 200, description = "Inputs recorded (the session put back from its ticket, if the server had lost it)", body = HeartbeatAccepted),
        (status = 400, description = "Malformed JSON or session id, or a ticket the server did not sign for this session (`ticket_invalid`)", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "Unknown session, and no ticket (`session_not_found`)", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "Finished session, inputs that skip (`input_gap`) or change (`input_conflict`) recorded ones, or a session the server lost (`session_lost`): send the ticket with every input and pause from offset 0", body = Problem, content_type = "application/problem+json"),
        (status = 410, description = "Expired session (`session_expired`)", body = Problem, content_type = "application/problem+json"),
        (status = 413, description = "Body too large", body = Problem, content_type = "application/problem+json"),
        (status = 415, description = "The body is not sent as `application/json` (`unsupported_media_type`)", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Inputs that cannot be a real game (`replay_rejected`): ahead of the clock, behind it outside recorded pauses, inputs before a tick already reported, ticks past the windows revealed, pauses beyond the budget", body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn heartbeat(
    State(state): State<AppState>,
    ApiPath(id): ApiPath<String>,
    ApiJson(mut body): ApiJson<InputsRequest>,
) -> ApiResult<Json<HeartbeatAccepted>> {
    let ticket = body.ticket.take();
    let ack = state
        .arcade
        .heartbeat(&id, body.into(), ticket.as_deref())
        .await?;
    Ok(Json(HeartbeatAccepted {
        accepted_inputs: ack.accepted_inputs,
        tick: ack.tick,
        window: ack.window.into(),
    }))
}

/// Send the last inputs and get the verified score. Repeating it returns the same result; after
/// a 503 the session is kept, so the same finish can be sent again.
#[utoipa::path(post, path = "/api/sessions/{id}/finish", tag = "sessions",
    params(("id" = uuid::Uuid, Path, description = "Session id (`session_id` of the start)")),
    request_body = InputsRequest,
    responses(
        SharedProblems,
        (status = 200, description = "The replayed, stored score with ranks (of a session the server had lost too, from its ticket)", body = FinishResult),
        (status = 400, description = "Malformed JSON or session id, or a ticket the server did not sign for this session (`ticket_invalid`)", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "Unknown session, and no ticket (`session_not_found`)", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "Inputs that skip (`input_gap`) or change (`input_conflict`) recorded ones, or a session the server lost (`session_lost`): send the ticket with every input and pause from offset 0", body = Problem, content_type = "application/problem+json"),
        (status = 410, description = "Expired session (`session_expired`)", body = Problem, content_type = "application/problem+json"),
        (status = 413, description = "Body too large", body = Problem, content_type = "application/problem+json"),
        (status = 415, description = "The body is not sent as `application/json` (`unsupported_media_type`)", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "The replay was refused (`replay_rejected`): invalid inputs, too fast, or a score that does not match", body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn finish(
    State(state): State<AppState>,
    ApiPath(id): ApiPath<String>,
    ApiJson(mut body): ApiJson<InputsRequest>,
) -> ApiResult<Json<FinishResult>> {
    let ticket = body.ticket.take();
    let receipt = state
        .arcade
        .finish(&id, body.into(), ticket.as_deref())
        .await?;
    // The score's event reaches this replica's cache through the bus a moment later; drop
    // the game's pages now so this replica's next board read shows the score.
    state.boards.invalidate(&receipt.game);
    Ok(Json(receipt.into()))
}

fn count_board_read(state: &AppState, game: &str) {
    state
        .metrics
        .leaderboard_requests
        .get_or_create(&crate::observer::game(game))
        .inc();
}

/// A page of a game's leaderboard: higher score first, earlier achievement wins a tie. Only
/// scores above 0 take a place; a run that scored nothing is kept in the player's history.
///
/// A day or a week that is over (`date`, `week`) stays readable: its board is final, except
/// that an operator's action (a player hidden, a score removed) still applies to it. Its pages
/// carry `Cache-Control: public, max-age=300` and an `ETag` to revalidate with. A season's
/// board (`season`) holds each player's best within the season; once the season is over its
/// pages are final and cached the same way.
#[utoipa::path(get, path = "/api/games/{game}/leaderboard", tag = "leaderboards",
    params(("game" = String, Path, description = "Game id"), BoardQuery),
    responses(
        SharedProblems,
        (status = 200, description = "Ranked entries", body = Leaderboard),
        (status = 304, description = "A finished period's or season's page the client holds (`If-None-Match`)"),
        (status = 400, description = "Bad period, date, week, limit or cursor, a day or week still to come, or a season with a period, date or week (`invalid_query`)", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "Unknown game (`unknown_game`) or season (`season_not_found`)", body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn leaderboard(
    State(state): State<AppState>,
    ApiPath(game): ApiPath<String>,
    ApiQuery(mut q): ApiQuery<BoardQuery>,
    negotiation: Negotiation,
) -> ApiResult<Response> {
    let (date, week) = (q.date.take(), q.week.take());
    if let Some(season) = q.season.take() {
        if q.period.is_some() || date.is_some() || week.is_some() {
            return Err(DomainError::InvalidQuery(
                "a season names its own board: give season without period, date or week".to_owned(),
            )
            .into());
        }
        let limit = Limit::parse(q.limit)?;
        return Box::pin(season_page(
            state,
            game,
            season,
            limit,
            q.cursor,
            negotiation,
        ))
        .await;
    }
    let (period, limit, cursor) = board_request(q)?;
    let bucket = named_bucket(period, date.as_deref(), week.as_deref())?;
    if let Some(bucket) = bucket {
        let game = state.arcade.game(&game)?.id();
        if state.arcade.is_finished(period, bucket)? {
            return Box::pin(finished_page(
                state,
                game,
                period,
                bucket,
                limit,
                cursor,
                negotiation,
            ))
            .await;
        }
    }
    // The reads are boxed: a page answered from memory, by far the most common case, then
    // waits on nothing and its future stays a few hundred bytes.
    if let Some(cursor) = cursor {
        return Box::pin(later_page(state, game, period, limit, cursor, negotiation)).await;
    }
    match first_page_in_memory(&state, &game, period, limit, &negotiation)? {
        InMemory::Answered(response) => Ok(response),
        InMemory::Missing(key, ticket) => {
            Box::pin(first_page(state, key, limit, ticket, negotiation)).await
        }
    }
}

/// What a board query asks for: a period, a page size and, past the first page, a cursor.
fn board_request(q: BoardQuery) -> ApiResult<(Period, Limit, Option<String>)> {
    Ok((
        period(q.period.as_deref())?,
        Limit::parse(q.limit)?,
        q.cursor,
    ))
}

/// A first page answered from memory, or the key and ticket to read and keep it with.
enum InMemory {
    Answered(Response),
    Missing(PageKey, Ticket),
}

/// The first page of `game`'s board from memory, with the headers it was kept with, if it is
/// there.
fn first_page_in_memory(
    state: &AppState,
    game: &str,
    period: Period,
    limit: Limit,
    negotiation: &Negotiation,
) -> ApiResult<InMemory> {
    let game = state.arcade.game(game)?.id();
    let key = PageKey {
        game,
        period,
        bucket: state.arcade.calendar().bucket(period, state.arcade.now()),
        season: None,
        limit: limit.get(),
    };
    Ok(match state.boards.get(key) {
        Lookup::Hit(body) => {
            count_board_read(state, game);
            InMemory::Answered(body.respond(negotiation, JSON))
        }
        Lookup::Miss(ticket) => InMemory::Missing(key, ticket),
    })
}

/// A page after the first: read far less often, never cached.
async fn later_page(
    state: AppState,
    game: String,
    period: Period,
    limit: Limit,
    cursor: String,
    negotiation: Negotiation,
) -> ApiResult<Response> {
    let page = read_board(&state, &game, period, limit, Some(&cursor)).await?;
    Ok(SharedBody::new(encode_board(page)?).respond(&negotiation, JSON))
}

/// A first page that is not in memory: read, kept for the next readers and answered.
async fn first_page(
    state: AppState,
    key: PageKey,
    limit: Limit,
    ticket: Ticket,
    negotiation: Negotiation,
) -> ApiResult<Response> {
    let page = read_board(&state, key.game, key.period, limit, None).await?;
    let body = encode_board(page)?;
    // A read across midnight may have read the new day's board: keep it under no old key.
    let now = state.arcade.now();
    let shared = if state.arcade.calendar().bucket(key.period, now) == key.bucket {
        state.boards.put(ticket, body)
    } else {
        Arc::new(SharedBody::new(body))
    };
    Ok(shared.respond(&negotiation, JSON))
}

/// A board page read from the rank index within the request timeout, and counted.
async fn read_board(
    state: &AppState,
    game: &str,
    period: Period,
    limit: Limit,
    cursor: Option<&str>,
) -> ApiResult<BoardPage> {
    let page = within(state, state.arcade.leaderboard(game, period, limit, cursor)).await?;
    count_board_read(state, &page.game);
    Ok(page)
}

const JSON: &str = "application/json";

/// How long a client or a shared cache may keep a finished period's page without asking
/// again. Play cannot change such a board any more, but an operator can (a player hidden, a
/// score removed), and the page read from the database shows it at once: so not `immutable`,
/// and short enough for a removed name to leave every copy within minutes. The `ETag` makes
/// asking again cheap.
const FINISHED_CACHE: &str = "public, max-age=300";

/// A page of a finished day's or week's board, read from the database and answered as a
/// [`final_page`].
async fn finished_page(
    state: AppState,
    game: &'static str,
    period: Period,
    bucket: i64,
    limit: Limit,
    cursor: Option<String>,
    negotiation: Negotiation,
) -> ApiResult<Response> {
    let read = state
        .arcade
        .finished_leaderboard(game, period, bucket, limit, cursor.as_deref());
    let page = within(&state, read).await?;
    count_board_read(&state, &page.game);
    Ok(final_page(encode_board(page)?, &negotiation))
}

/// A page of a season's board, read from the database: once the season is over, final and
/// cached like a finished day's (see [`FINISHED_CACHE`]); while it runs, its first page is
/// kept in memory like the current boards' (and dropped with them when a score arrives).
async fn season_page(
    state: AppState,
    game: String,
    season: String,
    limit: Limit,
    cursor: Option<String>,
    negotiation: Negotiation,
) -> ApiResult<Response> {
    let game = state.arcade.game(&game)?.id();
    let key = match (&cursor, SeasonKey::of(&season)) {
        (None, Some(season)) => Some(PageKey {
            game,
            period: Period::All,
            bucket: 0,
            season: Some(season),
            limit: limit.get(),
        }),
        _ => None,
    };
    let ticket = match key.map(|key| state.boards.get(key)) {
        Some(Lookup::Hit(body)) => {
            count_board_read(&state, game);
            return Ok(body.respond(&negotiation, JSON));
        }
        Some(Lookup::Miss(ticket)) => Some(ticket),
        None => None,
    };
    let read = state
        .arcade
        .season_leaderboard(game, &season, limit, cursor.as_deref());
    let page = within(&state, read).await?;
    count_board_read(&state, &page.game);
    let finished = page.finished;
    let body = serde_json::to_vec(&Leaderboard {
        game: page.game,
        period: "season".to_owned(),
        date: None,
        week: None,
        season: Some(SeasonInfo::of(&page.season, state.arcade.now())),
        entries: page.entries.into_iter().map(BoardEntry::from).collect(),
        next_cursor: page.next_cursor,
    })
    .map(Bytes::from)
    .map_err(|e| ApiError::Internal(format!("a season's board did not encode: {e}")))?;
    Ok(match ticket {
        _ if finished => final_page(body, &negotiation),
        Some(ticket) => state.boards.put(ticket, body).respond(&negotiation, JSON),
        None => SharedBody::new(body).respond(&negotiation, JSON),
    })
}

/// A page of a board that play cannot change any more, with the caching headers of
/// [`FINISHED_CACHE`] and a weak `ETag` of its JSON (the same page in any coding).
fn final_page(body: Bytes, negotiation: &Negotiation) -> Response {
    let etag = weak_etag(&body);
    let mut response = if negotiation.holds(&etag) {
        StatusCode::NOT_MODIFIED.into_response()
    } else {
        SharedBody::new(body).respond(negotiation, JSON)
    };
    let headers = response.headers_mut();
    headers.insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static(FINISHED_CACHE),
    );
    headers.insert(header::VARY, HeaderValue::from_static("accept-encoding"));
    headers.insert(header::ETAG, etag);
    response
}

/// `W/"…"`: the first half of the body's SHA-256, in hex.
fn weak_etag(body: &[u8]) -> HeaderValue {
    use sha2::Digest;
    let digest = sha2::Sha256::digest(body);
    let hex: String = digest[..16].iter().map(|b| format!("{b:02x}")).collect();
    HeaderValue::from_str(&format!("W/\"{hex}\"")).unwrap_or(HeaderValue::from_static("W/\"\""))
}

/// The request timeout for a board read. Board pages skip the timeout layer, which would
/// arm a timer for every cached page too; only the storage read can wait, so only it is
/// bounded, with the same limit and the same 503 as any slow request.
async fn within<T>(
    state: &AppState,
    read: impl Future<Output = Result<T, DomainError>>,
) -> ApiResult<T> {
    let limit = state.settings.request_timeout;
    match tokio::time::timeout(limit, read).await {
        Ok(answer) => Ok(answer?),
        Err(_) => Err(DomainError::Backend(BackendError::new(
            BackendErrorKind::TimedOut,
            "rank index",
            format!("the board did not answer within {limit:?}"),
        ))
        .into()),
    }
}

/// A board page as the API answers it. Encoding plain data fails only with a bug: then the
/// cause goes to the log and the reader gets a 500.
fn encode_board(page: BoardPage) -> ApiResult<Bytes> {
    let name = page.period.bucket_name(page.bucket);
    let (date, week) = match page.period {
        Period::Day => (name, None),
        Period::Week => (None, name),
        Period::All => (None, None),
    };
    serde_json::to_vec(&Leaderboard {
        game: page.game,
        period: page.period.as_str().to_owned(),
        date,
        week,
        season: None,
        entries: page.entries.into_iter().map(BoardEntry::from).collect(),
        next_cursor: page.next_cursor,
    })
    .map(Bytes::from)
    .map_err(|e| ApiError::Internal(format!("a leaderboard page did not encode: {e}")))
}

/// The seasons operators defined, newest first: each has a board per game
/// (`GET /api/games/{game}/leaderboard?season=SLUG`).
#[utoipa::path(get, path = "/api/seasons", tag = "leaderboards",
    responses(
        SharedProblems,
        (status = 200, description = "Every season", body = SeasonList),
    ))]
pub async fn list_seasons(State(state): State<AppState>) -> ApiResult<Json<SeasonList>> {
    let seasons = state.arcade.seasons().await?;
    let now = state.arcade.now();
    Ok(Json(SeasonList {
        seasons: seasons.iter().map(|s| SeasonInfo::of(s, now)).collect(),
    }))
}

/// A player's best score, rank and neighbours on a board.
#[utoipa::path(get, path = "/api/games/{game}/players/{name}", tag = "leaderboards",
    params(("game" = String, Path, description = "Game id"), ("name" = String, Path, format = "player-name", min_length = 1, description = "Player name, as shown or as typed (names are compared after normalisation)"), PeriodQuery),
    responses(
        SharedProblems,
        (status = 200, description = "The player's standing", body = PlayerStandingView),
        (status = 400, description = "Bad period", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "Unknown game or player (`player_not_found`)", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Not a valid player name", body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn player_standing(
    State(state): State<AppState>,
    ApiPath((game, name)): ApiPath<(String, String)>,
    ApiQuery(q): ApiQuery<PeriodQuery>,
) -> ApiResult<Json<PlayerStandingView>> {
    let period = period(q.period.as_deref())?;
    let s = state.arcade.player_standing(&game, &name, period).await?;
    count_board_read(&state, &s.game);
    Ok(Json(PlayerStandingView {
        player: s.player,
        game: s.game,
        period: s.period.as_str().to_owned(),
        best: s.best.map(|b| PlayerBest {
            rank: b.rank,
            score: b.standing.score,
            achieved_at: arcade_domain::time::Timestamp(b.standing.achieved_at_ms).to_rfc3339(),
        }),
        neighbours: s.neighbours.into_iter().map(BoardEntry::from).collect(),
    }))
}

/// A player's scores in a game, newest first.
#[utoipa::path(get, path = "/api/games/{game}/players/{name}/scores", tag = "leaderboards",
    params(("game" = String, Path, description = "Game id"), ("name" = String, Path, format = "player-name", min_length = 1, description = "Player name, as shown or as typed (names are compared after normalisation)"), PageQuery),
    responses(
        SharedProblems,
        (status = 200, description = "The player's history", body = ScoreHistory),
        (status = 400, description = "Bad limit or cursor", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "Unknown game or player", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Not a valid player name", body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn player_scores(
    State(state): State<AppState>,
    ApiPath((game, name)): ApiPath<(String, String)>,
    ApiQuery(q): ApiQuery<PageQuery>,
) -> ApiResult<Json<ScoreHistory>> {
    let limit = Limit::parse(q.limit)?;
    let page = state
        .arcade
        .history(&game, &name, limit, q.cursor.as_deref())
        .await?;
    Ok(Json(ScoreHistory {
        player: page.player,
        game: page.game,
        scores: page.scores.into_iter().map(ScoreEntry::from).collect(),
        next_cursor: page.next_cursor,
    }))
}

/// Live leaderboard changes as server-sent events: `score` (a verified score, with rank),
/// `top` (an entry into a board's top 10), `overtaken` (for `player`), and `reset` when a
/// reconnect's `Last-Event-ID` is too old to resume from (reload the boards). Comment lines
/// every 15 s keep the stream open through proxies.
#[utoipa::path(get, path = "/api/events", tag = "leaderboards",
    params(EventsQuery, ("Last-Event-ID" = Option<String>, Header, description = "Resume after this event")),
    responses(
        SharedProblems,
        (status = 200, description = "An endless text/event-stream of `score`, `top`, `overtaken` and `reset` events", content_type = "text/event-stream", body = String),
        (status = 400, description = "Unknown query parameter", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "Unknown game", body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn events(
    State(state): State<AppState>,
    ApiQuery(q): ApiQuery<EventsQuery>,
    LastEventId(last): LastEventId,
) -> ApiResult<Response> {
    if let Some(g) = &q.game {
        state.arcade.game(g)?;
    }
    let watch = q.player.map(|p| (state.arcade.clone(), p));
    Ok(crate::live::response(&state.live, q.game, last, watch)
        .await
        .into_response())
}

/// Liveness: the process serves HTTP.
#[utoipa::path(get, path = "/health/live", tag = "operations",
    responses((status = 200, description = "Alive", body = Liveness)))]
pub async fn live() -> Json<Liveness> {
    Json(Liveness { status: "live" })
}

/// Readiness: every required dependency answers and the server is not draining.
#[utoipa::path(get, path = "/health/ready", tag = "operations",
    responses(
        (status = 200, description = "Ready for traffic (`ready`), or ready with an optional dependency down (`degraded`)", body = Readiness),
        (status = 503, description = "Draining after a shutdown signal, or a required dependency is down", body = Readiness),
    ))]
pub async fn ready(State(state): State<AppState>) -> (StatusCode, Json<Readiness>) {
    readiness(&state.health, &state.metrics).await
}

/// The `/health/ready` answer of any role: 503 while draining or when a required dependency
/// is down; 200 `degraded` when only optional ones are.
pub async fn readiness(health: &Health, metrics: &Metrics) -> (StatusCode, Json<Readiness>) {
    let dependencies = health.check_all(metrics).await;
    let down = |required: bool| {
        dependencies
            .iter()
            .any(|d| d.required == required && d.error.is_some())
    };
    let (code, status) = if health.is_draining() {
        (StatusCode::SERVICE_UNAVAILABLE, "draining")
    } else if down(true) {
        (StatusCode::SERVICE_UNAVAILABLE, "unavailable")
    } else if down(false) {
        (StatusCode::OK, "degraded")
    } else {
        (StatusCode::OK, "ready")
    };
    (
        code,
        Json(Readiness {
            status,
            version: env!("CARGO_PKG_VERSION"),
            dependencies,
        }),
    )
}

/// Prometheus metrics (OpenMetrics text).
#[utoipa::path(get, path = "/metrics", tag = "operations",
    responses((status = 200, description = "Metrics in the OpenMetrics text format", body = String, content_type = "application/openmetrics-text")))]
pub async fn metrics(State(state): State<AppState>) -> Response {
    // Gauges that describe shared state are refreshed at scrape time so they are never stale;
    // forgetting old sessions is the background housekeeping's job, not the scrape's.
    if let Ok(active) = state.arcade.active_sessions().await {
        for game in state.arcade.games() {
            let n = active.get(game.id()).copied().unwrap_or(0);
            state
                .metrics
                .active_sessions
                .get_or_create(&GameLabels {
                    game: game.id().into(),
                })
                .set(i64::try_from(n).unwrap_or(i64::MAX));
        }
    }
    metrics_response(&state.health, &state.metrics).await
}

/// The `/metrics` answer of any role: dependency gauges refreshed, then every metric.
pub async fn metrics_response(health: &Health, metrics: &Metrics) -> Response {
    health.check_all(metrics).await;
    (
        [(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/openmetrics-text; version=1.0.0; charset=utf-8"),
        )],
        metrics.encode(),
    )
        .into_response()
}

/// The arcade's home page.
pub async fn home(negotiation: Negotiation) -> ApiResult<Response> {
    assets::serve("index.html", &negotiation).ok_or_else(missing_asset)
}

/// The operators' console: the admin API's client, behind the operator's token. Kept out of
/// search engines; nothing public links to it.
pub async fn admin(negotiation: Negotiation) -> ApiResult<Response> {
    let mut response = assets::serve("admin.html", &negotiation).ok_or_else(missing_asset)?;
    response.headers_mut().insert(
        HeaderName::from_static("x-robots-tag"),
        HeaderValue::from_static("noindex, nofollow"),
    );
    Ok(response)
}

/// A game's page.
pub async fn play(
    State(state): State<AppState>,
    ApiPath(game): ApiPath<String>,
    negotiation: Negotiation,
) -> ApiResult<Response> {
    play_page(&state, &game, &negotiation)
}

/// The page of a game (the same for every game: it reads which one from its address), from
/// memory with the headers it was kept with.
fn play_page(state: &AppState, game: &str, negotiation: &Negotiation) -> ApiResult<Response> {
    state.arcade.game(game)?;
    assets::serve("play.html", negotiation).ok_or_else(missing_asset)
}

/// Static files under `/assets/`.
pub async fn asset(
    ApiPath(path): ApiPath<String>,
    negotiation: Negotiation,
) -> ApiResult<Response> {
    assets::serve(&format!("assets/{path}"), &negotiation)
        .ok_or_else(|| ApiError::NotFound(format!("there is no asset '{path}'")))
}

pub async fn favicon(negotiation: Negotiation) -> ApiResult<Response> {
    assets::serve("assets/img/favicon.svg", &negotiation)
        .ok_or_else(|| ApiError::NotFound("there is no favicon".to_owned()))
}

fn missing_asset() -> ApiError {
    ApiError::NotFound("this build has no web pages".to_owned())
}

/// Any other address.
pub async fn not_found() -> ApiError {
    ApiError::NotFound("there is nothing at this address: see /openapi.json for the API".to_owned())
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use arcade_domain::BackendError;
    use arcade_telemetry::Metrics;
    use axum::http::StatusCode;
    use futures::FutureExt as _;

    use super::readiness;
    use crate::health::{DependencyCheck, Health};

    fn check(name: &str, required: bool, up: bool) -> DependencyCheck {
        let ping = move || {
            async move {
                if up {
                    Ok(())
                } else {
                    Err(BackendError::unavailable("test", "down"))
                }
            }
            .boxed()
        };
        if required {
            DependencyCheck::required(name, name, ping)
        } else {
            DependencyCheck::optional(name, name, ping)
        }
    }

    async fn answer(checks: Vec<DependencyCheck>) -> (StatusCode, &'static str) {
        let health = Health::new(checks, Duration::from_secs(1));
        let (code, body) = readiness(&health, &Metrics::new("test", "test")).await;
        (code, body.0.status)
    }

    #[tokio::test]
    async fn only_a_required_dependency_down_takes_the_server_out_of_service() {
        let all_up = vec![check("database", true, true), check("nats", false, true)];
        assert_eq!(answer(all_up).await, (StatusCode::OK, "ready"));
        let bus_down = vec![check("database", true, true), check("nats", false, false)];
        assert_eq!(answer(bus_down).await, (StatusCode::OK, "degraded"));
        let database_down = vec![check("database", true, false), check("nats", false, false)];
        assert_eq!(
            answer(database_down).await,
            (StatusCode::SERVICE_UNAVAILABLE, "unavailable")
        );
        let health = Health::new(vec![check("nats", false, false)], Duration::from_secs(1));
        health.start_draining();
        let (code, body) = readiness(&health, &Metrics::new("test", "test")).await;
        assert_eq!(
            (code, body.0.status),
            (StatusCode::SERVICE_UNAVAILABLE, "draining")
        );
    }
}
