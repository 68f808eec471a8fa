//! The `arcade` binary's command line: a role and `check-config` refuse the same settings with
//! the same message, and `arcade broadcast`, the notifier's former name, still runs it.

use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

use arcade_testkit::backends::{self, Service};

const SECRET: &str = "hunter2";

/// `arcade ARGS` in an environment holding only `env`. A role that is still running after a
/// while is stopped, and the test fails.
fn arcade(args: &[&str], env: &[(&str, &str)]) -> Output {
    let mut child = Command::new(env!("CARGO_BIN_EXE_arcade"))
        .args(args)
        .env_clear()
        .env("PATH", "/usr/bin:/bin")
        .envs(env.iter().copied())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("the arcade binary starts");
    let started = Instant::now();
    while child.try_wait().unwrap().is_none() {
        if started.elapsed() > Duration::from_secs(30) {
            child.kill().unwrap();
            panic!("`arcade {}` with {env:?} kept running", args.join(" "));
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    child.wait_with_output().unwrap()
}

fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).trim().to_owned()
}

#[test]
fn check_config_refuses_what_the_role_refuses_with_the_same_message_and_no_secret() {
    let pg = "postgres://arcade:hunter2@db:5432/arcade";
    // (role, its environment, the problem both must report)
    type Case<'a> = (&'a str, &'a [(&'a str, &'a str)], &'a str);
    let cases: [Case; 11] = [
        (
            "serve",
            &[("ARCADE_OIDC_ISSUER", "http://id.example.org/realms/arcade")],
            "ARCADE_OIDC_ISSUER must be an https:// URL",
        ),
        (
            "serve",
            &[("ARCADE_OIDC_ISSUER", "https://id.example.org/realms/arcade")],
            "ARCADE_OIDC_AUDIENCE is required with ARCADE_OIDC_ISSUER",
        ),
        (
            "serve",
            &[(
                "DATABASE_URL",
                "postgres://arcade:hunter2@db:notaport/arcade",
            )],
            "DATABASE_URL is not a valid URL: invalid port number",
        ),
        (
            "serve",
            &[("DATABASE_URL", "mysql://root:hunter2@db/arcade")],
            "DATABASE_URL must start with",
        ),
        (
            "serve",
            &[
                ("DATABASE_URL", pg),
                (
                    "DATABASE_READ_URL",
                    "postgres://arcade:hunter2@replica:99999/arcade",
                ),
            ],
            "DATABASE_READ_URL is not a valid URL: invalid port number",
        ),
        (
            "serve",
            &[
                ("DATABASE_URL", pg),
                ("REDIS_URL", "redis://:hunter2@redis:notaport"),
            ],
            "REDIS_URL is not a valid URL: invalid port number",
        ),
        (
            "serve",
            &[("NATS_URL", "nats://arcade:hunter2@nats:notaport")],
            "NATS_URL is not a valid URL: invalid port number",
        ),
        (
            "serve",
            &[(
                "ARCADE_SLACK_WEBHOOK_URL",
                "hooks.slack.com/services/hunter2",
            )],
            "ARCADE_SLACK_WEBHOOK_URL must start with https://",
        ),
        (
            "migrate",
            &[(
                "DATABASE_URL",
                "postgres://arcade:hunter2@db:notaport/arcade",
            )],
            "DATABASE_URL is not a valid URL: invalid port number",
        ),
        (
            "notify",
            &[("NATS_URL", "nats://arcade:hunter2@nats:notaport")],
            "NATS_URL is not a valid URL: invalid port number",
        ),
        (
            "broadcast",
            &[
                ("NATS_URL", "nats://nats:4222"),
                (
                    "ARCADE_DISCORD_WEBHOOK_URL",
                    "https://discord.com:0x1f/hunter2",
                ),
            ],
            "ARCADE_DISCORD_WEBHOOK_URL is not a valid URL: invalid port number",
        ),
    ];
    let data = tempfile::tempdir().unwrap();
    let data = data.path().to_str().unwrap();
    for (role, env, problem) in cases {
        // Settings of the role's own, so that one that wrongly starts harms nothing.
        let mut env = env.to_vec();
        env.push(("ARCADE_LOG", "warn"));
        if role != "migrate" {
            env.push(("ARCADE_LISTEN", "127.0.0.1:0"));
        }
        if role == "serve" || role == "migrate" {
            env.push(("ARCADE_DATA_DIR", data));
        }
        let checked = arcade(&["check-config", role], &env);
        let ran = arcade(&[role], &env);
        let (checked_err, ran_err) = (stderr(&checked), stderr(&ran));
        assert!(!checked.status.success(), "check-config {role} {env:?}");
        assert!(!ran.status.success(), "{role} {env:?}");
        assert!(checked_err.contains(problem), "{checked_err}");
        assert_eq!(checked_err, ran_err, "{role} {env:?}");
        for out in [&checked, &ran] {
            let all = format!("{checked_err} {}", String::from_utf8_lossy(&out.stdout));
            assert!(!all.contains(SECRET), "{all}");
        }
    }
}

#[test]
fn check_config_takes_broadcast_as_the_notify_role() {
    let env = [
        ("NATS_URL", "nats://nats:4222"),
        ("ARCADE_BROADCAST_CONSUMER", "arcade-broadcaster"),
    ];
    for role in ["notify", "broadcast"] {
        let out = arcade(&["check-config", role], &env);
        let said = String::from_utf8_lossy(&out.stdout);
        assert!(out.status.success(), "{role}: {}", stderr(&out));
        assert!(
            said.contains("arcade notify: configuration is valid")
                && said.contains("ARCADE_BROADCAST_CONSUMER (set)"),
            "{said}"
        );
    }
    let out = arcade(&["check-config", "broadcast"], &[("ARCADE_DATA_DIR", "x")]);
    assert!(!out.status.success());
    assert!(
        stderr(&out).contains("ARCADE_DATA_DIR is not a setting of `arcade notify`"),
        "{}",
        stderr(&out)
    );
}

#[test]
fn help_names_the_notify_command_and_its_former_name() {
    let out = arcade(&["--help"], &[]);
    let help = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success());
    // The command list, wrapping undone: each command, its text, then the next command.
    let flat = help.split_whitespace().collect::<Vec<_>>().join(" ");
    let notify = flat
        .split_once(" notify Announce")
        .and_then(|(_, rest)| rest.split_once(" help Print"))
        .unwrap_or_else(|| panic!("{help}"))
        .0;
    assert!(notify.ends_with("[alias: broadcast]"), "{notify}");
}

#[tokio::test]
async fn arcade_broadcast_still_runs_the_notifier_until_sigterm() {
    // Real NATS when there is one (then the notifier becomes ready); otherwise a port where
    // nothing answers: the notifier still starts, live and not ready, as when NATS is down.
    let nats = backends::configured(Service::Nats);
    let consumer = format!("test-notify-{}", uuid::Uuid::new_v4().simple());
    let port = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap().port()
    };
    let mut worker = Command::new(env!("CARGO_BIN_EXE_arcade"))
        .arg("broadcast")
        .env_clear()
        .env("PATH", "/usr/bin:/bin")
        .env("ARCADE_LISTEN", format!("127.0.0.1:{port}"))
        .env("NATS_URL", nats.as_deref().unwrap_or("nats://127.0.0.1:1"))
        .env("ARCADE_BROADCAST_CONSUMER", &consumer)
        .env("ARCADE_LOG", "warn")
        .stdout(Stdio::null())
        .spawn()
        .expect("the arcade binary starts");
    let base = format!("http://127.0.0.1:{port}");
    let client = reqwest::Client::new();
    let wanted = if nats.is_some() {
        "/health/ready"
    } else {
        "/health/live"
    };
    let mut up = false;
    for _ in 0..200 {
        if let Ok(r) = client.get(format!("{base}{wanted}")).send().await
            && r.status() == 200
        {
            up = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    if !up {
        let _ = worker.kill();
        panic!("`arcade broadcast` did not answer 200 on {wanted}");
    }
    let metrics = client
        .get(format!("{base}/metrics"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(metrics.contains("arcade_build_info"), "{metrics}");
    let stopped = Command::new("kill")
        .args(["-TERM", &worker.id().to_string()])
        .status()
        .unwrap();
    assert!(stopped.success());
    let exit = tokio::task::spawn_blocking(move || worker.wait())
        .await
        .unwrap()
        .unwrap();
    assert!(exit.success(), "{exit:?}");
    if let Some(url) = nats {
        let bus = arcade_events::NatsBus::connect(&url).await.unwrap();
        arcade_events::notify::jetstream::delete_consumer(&bus, &consumer)
            .await
            .unwrap();
    }
}

#[test]
fn the_settings_check_and_the_adapters_parsers_agree_on_database_and_nats_urls() {
    use std::str::FromStr;
    // REDIS_URL from the environment would ask for a session secret as well.
    let secret = "a test secret of thirty-two bytes or more";
    let settings = |flag: &str, url: &str| {
        let argv = ["arcade", "serve", "--session-secret", secret, flag, url];
        let cli = <arcade::config::Cli as clap::Parser>::try_parse_from(argv).unwrap();
        cli.settings().is_ok()
    };
    for url in [
        "postgres://arcade:s3cret@db:5432/arcade",
        "postgresql://arcade@db/arcade?sslmode=require&application_name=x",
        "postgres://arcade@%2Fvar%2Frun%2Fpostgresql/arcade",
        "postgres:///arcade?host=/var/run/postgresql",
        "postgres://arcade@[::1]:5432/arcade",
        "postgres://arcade:s3cret@db:notaport/arcade",
        "postgres://arcade:s3cret@db:65536/arcade",
        "postgres://arcade:s3cret@db:-1/arcade",
        "postgres://arcade:s3cret@[::1/arcade",
        "postgres://arcade:s3cret@db:5432:5433/arcade",
    ] {
        let adapter = sqlx::postgres::PgConnectOptions::from_str(url).is_ok();
        assert_eq!(settings("--database-url", url), adapter, "{url}");
    }
    for url in [
        "nats://127.0.0.1:4222",
        "tls://user:pass@nats.internal:4222",
        "ws://nats:8080",
        "nats://[::1]:4222",
        "nats://nats:notaport",
        "nats://a:4222,nats://b:4222",
        "nats://nats:99999",
    ] {
        let adapter = async_nats::ServerAddr::from_str(url).is_ok();
        assert_eq!(settings("--nats-url", url), adapter, "{url}");
    }
}
