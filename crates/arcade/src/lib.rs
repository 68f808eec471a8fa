//! The `arcade` binary's library: configuration, wiring of concrete adapters, and the
//! `serve`, `migrate` and `healthcheck` commands. The only crate that picks adapters.

pub mod app;
pub mod broadcast;
pub mod check_config;
pub mod config;
pub mod healthcheck;

use anyhow::Context;
use arcade_telemetry::{LogFormat as TelemetryFormat, TelemetryGuard, init_logging};

use crate::config::{Cli, Command, LogArgs};

/// Install logging (and trace export); keep the guard until the command ends so buffered
/// spans are flushed.
fn logging(log: &LogArgs) -> anyhow::Result<TelemetryGuard> {
    let format = match log.log_format {
        config::LogFormat::Json => TelemetryFormat::Json,
        config::LogFormat::Pretty => TelemetryFormat::Pretty,
    };
    init_logging(
        format,
        &log.log_level,
        log.otlp_endpoint.as_deref(),
        &log.otel_service_name,
    )
    .map_err(anyhow::Error::msg)
}

/// Run the command line.
pub async fn run(cli: Cli) -> anyhow::Result<()> {
    match cli.command {
        None => serve(cli.serve).await,
        Some(Command::Serve(args)) => serve(*args).await,
        Some(Command::Migrate(args)) => {
            let _telemetry = logging(&args.log)?;
            let db = args.storage.database()?;
            let store = app::Store::open(&db, &args.storage).await?;
            store.migrate().await?;
            store.close().await;
            tracing::info!("migrations applied");
            Ok(())
        }
        Some(Command::Healthcheck(args)) => healthcheck::probe(&args).await,
        Some(Command::Broadcast(args)) => {
            let _telemetry = logging(&args.log)?;
            broadcast::run(args).await
        }
        Some(Command::CheckConfig(args)) => {
            let vars: Vec<(String, String)> = std::env::vars().collect();
            match check_config::check(args.role, &vars) {
                Ok(found) => {
                    println!("arcade {}: configuration is valid", args.role.name());
                    for name in found {
                        println!("  {name} (set)");
                    }
                    Ok(())
                }
                Err(problems) => {
                    anyhow::bail!("{}", problems.join("; "))
                }
            }
        }
    }
}

async fn serve(args: config::ServeArgs) -> anyhow::Result<()> {
    let _telemetry = logging(&args.log)?;
    let app = app::Application::build(&args, app::system_clock())
        .await
        .context("the server could not start")?;
    let addr = app.local_addr();
    tracing::info!(
        version = app::VERSION,
        address = %addr,
        "Arcade is serving on http://{addr}/"
    );
    app.run_until(app::shutdown_signal()).await
}
