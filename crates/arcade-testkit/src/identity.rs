//! An OpenID Connect provider on loopback, for the operators' sign-in: a discovery document
//! and a key set served over HTTP, and tokens signed with Ed25519 keys made for the test.

use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{SystemTime, UNIX_EPOCH};

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use axum::routing::get;
use jsonwebtoken::jwk::{Jwk, JwkSet};
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use serde_json::{Value, json};

/// An Ed25519 private key as PKCS#8 (RFC 8410): a fixed prefix and the 32-byte seed.
pub fn signing_key() -> EncodingKey {
    let mut der = vec![
        0x30, 0x2e, 0x02, 0x01, 0x00, 0x30, 0x05, 0x06, 0x03, 0x2b, 0x65, 0x70, 0x04, 0x22, 0x04,
        0x20,
    ];
    der.extend_from_slice(&rand::random::<[u8; 32]>());
    EncodingKey::from_ed_der(&der)
}

/// The provider's published keys, how often they were fetched, and whether it answers.
#[derive(Default)]
pub struct Published {
    pub keys: Mutex<Vec<Jwk>>,
    /// Fetches of the key set so far.
    pub fetched: AtomicUsize,
    /// Answer 503 to everything while set.
    pub down: AtomicBool,
    /// The issuer the discovery document names.
    pub issuer: Mutex<String>,
}

/// A provider serving on a random loopback port until the test ends.
pub struct Provider {
    pub published: Arc<Published>,
    /// Its issuer URL (`http://127.0.0.1:PORT`).
    pub issuer: String,
}

impl Provider {
    pub async fn start() -> Self {
        let published = Arc::new(Published::default());
        let app = axum::Router::new()
            .route(
                "/.well-known/openid-configuration",
                get(|State(p): State<Arc<Published>>| async move {
                    if p.down.load(Ordering::SeqCst) {
                        return Err(StatusCode::SERVICE_UNAVAILABLE);
                    }
                    let issuer = p.issuer.lock().unwrap().clone();
                    Ok(Json(json!({
                        "issuer": issuer,
                        "jwks_uri": format!("{issuer}/keys"),
                    })))
                }),
            )
            .route(
                "/keys",
                get(|State(p): State<Arc<Published>>| async move {
                    if p.down.load(Ordering::SeqCst) {
                        return Err(StatusCode::SERVICE_UNAVAILABLE);
                    }
                    p.fetched.fetch_add(1, Ordering::SeqCst);
                    Ok(Json(JwkSet {
                        keys: p.keys.lock().unwrap().clone(),
                    }))
                }),
            )
            .with_state(published.clone());
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let address: SocketAddr = listener.local_addr().unwrap();
        tokio::spawn(async move { axum::serve(listener, app).await });
        let issuer = format!("http://{address}");
        *published.issuer.lock().unwrap() = issuer.clone();
        Self { published, issuer }
    }

    /// A new key, published under `kid`.
    pub fn publish(&self, kid: &str) -> (String, EncodingKey) {
        let key = signing_key();
        let mut jwk = Jwk::from_encoding_key(&key, Algorithm::EdDSA).unwrap();
        jwk.common.key_id = Some(kid.to_owned());
        self.published.keys.lock().unwrap().push(jwk);
        (kid.to_owned(), key)
    }

    /// The claims of a valid operator's token, to be spoiled by each test.
    pub fn claims(&self) -> Value {
        let now = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .unwrap()
            .as_secs();
        json!({
            "iss": self.issuer,
            "aud": ["arcade", "other"],
            "sub": "u-123",
            "preferred_username": "ann",
            "groups": ["staff", "arcade-operators"],
            "iat": now,
            "exp": now + 300,
        })
    }
}

/// `claims` signed with `key` under its key id.
pub fn sign((kid, key): &(String, EncodingKey), claims: &Value) -> String {
    let mut header = Header::new(Algorithm::EdDSA);
    header.kid = Some(kid.clone());
    jsonwebtoken::encode(&header, claims, key).unwrap()
}

/// `claims` with `field` set to `value`.
pub fn with(mut claims: Value, field: &str, value: Value) -> Value {
    claims[field] = value;
    claims
}
