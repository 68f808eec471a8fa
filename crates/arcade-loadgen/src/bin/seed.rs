//! `seed`: load many players with scores into PostgreSQL (COPY) and Redis (the server's own
//! rank index, pipelined), for benchmarks of large boards.

use std::time::Instant;

use anyhow::bail;
use arcade_domain::time::{Clock as _, SystemClock};
use arcade_loadgen::seed;
use clap::Parser;

#[derive(Debug, Parser)]
#[command(
    name = "seed",
    about = "Seed players and scores into a migrated PostgreSQL database and/or Redis."
)]
struct Cli {
    /// A migrated database (`arcade migrate`); players, scores and best scores are COPYed in.
    #[arg(long, env = "DATABASE_URL")]
    database_url: Option<String>,
    /// Redis: the current all-time, day and week boards are loaded through the rank index.
    #[arg(long, env = "REDIS_URL")]
    redis_url: Option<String>,
    /// The server's --redis-prefix.
    #[arg(long, default_value = "arcade:")]
    redis_prefix: String,
    #[arg(long, default_value_t = 1_000_000)]
    players: usize,
    /// Players are named `{prefix}{n}`.
    #[arg(long, default_value = "seed")]
    name_prefix: String,
    /// Every seeded player's token (only its digest is stored).
    #[arg(long, default_value = "seeded-player-token")]
    token: String,
    #[arg(long, default_value_t = 1)]
    rng_seed: u64,
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let cli = Cli::parse();
    if cli.database_url.is_none() && cli.redis_url.is_none() {
        bail!("nothing to seed: give --database-url and/or --redis-url");
    }
    let now = SystemClock.now();
    let started = Instant::now();
    let players = seed::generate(&cli.name_prefix, cli.players, now, cli.rng_seed);
    eprintln!(
        "generated {} players in {:.1?}",
        players.len(),
        started.elapsed()
    );
    if let Some(url) = &cli.database_url {
        let t = Instant::now();
        seed::postgres(url, &players, &cli.token, now).await?;
        eprintln!("PostgreSQL seeded in {:.1?}", t.elapsed());
    }
    if let Some(url) = &cli.redis_url {
        let t = Instant::now();
        seed::redis(url, &cli.redis_prefix, &players, now).await?;
        eprintln!("Redis seeded and read back in {:.1?}", t.elapsed());
    }
    eprintln!("done in {:.1?}", started.elapsed());
    Ok(())
}
