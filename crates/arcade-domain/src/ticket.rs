//! Session tickets: what a session is, signed by the server and held by the client, so that a
//! game outlives the session store. The store holds a game's inputs as they come; if it loses
//! them (Redis restarted empty, a lone server restarted), the client still has its inputs and
//! the ticket, and the server can check from the ticket alone which session it is, who plays
//! it, and when it started (so its pace), since the windows' seeds follow from the session id
//! and the secret.
//!
//! A ticket is `v1.PAYLOAD.TAG`: `PAYLOAD` is the ticket's JSON in unpadded base64url, `TAG`
//! the HMAC-SHA256 of `v1.PAYLOAD` under [`TicketKey`] (derived from the session secret under
//! a label of its own), in unpadded base64url. It is signed, not encrypted: everything in it
//! is the client's to know already.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde::{Deserialize, Serialize};

use crate::error::DomainError;
use crate::keys::TicketKey;
use crate::session::{Session, SessionId};
use crate::time::Timestamp;

/// The version prefix of tickets this build signs; one it does not know is refused.
const VERSION: &str = "v1";

/// Longest ticket read (a ticket of the longest name is far shorter), so a forged one costs
/// little to refuse.
pub const MAX_TICKET_BYTES: usize = 1024;

/// What a ticket says of its session.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Ticket {
    #[serde(rename = "sid")]
    pub session_id: SessionId,
    pub game: String,
    #[serde(rename = "key")]
    pub player_key: String,
    #[serde(rename = "player")]
    pub player_name: String,
    #[serde(rename = "rules")]
    pub rules_version: u32,
    #[serde(rename = "start")]
    pub started_at: Timestamp,
    #[serde(rename = "expires")]
    pub expires_at: Timestamp,
}

impl Ticket {
    /// The ticket of a session just started.
    pub fn of(session: &Session) -> Self {
        Self {
            session_id: session.id,
            game: session.game.clone(),
            player_key: session.player_key.clone(),
            player_name: session.player_name.clone(),
            rules_version: session.rules_version,
            started_at: session.started_at,
            expires_at: session.expires_at,
        }
    }

    /// The ticket, signed.
    pub fn sign(&self, key: &TicketKey) -> String {
        let json = serde_json::to_vec(self).expect("a ticket is plain data");
        let signed = format!("{VERSION}.{}", URL_SAFE_NO_PAD.encode(json));
        let tag = URL_SAFE_NO_PAD.encode(key.mac(signed.as_bytes()));
        format!("{signed}.{tag}")
    }

    /// The ticket `raw` carries, if the server signed it and it is for session `id`.
    pub fn verify(raw: &str, key: &TicketKey, id: SessionId) -> Result<Self, DomainError> {
        let invalid = |why: &str| DomainError::TicketInvalid(why.to_owned());
        if raw.len() > MAX_TICKET_BYTES {
            return Err(invalid("the ticket is longer than any this server signs"));
        }
        let (signed, tag) = raw
            .rsplit_once('.')
            .ok_or_else(|| invalid("the ticket is not VERSION.PAYLOAD.SIGNATURE"))?;
        let (version, payload) = signed
            .split_once('.')
            .ok_or_else(|| invalid("the ticket is not VERSION.PAYLOAD.SIGNATURE"))?;
        if version != VERSION {
            return Err(invalid("the ticket's version is not one this server reads"));
        }
        let tag = URL_SAFE_NO_PAD
            .decode(tag)
            .map_err(|_| invalid("the ticket's signature is not base64url"))?;
        if !key.verify(signed.as_bytes(), &tag) {
            return Err(invalid("the ticket was not signed by this arcade"));
        }
        let ticket: Self = URL_SAFE_NO_PAD
            .decode(payload)
            .ok()
            .and_then(|json| serde_json::from_slice(&json).ok())
            .ok_or_else(|| invalid("the ticket's payload is unreadable"))?;
        if ticket.session_id != id {
            return Err(invalid("the ticket is for another session"));
        }
        Ok(ticket)
    }

    pub fn is_expired(&self, now: Timestamp) -> bool {
        now >= self.expires_at
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::keys::SessionSecret;
    use crate::session::PlayRules;
    use arcade_games::egg_catcher::EGG_CATCHER;

    fn ticket() -> Ticket {
        Ticket::of(&Session::start(
            SessionId::random(),
            &EGG_CATCHER,
            "alice",
            "Alice",
            Timestamp(1_800_000_000_000),
            &PlayRules::default(),
        ))
    }

    fn reason(e: DomainError) -> String {
        match e {
            DomainError::TicketInvalid(why) => why,
            other => format!("not an invalid ticket: {other:?}"),
        }
    }

    #[test]
    fn a_signed_ticket_verifies_for_its_session_only() {
        let key = SessionSecret::random().ticket_key();
        let t = ticket();
        let raw = t.sign(&key);
        assert!(raw.starts_with("v1."));
        assert_eq!(Ticket::verify(&raw, &key, t.session_id).unwrap(), t);
        let other = SessionId::random();
        assert_eq!(
            reason(Ticket::verify(&raw, &key, other).unwrap_err()),
            "the ticket is for another session"
        );
    }

    #[test]
    fn a_ticket_signed_under_another_secret_or_changed_is_refused() {
        let key = SessionSecret::random().ticket_key();
        let t = ticket();
        let raw = t.sign(&SessionSecret::random().ticket_key());
        assert_eq!(
            reason(Ticket::verify(&raw, &key, t.session_id).unwrap_err()),
            "the ticket was not signed by this arcade"
        );
        // An earlier start (more time to play) with the signature kept.
        let mut earlier = t.clone();
        earlier.started_at = Timestamp(t.started_at.0 - 600_000);
        let forged = earlier.sign(&key);
        let raw = t.sign(&key);
        let spliced = format!(
            "{}.{}",
            forged.rsplit_once('.').unwrap().0,
            raw.rsplit_once('.').unwrap().1
        );
        assert_eq!(
            reason(Ticket::verify(&spliced, &key, t.session_id).unwrap_err()),
            "the ticket was not signed by this arcade"
        );
        let v2 = raw.replacen("v1.", "v2.", 1);
        assert_eq!(
            reason(Ticket::verify(&v2, &key, t.session_id).unwrap_err()),
            "the ticket's version is not one this server reads"
        );
        for junk in ["", "v1", "v1.x", &"a".repeat(MAX_TICKET_BYTES + 1)] {
            assert!(Ticket::verify(junk, &key, t.session_id).is_err(), "{junk}");
        }
    }

    #[test]
    fn the_ticket_is_the_hmac_of_its_payload_under_the_derived_key() {
        // Written out by hand, so that a change of format (which would strand the tickets of
        // games in progress) cannot pass unnoticed.
        use hkdf::Hkdf;
        use hmac::{Hmac, Mac};
        use sha2::Sha256;
        let secret = SessionSecret::new(vec![0x42; 32]).unwrap();
        let t = ticket();
        let raw = t.sign(&secret.ticket_key());
        let (signed, tag) = raw.rsplit_once('.').unwrap();
        let mut key = [0u8; 32];
        Hkdf::<Sha256>::new(None, &[0x42; 32])
            .expand(b"arcade session tickets v1", &mut key)
            .unwrap();
        let mut mac = Hmac::<Sha256>::new_from_slice(&key).unwrap();
        mac.update(signed.as_bytes());
        assert_eq!(
            URL_SAFE_NO_PAD.decode(tag).unwrap(),
            mac.finalize().into_bytes().to_vec()
        );
        let json = URL_SAFE_NO_PAD
            .decode(signed.strip_prefix("v1.").unwrap())
            .unwrap();
        let value: serde_json::Value = serde_json::from_slice(&json).unwrap();
        assert_eq!(value["sid"], t.session_id.to_string());
        assert_eq!(value["start"], t.started_at.0);
        assert_eq!(value["expires"], t.expires_at.0);
        assert_eq!(value["player"], "Alice");
    }
}
