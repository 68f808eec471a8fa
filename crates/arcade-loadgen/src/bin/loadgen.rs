//! `loadgen`: load a local Arcade server like a crowd of players would, and report what it
//! answered and what it cost. See BENCHMARKS.md at the repository root for the runs.

use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{Context as _, bail};
use arcade_loadgen::client::Client;
use arcade_loadgen::players::{self, BurstPlan, Finished, GameLength, GameMix, PlayerPlan};
use arcade_loadgen::procstat::{self, ProcessSummary, Sampler};
use arcade_loadgen::reads::{self, Ranks, Read};
use arcade_loadgen::sse;
use arcade_loadgen::stats::{self, EndpointSummary, Recorder};
use arcade_loadgen::target::Target;
use clap::{Args, Parser, Subcommand};
use serde::Serialize;

#[derive(Debug, Parser)]
#[command(
    name = "loadgen",
    about = "Load a local Arcade server and report latency, rates, errors, RSS and CPU."
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Simulated players, read traffic and idle live connections, for a fixed time.
    Run(RunArgs),
    /// Start many sessions, play them through their windows until their games may end, then
    /// finish them all at once (late, so the server flags them `late_finish`).
    FinishBurst(BurstArgs),
    /// Start a server command, time it until /health/ready answers 200, report its idle RSS.
    ColdStart(ColdStartArgs),
}

#[derive(Debug, Args)]
struct Common {
    /// The server, e.g. http://127.0.0.1:8080 (loopback only).
    #[arg(long, default_value = "http://127.0.0.1:8080")]
    target: String,
    /// Sample this server process's RSS and CPU from /proc/<pid>/.
    #[arg(long)]
    server_pid: Option<u32>,
    /// Also write the report as JSON here.
    #[arg(long)]
    json: Option<std::path::PathBuf>,
    /// Per-request timeout.
    #[arg(long, default_value = "10s", value_parser = humantime::parse_duration)]
    timeout: Duration,
}

#[derive(Debug, Args)]
struct RunArgs {
    #[command(flatten)]
    common: Common,
    /// Measured time (after the warm-up).
    #[arg(long, default_value = "30s", value_parser = humantime::parse_duration)]
    duration: Duration,
    /// Time before measuring starts (players starting, connections opening).
    #[arg(long, default_value = "5s", value_parser = humantime::parse_duration)]
    warmup: Duration,
    /// Concurrent simulated players.
    #[arg(long, default_value_t = 0)]
    players: usize,
    #[arg(long, default_value = "2s", value_parser = humantime::parse_duration)]
    heartbeat: Duration,
    /// Players start spread over this time (default: one heartbeat interval).
    #[arg(long, value_parser = humantime::parse_duration)]
    ramp: Option<Duration>,
    /// Longest game, in seconds of play, before a player finishes it: one length (60) or a
    /// range each game draws from (30..300), which keeps the crowd's finishes out of step.
    #[arg(long, default_value = "60")]
    game_seconds: GameLength,
    #[arg(long, default_value_t = 30)]
    skill_min: u8,
    #[arg(long, default_value_t = 100)]
    skill_max: u8,
    /// What the players play: `egg-catcher`, `2048`, or `all` (each player takes the games in
    /// turn). The leaderboard, game page and live reads ask for the first of them.
    #[arg(long, default_value = "egg-catcher")]
    game: GameMix,
    /// Player names start with this (defaults to one unique to the run).
    #[arg(long)]
    name_prefix: Option<String>,
    /// Top-10 leaderboard requests per second.
    #[arg(long, default_value_t = 0.0)]
    leaderboard_rps: f64,
    /// Player rank requests per second.
    #[arg(long, default_value_t = 0.0)]
    rank_rps: f64,
    /// Ask ranks of seeded players `{rank_prefix}{n}`, n < rank_count (else of simulated
    /// players), on the board the seeder fills (Egg Catcher's).
    #[arg(long, requires = "rank_count")]
    rank_prefix: Option<String>,
    #[arg(long)]
    rank_count: Option<usize>,
    /// Home page requests per second.
    #[arg(long, default_value_t = 0.0)]
    home_rps: f64,
    /// Game page (/play/{game}) requests per second.
    #[arg(long, default_value_t = 0.0)]
    game_page_rps: f64,
    /// Idle live-leaderboard connections (GET /api/events) held open for the run.
    #[arg(long, default_value_t = 0)]
    sse: usize,
}

#[derive(Debug, Args)]
struct BurstArgs {
    #[command(flatten)]
    common: Common,
    #[arg(long, default_value_t = 10_000)]
    sessions: usize,
    /// Longest game, in seconds of play (the bot may lose sooner).
    #[arg(long, default_value_t = 30)]
    game_seconds: u32,
    #[arg(long, default_value_t = 30)]
    skill_min: u8,
    #[arg(long, default_value_t = 100)]
    skill_max: u8,
    /// What the sessions play: `egg-catcher`, `2048`, or `all` (sessions alternate).
    #[arg(long, default_value = "egg-catcher")]
    game: GameMix,
    /// Starts in flight while the games are prepared, then finishes in flight in the burst.
    #[arg(long, default_value_t = 64)]
    concurrency: usize,
    #[arg(long)]
    name_prefix: Option<String>,
}

#[derive(Debug, Args)]
struct ColdStartArgs {
    /// Polled until it answers 200 (loopback only).
    #[arg(long)]
    ready_url: String,
    /// Give up after this.
    #[arg(long, default_value = "10s", value_parser = humantime::parse_duration)]
    limit: Duration,
    /// Idle time after ready before reading the RSS.
    #[arg(long, default_value = "2s", value_parser = humantime::parse_duration)]
    settle: Duration,
    /// The server command and its arguments.
    #[arg(last = true, required = true)]
    command: Vec<String>,
}

#[derive(Debug, Serialize)]
struct Report {
    measured_seconds: f64,
    endpoints: Vec<EndpointSummary>,
    server: Option<ProcessSummary>,
    loadgen: Option<ProcessSummary>,
    #[serde(skip_serializing_if = "Option::is_none")]
    sse_kb_per_connection: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    finishes_per_second: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    game_minutes_replayed_per_second: Option<f64>,
}

impl Report {
    fn print(&self, json: Option<&std::path::Path>) -> anyhow::Result<()> {
        println!("measured {:.1} s", self.measured_seconds);
        print!("{}", stats::table(&self.endpoints));
        for (who, p) in [("server", &self.server), ("loadgen", &self.loadgen)] {
            if let Some(p) = p {
                println!(
                    "{who} pid {}: RSS {:.1} MB -> {:.1} MB (max {:.1}); CPU avg {:.0}%, max {:.0}% (of one core)",
                    p.pid,
                    p.rss_start_mb,
                    p.rss_end_mb,
                    p.rss_max_mb,
                    p.cpu_avg_percent,
                    p.cpu_max_percent
                );
            }
        }
        if let Some(kb) = self.sse_kb_per_connection {
            println!("server memory per idle live connection: {kb:.2} KB");
        }
        if let Some(f) = self.finishes_per_second {
            println!("finishes: {f:.0}/s");
        }
        if let Some(g) = self.game_minutes_replayed_per_second {
            println!("game-minutes replayed: {g:.0}/s");
        }
        if let Some(path) = json {
            std::fs::write(path, serde_json::to_vec_pretty(self)?)
                .with_context(|| format!("cannot write {}", path.display()))?;
        }
        Ok(())
    }
}

fn run_id() -> String {
    let ms = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_millis());
    format!("lg{}x", ms % 100_000_000)
}

async fn run(args: RunArgs) -> anyhow::Result<()> {
    let target = Target::parse(&args.common.target)?;
    let client = Client::new(target.clone(), args.common.timeout);
    let t0 = Instant::now();
    let measure_from = t0 + args.warmup;
    let deadline = measure_from + args.duration;
    let server = args.common.server_pid.map(Sampler::new);
    let me = Sampler::new(std::process::id());
    let mut handles: Vec<tokio::task::JoinHandle<Recorder>> = Vec::new();

    // Idle live connections first, so their memory is measured before anything else runs.
    let mut sse_rec = Recorder::new(t0);
    let mut sse_tasks = Vec::new();
    let mut sse_kb = None;
    let first_game = args.game.first().id();
    if args.sse > 0 {
        let before = args.common.server_pid.and_then(procstat::read);
        for _ in 0..args.sse {
            if let Some(t) = sse::open(
                &target,
                &format!("/api/events?game={first_game}"),
                deadline,
                &mut sse_rec,
            )
            .await
            {
                sse_tasks.push(t);
            }
        }
        tokio::time::sleep(Duration::from_secs(1)).await;
        let after = args.common.server_pid.and_then(procstat::read);
        if let (Some(b), Some(a)) = (before, after)
            && !sse_tasks.is_empty()
        {
            sse_kb = Some((a.rss_kb as f64 - b.rss_kb as f64) / sse_tasks.len() as f64);
        }
    }

    let plan = Arc::new(PlayerPlan {
        name_prefix: args.name_prefix.clone().unwrap_or_else(run_id),
        heartbeat: args.heartbeat,
        game_length: args.game_seconds,
        skill_min: args.skill_min,
        skill_max: args.skill_max.max(args.skill_min),
        games: args.game,
        deadline,
        measure_from,
        finished: Finished::new(args.players),
    });
    let ramp = args.ramp.unwrap_or(args.heartbeat);
    for i in 0..args.players {
        let delay = ramp.mul_f64(i as f64 / args.players as f64);
        handles.push(tokio::spawn(players::play(
            client.clone(),
            plan.clone(),
            i,
            delay,
        )));
    }
    let rank = match (&args.rank_prefix, args.rank_count) {
        (Some(prefix), Some(count)) => Read::Rank(Ranks::Seeded {
            game: arcade_loadgen::seed::GAME,
            prefix: prefix.clone(),
            count,
        }),
        _ if args.players > 0 => Read::Rank(Ranks::Players { plan: plan.clone() }),
        _ if args.rank_rps > 0.0 => {
            bail!("rank reads need --players or --rank-prefix/--rank-count")
        }
        _ => Read::Path {
            label: "rank",
            path: String::new(),
        },
    };
    let path = |label, path: &str| Read::Path {
        label,
        path: path.to_owned(),
    };
    for (read, rps) in [
        (
            path(
                "leaderboard",
                &format!("/api/games/{first_game}/leaderboard?limit=10"),
            ),
            args.leaderboard_rps,
        ),
        (rank, args.rank_rps),
        (path("home", "/"), args.home_rps),
        (
            path("game_page", &format!("/play/{first_game}")),
            args.game_page_rps,
        ),
    ] {
        handles.extend(reads::spawn(
            &target,
            args.common.timeout,
            read,
            rps,
            deadline,
            measure_from,
        ));
    }

    let sampling = deadline;
    let server_sampler = server.map(|s| tokio::spawn(s.run_until(sampling)));
    let me_sampler = tokio::spawn(me.run_until(sampling));

    // Every task stops starting requests at the deadline; in-flight ones get the timeout.
    let mut merged = Recorder::new(measure_from);
    let hard_stop = deadline + args.common.timeout + Duration::from_secs(5);
    for h in handles {
        match tokio::time::timeout_at(hard_stop.into(), h).await {
            Ok(Ok(rec)) => merged.merge(rec),
            Ok(Err(e)) => eprintln!("a load task failed: {e}"),
            Err(_) => eprintln!("a load task did not stop in time"),
        }
    }
    merged.merge(sse_rec);
    for t in sse_tasks {
        t.abort();
    }
    let server = match server_sampler {
        Some(s) => s.await.ok().and_then(|s| s.summary(measure_from)),
        None => None,
    };
    let loadgen = me_sampler.await.ok().and_then(|s| s.summary(measure_from));
    Report {
        measured_seconds: args.duration.as_secs_f64(),
        endpoints: merged.summary(args.duration),
        server,
        loadgen,
        sse_kb_per_connection: sse_kb,
        finishes_per_second: None,
        game_minutes_replayed_per_second: None,
    }
    .print(args.common.json.as_deref())
}

async fn finish_burst(args: BurstArgs) -> anyhow::Result<()> {
    let target = Target::parse(&args.common.target)?;
    let client = Client::new(target, args.common.timeout);
    let server = args.common.server_pid.map(Sampler::new);
    let stop = Arc::new(tokio::sync::Notify::new());
    let sampler = server.map(|mut s| {
        let stop = stop.clone();
        tokio::spawn(async move {
            let mut tick = tokio::time::interval(Duration::from_millis(500));
            loop {
                tokio::select! {
                    _ = tick.tick() => s.sample(),
                    () = stop.notified() => { s.sample(); return s; }
                }
            }
        })
    });
    let plan = BurstPlan {
        name_prefix: args.name_prefix.unwrap_or_else(run_id),
        sessions: args.sessions,
        game_ticks: args.game_seconds.saturating_mul(60),
        skill_min: args.skill_min,
        skill_max: args.skill_max.max(args.skill_min),
        games: args.game,
        concurrency: args.concurrency.max(1),
    };
    let result = players::finish_burst(client, plan).await;
    stop.notify_one();
    let window = result.finish_window;
    let burst_start = Instant::now() - window;
    let server = match sampler {
        Some(s) => s.await.ok().and_then(|s| s.summary(burst_start)),
        None => None,
    };
    let mut all = result.starts.clone();
    all.merge(result.finishes.clone());
    let finishes = result.finishes.summary(window);
    let finished_ok = finishes.iter().map(|f| f.requests - f.errors).sum::<u64>();
    // The starts and the heartbeats that played the games through their windows are not the
    // burst: shown only when some failed.
    let mut endpoints = result.starts.summary(window);
    endpoints.retain(|e| e.errors > 0);
    endpoints.extend(finishes);
    Report {
        measured_seconds: window.as_secs_f64(),
        endpoints,
        server,
        loadgen: None,
        sse_kb_per_connection: None,
        finishes_per_second: Some(finished_ok as f64 / window.as_secs_f64()),
        game_minutes_replayed_per_second: Some(result.game_minutes / window.as_secs_f64()),
    }
    .print(args.common.json.as_deref())
}

async fn cold_start(args: ColdStartArgs) -> anyhow::Result<()> {
    let ready = Target::parse(
        args.ready_url
            .strip_suffix("/health/ready")
            .context("--ready-url ends with /health/ready")?,
    )?;
    let client = Client::new(ready, Duration::from_millis(500));
    let (program, rest) = args.command.split_first().context("a command to start")?;
    let started = Instant::now();
    let mut child = tokio::process::Command::new(program)
        .args(rest)
        .kill_on_drop(true)
        .spawn()
        .with_context(|| format!("cannot start {program}"))?;
    let pid = child.id().context("the server's pid")?;
    let ready_after = loop {
        if started.elapsed() > args.limit {
            bail!("not ready within {:?}", args.limit);
        }
        if let Some(status) = child.try_wait()? {
            bail!("the server exited with {status} before it was ready");
        }
        let answer = client.get("/health/ready").await;
        if answer.status.is_some_and(|s| s.is_success()) {
            break started.elapsed();
        }
        tokio::time::sleep(Duration::from_millis(2)).await;
    };
    let at_ready = procstat::read(pid);
    tokio::time::sleep(args.settle).await;
    let idle = procstat::read(pid);
    println!("ready after {:.1} ms", ready_after.as_secs_f64() * 1000.0);
    if let (Some(r), Some(i)) = (at_ready, idle) {
        println!(
            "RSS at ready {:.1} MB; idle after {:?}: {:.1} MB",
            r.rss_kb as f64 / 1024.0,
            args.settle,
            i.rss_kb as f64 / 1024.0
        );
    }
    child.kill().await?;
    Ok(())
}

fn main() -> anyhow::Result<()> {
    let cli = Cli::parse();
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    runtime.block_on(async {
        match cli.command {
            Command::Run(a) => run(a).await,
            Command::FinishBurst(a) => finish_burst(a).await,
            Command::ColdStart(a) => cold_start(a).await,
        }
    })
}
