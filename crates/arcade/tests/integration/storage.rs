//! The conformance suite on the embedded adapters (SQLite, memory): every check of each suite
//! on each backend.

use std::sync::Arc;

use arcade_domain::ports::{RankIndex, ScoreStore, SessionStore};
use arcade_sessions::{MemoryRankIndex, MemorySessionStore};
use arcade_store::SqliteStore;
use tempfile::TempDir;

/// A SQLite file in a directory of its own, deleted with the directory.
async fn sqlite_file() -> Option<(Arc<dyn ScoreStore>, TempDir)> {
    let dir = tempfile::tempdir().unwrap();
    let store = SqliteStore::open_dir(dir.path()).await.unwrap();
    Some((Arc::new(store), dir))
}

/// `sqlite::memory:`: one database shared by the writer and the readers, for as long as the
/// store is open.
async fn sqlite_in_memory() -> Option<(Arc<dyn ScoreStore>, ())> {
    let store = SqliteStore::open_url("sqlite::memory:").await.unwrap();
    Some((Arc::new(store), ()))
}

fn memory_sessions() -> Option<(Arc<dyn SessionStore>, ())> {
    Some((Arc::new(MemorySessionStore::new()), ()))
}

fn memory_ranks() -> Option<(Arc<dyn RankIndex>, ())> {
    Some((Arc::new(MemoryRankIndex::new()), ()))
}

mod sqlite_score_store {
    use super::*;
    arcade_testkit::score_store_conformance!(sqlite_file().await);
}

mod sqlite_in_memory_score_store {
    use super::*;
    arcade_testkit::score_store_conformance!(sqlite_in_memory().await);
}

/// The outbox of a SQLite file, beside its scores.
mod sqlite_outbox {
    use super::*;
    use arcade_testkit::conformance::ScoresAndOutbox;
    async fn scores_and_outbox() -> Option<(ScoresAndOutbox, TempDir)> {
        let dir = tempfile::tempdir().unwrap();
        let store = Arc::new(SqliteStore::open_dir(dir.path()).await.unwrap());
        let pair = ScoresAndOutbox {
            scores: store.clone(),
            outbox: store,
        };
        Some((pair, dir))
    }
    arcade_testkit::outbox_conformance!(scores_and_outbox().await);
}

/// Operators and the audit log of a SQLite file, and of an in-memory database.
/// The name deny list, beside the players, in a file and in memory.
mod sqlite_name_rules {
    use super::*;
    use arcade_testkit::conformance::ScoresAndNames;
    async fn stores(file: bool) -> Option<(ScoresAndNames, Option<TempDir>)> {
        let (store, dir) = if file {
            let dir = tempfile::tempdir().unwrap();
            (SqliteStore::open_dir(dir.path()).await.unwrap(), Some(dir))
        } else {
            (
                SqliteStore::open_url("sqlite::memory:").await.unwrap(),
                None,
            )
        };
        let store = Arc::new(store);
        let stores = ScoresAndNames {
            scores: store.clone(),
            outbox: store.clone(),
            admin: store.clone(),
            names: store,
        };
        Some((stores, dir))
    }
    mod file {
        use super::*;
        arcade_testkit::name_rule_store_conformance!(stores(true).await);
    }
    mod in_memory {
        use super::*;
        arcade_testkit::name_rule_store_conformance!(stores(false).await);
    }
}

/// Seasons and their boards, beside the scores, in a file and in memory.
mod sqlite_seasons {
    use super::*;
    use arcade_testkit::conformance::ScoresAndSeasons;
    async fn stores(file: bool) -> Option<(ScoresAndSeasons, Option<TempDir>)> {
        let (store, dir) = if file {
            let dir = tempfile::tempdir().unwrap();
            (SqliteStore::open_dir(dir.path()).await.unwrap(), Some(dir))
        } else {
            (
                SqliteStore::open_url("sqlite::memory:").await.unwrap(),
                None,
            )
        };
        let store = Arc::new(store);
        let stores = ScoresAndSeasons {
            scores: store.clone(),
            admin: store.clone(),
            seasons: store,
        };
        Some((stores, dir))
    }
    mod file {
        use super::*;
        arcade_testkit::season_store_conformance!(stores(true).await);
    }
    mod in_memory {
        use super::*;
        arcade_testkit::season_store_conformance!(stores(false).await);
    }
}

mod sqlite_admin_store {
    use super::*;
    use arcade_testkit::conformance::ScoresAndAdmin;
    async fn stores(file: bool) -> Option<(ScoresAndAdmin, Option<TempDir>)> {
        let (store, dir) = if file {
            let dir = tempfile::tempdir().unwrap();
            (SqliteStore::open_dir(dir.path()).await.unwrap(), Some(dir))
        } else {
            (
                SqliteStore::open_url("sqlite::memory:").await.unwrap(),
                None,
            )
        };
        let store = Arc::new(store);
        let stores = ScoresAndAdmin {
            scores: store.clone(),
            outbox: store.clone(),
            admin: store,
        };
        Some((stores, dir))
    }
    mod file {
        use super::*;
        arcade_testkit::admin_store_conformance!(stores(true).await);
    }
    mod in_memory {
        use super::*;
        arcade_testkit::admin_store_conformance!(stores(false).await);
    }
}

mod memory_session_store {
    use super::*;
    arcade_testkit::session_store_conformance!(memory_sessions());
}

/// One process holds one limit: both handles are the same.
fn memory_limit() -> Option<(arcade_testkit::conformance::SharedLimit, ())> {
    use arcade_testkit::conformance::{LIMIT_PER_MINUTE, SharedLimit};
    let limit = Arc::new(arcade_sessions::MemoryRateLimit::per_minute(
        std::num::NonZeroU32::new(LIMIT_PER_MINUTE).unwrap(),
    ));
    Some((
        SharedLimit {
            one: limit.clone(),
            other: limit,
        },
        (),
    ))
}

mod memory_rate_limit {
    use super::*;
    arcade_testkit::rate_limit_conformance!(memory_limit());
}

mod memory_rank_index {
    use super::*;
    arcade_testkit::rank_index_conformance!(memory_ranks());
}
