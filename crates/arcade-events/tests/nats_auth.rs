//! Arcade authenticates to a NATS server that requires it: a private `nats-server` with
//! JetStream and a user and password, started by the test on loopback. The credentials come
//! in the URL (percent-encoded), as the chart passes them from a Secret.
//!
//! Needs `nats-server` on PATH; without it the test says so, and fails when
//! `ARCADE_REQUIRE_BACKENDS=1`, as a missing service does.

use std::net::TcpListener;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use arcade_domain::event::{Event, EventKind};
use arcade_domain::ports::EventBus;
use arcade_domain::time::Timestamp;
use arcade_events::{NatsBus, NatsOptions, STREAM};

const USER: &str = "arcade";
const PASSWORD: &str = "p@ss/w:rd";

struct Process(Child);

impl Drop for Process {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn nats_server() -> Option<PathBuf> {
    // Debian installs some servers in sbin, which a non-login PATH may lack.
    let path = std::env::var_os("PATH").unwrap_or_default();
    let found = std::env::split_paths(&path)
        .chain(["/usr/sbin", "/usr/local/sbin"].map(PathBuf::from))
        .map(|p| p.join("nats-server"))
        .find(|p| p.is_file());
    if found.is_none() {
        let required = matches!(
            std::env::var("ARCADE_REQUIRE_BACKENDS").as_deref(),
            Ok("1" | "true" | "yes")
        );
        assert!(
            !required,
            "the NATS authentication test needs nats-server on PATH"
        );
        eprintln!("skipping the NATS authentication test: nats-server is not on PATH");
    }
    found
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

fn encoded(raw: &str) -> String {
    raw.replace('%', "%25")
        .replace('@', "%40")
        .replace('/', "%2F")
        .replace(':', "%3A")
}

fn event() -> Event {
    Event {
        id: uuid::Uuid::new_v4(),
        kind: EventKind::ScoreSubmitted,
        game: "egg-catcher".into(),
        player: "Ada".into(),
        session_id: uuid::Uuid::new_v4(),
        score: Some(120),
        rank: Some(1),
        period: None,
        at: Timestamp(1_800_000_000_000),
    }
}

async fn until_ready(bus: &NatsBus, limit: Duration) -> bool {
    let deadline = Instant::now() + limit;
    while Instant::now() < deadline {
        if bus.ping().await.is_ok() {
            return true;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    false
}

#[tokio::test]
async fn arcade_publishes_with_the_user_and_password_of_its_url_and_not_without() {
    let Some(bin) = nats_server() else { return };
    let dir = tempfile::tempdir().unwrap();
    let port = free_port();
    let config = dir.path().join("nats.conf");
    std::fs::write(
        &config,
        format!(
            "listen: \"127.0.0.1:{port}\"\njetstream {{ store_dir: \"{}\" }}\n\
             authorization {{ users = [ {{ user: \"{USER}\", password: \"{PASSWORD}\" }} ] }}\n",
            dir.path().join("js").display()
        ),
    )
    .unwrap();
    let _server = Process(
        Command::new(bin)
            .arg("-c")
            .arg(&config)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap(),
    );

    let url = format!("nats://{USER}:{}@127.0.0.1:{port}", encoded(PASSWORD));
    let bus = NatsBus::connect_with(&NatsOptions::new(&url))
        .await
        .unwrap();
    assert!(
        until_ready(&bus, Duration::from_secs(10)).await,
        "Arcade authenticated with its URL's credentials"
    );
    bus.publish(&event()).await.unwrap();
    let mut stream = bus.jetstream().get_stream(STREAM).await.unwrap();
    assert_eq!(stream.info().await.unwrap().state.messages, 1);
    assert_eq!(stream.cached_info().config.num_replicas, 1);

    for wrong in [
        format!("nats://{USER}:wrong@127.0.0.1:{port}"),
        format!("nats://127.0.0.1:{port}"),
    ] {
        let bus = NatsBus::connect(&wrong).await.unwrap();
        assert!(
            !until_ready(&bus, Duration::from_secs(2)).await,
            "a client without the right password is refused"
        );
        assert!(bus.publish(&event()).await.is_err());
    }
}

#[tokio::test]
async fn the_stream_gets_the_configured_replicas_on_a_three_node_cluster_and_grows_to_them() {
    let Some(bin) = nats_server() else { return };
    let dir = tempfile::tempdir().unwrap();
    let clients = [free_port(), free_port(), free_port()];
    let routes = [free_port(), free_port(), free_port()];
    let route_urls: Vec<String> = routes
        .iter()
        .map(|p| format!("\"nats-route://127.0.0.1:{p}\""))
        .collect();
    let _servers: Vec<Process> = (0..3)
        .map(|i| {
            let config = dir.path().join(format!("nats-{i}.conf"));
            std::fs::write(
                &config,
                format!(
                    "server_name: n{i}\nlisten: \"127.0.0.1:{}\"\n\
                     jetstream {{ store_dir: \"{}\" }}\n\
                     authorization {{ users = [ {{ user: \"{USER}\", password: \"{PASSWORD}\" }} ] }}\n\
                     cluster {{ name: arcade, listen: \"127.0.0.1:{}\", routes: [{}] }}\n",
                    clients[i],
                    dir.path().join(format!("js-{i}")).display(),
                    routes[i],
                    route_urls.join(", ")
                ),
            )
            .unwrap();
            Process(
                Command::new(&bin)
                    .arg("-c")
                    .arg(&config)
                    .stdout(Stdio::null())
                    .stderr(Stdio::null())
                    .spawn()
                    .unwrap(),
            )
        })
        .collect();
    let url = format!(
        "nats://{USER}:{}@127.0.0.1:{}",
        encoded(PASSWORD),
        clients[0]
    );

    // A stream made by a build that kept one copy...
    let one = NatsBus::connect(&url).await.unwrap();
    assert!(until_ready(&one, Duration::from_secs(10)).await);
    let deadline = Instant::now() + Duration::from_secs(30);
    // ...once the cluster has elected its JetStream leader.
    while one.ensure_stream().await.is_err() {
        assert!(
            Instant::now() < deadline,
            "the cluster never took the stream"
        );
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
    let mut stream = one.jetstream().get_stream(STREAM).await.unwrap();
    assert_eq!(stream.info().await.unwrap().config.num_replicas, 1);

    // ...grows to three copies when Arcade is configured for three.
    let three = NatsBus::connect_with(&NatsOptions {
        stream_replicas: 3,
        ..NatsOptions::new(&url)
    })
    .await
    .unwrap();
    assert!(until_ready(&three, Duration::from_secs(10)).await);
    let deadline = Instant::now() + Duration::from_secs(30);
    // While the copies are placed the stream may briefly have no leader: the bus's callers
    // retry (RetryingBus), so does the test.
    while let Err(e) = three.publish(&event()).await {
        assert!(Instant::now() < deadline, "no publish succeeded: {e}");
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
    loop {
        let info = stream.info().await.unwrap();
        let copies = info.cluster.as_ref().map_or(0, |c| c.replicas.len() + 1);
        if info.config.num_replicas == 3 && copies == 3 {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "the stream has {} of 3 copies",
            copies
        );
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
}
