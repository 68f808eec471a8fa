//! Extractors whose rejections are `ApiError`s, so malformed input gets a problem+json answer
//! that says what is wrong: axum's own, wrapped, and the two axum has no extractor for.

use std::net::{IpAddr, Ipv4Addr, SocketAddr};

use axum::extract::{ConnectInfo, FromRequest, FromRequestParts};
use axum::http::request::Parts;

use crate::error::ApiError;
use crate::state::AppState;

/// axum's `Json`, rejected as an `ApiError`.
#[derive(Debug, FromRequest)]
#[from_request(via(axum::Json), rejection(ApiError))]
pub struct ApiJson<T>(pub T);

/// axum's `Query`, rejected as an `ApiError`.
#[derive(Debug, FromRequestParts)]
#[from_request(via(axum::extract::Query), rejection(ApiError))]
pub struct ApiQuery<T>(pub T);

/// axum's `Path`, rejected as an `ApiError`.
#[derive(Debug, FromRequestParts)]
#[from_request(via(axum::extract::Path), rejection(ApiError))]
pub struct ApiPath<T>(pub T);

/// The `Last-Event-ID` an event stream's client resumes after, if it sent one (axum reads
/// typed headers only with axum-extra, a dependency for this one header).
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
/// a trusted proxy when the peer is one (see [`crate::forwarded`]; axum's `ConnectInfo` knows only
/// the peer).
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
