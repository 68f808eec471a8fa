//! `arcade check-config ROLE`: proves that an environment (a container spec, a compose
//! service) only sets variables the role accepts, with values the role's own check
//! ([`Cli::settings`]) takes.

use clap::{CommandFactory, Parser};

use crate::config::{Cli, Role};

/// Every environment variable `role` reads.
pub fn accepted(role: Role) -> Vec<String> {
    let cli = Cli::command();
    cli.get_subcommands()
        .find(|c| c.get_name() == role.name())
        .map(|c| {
            c.get_arguments()
                .filter_map(|a| a.get_env())
                .map(|e| e.to_string_lossy().into_owned())
                .collect()
        })
        .unwrap_or_default()
}

/// Check `vars` (name, value) for `role`. `Ok` lists the settings found; `Err` every problem.
pub fn check(role: Role, vars: &[(String, String)]) -> Result<Vec<String>, Vec<String>> {
    let known = accepted(role);
    let mut problems: Vec<String> = vars
        .iter()
        .filter(|(k, _)| k.starts_with("ARCADE_") && !known.contains(k))
        .map(|(k, _)| format!("{k} is not a setting of `arcade {}`", role.name()))
        .collect();
    // The role's settings come from the environment, as when it runs, through the same check.
    match Cli::try_parse_from(["arcade", role.name()]) {
        Err(e) => problems.push(e.to_string().trim().to_owned()),
        Ok(cli) => {
            if let Err(e) = cli.settings() {
                // With its causes, as `arcade` prints an error that stops a role.
                problems.push(format!("{:#}", anyhow::Error::from(e)));
            }
        }
    }
    if problems.is_empty() {
        Ok(vars
            .iter()
            .filter(|(k, _)| known.contains(k))
            .map(|(k, _)| k.clone())
            .collect())
    } else {
        Err(problems)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_role_accepts_its_own_settings_only() {
        let serve = accepted(Role::Serve);
        for name in [
            "ARCADE_LISTEN",
            "DATABASE_URL",
            "REDIS_URL",
            "NATS_URL",
            "ARCADE_DRAIN_DELAY",
        ] {
            assert!(serve.contains(&name.to_owned()), "{name}");
        }
        let migrate = accepted(Role::Migrate);
        assert!(migrate.contains(&"DATABASE_URL".to_owned()));
        assert!(!migrate.contains(&"ARCADE_LISTEN".to_owned()));
        let notify = accepted(Role::Notify);
        for name in [
            "ARCADE_LISTEN",
            "NATS_URL",
            "ARCADE_LOG_FORMAT",
            "ARCADE_LOG",
            "ARCADE_DISCORD_WEBHOOK_URL",
            "ARCADE_DISCORD_WEBHOOK_URL_FILE",
            "ARCADE_SLACK_WEBHOOK_URL",
            "ARCADE_SLACK_WEBHOOK_URL_FILE",
            "ARCADE_PUBLIC_URL",
            "ARCADE_WEBHOOK_MAX_ATTEMPTS",
            "ARCADE_WEBHOOK_PER_MINUTE",
            "ARCADE_BROADCAST_CONSUMER",
        ] {
            assert!(notify.contains(&name.to_owned()), "{name}");
        }
        assert!(!notify.contains(&"DATABASE_URL".to_owned()));
        for name in ["NATS_CREDS", "ARCADE_NATS_STREAM_REPLICAS"] {
            assert!(notify.contains(&name.to_owned()), "{name}");
            assert!(serve.contains(&name.to_owned()), "{name}");
        }
        for name in ["REDIS_PASSWORD", "DATABASE_PASSWORD"] {
            assert!(serve.contains(&name.to_owned()), "{name}");
        }
        let backup = accepted(Role::Backup);
        for name in ["ARCADE_BACKUP_TO", "ARCADE_DATA_DIR", "DATABASE_URL"] {
            assert!(backup.contains(&name.to_owned()), "{name}");
        }
        assert!(!backup.contains(&"ARCADE_LISTEN".to_owned()));
        let vars = vec![("ARCADE_LISTN".to_owned(), "0.0.0.0:8080".to_owned())];
        let problems = check(Role::Serve, &vars).unwrap_err();
        assert!(problems[0].contains("ARCADE_LISTN"), "{problems:?}");
    }
}
