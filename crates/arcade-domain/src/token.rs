//! Player tokens: the secret a browser receives when it claims a name and must show to play
//! under that name again. Only a SHA-256 digest is stored: tokens are 256 random bits, so a
//! slow password hash would add cost without adding safety.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use rand::RngCore;
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

/// A freshly issued token (shown once to its owner) and the digest to store.
#[derive(Debug, Clone)]
pub struct IssuedToken {
    pub token: String,
    pub digest: TokenDigest,
}

/// SHA-256 of a token.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TokenDigest(pub [u8; 32]);

impl TokenDigest {
    pub fn of(token: &str) -> Self {
        Self(Sha256::digest(token.as_bytes()).into())
    }

    pub fn from_slice(bytes: &[u8]) -> Option<Self> {
        bytes.try_into().ok().map(Self)
    }

    /// Whether `token` hashes to this digest, in constant time.
    pub fn matches(&self, token: &str) -> bool {
        Self::of(token).0.ct_eq(&self.0).into()
    }
}

pub fn issue() -> IssuedToken {
    let mut bytes = [0u8; 32];
    rand::rng().fill_bytes(&mut bytes);
    let token = URL_SAFE_NO_PAD.encode(bytes);
    let digest = TokenDigest::of(&token);
    IssuedToken { token, digest }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_issued_token_matches_its_digest_and_nothing_else() {
        let t = issue();
        assert_eq!(t.token.len(), 43);
        assert!(t.digest.matches(&t.token));
        assert!(!t.digest.matches("not the token"));
        assert_ne!(issue().token, t.token);
    }
}
