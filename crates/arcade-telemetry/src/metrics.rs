//! Arcade's metrics. The names are a contract with the dashboards and alert rules: see
//! [`METRIC_NAMES`], which a test checks against the `/metrics` output.

use std::borrow::Cow;
use std::collections::HashMap;
use std::hash::BuildHasherDefault;
use std::sync::atomic::AtomicU64;
use std::sync::{PoisonError, RwLock};

use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::encoding::text::encode;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::Histogram;
use prometheus_client::registry::Registry;
use rustc_hash::FxHasher;

use crate::process::ProcessCollector;

/// Request latency buckets in seconds: fine below 25 ms where the API lives, then coarse up to
/// the request timeout. 0.25 s is a bucket boundary so "share under 250 ms" is exact.
pub const HTTP_DURATION_BUCKETS: [f64; 14] = [
    0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0,
];

/// Score buckets: Egg Catcher scores come in tens; a few hundred is a good game.
const SCORE_BUCKETS: [f64; 12] = [
    0.0, 10.0, 50.0, 100.0, 200.0, 300.0, 500.0, 750.0, 1000.0, 1500.0, 2500.0, 5000.0,
];

/// Webhook attempt latency buckets in seconds: Discord and Slack answer in 0.1–1 s; the top
/// buckets catch slow answers up to the broadcaster's request timeout (10 s by default).
const WEBHOOK_DURATION_BUCKETS: [f64; 10] = [0.05, 0.1, 0.25, 0.5, 1.0, 2.0, 3.0, 5.0, 10.0, 30.0];

/// Every metric family name exposed (as it appears in the text format, counters with their
/// `_total` suffix, histograms by their base name).
pub const METRIC_NAMES: &[&str] = &[
    "arcade_http_requests_total",
    "arcade_http_request_duration_seconds",
    "arcade_active_sessions",
    "arcade_sessions_started_total",
    "arcade_sessions_resumed_total",
    "arcade_scores_submitted_total",
    "arcade_score",
    "arcade_replays_rejected_total",
    "arcade_scores_flagged_total",
    "arcade_leaderboard_requests_total",
    "arcade_events_published_total",
    "arcade_outbox_depth",
    "arcade_outbox_oldest_age_seconds",
    "arcade_outbox_relay_failures_total",
    "arcade_webhook_deliveries_total",
    "arcade_webhook_delivery_duration_seconds",
    "arcade_rank_fallbacks_total",
    "arcade_dependency_up",
    "arcade_build_info",
    "arcade_sse_connections",
    "arcade_sse_dropped_total",
    "arcade_requests_refused_total",
    "arcade_admin_actions_total",
    "arcade_review_queue_items",
    "arcade_review_queue_oldest_age_seconds",
    "arcade_retention_removed_total",
    "process_resident_memory_bytes",
    "process_virtual_memory_bytes",
    "process_cpu_seconds_total",
    "process_open_fds",
    "process_threads",
    "process_start_time_seconds",
];

// The labels recorded on every request take `Cow<'static, str>`: a hit on an existing series
// then borrows static names (methods, route templates, game ids) instead of allocating a
// String per label per request only to look the series up. Borrowed and owned values hash
// and compare alike, so both find the same series.

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct HttpLabels {
    pub method: Cow<'static, str>,
    pub route: Cow<'static, str>,
    pub status: u16,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct RouteLabels {
    pub method: Cow<'static, str>,
    pub route: Cow<'static, str>,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct GameLabels {
    pub game: Cow<'static, str>,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct RejectLabels {
    pub game: String,
    pub reason: String,
}

/// The `kind` label of `arcade_retention_removed_total`: `replay` or `score`.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct RemovedLabels {
    pub kind: &'static str,
}

/// The `action` label of `arcade_admin_actions_total`.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct ActionLabels {
    pub action: Cow<'static, str>,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct FlagLabels {
    pub game: Cow<'static, str>,
    pub flag: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct KindLabels {
    pub kind: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct OutcomeLabels {
    pub outcome: Cow<'static, str>,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct WebhookLabels {
    pub target: String,
    pub outcome: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct TargetLabels {
    pub target: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct DependencyLabels {
    pub dependency: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct BuildLabels {
    version: String,
    revision: String,
}

type HistogramFamily<L> = Family<L, Histogram, fn() -> Histogram>;

/// Most distinct (method, route, status) series kept apart from their families; past it (a
/// router has a few dozen routes) a request looks its series up in the families again.
const MAX_HTTP_SERIES: usize = 1024;

/// The counter and the histogram one kind of request updates, as handles into their families
/// (a family's members are shared, so a handle counts in the family itself).
#[derive(Clone, Debug)]
struct HttpSeries {
    requests: Counter,
    duration: Histogram,
}

/// HTTP series by route, then by method and status: found from the matched route's text
/// without building a label set (a family look-up hashes every label with SipHash under the
/// family's lock).
type HttpSeriesCache =
    RwLock<HashMap<Box<str>, Vec<(&'static str, u16, HttpSeries)>, BuildHasherDefault<FxHasher>>>;

/// The registry and every metric family.
#[derive(Debug)]
pub struct Metrics {
    registry: Registry,
    // Private: requests are counted through `record_http`, whose handles must stay the
    // families' own members (nothing prunes these two families).
    http_requests: Family<HttpLabels, Counter>,
    http_duration: HistogramFamily<RouteLabels>,
    pub active_sessions: Family<GameLabels, Gauge>,
    pub sessions_started: Family<GameLabels, Counter>,
    pub sessions_resumed: Family<GameLabels, Counter>,
    pub scores_submitted: Family<GameLabels, Counter>,
    pub score: HistogramFamily<GameLabels>,
    pub replays_rejected: Family<RejectLabels, Counter>,
    pub scores_flagged: Family<FlagLabels, Counter>,
    pub leaderboard_requests: Family<GameLabels, Counter>,
    pub events_published: Family<KindLabels, Counter>,
    pub outbox_depth: Gauge,
    pub outbox_oldest_age: Gauge<f64, AtomicU64>,
    pub outbox_relay_failures: Counter,
    pub webhook_deliveries: Family<WebhookLabels, Counter>,
    pub rank_fallbacks: Family<OutcomeLabels, Counter>,
    pub webhook_duration: HistogramFamily<TargetLabels>,
    pub dependency_up: Family<DependencyLabels, Gauge>,
    pub sse_connections: Gauge,
    pub sse_dropped: Counter,
    pub requests_refused: Counter,
    pub admin_actions: Family<ActionLabels, Counter>,
    pub review_queue_items: Gauge,
    pub review_queue_oldest_age: Gauge<f64, AtomicU64>,
    pub retention_removed: Family<RemovedLabels, Counter>,
    http_series: HttpSeriesCache,
}

fn http_histogram() -> Histogram {
    Histogram::new(HTTP_DURATION_BUCKETS)
}

fn webhook_histogram() -> Histogram {
    Histogram::new(WEBHOOK_DURATION_BUCKETS)
}

fn score_histogram() -> Histogram {
    Histogram::new(SCORE_BUCKETS)
}

impl Metrics {
    /// `version` and `revision` label `arcade_build_info`.
    pub fn new(version: &str, revision: &str) -> Self {
        let mut root = Registry::default();
        root.register_collector(Box::new(ProcessCollector::new()));
        let metrics = Self {
            registry: Registry::default(),
            http_requests: Family::default(),
            http_duration: Family::new_with_constructor(http_histogram as fn() -> Histogram),
            active_sessions: Family::default(),
            sessions_started: Family::default(),
            sessions_resumed: Family::default(),
            scores_submitted: Family::default(),
            score: Family::new_with_constructor(score_histogram as fn() -> Histogram),
            replays_rejected: Family::default(),
            scores_flagged: Family::default(),
            leaderboard_requests: Family::default(),
            events_published: Family::default(),
            outbox_depth: Gauge::default(),
            outbox_oldest_age: Gauge::default(),
            outbox_relay_failures: Counter::default(),
            webhook_deliveries: Family::default(),
            rank_fallbacks: Family::default(),
            http_series: RwLock::default(),
            webhook_duration: Family::new_with_constructor(webhook_histogram as fn() -> Histogram),
            dependency_up: Family::default(),
            sse_connections: Gauge::default(),
            sse_dropped: Counter::default(),
            requests_refused: Counter::default(),
            admin_actions: Family::default(),
            review_queue_items: Gauge::default(),
            review_queue_oldest_age: Gauge::default(),
            retention_removed: Family::default(),
        };
        // Both kinds from start, at zero: a server with a retention that has nothing to remove
        // yet shows it did not.
        for kind in ["replay", "score"] {
            metrics
                .retention_removed
                .get_or_create(&RemovedLabels { kind })
                .inc_by(0);
        }
        let reg = root.sub_registry_with_prefix("arcade");
        reg.register(
            "http_requests",
            "HTTP requests by method (_OTHER for any non-standard one), matched route and status",
            metrics.http_requests.clone(),
        );
        reg.register(
            "http_request_duration_seconds",
            "HTTP request latency by method and matched route",
            metrics.http_duration.clone(),
        );
        reg.register(
            "active_sessions",
            "Game sessions neither finished nor expired",
            metrics.active_sessions.clone(),
        );
        reg.register(
            "sessions_started",
            "Game sessions started",
            metrics.sessions_started.clone(),
        );
        reg.register(
            "sessions_resumed",
            "Game sessions the session store had lost, put back from their tickets",
            metrics.sessions_resumed.clone(),
        );
        reg.register(
            "scores_submitted",
            "Verified scores stored",
            metrics.scores_submitted.clone(),
        );
        reg.register("score", "Verified scores", metrics.score.clone());
        reg.register(
            "replays_rejected",
            "Replays refused, by reason (cheating, or a rules mismatch between client and server)",
            metrics.replays_rejected.clone(),
        );
        reg.register(
            "scores_flagged",
            "Stored scores beyond a human-likeness threshold, by game and flag (kept and ranked, \
             marked for review)",
            metrics.scores_flagged.clone(),
        );
        reg.register(
            "admin_actions",
            "Operator actions stored with their audit record, by action",
            metrics.admin_actions.clone(),
        );
        reg.register(
            "review_queue_items",
            "Flagged scores and players' reports waiting for an operator (every replica reports \
             the shared queue)",
            metrics.review_queue_items.clone(),
        );
        reg.register(
            "review_queue_oldest_age_seconds",
            "How long the oldest item of the review queue has waited (0 when it is empty)",
            metrics.review_queue_oldest_age.clone(),
        );
        reg.register(
            "retention_removed",
            "Replays (kind=replay) and scores (kind=score) the retention removed, as counted by \
             the replica that applied each round",
            metrics.retention_removed.clone(),
        );
        reg.register(
            "leaderboard_requests",
            "Leaderboard and player standing reads",
            metrics.leaderboard_requests.clone(),
        );
        reg.register(
            "events_published",
            "Game events published, by kind",
            metrics.events_published.clone(),
        );
        reg.register(
            "outbox_depth",
            "Events waiting in the outbox for the bus (every replica reports the shared outbox)",
            metrics.outbox_depth.clone(),
        );
        reg.register(
            "outbox_oldest_age_seconds",
            "How long the oldest event in the outbox has waited for the bus",
            metrics.outbox_oldest_age.clone(),
        );
        reg.register(
            "outbox_relay_failures",
            "Rounds of this replica's outbox relay that failed, the bus or the database refusing \
             (the events stay in the outbox and are tried again)",
            metrics.outbox_relay_failures.clone(),
        );
        reg.register(
            "rank_fallbacks",
            "Rank requests the rank cache could not answer: answered by the database, or refused \
             (503) while the database was busy answering others",
            metrics.rank_fallbacks.clone(),
        );
        reg.register(
            "webhook_deliveries",
            "Notification deliveries to webhooks, by target and outcome",
            metrics.webhook_deliveries.clone(),
        );
        reg.register(
            "webhook_delivery_duration_seconds",
            "Webhook delivery attempt latency by target, answered or not",
            metrics.webhook_duration.clone(),
        );
        reg.register(
            "dependency_up",
            "Whether a dependency answered its last check (1) or not (0)",
            metrics.dependency_up.clone(),
        );
        reg.register(
            "sse_connections",
            "Open live-leaderboard streams (server-sent events) on this replica",
            metrics.sse_connections.clone(),
        );
        reg.register(
            "sse_dropped",
            "Live streams closed because the client fell too far behind (it resumes by reconnecting)",
            metrics.sse_dropped.clone(),
        );
        reg.register(
            "requests_refused",
            "API and play requests refused at once (503 overloaded) because as many as \
             ARCADE_MAX_REQUESTS_IN_FLIGHT were already in flight",
            metrics.requests_refused.clone(),
        );
        let build_info: Family<BuildLabels, Gauge> = Family::default();
        build_info
            .get_or_create(&BuildLabels {
                version: version.to_owned(),
                revision: revision.to_owned(),
            })
            .set(1);
        reg.register(
            "build_info",
            "Version and revision of the running build",
            build_info,
        );
        Self {
            registry: root,
            ..metrics
        }
    }

    /// Count a request in `arcade_http_requests_total` and time it in
    /// `arcade_http_request_duration_seconds`. `route` is the matched route's template.
    pub fn record_http(&self, method: &'static str, route: &str, status: u16, seconds: f64) {
        let found =
            |series: &(&'static str, u16, HttpSeries)| series.0 == method && series.1 == status;
        if let Some(series) = self
            .http_series
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .get(route)
            .and_then(|kinds| kinds.iter().find(|s| found(s)))
        {
            series.2.requests.inc();
            series.2.duration.observe(seconds);
            return;
        }
        let series = HttpSeries {
            requests: self
                .http_requests
                .get_or_create(&HttpLabels {
                    method: method.into(),
                    route: Cow::Owned(route.to_owned()),
                    status,
                })
                .clone(),
            duration: self
                .http_duration
                .get_or_create(&RouteLabels {
                    method: method.into(),
                    route: Cow::Owned(route.to_owned()),
                })
                .clone(),
        };
        series.requests.inc();
        series.duration.observe(seconds);
        let mut cache = self
            .http_series
            .write()
            .unwrap_or_else(PoisonError::into_inner);
        let kept: usize = cache.values().map(Vec::len).sum();
        if kept < MAX_HTTP_SERIES {
            let kinds = cache.entry(route.into()).or_default();
            if !kinds.iter().any(found) {
                kinds.push((method, status, series));
            }
        }
    }

    /// The Prometheus text exposition of every metric.
    pub fn encode(&self) -> String {
        let mut out = String::with_capacity(8 * 1024);
        // Writing into a String cannot fail.
        let _ = encode(&mut out, &self.registry);
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The value of the sample line that starts with `series`.
    fn sample(text: &str, series: &str) -> Option<f64> {
        text.lines()
            .find_map(|l| l.strip_prefix(series)?.trim().parse().ok())
    }

    #[test]
    fn a_request_kind_seen_before_counts_in_the_same_series_however_its_route_is_held() {
        let m = Metrics::new("0.1.0", "abc");
        let route = "/api/games/{game}/leaderboard";
        m.record_http("GET", route, 200, 0.0001);
        m.record_http("GET", route, 200, 0.0001);
        // The same text in another allocation, another status.
        let copy = route.to_owned();
        m.record_http("GET", &copy, 200, 0.0001);
        m.record_http("GET", &String::from(route), 200, 0.0001);
        m.record_http("GET", route, 404, 0.0001);
        m.record_http("GET", &copy, 404, 0.0001);
        let text = m.encode();
        let labels = r#"method="GET",route="/api/games/{game}/leaderboard""#;
        assert_eq!(
            sample(
                &text,
                &format!("arcade_http_requests_total{{{labels},status=\"200\"}}")
            ),
            Some(4.0),
            "{text}"
        );
        assert_eq!(
            sample(
                &text,
                &format!("arcade_http_requests_total{{{labels},status=\"404\"}}")
            ),
            Some(2.0),
            "{text}"
        );
        assert_eq!(
            sample(
                &text,
                &format!("arcade_http_request_duration_seconds_count{{{labels}}}")
            ),
            Some(6.0),
            "{text}"
        );
        assert_eq!(
            sample(
                &text,
                &format!("arcade_http_request_duration_seconds_bucket{{le=\"0.0005\",{labels}}}")
            ),
            Some(6.0),
            "{text}"
        );
    }

    #[test]
    fn every_contract_name_appears_once_used() {
        let m = Metrics::new("0.1.0", "abc");
        let g = GameLabels {
            game: "egg-catcher".into(),
        };
        m.record_http("GET", "/", 200, 0.001);
        m.active_sessions.get_or_create(&g).set(1);
        m.sessions_started.get_or_create(&g).inc();
        m.sessions_resumed.get_or_create(&g).inc();
        m.scores_submitted.get_or_create(&g).inc();
        m.score.get_or_create(&g).observe(10.0);
        m.replays_rejected
            .get_or_create(&RejectLabels {
                game: g.game.to_string(),
                reason: "too_fast".into(),
            })
            .inc();
        m.scores_flagged
            .get_or_create(&FlagLabels {
                game: g.game.clone(),
                flag: "fast_reactions".into(),
            })
            .inc();
        // An owned label finds the series a borrowed one made.
        m.leaderboard_requests
            .get_or_create(&GameLabels {
                game: Cow::Owned("egg-catcher".to_owned()),
            })
            .inc();
        assert_eq!(m.leaderboard_requests.get_or_create(&g).get(), 1);
        m.events_published
            .get_or_create(&KindLabels { kind: "x".into() })
            .inc();
        m.admin_actions
            .get_or_create(&ActionLabels {
                action: "player_hidden".into(),
            })
            .inc();
        m.rank_fallbacks
            .get_or_create(&OutcomeLabels {
                outcome: "answered".into(),
            })
            .inc();
        m.webhook_deliveries
            .get_or_create(&WebhookLabels {
                target: "slack".into(),
                outcome: "delivered".into(),
            })
            .inc();
        m.webhook_duration
            .get_or_create(&TargetLabels {
                target: "slack".into(),
            })
            .observe(0.2);
        m.dependency_up
            .get_or_create(&DependencyLabels {
                dependency: "database".into(),
            })
            .set(1);
        let text = m.encode();
        for name in METRIC_NAMES {
            assert!(
                text.lines().any(|l| l.starts_with(name)),
                "{name} missing from:\n{text}"
            );
        }
        assert!(text.contains("arcade_build_info{version=\"0.1.0\",revision=\"abc\"} 1"));
        assert!(
            text.contains(
                "arcade_http_requests_total{method=\"GET\",route=\"/\",status=\"200\"} 1"
            )
        );
        assert!(text.contains("arcade_leaderboard_requests_total{game=\"egg-catcher\"} 1"));
    }
}
