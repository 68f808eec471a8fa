//! The process around a role: the build's version, logging and metrics, the shutdown signal,
//! and the run loop that checks the command line's settings and runs the chosen role.

use std::sync::Arc;

use anyhow::Context;
use arcade_telemetry::{LogFormat as TelemetryFormat, Metrics, TelemetryGuard, init_logging};

use crate::app::{self, Application};
use crate::check_config;
use crate::config::{Cli, LogArgs, LogFormat, NotifySettings, ServeSettings, Settings};
use crate::healthcheck;
use crate::notify::NotifyApp;

pub const VERSION: &str = env!("CARGO_PKG_VERSION");

/// The git revision, when the build was given one (`ARCADE_REVISION` at compile time).
pub fn revision() -> &'static str {
    option_env!("ARCADE_REVISION").unwrap_or("unknown")
}

/// A metrics registry labelled with this build (`arcade_build_info`).
pub fn metrics() -> Arc<Metrics> {
    Arc::new(Metrics::new(VERSION, revision()))
}

/// Check the settings of the command line, then run its command. A setting that cannot work
/// stops it here, before any role starts, with the reason.
pub async fn run(cli: Cli) -> anyhow::Result<()> {
    match cli.settings()? {
        Settings::Serve(settings) => {
            let _telemetry = logging(&settings.log)?;
            serve(*settings).await
        }
        Settings::Migrate(settings) => {
            let _telemetry = logging(&settings.log)?;
            app::migrate(&settings).await
        }
        Settings::Notify(settings) => {
            let _telemetry = logging(&settings.log)?;
            notify(*settings).await
        }
        Settings::Backup(settings) => {
            let _telemetry = logging(&settings.log)?;
            app::backup(&settings).await
        }
        Settings::Healthcheck(args) => healthcheck::probe(&args).await,
        Settings::Admin(settings) => crate::admin::run(&settings).await,
        Settings::CheckConfig(role) => {
            let vars: Vec<(String, String)> = std::env::vars().collect();
            let found = check_config::check(role, &vars)
                .map_err(|problems| anyhow::anyhow!("{}", problems.join("; ")))?;
            println!("arcade {}: configuration is valid", role.name());
            for name in found {
                println!("  {name} (set)");
            }
            Ok(())
        }
    }
}

async fn serve(settings: ServeSettings) -> anyhow::Result<()> {
    let app = Application::build(&settings, app::system_clock(), metrics())
        .await
        .context("the server could not start")?;
    let addr = app.local_addr();
    tracing::info!(
        version = VERSION,
        address = %addr,
        "Arcade is serving on http://{addr}/"
    );
    app.run_until(shutdown_signal()).await
}

async fn notify(settings: NotifySettings) -> anyhow::Result<()> {
    let app = NotifyApp::build(&settings, metrics())
        .await
        .context("the notifier could not start")?;
    let addr = app.local_addr();
    tracing::info!(
        version = VERSION,
        address = %addr,
        "notifier health and metrics on http://{addr}/"
    );
    app.run_until(shutdown_signal()).await
}

/// Install logging (and trace export); keep the guard until the command ends so buffered
/// spans are flushed.
fn logging(log: &LogArgs) -> anyhow::Result<TelemetryGuard> {
    let format = match log.log_format {
        LogFormat::Json => TelemetryFormat::Json,
        LogFormat::Pretty => TelemetryFormat::Pretty,
    };
    init_logging(
        format,
        &log.log_level,
        log.otlp_endpoint.as_deref(),
        &log.otel_service_name,
    )
    .map_err(anyhow::Error::msg)
}

/// Resolves on SIGTERM or Ctrl-C.
pub async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {},
        () = term => {},
    }
}
