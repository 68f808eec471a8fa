//! Telemetry shared by every Arcade role: the tracing subscriber (JSON lines or pretty text,
//! plus OpenTelemetry traces over OTLP when configured) and the Prometheus metrics whose names
//! dashboards and alerts rely on.

mod logging;
mod metrics;
mod process;

pub use logging::{LogFormat, TelemetryGuard, init_logging, trace_id};
pub use metrics::{
    ActionLabels, DependencyLabels, FlagLabels, GameLabels, HTTP_DURATION_BUCKETS, HttpLabels,
    KindLabels, METRIC_NAMES, Metrics, OutcomeLabels, RejectLabels, RemovedLabels, RouteLabels,
    TargetLabels, WebhookLabels,
};
