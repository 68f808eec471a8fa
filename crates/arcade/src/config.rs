//! Configuration: one typed struct per concern, from flags or the environment (every flag has
//! an env name), validated before anything starts. `arcade --help` documents every setting.

use std::net::SocketAddr;
use std::num::{NonZeroU32, NonZeroUsize};
use std::path::PathBuf;
use std::time::Duration;

use clap::{Args, Parser, Subcommand, ValueEnum};
use secrecy::{ExposeSecret, SecretString};

/// Arcade: browser games with leaderboards nobody can fake.
///
/// With no command, `arcade` serves (the same as `arcade serve`).
#[derive(Debug, Parser)]
#[command(name = "arcade", version, args_conflicts_with_subcommands = true)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Option<Command>,
    #[command(flatten)]
    pub serve: ServeArgs,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Serve the games, the API, health and metrics over HTTP.
    Serve(Box<ServeArgs>),
    /// Apply database migrations and exit.
    Migrate(MigrateArgs),
    /// Probe a running server's readiness; exit 0 when ready, 1 otherwise.
    Healthcheck(HealthcheckArgs),
    /// Check the environment for a role: every setting valid and every ARCADE_* variable one
    /// the role accepts. Exit 0 when it is, 1 with the reasons otherwise.
    CheckConfig(CheckConfigArgs),
    /// Announce scores and new leaders on Discord and Slack webhooks, from the JetStream
    /// stream (log-only when no webhook is configured).
    Broadcast(crate::broadcast::BroadcastArgs),
}

/// The roles whose environment `check-config` can check.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Role {
    Serve,
    Migrate,
    Broadcast,
}

impl Role {
    pub fn name(self) -> &'static str {
        match self {
            Self::Serve => "serve",
            Self::Migrate => "migrate",
            Self::Broadcast => "broadcast",
        }
    }
}

#[derive(Debug, Clone, Args)]
pub struct CheckConfigArgs {
    /// The role whose settings to check.
    #[arg(value_enum)]
    pub role: Role,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum LogFormat {
    /// One JSON object per line.
    Json,
    /// Human-friendly text.
    Pretty,
}

#[derive(Debug, Clone, Args)]
pub struct LogArgs {
    /// Log line format.
    #[arg(long, env = "ARCADE_LOG_FORMAT", value_enum, default_value = "json")]
    pub log_format: LogFormat,
    /// Log filter, e.g. `info` or `info,arcade_server=debug`.
    #[arg(long, env = "ARCADE_LOG", default_value = "info")]
    pub log_level: String,
    /// OTLP/HTTP collector for traces, e.g. `http://otel-collector:4318`; off when unset.
    #[arg(long, env = "OTEL_EXPORTER_OTLP_ENDPOINT")]
    pub otlp_endpoint: Option<String>,
    /// Service name on exported traces.
    #[arg(long, env = "OTEL_SERVICE_NAME", default_value = "arcade")]
    pub otel_service_name: String,
}

#[derive(Debug, Clone, Args)]
pub struct StorageArgs {
    /// Directory for the embedded SQLite database (used when DATABASE_URL is not set).
    #[arg(long, env = "ARCADE_DATA_DIR", default_value = "./data")]
    pub data_dir: PathBuf,
    /// Database URL; overrides the embedded default: `postgres://USER:PASSWORD@HOST/DB` or
    /// `sqlite:PATH`.
    #[arg(long, env = "DATABASE_URL", hide_env_values = true)]
    pub database_url: Option<SecretString>,
    /// Optional PostgreSQL read replica for histories and board rebuilds.
    #[arg(long, env = "DATABASE_READ_URL", hide_env_values = true)]
    pub database_read_url: Option<SecretString>,
    /// PostgreSQL connections per pool (primary, and replica when set).
    #[arg(long, env = "ARCADE_DATABASE_POOL_SIZE", default_value_t = 10)]
    pub database_pool_size: u32,
    /// How long to wait for a PostgreSQL connection.
    #[arg(long, env = "ARCADE_DATABASE_CONNECT_TIMEOUT", default_value = "3s", value_parser = humantime::parse_duration)]
    pub database_connect_timeout: Duration,
    /// PostgreSQL statement timeout.
    #[arg(long, env = "ARCADE_DATABASE_STATEMENT_TIMEOUT", default_value = "5s", value_parser = humantime::parse_duration)]
    pub database_statement_timeout: Duration,
}

#[derive(Debug, Clone, Args)]
pub struct ServeArgs {
    /// Address to listen on.
    #[arg(long, env = "ARCADE_LISTEN", default_value = "127.0.0.1:8080")]
    pub listen: SocketAddr,
    #[command(flatten)]
    pub storage: StorageArgs,
    #[command(flatten)]
    pub log: LogArgs,
    /// Redis URL for live sessions and the rank index, shared by every replica; without it
    /// they live in this process's memory.
    #[arg(long, env = "REDIS_URL", hide_env_values = true)]
    pub redis_url: Option<SecretString>,
    /// Prefix of every Redis key (lets several deployments share one Redis).
    #[arg(long, env = "ARCADE_REDIS_PREFIX", default_value = "arcade:")]
    pub redis_prefix: String,
    /// NATS URL for game events (JetStream stream ARCADE); without it events stay in process.
    #[arg(long, env = "NATS_URL", hide_env_values = true)]
    pub nats_url: Option<SecretString>,
    /// Notifications straight from this server, for single-binary installs (no NATS): with a
    /// webhook set, scores are announced the way `arcade broadcast` does in a fleet.
    #[command(flatten)]
    pub webhooks: crate::broadcast::WebhookArgs,
    /// How long a game session may last before it expires.
    #[arg(long, env = "ARCADE_SESSION_TTL", default_value = "1h", value_parser = humantime::parse_duration)]
    pub session_ttl: Duration,
    /// Extra time tolerated between a session's claimed ticks and the wall clock.
    #[arg(long, env = "ARCADE_TICK_SLACK", default_value = "3s", value_parser = humantime::parse_duration)]
    pub tick_slack: Duration,
    /// Largest request body accepted, in bytes.
    #[arg(long, env = "ARCADE_MAX_BODY_BYTES", default_value_t = 256 * 1024)]
    pub max_body_bytes: usize,
    /// Requests taking longer than this are answered 503.
    #[arg(long, env = "ARCADE_REQUEST_TIMEOUT", default_value = "10s", value_parser = humantime::parse_duration)]
    pub request_timeout: Duration,
    /// API and play requests in flight at once; more are refused with 503 and Retry-After at
    /// once rather than queued (probes, metrics, pages and cached boards are not counted).
    #[arg(long, env = "ARCADE_MAX_REQUESTS_IN_FLIGHT", default_value = "512")]
    pub max_requests_in_flight: NonZeroUsize,
    /// Session starts allowed per client IP per minute.
    #[arg(long, env = "ARCADE_STARTS_PER_MINUTE", default_value_t = NonZeroU32::new(30).unwrap_or(NonZeroU32::MIN))]
    pub starts_per_minute: NonZeroU32,
    /// Use the first X-Forwarded-For address as the client IP (only behind a trusted proxy).
    #[arg(long, env = "ARCADE_TRUST_FORWARDED_FOR", default_value_t = false)]
    pub trust_forwarded_for: bool,
    /// After SIGTERM, how long readiness reports draining before the listener closes.
    #[arg(long, env = "ARCADE_DRAIN_DELAY", default_value = "2s", value_parser = humantime::parse_duration)]
    pub drain_delay: Duration,
    /// How long in-flight requests may take to finish after the listener closes.
    #[arg(long, env = "ARCADE_SHUTDOWN_TIMEOUT", default_value = "20s", value_parser = humantime::parse_duration)]
    pub shutdown_timeout: Duration,
}

#[derive(Debug, Clone, Args)]
pub struct MigrateArgs {
    #[command(flatten)]
    pub storage: StorageArgs,
    #[command(flatten)]
    pub log: LogArgs,
}

#[derive(Debug, Clone, Args)]
pub struct HealthcheckArgs {
    /// Readiness URL to probe; defaults to /health/ready on ARCADE_LISTEN.
    #[arg(long, env = "ARCADE_HEALTHCHECK_URL")]
    pub url: Option<String>,
    /// The server's listen address, used when --url is not given.
    #[arg(long, env = "ARCADE_LISTEN", default_value = "127.0.0.1:8080")]
    pub listen: SocketAddr,
    /// Give up after this long.
    #[arg(long, default_value = "3s", value_parser = humantime::parse_duration)]
    pub timeout: Duration,
}

/// Where scores are stored.
#[derive(Debug, Clone)]
pub enum Database {
    /// SQLite file `arcade.db` in this directory.
    EmbeddedDir(PathBuf),
    /// A `sqlite:` URL.
    SqliteUrl(SecretString),
    /// PostgreSQL, with an optional read replica.
    Postgres {
        url: SecretString,
        read_url: Option<SecretString>,
    },
}

/// A setting that cannot work, found before start.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error(
        "DATABASE_URL must start with postgres://, postgresql:// or sqlite:; got a URL starting with '{0}'"
    )]
    UnsupportedDatabase(String),
    #[error(
        "REDIS_URL needs a PostgreSQL DATABASE_URL: the Redis rank index is rebuilt from it and replicas must share one database"
    )]
    RedisWithoutPostgres,
    #[error("DATABASE_READ_URL needs a PostgreSQL DATABASE_URL")]
    ReadReplicaWithoutPostgres,
    #[error("{name} must start with {expected}; got a URL starting with '{scheme}'")]
    BadUrl {
        name: &'static str,
        expected: &'static str,
        scheme: String,
    },
    #[error("ARCADE_DATABASE_POOL_SIZE must be between 1 and 1000; got {0}")]
    PoolSize(u32),
    #[error("{name} must be greater than zero")]
    Zero { name: &'static str },
    #[error("ARCADE_MAX_BODY_BYTES must be at least 1024 bytes so a heartbeat fits; got {0}")]
    BodyTooSmall(usize),
}

impl StorageArgs {
    pub fn database(&self) -> Result<Database, ConfigError> {
        match &self.database_url {
            None => Ok(Database::EmbeddedDir(self.data_dir.clone())),
            Some(url) => {
                let raw = url.expose_secret();
                if !(1..=1000).contains(&self.database_pool_size) {
                    return Err(ConfigError::PoolSize(self.database_pool_size));
                }
                if raw.starts_with("postgres://") || raw.starts_with("postgresql://") {
                    if let Some(r) = &self.database_read_url {
                        check_scheme("DATABASE_READ_URL", r, &["postgres://", "postgresql://"])?;
                    }
                    Ok(Database::Postgres {
                        url: url.clone(),
                        read_url: self.database_read_url.clone(),
                    })
                } else if raw.starts_with("sqlite:") {
                    if self.database_read_url.is_some() {
                        return Err(ConfigError::ReadReplicaWithoutPostgres);
                    }
                    Ok(Database::SqliteUrl(url.clone()))
                } else {
                    Err(ConfigError::UnsupportedDatabase(scheme_of(raw)))
                }
            }
        }
    }
}

/// Only the scheme of a URL is ever shown: the rest may hold a password.
fn scheme_of(raw: &str) -> String {
    match raw.split_once(':') {
        // A scheme is short and plain; anything else may be the secret itself.
        Some((scheme, _))
            if !scheme.is_empty()
                && scheme.len() <= 16
                && scheme
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || "+-.".contains(c)) =>
        {
            scheme.to_owned()
        }
        _ => "(no scheme)".to_owned(),
    }
}

fn check_scheme(
    name: &'static str,
    url: &SecretString,
    schemes: &[&'static str],
) -> Result<(), ConfigError> {
    let raw = url.expose_secret();
    if schemes.iter().any(|s| raw.starts_with(s)) {
        Ok(())
    } else {
        Err(ConfigError::BadUrl {
            name,
            expected: schemes[0],
            scheme: scheme_of(raw),
        })
    }
}

impl ServeArgs {
    /// Check settings that clap's types cannot.
    pub fn validate(&self) -> Result<(), ConfigError> {
        self.storage.database()?;
        if let Some(url) = &self.redis_url {
            check_scheme("REDIS_URL", url, &["redis://", "rediss://"])?;
            if !matches!(self.storage.database()?, Database::Postgres { .. }) {
                return Err(ConfigError::RedisWithoutPostgres);
            }
        }
        if let Some(url) = &self.nats_url {
            check_scheme("NATS_URL", url, &["nats://", "tls://", "ws://", "wss://"])?;
        }
        for (name, d) in [
            ("ARCADE_SESSION_TTL", self.session_ttl),
            ("ARCADE_REQUEST_TIMEOUT", self.request_timeout),
        ] {
            if d.is_zero() {
                return Err(ConfigError::Zero { name });
            }
        }
        if self.max_body_bytes < 1024 {
            return Err(ConfigError::BodyTooSmall(self.max_body_bytes));
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::CommandFactory;

    #[test]
    fn the_cli_definition_is_consistent() {
        Cli::command().debug_assert();
    }

    #[test]
    fn no_command_means_serve_with_defaults() {
        let cli = Cli::try_parse_from(["arcade"]).unwrap();
        assert!(cli.command.is_none());
        assert_eq!(cli.serve.listen.to_string(), "127.0.0.1:8080");
        assert_eq!(cli.serve.session_ttl, Duration::from_secs(3600));
        cli.serve.validate().unwrap();
    }

    #[test]
    fn unsupported_database_urls_are_refused_without_echoing_secrets() {
        let cli = Cli::try_parse_from([
            "arcade",
            "serve",
            "--database-url",
            "mysql://root:hunter2@db/arcade",
        ])
        .unwrap();
        let Some(Command::Serve(args)) = cli.command else {
            panic!("expected serve")
        };
        let msg = args.validate().unwrap_err().to_string();
        assert!(msg.contains("'mysql'"), "{msg}");
        assert!(matches!(
            args.storage.database(),
            Err(ConfigError::UnsupportedDatabase(_))
        ));
        assert!(!msg.contains("hunter2"));
        assert!(!format!("{args:?}").contains("hunter2"));
        let cli = Cli::try_parse_from(["arcade", "serve", "--database-url", "hunter2"]).unwrap();
        let Some(Command::Serve(args)) = cli.command else {
            panic!("expected serve")
        };
        let msg = args.validate().unwrap_err().to_string();
        assert!(!msg.contains("hunter2"), "{msg}");
    }
}
