//! The conformance suite and PostgreSQL-specific checks, on the PostgreSQL server that
//! `DATABASE_URL` names: without one they are skipped, or fail under
//! `ARCADE_REQUIRE_BACKENDS=1`. Each test gets its own database, dropped afterwards.

use std::sync::Arc;

use arcade_store::{PgSettings, PostgresStore};
use arcade_testkit::backends::{self, Service, TestDatabase};
use arcade_testkit::conformance::ScoresAndRanks;

async fn migrated(db: &TestDatabase) -> Arc<PostgresStore> {
    let store = PostgresStore::connect(&db.url, None, PgSettings::default()).unwrap();
    store.migrate().await.unwrap();
    Arc::new(store)
}

/// A database of its own on the PostgreSQL server, dropped with the `TestDatabase`; `None`
/// when the test is skipped (see [`backends::url`]).
async fn fresh_database() -> Option<TestDatabase> {
    Some(TestDatabase::create(&backends::url(Service::Postgres)?).await)
}

/// A migrated store on a database of its own.
async fn fresh_store() -> Option<(Arc<PostgresStore>, TestDatabase)> {
    let db = fresh_database().await?;
    Some((migrated(&db).await, db))
}

mod postgres_score_store {
    use super::*;
    arcade_testkit::score_store_conformance!(fresh_store().await);
}

/// The store as the rank index of last resort, answered from the bests it recorded.
mod postgres_rank_index {
    use super::*;
    arcade_testkit::database_rank_index_conformance!(fresh_store().await.map(|(store, db)| {
        let ranks = ScoresAndRanks {
            scores: store.clone(),
            ranks: store,
        };
        (ranks, db)
    }));
}

/// The outbox every replica's relay shares, beside the scores.
mod postgres_outbox {
    use super::*;
    use arcade_testkit::conformance::ScoresAndOutbox;
    arcade_testkit::outbox_conformance!(fresh_store().await.map(|(store, db)| {
        let pair = ScoresAndOutbox {
            scores: store.clone(),
            outbox: store,
        };
        (pair, db)
    }));
}

/// Operators and the audit log, beside the scores.
mod postgres_admin_store {
    use super::*;
    use arcade_testkit::conformance::ScoresAndAdmin;
    arcade_testkit::admin_store_conformance!(fresh_store().await.map(|(store, db)| {
        let stores = ScoresAndAdmin {
            scores: store.clone(),
            outbox: store.clone(),
            admin: store,
        };
        (stores, db)
    }));
}

/// The name deny list, beside the players.
mod postgres_name_rules {
    use super::*;
    use arcade_testkit::conformance::ScoresAndNames;
    arcade_testkit::name_rule_store_conformance!(fresh_store().await.map(|(store, db)| {
        let stores = ScoresAndNames {
            scores: store.clone(),
            outbox: store.clone(),
            admin: store.clone(),
            names: store,
        };
        (stores, db)
    }));
}

/// Seasons and their boards, beside the scores.
mod postgres_seasons {
    use super::*;
    use arcade_testkit::conformance::ScoresAndSeasons;
    arcade_testkit::season_store_conformance!(fresh_store().await.map(|(store, db)| {
        let stores = ScoresAndSeasons {
            scores: store.clone(),
            admin: store.clone(),
            seasons: store,
        };
        (stores, db)
    }));
}

#[tokio::test]
async fn migrations_are_idempotent_and_the_schema_check_sees_them() {
    let Some(db) = fresh_database().await else {
        return;
    };
    let store = PostgresStore::connect(&db.url, None, PgSettings::default()).unwrap();
    assert!(!store.pending_migrations().await.unwrap().is_empty());
    store.migrate().await.unwrap();
    store.migrate().await.unwrap();
    assert!(store.pending_migrations().await.unwrap().is_empty());
}

#[tokio::test]
async fn the_autovacuum_setting_is_read_as_the_server_reports_it() {
    let Some((store, _db)) = fresh_store().await else {
        return;
    };
    let setting: String =
        sqlx::query_scalar("SELECT setting FROM pg_settings WHERE name = 'autovacuum'")
            .fetch_one(store.pool())
            .await
            .unwrap();
    assert_eq!(
        store.autovacuum_enabled().await.unwrap(),
        setting == "on",
        "pg_settings says {setting}"
    );
}

/// Fills a board and a history large enough that scanning either would cost the planner more
/// than its index.
async fn fill_a_board_and_a_history(pool: &sqlx::PgPool) {
    sqlx::query(
        "INSERT INTO players (key, name, token_digest, created_at) \
         SELECT 'p' || g, 'P' || g, decode(repeat('00', 32), 'hex'), 0 \
         FROM generate_series(1, 20000) g",
    )
    .execute(pool)
    .await
    .unwrap();
    sqlx::query(
        "INSERT INTO best_scores (game, period, bucket, player_key, score, achieved_at, session_id) \
         SELECT 'egg-catcher', 'all', 0, 'p' || g, (g * 7919) % 5000, g, gen_random_uuid() \
         FROM generate_series(1, 20000) g",
    )
    .execute(pool)
    .await
    .unwrap();
    sqlx::query(
        "INSERT INTO scores (session_id, game, player_key, score, ticks, game_over, rules_version, \
           seed, stats, replay, achieved_at) \
         SELECT gen_random_uuid(), 'egg-catcher', 'p' || (g % 2000 + 1), g % 500, 600, true, 1, 1, \
           '{}'::jsonb, '\\x01'::bytea, g FROM generate_series(1, 20000) g",
    )
    .execute(pool)
    .await
    .unwrap();
}

/// Asserts that `sql`'s plan uses `index` and scans no table.
async fn assert_plan_uses(pool: &sqlx::PgPool, what: &str, sql: &str, index: &str) {
    let lines: Vec<String> = sqlx::query_scalar(&format!("EXPLAIN {sql}"))
        .fetch_all(pool)
        .await
        .unwrap();
    let plan = lines.join("\n");
    println!("EXPLAIN {what}:\n{plan}\n");
    assert!(plan.contains(index), "{what} does not use {index}:\n{plan}");
    assert!(
        !plan.contains("Seq Scan"),
        "{what} scans the table:\n{plan}"
    );
}

/// A finish's previous best, shaped as the batch insert asks for it: one look-up per score.
const PREVIOUS_BEST: &str = "\
    SELECT (SELECT b.score FROM best_scores b WHERE b.game = i.game AND b.period = 'all' \
      AND b.bucket = 0 AND b.player_key = i.player_key) \
    FROM unnest(ARRAY['egg-catcher'], ARRAY['p7']) AS i (game, player_key)";

#[tokio::test]
async fn board_and_history_queries_use_their_indexes() {
    let Some((store, _db)) = fresh_store().await else {
        return;
    };
    let pool = store.pool();
    fill_a_board_and_a_history(pool).await;
    sqlx::query("ANALYZE").execute(pool).await.unwrap();
    let plans = [
        (
            "top-N",
            "SELECT player_key FROM best_scores WHERE game = 'egg-catcher' AND period = 'all' \
             AND bucket = 0 ORDER BY score DESC, achieved_at, player_key LIMIT 10",
            "best_scores_board",
        ),
        (
            "rank",
            "SELECT COUNT(*) FROM best_scores b WHERE b.game = 'egg-catcher' AND b.period = 'all' \
             AND b.bucket = 0 AND (b.score > 4000 OR (b.score = 4000 AND b.achieved_at < 5))",
            "best_scores_board",
        ),
        // A finish's previous best: the primary key, not the whole board.
        ("previous best", PREVIOUS_BEST, "best_scores_pkey"),
        (
            "history",
            "SELECT session_id FROM scores WHERE game = 'egg-catcher' AND player_key = 'p7' \
             ORDER BY achieved_at DESC, session_id DESC LIMIT 10",
            "scores_player_history",
        ),
    ];
    for (what, sql, index) in plans {
        assert_plan_uses(pool, what, sql, index).await;
    }
}

#[tokio::test]
async fn a_finish_reads_the_previous_best_by_key_before_the_tables_are_analyzed() {
    let Some((store, _db)) = fresh_store().await else {
        return;
    };
    let pool = store.pool();
    fill_a_board_and_a_history(pool).await;
    // Without statistics the planner's estimates for the key and the board index tie; the
    // schema makes the key win, or every finish would read the whole board.
    assert_plan_uses(pool, "previous best", PREVIOUS_BEST, "best_scores_pkey").await;
}

#[tokio::test]
async fn serve_refuses_a_schema_that_is_behind_and_says_to_migrate() {
    let Some(db) = fresh_database().await else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let args = arcade_testkit::test_args(dir.path(), &["--database-url", &db.url]);
    let clock = Arc::new(arcade_domain::time::SystemClock);
    let settings = args.settings().unwrap();
    let err =
        match arcade::app::Application::build(&settings, clock, arcade::runtime::metrics()).await {
            Ok(_) => panic!("a server started on an unmigrated database"),
            Err(e) => format!("{e:#}"),
        };
    assert!(err.contains("run `arcade migrate`"), "{err}");
    migrated(&db).await;
    let args = arcade_testkit::test_args(dir.path(), &["--database-url", &db.url]);
    let clock = Arc::new(arcade_domain::time::SystemClock);
    let settings = args.settings().unwrap();
    assert!(
        arcade::app::Application::build(&settings, clock, arcade::runtime::metrics())
            .await
            .is_ok()
    );
}

/// One replica at a time applies the retention: while another holds its advisory lock, a
/// store leaves the round alone and changes nothing; once released, the store applies it.
#[tokio::test]
async fn the_retention_is_left_to_the_replica_holding_its_lock() {
    use arcade_domain::ports::AdminStore;
    use arcade_domain::time::Timestamp;
    let Some((store, _db)) = fresh_store().await else {
        return;
    };
    let pool = store.pool();
    fill_a_board_and_a_history(pool).await;
    let mut other_replica = pool.begin().await.unwrap();
    let held: bool = sqlx::query_scalar("SELECT pg_try_advisory_xact_lock($1)")
        .bind(arcade_store::RETENTION_LOCK)
        .fetch_one(&mut *other_replica)
        .await
        .unwrap();
    assert!(held);
    let cut = Some(Timestamp(10_000));
    assert_eq!(store.apply_retention(cut, cut).await.unwrap(), None);
    let kept: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM scores WHERE replay IS NOT NULL")
        .fetch_one(pool)
        .await
        .unwrap();
    assert_eq!(kept, 20_000, "nothing changed while the lock was held");
    other_replica.rollback().await.unwrap();
    let report = store
        .apply_retention(cut, cut)
        .await
        .unwrap()
        .expect("applied");
    // Scores at 1..9999 ms: none of them is a best (the bests name other sessions).
    assert_eq!((report.replays, report.scores), (9_999, 9_999));
}
