//! Sessions on Redis behind Sentinels go on after the primary dies: real `redis-server`
//! processes on loopback (a primary, a replica, three Sentinels, all with a password) started
//! by the test, the primary killed mid-game, the session read and updated on the new primary.
//!
//! Needs `redis-server` (Sentinels run as `redis-server --sentinel`); without it the test says
//! so and fails when `ARCADE_REQUIRE_BACKENDS=1`, as a missing service does.

use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::{Duration, Instant};

use arcade_domain::ports::SessionStore;
use arcade_domain::session::{PlayRules, Session, SessionId};
use arcade_domain::time::Timestamp;
use arcade_sessions::{RedisBackend, RedisTarget};

const PASSWORD: &str = "s3cret/with@odd:chars";
const SERVICE: &str = "arcade";

/// A process killed when the test ends, however it ends.
struct Process(Child);

impl Drop for Process {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

fn redis_server() -> Option<PathBuf> {
    // Debian installs some servers in sbin, which a non-login PATH may lack.
    let path = std::env::var_os("PATH").unwrap_or_default();
    let found = std::env::split_paths(&path)
        .chain(["/usr/sbin", "/usr/local/sbin"].map(PathBuf::from))
        .map(|p| p.join("redis-server"))
        .find(|p| p.is_file());
    if found.is_none() {
        let required = matches!(
            std::env::var("ARCADE_REQUIRE_BACKENDS").as_deref(),
            Ok("1" | "true" | "yes")
        );
        assert!(
            !required,
            "the Sentinel failover test needs redis-server on PATH"
        );
        eprintln!("skipping the Sentinel failover test: redis-server is not on PATH");
    }
    found
}

fn start(bin: &Path, dir: &Path, name: &str, config: &str, sentinel: bool) -> Process {
    let file = dir.join(format!("{name}.conf"));
    std::fs::write(&file, config).unwrap();
    let mut cmd = Command::new(bin);
    cmd.arg(&file);
    if sentinel {
        cmd.arg("--sentinel");
    }
    let child = cmd
        .current_dir(dir)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    Process(child)
}

fn server_config(port: u16, dir: &Path, replica_of: Option<u16>) -> String {
    let mut c = format!(
        "port {port}\nbind 127.0.0.1\nsave \"\"\nappendonly no\ndir {}\nrequirepass \"{PASSWORD}\"\nmasterauth \"{PASSWORD}\"\n",
        dir.display()
    );
    if let Some(primary) = replica_of {
        c.push_str(&format!("replicaof 127.0.0.1 {primary}\n"));
    }
    c
}

fn sentinel_config(port: u16, primary: u16) -> String {
    format!(
        "port {port}\nbind 127.0.0.1\nrequirepass \"{PASSWORD}\"\n\
         sentinel monitor {SERVICE} 127.0.0.1 {primary} 2\n\
         sentinel auth-pass {SERVICE} {PASSWORD}\n\
         sentinel down-after-milliseconds {SERVICE} 1000\n\
         sentinel failover-timeout {SERVICE} 5000\n\
         sentinel parallel-syncs {SERVICE} 1\n"
    )
}

/// A plain client of one server, for the test's own looks at it.
async fn direct(port: u16) -> Option<redis::aio::MultiplexedConnection> {
    let url = format!(
        "redis://:{}@127.0.0.1:{port}",
        PASSWORD
            .replace('%', "%25")
            .replace('/', "%2F")
            .replace('@', "%40")
            .replace(':', "%3A")
    );
    redis::Client::open(url)
        .unwrap()
        .get_multiplexed_async_connection()
        .await
        .ok()
}

async fn eventually<T, F, Fut>(what: &str, limit: Duration, mut f: F) -> T
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Option<T>>,
{
    let deadline = Instant::now() + limit;
    loop {
        if let Some(v) = f().await {
            return v;
        }
        assert!(Instant::now() < deadline, "{what}: not within {limit:?}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sessions_continue_on_the_new_primary_after_the_primary_is_killed() {
    let Some(bin) = redis_server() else { return };
    let dir = tempfile::tempdir().unwrap();
    let (primary_port, replica_port) = (free_port(), free_port());
    let mut primary = start(
        &bin,
        dir.path(),
        "primary",
        &server_config(primary_port, dir.path(), None),
        false,
    );
    let _replica = start(
        &bin,
        dir.path(),
        "replica",
        &server_config(replica_port, dir.path(), Some(primary_port)),
        false,
    );
    let sentinel_ports = [free_port(), free_port(), free_port()];
    let _sentinels: Vec<Process> = sentinel_ports
        .iter()
        .enumerate()
        .map(|(i, &port)| {
            start(
                &bin,
                dir.path(),
                &format!("sentinel-{i}"),
                &sentinel_config(port, primary_port),
                true,
            )
        })
        .collect();

    // The replica is in sync and every Sentinel knows it before anything is written.
    eventually("the replica syncs", Duration::from_secs(20), || async {
        let mut c = direct(replica_port).await?;
        let info: String = redis::cmd("INFO")
            .arg("replication")
            .query_async(&mut c)
            .await
            .ok()?;
        info.contains("master_link_status:up").then_some(())
    })
    .await;
    // A Sentinel learns of replicas from the primary's INFO and of other Sentinels from hello
    // messages; killing the primary before each knows both leaves nothing to promote or no
    // majority to elect a leader, and the failover never happens.
    for &port in &sentinel_ports {
        eventually(
            "every Sentinel knows the replica and the other Sentinels",
            Duration::from_secs(30),
            || async move {
                let mut c = direct(port).await?;
                let fields: Vec<String> = redis::cmd("SENTINEL")
                    .arg("MASTER")
                    .arg(SERVICE)
                    .query_async(&mut c)
                    .await
                    .ok()?;
                let field = |name: &str| -> Option<u32> {
                    let at = fields.iter().position(|f| f == name)?;
                    fields.get(at + 1)?.parse().ok()
                };
                (field("num-slaves")? >= 1 && field("num-other-sentinels")? >= 2).then_some(())
            },
        )
        .await;
    }
    let hosts: Vec<String> = sentinel_ports
        .iter()
        .map(|p| format!("127.0.0.1:{p}"))
        .collect();
    let url = format!("redis+sentinel://{}/{SERVICE}", hosts.join(","));
    // The password comes apart from the URL, as from a Kubernetes Secret.
    let target = RedisTarget::parse(&url, Some(PASSWORD)).unwrap();
    let backend = eventually(
        "the Sentinels name the primary",
        Duration::from_secs(20),
        || {
            let target = target.clone();
            async move { RedisBackend::open(&target, "arcade-failover:").await.ok() }
        },
    )
    .await;
    let sessions = backend.sessions();

    let rules = PlayRules::default();
    let now = Timestamp(1_800_000_000_000);
    let game = arcade_games::catalogue()[0];
    let session = Session::start(SessionId::random(), game, "ada", "Ada", now, &rules);
    sessions
        .insert(&session, &[], session.forget_at(&rules))
        .await
        .unwrap();
    sessions
        .update(session.id, &|s: &mut Session| {
            s.tick += 30;
            Ok(())
        })
        .await
        .unwrap();
    // Replication is asynchronous: the test waits for the writes to reach the replica (in
    // production, acknowledged writes lost in a failover are the window Redis documents).
    eventually(
        "the session reaches the replica",
        Duration::from_secs(10),
        || async {
            let mut c = direct(replica_port).await?;
            let n: u64 = redis::cmd("EXISTS")
                .arg(format!("arcade-failover:play:{}", session.id))
                .query_async(&mut c)
                .await
                .ok()?;
            (n == 1).then_some(())
        },
    )
    .await;

    primary.0.kill().unwrap();
    primary.0.wait().unwrap();
    let killed_at = Instant::now();

    // Play goes on: the next heartbeat's update succeeds once the Sentinels promoted the
    // replica (requests in between fail as an outage, 503 at the HTTP edge).
    let failures = AtomicU32::new(0);
    let after = eventually("the session updates again", Duration::from_secs(60), || {
        let (sessions, failures) = (&sessions, &failures);
        async move {
            match sessions
                .update(session.id, &|s: &mut Session| {
                    s.tick += 30;
                    Ok(())
                })
                .await
            {
                Ok(s) => Some(s),
                Err(arcade_domain::DomainError::Backend(e)) => {
                    assert!(
                        e.is_transient(),
                        "a failover is an outage, not a failure: {e:?}"
                    );
                    failures.fetch_add(1, Ordering::Relaxed);
                    None
                }
                Err(e) => panic!("unexpected error during the failover: {e:?}"),
            }
        }
    })
    .await;
    assert_eq!(
        after.tick, 60,
        "the session kept its state across the failover"
    );
    assert_eq!(after.player_name, "Ada");
    let failures = failures.into_inner();
    assert!(failures > 0, "the killed primary was noticed");
    assert_eq!(sessions.get(session.id).await.unwrap().unwrap().tick, 60);
    sessions.ping().await.unwrap();
    // The connection now goes to the promoted replica.
    let mut promoted = direct(replica_port).await.unwrap();
    let role: Vec<redis::Value> = redis::cmd("ROLE").query_async(&mut promoted).await.unwrap();
    assert!(
        matches!(&role[0], redis::Value::BulkString(b) if b == b"master"),
        "{role:?}"
    );
    eprintln!(
        "failover: sessions served again {:?} after the primary was killed ({failures} failed attempts)",
        killed_at.elapsed()
    );
}
