//! The layers every request passes, most of them tower-http's: the request id
//! (`SetRequestIdLayer`, `PropagateRequestIdLayer`), the span and the one request log line
//! (`TraceLayer`), panics as a 500 (`CatchPanicLayer`), and each route group's security
//! headers (`SetResponseHeaderLayer`). Two small layers are Arcade's own, since no crate does
//! their job: metrics labelled by the matched route, and problem bodies that carry the
//! request id.

use std::any::Any;
use std::convert::Infallible;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

use arcade_telemetry::Metrics;
use axum::body::Body;
use axum::extract::{MatchedPath, Request};
use axum::http::{HeaderName, HeaderValue, Method, StatusCode, header};
use axum::response::{IntoResponse, Response};
use tower::{Layer, Service, ServiceBuilder};
use tower_http::catch_panic::CatchPanicLayer;
use tower_http::classify::{ServerErrorsAsFailures, SharedClassifier};
use tower_http::request_id::{
    MakeRequestId, PropagateRequestIdLayer, RequestId, SetRequestIdLayer,
};
use tower_http::set_header::SetResponseHeaderLayer;
use tower_http::trace::{MakeSpan, OnResponse, TraceLayer};
use tracing::{Level, Span};

use crate::error::{InternalCause, Problem, Refused};

pub const REQUEST_ID: HeaderName = HeaderName::from_static("x-request-id");

const PROBLEM_JSON: &str = "application/problem+json";

/// Route label for requests that matched no route: raw paths would explode cardinality.
const UNMATCHED: &str = "unmatched";

// ---------------------------------------------------------------------------------------------
// Request ids

/// Longest request id taken from a client.
const MAX_REQUEST_ID: usize = 64;

/// Whether a client's `x-request-id` is one to keep: short, and only letters, digits, `.`,
/// `_` and `-`, so it can go into a log line, a problem body and a log search as it is.
pub(crate) fn acceptable_request_id(id: &HeaderValue) -> bool {
    let id = id.as_bytes();
    !id.is_empty()
        && id.len() <= MAX_REQUEST_ID
        && id
            .iter()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b'-'))
}

/// Drops a client's `x-request-id` that is not [acceptable](acceptable_request_id), so
/// `SetRequestIdLayer` (which keeps any id it finds) generates one instead.
fn drop_unacceptable_request_id(mut request: Request) -> Request {
    if let Some(id) = request.headers().get(&REQUEST_ID)
        && !acceptable_request_id(id)
    {
        request.headers_mut().remove(&REQUEST_ID);
    }
    request
}

/// A new request id: a random UUID, written without an intermediate string.
#[derive(Debug, Clone, Copy, Default)]
struct NewRequestId;

impl MakeRequestId for NewRequestId {
    fn make_request_id<B>(&mut self, _: &axum::http::Request<B>) -> Option<RequestId> {
        let mut buf = uuid::Uuid::encode_buffer();
        let id = uuid::Uuid::new_v4().hyphenated().encode_lower(&mut buf);
        HeaderValue::from_str(id).ok().map(RequestId::new)
    }
}

// ---------------------------------------------------------------------------------------------
// Security headers, per route group

/// The policy of the pages: their own scripts, styles, images and sounds only.
pub(crate) const PAGE_CSP: &str = "default-src 'self'; img-src 'self' data:; \
                                   media-src 'self' data:; object-src 'none'; base-uri 'none'; \
                                   frame-ancestors 'none'; form-action 'self'";

/// What the pages may use of the browser: none of the powerful features, which no game needs.
const PERMISSIONS_POLICY: HeaderName = HeaderName::from_static("permissions-policy");

pub(crate) const PAGE_PERMISSIONS: &str = "accelerometer=(), camera=(), geolocation=(), \
                                           gyroscope=(), magnetometer=(), microphone=(), \
                                           payment=(), usb=()";

/// The policy of everything that is not a page (API answers, problems, scripts, styles,
/// images): nothing may be loaded or framed by it. A policy applies only to a document a
/// browser renders, and such an answer is one only when opened by hand.
pub(crate) const CLOSED_CSP: &str = "default-src 'none'; frame-ancestors 'none'";

/// A group of routes and the security headers each of its responses carries, 304s and
/// problems included (see [`layered`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Group {
    /// The HTML pages (`/`, `/play/{game}`, `/admin`).
    Pages,
    /// The scripts, styles and images the pages load.
    Assets,
    /// The JSON API, the probes, the metrics and any unknown address.
    Api,
}

/// The routes of `group` behind every layer of the application, as one stack. Outermost
/// first: a client's request id checked, kept or made (`SetRequestIdLayer`); the span and the
/// request's log line (`TraceLayer`); metrics by matched route; problem bodies; the id echoed
/// (`PropagateRequestIdLayer`); the group's security headers; a handler's panic answered
/// inside the group, so its 500 carries them too.
///
/// One `Router::layer` call, on purpose: axum boxes each route again at every call (a clone
/// and a boxed future per request per call), so the layers are stacked here, unboxed, and
/// the router boxes them once.
pub(crate) fn layered<S: Clone + Send + Sync + 'static>(
    router: axum::Router<S>,
    group: Group,
    hsts_max_age: Option<std::time::Duration>,
    metrics: &Arc<Metrics>,
) -> axum::Router<S> {
    let header = |name: HeaderName, value: &'static str| {
        SetResponseHeaderLayer::overriding(name, HeaderValue::from_static(value))
    };
    let (csp, permissions) = match group {
        Group::Pages => (PAGE_CSP, Some(PAGE_PERMISSIONS)),
        Group::Assets | Group::Api => (CLOSED_CSP, None),
    };
    let hsts = hsts_max_age.and_then(|max_age| {
        HeaderValue::from_str(&format!("max-age={}; includeSubDomains", max_age.as_secs()))
            .ok()
            .map(|value| {
                SetResponseHeaderLayer::overriding(header::STRICT_TRANSPORT_SECURITY, value)
            })
    });
    router.layer(
        ServiceBuilder::new()
            .map_request(drop_unacceptable_request_id)
            .layer(SetRequestIdLayer::new(REQUEST_ID, NewRequestId))
            .layer(trace())
            .layer(HttpMetricsLayer::new(metrics.clone()))
            .layer(ProblemLayer)
            .layer(PropagateRequestIdLayer::new(REQUEST_ID))
            .layer(header(header::X_CONTENT_TYPE_OPTIONS, "nosniff"))
            .layer(header(header::REFERRER_POLICY, "no-referrer"))
            .layer(header(header::X_FRAME_OPTIONS, "DENY"))
            .layer(header(header::CONTENT_SECURITY_POLICY, csp))
            .option_layer(permissions.map(|value| header(PERMISSIONS_POLICY, value)))
            .option_layer(hsts)
            // The panic layer's answers have a body type of their own.
            .map_response(IntoResponse::into_response)
            .layer(CatchPanicLayer::custom(panicked)),
    )
}

/// The answer to a request whose handler panicked: a 500 whose cause (the panic message) is
/// logged, with the generic problem body.
fn panicked(panic: Box<dyn Any + Send>) -> Response {
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

// ---------------------------------------------------------------------------------------------
// The span and the request log line

/// The `TraceLayer` of the application: one span per request, one log line per response.
fn trace()
-> TraceLayer<SharedClassifier<ServerErrorsAsFailures>, RequestSpan, (), RequestLine, (), (), ()> {
    TraceLayer::new_for_http()
        .make_span_with(RequestSpan)
        .on_request(())
        .on_response(RequestLine)
        .on_body_chunk(())
        .on_eos(())
        // A failure is on the request line already, with its cause.
        .on_failure(())
}

/// The span of a request, named as OpenTelemetry names a server span (`GET /api/games`).
#[derive(Debug, Clone, Copy)]
pub(crate) struct RequestSpan;

impl<B> MakeSpan<B> for RequestSpan {
    fn make_span(&mut self, request: &axum::http::Request<B>) -> Span {
        let method = request.method();
        let route = route_of(request.extensions());
        let request_id = request
            .headers()
            .get(&REQUEST_ID)
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default();
        tracing::info_span!(
            "http_request",
            otel.name = %format_args!("{method} {route}"),
            otel.kind = "server",
            http.request.method = %method,
            http.route = route,
            http.response.status_code = tracing::field::Empty,
            request_id,
        )
    }
}

/// The one log line of a request, written when its response head is ready.
#[derive(Debug, Clone, Copy)]
pub(crate) struct RequestLine;

impl<B> OnResponse<B> for RequestLine {
    fn on_response(self, response: &axum::http::Response<B>, latency: Duration, span: &Span) {
        let status = response.status().as_u16();
        let trace_id = if span.is_disabled() {
            None
        } else {
            span.record("http.response.status_code", status);
            arcade_telemetry::trace_id(span)
        };
        let (method, route) =
            response
                .extensions()
                .get::<Routed>()
                .map_or(("_OTHER", UNMATCHED), |r| {
                    (
                        r.method,
                        r.route.as_ref().map_or(UNMATCHED, MatchedPath::as_str),
                    )
                });
        let request_id = response
            .headers()
            .get(&REQUEST_ID)
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default();
        log(
            response.extensions(),
            request_id,
            trace_id.as_deref(),
            method,
            route,
            status,
            latency,
        );
    }
}

fn log(
    extensions: &axum::http::Extensions,
    request_id: &str,
    trace_id: Option<&str>,
    method: &str,
    route: &str,
    status: u16,
    latency: Duration,
) {
    let latency_ms = latency.as_secs_f64() * 1000.0;
    // Absent rather than empty when traces are off.
    let trace_id = trace_id.map(tracing::field::display);
    // Every request line carries the same fields; only the level, the message and a 5xx's
    // cause differ.
    macro_rules! request_line {
        ($level:expr, $($cause:ident,)? $message:literal) => {
            tracing::event!(
                $level,
                request_id,
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
    if let Some(InternalCause(cause)) = extensions.get::<InternalCause>() {
        request_line!(Level::ERROR, cause, "request failed");
    } else if extensions.get::<Refused>().is_some() {
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

// ---------------------------------------------------------------------------------------------
// Metrics by matched route

/// The matched route template, or [`UNMATCHED`].
fn route_of(extensions: &axum::http::Extensions) -> &str {
    extensions
        .get::<MatchedPath>()
        .map_or(UNMATCHED, MatchedPath::as_str)
}

/// The method and route of a request, handed with its response to the request line.
#[derive(Debug, Clone)]
struct Routed {
    method: &'static str,
    route: Option<MatchedPath>,
}

/// Counts and times every request by method, matched route and status
/// (`arcade_http_requests_total`, `arcade_http_request_duration_seconds`). Our own: no crate
/// labels Prometheus series with axum's `MatchedPath`.
#[derive(Clone)]
struct HttpMetricsLayer {
    metrics: Arc<Metrics>,
}

impl HttpMetricsLayer {
    fn new(metrics: Arc<Metrics>) -> Self {
        Self { metrics }
    }
}

impl<S> Layer<S> for HttpMetricsLayer {
    type Service = HttpMetrics<S>;

    fn layer(&self, inner: S) -> HttpMetrics<S> {
        HttpMetrics {
            inner,
            metrics: self.metrics.clone(),
        }
    }
}

#[derive(Clone)]
pub(crate) struct HttpMetrics<S> {
    inner: S,
    metrics: Arc<Metrics>,
}

impl<S> Service<Request> for HttpMetrics<S>
where
    S: Service<Request, Response = Response, Error = Infallible>,
{
    type Response = Response;
    type Error = Infallible;
    type Future = Counted<S::Future>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Infallible>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, request: Request) -> Self::Future {
        let routed = Routed {
            method: method_label(request.method()),
            route: request.extensions().get::<MatchedPath>().cloned(),
        };
        Counted {
            inner: self.inner.call(request),
            metrics: self.metrics.clone(),
            routed: Some(routed),
            started: Instant::now(),
        }
    }
}

pin_project_lite::pin_project! {
    /// The response future of [`HttpMetrics`].
    pub(crate) struct Counted<F> {
        #[pin]
        inner: F,
        metrics: Arc<Metrics>,
        routed: Option<Routed>,
        started: Instant,
    }
}

impl<F> Future for Counted<F>
where
    F: Future<Output = Result<Response, Infallible>>,
{
    type Output = Result<Response, Infallible>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = self.project();
        let Ok(mut response) = std::task::ready!(this.inner.poll(cx));
        let routed = this
            .routed
            .take()
            .expect("a counted future is not polled after it is ready");
        let route = routed.route.as_ref().map_or(UNMATCHED, MatchedPath::as_str);
        this.metrics.record_http(
            routed.method,
            route,
            response.status().as_u16(),
            this.started.elapsed().as_secs_f64(),
        );
        response.extensions_mut().insert(routed);
        Poll::Ready(Ok(response))
    }
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

// ---------------------------------------------------------------------------------------------
// Problem bodies

/// Writes any 4xx/5xx without a body of its own as problem+json, with the request id: the
/// `Problem` an `ApiError` attached, or a generic one for what the framework and the layers
/// answer (unknown route, wrong method, timeout, body too large, panic). Our own: the problem
/// needs the request id, which an `IntoResponse` does not see.
#[derive(Debug, Clone, Copy, Default)]
struct ProblemLayer;

impl<S> Layer<S> for ProblemLayer {
    type Service = Problems<S>;

    fn layer(&self, inner: S) -> Problems<S> {
        Problems { inner }
    }
}

#[derive(Debug, Clone)]
pub(crate) struct Problems<S> {
    inner: S,
}

impl<S> Service<Request> for Problems<S>
where
    S: Service<Request, Response = Response, Error = Infallible>,
{
    type Response = Response;
    type Error = Infallible;
    type Future = WithProblem<S::Future>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Infallible>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, request: Request) -> Self::Future {
        WithProblem {
            inner: self.inner.call(request),
        }
    }
}

pin_project_lite::pin_project! {
    /// The response future of [`Problems`].
    pub(crate) struct WithProblem<F> {
        #[pin]
        inner: F,
    }
}

impl<F> Future for WithProblem<F>
where
    F: Future<Output = Result<Response, Infallible>>,
{
    type Output = Result<Response, Infallible>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let Ok(response) = std::task::ready!(self.project().inner.poll(cx));
        Poll::Ready(Ok(problem_body(response)))
    }
}

/// Any 4xx/5xx without a problem body gets one: from the `Problem` an `ApiError` attached, or
/// a generic one for errors raised by the framework (unknown route, wrong method, timeout).
fn problem_body(response: Response) -> Response {
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
    if let Some(id) = parts
        .headers
        .get(&REQUEST_ID)
        .and_then(|v| v.to_str().ok())
        .filter(|id| !id.is_empty())
    {
        problem.request_id = Some(id.to_owned());
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
    use std::sync::{Mutex, PoisonError};

    use axum::Router;
    use axum::routing::get;
    use tower::ServiceExt;

    use super::*;

    /// A router with the application's layers around two routes of the API group.
    fn two_routes(metrics: &Arc<Metrics>) -> Router {
        let routes = Router::new()
            .route("/fine", get(|| async { "fine" }))
            .route(
                "/boom",
                get(|| async {
                    if std::hint::black_box(true) {
                        panic!("the board exploded");
                    }
                    "unreachable"
                }),
            );
        layered(routes, Group::Api, None, metrics)
    }

    async fn get_from(router: &Router, path: &str, id: Option<&str>) -> Response {
        let mut request = Request::get(path);
        if let Some(id) = id {
            request = request.header(&REQUEST_ID, id);
        }
        router
            .clone()
            .oneshot(request.body(Body::empty()).unwrap())
            .await
            .unwrap()
    }

    #[tokio::test]
    async fn a_panicking_handler_is_a_500_problem_and_the_server_goes_on() {
        let metrics = Arc::new(Metrics::new("test", "test"));
        let router = two_routes(&metrics);
        let r = get_from(&router, "/boom", Some("req-42")).await;
        assert_eq!(r.status(), StatusCode::INTERNAL_SERVER_ERROR);
        assert_eq!(r.headers()[header::CONTENT_TYPE], PROBLEM_JSON);
        assert_eq!(r.headers()[&REQUEST_ID], "req-42");
        assert_eq!(r.headers()[header::X_CONTENT_TYPE_OPTIONS], "nosniff");
        assert_eq!(r.headers()[header::CONTENT_SECURITY_POLICY], CLOSED_CSP);
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

        let r = get_from(&router, "/fine", None).await;
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

    #[tokio::test]
    async fn a_clients_request_id_is_kept_only_when_short_and_plain() {
        let metrics = Arc::new(Metrics::new("test", "test"));
        let router = two_routes(&metrics);
        let long = "a".repeat(MAX_REQUEST_ID);
        for kept in [
            "req-42",
            "0af7651916cd43dd8448eb211c80319c",
            "a.b_c-D",
            &long,
        ] {
            let r = get_from(&router, "/fine", Some(kept)).await;
            assert_eq!(r.headers()[&REQUEST_ID], kept);
        }
        let too_long = "a".repeat(MAX_REQUEST_ID + 1);
        for replaced in [
            "",
            "with space",
            "quote\"d",
            "<script>",
            "semi;colon",
            "tab\there",
            &too_long,
        ] {
            let r = get_from(&router, "/nowhere", Some(replaced)).await;
            let id = r.headers()[&REQUEST_ID].to_str().unwrap().to_owned();
            assert_ne!(id, replaced);
            assert!(uuid::Uuid::parse_str(&id).is_ok(), "{id}");
            let body = axum::body::to_bytes(r.into_body(), usize::MAX)
                .await
                .unwrap();
            let problem: serde_json::Value = serde_json::from_slice(&body).unwrap();
            assert_eq!(problem["request_id"], id.as_str());
        }
        // Without one, each request gets its own.
        let a = get_from(&router, "/fine", None).await;
        let b = get_from(&router, "/fine", None).await;
        assert_ne!(a.headers()[&REQUEST_ID], b.headers()[&REQUEST_ID]);
    }

    /// A log line sink for one test.
    #[derive(Clone, Default)]
    struct Lines(Arc<Mutex<Vec<u8>>>);

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
        tracing::subscriber::with_default(subscriber, || {
            for e in [
                crate::error::ApiError::Overloaded,
                crate::error::ApiError::Internal("boom".into()),
            ] {
                let r = e.into_response();
                let status = r.status().as_u16();
                log(
                    r.extensions(),
                    "req-7",
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

    #[tokio::test]
    async fn the_request_line_names_the_matched_route_and_the_request_id() {
        let lines = Lines::default();
        let sink = lines.clone();
        let subscriber = tracing_subscriber::fmt()
            .json()
            .flatten_event(true)
            .with_writer(move || sink.clone())
            .finish();
        let _default = tracing::subscriber::set_default(subscriber);
        let metrics = Arc::new(Metrics::new("test", "test"));
        let router = two_routes(&metrics);
        get_from(&router, "/fine", Some("req-9")).await;
        let text = String::from_utf8(lines.0.lock().unwrap().clone()).unwrap();
        let line: serde_json::Value = text
            .lines()
            .find_map(|l| serde_json::from_str(l).ok())
            .unwrap_or_else(|| panic!("no request line: {text}"));
        assert_eq!(line["message"], "request completed", "{line}");
        assert_eq!(line["request_id"], "req-9", "{line}");
        assert_eq!(line["method"], "GET", "{line}");
        assert_eq!(line["route"], "/fine", "{line}");
        assert_eq!(line["status"], 200, "{line}");
        assert!(line["latency_ms"].is_number(), "{line}");
        assert_eq!(text.lines().count(), 1, "one line per request: {text}");
    }

    #[test]
    fn standard_methods_by_name_any_other_as_one_label() {
        assert_eq!(method_label(&Method::GET), "GET");
        assert_eq!(method_label(&Method::PATCH), "PATCH");
        for token in ["PURGE", "X-ANYTHING-1", "X-ANYTHING-2"] {
            let custom = Method::from_bytes(token.as_bytes()).unwrap();
            assert_eq!(method_label(&custom), "_OTHER");
        }
    }
}
