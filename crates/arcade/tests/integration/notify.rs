//! The notifier: webhook delivery against a local receiver standing in for Discord and
//! Slack (formats, retries, dead letters, duplicates, digests), and `arcade notify` on the
//! real JetStream (when NATS_URL is set) catching up on events published while it was down.

use std::collections::{HashMap, VecDeque};
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use arcade::config::{Cli, Command, NotifySettings};
use arcade::notify::NotifyApp;
use arcade_domain::event::{Event, EventKind};
use arcade_domain::ports::EventBus;
use arcade_domain::time::{Period, Timestamp};
use arcade_events::NatsBus;
use arcade_events::notify::{
    DeadLetter, DeadLetters, NoDeliveryObserver, Notifier, RetryPolicy, Settings, Settle, Target,
    Webhook, jetstream,
};
use arcade_testkit::backends::{self, Service};
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use clap::Parser;
use futures::StreamExt;
use serde_json::Value;
use tokio::sync::mpsc;
use uuid::Uuid;

/// One scripted answer: status, `Retry-After` header, body.
type Reply = (u16, Option<&'static str>, &'static str);

/// A local webhook endpoint: `POST /hook/{name}` records the body and answers from the
/// name's script (204 once the script is used up, or always `fallback` when set).
#[derive(Clone, Default)]
struct Receiver {
    requests: Arc<Mutex<Vec<(String, Value, u16)>>>,
    script: Arc<Mutex<HashMap<String, VecDeque<Reply>>>>,
    fallback: Arc<Mutex<HashMap<String, u16>>>,
}

impl Receiver {
    async fn start() -> (Self, SocketAddr) {
        let receiver = Self::default();
        let app = axum::Router::new()
            .route("/hook/{name}", axum::routing::post(hook))
            .with_state(receiver.clone());
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        tokio::spawn(async move { axum::serve(listener, app).await });
        (receiver, addr)
    }

    fn script(&self, name: &str, replies: &[Reply]) {
        self.script
            .lock()
            .unwrap()
            .insert(name.to_owned(), replies.iter().copied().collect());
    }

    fn always(&self, name: &str, status: u16) {
        self.fallback
            .lock()
            .unwrap()
            .insert(name.to_owned(), status);
    }

    /// Bodies `name` accepted that mention `needle`.
    fn accepted(&self, name: &str, needle: &str) -> Vec<Value> {
        self.requests
            .lock()
            .unwrap()
            .iter()
            .filter(|(n, b, s)| n == name && *s < 300 && b.to_string().contains(needle))
            .map(|(_, b, _)| b.clone())
            .collect()
    }

    fn attempts(&self, name: &str, needle: &str) -> usize {
        self.requests
            .lock()
            .unwrap()
            .iter()
            .filter(|(n, b, _)| n == name && b.to_string().contains(needle))
            .count()
    }
}

async fn hook(
    State(r): State<Receiver>,
    Path(name): Path<String>,
    axum::Json(body): axum::Json<Value>,
) -> (StatusCode, HeaderMap, String) {
    let scripted = r
        .script
        .lock()
        .unwrap()
        .get_mut(&name)
        .and_then(VecDeque::pop_front);
    let fallback = r.fallback.lock().unwrap().get(&name).copied();
    let (status, retry_after, text) = scripted.unwrap_or((fallback.unwrap_or(204), None, ""));
    r.requests.lock().unwrap().push((name, body, status));
    let mut headers = HeaderMap::new();
    if let Some(after) = retry_after {
        headers.insert("retry-after", after.parse().unwrap());
    }
    (
        StatusCode::from_u16(status).unwrap(),
        headers,
        text.to_owned(),
    )
}

fn score(player: &str, score: u32, rank: u64) -> Event {
    let session = Uuid::new_v4();
    Event {
        id: Event::derived_id(session, EventKind::ScoreSubmitted, None),
        kind: EventKind::ScoreSubmitted,
        game: "egg-catcher".into(),
        player: player.into(),
        session_id: session,
        score: Some(score),
        rank: Some(rank),
        period: None,
        at: Timestamp(1_700_000_000_000),
    }
}

fn new_leader(base: &Event) -> Event {
    Event {
        id: Event::derived_id(
            base.session_id,
            EventKind::LeaderboardTop,
            Some(Period::All),
        ),
        kind: EventKind::LeaderboardTop,
        period: Some(Period::All),
        rank: Some(1),
        ..base.clone()
    }
}

fn unique_player(prefix: &str) -> String {
    format!("{prefix}{}", &Uuid::new_v4().simple().to_string()[..8])
}

fn hooks(addr: SocketAddr, discord: &str, slack: &str) -> Vec<Webhook> {
    vec![
        Webhook {
            target: Target::Discord,
            url: format!("http://{addr}/hook/{discord}").into(),
        },
        Webhook {
            target: Target::Slack,
            url: format!("http://{addr}/hook/{slack}").into(),
        },
    ]
}

fn fast_settings(webhooks: Vec<Webhook>) -> Settings {
    Settings {
        webhooks,
        public_url: Some("https://arcade.example.com".into()),
        retry: RetryPolicy {
            max_attempts: 3,
            base: Duration::from_millis(10),
            max: Duration::from_millis(300),
        },
        request_timeout: Duration::from_secs(2),
        per_minute: 1000,
        rate_window: Duration::from_secs(60),
        dedup_window: 100,
    }
}

#[derive(Default)]
struct Parked(Mutex<Vec<DeadLetter>>);

#[async_trait::async_trait]
impl DeadLetters for Parked {
    async fn park(&self, letter: &DeadLetter) -> Result<(), String> {
        self.0.lock().unwrap().push(letter.clone());
        Ok(())
    }
}

/// A settle that reports on a channel.
fn settled(tx: &mpsc::UnboundedSender<bool>) -> Settle {
    let tx = tx.clone();
    Box::new(move |ok| {
        Box::pin(async move {
            let _ = tx.send(ok);
        })
    })
}

async fn next(rx: &mut mpsc::UnboundedReceiver<bool>) -> bool {
    tokio::time::timeout(Duration::from_secs(10), rx.recv())
        .await
        .expect("the event is settled in time")
        .expect("a settle")
}

#[tokio::test]
async fn scores_reach_discord_and_slack_in_their_formats_through_429s_and_500s_once() {
    let (receiver, addr) = Receiver::start().await;
    receiver.script(
        "d1",
        &[(
            429,
            Some("0"),
            r#"{"message":"rate limited","retry_after":0.05}"#,
        )],
    );
    receiver.script("s1", &[(500, None, ""), (503, Some("0"), "")]);
    let parked = Arc::new(Parked::default());
    let b = Notifier::start(
        &fast_settings(hooks(addr, "d1", "s1")),
        parked.clone(),
        Arc::new(NoDeliveryObserver),
    )
    .unwrap();
    let (tx, mut rx) = mpsc::unbounded_channel();
    let player = unique_player("Ada");
    let event = score(&player, 420, 3);
    b.handle(event.clone(), settled(&tx)).await;
    assert!(
        next(&mut rx).await,
        "acknowledged once both targets took it"
    );
    // The same event again (a redelivery, or published twice under another message id).
    b.handle(event.clone(), settled(&tx)).await;
    assert!(next(&mut rx).await);

    let discord = receiver.accepted("d1", &player);
    assert_eq!(discord.len(), 1, "one message, not two: {discord:?}");
    assert_eq!(receiver.attempts("d1", &player), 2, "the 429 was retried");
    let embed = &discord[0]["embeds"][0];
    assert_eq!(
        embed["title"],
        format!("{player} scored 420 in Egg Catcher")
    );
    assert!(embed["description"].as_str().unwrap().contains("#3"));
    assert_eq!(embed["url"], "https://arcade.example.com/play/egg-catcher");
    let fields = embed["fields"].as_array().unwrap();
    assert!(
        fields
            .iter()
            .any(|f| f["name"] == "Score" && f["value"] == "420")
    );

    let slack = receiver.accepted("s1", &player);
    assert_eq!(slack.len(), 1);
    assert_eq!(receiver.attempts("s1", &player), 3, "two 5xx were retried");
    let blocks = slack[0]["blocks"].as_array().unwrap();
    assert_eq!(blocks[0]["type"], "section");
    assert_eq!(blocks[0]["text"]["type"], "mrkdwn");
    assert!(
        blocks[0]["text"]["text"]
            .as_str()
            .unwrap()
            .contains(&player)
    );
    assert!(parked.0.lock().unwrap().is_empty());
}

#[tokio::test]
async fn a_target_that_keeps_failing_gets_a_dead_letter_and_the_event_is_still_acknowledged() {
    let (receiver, addr) = Receiver::start().await;
    receiver.always("s2", 500);
    let parked = Arc::new(Parked::default());
    let b = Notifier::start(
        &fast_settings(hooks(addr, "d2", "s2")),
        parked.clone(),
        Arc::new(NoDeliveryObserver),
    )
    .unwrap();
    let (tx, mut rx) = mpsc::unbounded_channel();
    let player = unique_player("Bo");
    let event = score(&player, 50, 9);
    b.handle(event.clone(), settled(&tx)).await;
    assert!(next(&mut rx).await);
    assert_eq!(receiver.accepted("d2", &player).len(), 1);
    assert_eq!(receiver.attempts("s2", &player), 3);
    let letters = parked.0.lock().unwrap().clone();
    assert_eq!(letters.len(), 1);
    assert_eq!(letters[0].target, "slack");
    assert_eq!(letters[0].error, "HTTP 500");
    assert_eq!(letters[0].attempts, 3);
    assert_eq!(letters[0].event, event);
}

#[tokio::test]
async fn a_burst_beyond_the_rate_becomes_one_digest() {
    let (receiver, addr) = Receiver::start().await;
    let mut settings = fast_settings(hooks(addr, "d3", "s3"));
    settings.per_minute = 2;
    settings.rate_window = Duration::from_millis(500);
    let b = Notifier::start(
        &settings,
        Arc::new(Parked::default()),
        Arc::new(NoDeliveryObserver),
    )
    .unwrap();
    let (tx, mut rx) = mpsc::unbounded_channel();
    let player = unique_player("Cy");
    for i in 0..8 {
        b.handle(score(&player, 10 * (i + 1), 5), settled(&tx))
            .await;
    }
    for _ in 0..8 {
        assert!(next(&mut rx).await);
    }
    let discord = receiver.accepted("d3", &player);
    assert_eq!(
        discord.len(),
        3,
        "two messages, then one digest: {discord:?}"
    );
    assert_eq!(
        discord[2]["embeds"][0]["title"],
        "6 more scores in Egg Catcher"
    );
    let slack = receiver.accepted("s3", &player);
    assert_eq!(slack.len(), 3);
    assert!(
        slack[2]["blocks"][0]["text"]["text"]
            .as_str()
            .unwrap()
            .starts_with("*6 more scores in Egg Catcher*")
    );
}

#[tokio::test]
async fn the_embedded_notifier_announces_from_the_in_process_bus() {
    let (receiver, addr) = Receiver::start().await;
    let bus: Arc<dyn EventBus> = Arc::new(arcade_events::InProcessBus::default());
    let metrics = Arc::new(arcade_telemetry::Metrics::new("test", "test"));
    let task = arcade::notify::spawn_embedded(
        bus.clone(),
        &fast_settings(hooks(addr, "d4", "s4")),
        metrics.clone(),
    )
    .unwrap()
    .expect("webhooks are configured");
    let player = unique_player("Fay");
    let event = score(&player, 120, 2);
    bus.publish(&event).await.unwrap();
    bus.publish(&event).await.unwrap();
    wait_for("both targets", || {
        !receiver.accepted("d4", &player).is_empty() && !receiver.accepted("s4", &player).is_empty()
    })
    .await;
    tokio::time::sleep(Duration::from_millis(200)).await;
    assert_eq!(receiver.accepted("d4", &player).len(), 1);
    assert!(metrics.encode().contains(r#"outcome="delivered""#));
    task.abort();
}

fn notify_settings(nats: &str, addr: SocketAddr, consumer: &str, extra: &[&str]) -> NotifySettings {
    let discord = format!("http://{addr}/hook/discord");
    let slack = format!("http://{addr}/hook/slack");
    let mut argv = vec![
        "arcade",
        "notify",
        "--listen",
        "127.0.0.1:0",
        "--nats-url",
        nats,
        "--consumer",
        consumer,
        "--discord-webhook-url",
        &discord,
        "--slack-webhook-url",
        &slack,
        "--public-url",
        "https://arcade.example.com",
        "--webhook-retry-base",
        "10ms",
        "--webhook-retry-max",
        "200ms",
        "--webhook-per-minute",
        "10000",
        "--log-level",
        "warn",
    ];
    argv.extend_from_slice(extra);
    match Cli::try_parse_from(argv).unwrap().command {
        Some(Command::Notify(args)) => args.settings().unwrap(),
        _ => unreachable!("the argv names the notify command"),
    }
}

/// A running `arcade notify`; `stop` shuts it down like SIGTERM.
struct Running {
    base: String,
    stop: tokio::sync::oneshot::Sender<()>,
    task: tokio::task::JoinHandle<anyhow::Result<()>>,
}

impl Running {
    async fn start(settings: &NotifySettings) -> Self {
        let app = NotifyApp::build(settings, arcade::runtime::metrics())
            .await
            .expect("the notifier builds");
        let base = format!("http://{}", app.local_addr());
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        let task = tokio::spawn(app.run_until(async move {
            let _ = stopped.await;
        }));
        let client = reqwest::Client::new();
        for _ in 0..200 {
            if let Ok(r) = client.get(format!("{base}/health/ready")).send().await
                && r.status() == 200
            {
                return Self { base, stop, task };
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        panic!("the notifier did not become ready");
    }

    async fn metrics(&self) -> String {
        reqwest::get(format!("{}/metrics", self.base))
            .await
            .unwrap()
            .text()
            .await
            .unwrap()
    }

    async fn stop(self) {
        let _ = self.stop.send(());
        self.task.await.unwrap().unwrap();
    }
}

async fn wait_for(what: &str, mut done: impl FnMut() -> bool) {
    for _ in 0..200 {
        if done() {
            return;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("timed out waiting for {what}");
}

#[tokio::test]
async fn events_published_while_the_notifier_is_down_are_announced_once_when_it_returns() {
    let Some(url) = backends::url(Service::Nats) else {
        return;
    };
    let (receiver, addr) = Receiver::start().await;
    let consumer = format!("test-notify-{}", Uuid::new_v4().simple());
    let settings = notify_settings(&url, addr, &consumer, &[]);
    let running = Running::start(&settings).await;
    let live = reqwest::get(format!("{}/health/live", running.base))
        .await
        .unwrap();
    assert_eq!(live.status(), 200);
    running.stop().await;

    let bus = NatsBus::connect(&url).await.unwrap();
    let player = unique_player("Dee");
    let first = score(&player, 990, 1);
    let leader = new_leader(&first);
    let second = score(&player, 300, 4);
    for e in [&first, &leader, &second] {
        bus.publish(e).await.unwrap();
    }
    // The same event again under another message id: JetStream keeps both copies.
    let mut headers = async_nats::HeaderMap::new();
    headers.insert("Nats-Msg-Id", Uuid::new_v4().to_string().as_str());
    bus.jetstream()
        .publish_with_headers(
            EventKind::ScoreSubmitted.subject(),
            headers,
            serde_json::to_vec(&second).unwrap().into(),
        )
        .await
        .unwrap()
        .await
        .unwrap();

    let running = Running::start(&settings).await;
    wait_for("three messages per target", || {
        receiver.accepted("discord", &player).len() >= 3
            && receiver.accepted("slack", &player).len() >= 3
    })
    .await;
    // Give a duplicate the chance to show up before counting.
    tokio::time::sleep(Duration::from_millis(500)).await;
    let discord = receiver.accepted("discord", &player);
    assert_eq!(discord.len(), 3, "{discord:#?}");
    let titles: Vec<&str> = discord
        .iter()
        .map(|b| b["embeds"][0]["title"].as_str().unwrap())
        .collect();
    assert!(
        titles.contains(&"🏆 New all-time #1 in Egg Catcher"),
        "{titles:?}"
    );
    assert!(titles.contains(&format!("{player} scored 300 in Egg Catcher").as_str()));
    assert_eq!(receiver.accepted("slack", &player).len(), 3);
    let metrics = running.metrics().await;
    assert!(
        metrics.contains(
            r#"arcade_webhook_deliveries_total{target="discord",outcome="deduplicated"}"#
        ),
        "{metrics}"
    );
    assert!(metrics.contains("arcade_webhook_delivery_duration_seconds_bucket"));
    running.stop().await;
    jetstream::delete_consumer(&bus, &consumer).await.unwrap();
}

#[tokio::test]
async fn a_permanently_failing_webhook_ends_on_the_dead_letter_subject() {
    let Some(url) = backends::url(Service::Nats) else {
        return;
    };
    let (receiver, addr) = Receiver::start().await;
    receiver.always("slack", 500);
    let consumer = format!("test-notify-{}", Uuid::new_v4().simple());
    let settings = notify_settings(&url, addr, &consumer, &["--webhook-max-attempts", "2"]);
    let running = Running::start(&settings).await;
    let bus = NatsBus::connect(&url).await.unwrap();
    let mut dead = bus
        .client()
        .subscribe(arcade_events::notify::DEAD_LETTER_SUBJECT)
        .await
        .unwrap();
    bus.client().flush().await.unwrap();
    let player = unique_player("Eve");
    let event = score(&player, 70, 8);
    bus.publish(&event).await.unwrap();

    let letter = tokio::time::timeout(Duration::from_secs(10), async {
        loop {
            let m = dead.next().await.expect("the subscription is open");
            let letter: DeadLetter = serde_json::from_slice(&m.payload).unwrap();
            if letter.event.id == event.id {
                return letter;
            }
        }
    })
    .await
    .expect("a dead letter in time");
    assert_eq!(letter.target, "slack");
    assert_eq!(letter.error, "HTTP 500");
    assert_eq!(letter.attempts, 2);
    assert_eq!(receiver.accepted("discord", &player).len(), 1);
    let counted = r#"arcade_webhook_deliveries_total{target="slack",outcome="dead_lettered"}"#;
    let mut metrics = String::new();
    for _ in 0..50 {
        metrics = running.metrics().await;
        if metrics.contains(counted) {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert!(metrics.contains(counted), "{metrics}");
    running.stop().await;
    jetstream::delete_consumer(&bus, &consumer).await.unwrap();
}

#[tokio::test]
async fn a_single_binary_server_with_a_webhook_announces_its_games() {
    let (receiver, addr) = Receiver::start().await;
    let hook = format!("http://{addr}/hook/d-serve");
    let env = arcade_testkit::TestEnv::new().await;
    let mut args = env.serve_args(&["--discord-webhook-url", &hook]).await;
    // A server announces games itself only without NATS (with it, `arcade notify` does, as
    // tested above), so this one runs without NATS even where the environment names one.
    args.nats.nats_url = None;
    let app = arcade_testkit::spawn_app_with_args(env, args).await;
    let player = unique_player("Gus");
    let (status, body, _, _) = app.play_game("egg-catcher", &player, None, 70).await;
    assert_eq!(status, arcade_testkit::StatusCode::OK, "{body}");
    wait_for("the announcement", || {
        !receiver.accepted("d-serve", &player).is_empty()
    })
    .await;
    let sent = &receiver.accepted("d-serve", &player)[0];
    assert!(sent["embeds"][0]["title"].is_string(), "{sent}");
}
