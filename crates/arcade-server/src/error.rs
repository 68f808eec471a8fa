//! `ApiError`: every failure a handler can return, mapped to an HTTP status in one place and
//! written as `application/problem+json` (RFC 9457) by the problem middleware.

use std::time::Duration;

use arcade_domain::error::{report, whole_seconds};
use arcade_domain::{BackendErrorKind, DomainError};
use axum::extract::rejection::{JsonRejection, PathRejection, QueryRejection};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Serialize;
use utoipa::ToSchema;

/// Seconds a client should wait before retrying when a backend is away, restarting or slow.
const UNAVAILABLE_RETRY_AFTER_SECS: u64 = 5;
/// Seconds before retrying a write that lost to a concurrent one: the other is done by then.
const CONFLICT_RETRY_AFTER_SECS: u64 = 1;

/// A problem document. `type` is a stable snake_case code clients can branch on.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Problem {
    /// Stable snake_case code, e.g. `session_expired`.
    #[serde(rename = "type")]
    pub kind: String,
    /// Short summary of the status.
    pub title: String,
    pub status: u16,
    /// What went wrong and what to do about it.
    pub detail: String,
    /// The `x-request-id` of the request, for support.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub request_id: Option<String>,
}

impl Problem {
    pub fn new(status: StatusCode, kind: &str, detail: impl Into<String>) -> Self {
        Self {
            kind: kind.to_owned(),
            title: status.canonical_reason().unwrap_or("Error").to_owned(),
            status: status.as_u16(),
            detail: detail.into(),
            request_id: None,
        }
    }
}

/// The problems every API endpoint may answer, documented once for all of them in the
/// OpenAPI document (each handler lists only its own besides).
#[derive(utoipa::IntoResponses)]
pub enum SharedProblems {
    /// A fault of the server's own (`internal_error`): the cause is logged, the body is generic
    #[response(status = 500, content_type = "application/problem+json")]
    Internal(Problem),
    /// Storage unavailable, restarting or too slow, or too many requests in flight (`overloaded`); see Retry-After
    #[response(status = 503, content_type = "application/problem+json")]
    Unavailable(Problem),
}

/// The problems every operator endpoint may answer besides the shared ones, documented once.
#[derive(utoipa::IntoResponses)]
pub enum AdminProblems {
    /// No operator token, or one unknown or revoked (`operator_unauthorized`)
    #[response(status = 401, content_type = "application/problem+json")]
    Unauthorized(Problem),
    /// Too many requests from this client (`rate_limited`); see Retry-After
    #[response(status = 429, content_type = "application/problem+json")]
    RateLimited(Problem),
}

/// The cause of a 5xx, kept out of the body and logged by the middleware.
#[derive(Debug, Clone)]
pub struct InternalCause(pub String);

/// Marks a request refused for load: nothing failed, so the middleware logs it as a warning
/// rather than an error.
#[derive(Debug, Clone, Copy)]
pub struct Refused;

/// Everything a handler can fail with.
#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    #[error(transparent)]
    Domain(#[from] DomainError),
    #[error("{detail}")]
    BadRequest { kind: &'static str, detail: String },
    #[error("{0}")]
    UnprocessableBody(String),
    #[error("the request body is larger than the server accepts")]
    PayloadTooLarge,
    #[error("the request body must be JSON sent with Content-Type: application/json")]
    UnsupportedMediaType,
    #[error("{0}")]
    NotFound(String),
    /// More requests are in flight than the server takes on at once.
    #[error("the server is answering as many requests as it takes on at once")]
    Overloaded,
    /// A fault of the server's own (not of storage): the cause is logged, never sent.
    #[error("{0}")]
    Internal(String),
}

impl ApiError {
    pub fn status(&self) -> StatusCode {
        match self {
            Self::Domain(e) => match e {
                DomainError::UnknownGame(_)
                | DomainError::PlayerNotFound(_)
                | DomainError::SessionNotFound(_)
                | DomainError::OperatorNotFound(_)
                | DomainError::ScoreNotFound(_)
                | DomainError::ReviewItemNotFound(_)
                | DomainError::NameRuleNotFound(_)
                | DomainError::SeasonNotFound(_) => StatusCode::NOT_FOUND,
                DomainError::PlayerBanned(_) => StatusCode::FORBIDDEN,
                DomainError::OperatorUnauthorized => StatusCode::UNAUTHORIZED,
                DomainError::OperatorExists(_)
                | DomainError::NameUnavailable(_)
                | DomainError::NameRuleExists(_)
                | DomainError::SeasonExists(_)
                | DomainError::SeasonFinished(_) => StatusCode::CONFLICT,
                DomainError::InvalidOperatorName(_)
                | DomainError::InvalidReason(_)
                | DomainError::InvalidReport(_)
                | DomainError::NameDenied(_)
                | DomainError::InvalidNameRule(_)
                | DomainError::InvalidSeason(_) => StatusCode::UNPROCESSABLE_ENTITY,
                DomainError::InvalidName(_)
                | DomainError::TickBehindInputs { .. }
                | DomainError::Rejected { .. } => StatusCode::UNPROCESSABLE_ENTITY,
                DomainError::NameTaken(_) => StatusCode::UNAUTHORIZED,
                DomainError::InvalidSessionId(_)
                | DomainError::InvalidQuery(_)
                | DomainError::TicketInvalid(_) => StatusCode::BAD_REQUEST,
                DomainError::SessionExpired(_) => StatusCode::GONE,
                DomainError::SessionFinished(_)
                | DomainError::SessionLost(_)
                | DomainError::InputGap { .. }
                | DomainError::InputConflict { .. } => StatusCode::CONFLICT,
                DomainError::RateLimited { .. } => StatusCode::TOO_MANY_REQUESTS,
                // Only a defect is the server's fault; a backend away, restarting, slow or
                // busy with a conflicting change is worth the same request again later.
                DomainError::Backend(b) => match b.kind() {
                    BackendErrorKind::Unavailable
                    | BackendErrorKind::ShuttingDown
                    | BackendErrorKind::TimedOut
                    | BackendErrorKind::Conflict
                    | BackendErrorKind::NotLoaded => StatusCode::SERVICE_UNAVAILABLE,
                    BackendErrorKind::Defect => StatusCode::INTERNAL_SERVER_ERROR,
                },
            },
            Self::BadRequest { .. } => StatusCode::BAD_REQUEST,
            Self::UnprocessableBody(_) => StatusCode::UNPROCESSABLE_ENTITY,
            Self::PayloadTooLarge => StatusCode::PAYLOAD_TOO_LARGE,
            Self::UnsupportedMediaType => StatusCode::UNSUPPORTED_MEDIA_TYPE,
            Self::NotFound(_) => StatusCode::NOT_FOUND,
            Self::Overloaded => StatusCode::SERVICE_UNAVAILABLE,
            Self::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    pub fn code(&self) -> &'static str {
        match self {
            Self::Domain(e) => e.code(),
            Self::BadRequest { kind, .. } => kind,
            Self::UnprocessableBody(_) => "invalid_body",
            Self::PayloadTooLarge => "payload_too_large",
            Self::UnsupportedMediaType => "unsupported_media_type",
            Self::NotFound(_) => "not_found",
            Self::Overloaded => "overloaded",
            Self::Internal(_) => "internal_error",
        }
    }

    fn retry_after(&self) -> Option<Duration> {
        match self {
            Self::Domain(DomainError::RateLimited { retry_after }) => Some(*retry_after),
            Self::Domain(DomainError::Backend(b)) => match b.kind() {
                BackendErrorKind::Conflict => Some(Duration::from_secs(CONFLICT_RETRY_AFTER_SECS)),
                BackendErrorKind::Unavailable
                | BackendErrorKind::ShuttingDown
                | BackendErrorKind::TimedOut
                | BackendErrorKind::NotLoaded => {
                    Some(Duration::from_secs(UNAVAILABLE_RETRY_AFTER_SECS))
                }
                BackendErrorKind::Defect => None,
            },
            // Requests in flight end within milliseconds; a second spreads the retries.
            Self::Overloaded => Some(Duration::from_secs(1)),
            _ => None,
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let status = self.status();
        // 5xx bodies stay generic: the cause goes to the log, not to the client.
        let detail = match (&self, status) {
            (Self::Overloaded, _) => {
                "the arcade is busier than it can answer right now: try again in a second"
                    .to_owned()
            }
            (Self::Domain(DomainError::Backend(b)), StatusCode::SERVICE_UNAVAILABLE) => match b
                .kind()
            {
                BackendErrorKind::ShuttingDown => {
                    "the arcade's storage is restarting: try again in a few seconds"
                }
                BackendErrorKind::TimedOut => {
                    "the arcade's storage did not answer in time: try again in a few seconds"
                }
                BackendErrorKind::Conflict => {
                    "the arcade's storage was busy with a conflicting change: try again in a second"
                }
                _ => "the arcade cannot reach its storage right now: try again in a few seconds",
            }
            .to_owned(),
            (_, StatusCode::SERVICE_UNAVAILABLE) => {
                "the arcade cannot answer right now: try again in a few seconds".to_owned()
            }
            (_, s) if s.is_server_error() => {
                "something went wrong on our side; it has been logged".to_owned()
            }
            _ => self.to_string(),
        };
        let mut response = status.into_response();
        if let Some(wait) = self.retry_after() {
            response
                .headers_mut()
                .insert(header::RETRY_AFTER, HeaderValue::from(whole_seconds(wait)));
        }
        if matches!(self, Self::Overloaded) {
            response.extensions_mut().insert(Refused);
        } else if status.is_server_error() {
            // The whole chain of causes: a backend error's own message leaves them out.
            response
                .extensions_mut()
                .insert(InternalCause(report(&self)));
        }
        response
            .extensions_mut()
            .insert(Problem::new(status, self.code(), detail));
        response
    }
}

impl From<JsonRejection> for ApiError {
    fn from(r: JsonRejection) -> Self {
        match r {
            JsonRejection::JsonDataError(e) => Self::UnprocessableBody(format!(
                "the JSON body does not have the expected shape: {}",
                e.body_text()
            )),
            JsonRejection::JsonSyntaxError(e) => Self::BadRequest {
                kind: "malformed_json",
                detail: format!("the body is not valid JSON: {}", e.body_text()),
            },
            JsonRejection::MissingJsonContentType(_) => Self::UnsupportedMediaType,
            other if other.status() == StatusCode::PAYLOAD_TOO_LARGE => Self::PayloadTooLarge,
            other => Self::BadRequest {
                kind: "invalid_body",
                detail: other.body_text(),
            },
        }
    }
}

impl From<QueryRejection> for ApiError {
    fn from(r: QueryRejection) -> Self {
        Self::BadRequest {
            kind: "invalid_query",
            detail: format!("the query string is not valid: {}", r.body_text()),
        }
    }
}

impl From<PathRejection> for ApiError {
    fn from(r: PathRejection) -> Self {
        Self::BadRequest {
            kind: "invalid_path",
            detail: format!("the URL path is not valid: {}", r.body_text()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use arcade_domain::BackendError;

    #[derive(Debug, thiserror::Error)]
    #[error("FATAL 57P01: terminating connection due to administrator command")]
    struct AdminShutdown;

    #[test]
    fn a_backend_that_may_come_back_is_a_503_with_retry_after_and_only_a_defect_a_500() {
        for (kind, code, retry_after) in [
            (BackendErrorKind::Unavailable, "unavailable", "5"),
            (BackendErrorKind::ShuttingDown, "shutting_down", "5"),
            (BackendErrorKind::TimedOut, "timed_out", "5"),
            (BackendErrorKind::Conflict, "write_conflict", "1"),
            (BackendErrorKind::NotLoaded, "unavailable", "5"),
        ] {
            let e = BackendError::caused_by(kind, "postgres", AdminShutdown);
            let r = ApiError::from(DomainError::Backend(e)).into_response();
            assert_eq!(r.status(), StatusCode::SERVICE_UNAVAILABLE, "{kind:?}");
            assert_eq!(r.headers()[header::RETRY_AFTER], retry_after, "{kind:?}");
            let p = r.extensions().get::<Problem>().unwrap();
            assert_eq!(p.kind, code);
            assert!(p.detail.contains("try again"), "{}", p.detail);
            assert!(
                !p.detail.contains("57P01"),
                "the cause stays out: {}",
                p.detail
            );
            let cause = r.extensions().get::<InternalCause>().unwrap();
            assert!(
                cause.0.contains("57P01"),
                "the cause is logged: {}",
                cause.0
            );
        }
        let e = BackendError::caused_by(BackendErrorKind::Defect, "postgres", AdminShutdown);
        let r = ApiError::from(DomainError::Backend(e)).into_response();
        assert_eq!(r.status(), StatusCode::INTERNAL_SERVER_ERROR);
        assert!(r.headers().get(header::RETRY_AFTER).is_none());
        assert_eq!(
            r.extensions().get::<Problem>().unwrap().kind,
            "internal_error"
        );
    }

    #[test]
    fn domain_errors_map_to_the_documented_statuses() {
        let cases: Vec<(DomainError, u16)> = vec![
            (DomainError::UnknownGame("x".into()), 404),
            (DomainError::NameTaken("x".into()), 401),
            (DomainError::SessionExpired("x".into()), 410),
            (DomainError::SessionNotFound("x".into()), 404),
            (DomainError::SessionFinished("x".into()), 409),
            (DomainError::SessionLost("x".into()), 409),
            (DomainError::TicketInvalid("x".into()), 400),
            (DomainError::InvalidQuery("x".into()), 400),
            (DomainError::OperatorUnauthorized, 401),
            (DomainError::PlayerBanned("x".into()), 403),
            (DomainError::ScoreNotFound("x".into()), 404),
            (DomainError::ReviewItemNotFound("x".into()), 404),
            (DomainError::OperatorExists("x".into()), 409),
            (DomainError::NameUnavailable("x".into()), 409),
            (DomainError::OperatorNotFound("x".into()), 404),
            (DomainError::InvalidOperatorName("x".into()), 422),
            (DomainError::InvalidReason("x".into()), 422),
            (DomainError::InvalidReport("x".into()), 422),
            (DomainError::NameDenied("x".into()), 422),
            (DomainError::InvalidNameRule("x".into()), 422),
            (DomainError::NameRuleExists("word".into()), 409),
            (DomainError::NameRuleNotFound(7), 404),
            (DomainError::InvalidSeason("x".into()), 422),
            (DomainError::SeasonExists("s1".into()), 409),
            (DomainError::SeasonNotFound("s1".into()), 404),
            (DomainError::SeasonFinished("s1".into()), 409),
            (
                DomainError::RateLimited {
                    retry_after: Duration::from_millis(1500),
                },
                429,
            ),
            (
                DomainError::Backend(BackendError::unavailable("db", "down")),
                503,
            ),
            (
                DomainError::Backend(BackendError::defect("db", "secret detail")),
                500,
            ),
        ];
        for (e, status) in cases {
            assert_eq!(ApiError::from(e).status().as_u16(), status);
        }
    }

    #[test]
    fn server_errors_hide_their_cause_and_rate_limits_say_when_to_retry() {
        let r = ApiError::from(DomainError::Backend(BackendError::defect(
            "db",
            "secret detail",
        )))
        .into_response();
        let p = r.extensions().get::<Problem>().unwrap();
        assert!(!p.detail.contains("secret"));
        assert!(r.extensions().get::<InternalCause>().is_some());
        let r = ApiError::Internal("a page did not encode: secret".into()).into_response();
        assert_eq!(r.status(), StatusCode::INTERNAL_SERVER_ERROR);
        let p = r.extensions().get::<Problem>().unwrap();
        assert_eq!(p.kind, "internal_error");
        assert!(!p.detail.contains("secret"));
        let cause = r.extensions().get::<InternalCause>().unwrap();
        assert!(cause.0.contains("did not encode"));
        let r = ApiError::from(DomainError::RateLimited {
            retry_after: Duration::from_millis(1500),
        })
        .into_response();
        assert_eq!(r.headers()[header::RETRY_AFTER], "2");
        let p = r.extensions().get::<Problem>().unwrap();
        assert!(p.detail.contains("in 2 s"), "{}", p.detail);
    }

    #[test]
    fn an_overloaded_server_says_so_and_when_to_retry() {
        let r = ApiError::Overloaded.into_response();
        assert_eq!(r.status(), StatusCode::SERVICE_UNAVAILABLE);
        assert_eq!(r.headers()[header::RETRY_AFTER], "1");
        let p = r.extensions().get::<Problem>().unwrap();
        assert_eq!(p.kind, "overloaded");
        assert!(r.extensions().get::<Refused>().is_some());
        assert!(r.extensions().get::<InternalCause>().is_none());
        assert!(p.detail.contains("try again"), "{}", p.detail);
        assert!(!p.detail.contains("storage"), "{}", p.detail);
    }
}
