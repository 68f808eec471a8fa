//! Arcade's domain: players, sessions, scoring rules, leaderboards and events, plus the ports
//! (traits) that storage and event adapters implement. No I/O happens here: adapters do it.
//!
//! A tour:
//! - [`admin`]: operators, their tokens, their actions and the audit records they leave.
//! - [`name`]: validated, normalised player names and their look-alike-proof keys.
//! - [`name_rules`]: the deny list of words and patterns operators extend, matched on keys.
//! - [`token`]: the secret a browser keeps to play under a claimed name.
//! - [`time`]: timestamps, the clock port, leaderboard periods (all-time, day, week), their
//!   buckets' names (`YYYY-MM-DD`, `YYYY-Www`) and the calendar (time zone) days begin in.
//! - [`session`]: the session state machine, input recording, wall-clock plausibility (ahead
//!   and behind, pauses within a budget) and the windows of randomness revealed as it goes.
//! - [`keys`]: the session secret and the keys derived from it (the windows' seeds, tickets).
//! - [`ticket`]: a session's identity and start, signed, so a game outlives the session store.
//! - [`ranks`]: board order, ties and an in-memory ranked board.
//! - [`season`]: seasons operators define (a slug, a title, a start and an end), each with
//!   its own boards.
//! - [`event`]: game events and their subjects.
//! - [`ports`]: the traits adapters implement (`ScoreStore`, `SessionStore`, `RankIndex`,
//!   `Outbox`, `EventBus`, `RateLimit`, `AdminStore`, `NameRuleStore`,
//!   `SeasonStore`).
//! - [`player_data`]: what an export hands a player, and what erasing one removes.
//! - [`retention`]: how long replays and histories are kept.
//! - [`client`]: who a per-client limit counts (an IPv4 address, an IPv6 /64).
//! - [`service`]: the use cases (start, heartbeat, finish, boards) over the ports.
//! - [`error`]: the domain error the HTTP layer maps to statuses, and `BackendError`, which
//!   says whether a failed backend is worth trying again.

pub mod admin;
pub mod client;
pub mod error;
pub mod event;
pub mod keys;
pub mod name;
pub mod name_rules;
pub mod player_data;
pub mod ports;
pub mod query;
pub mod ranks;
pub mod retention;
pub mod season;
pub mod service;
pub mod session;
pub mod ticket;
pub mod time;
pub mod token;

pub use arcade_games as games;
pub use error::{BackendError, BackendErrorKind, DomainError};
