//! Extractors whose rejections are `ApiError`s, so malformed input gets a problem+json answer
//! that says what is wrong.

use std::net::{IpAddr, Ipv4Addr, SocketAddr};

use axum::Json;
use axum::body::Bytes;
use axum::extract::rejection::JsonRejection;
use axum::extract::{ConnectInfo, FromRequest, FromRequestParts, Query, Request};
use axum::http::header;
use axum::http::request::Parts;
use serde::de::DeserializeOwned;

use crate::error::ApiError;
use crate::state::AppState;

#[derive(Debug)]
pub struct ApiJson<T>(pub T);

impl<T: DeserializeOwned, S: Send + Sync> FromRequest<S> for ApiJson<T> {
    type Rejection = ApiError;

    /// A JSON body sent as `application/json` is decoded straight away; axum's `Json` (which
    /// tracks each field's path for its error message, as much work again as the decoding)
    /// runs only to explain a body that did not decode, and for any other content type.
    async fn from_request(request: Request, state: &S) -> Result<Self, ApiError> {
        let plain_json = request
            .headers()
            .get(header::CONTENT_TYPE)
            .is_some_and(|v| is_plain_json(v.as_bytes()));
        if !plain_json {
            let Json(value) = Json::from_request(request, state).await?;
            return Ok(Self(value));
        }
        let body = Bytes::from_request(request, state)
            .await
            .map_err(JsonRejection::from)?;
        if let Ok(value) = serde_json::from_slice(&body) {
            return Ok(Self(value));
        }
        let Json(value) = Json::from_bytes(&body)?;
        Ok(Self(value))
    }
}

/// `application/json`, with parameters or without (`application/json; charset=utf-8`).
fn is_plain_json(content_type: &[u8]) -> bool {
    const JSON: &[u8] = b"application/json";
    content_type.len() >= JSON.len()
        && content_type[..JSON.len()].eq_ignore_ascii_case(JSON)
        && matches!(content_type.get(JSON.len()), None | Some(b';'))
}

#[derive(Debug)]
pub struct ApiQuery<T>(pub T);

impl<T: DeserializeOwned, S: Send + Sync> FromRequestParts<S> for ApiQuery<T> {
    type Rejection = ApiError;

    /// The query decoded straight away: axum's `Query` tracks the path of every field to name
    /// the one that is wrong, which costs as much again as the decoding on every board read,
    /// so it only runs to explain a query that did not decode.
    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, ApiError> {
        let query = parts.uri.query().unwrap_or_default();
        if let Ok(value) = serde_urlencoded::from_str(query) {
            return Ok(Self(value));
        }
        let Query(value) = Query::try_from_uri(&parts.uri)?;
        Ok(Self(value))
    }
}

#[derive(Debug, FromRequestParts)]
#[from_request(via(axum::extract::Path), rejection(ApiError))]
pub struct ApiPath<T>(pub T);

/// The `Last-Event-ID` an event stream's client resumes after, if it sent one.
#[derive(Debug, Clone, Default)]
pub struct LastEventId(pub Option<String>);

impl<S: Send + Sync> FromRequestParts<S> for LastEventId {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        Ok(Self(
            parts
                .headers
                .get("last-event-id")
                .and_then(|v| v.to_str().ok())
                .map(str::to_owned),
        ))
    }
}

/// The client's IP: the socket peer, or the right-most `X-Forwarded-For` address that is not
/// a trusted proxy when the peer is one (see [`crate::forwarded`]).
#[derive(Debug, Clone, Copy)]
pub struct ClientIp(pub IpAddr);

impl FromRequestParts<AppState> for ClientIp {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        let peer = parts
            .extensions
            .get::<ConnectInfo<SocketAddr>>()
            .map_or(IpAddr::V4(Ipv4Addr::LOCALHOST), |c| c.0.ip());
        let forwarded_for = parts
            .headers
            .get_all("x-forwarded-for")
            .iter()
            .filter_map(|v| v.to_str().ok());
        Ok(Self(crate::forwarded::client_ip(
            peer,
            forwarded_for,
            &state.settings.trusted_proxies,
        )))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plain_json_is_application_json_with_or_without_parameters() {
        for yes in [
            "application/json",
            "application/json; charset=utf-8",
            "application/json;charset=UTF-8",
            "Application/JSON",
        ] {
            assert!(is_plain_json(yes.as_bytes()), "{yes}");
        }
        // These go through axum's own check (which takes `+json` types too).
        for no in [
            "application/jsonl",
            "application/problem+json",
            "text/json",
            "application/js",
            "",
        ] {
            assert!(!is_plain_json(no.as_bytes()), "{no}");
        }
    }
}
