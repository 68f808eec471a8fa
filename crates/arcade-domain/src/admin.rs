//! Operators and what they do: operator names and tokens (apart from players' tokens, and
//! stored only as digests), the actions an operator can take, and the audit record every
//! action leaves (who, what, when, why, before and after).

use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::DomainError;
use crate::time::Timestamp;
use crate::token::{self, TokenDigest};

/// Every operator token starts with this, so one pasted where a player's token belongs (or
/// found in a log) is recognised for what it is.
pub const TOKEN_PREFIX: &str = "arcade_op_";

/// Longest operator name.
pub const MAX_OPERATOR_NAME: usize = 64;
/// Longest reason an operator may give for an action.
pub const MAX_REASON: usize = 500;

/// An operator's name: 1 to [`MAX_OPERATOR_NAME`] ASCII letters, digits, `.`, `_`, `-` or `@`
/// (a login or an e-mail address), as given.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OperatorName(String);

impl OperatorName {
    pub fn parse(raw: &str) -> Result<Self, DomainError> {
        let name = raw.trim();
        let allowed = |c: char| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-' | '@');
        if name.is_empty() || name.len() > MAX_OPERATOR_NAME || !name.chars().all(allowed) {
            return Err(DomainError::InvalidOperatorName(format!(
                "an operator name is 1 to {MAX_OPERATOR_NAME} ASCII letters, digits, '.', '_', '-' or '@'; got {raw:?}"
            )));
        }
        Ok(Self(name.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// Why an operator acted: free text, trimmed, at most [`MAX_REASON`] characters; an empty
/// reason is none.
pub fn parse_reason(raw: Option<&str>) -> Result<Option<String>, DomainError> {
    let Some(reason) = raw.map(str::trim).filter(|r| !r.is_empty()) else {
        return Ok(None);
    };
    if reason.chars().count() > MAX_REASON {
        return Err(DomainError::InvalidReason(format!(
            "a reason is at most {MAX_REASON} characters"
        )));
    }
    if reason.chars().any(char::is_control) {
        return Err(DomainError::InvalidReason(
            "a reason is one line of text without control characters".to_owned(),
        ));
    }
    Ok(Some(reason.to_owned()))
}

/// An operator's token, fresh: shown once to whoever created it; only its digest is kept.
#[derive(Debug, Clone)]
pub struct IssuedOperatorToken {
    pub token: String,
    pub digest: TokenDigest,
}

/// A new operator token: [`TOKEN_PREFIX`] and 256 random bits.
pub fn issue_token() -> IssuedOperatorToken {
    let token = format!("{TOKEN_PREFIX}{}", token::issue().token);
    IssuedOperatorToken {
        digest: TokenDigest::of(&token),
        token,
    }
}

/// Whether `raw` has the shape of an operator token (a cheap check before any look-up).
pub fn looks_like_token(raw: &str) -> bool {
    raw.strip_prefix(TOKEN_PREFIX)
        .is_some_and(|rest| !rest.is_empty() && rest.len() <= 128)
}

/// Longest identity token looked at: providers' tokens are a few kilobytes at most.
const MAX_IDENTITY_TOKEN: usize = 16 * 1024;

/// Whether `raw` has the shape of a signed identity token (a JWT: three base64url parts), as
/// an OpenID Connect provider issues to operators who sign in with it.
pub fn looks_like_identity_token(raw: &str) -> bool {
    raw.len() <= MAX_IDENTITY_TOKEN
        && raw.split('.').count() == 3
        && raw.split('.').all(|part| {
            !part.is_empty()
                && part
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
        })
}

/// Prefix of the names of operators an identity provider vouches for, in the audit log and
/// `whoami`: they cannot be mistaken for operators with tokens of their own.
pub const IDENTITY_PREFIX: &str = "oidc:";

/// An operator: a name and the digest of their token. A revoked operator's token no longer
/// opens anything; the record stays, for the audit log's sake.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Operator {
    pub id: Uuid,
    pub name: String,
    pub token_digest: TokenDigest,
    pub created_at: Timestamp,
    pub revoked_at: Option<Timestamp>,
}

impl Operator {
    pub fn is_active(&self) -> bool {
        self.revoked_at.is_none()
    }
}

/// What an operator did: the `action` of an audit record and the label of
/// `arcade_admin_actions_total`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AdminAction {
    TokenCreated,
    TokenRevoked,
    PlayerHidden,
    PlayerUnhidden,
    PlayerRenamed,
    PlayerBanned,
    PlayerUnbanned,
    ScoreRemoved,
    ReviewResolved,
    NameRuleAdded,
    NameRuleRemoved,
    /// A player erased with everything kept of them (recorded without their name).
    PlayerErased,
    SeasonAdded,
    SeasonRemoved,
}

impl AdminAction {
    pub const ALL: [AdminAction; 14] = [
        Self::TokenCreated,
        Self::TokenRevoked,
        Self::PlayerHidden,
        Self::PlayerUnhidden,
        Self::PlayerRenamed,
        Self::PlayerBanned,
        Self::PlayerUnbanned,
        Self::ScoreRemoved,
        Self::ReviewResolved,
        Self::NameRuleAdded,
        Self::NameRuleRemoved,
        Self::PlayerErased,
        Self::SeasonAdded,
        Self::SeasonRemoved,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::TokenCreated => "token_created",
            Self::TokenRevoked => "token_revoked",
            Self::PlayerHidden => "player_hidden",
            Self::PlayerUnhidden => "player_unhidden",
            Self::PlayerRenamed => "player_renamed",
            Self::PlayerBanned => "player_banned",
            Self::PlayerUnbanned => "player_unbanned",
            Self::ScoreRemoved => "score_removed",
            Self::ReviewResolved => "review_resolved",
            Self::NameRuleAdded => "name_rule_added",
            Self::NameRuleRemoved => "name_rule_removed",
            Self::PlayerErased => "player_erased",
            Self::SeasonAdded => "season_added",
            Self::SeasonRemoved => "season_removed",
        }
    }
}

/// A player's report of a name (and, when given, one of its scores), kept without anything of
/// who made it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewReport {
    pub player_key: String,
    pub session_id: Option<crate::session::SessionId>,
    pub reason: Option<String>,
    pub at: Timestamp,
}

/// What waits in the review queue.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ReviewKind {
    /// A score stored with human-likeness flags.
    FlaggedScore,
    /// A player's report.
    Report,
}

/// One item of the review queue: `score:SESSION` for a flagged score, `report:ID` for a
/// report.
#[derive(Debug, Clone, PartialEq)]
pub struct ReviewItem {
    pub item: String,
    pub kind: ReviewKind,
    /// The player's name (or key, for a report of a player since renamed or erased).
    pub player: String,
    pub game: Option<String>,
    pub session_id: Option<crate::session::SessionId>,
    pub score: Option<u32>,
    pub flags: Vec<String>,
    /// The report's reason.
    pub reason: Option<String>,
    /// When the score was achieved, or the report made.
    pub at: Timestamp,
}

/// How many items wait for review, and since when the oldest.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct ReviewDepth {
    pub items: u64,
    pub oldest_at: Option<Timestamp>,
}

/// What an operator decides about a review item.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Resolution {
    /// Nothing to do.
    Dismiss,
    /// Remove the score (of a flagged score, or the score a report names).
    RemoveScore,
    /// Hide the player.
    HidePlayer,
}

impl Resolution {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Dismiss => "dismiss",
            Self::RemoveScore => "remove_score",
            Self::HidePlayer => "hide_player",
        }
    }
}

/// An audit record to write, with the change it reports.
#[derive(Debug, Clone, PartialEq)]
pub struct NewAudit {
    pub at: Timestamp,
    /// Who acted: an operator's name, or `cli:USER` for the command line on the database.
    pub actor: String,
    pub action: AdminAction,
    /// What it was done to: `operator:NAME`, `player:KEY`, `score:SESSION`, `name_rule:ID`,
    /// `season:SLUG`.
    pub target: String,
    pub reason: Option<String>,
    /// The target's state before and after, as JSON (none when there was nothing before or
    /// is nothing after).
    pub before: Option<serde_json::Value>,
    pub after: Option<serde_json::Value>,
}

/// A stored audit record: [`NewAudit`] and its place in the log (ids grow with time).
#[derive(Debug, Clone, PartialEq)]
pub struct AuditRecord {
    pub id: i64,
    pub at: Timestamp,
    pub actor: String,
    pub action: String,
    pub target: String,
    pub reason: Option<String>,
    pub before: Option<serde_json::Value>,
    pub after: Option<serde_json::Value>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn operator_names_are_logins_or_addresses() {
        assert_eq!(OperatorName::parse(" ann ").unwrap().as_str(), "ann");
        assert!(OperatorName::parse("ops@example.org").is_ok());
        assert!(OperatorName::parse("a.b_c-d").is_ok());
        for bad in ["", "   ", "ann smith", "änn", "a/b", &"x".repeat(65)] {
            let e = OperatorName::parse(bad).unwrap_err();
            assert_eq!(e.code(), "invalid_operator_name", "{bad:?}");
        }
    }

    #[test]
    fn operator_tokens_carry_their_prefix_and_only_their_digest_matches() {
        let t = issue_token();
        assert!(t.token.starts_with(TOKEN_PREFIX));
        assert!(looks_like_token(&t.token));
        assert!(t.digest.matches(&t.token));
        assert_ne!(issue_token().token, t.token);
        assert!(!looks_like_token("a player's token"));
        assert!(!looks_like_token(TOKEN_PREFIX));
    }

    #[test]
    fn reasons_are_one_trimmed_line_of_bounded_length() {
        assert_eq!(parse_reason(None).unwrap(), None);
        assert_eq!(parse_reason(Some("  ")).unwrap(), None);
        assert_eq!(
            parse_reason(Some(" cheated ")).unwrap().as_deref(),
            Some("cheated")
        );
        assert!(parse_reason(Some(&"é".repeat(MAX_REASON))).is_ok());
        assert!(parse_reason(Some(&"é".repeat(MAX_REASON + 1))).is_err());
        assert!(parse_reason(Some("two\nlines")).is_err());
    }

    #[test]
    fn action_labels_are_distinct_snake_case() {
        let labels: std::collections::BTreeSet<_> =
            AdminAction::ALL.iter().map(|a| a.as_str()).collect();
        assert_eq!(labels.len(), AdminAction::ALL.len());
        for a in AdminAction::ALL {
            let json = serde_json::to_string(&a).unwrap();
            assert_eq!(json, format!("\"{}\"", a.as_str()));
        }
    }
}
