//! One subscriber builder for every role.

use tracing_subscriber::EnvFilter;

/// How log lines are written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LogFormat {
    /// One JSON object per line (for log shippers).
    Json,
    /// Coloured, aligned text (for people at a terminal).
    Pretty,
}

/// Install the global subscriber. `filter` uses `RUST_LOG` syntax (e.g. `info,sqlx=warn`).
/// Calling it twice is harmless (tests start several servers in one process).
pub fn init_logging(format: LogFormat, filter: &str) {
    let filter = EnvFilter::try_new(filter).unwrap_or_else(|_| EnvFilter::new("info"));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stdout);
    let _ = match format {
        LogFormat::Json => builder
            .json()
            .flatten_event(true)
            .with_current_span(false)
            .with_span_list(false)
            .with_target(true)
            .try_init(),
        LogFormat::Pretty => builder.pretty().with_target(false).try_init(),
    };
}
