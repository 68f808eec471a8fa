//! `arcade serve`, `arcade migrate` and `arcade backup`: picks the concrete adapters for the
//! settings, builds the server, binds the listener first (so the port is known, even when it
//! was 0) and runs until shutdown; applies the migrations; copies the embedded database.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;
use arcade_domain::keys::SessionSecret;
use arcade_domain::ports::{
    AdminStore, EventBus, NameRuleStore, Observer, Outbox, RankIndex, RateLimit, ScoreStore,
    SeasonStore, SessionStore,
};
use arcade_domain::retention::Retention;
use arcade_domain::service::{Arcade, Ports};
use arcade_domain::time::{Clock, SystemClock};
use arcade_events::{InProcessBus, NatsBus, Relay, RelayHandle};
use arcade_oidc::OidcOperators;
use arcade_server::AppState;
use arcade_server::health::{DependencyCheck, Health};
use arcade_server::limits::HttpSettings;
use arcade_server::observer::MetricsObserver;
use arcade_sessions::{MemoryRankIndex, MemoryRateLimit, MemorySessionStore, RedisBackend};
use arcade_store::{FailoverRankIndex, PostgresStore, SqliteStore};
use arcade_telemetry::Metrics;
use futures::FutureExt;
use secrecy::ExposeSecret;
use tokio::net::{TcpListener, TcpSocket};

use crate::config::{
    BackupSettings, DEPENDENCY_TIMEOUT, Database, MigrateSettings, ServeSettings, StorageSettings,
};

/// Connection backlog: tokio's default of 128 overflows under bursts of new connections and
/// costs one-second SYN retries.
const LISTEN_BACKLOG: u32 = 1024;
/// How often old sessions are forgotten, idle rate-limit entries dropped and the review
/// queue's depth read for the metrics.
const HOUSEKEEPING_EVERY: Duration = Duration::from_secs(30);

/// The configured score store.
#[derive(Clone)]
pub enum Store {
    Sqlite(Arc<SqliteStore>),
    Postgres(Arc<PostgresStore>),
}

impl Store {
    /// Open the store. SQLite is migrated on open (embedded mode owns its schema); PostgreSQL
    /// connects lazily and is migrated only by `arcade migrate`.
    pub async fn open(storage: &StorageSettings) -> anyhow::Result<Self> {
        Ok(match &storage.database {
            Database::EmbeddedDir(dir) => {
                Self::Sqlite(Arc::new(SqliteStore::open_dir(dir).await.with_context(
                    || format!("cannot open the database in {}", dir.display()),
                )?))
            }
            Database::SqliteUrl(url) => Self::Sqlite(Arc::new(
                SqliteStore::open_url(url.expose_secret())
                    .await
                    .context("cannot open the SQLite database given by DATABASE_URL")?,
            )),
            Database::Postgres { url, read_url } => Self::Postgres(Arc::new(
                PostgresStore::connect(
                    url.expose_secret(),
                    read_url.as_ref().map(|r| r.expose_secret()),
                    storage.postgres,
                )
                .context("cannot use DATABASE_URL")?,
            )),
        })
    }

    pub fn backend(&self) -> &'static str {
        match self {
            Self::Sqlite(_) => "sqlite",
            Self::Postgres(_) => "postgres",
        }
    }

    pub fn scores(&self) -> Arc<dyn ScoreStore> {
        match self {
            Self::Sqlite(s) => s.clone(),
            Self::Postgres(s) => s.clone(),
        }
    }

    /// The outbox, in the same database as the scores (a score's event is written with it).
    pub fn outbox(&self) -> Arc<dyn Outbox> {
        match self {
            Self::Sqlite(s) => s.clone(),
            Self::Postgres(s) => s.clone(),
        }
    }

    /// Operators and the audit log, in the same database as the scores.
    pub fn admin(&self) -> Arc<dyn AdminStore> {
        match self {
            Self::Sqlite(s) => s.clone(),
            Self::Postgres(s) => s.clone(),
        }
    }

    /// The name deny list, in the same database as the players.
    pub fn names(&self) -> Arc<dyn NameRuleStore> {
        match self {
            Self::Sqlite(s) => s.clone(),
            Self::Postgres(s) => s.clone(),
        }
    }

    /// Seasons, in the same database as the scores their boards are read from.
    pub fn seasons(&self) -> Arc<dyn SeasonStore> {
        match self {
            Self::Sqlite(s) => s.clone(),
            Self::Postgres(s) => s.clone(),
        }
    }

    pub async fn migrate(&self) -> anyhow::Result<()> {
        if let Self::Postgres(pg) = self {
            pg.migrate()
                .await
                .context("cannot migrate the PostgreSQL database")?;
        }
        Ok(())
    }

    /// Refuse to serve on a schema older than this build expects, and warn about database
    /// settings that make it slow.
    pub async fn ensure_current_schema(&self) -> anyhow::Result<()> {
        if let Self::Postgres(pg) = self {
            let pending = pg
                .pending_migrations()
                .await
                .context("cannot read the database schema version")?;
            if !pending.is_empty() {
                anyhow::bail!(
                    "the database schema is behind this build ({} migration(s) pending: {:?}); run `arcade migrate` first",
                    pending.len(),
                    pending
                );
            }
            // Not fatal: the server runs, more slowly, and says why.
            if let Ok(false) = pg.autovacuum_enabled().await {
                tracing::warn!(
                    "PostgreSQL runs with autovacuum off: tables are never vacuumed or \
                     analyzed, so they bloat and queries are planned without statistics; turn \
                     autovacuum on or VACUUM ANALYZE the database regularly"
                );
            }
        }
        Ok(())
    }

    pub async fn close(&self) {
        match self {
            Self::Sqlite(s) => s.close().await,
            Self::Postgres(s) => s.close().await,
        }
    }
}

/// A built server, bound and ready to run.
pub struct Application {
    listener: TcpListener,
    state: AppState,
    arcade: Arc<Arcade>,
    drain_delay: Duration,
    shutdown_timeout: Duration,
    /// Webhook delivery inside the server (embedded mode with a webhook configured).
    notifier: Option<tokio::task::JoinHandle<()>>,
    /// Moves events from the outbox to the bus.
    relay: RelayHandle,
    retention: Retention,
    retention_interval: Duration,
}

impl Application {
    /// Open the backends `settings` name and bind the listener, reading time from `clock`
    /// and counting in `metrics`.
    pub async fn build(
        settings: &ServeSettings,
        clock: Arc<dyn Clock>,
        metrics: Arc<Metrics>,
    ) -> anyhow::Result<Self> {
        let store = Store::open(&settings.storage).await?;
        store.ensure_current_schema().await?;
        let session_secret = match &settings.session_secret {
            Some(secret) => secret.clone(),
            None => kept_session_secret(&settings.storage.database).await?,
        };
        let scores: Arc<dyn ScoreStore> = store.scores();
        let mut checks = vec![DependencyCheck::required("database", store.backend(), {
            let scores = scores.clone();
            move || {
                let scores = scores.clone();
                async move { scores.ping().await }.boxed()
            }
        })];
        let (sessions, ranks, starts): (
            Arc<dyn SessionStore>,
            Arc<dyn RankIndex>,
            Arc<dyn RateLimit>,
        ) = match (&settings.redis, &store) {
            (Some(redis), Store::Postgres(pg)) => {
                let redis = RedisBackend::open(&redis.target, &redis.prefix)
                    .await
                    .context("cannot connect to Redis (REDIS_URL)")?;
                let sessions: Arc<dyn SessionStore> = Arc::new(redis.sessions());
                checks.push(DependencyCheck::required("redis", "redis", {
                    let sessions = sessions.clone();
                    move || {
                        let sessions = sessions.clone();
                        async move { sessions.ping().await }.boxed()
                    }
                }));
                let ranks = FailoverRankIndex::new(
                    Arc::new(redis.ranks().requiring_loaded()),
                    pg.clone(),
                    scores.clone(),
                    clock.clone(),
                    Arc::new(MetricsObserver::new(metrics.clone())),
                )
                .with_store_answers_at_once(
                    FailoverRankIndex::store_answers_for_pool(settings.storage.postgres.pool_size),
                );
                // Starts are counted across the fleet, so N replicas allow the quota once.
                let starts = Arc::new(redis.rate_limit("starts", settings.starts_per_minute));
                (sessions, Arc::new(ranks), starts)
            }
            _ => (
                Arc::new(MemorySessionStore::new()),
                Arc::new(MemoryRankIndex::new()),
                Arc::new(MemoryRateLimit::per_minute(settings.starts_per_minute)),
            ),
        };
        let events: Arc<dyn EventBus> = match &settings.nats {
            Some(nats) => {
                let nats = Arc::new(
                    NatsBus::connect_with(&nats.options())
                        .await
                        .context("cannot use NATS_URL")?,
                );
                // Play goes on without NATS (events wait in the outbox), so a NATS outage leaves
                // the fleet serving, reported as degraded.
                checks.push(DependencyCheck::optional("nats", "nats", {
                    let nats = nats.clone();
                    move || {
                        let nats = nats.clone();
                        async move { nats.ping().await }.boxed()
                    }
                }));
                nats
            }
            None => Arc::new(InProcessBus::default()),
        };
        // Without NATS there is no `arcade notify` to consume events: deliver them from here.
        let notifier = if settings.nats.is_none() {
            crate::notify::spawn_embedded(events.clone(), &settings.delivery, metrics.clone())?
        } else {
            if !settings.delivery.webhooks.is_empty() {
                tracing::warn!(
                    "webhook settings are ignored by `serve` when NATS_URL is set: run `arcade notify`"
                );
            }
            None
        };
        let in_memory_ranks = settings.redis.is_none();
        let observer: Arc<dyn Observer> = Arc::new(MetricsObserver::new(metrics.clone()));
        // Every replica runs a relay; the outbox the use cases write to wakes this one.
        let relay = Relay::new(store.outbox(), events.clone(), observer.clone());
        let outbox = relay.outbox();
        let relay = relay.spawn();
        let arcade = Arcade::new(
            Ports {
                scores,
                sessions,
                ranks,
                outbox,
                events,
                clock,
                observer,
                starts,
                admin: store.admin(),
                names: store.names(),
                seasons: store.seasons(),
            },
            settings.rules,
            &session_secret,
        )
        .with_calendar(settings.calendar.clone());
        let arcade = Arc::new(match &settings.oidc {
            Some(oidc) => {
                tracing::info!(
                    issuer = oidc.issuer.as_str(),
                    "operators may also sign in with the identity provider"
                );
                arcade.with_operator_identity(Arc::new(
                    OidcOperators::new(oidc.clone())
                        .context("cannot set up the identity provider's client")?,
                ))
            }
            None => arcade,
        });
        let reloaded = arcade
            .reload_name_rules()
            .await
            .context("cannot load the name deny list from the database")?;
        note_reloaded(&reloaded);
        // Boards held in memory start empty: fill them from the database. Redis keeps its
        // boards across restarts and rebuilds a lost one by itself.
        if in_memory_ranks {
            let boards = arcade
                .rebuild_rank_index()
                .await
                .context("cannot load the leaderboards from the database")?;
            tracing::info!(boards, "leaderboards loaded");
        }
        let health = Arc::new(Health::new(checks, DEPENDENCY_TIMEOUT));
        let http = HttpSettings {
            max_body_bytes: settings.max_body_bytes,
            request_timeout: settings.request_timeout,
            max_requests_in_flight: settings.max_requests_in_flight.get(),
            trusted_proxies: settings.trusted_proxies.clone(),
            hsts_max_age: settings.hsts_max_age,
        };
        let state = AppState::new(arcade.clone(), metrics, health, http);
        let listener = bind(settings.listen)?;
        Ok(Self {
            listener,
            state,
            arcade,
            drain_delay: settings.drain_delay,
            shutdown_timeout: settings.shutdown_timeout,
            notifier,
            relay,
            retention: settings.retention,
            retention_interval: settings.retention_interval,
        })
    }

    pub fn local_addr(&self) -> SocketAddr {
        self.listener
            .local_addr()
            .expect("a bound listener has an address")
    }

    pub fn health(&self) -> Arc<Health> {
        self.state.health.clone()
    }

    pub fn arcade(&self) -> Arc<Arcade> {
        self.arcade.clone()
    }

    /// What this server answers with (routes and middleware), for driving it without a
    /// socket. Requests carry their own `ConnectInfo`.
    pub fn router(&self) -> axum::Router {
        arcade_server::app(self.state.clone())
    }

    /// Serve until `shutdown` resolves; then report draining for `drain_delay`, stop
    /// accepting, and give in-flight requests `shutdown_timeout` to finish; the outbox relay
    /// gets what is left of that time to publish what waits.
    pub async fn run_until(
        self,
        shutdown: impl std::future::Future<Output = ()> + Send + 'static,
    ) -> anyhow::Result<()> {
        let health = self.state.health.clone();
        let drain_delay = self.drain_delay;
        let (closing_tx, closing_rx) = tokio::sync::oneshot::channel::<()>();
        let closing_at = Arc::new(std::sync::OnceLock::new());
        let graceful = {
            let closing_at = closing_at.clone();
            async move {
                shutdown.await;
                health.start_draining();
                tracing::info!(
                    drain_ms = drain_delay.as_millis() as u64,
                    "shutdown requested: draining"
                );
                tokio::time::sleep(drain_delay).await;
                let _ = closing_at.set(tokio::time::Instant::now());
                let _ = closing_tx.send(());
            }
        };
        let housekeeping = tokio::spawn(housekeeping(self.state.clone()));
        let moderation = tokio::spawn(follow_moderation(self.state.clone()));
        let name_rules = tokio::spawn(follow_name_rules(self.state.arcade.clone()));
        let retention = self.retention.is_set().then(|| {
            tokio::spawn(apply_retention(
                self.state.clone(),
                self.retention,
                self.retention_interval,
            ))
        });
        // Compressing the pages and scripts takes tens of milliseconds: off the request path
        // and after the listener is up, so neither start-up nor a first visitor waits for it.
        tokio::task::spawn_blocking(arcade_server::assets::precompress);
        let service = self
            .router()
            .into_make_service_with_connect_info::<SocketAddr>();
        let server = axum::serve(self.listener, service).with_graceful_shutdown(graceful);
        let server = tokio::spawn(async move { server.await });
        let shutdown_timeout = self.shutdown_timeout;
        let notifier = self.notifier;
        let result = tokio::select! {
            r = server => r.context("the server task failed")?.context("the server failed"),
            () = async {
                let _ = closing_rx.await;
                tokio::time::sleep(shutdown_timeout).await;
            } => {
                tracing::warn!("in-flight requests did not finish in time; exiting anyway");
                Ok(())
            }
        };
        housekeeping.abort();
        moderation.abort();
        name_rules.abort();
        if let Some(r) = retention {
            r.abort();
        }
        let left = closing_at.get().map_or(shutdown_timeout, |closing| {
            (*closing + shutdown_timeout).saturating_duration_since(tokio::time::Instant::now())
        });
        self.relay.drain(left).await;
        if let Some(n) = notifier {
            n.abort();
        }
        tracing::info!("stopped");
        result
    }
}

fn bind(addr: SocketAddr) -> anyhow::Result<TcpListener> {
    let socket = if addr.is_ipv4() {
        TcpSocket::new_v4()
    } else {
        TcpSocket::new_v6()
    }?;
    socket.set_reuseaddr(true)?;
    socket
        .bind(addr)
        .with_context(|| format!("cannot listen on {addr} (is another server using it?)"))?;
    Ok(socket.listen(LISTEN_BACKLOG)?)
}

async fn housekeeping(state: AppState) {
    let mut tick = tokio::time::interval(HOUSEKEEPING_EVERY);
    loop {
        tick.tick().await;
        if let Err(e) = state.arcade.purge_sessions().await {
            tracing::warn!(error = %e, "session housekeeping failed");
        }
        match state.arcade.review_depth().await {
            Ok(depth) => {
                let now = state.arcade.now();
                state
                    .metrics
                    .review_queue_items
                    .set(i64::try_from(depth.items).unwrap_or(i64::MAX));
                let age = depth.oldest_at.map_or(0, |at| now.millis_since(at));
                #[allow(clippy::cast_precision_loss)]
                state
                    .metrics
                    .review_queue_oldest_age
                    .set(age as f64 / 1000.0);
            }
            Err(e) => tracing::warn!(
                error = %arcade_domain::error::report(&e),
                "the review queue's depth could not be read"
            ),
        }
        // In case a change's event never reached this replica (the bus was down).
        if let Err(e) = state.arcade.reload_name_rules().await {
            tracing::warn!(
                error = %arcade_domain::error::report(&e),
                "the name deny list could not be reloaded; the one loaded before stays in force"
            );
        }
    }
}

/// Applies the retention every `every`, from start. On PostgreSQL one replica at a time
/// applies a round (the store's advisory lock); the others leave it and try again next time.
async fn apply_retention(state: AppState, retention: Retention, every: Duration) {
    use arcade_telemetry::RemovedLabels;
    let mut tick = tokio::time::interval(every);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tick.tick().await;
        match state.arcade.apply_retention(&retention).await {
            Ok(Some(report)) => {
                for (kind, removed) in [("replay", report.replays), ("score", report.scores)] {
                    state
                        .metrics
                        .retention_removed
                        .get_or_create(&RemovedLabels { kind })
                        .inc_by(removed);
                }
                tracing::info!(
                    replays = report.replays,
                    scores = report.scores,
                    "retention applied"
                );
            }
            Ok(None) => tracing::info!("retention left to the replica applying it"),
            Err(e) => tracing::warn!(
                error = %arcade_domain::error::report(&e),
                "the retention could not be applied; it is tried again next round"
            ),
        }
    }
}

/// Changes of the name deny list, from any replica or the command line, reach every replica
/// on the bus: each reloads the list from the database.
async fn follow_name_rules(arcade: Arc<Arcade>) {
    use futures::StreamExt;
    let mut events = arcade.ports().events.subscribe();
    while let Some(event) = events.next().await {
        if event.kind != arcade_domain::event::EventKind::NameRulesChanged {
            continue;
        }
        let mut wait = MODERATION_RETRY_FIRST;
        for attempt in 1..=MODERATION_ATTEMPTS {
            match arcade.reload_name_rules().await {
                Ok(reloaded) => {
                    note_reloaded(&reloaded);
                    break;
                }
                Err(e) if attempt < MODERATION_ATTEMPTS => {
                    tracing::debug!(
                        error = %arcade_domain::error::report(&e),
                        attempt,
                        "the name deny list could not be reloaded yet; trying again"
                    );
                    tokio::time::sleep(wait).await;
                    wait *= 2;
                }
                Err(e) => tracing::warn!(
                    error = %arcade_domain::error::report(&e),
                    "the name deny list could not be reloaded; it is at the next housekeeping"
                ),
            }
        }
    }
}

/// Logs a reload of the name deny list, and every stored rule this build refuses.
fn note_reloaded(reloaded: &arcade_domain::service::Reloaded) {
    for (id, e) in &reloaded.refused {
        tracing::warn!(rule = id, error = %e, "a stored name rule is left out of the deny list");
    }
    tracing::debug!(rules = reloaded.rules, "name deny list loaded");
}

/// Operators' changes, from any replica or the command line, reach every replica on the bus:
/// each brings the player's entries in its rank index up to date, then drops its cached pages
/// of the game (its live pages were told to reload by the live feed).
async fn follow_moderation(state: AppState) {
    use futures::StreamExt;
    let mut events = state.arcade.ports().events.subscribe();
    while let Some(event) = events.next().await {
        if !event.kind.is_moderation() {
            continue;
        }
        // A refresh takes the player off and puts their best back: one that fails between the
        // two (the database busy a moment) is tried again, or the player would stay off.
        let mut wait = MODERATION_RETRY_FIRST;
        for attempt in 1..=MODERATION_ATTEMPTS {
            match state.arcade.apply_moderation(&event).await {
                Ok(_) => {
                    state.boards.invalidate(&event.game);
                    break;
                }
                Err(e) if attempt < MODERATION_ATTEMPTS => {
                    tracing::debug!(
                        error = %arcade_domain::error::report(&e),
                        attempt,
                        "an operator's change could not be applied yet; trying again"
                    );
                    tokio::time::sleep(wait).await;
                    wait *= 2;
                }
                Err(e) => tracing::warn!(
                    error = %arcade_domain::error::report(&e),
                    kind = event.kind.as_str(),
                    game = %event.game,
                    "an operator's change did not reach this replica's boards; it reaches them \
                     at the next rebuild or when the change is made again"
                ),
            }
        }
    }
}

/// Tries of an operator's change on this replica's boards, the first wait between them
/// doubling each time (about six seconds in all).
const MODERATION_ATTEMPTS: u32 = 5;
const MODERATION_RETRY_FIRST: Duration = Duration::from_millis(400);

/// The real clock, for the binary.
pub fn system_clock() -> Arc<dyn Clock> {
    Arc::new(SystemClock)
}

/// Apply the migrations the store needs (PostgreSQL; SQLite migrates itself on open).
pub async fn migrate(settings: &MigrateSettings) -> anyhow::Result<()> {
    let store = Store::open(&settings.storage).await?;
    store.migrate().await?;
    store.close().await;
    tracing::info!("migrations applied");
    Ok(())
}

/// Copy the embedded SQLite database to `settings.to` (a file, or a directory to put a
/// time-stamped file in) while a server may be using it.
pub async fn backup(settings: &BackupSettings) -> anyhow::Result<()> {
    let dest = if settings.to.is_dir() {
        let stamp = humantime::format_rfc3339_seconds(std::time::SystemTime::now())
            .to_string()
            .replace(['-', ':'], "");
        settings.to.join(format!("arcade-{stamp}.db"))
    } else {
        settings.to.clone()
    };
    match &settings.database {
        Database::EmbeddedDir(dir) => SqliteStore::backup_dir(dir, &dest).await,
        Database::SqliteUrl(url) => SqliteStore::backup_url(url.expose_secret(), &dest).await,
        Database::Postgres { .. } => unreachable!("the settings refuse PostgreSQL"),
    }
    .with_context(|| format!("cannot back the database up to {}", dest.display()))?;
    tracing::info!(file = %dest.display(), "backup written");
    println!("{}", dest.display());
    Ok(())
}

/// The session secret of a lone server with none configured: with the embedded database, the
/// one in `session.secret` beside it (made on the first start, readable by its owner only), so
/// that the tickets of games in progress outlive a restart; with another database, a random
/// one (its tickets die with the process).
async fn kept_session_secret(database: &Database) -> anyhow::Result<SessionSecret> {
    let Database::EmbeddedDir(dir) = database else {
        return Ok(SessionSecret::random());
    };
    let path = dir.join("session.secret");
    let dir = dir.clone();
    tokio::task::spawn_blocking(move || -> anyhow::Result<SessionSecret> {
        match std::fs::read(&path) {
            Ok(bytes) => SessionSecret::new(bytes)
                .with_context(|| format!("the session secret in {}", path.display())),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                use std::io::Write as _;
                use std::os::unix::fs::OpenOptionsExt as _;
                std::fs::create_dir_all(&dir)
                    .with_context(|| format!("cannot create {}", dir.display()))?;
                let text = arcade_domain::keys::random_secret_text();
                let mut file = std::fs::OpenOptions::new()
                    .write(true)
                    .create_new(true)
                    .mode(0o600)
                    .open(&path)
                    .with_context(|| format!("cannot create {}", path.display()))?;
                file.write_all(text.as_bytes())
                    .and_then(|()| file.sync_all())
                    .with_context(|| format!("cannot write {}", path.display()))?;
                Ok(SessionSecret::new(text.into_bytes())?)
            }
            Err(e) => Err(e).with_context(|| format!("cannot read {}", path.display())),
        }
    })
    .await?
}
