//! Configuration: every clap struct (one per concern, each flag with an env name) and the one
//! check that turns them into a role's typed settings. `arcade`, every role, and
//! `arcade check-config ROLE` go through [`Cli::settings`], so a setting refused by one is
//! refused by all. `arcade --help` documents every setting.
//!
//! Errors name the setting and never show a secret: of a URL, only [`redact`]'s part is shown.

use std::net::SocketAddr;
use std::num::{NonZeroU32, NonZeroUsize};
use std::path::{Path, PathBuf};
use std::time::Duration;

use arcade_domain::keys::{MIN_SECRET_BYTES, SecretTooShort, SessionSecret};
use arcade_domain::retention::{Retention, RetentionError};
use arcade_domain::session::PlayRules;
use arcade_domain::time::{Calendar, UnknownTimeZone};
use arcade_events::NatsOptions;
use arcade_events::notify::{
    RetryPolicy, Settings as DeliverySettings, Target as WebhookTarget, Webhook,
};
use arcade_oidc::OidcSettings;
use arcade_sessions::{RedisTarget, RedisTargetError, SENTINEL_SCHEME};
use arcade_store::PgSettings;
use clap::{Args, Parser, Subcommand, ValueEnum};
use ipnet::IpNet;
use secrecy::{ExposeSecret, SecretString};

/// Readiness gives each dependency this long to answer (every role that reports readiness).
pub const DEPENDENCY_TIMEOUT: Duration = Duration::from_secs(2);

const POSTGRES_SCHEMES: &[&str] = &["postgres://", "postgresql://"];
// `rediss://` (TLS) is not listed: this build's Redis client has no TLS.
const REDIS_SCHEMES: &[&str] = &["redis://", SENTINEL_SCHEME];
const NATS_SCHEMES: &[&str] = &["nats://", "tls://", "ws://", "wss://"];
const HTTP_SCHEMES: &[&str] = &["https://", "http://"];

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
    /// Copy the embedded SQLite database to a file while the server may be running (an online,
    /// consistent copy). Restore by putting the copy in place as ARCADE_DATA_DIR/arcade.db
    /// while the server is stopped. PostgreSQL is backed up by its own tools instead.
    Backup(BackupArgs),
    /// Operators' commands, run straight on the database (DATABASE_URL, or the embedded one
    /// in ARCADE_DATA_DIR): operator tokens and the audit log. Every change is audited.
    Admin(AdminArgs),
    /// Announce scores and new leaders on Discord and Slack webhooks, from the JetStream
    /// stream (log-only when no webhook is configured).
    // `broadcast` was its name: deployments that run `arcade broadcast` keep working.
    #[command(visible_alias = "broadcast")]
    Notify(Box<NotifyArgs>),
}

/// The roles whose environment `check-config` can check.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Role {
    Serve,
    Migrate,
    #[value(alias = "broadcast")]
    Notify,
    Backup,
}

impl Role {
    /// The role's command name (an alias given on the command line resolves to it).
    pub fn name(self) -> &'static str {
        match self {
            Self::Serve => "serve",
            Self::Migrate => "migrate",
            Self::Notify => "notify",
            Self::Backup => "backup",
        }
    }
}

#[derive(Debug, Clone, Args)]
pub struct CheckConfigArgs {
    /// The role whose settings to check (`broadcast` is accepted for `notify`).
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
    /// PostgreSQL password, given apart from DATABASE_URL and DATABASE_READ_URL (a Secret
    /// key, e.g. the database operator's); used instead of a password in either URL.
    #[arg(long, env = "DATABASE_PASSWORD", hide_env_values = true)]
    pub database_password: Option<SecretString>,
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
    #[command(flatten)]
    pub redis: RedisArgs,
    /// NATS for game events (JetStream stream ARCADE); without NATS_URL events stay in process.
    #[command(flatten)]
    pub nats: NatsArgs,
    /// Notifications straight from this server, for single-binary installs (no NATS): with a
    /// webhook set, scores are announced the way `arcade notify` does in a fleet.
    #[command(flatten)]
    pub webhooks: WebhookArgs,
    /// Operators signing in with an OpenID Connect provider, beside operator tokens.
    #[command(flatten)]
    pub oidc: OidcArgs,
    /// How long a game session may last before it expires.
    #[arg(long, env = "ARCADE_SESSION_TTL", default_value = "1h", value_parser = humantime::parse_duration)]
    pub session_ttl: Duration,
    /// Extra time tolerated between a session's claimed ticks and the wall clock.
    #[arg(long, env = "ARCADE_TICK_SLACK", default_value = "3s", value_parser = humantime::parse_duration)]
    pub tick_slack: Duration,
    /// Most time a game may spend in recorded pauses, all told; beyond it the session is
    /// refused.
    #[arg(long, env = "ARCADE_PAUSE_BUDGET", default_value = "10m", value_parser = humantime::parse_duration)]
    pub pause_budget: Duration,
    /// Secret the seeds of the games' windows of randomness derive from (a secret: 32 bytes or
    /// more, e.g. `openssl rand -hex 32`). Required with REDIS_URL, where every replica must
    /// derive the same seeds and read the same tickets; without it a lone server keeps one in
    /// `session.secret` in its data directory (embedded database) or makes one at start.
    #[arg(long, env = "ARCADE_SESSION_SECRET", hide_env_values = true)]
    pub session_secret: Option<SecretString>,
    /// File holding the session secret (a mounted secret), instead of the value itself.
    #[arg(
        long,
        env = "ARCADE_SESSION_SECRET_FILE",
        conflicts_with = "session_secret"
    )]
    pub session_secret_file: Option<PathBuf>,
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
    /// When the arcade is reached over HTTPS (a proxy in front terminates TLS), send
    /// Strict-Transport-Security with this max-age (e.g. `365d`), so browsers never come back
    /// over plain HTTP. `0s`, the default, sends none.
    #[arg(long, env = "ARCADE_HSTS_MAX_AGE", default_value = "0s", value_parser = humantime::parse_duration)]
    pub hsts_max_age: Duration,
    /// Time zone whose midnight ends a day's board and whose Monday midnight ends a week's, as
    /// an IANA name (e.g. `Europe/Berlin`; daylight saving is followed). Every replica must
    /// have the same. Changing it moves the boundaries of days and weeks from then on: scores
    /// already played stay on the boards they were given.
    #[arg(long, env = "ARCADE_TIME_ZONE", default_value = "UTC")]
    pub time_zone: String,
    /// Session starts allowed per client per minute, a minute's worth at once (IPv6 clients
    /// are counted by their /64). With Redis the count is shared by every replica.
    #[arg(long, env = "ARCADE_STARTS_PER_MINUTE", default_value_t = NonZeroU32::new(30).unwrap_or(NonZeroU32::MIN))]
    pub starts_per_minute: NonZeroU32,
    /// Proxies whose X-Forwarded-For is believed, as addresses or CIDRs separated by commas
    /// (e.g. the ingress controller's pod network, `10.0.0.0/8`). A request from one of them
    /// is counted against the right-most X-Forwarded-For address that is not one of them;
    /// any other request against its own address. Empty: the socket's peer is the client.
    #[arg(long, env = "ARCADE_TRUSTED_PROXIES", value_delimiter = ',', value_parser = parse_proxy)]
    pub trusted_proxies: Vec<IpNet>,
    /// Replaced by --trusted-proxies, which says whose X-Forwarded-For to believe.
    #[arg(long, env = "ARCADE_TRUST_FORWARDED_FOR", hide = true)]
    pub trust_forwarded_for: Option<String>,
    /// Replays of scores older than this are removed (e.g. `90d`); the scores, bests and ranks
    /// stay, and a player's export shows the replay as null. `forever` keeps them.
    #[arg(long, env = "ARCADE_REPLAY_RETENTION", default_value = "forever", value_parser = parse_keep)]
    pub replay_retention: Keep,
    /// Scores older than this leave the players' histories (e.g. `365d`), except each board's
    /// bests (past days and weeks too) and scores waiting for review. At least as long as
    /// --replay-retention. `forever` keeps them.
    #[arg(long, env = "ARCADE_HISTORY_RETENTION", default_value = "forever", value_parser = parse_keep)]
    pub history_retention: Keep,
    /// How often the retention is applied (one replica at a time).
    #[arg(long, default_value = "1h", value_parser = humantime::parse_duration, hide = true)]
    pub retention_interval: Duration,
    /// After SIGTERM, how long readiness reports draining before the listener closes.
    #[arg(long, env = "ARCADE_DRAIN_DELAY", default_value = "2s", value_parser = humantime::parse_duration)]
    pub drain_delay: Duration,
    /// How long in-flight requests may take to finish after the listener closes; the outbox
    /// relay publishes what waits in what is left of it.
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

/// Settings of `arcade backup`.
#[derive(Debug, Clone, Args)]
pub struct BackupArgs {
    #[command(flatten)]
    pub storage: StorageArgs,
    #[command(flatten)]
    pub log: LogArgs,
    /// The copy to write: a file that does not exist yet, or a directory to write
    /// `arcade-YYYYMMDDTHHMMSSZ.db` into.
    #[arg(long, env = "ARCADE_BACKUP_TO")]
    pub to: PathBuf,
}

/// Settings of `arcade admin`.
#[derive(Debug, Clone, Args)]
pub struct AdminArgs {
    #[command(flatten)]
    pub storage: StorageArgs,
    /// The name the audit log gives whoever runs the command, as `cli:NAME` (default: the
    /// USER environment variable).
    #[arg(long = "as", env = "ARCADE_ADMIN_AS")]
    pub actor: Option<String>,
    /// The login running the command, the default of `--as`.
    #[arg(long = "login", env = "USER", hide = true)]
    pub login: Option<String>,
    #[command(subcommand)]
    pub command: AdminCommand,
}

/// What `arcade admin` does.
#[derive(Debug, Clone, Subcommand)]
pub enum AdminCommand {
    /// Operator tokens: create, list, revoke.
    #[command(subcommand)]
    Token(TokenCommand),
    /// Act on a player: hide or show them on the boards, ban or unban them, export what is
    /// kept of them (JSON on stdout) or delete them (`--reason` required).
    #[command(visible_alias = "players")]
    Player {
        #[arg(value_enum)]
        action: PlayerCommand,
        /// The player's name.
        name: String,
        /// Why, for the audit log (required to delete; it must not name the player, as the
        /// audit log keeps it).
        #[arg(long)]
        reason: Option<String>,
        /// With `delete`: keep anyone from claiming the name again (otherwise it is free).
        #[arg(long)]
        block_name: bool,
    },
    /// Rename a player: their token, scores and bests move to the new name.
    Rename {
        /// The player's current name.
        name: String,
        /// The new name.
        to: String,
        /// Keep anyone from claiming the old name again.
        #[arg(long)]
        block_old: bool,
        /// Why, for the audit log.
        #[arg(long)]
        reason: Option<String>,
    },
    /// Remove one score (its session id, as the player's history shows it), with a reason:
    /// the player's bests and ranks are recomputed.
    RemoveScore {
        session_id: String,
        /// Why, for the audit log (required).
        #[arg(long)]
        reason: String,
    },
    /// The name deny list: words and patterns new names may not contain.
    #[command(subcommand)]
    Names(NamesCommand),
    /// The review queue: scores stored with human-likeness flags and players' reports.
    #[command(subcommand)]
    Review(ReviewCommand),
    /// Seasons: named stretches of time with a board per game of the scores played within.
    #[command(subcommand, visible_alias = "seasons")]
    Season(SeasonCommand),
    /// Print the audit log, newest first, one JSON object per line.
    Audit {
        /// Records to print, 1 to 100.
        #[arg(long, default_value_t = 20)]
        limit: i64,
    },
}

/// `arcade admin player ACTION NAME`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum PlayerCommand {
    /// Off every board of every period until shown again.
    Hide,
    /// Back on the boards.
    Unhide,
    /// No more games started under the name.
    Ban,
    /// Games allowed again.
    Unban,
    /// Print everything kept of the player as JSON, as their own export gives it.
    Export,
    /// Erase the player: their scores and replays, bests, sessions, places on the boards,
    /// reports about them and events waiting; audited without the name.
    Delete,
}

/// `arcade admin names ...`.
#[derive(Debug, Clone, Subcommand)]
pub enum NamesCommand {
    /// Add a rule: new names it matches are refused, on every server within moments (names
    /// already claimed are left alone: see `check`). Prints the rule as JSON.
    Add {
        /// A word (written like a name) or, with `--kind pattern`, a regular expression.
        /// Case, look-alikes, spaces, '_' and '-' do not matter.
        value: String,
        #[arg(long, value_enum, default_value_t = NameRuleKindArg::Word)]
        kind: NameRuleKindArg,
        /// Why, for the audit log.
        #[arg(long)]
        reason: Option<String>,
    },
    /// Remove a rule (its id, as `list` prints it).
    Remove {
        id: i64,
        /// Why, for the audit log.
        #[arg(long)]
        reason: Option<String>,
    },
    /// Print the rules, oldest first, one JSON object per line.
    List,
    /// Print every player whose name a rule matches, one JSON object per line.
    Check,
}

/// `arcade admin season ...`.
#[derive(Debug, Clone, Subcommand)]
pub enum SeasonCommand {
    /// Add a season: its boards rank each player's best score achieved from its start
    /// (included) to its end (excluded), before it was added too. Seasons may overlap. Prints
    /// the season as JSON.
    Add {
        /// 1 to 40 lowercase letters, digits or '-': how addresses name it
        /// (`/api/games/GAME/leaderboard?season=SLUG`).
        slug: String,
        /// How the season is shown: one line, 1 to 80 characters.
        #[arg(long)]
        title: String,
        /// When it starts, RFC 3339 (e.g. 2027-06-01T00:00:00Z).
        #[arg(long)]
        start: String,
        /// When it ends, RFC 3339, after the start.
        #[arg(long)]
        end: String,
        /// Why, for the audit log.
        #[arg(long)]
        reason: Option<String>,
    },
    /// Print the seasons, newest first, one JSON object per line.
    List,
    /// Remove a season that is not over yet (a finished season's boards are an archive and
    /// stay).
    Remove {
        slug: String,
        /// Why, for the audit log (required).
        #[arg(long)]
        reason: String,
    },
}

/// What a name rule matches.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum NameRuleKindArg {
    /// A word found anywhere in a name.
    Word,
    /// A regular expression searched for in a name.
    Pattern,
}

/// `arcade admin review ...`.
#[derive(Debug, Clone, Subcommand)]
pub enum ReviewCommand {
    /// Print the items waiting for review, oldest first, one JSON object per line.
    List {
        /// Items to print, 1 to 100.
        #[arg(long, default_value_t = 20)]
        limit: i64,
    },
    /// Resolve an item (as `list` prints it, `score:SESSION` or `report:ID`): it leaves the
    /// queue, and the resolution is audited.
    Resolve {
        item: String,
        #[arg(long, value_enum, default_value_t = ResolutionArg::Dismiss)]
        resolution: ResolutionArg,
        /// Why, for the audit log.
        #[arg(long)]
        reason: Option<String>,
    },
}

/// How a review item is resolved.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ResolutionArg {
    /// Nothing to do.
    Dismiss,
    /// Remove the score (the flagged score, or the score the report names).
    RemoveScore,
    /// Hide the player from the boards.
    HidePlayer,
}

/// `arcade admin token ...`.
#[derive(Debug, Clone, Subcommand)]
pub enum TokenCommand {
    /// Create an operator and print their token: it is shown this once (only its digest is
    /// kept).
    Create {
        /// The operator's name: ASCII letters, digits, '.', '_', '-' or '@'.
        #[arg(long)]
        name: String,
    },
    /// List the operators, revoked ones too.
    List,
    /// Revoke an operator's token: it opens nothing from then on.
    Revoke {
        /// The operator's name.
        name: String,
        /// Why, for the audit log.
        #[arg(long)]
        reason: Option<String>,
    },
}

/// Settings of `arcade notify`.
#[derive(Debug, Clone, Args)]
pub struct NotifyArgs {
    /// Address to serve /health/live, /health/ready and /metrics on.
    #[arg(long, env = "ARCADE_LISTEN", default_value = "127.0.0.1:8080")]
    pub listen: SocketAddr,
    #[command(flatten)]
    pub log: LogArgs,
    /// NATS: the events come from its JetStream stream ARCADE (NATS_URL is required).
    #[command(flatten)]
    pub nats: NatsArgs,
    #[command(flatten)]
    pub webhooks: WebhookArgs,
    /// Name of the durable JetStream consumer: the notifier's place in the stream.
    // The variables and the default keep the worker's former name: a new consumer name would
    // start at new events and lose what the old consumer had not delivered yet.
    #[arg(
        long,
        env = "ARCADE_BROADCAST_CONSUMER",
        default_value = "arcade-broadcaster"
    )]
    pub consumer: String,
    /// Events handed out and not yet acknowledged, at most.
    #[arg(long, env = "ARCADE_BROADCAST_MAX_ACK_PENDING", default_value_t = 1000)]
    pub max_ack_pending: u32,
}

/// Redis for live sessions and the rank index (`serve`).
#[derive(Debug, Clone, Args)]
pub struct RedisArgs {
    /// Redis for live sessions and the rank index, shared by every replica; without it they
    /// live in this process's memory. One server, `redis://[:PASSWORD@]HOST:6379[/DB]`, or the
    /// primary a set of Sentinels names, followed across failovers:
    /// `redis+sentinel://[:PASSWORD@]HOST:26379,HOST:26379,.../SERVICE[/DB]`.
    #[arg(long, env = "REDIS_URL", hide_env_values = true)]
    pub redis_url: Option<SecretString>,
    /// Redis password, given apart from REDIS_URL (a Secret key); used instead of a password
    /// in the URL, for the Sentinels and the servers alike.
    #[arg(long, env = "REDIS_PASSWORD", hide_env_values = true)]
    pub redis_password: Option<SecretString>,
    /// Prefix of every Redis key (lets several deployments share one Redis).
    #[arg(long, env = "ARCADE_REDIS_PREFIX", default_value = "arcade:")]
    pub redis_prefix: String,
}

/// NATS JetStream, shared by `serve` and `notify`.
#[derive(Debug, Clone, Args)]
pub struct NatsArgs {
    /// NATS URL, one server: `nats://[USER:PASSWORD@]HOST:4222` (a user alone is a token).
    #[arg(long, env = "NATS_URL", hide_env_values = true)]
    pub nats_url: Option<SecretString>,
    /// NATS credentials file (`.creds`: a NATS account user's JWT and NKey seed, a mounted
    /// Secret), instead of or besides credentials in NATS_URL.
    #[arg(long, env = "NATS_CREDS")]
    pub nats_creds: Option<PathBuf>,
    /// Copies JetStream keeps of the ARCADE stream: 1 on one server, 3 on a three-node
    /// cluster. An existing stream is changed to this number.
    #[arg(long, env = "ARCADE_NATS_STREAM_REPLICAS", default_value_t = 1)]
    pub nats_stream_replicas: usize,
}

/// An OpenID Connect provider whose tokens open the operators' API (and the console), beside
/// operator tokens: an operator sends the provider's ID or access token as the Bearer token.
#[derive(Debug, Clone, Args)]
pub struct OidcArgs {
    /// The provider's issuer URL, exactly as its tokens' `iss` claim names it (e.g.
    /// https://id.example.org/realms/arcade); its keys are found through
    /// /.well-known/openid-configuration under it. HTTPS, or HTTP on a loopback address.
    #[arg(long, env = "ARCADE_OIDC_ISSUER")]
    pub oidc_issuer: Option<String>,
    /// What the tokens' `aud` claim must hold: the client id Arcade is registered with at the
    /// provider. Required with ARCADE_OIDC_ISSUER.
    #[arg(long, env = "ARCADE_OIDC_AUDIENCE")]
    pub oidc_audience: Option<String>,
    /// The role (or group) an operator's token must hold in ARCADE_OIDC_ROLE_CLAIM. Unset,
    /// every token the provider issues for the audience is an operator's.
    #[arg(long, env = "ARCADE_OIDC_ROLE")]
    pub oidc_role: Option<String>,
    /// The claim listing a token's roles or groups (a list, or words separated by spaces).
    #[arg(long, env = "ARCADE_OIDC_ROLE_CLAIM", default_value = "groups")]
    pub oidc_role_claim: String,
    /// The claim naming the operator in the audit log, as `oidc:NAME` (`sub` when a token
    /// lacks it).
    #[arg(
        long,
        env = "ARCADE_OIDC_NAME_CLAIM",
        default_value = "preferred_username"
    )]
    pub oidc_name_claim: String,
}

impl OidcArgs {
    /// The provider's settings when ARCADE_OIDC_ISSUER is set, checked.
    pub fn settings(&self) -> Result<Option<OidcSettings>, ConfigError> {
        let Some(issuer) = self
            .oidc_issuer
            .as_deref()
            .map(str::trim)
            .filter(|i| !i.is_empty())
        else {
            return Ok(None);
        };
        let issuer = url::Url::parse(issuer).map_err(|source| ConfigError::InvalidUrl {
            name: "ARCADE_OIDC_ISSUER",
            source,
        })?;
        let loopback = match issuer.host() {
            Some(url::Host::Ipv4(ip)) => ip.is_loopback(),
            Some(url::Host::Ipv6(ip)) => ip.is_loopback(),
            Some(url::Host::Domain(d)) => d == "localhost",
            None => false,
        };
        if !(issuer.scheme() == "https" || issuer.scheme() == "http" && loopback)
            || issuer.query().is_some()
            || issuer.fragment().is_some()
        {
            return Err(ConfigError::OidcIssuer);
        }
        let audience = self
            .oidc_audience
            .as_deref()
            .map(str::trim)
            .filter(|a| !a.is_empty())
            .ok_or(ConfigError::OidcAudience)?;
        for (name, claim) in [
            ("ARCADE_OIDC_ROLE_CLAIM", &self.oidc_role_claim),
            ("ARCADE_OIDC_NAME_CLAIM", &self.oidc_name_claim),
        ] {
            if claim.trim().is_empty() {
                return Err(ConfigError::Empty { name });
            }
        }
        Ok(Some(OidcSettings {
            issuer,
            audience: audience.to_owned(),
            name_claim: self.oidc_name_claim.trim().to_owned(),
            role_claim: self.oidc_role_claim.trim().to_owned(),
            role: self
                .oidc_role
                .as_deref()
                .map(str::trim)
                .filter(|r| !r.is_empty())
                .map(str::to_owned),
        }))
    }
}

/// Webhook delivery settings, shared by `arcade notify` and the notifier inside `serve`.
#[derive(Debug, Clone, Args)]
pub struct WebhookArgs {
    /// Discord webhook URL (a secret). Without any webhook the notifier only logs.
    #[arg(long, env = "ARCADE_DISCORD_WEBHOOK_URL", hide_env_values = true)]
    pub discord_webhook_url: Option<SecretString>,
    /// File holding the Discord webhook URL (a mounted secret), instead of the URL itself.
    #[arg(
        long,
        env = "ARCADE_DISCORD_WEBHOOK_URL_FILE",
        conflicts_with = "discord_webhook_url"
    )]
    pub discord_webhook_url_file: Option<PathBuf>,
    /// Slack incoming-webhook URL (a secret).
    #[arg(long, env = "ARCADE_SLACK_WEBHOOK_URL", hide_env_values = true)]
    pub slack_webhook_url: Option<SecretString>,
    /// File holding the Slack webhook URL, instead of the URL itself.
    #[arg(
        long,
        env = "ARCADE_SLACK_WEBHOOK_URL_FILE",
        conflicts_with = "slack_webhook_url"
    )]
    pub slack_webhook_url_file: Option<PathBuf>,
    /// The arcade's public address, for links in messages, e.g. https://arcade.example.com.
    #[arg(long, env = "ARCADE_PUBLIC_URL")]
    pub public_url: Option<String>,
    /// Attempts per message (the first included) before it is parked on arcade.dead.webhook.
    #[arg(long, env = "ARCADE_WEBHOOK_MAX_ATTEMPTS", default_value_t = 5)]
    pub webhook_max_attempts: u32,
    /// Wait after a first failed attempt; doubled after each further one (with jitter).
    #[arg(long, env = "ARCADE_WEBHOOK_RETRY_BASE", default_value = "1s", value_parser = humantime::parse_duration)]
    pub webhook_retry_base: Duration,
    /// Longest wait between attempts, Retry-After included.
    #[arg(long, env = "ARCADE_WEBHOOK_RETRY_MAX", default_value = "30s", value_parser = humantime::parse_duration)]
    pub webhook_retry_max: Duration,
    /// One attempt gives up after this long (and is retried).
    #[arg(long, env = "ARCADE_WEBHOOK_TIMEOUT", default_value = "10s", value_parser = humantime::parse_duration)]
    pub webhook_timeout: Duration,
    /// Messages per minute per webhook; more are folded into one digest sent when allowed.
    #[arg(long, env = "ARCADE_WEBHOOK_PER_MINUTE", default_value_t = 20)]
    pub webhook_per_minute: u32,
    /// Event ids remembered per webhook to drop duplicates.
    #[arg(long, env = "ARCADE_WEBHOOK_DEDUP_WINDOW", default_value_t = 10_000)]
    pub webhook_dedup_window: usize,
}

// ------------------------------------------------------------------------ typed settings

/// A command with its settings checked: what the runtime runs.
#[derive(Debug)]
pub enum Settings {
    Serve(Box<ServeSettings>),
    Migrate(MigrateSettings),
    Notify(Box<NotifySettings>),
    Backup(BackupSettings),
    Healthcheck(HealthcheckArgs),
    CheckConfig(Role),
    Admin(AdminSettings),
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

/// The score store and, for PostgreSQL, its pools.
#[derive(Debug, Clone)]
pub struct StorageSettings {
    pub database: Database,
    pub postgres: PgSettings,
}

/// Redis for live sessions and the rank index.
#[derive(Debug, Clone)]
pub struct RedisSettings {
    /// One server or a Sentinel-watched primary, with its password (never shown).
    pub target: RedisTarget,
    pub prefix: String,
}

/// NATS: where, as whom, and how many copies of the stream.
#[derive(Clone)]
pub struct NatsSettings {
    pub url: SecretString,
    pub creds: Option<PathBuf>,
    pub stream_replicas: usize,
}

impl std::fmt::Debug for NatsSettings {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("NatsSettings")
            .field("url", &self.url)
            .field("creds", &self.creds)
            .field("stream_replicas", &self.stream_replicas)
            .finish()
    }
}

impl NatsSettings {
    /// The event bus adapter's options.
    pub fn options(&self) -> NatsOptions {
        NatsOptions {
            url: self.url.expose_secret().to_owned(),
            creds: self.creds.clone(),
            stream_replicas: self.stream_replicas,
        }
    }
}

/// Everything `serve` runs on.
#[derive(Debug, Clone)]
pub struct ServeSettings {
    pub listen: SocketAddr,
    pub log: LogArgs,
    pub storage: StorageSettings,
    /// Shared sessions and ranks; `None` keeps them in this process's memory.
    pub redis: Option<RedisSettings>,
    /// JetStream for events; `None` keeps them in process.
    pub nats: Option<NatsSettings>,
    /// Notifications sent by the server itself when it has no NATS.
    pub delivery: DeliverySettings,
    /// The identity provider operators may sign in with.
    pub oidc: Option<OidcSettings>,
    pub rules: PlayRules,
    /// Where days and weeks begin.
    pub calendar: Calendar,
    /// What the windows' seeds and the sessions' tickets derive from; `None` for a lone
    /// server with none configured, which keeps one beside its embedded database (or makes one
    /// at start, with another database).
    pub session_secret: Option<SessionSecret>,
    pub max_body_bytes: usize,
    pub request_timeout: Duration,
    pub max_requests_in_flight: NonZeroUsize,
    pub starts_per_minute: NonZeroU32,
    pub trusted_proxies: Vec<IpNet>,
    pub hsts_max_age: Option<Duration>,
    pub drain_delay: Duration,
    pub shutdown_timeout: Duration,
    /// How long replays and histories are kept.
    pub retention: Retention,
    /// How often the retention is applied.
    pub retention_interval: Duration,
}

/// Everything `migrate` runs on.
#[derive(Debug, Clone)]
pub struct MigrateSettings {
    pub log: LogArgs,
    pub storage: StorageSettings,
}

/// Everything `backup` runs on.
#[derive(Debug, Clone)]
pub struct BackupSettings {
    pub log: LogArgs,
    /// The SQLite database to copy (never PostgreSQL).
    pub database: Database,
    pub to: PathBuf,
}

/// Everything `admin` runs on.
#[derive(Debug, Clone)]
pub struct AdminSettings {
    pub storage: StorageSettings,
    /// Who the audit log names: `cli:NAME`.
    pub actor: String,
    pub command: AdminCommand,
}

/// Everything `notify` runs on.
#[derive(Debug, Clone)]
pub struct NotifySettings {
    pub listen: SocketAddr,
    pub log: LogArgs,
    pub nats: NatsSettings,
    pub delivery: DeliverySettings,
    /// Durable consumer name.
    pub consumer: String,
    pub max_ack_pending: NonZeroU32,
}

/// A setting that cannot work, found before start. Shows no secret: of a URL, only what
/// [`redact`] lets through.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error(
        "DATABASE_URL must start with postgres://, postgresql:// or sqlite:; got {}",
        redact(.0.expose_secret())
    )]
    UnsupportedDatabase(SecretString),
    #[error(
        "REDIS_URL needs a PostgreSQL DATABASE_URL: the Redis rank index is rebuilt from it and replicas must share one database"
    )]
    RedisWithoutPostgres,
    #[error("DATABASE_READ_URL needs a PostgreSQL DATABASE_URL")]
    ReadReplicaWithoutPostgres,
    #[error("`arcade notify` needs NATS_URL (the events come from JetStream)")]
    NoNats,
    #[error("ARCADE_ADMIN_AS (or USER): {0}")]
    AdminActor(String),
    #[error("{name} must start with {expected}; got {shown}")]
    BadScheme {
        name: &'static str,
        expected: &'static str,
        /// [`redact`]'s part of the value.
        shown: String,
    },
    #[error("{name} is not a valid URL")]
    InvalidUrl {
        name: &'static str,
        #[source]
        source: url::ParseError,
    },
    #[error("cannot read {name} ({path})")]
    SecretFile {
        name: &'static str,
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("ARCADE_DATABASE_POOL_SIZE must be between 1 and 1000; got {0}")]
    PoolSize(u32),
    #[error("{name} must be greater than zero")]
    Zero { name: &'static str },
    #[error("ARCADE_TIME_ZONE (--time-zone)")]
    TimeZone(#[source] UnknownTimeZone),
    #[error("ARCADE_HISTORY_RETENTION (--history-retention)")]
    Retention(#[source] RetentionError),
    #[error("ARCADE_MAX_BODY_BYTES must be at least 1024 bytes so a heartbeat fits; got {0}")]
    BodyTooSmall(usize),
    #[error("ARCADE_WEBHOOK_RETRY_BASE must not exceed ARCADE_WEBHOOK_RETRY_MAX")]
    RetryOrder,
    #[error("REDIS_URL cannot be used")]
    Redis(#[source] RedisTargetError),
    #[error("NATS_CREDS ({0}) is not a NATS credentials file (a user JWT and an NKey seed)")]
    NatsCreds(PathBuf),
    #[error("ARCADE_NATS_STREAM_REPLICAS must be between 1 and 5 (JetStream's limit); got {0}")]
    StreamReplicas(usize),
    #[error(
        "`arcade backup` copies the embedded SQLite database; back PostgreSQL up with its own tools (the database operator's backups, pg_dump)"
    )]
    BackupOfPostgres,
    #[error(
        "ARCADE_SESSION_SECRET (or ARCADE_SESSION_SECRET_FILE) is required with REDIS_URL: every replica must derive the same seeds for a game's windows"
    )]
    SessionSecretRequired,
    #[error(
        "ARCADE_TRUST_FORWARDED_FOR (--trust-forwarded-for) was replaced by ARCADE_TRUSTED_PROXIES (--trusted-proxies): list the proxies' addresses or CIDRs, e.g. 10.0.0.0/8, and unset the old setting"
    )]
    TrustForwardedFor,
    #[error("ARCADE_SESSION_SECRET must be at least {MIN_SECRET_BYTES} bytes long; it has {0}")]
    SessionSecretTooShort(usize),
    #[error(
        "ARCADE_OIDC_ISSUER must be an https:// URL (http:// only on a loopback address), without a query or fragment"
    )]
    OidcIssuer,
    #[error(
        "ARCADE_OIDC_AUDIENCE is required with ARCADE_OIDC_ISSUER: the client id Arcade is registered with at the provider"
    )]
    OidcAudience,
    #[error("{name} must not be empty")]
    Empty { name: &'static str },
}

/// How long something is kept: a duration, or `forever` (also an empty value, as an unset
/// setting is rendered by Compose).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Keep(pub Option<Duration>);

fn parse_keep(raw: &str) -> Result<Keep, humantime::DurationError> {
    match raw.trim() {
        "" | "forever" => Ok(Keep(None)),
        d => humantime::parse_duration(d).map(|d| Keep(Some(d))),
    }
}

/// A trusted proxy: a CIDR (`10.0.0.0/8`) or one address (`192.0.2.7`, a /32 or /128).
fn parse_proxy(raw: &str) -> Result<IpNet, String> {
    let raw = raw.trim();
    raw.parse::<IpNet>()
        .or_else(|_| raw.parse::<std::net::IpAddr>().map(IpNet::from))
        .map(|net| net.trunc())
        .map_err(|_| format!("'{raw}' is neither an IP address nor a CIDR such as 10.0.0.0/8"))
}

/// What of a URL may be shown: its scheme, when the value starts like a URL (`scheme://`,
/// the scheme short and of scheme characters). Nothing else, ever: the rest may hold a
/// password or a token, and a value that does not start like a URL may be the secret itself.
pub fn redact(raw: &str) -> String {
    match raw.split_once("://") {
        Some((scheme, _))
            if scheme.len() <= 16
                && scheme.starts_with(|c: char| c.is_ascii_alphabetic())
                && scheme
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || "+-.".contains(c)) =>
        {
            format!("a URL starting with '{scheme}'")
        }
        _ => "a value that does not start with scheme://".to_owned(),
    }
}

/// Check a URL setting: one of `schemes`, and a URL the adapters can use. The check parses
/// with `url`, the parser sqlx, redis and async-nats parse their URLs with, so a URL taken
/// here is not refused by them for its form.
fn check_url(name: &'static str, raw: &str, schemes: &[&'static str]) -> Result<(), ConfigError> {
    if !schemes.iter().any(|s| raw.starts_with(s)) {
        return Err(ConfigError::BadScheme {
            name,
            expected: schemes[0],
            shown: redact(raw),
        });
    }
    url::Url::parse(raw)
        .map(drop)
        .map_err(|source| ConfigError::InvalidUrl { name, source })
}

/// NATS_URL: one server (the NATS client takes no list in a string).
fn check_nats_url(url: &SecretString) -> Result<(), ConfigError> {
    check_url("NATS_URL", url.expose_secret(), NATS_SCHEMES)
}

impl NatsArgs {
    /// The NATS settings when NATS_URL is set, checked: the URL, a readable credentials file
    /// (read now, so a missing mount stops the role at start), the stream's copies.
    pub fn settings(&self) -> Result<Option<NatsSettings>, ConfigError> {
        let Some(url) = &self.nats_url else {
            return Ok(None);
        };
        check_nats_url(url)?;
        if let Some(path) = &self.nats_creds {
            let creds = read_secret("NATS_CREDS", path)?;
            let creds = creds.expose_secret();
            if !(creds.contains("BEGIN NATS USER JWT") && creds.contains("BEGIN USER NKEY SEED")) {
                return Err(ConfigError::NatsCreds(path.clone()));
            }
        }
        if !(1..=5).contains(&self.nats_stream_replicas) {
            return Err(ConfigError::StreamReplicas(self.nats_stream_replicas));
        }
        Ok(Some(NatsSettings {
            url: url.clone(),
            creds: self.nats_creds.clone(),
            stream_replicas: self.nats_stream_replicas,
        }))
    }
}

impl RedisArgs {
    /// The Redis settings when REDIS_URL is set, checked: one server's URL as the other URL
    /// settings are, the Sentinel form by the adapter's own parser.
    pub fn settings(&self) -> Result<Option<RedisSettings>, ConfigError> {
        let Some(url) = &self.redis_url else {
            return Ok(None);
        };
        let raw = url.expose_secret();
        if !raw.starts_with(SENTINEL_SCHEME) {
            check_url("REDIS_URL", raw, REDIS_SCHEMES)?;
        }
        let password = self.redis_password.as_ref().map(|p| p.expose_secret());
        let target = RedisTarget::parse(raw, password).map_err(ConfigError::Redis)?;
        Ok(Some(RedisSettings {
            target,
            prefix: self.redis_prefix.clone(),
        }))
    }
}

impl Cli {
    /// The command to run (serve when none is given), its settings checked: the one check of
    /// every role, also run by `check-config`.
    pub fn settings(self) -> Result<Settings, ConfigError> {
        self.command
            .unwrap_or_else(|| Command::Serve(Box::new(self.serve)))
            .settings()
    }
}

impl Command {
    pub fn settings(self) -> Result<Settings, ConfigError> {
        Ok(match self {
            Self::Serve(args) => Settings::Serve(Box::new(args.settings()?)),
            Self::Migrate(args) => Settings::Migrate(args.settings()?),
            Self::Notify(args) => Settings::Notify(Box::new(args.settings()?)),
            Self::Backup(args) => Settings::Backup(args.settings()?),
            Self::Healthcheck(args) => Settings::Healthcheck(args),
            Self::CheckConfig(args) => Settings::CheckConfig(args.role),
            Self::Admin(args) => Settings::Admin(args.settings()?),
        })
    }
}

impl StorageArgs {
    pub fn settings(&self) -> Result<StorageSettings, ConfigError> {
        Ok(StorageSettings {
            database: self.database()?,
            postgres: PgSettings {
                pool_size: self.database_pool_size,
                connect_timeout: self.database_connect_timeout,
                statement_timeout: self.database_statement_timeout,
            },
        })
    }

    fn database(&self) -> Result<Database, ConfigError> {
        let Some(url) = &self.database_url else {
            return Ok(Database::EmbeddedDir(self.data_dir.clone()));
        };
        let raw = url.expose_secret();
        if !(1..=1000).contains(&self.database_pool_size) {
            return Err(ConfigError::PoolSize(self.database_pool_size));
        }
        if POSTGRES_SCHEMES.iter().any(|s| raw.starts_with(s)) {
            check_url("DATABASE_URL", raw, POSTGRES_SCHEMES)?;
            if let Some(read) = &self.database_read_url {
                check_url("DATABASE_READ_URL", read.expose_secret(), POSTGRES_SCHEMES)?;
            }
            let password = self.database_password.as_ref();
            Ok(Database::Postgres {
                url: with_password("DATABASE_URL", url, password)?,
                read_url: self
                    .database_read_url
                    .as_ref()
                    .map(|r| with_password("DATABASE_READ_URL", r, password))
                    .transpose()?,
            })
        } else if raw.starts_with("sqlite:") {
            // sqlx reads a `sqlite:` URL as a path and options, not with a URL parser.
            if self.database_read_url.is_some() {
                return Err(ConfigError::ReadReplicaWithoutPostgres);
            }
            Ok(Database::SqliteUrl(url.clone()))
        } else {
            Err(ConfigError::UnsupportedDatabase(url.clone()))
        }
    }
}

/// `url` with `password` (percent-encoded) in place of its own, when one is given apart.
fn with_password(
    name: &'static str,
    url: &SecretString,
    password: Option<&SecretString>,
) -> Result<SecretString, ConfigError> {
    let Some(password) = password.filter(|p| !p.expose_secret().is_empty()) else {
        return Ok(url.clone());
    };
    let mut parsed = url::Url::parse(url.expose_secret())
        .map_err(|source| ConfigError::InvalidUrl { name, source })?;
    // Only a URL without a host refuses a password, and a PostgreSQL URL for a socket
    // directory (`postgres:///db?host=/run`) has none: it takes PGPASSWORD's place instead.
    if parsed.set_password(Some(password.expose_secret())).is_err() {
        let sep = if parsed.query().is_some() { '&' } else { '?' };
        return Ok(SecretString::from(format!(
            "{}{sep}password={}",
            url.expose_secret(),
            url::form_urlencoded::byte_serialize(password.expose_secret().as_bytes())
                .collect::<String>()
        )));
    }
    Ok(SecretString::from(String::from(parsed)))
}

impl ServeArgs {
    pub fn settings(&self) -> Result<ServeSettings, ConfigError> {
        let storage = self.storage.settings()?;
        let redis = self.redis.settings()?;
        if redis.is_some() && !matches!(storage.database, Database::Postgres { .. }) {
            return Err(ConfigError::RedisWithoutPostgres);
        }
        let nats = self.nats.settings()?;
        for (name, d) in [
            ("ARCADE_SESSION_TTL", self.session_ttl),
            ("ARCADE_REQUEST_TIMEOUT", self.request_timeout),
            ("ARCADE_PAUSE_BUDGET", self.pause_budget),
            ("--retention-interval", self.retention_interval),
            (
                "ARCADE_REPLAY_RETENTION",
                self.replay_retention.0.unwrap_or(Duration::MAX),
            ),
            (
                "ARCADE_HISTORY_RETENTION",
                self.history_retention.0.unwrap_or(Duration::MAX),
            ),
        ] {
            if d.is_zero() {
                return Err(ConfigError::Zero { name });
            }
        }
        if self.max_body_bytes < 1024 {
            return Err(ConfigError::BodyTooSmall(self.max_body_bytes));
        }
        // The old switch believed the first address, which any client can write; turned off
        // it meant what an empty list means now.
        if let Some(old) = &self.trust_forwarded_for
            && !matches!(old.trim(), "" | "false" | "0" | "no")
        {
            return Err(ConfigError::TrustForwardedFor);
        }
        let delivery = self.webhooks.settings()?;
        let oidc = self.oidc.settings()?;
        let session_secret = self.session_secret(redis.is_some())?;
        let calendar = Calendar::parse(self.time_zone.trim()).map_err(ConfigError::TimeZone)?;
        let retention = Retention::new(self.replay_retention.0, self.history_retention.0)
            .map_err(ConfigError::Retention)?;
        Ok(ServeSettings {
            listen: self.listen,
            log: self.log.clone(),
            storage,
            redis,
            nats,
            delivery,
            oidc,
            rules: PlayRules {
                session_ttl: self.session_ttl,
                tick_slack: self.tick_slack,
                pause_budget: self.pause_budget,
                ..PlayRules::default()
            },
            calendar,
            session_secret,
            max_body_bytes: self.max_body_bytes,
            request_timeout: self.request_timeout,
            max_requests_in_flight: self.max_requests_in_flight,
            starts_per_minute: self.starts_per_minute,
            trusted_proxies: self.trusted_proxies.clone(),
            hsts_max_age: (!self.hsts_max_age.is_zero()).then_some(self.hsts_max_age),
            drain_delay: self.drain_delay,
            shutdown_timeout: self.shutdown_timeout,
            retention,
            retention_interval: self.retention_interval,
        })
    }
}

impl ServeArgs {
    /// The session secret, from its value or its file; required when sessions are `shared`
    /// by replicas. An empty value (an unset secret rendered as "") is no secret.
    fn session_secret(&self, shared: bool) -> Result<Option<SessionSecret>, ConfigError> {
        let configured = match (&self.session_secret, &self.session_secret_file) {
            (Some(value), _) => Some(value.clone()),
            (None, Some(path)) => Some(read_secret("ARCADE_SESSION_SECRET_FILE", path)?),
            (None, None) => None,
        };
        match configured.filter(|s| !s.expose_secret().is_empty()) {
            Some(secret) => SessionSecret::new(secret.expose_secret().as_bytes())
                .map(Some)
                .map_err(|SecretTooShort(n)| ConfigError::SessionSecretTooShort(n)),
            None if shared => Err(ConfigError::SessionSecretRequired),
            None => Ok(None),
        }
    }
}

impl MigrateArgs {
    pub fn settings(&self) -> Result<MigrateSettings, ConfigError> {
        Ok(MigrateSettings {
            log: self.log.clone(),
            storage: self.storage.settings()?,
        })
    }
}

impl BackupArgs {
    pub fn settings(&self) -> Result<BackupSettings, ConfigError> {
        let database = self.storage.settings()?.database;
        if matches!(database, Database::Postgres { .. }) {
            return Err(ConfigError::BackupOfPostgres);
        }
        Ok(BackupSettings {
            log: self.log.clone(),
            database,
            to: self.to.clone(),
        })
    }
}

impl AdminArgs {
    pub fn settings(&self) -> Result<AdminSettings, ConfigError> {
        let name = self
            .actor
            .as_deref()
            .or(self.login.as_deref())
            .unwrap_or("operator");
        let name = arcade_domain::admin::OperatorName::parse(name)
            .map_err(|e| ConfigError::AdminActor(e.to_string()))?;
        Ok(AdminSettings {
            storage: self.storage.settings()?,
            actor: format!("cli:{}", name.as_str()),
            command: self.command.clone(),
        })
    }
}

impl NotifyArgs {
    pub fn settings(&self) -> Result<NotifySettings, ConfigError> {
        let nats = self.nats.settings()?.ok_or(ConfigError::NoNats)?;
        let max_ack_pending = NonZeroU32::new(self.max_ack_pending).ok_or(ConfigError::Zero {
            name: "ARCADE_BROADCAST_MAX_ACK_PENDING",
        })?;
        Ok(NotifySettings {
            listen: self.listen,
            log: self.log.clone(),
            nats,
            delivery: self.webhooks.settings()?,
            consumer: self.consumer.clone(),
            max_ack_pending,
        })
    }
}

fn read_secret(name: &'static str, path: &Path) -> Result<SecretString, ConfigError> {
    std::fs::read_to_string(path)
        .map(|s| SecretString::from(s.trim().to_owned()))
        .map_err(|source| ConfigError::SecretFile {
            name,
            path: path.to_owned(),
            source,
        })
}

impl WebhookArgs {
    /// The configured webhooks, reading URL files; empty means log-only.
    pub fn webhooks(&self) -> Result<Vec<Webhook>, ConfigError> {
        let mut hooks = Vec::new();
        for (target, name, url, file, file_name) in [
            (
                WebhookTarget::Discord,
                "ARCADE_DISCORD_WEBHOOK_URL",
                &self.discord_webhook_url,
                &self.discord_webhook_url_file,
                "ARCADE_DISCORD_WEBHOOK_URL_FILE",
            ),
            (
                WebhookTarget::Slack,
                "ARCADE_SLACK_WEBHOOK_URL",
                &self.slack_webhook_url,
                &self.slack_webhook_url_file,
                "ARCADE_SLACK_WEBHOOK_URL_FILE",
            ),
        ] {
            let url = match (url, file) {
                (Some(url), _) => Some(url.clone()),
                (None, Some(path)) => Some(read_secret(file_name, path)?),
                (None, None) => None,
            };
            // An empty value (an unset secret rendered as "") means no webhook.
            if let Some(url) = url.filter(|u| !u.expose_secret().is_empty()) {
                check_url(name, url.expose_secret(), HTTP_SCHEMES)?;
                hooks.push(Webhook { target, url });
            }
        }
        Ok(hooks)
    }

    /// The delivery settings, checked.
    pub fn settings(&self) -> Result<DeliverySettings, ConfigError> {
        let webhooks = self.webhooks()?;
        let public_url = self
            .public_url
            .as_deref()
            .filter(|u| !u.is_empty())
            .map(|u| {
                check_url("ARCADE_PUBLIC_URL", u, HTTP_SCHEMES)
                    .map(|()| u.trim_end_matches('/').to_owned())
            })
            .transpose()?;
        for (name, zero) in [
            (
                "ARCADE_WEBHOOK_MAX_ATTEMPTS",
                self.webhook_max_attempts == 0,
            ),
            ("ARCADE_WEBHOOK_TIMEOUT", self.webhook_timeout.is_zero()),
            ("ARCADE_WEBHOOK_PER_MINUTE", self.webhook_per_minute == 0),
            (
                "ARCADE_WEBHOOK_DEDUP_WINDOW",
                self.webhook_dedup_window == 0,
            ),
        ] {
            if zero {
                return Err(ConfigError::Zero { name });
            }
        }
        if self.webhook_retry_base > self.webhook_retry_max {
            return Err(ConfigError::RetryOrder);
        }
        Ok(DeliverySettings {
            webhooks,
            public_url,
            retry: RetryPolicy {
                max_attempts: self.webhook_max_attempts,
                base: self.webhook_retry_base,
                max: self.webhook_retry_max,
            },
            request_timeout: self.webhook_timeout,
            per_minute: self.webhook_per_minute,
            rate_window: Duration::from_secs(60),
            dedup_window: self.webhook_dedup_window,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::CommandFactory;

    /// A session secret for the tests not about it: REDIS_URL in the environment (as in a run
    /// against the services) asks for one.
    const SECRET: &str = "a test secret of thirty-two bytes or more";

    fn serve(args: &[&str]) -> ServeArgs {
        let mut argv = vec!["arcade", "serve", "--session-secret", SECRET];
        argv.extend_from_slice(args);
        serve_argv(argv)
    }

    /// `serve` with exactly these flags (and the environment).
    fn serve_bare(args: &[&str]) -> ServeArgs {
        let mut argv = vec!["arcade", "serve"];
        argv.extend_from_slice(args);
        serve_argv(argv)
    }

    fn serve_argv(argv: Vec<&str>) -> ServeArgs {
        match Cli::try_parse_from(argv).unwrap().command {
            Some(Command::Serve(a)) => *a,
            _ => unreachable!("the argv names serve"),
        }
    }

    fn notify(args: &[&str]) -> NotifyArgs {
        let mut argv = vec!["arcade", "notify"];
        argv.extend_from_slice(args);
        match Cli::try_parse_from(argv).unwrap().command {
            Some(Command::Notify(a)) => *a,
            _ => unreachable!("the argv names notify"),
        }
    }

    /// The full message of an error, causes included, as `arcade` prints it.
    fn message(e: ConfigError) -> String {
        format!("{:#}", anyhow::Error::from(e))
    }

    #[test]
    fn the_cli_definition_is_consistent() {
        Cli::command().debug_assert();
    }

    #[test]
    fn no_command_means_serve_with_defaults() {
        let cli = Cli::try_parse_from(["arcade", "--session-secret", SECRET]).unwrap();
        assert!(cli.command.is_none());
        assert_eq!(cli.serve.listen.to_string(), "127.0.0.1:8080");
        assert_eq!(cli.serve.session_ttl, Duration::from_secs(3600));
        let Settings::Serve(settings) = cli.settings().unwrap() else {
            panic!("expected serve")
        };
        assert_eq!(settings.rules.session_ttl, Duration::from_secs(3600));
        assert_eq!(settings.rules.pause_budget, Duration::from_secs(600));
    }

    #[test]
    fn broadcast_is_still_the_notifier_on_the_command_line_and_in_check_config() {
        let cli = Cli::try_parse_from(["arcade", "broadcast", "--nats-url", "nats://n:4222"]);
        assert!(matches!(cli.unwrap().command, Some(Command::Notify(_))));
        let cli = Cli::try_parse_from(["arcade", "check-config", "broadcast"]).unwrap();
        assert!(matches!(
            cli.settings().unwrap(),
            Settings::CheckConfig(Role::Notify)
        ));
    }

    #[test]
    fn only_the_scheme_of_a_url_is_ever_shown() {
        for (raw, shown) in [
            (
                "postgres://arcade:hunter2@db:5432/arcade",
                "a URL starting with 'postgres'",
            ),
            (
                "mysql://root:hunter2@db/arcade",
                "a URL starting with 'mysql'",
            ),
            ("hunter2", "a value that does not start with scheme://"),
            // No scheme: the part before the colon is a user name, or the secret.
            (
                "root:hunter2@db",
                "a value that does not start with scheme://",
            ),
            ("hunter2:x", "a value that does not start with scheme://"),
            // Not the shape of a scheme: perhaps a token with `://` inside.
            (
                "hunter2/hunter2://x",
                "a value that does not start with scheme://",
            ),
            (
                "averyveryverylongschemelikesecret://x",
                "a value that does not start with scheme://",
            ),
        ] {
            assert_eq!(redact(raw), shown, "{raw}");
        }
    }

    #[test]
    fn unsupported_database_urls_are_refused_without_echoing_secrets() {
        let args = serve(&["--database-url", "mysql://root:hunter2@db/arcade"]);
        let msg = message(args.settings().unwrap_err());
        assert!(msg.contains("'mysql'"), "{msg}");
        assert!(!msg.contains("hunter2"), "{msg}");
        assert!(!format!("{args:?}").contains("hunter2"));
        assert!(!format!("{:?}", args.settings()).contains("hunter2"));
        let args = serve(&["--database-url", "hunter2"]);
        let msg = message(args.settings().unwrap_err());
        assert!(!msg.contains("hunter2"), "{msg}");
    }

    #[test]
    fn urls_that_the_adapters_would_refuse_are_refused_without_echoing_secrets() {
        let pg = "postgres://u:hunter2@db:5432/arcade";
        for (flags, name) in [
            (
                vec!["--database-url", "postgres://u:hunter2@db:notaport/arcade"],
                "DATABASE_URL",
            ),
            (
                vec!["--database-url", "postgresql://u:hunter2@db:99999/arcade"],
                "DATABASE_URL",
            ),
            (
                vec![
                    "--database-url",
                    pg,
                    "--database-read-url",
                    "postgres://u:hunter2@replica:notaport/arcade",
                ],
                "DATABASE_READ_URL",
            ),
            (
                vec![
                    "--database-url",
                    pg,
                    "--redis-url",
                    "redis://:hunter2@redis:notaport",
                ],
                "REDIS_URL",
            ),
            (
                vec!["--nats-url", "nats://u:hunter2@nats:notaport"],
                "NATS_URL",
            ),
            (
                vec!["--nats-url", "nats://a:4222,nats://u:hunter2@b:notaport"],
                "NATS_URL",
            ),
            (
                vec![
                    "--discord-webhook-url",
                    "https://discord.com:notaport/api/webhooks/1/hunter2",
                ],
                "ARCADE_DISCORD_WEBHOOK_URL",
            ),
        ] {
            let msg = message(serve(&flags).settings().unwrap_err());
            assert!(
                msg.contains(name) && msg.contains("invalid port number"),
                "{flags:?}: {msg}"
            );
            assert!(!msg.contains("hunter2"), "{msg}");
        }
        let msg = message(
            notify(&["--nats-url", "nats://u:hunter2@nats:notaport"])
                .settings()
                .unwrap_err(),
        );
        assert!(msg.contains("NATS_URL"), "{msg}");
        assert!(!msg.contains("hunter2"), "{msg}");
    }

    #[test]
    fn urls_of_every_form_the_adapters_take_are_accepted() {
        for flags in [
            vec!["--database-url", "sqlite::memory:"],
            vec!["--database-url", "sqlite:data/arcade.db?mode=rwc"],
            vec![
                "--database-url",
                "postgres://arcade:s3cret@db.internal:5432/arcade?sslmode=require",
                "--database-read-url",
                "postgresql://arcade@%2Fvar%2Frun%2Fpostgresql/arcade",
                "--redis-url",
                "redis://:s3cret@[::1]:6380/2",
                "--nats-url",
                "tls://nats.internal:4222",
            ],
            vec![
                "--database-url",
                "postgres:///arcade?host=/var/run/postgresql",
            ],
        ] {
            // clap reads REDIS_URL from the environment too, and Redis needs PostgreSQL.
            let sqlite = flags[1].starts_with("sqlite:");
            if sqlite && std::env::var_os("REDIS_URL").is_some() {
                continue;
            }
            serve(&flags).settings().unwrap();
        }
    }

    #[test]
    fn without_webhooks_the_notifier_is_log_only_and_needs_nats() {
        // clap reads NATS_URL from the environment too: only without it is NATS missing.
        if std::env::var_os("NATS_URL").is_none() {
            assert!(matches!(notify(&[]).settings(), Err(ConfigError::NoNats)));
        }
        let settings = notify(&["--nats-url", "nats://127.0.0.1:4222"])
            .settings()
            .unwrap();
        assert!(settings.delivery.webhooks.is_empty());
        assert_eq!(settings.consumer, "arcade-broadcaster");
    }

    #[test]
    fn webhook_urls_come_from_files_and_never_show() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("discord");
        std::fs::write(&path, "https://discord.com/api/webhooks/1/hush-hush\n").unwrap();
        let args = notify(&[
            "--nats-url",
            "nats://n:4222",
            "--discord-webhook-url-file",
            path.to_str().unwrap(),
            "--slack-webhook-url",
            "https://hooks.slack.com/services/T/B/quiet",
            "--public-url",
            "https://arcade.example.com/",
        ]);
        let settings = args.settings().unwrap();
        assert_eq!(settings.delivery.webhooks.len(), 2);
        assert_eq!(
            settings.delivery.webhooks[0].url.expose_secret(),
            "https://discord.com/api/webhooks/1/hush-hush"
        );
        assert_eq!(
            settings.delivery.public_url.as_deref(),
            Some("https://arcade.example.com")
        );
        let shown = format!("{args:?} {settings:?}");
        assert!(
            !shown.contains("hush-hush") && !shown.contains("quiet"),
            "{shown}"
        );
    }

    #[test]
    fn the_time_zone_is_utc_unless_set_and_an_unknown_one_is_refused_by_name() {
        assert_eq!(serve(&[]).settings().unwrap().calendar.name(), "UTC");
        let berlin = serve(&["--time-zone", "Europe/Berlin"]).settings().unwrap();
        assert_eq!(berlin.calendar.name(), "Europe/Berlin");
        let msg = message(
            serve(&["--time-zone", "Europe/Atlantis"])
                .settings()
                .unwrap_err(),
        );
        assert!(
            msg.contains("ARCADE_TIME_ZONE") && msg.contains("Europe/Atlantis"),
            "{msg}"
        );
    }

    #[test]
    fn bad_webhook_settings_are_refused_without_echoing_the_url() {
        let args = notify(&[
            "--nats-url",
            "nats://n:4222",
            "--slack-webhook-url",
            "hooks.slack.com/services/secret",
        ]);
        let msg = message(args.settings().unwrap_err());
        assert!(
            msg.contains("ARCADE_SLACK_WEBHOOK_URL") && !msg.contains("secret"),
            "{msg}"
        );
        let args = notify(&["--nats-url", "nats://n:4222", "--webhook-max-attempts", "0"]);
        assert!(matches!(args.settings(), Err(ConfigError::Zero { .. })));
        let missing = notify(&[
            "--nats-url",
            "nats://n:4222",
            "--discord-webhook-url-file",
            "/nonexistent/discord",
        ]);
        assert!(matches!(
            missing.settings(),
            Err(ConfigError::SecretFile { .. })
        ));
        // `serve` checks the webhooks of its embedded notifier the same way.
        let serve = serve(&["--slack-webhook-url", "hooks.slack.com/services/secret"]);
        let msg = message(serve.settings().unwrap_err());
        assert!(
            msg.contains("ARCADE_SLACK_WEBHOOK_URL") && !msg.contains("secret"),
            "{msg}"
        );
    }

    #[test]
    fn redis_behind_sentinels_takes_its_password_apart_and_never_shows_it() {
        let pg = "postgres://u@db:5432/arcade";
        let args = serve(&[
            "--database-url",
            pg,
            "--redis-url",
            "redis+sentinel://redis-ha-announce-0:26379,redis-ha-announce-1,redis-ha-announce-2/arcade",
            "--redis-password",
            "hunter2",
        ]);
        let settings = args.settings().unwrap();
        let redis = settings.redis.as_ref().unwrap();
        assert!(redis.target.is_sentinel());
        let shown = format!("{args:?} {settings:?}");
        assert!(!shown.contains("hunter2"), "{shown}");
        let broken = serve(&[
            "--database-url",
            pg,
            "--redis-url",
            "redis+sentinel://:hunter2@s:26379",
        ]);
        let msg = message(broken.settings().unwrap_err());
        assert!(
            msg.contains("REDIS_URL") && msg.contains("service") && !msg.contains("hunter2"),
            "{msg}"
        );
    }

    #[test]
    fn a_database_password_given_apart_goes_into_both_urls() {
        let args = serve(&[
            "--database-url",
            "postgresql://app@arcade-db-rw.arcade:5432/app",
            "--database-read-url",
            "postgresql://app@arcade-db-ro.arcade:5432/app",
            "--database-password",
            "p@ss/word",
        ]);
        let settings = args.settings().unwrap();
        let Database::Postgres { url, read_url } = &settings.storage.database else {
            panic!("PostgreSQL")
        };
        assert_eq!(
            url.expose_secret(),
            "postgresql://app:p%40ss%2Fword@arcade-db-rw.arcade:5432/app"
        );
        assert!(
            read_url
                .as_ref()
                .unwrap()
                .expose_secret()
                .starts_with("postgresql://app:p%40ss%2Fword@arcade-db-ro")
        );
        assert!(!format!("{settings:?}").contains("p@ss"));
        // A socket-directory URL has no host to hold it: it goes in as a parameter.
        let args = serve(&[
            "--database-url",
            "postgres:///arcade?host=/run/postgresql",
            "--database-password",
            "p@ss",
        ]);
        let Database::Postgres { url, .. } = args.settings().unwrap().storage.database else {
            panic!("PostgreSQL")
        };
        assert_eq!(
            url.expose_secret(),
            "postgres:///arcade?host=/run/postgresql&password=p%40ss"
        );
    }

    #[test]
    fn nats_credentials_files_and_stream_replicas_are_checked_before_start() {
        let dir = tempfile::tempdir().unwrap();
        let creds = dir.path().join("arcade.creds");
        std::fs::write(
            &creds,
            "-----BEGIN NATS USER JWT-----\neyJ0\n------END NATS USER JWT------\n\n\
             -----BEGIN USER NKEY SEED-----\nSUAHUSH\n------END USER NKEY SEED------\n",
        )
        .unwrap();
        let path = creds.to_str().unwrap();
        let settings = notify(&[
            "--nats-url",
            "nats://nats.nats:4222",
            "--nats-creds",
            path,
            "--nats-stream-replicas",
            "3",
        ])
        .settings()
        .unwrap();
        assert_eq!(settings.nats.stream_replicas, 3);
        assert_eq!(
            settings.nats.options().creds.as_deref(),
            Some(creds.as_path())
        );
        assert!(!format!("{settings:?}").contains("SUAHUSH"));
        std::fs::write(&creds, "SUAHUSH").unwrap();
        let msg = message(
            notify(&["--nats-url", "nats://n:4222", "--nats-creds", path])
                .settings()
                .unwrap_err(),
        );
        assert!(
            msg.contains("NATS_CREDS") && !msg.contains("SUAHUSH"),
            "{msg}"
        );
        for replicas in ["0", "6"] {
            let args = notify(&[
                "--nats-url",
                "nats://n:4222",
                "--nats-stream-replicas",
                replicas,
            ]);
            assert!(matches!(
                args.settings(),
                Err(ConfigError::StreamReplicas(_))
            ));
        }
        let args = serve(&[
            "--nats-url",
            "nats://n:4222",
            "--nats-creds",
            "/nonexistent/creds",
        ]);
        assert!(matches!(
            args.settings(),
            Err(ConfigError::SecretFile { .. })
        ));
    }

    #[test]
    fn replicas_sharing_sessions_need_one_session_secret_that_never_shows() {
        let pg = ["--database-url", "postgres://u:p@db/arcade"];
        let shared = |extra: &[&str]| {
            let mut flags = pg.to_vec();
            flags.extend(["--redis-url", "redis://redis:6379"]);
            flags.extend_from_slice(extra);
            serve_bare(&flags).settings()
        };
        // clap reads the secret from the environment too: only without it is it missing.
        if std::env::var_os("ARCADE_SESSION_SECRET").is_none() {
            assert!(matches!(
                shared(&[]),
                Err(ConfigError::SessionSecretRequired)
            ));
        }
        assert!(matches!(
            shared(&["--session-secret", ""]),
            Err(ConfigError::SessionSecretRequired)
        ));
        let msg = message(shared(&["--session-secret", "hunter2"]).unwrap_err());
        assert!(
            msg.contains("at least 32 bytes") && !msg.contains("hunter2"),
            "{msg}"
        );
        let secret = "correct horse battery staple, hunter2";
        let settings = shared(&["--session-secret", secret]).unwrap();
        assert!(!format!("{settings:?}").contains("hunter2"));
        // From a file, as a mounted secret, the same secret gives the same seeds.
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("session-secret");
        std::fs::write(&path, format!("{secret}\n")).unwrap();
        let from_file = shared(&["--session-secret-file", path.to_str().unwrap()]).unwrap();
        let id = arcade_domain::session::SessionId::random();
        assert_eq!(
            settings.session_secret.unwrap().window_key().seed(id, 3),
            from_file.session_secret.unwrap().window_key().seed(id, 3)
        );
        // A lone server keeps or makes its own (REDIS_URL in the environment would share its
        // sessions).
        if std::env::var_os("REDIS_URL").is_none()
            && std::env::var_os("ARCADE_SESSION_SECRET").is_none()
        {
            let lone = serve_bare(&pg).settings().unwrap();
            assert!(lone.session_secret.is_none());
        }
        assert_eq!(settings.rules.pause_budget, Duration::from_secs(600));
    }
}
