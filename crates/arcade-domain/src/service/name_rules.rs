//! The name deny list's use cases: operators add and remove rules (each audited, with an event
//! that makes every replica reload the list), a new name is checked against the list when it
//! is claimed, and existing names are checked on demand, a page at a time.

use std::sync::Arc;
use std::sync::atomic::Ordering;

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde_json::json;

use crate::DomainError;
use crate::admin::{AdminAction, NewAudit, parse_reason};
use crate::event::Event;
use crate::name::PlayerName;
use crate::name_rules::{DenyList, MAX_RULES, NameRule, NewNameRule, ParsedRule, RuleKind};
use crate::ports::PlayerRecord;
use crate::query::Limit;

use super::Arcade;

/// Players read from the store per round of a check.
const CHECK_BATCH: usize = 500;
/// Most players one check reads: a check of a large arcade goes on from its cursor, so no
/// request walks every player at once.
pub const CHECK_SCAN: usize = 5000;

/// The list as a reload left it.
#[derive(Debug)]
pub struct Reloaded {
    /// Rules in force.
    pub rules: usize,
    /// Stored rules this build refuses, left out, with why.
    pub refused: Vec<(i64, DomainError)>,
}

/// A player whose name a rule matches.
#[derive(Debug, Clone)]
pub struct DeniedName {
    pub player: PlayerRecord,
    pub rule: i64,
}

/// A page of a check of existing names.
#[derive(Debug, Clone)]
pub struct NameCheckPage {
    pub matches: Vec<DeniedName>,
    /// Where the check goes on; `None` once every player was read.
    pub next_cursor: Option<String>,
}

/// A rule as the audit log shows it.
fn rule_json(r: &NameRule) -> serde_json::Value {
    json!({
        "id": r.id,
        "kind": r.kind.as_str(),
        "value": r.value,
        "created_at": r.created_at.to_rfc3339(),
        "created_by": r.created_by,
    })
}

fn bad_check_cursor() -> DomainError {
    DomainError::InvalidQuery(
        "the cursor is not one this server issued: pass next_cursor from a previous page unchanged"
            .to_owned(),
    )
}

impl Arcade {
    /// The deny list in force on this replica.
    pub fn deny_list(&self) -> Arc<DenyList> {
        match self.deny_list.read() {
            Ok(list) => list.1.clone(),
            Err(poisoned) => poisoned.into_inner().1.clone(),
        }
    }

    /// Refuse a name to claim that a rule matches, without saying which rule.
    pub(super) fn refuse_denied(&self, name: &PlayerName) -> Result<(), DomainError> {
        match self.deny_list().matching(name.key()) {
            Some(_) => Err(DomainError::NameDenied(name.as_str().to_owned())),
            None => Ok(()),
        }
    }

    /// Load the deny list from the store: at start, when an operator's change reaches this
    /// replica, and now and then in case a change's event was missed.
    ///
    /// Loads may overlap (an operator's change reloads at once while a periodic load is on
    /// its way): the list read by the load begun last is kept, never one read before it.
    pub async fn reload_name_rules(&self) -> Result<Reloaded, DomainError> {
        let load = self.deny_list_loads.fetch_add(1, Ordering::SeqCst) + 1;
        let rules = self.ports.names.name_rules().await?;
        let (list, refused) = DenyList::build(&rules);
        let reloaded = Reloaded {
            rules: list.len(),
            refused,
        };
        let mut current = match self.deny_list.write() {
            Ok(current) => current,
            Err(poisoned) => poisoned.into_inner(),
        };
        if load > current.0 {
            *current = (load, Arc::new(list));
        }
        Ok(reloaded)
    }

    /// Every rule, oldest first.
    pub async fn name_rules(&self) -> Result<Vec<NameRule>, DomainError> {
        Ok(self.ports.names.name_rules().await?)
    }

    /// Add a rule to the deny list: new names it matches cannot be claimed, on every replica
    /// once the change's event reaches it (on this one at once).
    pub async fn add_name_rule(
        &self,
        kind: RuleKind,
        value: &str,
        actor: &str,
        reason: Option<&str>,
    ) -> Result<NameRule, DomainError> {
        let reason = parse_reason(reason)?;
        let parsed = ParsedRule::parse(kind, value)?;
        if self.ports.names.name_rules().await?.len() >= MAX_RULES {
            return Err(DomainError::InvalidNameRule(format!(
                "the deny list holds at most {MAX_RULES} rules: remove some, or write a pattern \
                 that covers several"
            )));
        }
        let now = self.now();
        let rule = NewNameRule {
            kind,
            value: parsed.value,
            folded: parsed.folded,
            created_at: now,
            created_by: actor.to_owned(),
        };
        let audit = |stored: &NameRule| NewAudit {
            at: now,
            actor: actor.to_owned(),
            action: AdminAction::NameRuleAdded,
            target: format!("name_rule:{}", stored.id),
            reason: reason.clone(),
            before: None,
            after: Some(rule_json(stored)),
        };
        let events = [Event::name_rules_changed(now)];
        let stored = self
            .ports
            .names
            .add_name_rule(&rule, &audit, &events)
            .await?
            .ok_or_else(|| DomainError::NameRuleExists(kind.as_str().to_owned()))?;
        self.ports.observer.admin_action(&audit(&stored));
        self.ports.outbox.wake();
        self.reload_name_rules().await?;
        Ok(stored)
    }

    /// Remove rule `id` from the deny list.
    pub async fn remove_name_rule(
        &self,
        id: i64,
        actor: &str,
        reason: Option<&str>,
    ) -> Result<(), DomainError> {
        let reason = parse_reason(reason)?;
        let rule = self
            .ports
            .names
            .name_rules()
            .await?
            .into_iter()
            .find(|r| r.id == id)
            .ok_or(DomainError::NameRuleNotFound(id))?;
        let now = self.now();
        let audit = NewAudit {
            at: now,
            actor: actor.to_owned(),
            action: AdminAction::NameRuleRemoved,
            target: format!("name_rule:{id}"),
            reason,
            before: Some(rule_json(&rule)),
            after: None,
        };
        let events = [Event::name_rules_changed(now)];
        if !self
            .ports
            .names
            .remove_name_rule(id, &audit, &events)
            .await?
        {
            // Removed meanwhile by someone else.
            return Err(DomainError::NameRuleNotFound(id));
        }
        self.ports.observer.admin_action(&audit);
        self.ports.outbox.wake();
        self.reload_name_rules().await?;
        Ok(())
    }

    /// Existing players whose names the deny list (as in force on this replica) matches, by
    /// key: up to `limit` of them, reading at most [`CHECK_SCAN`] players; `next_cursor` goes
    /// on where this page stopped.
    pub async fn check_names(
        &self,
        limit: Limit,
        cursor: Option<&str>,
    ) -> Result<NameCheckPage, DomainError> {
        let mut after = cursor
            .map(|c| {
                URL_SAFE_NO_PAD
                    .decode(c)
                    .ok()
                    .and_then(|bytes| String::from_utf8(bytes).ok())
                    .filter(|key| !key.is_empty())
                    .ok_or_else(bad_check_cursor)
            })
            .transpose()?;
        let list = self.deny_list();
        let mut matches = Vec::new();
        let mut read = 0;
        loop {
            let batch = self
                .ports
                .names
                .players_after(after.as_deref(), CHECK_BATCH.min(CHECK_SCAN - read))
                .await?;
            let last_batch = batch.len() < CHECK_BATCH.min(CHECK_SCAN - read);
            for player in batch {
                read += 1;
                after = Some(player.key.clone());
                if let Some(rule) = list.matching(&player.key) {
                    matches.push(DeniedName { player, rule });
                    if matches.len() == limit.get() {
                        return Ok(NameCheckPage {
                            matches,
                            next_cursor: after.map(|k| URL_SAFE_NO_PAD.encode(k)),
                        });
                    }
                }
            }
            if last_batch {
                return Ok(NameCheckPage {
                    matches,
                    next_cursor: None,
                });
            }
            if read >= CHECK_SCAN {
                return Ok(NameCheckPage {
                    matches,
                    next_cursor: after.map(|k| URL_SAFE_NO_PAD.encode(k)),
                });
            }
        }
    }
}
