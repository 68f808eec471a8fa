//! Cross-cutting HTTP behaviour: one middleware that gives every request an id, times, counts
//! and logs it, writes every error as problem+json (with the request id) and sets the
//! security headers.

use std::any::Any;
use std::borrow::Cow;
use std::convert::Infallible;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::pin::Pin;
use std::sync::{Arc, LazyLock, PoisonError, RwLock};
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

use arcade_telemetry::Metrics;
use axum::body::Body;
use axum::extract::{MatchedPath, Request};
use axum::http::{HeaderName, HeaderValue, Method, StatusCode, header};
use axum::response::{IntoResponse, Response};
use rustc_hash::FxHashSet;
use tower::{Layer, Service};
use tracing::Level;

use crate::error::{InternalCause, Problem, Refused};

pub const REQUEST_ID: HeaderName = HeaderName::from_static("x-request-id");

const PROBLEM_JSON: &str = "application/problem+json";

/// Route label for requests that matched no route: raw paths would explode cardinality.
const UNMATCHED: &str = "unmatched";

/// Room for the request id in headers built once and cloned for many responses: a clone has
/// no spare room, and the id (set on every response) would otherwise regrow it each time.
pub(crate) fn reserve_request_id(headers: &mut axum::http::HeaderMap) {
    headers.insert(REQUEST_ID, HeaderValue::from_static(""));
}

/// Headers every response carries unless its handler chose otherwise, besides the content
/// security policy (see [`content_security_policy`]).
const SECURITY_HEADERS: [(HeaderName, &str); 3] = [
    (header::X_CONTENT_TYPE_OPTIONS, "nosniff"),
    (header::REFERRER_POLICY, "no-referrer"),
    (header::X_FRAME_OPTIONS, "DENY"),
];

/// The policy of the pages: their own scripts, styles, images and sounds only.
const PAGE_CSP: &str = "default-src 'self'; img-src 'self' data:; media-src 'self' data:; \
                        object-src 'none'; base-uri 'none'; frame-ancestors 'none'; form-action 'self'";

/// The policy of everything else (API answers, problems, scripts, styles): nothing may be
/// loaded or framed by it, in the fewest bytes. A policy applies only to a document a browser
/// renders, and an answer that is not HTML is one only when opened by hand.
const API_CSP: &str = "default-src 'none'; frame-ancestors 'none'";

/// The policy for a representation of `content_type`: the pages' for HTML, the closed one for
/// anything else.
pub(crate) fn content_security_policy(content_type: Option<&HeaderValue>) -> &'static str {
    let html = content_type.is_some_and(|v| v.as_bytes().starts_with(b"text/html"));
    if html { PAGE_CSP } else { API_CSP }
}

/// Set the security headers the response has not set itself: the content security policy
/// for its type, then [`SECURITY_HEADERS`]. They go on together, so a response with a policy
/// has them all.
pub(crate) fn secure(headers: &mut axum::http::HeaderMap) {
    let policy = content_security_policy(headers.get(header::CONTENT_TYPE));
    secure_with(headers, policy);
}

/// [`secure`] with the policy of the representation the response stands for: a 304 has no
/// content type, yet the browser applies its headers to the page it keeps.
pub(crate) fn secure_with(headers: &mut axum::http::HeaderMap, policy: &'static str) {
    // One probe per header: the entry finds it or the slot it goes in.
    if let header::Entry::Vacant(slot) = headers.entry(header::CONTENT_SECURITY_POLICY) {
        slot.insert(HeaderValue::from_static(policy));
    }
    for (name, value) in SECURITY_HEADERS {
        if let header::Entry::Vacant(slot) = headers.entry(name) {
            slot.insert(HeaderValue::from_static(value));
        }
    }
}

/// The outermost layer, one pass per request: gives the request an id (kept when the client
/// sent one) and echoes it, times, counts and logs, turns a panic into a 500, writes error
/// bodies as problem+json and sets the security headers. A plain tower service rather than
/// `from_fn` and a panic-catching layer, each of which would box the rest of the stack, its
/// future or its body again for every request.
#[derive(Clone)]
pub struct ObserveLayer {
    metrics: Arc<Metrics>,
}

impl ObserveLayer {
    pub fn new(metrics: Arc<Metrics>) -> Self {
        Self { metrics }
    }
}

impl<S> Layer<S> for ObserveLayer {
    type Service = Observe<S>;

    fn layer(&self, inner: S) -> Observe<S> {
        Observe {
            inner,
            metrics: self.metrics.clone(),
        }
    }
}

#[derive(Clone)]
pub struct Observe<S> {
    inner: S,
    metrics: Arc<Metrics>,
}

impl<S> Service<Request> for Observe<S>
where
    S: Service<Request, Response = Response, Error = Infallible>,
{
    type Response = Response;
    type Error = Infallible;
    type Future = Observed<S::Future>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Infallible>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, request: Request) -> Self::Future {
        let route = request
            .extensions()
            .get::<MatchedPath>()
            .map_or(Cow::Borrowed(UNMATCHED), |m| route_label(m.as_str()));
        let observing = Observing::start(&self.metrics, &request, route, Instant::now());
        let (inner, panicked_call) = match observing
            .span
            .in_scope(|| catch_unwind(AssertUnwindSafe(|| self.inner.call(request))))
        {
            Ok(future) => (Some(future), None),
            Err(panic) => (None, Some(panicked(&*panic))),
        };
        Observed {
            inner,
            panicked_call,
            request: Some(observing),
        }
    }
}

/// Observe a request answered at once, outside the router, as [`Observe`] observes a routed
/// one (`route` is its template): its response, or the 500 for a panic of `answer`, goes out
/// with the same headers, metrics, span and log line, timed from before `answer` ran. Nothing
/// is observed when `answer` declines (`None`): the request is the router's to answer and
/// observe, so the span is made only once there is an answer (a span made and dropped would
/// still be exported as a trace of its own). `answer` must not log: it runs before the span.
pub(crate) fn observe_answer(
    metrics: &Arc<Metrics>,
    request: &Request,
    route: &'static str,
    answer: impl FnOnce() -> Option<Response>,
) -> Option<Response> {
    let started = Instant::now();
    let response = match catch_unwind(AssertUnwindSafe(answer)) {
        Ok(Some(response)) => response,
        Ok(None) => return None,
        Err(panic) => panicked(&*panic),
    };
    Some(Observing::start(metrics, request, Cow::Borrowed(route), started).finish(response))
}

/// What the observer keeps of a request until its response is ready.
struct Observing {
    metrics: Arc<Metrics>,
    started: Instant,
    request_id: HeaderValue,
    method: Method,
    route: Cow<'static, str>,
    span: tracing::Span,
}

pin_project_lite::pin_project! {
    /// The response future of [`Observe`]: the inner one, polled inside the request's span,
    /// or the 500 for a call of the inner service that panicked.
    pub struct Observed<F> {
        #[pin]
        inner: Option<F>,
        panicked_call: Option<Response>,
        request: Option<Observing>,
    }
}

impl<F> Future for Observed<F>
where
    F: Future<Output = Result<Response, Infallible>>,
{
    type Output = Result<Response, Infallible>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = self.project();
        let request = this
            .request
            .as_ref()
            .expect("an observed future is not polled after it is ready");
        let response = match this.inner.as_pin_mut() {
            Some(inner) => {
                let _entered = request.span.enter();
                match catch_unwind(AssertUnwindSafe(|| inner.poll(cx))) {
                    Ok(Poll::Pending) => return Poll::Pending,
                    Ok(Poll::Ready(Ok(response))) => response,
                    Err(panic) => panicked(&*panic),
                }
            }
            None => this
                .panicked_call
                .take()
                .expect("without an inner future there is the panic's answer"),
        };
        let request = this.request.take().expect("checked above");
        Poll::Ready(Ok(request.finish(response)))
    }
}

impl Observing {
    /// A request timed from `started`, with its id (the client's, or a new one) and its span.
    fn start(
        metrics: &Arc<Metrics>,
        request: &Request,
        route: Cow<'static, str>,
        started: Instant,
    ) -> Self {
        let request_id = match request.headers().get(&REQUEST_ID) {
            Some(id) => id.clone(),
            None => {
                let mut buf = uuid::Uuid::encode_buffer();
                let id = uuid::Uuid::new_v4().hyphenated().encode_lower(&mut buf);
                HeaderValue::from_str(id).expect("a UUID is a valid header value")
            }
        };
        let method = request.method().clone();
        let span = tracing::info_span!(
            "http_request",
            otel.name = %format_args!("{method} {route}"),
            otel.kind = "server",
            http.request.method = %method,
            http.route = %route,
            http.response.status_code = tracing::field::Empty,
            request_id = %request_id.to_str().unwrap_or_default(),
        );
        Self {
            metrics: metrics.clone(),
            started,
            request_id,
            method,
            route,
            span,
        }
    }

    fn finish(self, response: Response) -> Response {
        let mut response = problem_body(response, &self.request_id);
        let status = response.status();
        let headers = response.headers_mut();
        // Kept bodies' headers were secured once, when they were built.
        if !headers.contains_key(header::CONTENT_SECURITY_POLICY) {
            headers.reserve(SECURITY_HEADERS.len() + 2);
            secure(headers);
        }
        headers.insert(REQUEST_ID, self.request_id.clone());
        let trace_id = if self.span.is_disabled() {
            None
        } else {
            self.span
                .record("http.response.status_code", status.as_u16());
            arcade_telemetry::trace_id(&self.span)
        };
        let latency = self.started.elapsed();
        self.metrics.observe_http(
            method_label(&self.method),
            self.route.clone(),
            status.as_u16(),
            latency.as_secs_f64(),
        );
        let _entered = self.span.enter();
        log(
            &response,
            &self.request_id,
            trace_id.as_deref(),
            self.method.as_str(),
            &self.route,
            status,
            latency,
        );
        response
    }
}

/// The answer to a request whose handler panicked: a 500 whose cause (the panic message) is
/// logged, with the generic problem body.
fn panicked(panic: &(dyn Any + Send)) -> Response {
    let message = panic
        .downcast_ref::<&str>()
        .copied()
        .or_else(|| panic.downcast_ref::<String>().map(String::as_str))
        .unwrap_or("a panic without a message");
    let mut response = StatusCode::INTERNAL_SERVER_ERROR.into_response();
    response
        .extensions_mut()
        .insert(InternalCause(format!("the handler panicked: {message}")));
    response
}

/// The `method` label: the standard methods by name, any other as `_OTHER` (as OpenTelemetry
/// names them), since a client may send any token as a method and each would be a new series.
fn method_label(method: &Method) -> &'static str {
    const STANDARD: [Method; 9] = [
        Method::GET,
        Method::POST,
        Method::PUT,
        Method::DELETE,
        Method::HEAD,
        Method::OPTIONS,
        Method::PATCH,
        Method::CONNECT,
        Method::TRACE,
    ];
    const NAMES: [&str; 9] = [
        "GET", "POST", "PUT", "DELETE", "HEAD", "OPTIONS", "PATCH", "CONNECT", "TRACE",
    ];
    STANDARD
        .iter()
        .position(|m| m == method)
        .map_or("_OTHER", |i| NAMES[i])
}

/// Route templates seen so far, each kept once for the life of the process. Hashed with Fx:
/// the keys are the router's own templates, not a client's input, and SipHash cost more than
/// the rest of the look-up.
static ROUTES: LazyLock<RwLock<FxHashSet<&'static str>>> = LazyLock::new(Default::default);
/// More distinct routes than any router of ours has; past it, labels are copied per request.
const MAX_ROUTES: usize = 256;

/// The `route` label as a `&'static str`. Routes are `MatchedPath` templates (or
/// [`UNMATCHED`]), a fixed set defined by the router, so keeping each one for good costs a
/// few hundred bytes and saves two copies on every request.
fn route_label(route: &str) -> Cow<'static, str> {
    if let Some(known) = ROUTES
        .read()
        .unwrap_or_else(PoisonError::into_inner)
        .get(route)
    {
        return Cow::Borrowed(known);
    }
    let mut routes = ROUTES.write().unwrap_or_else(PoisonError::into_inner);
    if let Some(known) = routes.get(route) {
        return Cow::Borrowed(known);
    }
    if routes.len() >= MAX_ROUTES {
        return Cow::Owned(route.to_owned());
    }
    let kept: &'static str = Box::leak(route.to_owned().into_boxed_str());
    routes.insert(kept);
    Cow::Borrowed(kept)
}

/// The request id as text, for a log line or a problem (read only when one is written).
fn id_text(request_id: &HeaderValue) -> &str {
    request_id.to_str().unwrap_or_default()
}

fn log(
    response: &Response,
    request_id: &HeaderValue,
    trace_id: Option<&str>,
    method: &str,
    route: &str,
    status: StatusCode,
    latency: Duration,
) {
    let latency_ms = latency.as_secs_f64() * 1000.0;
    let status = status.as_u16();
    // Absent rather than empty when traces are off.
    let trace_id = trace_id.map(tracing::field::display);
    // Every request line carries the same fields; only the level, the message and a 5xx's
    // cause differ.
    macro_rules! request_line {
        ($level:expr, $($cause:ident,)? $message:literal) => {
            tracing::event!(
                $level,
                request_id = id_text(request_id),
                trace_id,
                method,
                route,
                status,
                latency_ms,
                $($cause,)?
                $message
            )
        };
    }
    if let Some(InternalCause(cause)) = response.extensions().get::<InternalCause>() {
        request_line!(Level::ERROR, cause, "request failed");
    } else if response.extensions().get::<Refused>().is_some() {
        // Load shedding working as meant, counted by arcade_requests_refused_total.
        request_line!(Level::WARN, "request refused: too many in flight");
    } else if status >= 500 {
        request_line!(Level::ERROR, "request failed");
    } else if route == "/health/live" || route == "/health/ready" || route == "/metrics" {
        // Probes and scrapes arrive every few seconds; keep them out of the info stream.
        request_line!(Level::DEBUG, "request completed");
    } else {
        request_line!(Level::INFO, "request completed");
    }
}

/// Any 4xx/5xx without a problem body gets one: from the `Problem` an `ApiError` attached, or
/// a generic one for errors raised by the framework (unknown route, wrong method, timeout).
fn problem_body(response: Response, request_id: &HeaderValue) -> Response {
    let status = response.status();
    if !(status.is_client_error() || status.is_server_error()) {
        return response;
    }
    let (mut parts, body) = response.into_parts();
    // A handler that chose a JSON body for its error status (readiness' per-dependency
    // report) keeps it.
    let json_body = parts.headers.get(header::CONTENT_TYPE).is_some_and(|v| {
        let v = v.as_bytes();
        v.starts_with(PROBLEM_JSON.as_bytes()) || v.starts_with(b"application/json")
    });
    let mut problem = match parts.extensions.remove::<Problem>() {
        Some(p) => p,
        None if json_body => return Response::from_parts(parts, body),
        None => default_problem(status),
    };
    let request_id = id_text(request_id);
    if !request_id.is_empty() {
        problem.request_id = Some(request_id.to_owned());
    }
    let json = serde_json::to_vec(&problem).unwrap_or_default();
    parts.headers.remove(header::CONTENT_LENGTH);
    parts
        .headers
        .insert(header::CONTENT_TYPE, HeaderValue::from_static(PROBLEM_JSON));
    Response::from_parts(parts, Body::from(json))
}

fn default_problem(status: StatusCode) -> Problem {
    let (kind, detail) = match status {
        StatusCode::NOT_FOUND => ("not_found", "there is nothing at this address"),
        StatusCode::METHOD_NOT_ALLOWED => (
            "method_not_allowed",
            "this address does not accept that method",
        ),
        StatusCode::PAYLOAD_TOO_LARGE => (
            "payload_too_large",
            "the request body is larger than the server accepts",
        ),
        StatusCode::REQUEST_TIMEOUT | StatusCode::SERVICE_UNAVAILABLE => {
            ("timeout", "the server could not answer in time: try again")
        }
        s if s.is_server_error() => (
            "internal_error",
            "something went wrong on our side; it has been logged",
        ),
        _ => ("bad_request", "the request could not be handled"),
    };
    Problem::new(status, kind, detail)
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::Router;
    use axum::routing::get;
    use tower::ServiceExt;

    fn observed(metrics: &Arc<Metrics>) -> Router {
        Router::new()
            .route("/fine", get(|| async { "fine" }))
            .route(
                "/boom",
                get(|| async {
                    if std::hint::black_box(true) {
                        panic!("the board exploded");
                    }
                    "unreachable"
                }),
            )
            .layer(ObserveLayer::new(metrics.clone()))
    }

    async fn get_from(router: &Router, path: &str) -> Response {
        router
            .clone()
            .oneshot(
                Request::get(path)
                    .header(&REQUEST_ID, "req-42")
                    .body(Body::empty())
                    .unwrap(),
            )
            .await
            .unwrap()
    }

    #[tokio::test]
    async fn a_panicking_handler_is_a_500_problem_and_the_server_goes_on() {
        let metrics = Arc::new(Metrics::new("test", "test"));
        let router = observed(&metrics);
        let r = get_from(&router, "/boom").await;
        assert_eq!(r.status(), StatusCode::INTERNAL_SERVER_ERROR);
        assert_eq!(r.headers()[header::CONTENT_TYPE], PROBLEM_JSON);
        assert_eq!(r.headers()[&REQUEST_ID], "req-42");
        assert_eq!(r.headers()[header::X_CONTENT_TYPE_OPTIONS], "nosniff");
        assert_eq!(r.headers()[header::CONTENT_SECURITY_POLICY], API_CSP);
        let body = axum::body::to_bytes(r.into_body(), usize::MAX)
            .await
            .unwrap();
        let problem: serde_json::Value = serde_json::from_slice(&body).unwrap();
        assert_eq!(problem["type"], "internal_error", "{problem}");
        assert_eq!(problem["request_id"], "req-42");
        assert!(
            !problem.to_string().contains("exploded"),
            "the panic message stays in the log: {problem}"
        );

        let r = get_from(&router, "/fine").await;
        assert_eq!(r.status(), StatusCode::OK);
        let text = metrics.encode();
        assert!(
            text.lines()
                .any(|l| l.starts_with("arcade_http_requests_total{")
                    && l.contains("route=\"/boom\"")
                    && l.contains("status=\"500\"")),
            "{text}"
        );
    }

    /// A log line sink for one test.
    #[derive(Clone, Default)]
    struct Lines(Arc<std::sync::Mutex<Vec<u8>>>);

    impl std::io::Write for Lines {
        fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
            self.0
                .lock()
                .unwrap_or_else(PoisonError::into_inner)
                .extend_from_slice(buf);
            Ok(buf.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }

    #[test]
    fn a_request_refused_for_load_is_a_warning_and_a_failure_an_error() {
        let lines = Lines::default();
        let sink = lines.clone();
        let subscriber = tracing_subscriber::fmt()
            .with_ansi(false)
            .with_writer(move || sink.clone())
            .finish();
        let id = HeaderValue::from_static("req-7");
        tracing::subscriber::with_default(subscriber, || {
            for e in [
                crate::error::ApiError::Overloaded,
                crate::error::ApiError::Internal("boom".into()),
            ] {
                let r = e.into_response();
                let status = r.status();
                log(
                    &r,
                    &id,
                    None,
                    "POST",
                    "/api/sessions/{id}/finish",
                    status,
                    Duration::ZERO,
                );
            }
        });
        let text = String::from_utf8(lines.0.lock().unwrap().clone()).unwrap();
        let mut logged = text.lines();
        let refused = logged.next().unwrap_or_default();
        assert!(
            refused.contains("WARN") && refused.contains("request refused"),
            "{text}"
        );
        let failed = logged.next().unwrap_or_default();
        assert!(
            failed.contains("ERROR") && failed.contains("boom"),
            "{text}"
        );
    }

    #[test]
    fn standard_methods_by_name_any_other_as_one_label_and_seen_routes_without_a_copy() {
        assert_eq!(method_label(&Method::GET), "GET");
        assert_eq!(method_label(&Method::PATCH), "PATCH");
        for token in ["PURGE", "X-ANYTHING-1", "X-ANYTHING-2"] {
            let custom = Method::from_bytes(token.as_bytes()).unwrap();
            assert_eq!(method_label(&custom), "_OTHER");
        }
        let route = String::from("/api/games/{game}/leaderboard");
        let first = route_label(&route);
        let again = route_label(&route);
        assert_eq!(first, route.as_str());
        assert!(
            matches!((&first, &again), (Cow::Borrowed(a), Cow::Borrowed(b)) if std::ptr::eq(*a, *b))
        );
    }
}
