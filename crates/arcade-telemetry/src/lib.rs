//! Telemetry shared by every Arcade role: the tracing subscriber (JSON lines or pretty text)
//! and the Prometheus metrics whose names dashboards and alerts rely on.

mod logging;
mod metrics;
mod process;

pub use logging::{LogFormat, init_logging};
pub use metrics::{
    DependencyLabels, GameLabels, HTTP_DURATION_BUCKETS, HttpLabels, KindLabels, METRIC_NAMES,
    Metrics, RejectLabels, RouteLabels, WebhookLabels,
};
