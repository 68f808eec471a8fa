//! The server's session secret and the keys derived from it, one per use, so that one use can
//! never be turned against another: the seeds of a game's windows (an HMAC of the session and
//! the window number, so every replica derives the same seeds and none is stored) and the
//! signature of a session's ticket (`crate::ticket`).

use std::fmt;

use hkdf::Hkdf;
use hmac::{Hmac, Mac};
use sha2::Sha256;

use crate::session::SessionId;

/// Fewest bytes a session secret may have.
pub const MIN_SECRET_BYTES: usize = 32;

/// The label the window key is derived under (HKDF's "info"); a new use takes a label of its
/// own.
const WINDOW_KEY_LABEL: &[u8] = b"arcade session windows v1";

/// The label the ticket key is derived under.
const TICKET_KEY_LABEL: &[u8] = b"arcade session tickets v1";

/// The server's session secret (`ARCADE_SESSION_SECRET`). It never leaves this type: only the
/// keys derived from it do, and `Debug` shows nothing of either.
#[derive(Clone)]
pub struct SessionSecret(Vec<u8>);

/// Why a secret was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("a session secret needs at least {MIN_SECRET_BYTES} bytes; this one has {0}")]
pub struct SecretTooShort(pub usize);

impl SessionSecret {
    /// The secret from its bytes (e.g. a long random string).
    pub fn new(bytes: impl Into<Vec<u8>>) -> Result<Self, SecretTooShort> {
        let bytes = bytes.into();
        if bytes.len() < MIN_SECRET_BYTES {
            return Err(SecretTooShort(bytes.len()));
        }
        Ok(Self(bytes))
    }

    /// A random secret, for a server whose sessions live in its own memory: nothing else needs
    /// to derive the same seeds, and a restart forgets the sessions anyway.
    pub fn random() -> Self {
        use rand::RngCore;
        let mut bytes = vec![0u8; MIN_SECRET_BYTES];
        rand::rng().fill_bytes(&mut bytes);
        Self(bytes)
    }

    /// The key of the windows' seeds.
    pub fn window_key(&self) -> WindowKey {
        WindowKey(self.derive(WINDOW_KEY_LABEL))
    }

    /// The key that signs sessions' tickets.
    pub fn ticket_key(&self) -> TicketKey {
        TicketKey(self.derive(TICKET_KEY_LABEL))
    }

    fn derive(&self, label: &[u8]) -> [u8; 32] {
        let mut key = [0u8; 32];
        Hkdf::<Sha256>::new(None, &self.0)
            .expand(label, &mut key)
            .expect("32 bytes is a valid HKDF-SHA256 output length");
        key
    }
}

/// A new random secret as text (64 hexadecimal digits, 256 bits), for a server to keep.
pub fn random_secret_text() -> String {
    use rand::RngCore;
    let mut bytes = [0u8; 32];
    rand::rng().fill_bytes(&mut bytes);
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

impl fmt::Debug for SessionSecret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("SessionSecret(..)")
    }
}

/// The key the windows' seeds are derived with.
#[derive(Clone)]
pub struct WindowKey([u8; 32]);

impl WindowKey {
    /// Window `window`'s seed in session `session`: the first four bytes (big-endian) of
    /// HMAC-SHA256(key, session id's 16 bytes ‖ window as 4 bytes big-endian).
    pub fn seed(&self, session: SessionId, window: u32) -> u32 {
        let mut mac =
            Hmac::<Sha256>::new_from_slice(&self.0).expect("HMAC takes a key of any length");
        mac.update(session.0.as_bytes());
        mac.update(&window.to_be_bytes());
        let out = mac.finalize().into_bytes();
        u32::from_be_bytes([out[0], out[1], out[2], out[3]])
    }
}

impl fmt::Debug for WindowKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("WindowKey(..)")
    }
}

/// The key sessions' tickets are signed with.
#[derive(Clone)]
pub struct TicketKey([u8; 32]);

impl TicketKey {
    /// HMAC-SHA256 of `message` under this key.
    pub fn mac(&self, message: &[u8]) -> [u8; 32] {
        let mut mac =
            Hmac::<Sha256>::new_from_slice(&self.0).expect("HMAC takes a key of any length");
        mac.update(message);
        mac.finalize().into_bytes().into()
    }

    /// Whether `tag` is the HMAC of `message`, in constant time.
    pub fn verify(&self, message: &[u8], tag: &[u8]) -> bool {
        let mut mac =
            Hmac::<Sha256>::new_from_slice(&self.0).expect("HMAC takes a key of any length");
        mac.update(message);
        mac.verify_slice(tag).is_ok()
    }
}

impl fmt::Debug for TicketKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("TicketKey(..)")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use uuid::Uuid;

    fn session(n: u128) -> SessionId {
        SessionId(Uuid::from_u128(n))
    }

    #[test]
    fn a_short_secret_is_refused() {
        assert_eq!(
            SessionSecret::new(vec![7; 31]).unwrap_err(),
            SecretTooShort(31)
        );
        assert!(SessionSecret::new(vec![7; 32]).is_ok());
    }

    #[test]
    fn seeds_follow_from_the_secret_the_session_and_the_window() {
        let key = SessionSecret::new(*b"0123456789abcdef0123456789abcdef")
            .unwrap()
            .window_key();
        let again = SessionSecret::new(*b"0123456789abcdef0123456789abcdef")
            .unwrap()
            .window_key();
        assert_eq!(key.seed(session(1), 0), again.seed(session(1), 0));
        assert_ne!(key.seed(session(1), 0), key.seed(session(1), 1));
        assert_ne!(key.seed(session(1), 0), key.seed(session(2), 0));
        let other = SessionSecret::new(*b"0123456789abcdef0123456789abcdeF")
            .unwrap()
            .window_key();
        assert_ne!(key.seed(session(1), 0), other.seed(session(1), 0));
        assert_ne!(
            SessionSecret::random().window_key().seed(session(1), 0),
            SessionSecret::random().window_key().seed(session(1), 0)
        );
    }

    #[test]
    fn the_seed_is_an_hmac_of_the_session_and_the_window_under_the_derived_key() {
        // Written out by hand, so a change of derivation (which would change every stored
        // replay's seeds) cannot pass unnoticed.
        let secret = SessionSecret::new(vec![0x42; 32]).unwrap();
        let mut key = [0u8; 32];
        Hkdf::<Sha256>::new(None, &[0x42; 32])
            .expand(b"arcade session windows v1", &mut key)
            .unwrap();
        let mut mac = Hmac::<Sha256>::new_from_slice(&key).unwrap();
        mac.update(&[0; 15]);
        mac.update(&[9]);
        mac.update(&[0, 0, 0, 3]);
        let out = mac.finalize().into_bytes();
        let expected = u32::from_be_bytes([out[0], out[1], out[2], out[3]]);
        assert_eq!(secret.window_key().seed(session(9), 3), expected);
    }

    #[test]
    fn nothing_of_a_secret_or_a_key_is_shown() {
        let secret = SessionSecret::new(*b"do not show me, do not show me!!").unwrap();
        assert_eq!(format!("{secret:?}"), "SessionSecret(..)");
        assert_eq!(format!("{:?}", secret.window_key()), "WindowKey(..)");
        assert_eq!(format!("{:?}", secret.ticket_key()), "TicketKey(..)");
    }
}
