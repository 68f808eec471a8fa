//! `arcade`: serve the arcade, migrate its database, send notifications, or probe a running
//! server.

use clap::Parser;

#[tokio::main]
async fn main() -> std::process::ExitCode {
    let cli = arcade::config::Cli::parse();
    match arcade::runtime::run(cli).await {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            // anyhow's alternate form prints the whole chain of causes on one line.
            eprintln!("arcade: {e:#}");
            std::process::ExitCode::FAILURE
        }
    }
}
