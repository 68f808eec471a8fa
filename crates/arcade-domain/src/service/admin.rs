//! The operators' use cases: operator tokens (created, listed, revoked, checked) and the audit
//! log. Every change is stored with its audit record and reported to the observer (which
//! counts and logs it).

use crate::DomainError;
use crate::admin::{
    self, AdminAction, AuditRecord, NewAudit, Operator, OperatorName, parse_reason,
};
use crate::query::Limit;
use crate::token::TokenDigest;

use super::Arcade;

/// A created operator and their token, shown this once.
#[derive(Debug, Clone)]
pub struct CreatedOperator {
    pub operator: Operator,
    pub token: String,
}

/// A page of the audit log, newest first.
#[derive(Debug, Clone)]
pub struct AuditPage {
    pub records: Vec<AuditRecord>,
    pub next_cursor: Option<String>,
}

/// An operator as the audit log shows them (never their token's digest).
fn operator_json(o: &Operator) -> serde_json::Value {
    serde_json::json!({
        "name": o.name,
        "created_at": o.created_at.to_rfc3339(),
        "revoked_at": o.revoked_at.map(|t| t.to_rfc3339()),
    })
}

fn bad_audit_cursor() -> DomainError {
    DomainError::InvalidQuery(
        "the cursor is not one this server issued: pass next_cursor from a previous page unchanged"
            .to_owned(),
    )
}

impl Arcade {
    /// Create an operator called `name` and their token, on behalf of `actor` (an operator's
    /// name, or `cli:USER`).
    pub async fn create_operator(
        &self,
        name: &str,
        actor: &str,
    ) -> Result<CreatedOperator, DomainError> {
        let name = OperatorName::parse(name)?;
        let issued = admin::issue_token();
        let now = self.now();
        let operator = Operator {
            id: uuid::Uuid::new_v4(),
            name: name.as_str().to_owned(),
            token_digest: issued.digest,
            created_at: now,
            revoked_at: None,
        };
        let audit = NewAudit {
            at: now,
            actor: actor.to_owned(),
            action: AdminAction::TokenCreated,
            target: format!("operator:{}", operator.name),
            reason: None,
            before: None,
            after: Some(operator_json(&operator)),
        };
        if !self.ports.admin.create_operator(&operator, &audit).await? {
            return Err(DomainError::OperatorExists(operator.name));
        }
        self.ports.observer.admin_action(&audit);
        Ok(CreatedOperator {
            operator,
            token: issued.token,
        })
    }

    /// Every operator, revoked ones too, by name.
    pub async fn operators(&self) -> Result<Vec<Operator>, DomainError> {
        Ok(self.ports.admin.operators().await?)
    }

    /// Revoke the operator called `name`: their token opens nothing from now on.
    pub async fn revoke_operator(
        &self,
        name: &str,
        actor: &str,
        reason: Option<&str>,
    ) -> Result<(), DomainError> {
        let name = OperatorName::parse(name)?;
        let reason = parse_reason(reason)?;
        let now = self.now();
        let current = self
            .ports
            .admin
            .operators()
            .await?
            .into_iter()
            .find(|o| o.name == name.as_str() && o.is_active())
            .ok_or_else(|| DomainError::OperatorNotFound(name.as_str().to_owned()))?;
        let revoked = Operator {
            revoked_at: Some(now),
            ..current.clone()
        };
        let audit = NewAudit {
            at: now,
            actor: actor.to_owned(),
            action: AdminAction::TokenRevoked,
            target: format!("operator:{}", current.name),
            reason,
            before: Some(operator_json(&current)),
            after: Some(operator_json(&revoked)),
        };
        if !self
            .ports
            .admin
            .revoke_operator(name.as_str(), &audit)
            .await?
        {
            // Revoked meanwhile by someone else.
            return Err(DomainError::OperatorNotFound(name.as_str().to_owned()));
        }
        self.ports.observer.admin_action(&audit);
        Ok(())
    }

    /// The active operator whose token this is; `OperatorUnauthorized` for anything else (no
    /// token, a player's token, a revoked or unknown one), with no hint of which. With an
    /// identity provider, its identity tokens are operators' too, named
    /// [`admin::IDENTITY_PREFIX`] and the name the provider gives; an unreachable provider is
    /// a backend error (503), not a refusal.
    pub async fn authenticate_operator(&self, token: &str) -> Result<Operator, DomainError> {
        if let Some(identity) = &self.identity
            && admin::looks_like_identity_token(token)
        {
            return match identity.verify(token).await? {
                Some(name) => Ok(Operator {
                    id: uuid::Uuid::new_v5(&uuid::Uuid::NAMESPACE_URL, name.as_bytes()),
                    name: format!("{}{name}", admin::IDENTITY_PREFIX),
                    token_digest: TokenDigest::of(token),
                    created_at: self.now(),
                    revoked_at: None,
                }),
                None => Err(DomainError::OperatorUnauthorized),
            };
        }
        if !admin::looks_like_token(token) {
            return Err(DomainError::OperatorUnauthorized);
        }
        let digest = TokenDigest::of(token);
        match self.ports.admin.operator_by_token(&digest).await? {
            // The store found it by digest; the constant-time comparison guards against a
            // store that matched loosely.
            Some(o) if o.is_active() && o.token_digest.matches(token) => Ok(o),
            _ => Err(DomainError::OperatorUnauthorized),
        }
    }

    /// A page of the audit log, newest first.
    pub async fn audit_log(
        &self,
        limit: Limit,
        cursor: Option<&str>,
    ) -> Result<AuditPage, DomainError> {
        let before = cursor
            .map(|c| {
                c.strip_prefix("a")
                    .and_then(|n| n.parse::<i64>().ok())
                    .filter(|n| *n > 0)
                    .ok_or_else(bad_audit_cursor)
            })
            .transpose()?;
        let mut records = self.ports.admin.audit_log(before, limit.get() + 1).await?;
        let next_cursor = if records.len() > limit.get() {
            records.truncate(limit.get());
            records.last().map(|r| format!("a{}", r.id))
        } else {
            None
        };
        Ok(AuditPage {
            records,
            next_cursor,
        })
    }
}
