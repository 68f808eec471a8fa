//! What the server takes on: the HTTP settings that bound a request (body size, time, requests
//! in flight, whose addresses to believe) and the budget of requests in flight. (Session
//! starts per client are the domain's `RateLimit` port.)

use std::convert::Infallible;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;

use axum::extract::Request;
use axum::response::{IntoResponse, Response};
use prometheus_client::metrics::counter::Counter;
use tokio::sync::{OwnedSemaphorePermit, Semaphore};
use tower::{Layer, Service};

use crate::error::ApiError;

/// HTTP-level settings.
#[derive(Debug, Clone)]
pub struct HttpSettings {
    /// Largest request body accepted (413 above).
    pub max_body_bytes: usize,
    /// Requests taking longer are answered 503.
    pub request_timeout: Duration,
    /// API requests (play, reads from storage) in flight at once; more are answered 503 at
    /// once, so an overload shows as quick refusals instead of a queue that grows in memory.
    pub max_requests_in_flight: usize,
    /// Proxies whose `X-Forwarded-For` is believed: the client is the right-most address
    /// not among them (see [`crate::forwarded`]).
    pub trusted_proxies: Vec<ipnet::IpNet>,
    /// `Strict-Transport-Security`'s max-age on every answer, when the arcade is reached over
    /// HTTPS (browsers ignore the header on plain HTTP); `None` sends none.
    pub hsts_max_age: Option<Duration>,
}

impl Default for HttpSettings {
    fn default() -> Self {
        Self {
            max_body_bytes: 256 * 1024,
            request_timeout: Duration::from_secs(10),
            max_requests_in_flight: 512,
            trusted_proxies: Vec::new(),
            hsts_max_age: None,
        }
    }
}

/// A budget of requests in flight: a request past it is answered `ApiError::Overloaded` (503,
/// `Retry-After`) at once, so an overload shows as quick refusals rather than as a queue that
/// grows in memory behind a slow backend. A permit is taken in `call` and held by the response
/// future until the answer's head is ready (the handler's reading of the body included).
///
/// Our own because tower's `ConcurrencyLimit` waits for a permit instead of refusing, and with
/// `LoadShed` in front its refusal is an error an extra `HandleErrorLayer` must turn into the
/// problem answer; this answers the problem itself. Every clone shares the budget.
#[derive(Clone)]
pub struct InFlightLimitLayer {
    permits: Arc<Semaphore>,
    refused: Counter,
}

impl InFlightLimitLayer {
    /// A budget of `max` requests at once (at least 1); `refused` counts the refusals.
    pub fn new(max: usize, refused: Counter) -> Self {
        Self {
            permits: Arc::new(Semaphore::new(max.max(1))),
            refused,
        }
    }
}

impl<S> Layer<S> for InFlightLimitLayer {
    type Service = InFlightLimit<S>;

    fn layer(&self, inner: S) -> InFlightLimit<S> {
        InFlightLimit {
            inner,
            permits: self.permits.clone(),
            refused: self.refused.clone(),
        }
    }
}

#[derive(Clone)]
pub struct InFlightLimit<S> {
    inner: S,
    permits: Arc<Semaphore>,
    refused: Counter,
}

impl<S> Service<Request> for InFlightLimit<S>
where
    S: Service<Request, Response = Response, Error = Infallible>,
{
    type Response = Response;
    type Error = Infallible;
    type Future = Limited<S::Future>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Infallible>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, request: Request) -> Self::Future {
        match self.permits.clone().try_acquire_owned() {
            Ok(permit) => Limited {
                inner: Some(self.inner.call(request)),
                permit: Some(permit),
            },
            // The request is dropped unread: nothing of it was taken on.
            Err(_) => {
                self.refused.inc();
                Limited {
                    inner: None,
                    permit: None,
                }
            }
        }
    }
}

pin_project_lite::pin_project! {
    /// The inner response future with its permit, or the refusal when there was none.
    pub struct Limited<F> {
        #[pin]
        inner: Option<F>,
        permit: Option<OwnedSemaphorePermit>,
    }
}

impl<F> Future for Limited<F>
where
    F: Future<Output = Result<Response, Infallible>>,
{
    type Output = Result<Response, Infallible>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = self.project();
        match this.inner.as_pin_mut() {
            Some(inner) => {
                let answer = std::task::ready!(inner.poll(cx));
                // Free the permit as soon as the head is ready, not when the future drops.
                this.permit.take();
                Poll::Ready(answer)
            }
            None => Poll::Ready(Ok(ApiError::Overloaded.into_response())),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::body::Body;
    use axum::http::StatusCode;
    use tokio::sync::oneshot;
    use tower::ServiceExt as _;

    /// A service that answers each request when the test says so.
    fn held() -> (
        impl Service<Request, Response = Response, Error = Infallible, Future: Send> + Clone,
        tokio::sync::mpsc::UnboundedReceiver<oneshot::Sender<()>>,
    ) {
        let (tx, rx) = tokio::sync::mpsc::unbounded_channel();
        let service = tower::service_fn(move |_request: Request| {
            let (release, released) = oneshot::channel();
            let _ = tx.send(release);
            async move {
                let _ = released.await;
                Ok::<_, Infallible>(StatusCode::OK.into_response())
            }
        });
        (service, rx)
    }

    #[tokio::test]
    async fn requests_past_the_budget_are_refused_until_one_in_flight_answers() {
        let (service, mut releases) = held();
        let refused = Counter::default();
        let limited = InFlightLimitLayer::new(2, refused.clone()).layer(service);
        let first = tokio::spawn(limited.clone().oneshot(Request::new(Body::empty())));
        let second = tokio::spawn(limited.clone().oneshot(Request::new(Body::empty())));
        let (r1, r2) = (
            releases.recv().await.unwrap(),
            releases.recv().await.unwrap(),
        );
        // Both permits are taken: the third is refused without reaching the service.
        let third = limited.clone().oneshot(Request::new(Body::empty())).await;
        assert_eq!(third.unwrap().status(), StatusCode::SERVICE_UNAVAILABLE);
        assert!(
            releases.try_recv().is_err(),
            "a refused request reached the service"
        );
        assert_eq!(refused.get(), 1);
        r1.send(()).unwrap();
        assert_eq!(first.await.unwrap().unwrap().status(), StatusCode::OK);
        // The first answer gave its permit back.
        let fourth = tokio::spawn(limited.clone().oneshot(Request::new(Body::empty())));
        releases.recv().await.unwrap().send(()).unwrap();
        assert_eq!(fourth.await.unwrap().unwrap().status(), StatusCode::OK);
        r2.send(()).unwrap();
        assert_eq!(second.await.unwrap().unwrap().status(), StatusCode::OK);
        assert_eq!(refused.get(), 1);
    }

    #[tokio::test]
    async fn a_request_given_up_by_its_client_gives_its_permit_back() {
        let (service, mut releases) = held();
        let limited = InFlightLimitLayer::new(1, Counter::default()).layer(service);
        let abandoned = tokio::spawn(limited.clone().oneshot(Request::new(Body::empty())));
        let _release = releases.recv().await.unwrap();
        abandoned.abort();
        let _ = abandoned.await;
        let next = tokio::spawn(limited.clone().oneshot(Request::new(Body::empty())));
        releases.recv().await.unwrap().send(()).unwrap();
        assert_eq!(next.await.unwrap().unwrap().status(), StatusCode::OK);
    }
}
