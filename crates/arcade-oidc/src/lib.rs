//! Operators who sign in with an OpenID Connect provider: a bearer token that is a JWT is
//! checked against the keys the provider publishes (found through its discovery document),
//! its issuer, the configured audience and, when one is configured, a role in a claim. The
//! keys are kept and fetched again hourly, or at once (at most every half minute) when a
//! token names a key not seen yet, which is how providers rotate them.

use std::collections::HashSet;
use std::time::{Duration, Instant};

use arcade_domain::BackendError;
use arcade_domain::ports::OperatorIdentity;
use async_trait::async_trait;
use jsonwebtoken::jwk::{Jwk, JwkSet};
use jsonwebtoken::{Algorithm, DecodingKey, Validation};
use serde::Deserialize;
use serde_json::{Map, Value};
use tokio::sync::Mutex;

const BACKEND: &str = "oidc";
/// Keys older than this are fetched again before use.
const KEYS_FRESH_FOR: Duration = Duration::from_secs(3600);
/// Least time between two fetches for a key the provider did not publish: tokens naming
/// made-up keys cannot make the server hammer the provider.
const REFETCH_AFTER: Duration = Duration::from_secs(30);
/// A fetch of the discovery document or the keys that takes longer has failed.
const FETCH_TIMEOUT: Duration = Duration::from_secs(5);
/// Clock difference tolerated on `exp` and `nbf`.
const LEEWAY_SECONDS: u64 = 60;
/// Longest operator name taken from a claim.
const MAX_NAME: usize = 100;

/// Which provider, and what its tokens must hold to be an operator's.
#[derive(Debug, Clone)]
pub struct OidcSettings {
    /// The issuer exactly as its tokens' `iss` name it (discovery is under it).
    pub issuer: url::Url,
    /// What the tokens' `aud` must hold (the client id Arcade is registered with).
    pub audience: String,
    /// The claim naming the operator in the audit log (`sub` when a token lacks it).
    pub name_claim: String,
    /// The claim listing the operator's roles or groups.
    pub role_claim: String,
    /// The role an operator must have; `None` lets every token of the audience in.
    pub role: Option<String>,
}

/// The keys last fetched, and when.
#[derive(Default)]
struct Keys {
    set: Option<JwkSet>,
    fetched: Option<Instant>,
    tried: Option<Instant>,
}

/// A provider's tokens checked as operators' (see the module's documentation).
pub struct OidcOperators {
    settings: OidcSettings,
    http: reqwest::Client,
    keys: Mutex<Keys>,
    refetch_after: Duration,
}

impl std::fmt::Debug for OidcOperators {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("OidcOperators")
            .field("issuer", &self.settings.issuer.as_str())
            .finish_non_exhaustive()
    }
}

/// The part of the discovery document used here.
#[derive(Deserialize)]
struct Discovery {
    issuer: String,
    jwks_uri: url::Url,
}

/// Algorithms a provider signs with and a public key verifies: never a shared secret
/// (`HS256`), which anyone holding the client's secret could use to sign.
fn is_public_key(alg: Algorithm) -> bool {
    !matches!(alg, Algorithm::HS256 | Algorithm::HS384 | Algorithm::HS512)
}

impl OidcOperators {
    pub fn new(settings: OidcSettings) -> Result<Self, BackendError> {
        let http = reqwest::Client::builder()
            .timeout(FETCH_TIMEOUT)
            .redirect(reqwest::redirect::Policy::limited(3))
            .build()
            .map_err(|e| {
                BackendError::defect(BACKEND, "cannot build an HTTP client").with_source(e)
            })?;
        Ok(Self {
            settings,
            http,
            keys: Mutex::new(Keys::default()),
            refetch_after: REFETCH_AFTER,
        })
    }

    /// The same, fetching the keys again for an unknown key id `after` the last fetch at the
    /// soonest (half a minute by default).
    pub fn refetching_after(mut self, after: Duration) -> Self {
        self.refetch_after = after;
        self
    }

    /// The issuer as tokens name it: the configured URL without a trailing slash added by
    /// parsing (`https://id.example.org` stays so).
    fn issuer(&self) -> &str {
        let s = self.settings.issuer.as_str();
        if self.settings.issuer.path() == "/" {
            s.trim_end_matches('/')
        } else {
            s
        }
    }

    async fn get<T: serde::de::DeserializeOwned>(&self, url: url::Url) -> Result<T, BackendError> {
        let unreachable = |what: &str| {
            BackendError::unavailable(BACKEND, format!("cannot read {what} from the provider"))
        };
        self.http
            .get(url.clone())
            .send()
            .await
            .and_then(reqwest::Response::error_for_status)
            .map_err(|e| unreachable(url.as_str()).with_source(e))?
            .json()
            .await
            .map_err(|e| unreachable(url.as_str()).with_source(e))
    }

    /// The provider's keys, fetched through its discovery document.
    async fn fetch_keys(&self) -> Result<JwkSet, BackendError> {
        let discovery_url = url::Url::parse(&format!(
            "{}/.well-known/openid-configuration",
            self.issuer()
        ))
        .map_err(|e| {
            BackendError::defect(BACKEND, "the discovery address is not a URL").with_source(e)
        })?;
        let discovery: Discovery = self.get(discovery_url).await?;
        // A provider that names itself otherwise is not the one configured: no key of its
        // is believed, and operators see the outage until the setting or the provider is
        // put right.
        if discovery.issuer != self.issuer() {
            return Err(BackendError::unavailable(
                BACKEND,
                format!(
                    "the provider calls itself {:?}, not the configured issuer {:?}",
                    discovery.issuer,
                    self.issuer()
                ),
            ));
        }
        self.get(discovery.jwks_uri).await
    }

    /// The key `kid` names (or the only key, for a token naming none), fetching the keys
    /// when they are stale or lack it. A failed fetch falls back on the keys kept.
    async fn key(&self, kid: Option<&str>) -> Result<Option<Jwk>, BackendError> {
        let mut keys = self.keys.lock().await;
        let find = |set: &JwkSet| match kid {
            Some(kid) => set.find(kid).cloned(),
            None if set.keys.len() == 1 => set.keys.first().cloned(),
            None => None,
        };
        let now = Instant::now();
        let stale = keys
            .fetched
            .is_none_or(|at| now.duration_since(at) >= KEYS_FRESH_FOR);
        let found = keys.set.as_ref().and_then(find);
        let may_try = keys
            .tried
            .is_none_or(|at| now.duration_since(at) >= self.refetch_after);
        if !stale && (found.is_some() || !may_try) {
            return Ok(found);
        }
        keys.tried = Some(now);
        match self.fetch_keys().await {
            Ok(set) => {
                let found = find(&set);
                keys.set = Some(set);
                keys.fetched = Some(now);
                Ok(found)
            }
            Err(e) if found.is_some() => {
                tracing::warn!(error = %e, "the identity provider's keys could not be fetched again; the kept ones are used");
                Ok(found)
            }
            Err(e) => Err(e),
        }
    }

    /// Whether `claims` grant the operator's role.
    fn has_role(&self, claims: &Map<String, Value>) -> bool {
        let Some(role) = &self.settings.role else {
            return true;
        };
        match claims.get(&self.settings.role_claim) {
            Some(Value::String(s)) => s.split(' ').any(|r| r == role),
            Some(Value::Array(roles)) => roles.iter().any(|r| r.as_str() == Some(role)),
            _ => false,
        }
    }

    /// The operator's name from `claims`: the configured claim, else `sub`.
    fn name(&self, claims: &Map<String, Value>) -> Option<String> {
        [self.settings.name_claim.as_str(), "sub"]
            .into_iter()
            .filter_map(|c| claims.get(c).and_then(Value::as_str))
            .map(str::trim)
            .find(|n| !n.is_empty())
            .filter(|n| n.chars().count() <= MAX_NAME && !n.chars().any(char::is_control))
            .map(str::to_owned)
    }
}

#[async_trait]
impl OperatorIdentity for OidcOperators {
    async fn verify(&self, token: &str) -> Result<Option<String>, BackendError> {
        let Ok(header) = jsonwebtoken::decode_header(token) else {
            return Ok(None);
        };
        if !is_public_key(header.alg) {
            return Ok(None);
        }
        let Some(jwk) = self.key(header.kid.as_deref()).await? else {
            return Ok(None);
        };
        // A key published for one algorithm verifies that one only.
        if jwk
            .common
            .key_algorithm
            .is_some_and(|a| Algorithm::try_from(a).ok() != Some(header.alg))
        {
            return Ok(None);
        }
        let Ok(key) = DecodingKey::from_jwk(&jwk) else {
            return Ok(None);
        };
        let mut validation = Validation::new(header.alg);
        validation.set_issuer(&[self.issuer()]);
        validation.set_audience(&[&self.settings.audience]);
        validation.leeway = LEEWAY_SECONDS;
        validation.validate_nbf = true;
        validation.required_spec_claims = HashSet::from(["exp", "iss", "aud"].map(str::to_owned));
        let claims = match jsonwebtoken::decode::<Map<String, Value>>(token, &key, &validation) {
            Ok(data) => data.claims,
            Err(e) => {
                tracing::debug!(error = %e, "an identity token was refused");
                return Ok(None);
            }
        };
        if !self.has_role(&claims) {
            return Ok(None);
        }
        Ok(self.name(&claims))
    }
}
