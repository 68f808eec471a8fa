//! Servers of a test's own, which the test starts, stops and starts again: a PostgreSQL
//! cluster and a NATS server with JetStream (stopping a shared service would fail every other
//! test running beside it). Each listens on loopback on a free port, keeps its data in a
//! temporary directory (kept across a stop, as a real server's disk) and is stopped when
//! dropped. Without the server's binaries a test is skipped, or fails under
//! `ARCADE_REQUIRE_BACKENDS=1` (see [`backends::skip_or_fail`]).

use std::os::unix::fs::MetadataExt as _;
use std::path::{Path, PathBuf};
use std::process::Output;

use std::time::Duration;

use tempfile::TempDir;
use tokio::process::{Child, Command};
use tokio::sync::Mutex;

use crate::backends;

/// A port nobody listens on right now.
fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("a free local port")
}

/// Run `command`, panicking with its output when it fails.
async fn run(what: &str, command: &mut Command) -> Output {
    let output = command
        .output()
        .await
        .unwrap_or_else(|e| panic!("{what} could not run: {e}"));
    assert!(
        output.status.success(),
        "{what} failed ({}):\n{}\n{}",
        output.status,
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    output
}

/// The newest PostgreSQL server binaries installed the Debian way.
fn postgres_bin() -> Option<PathBuf> {
    let mut found: Vec<(u32, PathBuf)> = std::fs::read_dir("/usr/lib/postgresql")
        .ok()?
        .filter_map(Result::ok)
        .filter_map(|entry| {
            let version = entry.file_name().to_str()?.parse::<u32>().ok()?;
            let bin = entry.path().join("bin");
            (bin.join("initdb").is_file() && bin.join("pg_ctl").is_file()).then_some((version, bin))
        })
        .collect();
    found.sort();
    found.pop().map(|(_, bin)| bin)
}

/// A PostgreSQL cluster of the test's own, with trust authentication for `postgres` on
/// 127.0.0.1. PostgreSQL refuses to run as root, so when the tests do, its commands run as the
/// `postgres` user, who owns the directory.
pub struct PrivatePostgres {
    bin: PathBuf,
    dir: TempDir,
    port: u16,
    as_postgres: bool,
}

impl std::fmt::Debug for PrivatePostgres {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PrivatePostgres")
            .field("dir", &self.dir.path())
            .field("port", &self.port)
            .finish()
    }
}

impl PrivatePostgres {
    /// Create the cluster and start it; `None` when the binaries are missing and the test is
    /// skipped.
    pub async fn start() -> Option<Self> {
        let Some(bin) = postgres_bin() else {
            backends::skip_or_fail(
                "PostgreSQL's server binaries (initdb and pg_ctl in /usr/lib/postgresql/*/bin)",
            );
            return None;
        };
        let dir = tempfile::Builder::new()
            .prefix("arcade-postgres-")
            .tempdir()
            .expect("a temporary directory");
        let as_postgres = std::fs::metadata(dir.path())
            .expect("the directory just made")
            .uid()
            == 0;
        if as_postgres {
            run(
                "chown",
                Command::new("chown").arg("postgres:").arg(dir.path()),
            )
            .await;
        }
        let server = Self {
            bin,
            dir,
            port: free_port(),
            as_postgres,
        };
        run(
            "initdb",
            server
                .command("initdb")
                .arg("--pgdata")
                .arg(server.data())
                .args(["--username", "postgres", "--auth", "trust", "--no-sync"]),
        )
        .await;
        server.resume().await;
        Some(server)
    }

    /// `postgres://` URL of the cluster's `postgres` database.
    pub fn url(&self) -> String {
        format!("postgres://postgres@127.0.0.1:{}/postgres", self.port)
    }

    pub fn port(&self) -> u16 {
        self.port
    }

    /// Stop as an operator does before maintenance (`pg_ctl stop -m fast`): sessions get
    /// `57P01 admin_shutdown`, then connections are refused. Returns once it has stopped.
    pub async fn stop_fast(&self) {
        run(
            "pg_ctl stop",
            self.command("pg_ctl")
                .arg("--pgdata")
                .arg(self.data())
                .args(["--mode", "fast", "--wait", "stop"]),
        )
        .await;
    }

    /// Start (again) and wait until it accepts connections.
    pub async fn resume(&self) {
        let options = format!(
            "-c listen_addresses=127.0.0.1 -p {} -c unix_socket_directories='{}' -c fsync=off",
            self.port,
            self.dir.path().display()
        );
        run(
            "pg_ctl start",
            self.command("pg_ctl")
                .arg("--pgdata")
                .arg(self.data())
                .arg("--log")
                .arg(self.dir.path().join("postgres.log"))
                .args(["--wait", "--options", &options, "start"]),
        )
        .await;
    }

    fn data(&self) -> PathBuf {
        self.dir.path().join("data")
    }

    /// A command of the server's binaries, as the `postgres` user when the tests run as root.
    fn command(&self, program: &str) -> Command {
        let program = self.bin.join(program);
        let mut command = if self.as_postgres {
            let mut c = Command::new("runuser");
            c.args(["-u", "postgres", "--"]).arg(program);
            c
        } else {
            Command::new(program)
        };
        // The test's own directory may be closed to the `postgres` user.
        command.current_dir(self.dir.path());
        command.kill_on_drop(true);
        command
    }

    fn pg_ctl_blocking(&self, data: &Path) {
        let pg_ctl = self.bin.join("pg_ctl");
        let mut command = if self.as_postgres {
            let mut c = std::process::Command::new("runuser");
            c.args(["-u", "postgres", "--"]).arg(pg_ctl);
            c
        } else {
            std::process::Command::new(pg_ctl)
        };
        let _ = command
            .current_dir(self.dir.path())
            .arg("--pgdata")
            .arg(data)
            .args(["--mode", "immediate", "--wait", "stop"])
            .output();
    }
}

impl Drop for PrivatePostgres {
    fn drop(&mut self) {
        // Already stopped is fine: pg_ctl then says so and nothing is left running.
        self.pg_ctl_blocking(&self.data());
    }
}

/// Where Debian installs the NATS server.
const NATS_SERVER: &str = "/usr/sbin/nats-server";

/// A NATS server with JetStream of the test's own. Stopping it kills the process (as a crash
/// or a lost node would); its JetStream store stays for the next start.
#[derive(Debug)]
pub struct PrivateNats {
    dir: TempDir,
    port: u16,
    process: Mutex<Option<Child>>,
}

impl PrivateNats {
    /// Start the server; `None` when its binary is missing and the test is skipped.
    pub async fn start() -> Option<Self> {
        if !Path::new(NATS_SERVER).is_file() {
            backends::skip_or_fail(&format!("the NATS server ({NATS_SERVER})"));
            return None;
        }
        let server = Self {
            dir: tempfile::Builder::new()
                .prefix("arcade-nats-")
                .tempdir()
                .expect("a temporary directory"),
            port: free_port(),
            process: Mutex::new(None),
        };
        server.resume().await;
        Some(server)
    }

    pub fn url(&self) -> String {
        format!("nats://127.0.0.1:{}", self.port)
    }

    /// Kill the server and wait until it is gone.
    pub async fn stop(&self) {
        if let Some(mut process) = self.process.lock().await.take() {
            let _ = process.kill().await;
        }
    }

    /// Start (again) on the same port and store, and wait until it accepts connections.
    pub async fn resume(&self) {
        let mut process = self.process.lock().await;
        assert!(process.is_none(), "the NATS server is already running");
        let child = Command::new(NATS_SERVER)
            .arg("-js")
            .arg("-sd")
            .arg(self.dir.path())
            .args(["-a", "127.0.0.1", "-p", &self.port.to_string()])
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .kill_on_drop(true)
            .spawn()
            .expect("the NATS server starts");
        *process = Some(child);
        for _ in 0..200 {
            if tokio::net::TcpStream::connect(("127.0.0.1", self.port))
                .await
                .is_ok()
            {
                return;
            }
            tokio::time::sleep(Duration::from_millis(25)).await;
        }
        panic!(
            "the NATS server did not listen on port {} in 5 s",
            self.port
        );
    }
}
