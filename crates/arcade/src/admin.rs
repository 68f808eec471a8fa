//! `arcade admin`: the operators' commands, run straight on the database with the same use
//! cases as the operators' API, so a change is stored with its audit record either way. The
//! command line answers on stdout (a token, a list, the audit log as JSON lines) and says
//! what it changed on stderr.

use std::sync::Arc;

use anyhow::Context;
use arcade_domain::admin::NewAudit;
use arcade_domain::keys::SessionSecret;
use arcade_domain::ports::Observer;
use arcade_domain::query::Limit;
use arcade_domain::service::{Arcade, Ports};
use arcade_domain::session::PlayRules;
use arcade_events::InProcessBus;
use arcade_sessions::{MemoryRankIndex, MemoryRateLimit, MemorySessionStore};

use crate::app::{Store, system_clock};
use crate::config::{
    AdminCommand, AdminSettings, NameRuleKindArg, NamesCommand, PlayerCommand, ResolutionArg,
    ReviewCommand, SeasonCommand, TokenCommand,
};

/// Says on stderr what each action changed (its audit record is in the database).
struct Said;

impl Observer for Said {
    fn admin_action(&self, audit: &NewAudit) {
        eprintln!(
            "arcade admin: {} {} (audited as {})",
            audit.action.as_str(),
            audit.target,
            audit.actor
        );
    }
}

/// The use cases on the configured database. Nothing here plays: sessions and ranks are
/// in-memory stand-ins (the servers bring their own rank indexes up to date when the events
/// of a change reach them), and events wait in the database's outbox for a server's relay.
async fn open(store: &Store) -> Arc<Arcade> {
    let ports = Ports {
        scores: store.scores(),
        sessions: Arc::new(MemorySessionStore::new()),
        ranks: Arc::new(MemoryRankIndex::new()),
        outbox: store.outbox(),
        events: Arc::new(InProcessBus::default()),
        clock: system_clock(),
        observer: Arc::new(Said),
        admin: store.admin(),
        names: store.names(),
        seasons: store.seasons(),
        // Nothing here starts sessions.
        starts: Arc::new(MemoryRateLimit::per_minute(std::num::NonZeroU32::MIN)),
    };
    Arc::new(Arcade::new(
        ports,
        PlayRules::default(),
        &SessionSecret::random(),
    ))
}

/// Run one `arcade admin` command.
pub async fn run(settings: &AdminSettings) -> anyhow::Result<()> {
    let store = Store::open(&settings.storage).await?;
    store.ensure_current_schema().await?;
    let arcade = open(&store).await;
    let result = command(&arcade, settings).await;
    store.close().await;
    result
}

async fn command(arcade: &Arcade, settings: &AdminSettings) -> anyhow::Result<()> {
    let actor = settings.actor.as_str();
    match &settings.command {
        AdminCommand::Token(TokenCommand::Create { name }) => {
            let created = arcade
                .create_operator(name, actor)
                .await
                .context("cannot create the operator")?;
            eprintln!(
                "arcade admin: the token of {} follows; it is shown this once",
                created.operator.name
            );
            println!("{}", created.token);
        }
        AdminCommand::Token(TokenCommand::List) => {
            for o in arcade.operators().await? {
                let line = serde_json::json!({
                    "name": o.name,
                    "created_at": o.created_at.to_rfc3339(),
                    "revoked_at": o.revoked_at.map(|t| t.to_rfc3339()),
                });
                println!("{line}");
            }
        }
        AdminCommand::Token(TokenCommand::Revoke { name, reason }) => {
            arcade
                .revoke_operator(name, actor, reason.as_deref())
                .await
                .context("cannot revoke the operator")?;
        }
        AdminCommand::Player {
            action,
            name,
            reason,
            block_name,
        } => {
            let reason = reason.as_deref();
            if *block_name && *action != PlayerCommand::Delete {
                anyhow::bail!("--block-name goes with `delete` only");
            }
            match action {
                PlayerCommand::Export => {
                    let data = arcade
                        .export_player(name)
                        .await
                        .with_context(|| format!("cannot export player {name}"))?;
                    let export = arcade_server::players::PlayerExport::of(data, arcade.now());
                    println!("{}", serde_json::to_string_pretty(&export)?);
                    return Ok(());
                }
                PlayerCommand::Delete => {
                    let receipt = arcade
                        .erase_player(name, *block_name, actor, reason)
                        .await
                        .with_context(|| format!("cannot delete player {name}"))?;
                    let erasure = arcade_server::players::Erasure::from(receipt);
                    println!("{}", serde_json::to_string(&erasure)?);
                    return Ok(());
                }
                _ => {}
            }
            match action {
                PlayerCommand::Export | PlayerCommand::Delete => Ok(()),
                PlayerCommand::Hide => arcade.set_player_hidden(name, true, actor, reason).await,
                PlayerCommand::Unhide => arcade.set_player_hidden(name, false, actor, reason).await,
                PlayerCommand::Ban => arcade.set_player_banned(name, true, actor, reason).await,
                PlayerCommand::Unban => arcade.set_player_banned(name, false, actor, reason).await,
            }
            .with_context(|| format!("cannot change player {name}"))?;
        }
        AdminCommand::Rename {
            name,
            to,
            block_old,
            reason,
        } => {
            arcade
                .rename_player(name, to, *block_old, actor, reason.as_deref())
                .await
                .with_context(|| format!("cannot rename player {name}"))?;
        }
        AdminCommand::RemoveScore { session_id, reason } => {
            arcade
                .remove_score(session_id, actor, Some(reason))
                .await
                .with_context(|| format!("cannot remove score {session_id}"))?;
        }
        AdminCommand::Names(names) => self::names(arcade, actor, names).await?,
        AdminCommand::Review(ReviewCommand::List { limit }) => {
            for item in arcade.review_queue(Limit::parse(Some(*limit))?).await? {
                let entry = arcade_server::admin::ReviewEntry::from(item);
                println!("{}", serde_json::to_string(&entry)?);
            }
        }
        AdminCommand::Review(ReviewCommand::Resolve {
            item,
            resolution,
            reason,
        }) => {
            use arcade_domain::admin::Resolution;
            let resolution = match resolution {
                ResolutionArg::Dismiss => Resolution::Dismiss,
                ResolutionArg::RemoveScore => Resolution::RemoveScore,
                ResolutionArg::HidePlayer => Resolution::HidePlayer,
            };
            arcade
                .resolve_review(item, resolution, actor, reason.as_deref())
                .await
                .with_context(|| format!("cannot resolve review item {item}"))?;
        }
        AdminCommand::Season(season) => seasons(arcade, actor, season).await?,
        AdminCommand::Audit { limit } => {
            let page = arcade.audit_log(Limit::parse(Some(*limit))?, None).await?;
            for r in page.records {
                let line = serde_json::json!({
                    "id": r.id,
                    "at": r.at.to_rfc3339(),
                    "actor": r.actor,
                    "action": r.action,
                    "target": r.target,
                    "reason": r.reason,
                    "before": r.before,
                    "after": r.after,
                });
                println!("{line}");
            }
        }
    }
    Ok(())
}

/// `arcade admin names ...`.
async fn names(arcade: &Arcade, actor: &str, command: &NamesCommand) -> anyhow::Result<()> {
    use arcade_domain::name_rules::{NameRule, RuleKind};
    let line = |r: &NameRule| {
        serde_json::json!({
            "id": r.id,
            "kind": r.kind.as_str(),
            "value": r.value,
            "folded": r.folded,
            "created_at": r.created_at.to_rfc3339(),
            "created_by": r.created_by,
        })
    };
    match command {
        NamesCommand::Add {
            value,
            kind,
            reason,
        } => {
            let kind = match kind {
                NameRuleKindArg::Word => RuleKind::Word,
                NameRuleKindArg::Pattern => RuleKind::Pattern,
            };
            let rule = arcade
                .add_name_rule(kind, value, actor, reason.as_deref())
                .await
                .context("cannot add the name rule")?;
            println!("{}", line(&rule));
        }
        NamesCommand::Remove { id, reason } => {
            arcade
                .remove_name_rule(*id, actor, reason.as_deref())
                .await
                .with_context(|| format!("cannot remove name rule {id}"))?;
        }
        NamesCommand::List => {
            for rule in arcade.name_rules().await? {
                println!("{}", line(&rule));
            }
        }
        NamesCommand::Check => {
            let reloaded = arcade.reload_name_rules().await?;
            for (id, e) in &reloaded.refused {
                eprintln!("arcade admin: name rule {id} is left out: {e}");
            }
            let mut cursor = None;
            loop {
                let page = arcade
                    .check_names(Limit::parse(Some(100))?, cursor.as_deref())
                    .await?;
                for m in &page.matches {
                    let found = serde_json::json!({
                        "player": m.player.name,
                        "rule": m.rule,
                        "hidden": m.player.hidden_at.is_some(),
                        "banned": m.player.banned_at.is_some(),
                    });
                    println!("{found}");
                }
                match page.next_cursor {
                    Some(next) => cursor = Some(next),
                    None => break,
                }
            }
        }
    }
    Ok(())
}

/// `arcade admin season ...`: seasons printed as the API shows them.
async fn seasons(arcade: &Arcade, actor: &str, command: &SeasonCommand) -> anyhow::Result<()> {
    use arcade_domain::season::parse_instant;
    use arcade_server::dto::SeasonInfo;
    match command {
        SeasonCommand::Add {
            slug,
            title,
            start,
            end,
            reason,
        } => {
            let season = arcade
                .add_season(
                    slug,
                    title,
                    parse_instant("--start", start)?,
                    parse_instant("--end", end)?,
                    actor,
                    reason.as_deref(),
                )
                .await
                .with_context(|| format!("cannot add season {slug}"))?;
            let info = SeasonInfo::of(&season, arcade.now());
            println!("{}", serde_json::to_string(&info)?);
        }
        SeasonCommand::List => {
            let now = arcade.now();
            for season in arcade.seasons().await? {
                println!("{}", serde_json::to_string(&SeasonInfo::of(&season, now))?);
            }
        }
        SeasonCommand::Remove { slug, reason } => {
            arcade
                .remove_season(slug, actor, Some(reason))
                .await
                .with_context(|| format!("cannot remove season {slug}"))?;
        }
    }
    Ok(())
}
