//! Live state adapters: the in-memory session store and rank index of the embedded default,
//! behind the domain's `SessionStore` and `RankIndex` ports.

mod memory_ranks;
mod memory_sessions;

pub use memory_ranks::MemoryRankIndex;
pub use memory_sessions::MemorySessionStore;
