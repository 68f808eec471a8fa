//! The conformance suite on the embedded adapters (SQLite, memory).

use std::sync::Arc;

use arcade_domain::ports::{RankIndex, ScoreStore, SessionStore};
use arcade_sessions_adapters::*;
use arcade_testkit::conformance as suite;

mod arcade_sessions_adapters {
    pub use arcade_sessions::{MemoryRankIndex, MemorySessionStore};
    pub use arcade_store::SqliteStore;
}

async fn sqlite() -> (Arc<dyn ScoreStore>, tempfile::TempDir) {
    let dir = tempfile::tempdir().unwrap();
    let store = SqliteStore::open_dir(dir.path()).await.unwrap();
    (Arc::new(store), dir)
}

macro_rules! score_store_suite {
    ($($name:ident),* $(,)?) => {$(
        #[tokio::test]
        async fn $name() {
            let (store, _dir) = sqlite().await;
            suite::$name(store).await;
        }
    )*};
}

/// `sqlite::memory:`: one database shared by the writer and the readers, for as long as the
/// store is open.
mod sqlite_in_memory_score_store {
    use super::*;

    macro_rules! in_memory_suite {
        ($($name:ident),* $(,)?) => {$(
            #[tokio::test]
            async fn $name() {
                let store = SqliteStore::open_url("sqlite::memory:").await.unwrap();
                suite::$name(Arc::new(store)).await;
            }
        )*};
    }

    in_memory_suite!(
        players_are_claimed_once,
        recording_is_idempotent_per_session,
        bests_follow_board_order,
        a_zero_score_is_history_but_not_on_the_boards,
        history_pages_newest_first,
    );
}

mod sqlite_score_store {
    use super::*;
    score_store_suite!(
        players_are_claimed_once,
        recording_is_idempotent_per_session,
        concurrent_records_store_one_row,
        concurrent_records_of_many_players_all_land,
        concurrent_records_of_one_player_keep_the_best,
        a_refused_record_fails_alone,
        bests_follow_board_order,
        a_zero_score_is_history_but_not_on_the_boards,
        history_pages_newest_first,
        the_store_answers_pings,
    );
}

macro_rules! session_store_suite {
    ($($name:ident),* $(,)?) => {$(
        #[tokio::test]
        async fn $name() {
            let store: Arc<dyn SessionStore> = Arc::new(MemorySessionStore::new());
            suite::$name(store).await;
        }
    )*};
}

mod memory_session_store {
    use super::*;
    session_store_suite!(
        sessions_round_trip_and_update_atomically,
        concurrent_session_updates_are_not_lost,
        sessions_are_counted_and_purged,
    );
}

macro_rules! rank_index_suite {
    ($($name:ident),* $(,)?) => {$(
        #[tokio::test]
        async fn $name() {
            let ranks: Arc<dyn RankIndex> = Arc::new(MemoryRankIndex::new());
            suite::$name(ranks).await;
        }
    )*};
}

mod memory_rank_index {
    use super::*;
    rank_index_suite!(rank_index_orders_and_keeps_bests, rank_index_loads_a_board);
}
