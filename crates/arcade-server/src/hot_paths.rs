//! The two hottest reads, a board's first page and a game's page, answered from memory before
//! the router, with the same answer their handlers give. Routing, its path parameters and the
//! extractors cost more than such an answer itself (about a third of a cached board's
//! instructions); a request here is matched by its shape, answered by the code its handler
//! calls, and observed as a routed one. Whatever that code would not answer at once (a page
//! not in memory, a cursor, a query or game in error, any other method) goes to the router.

use std::convert::Infallible;
use std::future::{Ready, ready};
use std::net::SocketAddr;
use std::task::{Context, Poll};

use axum::Router;
use axum::extract::{ConnectInfo, Request};
use axum::http::Method;
use axum::response::Response;
use axum::routing::future::RouteFuture;
use axum::serve::{IncomingStream, Listener};
use futures::future::Either;
use tower::Service;

use crate::api;
use crate::encoding::Negotiation;
use crate::middleware::observe_answer;
use crate::state::AppState;

/// The route of a board page, as the router names it (and labels its metrics).
pub const BOARD_ROUTE: &str = "/api/games/{game}/leaderboard";
/// The route of a game's page.
pub const PLAY_ROUTE: &str = "/play/{game}";

/// The application as served: the hot reads answered at once, the router for the rest.
#[derive(Clone)]
pub struct HotPaths {
    router: Router,
    state: AppState,
    /// The connection's peer, handed to the router as [`ConnectInfo`] (the hot reads need
    /// none). `None` when the caller attaches it to each request itself.
    peer: Option<SocketAddr>,
}

impl HotPaths {
    /// `router` is the application's ([`crate::router`]) over the same `state`.
    pub fn new(router: Router, state: AppState) -> Self {
        Self {
            router,
            state,
            peer: None,
        }
    }

    /// The answer to `request` if it is a hot read that can be answered at once, observed
    /// (metrics, log line, request id, security headers); `None` leaves it to the router.
    pub fn answer(&self, request: &Request) -> Option<Response> {
        if request.method() != Method::GET {
            return None;
        }
        let path = request.uri().path();
        if let Some(game) = parameter(path, "/api/games/", "/leaderboard") {
            return observe_answer(&self.state.metrics, request, BOARD_ROUTE, || {
                let negotiation = Negotiation::from_headers(request.headers());
                let query = request.uri().query().unwrap_or_default();
                api::leaderboard_from_memory(&self.state, game, query, &negotiation)
            });
        }
        if let Some(game) = parameter(path, "/play/", "") {
            return observe_answer(&self.state.metrics, request, PLAY_ROUTE, || {
                let negotiation = Negotiation::from_headers(request.headers());
                api::play_page(&self.state, game, &negotiation).ok()
            });
        }
        None
    }
}

/// The one path segment between `prefix` and `suffix`, when the router would hand it to a
/// handler as it is: not empty, and with nothing to percent-decode (such a path is left to
/// the router, which decodes it).
fn parameter<'a>(path: &'a str, prefix: &str, suffix: &str) -> Option<&'a str> {
    let segment = path.strip_prefix(prefix)?.strip_suffix(suffix)?;
    (!segment.is_empty() && !segment.contains(['/', '%'])).then_some(segment)
}

impl Service<Request> for HotPaths {
    type Response = Response;
    type Error = Infallible;
    type Future = Either<Ready<Result<Response, Infallible>>, RouteFuture<Infallible>>;

    fn poll_ready(&mut self, _: &mut Context<'_>) -> Poll<Result<(), Infallible>> {
        // A router is always ready.
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, mut request: Request) -> Self::Future {
        if let Some(response) = self.answer(&request) {
            return Either::Left(ready(Ok(response)));
        }
        if let Some(peer) = self.peer {
            request.extensions_mut().insert(ConnectInfo(peer));
        }
        Either::Right(self.router.call(request))
    }
}

/// One [`HotPaths`] per accepted connection, knowing its peer.
impl<L> Service<IncomingStream<'_, L>> for HotPaths
where
    L: Listener<Addr = SocketAddr>,
{
    type Response = HotPaths;
    type Error = Infallible;
    type Future = Ready<Result<HotPaths, Infallible>>;

    fn poll_ready(&mut self, _: &mut Context<'_>) -> Poll<Result<(), Infallible>> {
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, connection: IncomingStream<'_, L>) -> Self::Future {
        ready(Ok(Self {
            peer: Some(*connection.remote_addr()),
            ..self.clone()
        }))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_parameter_is_one_plain_segment() {
        let board = |p| parameter(p, "/api/games/", "/leaderboard");
        assert_eq!(
            board("/api/games/egg-catcher/leaderboard"),
            Some("egg-catcher")
        );
        assert_eq!(board("/api/games//leaderboard"), None);
        assert_eq!(board("/api/games/a/b/leaderboard"), None);
        assert_eq!(board("/api/games/egg%2Dcatcher/leaderboard"), None);
        assert_eq!(board("/api/games/egg-catcher/leaderboard/"), None);
        assert_eq!(board("/api/games/egg-catcher/standing"), None);
        let play = |p| parameter(p, "/play/", "");
        assert_eq!(play("/play/2048"), Some("2048"));
        assert_eq!(play("/play/"), None);
        assert_eq!(play("/play/2048/"), None);
    }
}
