//! The storage conformance suite: the same checks for every `ScoreStore`, `SessionStore`,
//! `RankIndex`, `Outbox`, `RateLimit`, `AdminStore`, `NameRuleStore` and `SeasonStore`
//! adapter, each suite written once.
//!
//! `suite!` writes a suite's checks as public functions and exports a macro that expands
//! every one of them into a `#[tokio::test]` for one backend. A backend's test file invokes
//! that macro once, with an expression that makes a fresh backend for each test (and
//! whatever must live as long as it), or `None` to skip when the backend's service is not
//! configured (see [`crate::backends::url`], which fails the test instead under
//! `ARCADE_REQUIRE_BACKENDS=1`):
//!
//! ```ignore
//! mod memory_session_store {
//!     arcade_testkit::session_store_conformance!(Some((
//!         std::sync::Arc::new(arcade_sessions::MemorySessionStore::new()),
//!         (),
//!     )));
//! }
//! ```
//!
//! A check added to a suite therefore runs on every backend with no other edit.

use std::collections::BTreeMap;
use std::ops::Range;
use std::sync::Arc;
use std::time::Duration;

use arcade_domain::DomainError;
use arcade_domain::admin::{AdminAction, NewAudit, NewReport, Operator, ReviewKind};
use arcade_domain::event::{Event, EventKind};
use arcade_domain::name_rules::{NameRule, NewNameRule, RuleKind};
use arcade_domain::player_data::{Erased, Erasure};
use arcade_domain::ports::{
    AdminStore, HistoryCursor, NameRuleStore, NewScore, Outbox, OutboxDepth, OutboxEntry,
    PlayerRecord, RankIndex, RateLimit, ScoreStore, SeasonStore, SessionStore,
};
use arcade_domain::ranks::{Standing, Submission};
use arcade_domain::season::Season;
use arcade_domain::session::{PlayRules, Session, SessionId};
use arcade_domain::time::{BoardKey, Period, Timestamp};
use arcade_domain::token::TokenDigest;
use arcade_games::Game;
use arcade_games::Input;

const T0: Timestamp = Timestamp(1_800_000_000_000);

fn player(key: &str) -> PlayerRecord {
    PlayerRecord {
        key: key.to_owned(),
        name: key.to_uppercase(),
        token_digest: TokenDigest::of(&format!("token-{key}")),
        created_at: T0,
        hidden_at: None,
        banned_at: None,
    }
}

/// The game the checks store scores and sessions of: any game of the catalogue will do.
fn game() -> &'static dyn Game {
    arcade_games::catalogue()[0]
}

fn score(player: &str, points: u32, at: Timestamp) -> NewScore {
    let session_id = SessionId::random();
    NewScore {
        session_id,
        game: game().id().to_owned(),
        player_key: player.to_owned(),
        player_name: player.to_uppercase(),
        score: points,
        ticks: 600,
        game_over: true,
        rules_version: 1,
        seed: 7,
        stats: BTreeMap::from([("points".to_owned(), points)]),
        inputs: vec![Input {
            tick: 3,
            value: 100,
        }],
        achieved_at: at,
        day: Period::Day.bucket(at),
        week: Period::Week.bucket(at),
        event: Event::score_submitted(
            session_id.0,
            game().id(),
            &player.to_uppercase(),
            points,
            at,
        ),
        flags: Vec::new(),
    }
}

fn board(period: Period, at: Timestamp) -> BoardKey {
    BoardKey::current(game().id(), period, at)
}

/// Defines a suite: its checks, each a public function of one backend, and `$runner!`, an
/// exported macro that expands all of them into tests of the backend its argument makes.
/// `$d` is a literal `$`, which the inner macro needs for its own parameter.
macro_rules! suite {
    (
        $d:tt
        $(#[$runner_doc:meta])*
        $runner:ident;
        $(
            $(#[$doc:meta])*
            pub async fn $name:ident($backend:ident: $port:ty) $body:block
        )+
    ) => {
        $(
            $(#[$doc])*
            pub async fn $name($backend: $port) $body
        )+

        $(#[$runner_doc])*
        #[macro_export]
        macro_rules! $runner {
            ($d make:expr) => {
                $(
                    #[::tokio::test]
                    async fn $name() {
                        // `None` only when the service is not configured and not required.
                        let Some((backend, _lives_as_long)) = $d make else {
                            return;
                        };
                        $crate::conformance::$name(backend).await;
                    }
                )+
            };
        }
    };
}

suite! {
    $
    /// Every `ScoreStore` check, as tests of the store `$make` makes (an
    /// `Option<(Arc<dyn ScoreStore>, _)>`).
    score_store_conformance;

    /// Names are claimed once; the stored token digest is the one given.
    pub async fn players_are_claimed_once(store: Arc<dyn ScoreStore>) {
        assert!(store.find_player("ann").await.unwrap().is_none());
        assert!(store.create_player(&player("ann")).await.unwrap());
        let mut other = player("ann");
        other.token_digest = TokenDigest::of("someone else");
        assert!(!store.create_player(&other).await.unwrap());
        let found = store.find_player("ann").await.unwrap().unwrap();
        assert_eq!(found, player("ann"));
        assert!(found.token_digest.matches("token-ann"));
    }

    /// Recording a session twice stores it once and returns the same row.
    pub async fn recording_is_idempotent_per_session(store: Arc<dyn ScoreStore>) {
        store.create_player(&player("bob")).await.unwrap();
        let s = score("bob", 120, T0);
        let first = store.record_score(&s).await.unwrap();
        assert!(first.inserted);
        assert_eq!(first.row.score, 120);
        assert_eq!(first.row.player_name, "BOB");
        assert_eq!(first.row.previous_best, None);
        let again = store.record_score(&s).await.unwrap();
        assert!(!again.inserted);
        assert_eq!(again.row, first.row);
        assert_eq!(
            store.score_by_session(s.session_id).await.unwrap(),
            Some(first.row)
        );
        let history = store.history(game().id(), "bob", None, 10).await.unwrap();
        assert_eq!(history.len(), 1);
    }

    /// Concurrent records of one session store one row.
    pub async fn concurrent_records_store_one_row(store: Arc<dyn ScoreStore>) {
        store.create_player(&player("cy")).await.unwrap();
        let s = score("cy", 50, T0);
        let tasks: Vec<_> = (0..8)
            .map(|_| {
                let store = store.clone();
                let s = s.clone();
                tokio::spawn(async move { store.record_score(&s).await.unwrap() })
            })
            .collect();
        let mut inserted = 0;
        for t in tasks {
            inserted += usize::from(t.await.unwrap().inserted);
        }
        assert_eq!(inserted, 1);
        assert_eq!(
            store
                .history(game().id(), "cy", None, 10)
                .await
                .unwrap()
                .len(),
            1
        );
    }

    /// Many players finishing at once all land, each with its own best, and reads made while the
    /// writes are in flight are answered.
    pub async fn concurrent_records_of_many_players_all_land(store: Arc<dyn ScoreStore>) {
        const PLAYERS: u32 = 48;
        let key = |i: u32| format!("crowd-{i}");
        for i in 0..PLAYERS {
            store.create_player(&player(&key(i))).await.unwrap();
        }
        let writes: Vec<_> = (0..PLAYERS)
            .map(|i| {
                let (store, s) = (store.clone(), score(&key(i), 10 + i, T0));
                tokio::spawn(async move { store.record_score(&s).await.unwrap().inserted })
            })
            .collect();
        let reads: Vec<_> = (0..PLAYERS)
            .map(|i| {
                let (store, key) = (store.clone(), key(i));
                tokio::spawn(async move { store.find_player(&key).await.unwrap().is_some() })
            })
            .collect();
        for (w, r) in writes.into_iter().zip(reads) {
            assert!(w.await.unwrap(), "a new session's score is inserted");
            assert!(r.await.unwrap(), "a claimed player is found");
        }
        let best = store
            .best_standings(&board(Period::All, T0), None)
            .await
            .unwrap();
        let crowd: Vec<_> = best
            .iter()
            .filter(|s| s.player_key.starts_with("crowd-"))
            .map(|s| s.score)
            .collect();
        let expected: Vec<_> = (0..PLAYERS).rev().map(|i| u64::from(10 + i)).collect();
        assert_eq!(crowd, expected, "every best, in board order");
    }

    /// One player finishing many games at once (a session sent twice among them): every session
    /// is stored once, the board keeps the highest score, and each previous best is one of the
    /// player's other scores.
    pub async fn concurrent_records_of_one_player_keep_the_best(store: Arc<dyn ScoreStore>) {
        store.create_player(&player("flo")).await.unwrap();
        let games: Vec<NewScore> = (0..24u32)
            .map(|i| score("flo", 100 + (i * 37) % 89, Timestamp(T0.0 + i64::from(i))))
            .collect();
        let mut sent = games.clone();
        sent.push(games[5].clone());
        let tasks: Vec<_> = sent
            .into_iter()
            .map(|s| {
                let store = store.clone();
                tokio::spawn(async move { store.record_score(&s).await.unwrap() })
            })
            .collect();
        let mut recorded = Vec::new();
        for t in tasks {
            recorded.push(t.await.unwrap());
        }
        assert_eq!(recorded.iter().filter(|r| r.inserted).count(), games.len());
        assert_eq!(
            recorded[5].row,
            recorded[games.len()].row,
            "one row per session"
        );
        let scores: Vec<u32> = games.iter().map(|g| g.score).collect();
        for r in &recorded {
            if let Some(p) = r.row.previous_best {
                assert!(
                    scores.contains(&p),
                    "previous best {p} is not one of {scores:?}"
                );
            }
        }
        let history = store
            .history(game().id(), "flo", None, 100)
            .await
            .unwrap();
        assert_eq!(history.len(), games.len());
        let top = *scores.iter().max().unwrap();
        for period in Period::ALL {
            let best = store
                .best_standings(&board(period, T0), None)
                .await
                .unwrap();
            let flo: Vec<_> = best.iter().filter(|s| s.player_key == "flo").collect();
            assert_eq!(flo.len(), 1, "{period:?}");
            assert_eq!(flo[0].score, u64::from(top), "{period:?}");
        }
    }

    /// A score the store refuses (its player was never claimed) fails alone: the scores written
    /// beside it land.
    pub async fn a_refused_record_fails_alone(store: Arc<dyn ScoreStore>) {
        const PLAYERS: u32 = 16;
        let key = |i: u32| format!("side-{i}");
        for i in 0..PLAYERS {
            store.create_player(&player(&key(i))).await.unwrap();
        }
        let mut sent: Vec<NewScore> = (0..PLAYERS).map(|i| score(&key(i), 10 + i, T0)).collect();
        sent.insert(PLAYERS as usize / 2, score("never-claimed", 999, T0));
        let tasks: Vec<_> = sent
            .into_iter()
            .map(|s| {
                let store = store.clone();
                tokio::spawn(async move { (s.player_key.clone(), store.record_score(&s).await) })
            })
            .collect();
        for t in tasks {
            let (key, result) = t.await.unwrap();
            if key == "never-claimed" {
                assert!(result.is_err(), "a score of an unknown player is refused");
            } else {
                assert!(result.unwrap().inserted, "{key}");
            }
        }
        let best = store
            .best_standings(&board(Period::All, T0), None)
            .await
            .unwrap();
        assert_eq!(best.len(), PLAYERS as usize);
        assert!(best.iter().all(|s| s.player_key.starts_with("side-")));
    }

    /// Bests keep the higher score, and the earlier one on a tie; previous_best is fixed at insert.
    pub async fn bests_follow_board_order(store: Arc<dyn ScoreStore>) {
        store.create_player(&player("dee")).await.unwrap();
        store.create_player(&player("eve")).await.unwrap();
        let later = Timestamp(T0.0 + 60_000);
        store.record_score(&score("dee", 100, T0)).await.unwrap();
        let lower = store.record_score(&score("dee", 80, later)).await.unwrap();
        assert_eq!(lower.row.previous_best, Some(100));
        store.record_score(&score("eve", 100, later)).await.unwrap();
        let tie = store.record_score(&score("eve", 100, T0)).await.unwrap();
        assert_eq!(tie.row.previous_best, Some(100));
        let best = store
            .best_standings(&board(Period::All, T0), None)
            .await
            .unwrap();
        let summary: Vec<_> = best
            .iter()
            .map(|s| (s.player_key.as_str(), s.score, s.achieved_at_ms))
            .collect();
        // Same score: the earlier achievement ranks first; eve's tie moved her best earlier.
        assert_eq!(summary, vec![("dee", 100, T0.0), ("eve", 100, T0.0)]);
        assert_eq!(best[0].player_name, "DEE");
        let recent = store
            .best_standings(&board(Period::All, T0), Some(later))
            .await
            .unwrap();
        assert!(recent.is_empty(), "both bests are from T0: {recent:?}");
        let since_start = store
            .best_standings(&board(Period::All, T0), Some(T0))
            .await
            .unwrap();
        assert_eq!(since_start.len(), 2);
        let day = store
            .best_standings(&board(Period::Day, T0), None)
            .await
            .unwrap();
        assert_eq!(day.len(), 2);
        let next_week = Timestamp(T0.0 + 8 * 86_400_000);
        assert!(
            store
                .best_standings(&board(Period::Week, next_week), None)
                .await
                .unwrap()
                .is_empty()
        );
    }

    /// A score of nothing is kept in the player's history but takes no place on any board, and
    /// does not hide a later score that does.
    pub async fn a_zero_score_is_history_but_not_on_the_boards(store: Arc<dyn ScoreStore>) {
        store.create_player(&player("zed")).await.unwrap();
        let zero = store.record_score(&score("zed", 0, T0)).await.unwrap();
        assert!(zero.inserted);
        assert_eq!(zero.row.score, 0);
        let history = store.history(game().id(), "zed", None, 10).await.unwrap();
        assert_eq!(history.len(), 1, "the run of nothing is in the history");
        for period in Period::ALL {
            let best = store
                .best_standings(&board(period, T0), None)
                .await
                .unwrap();
            assert!(best.is_empty(), "{period:?} board: {best:?}");
        }
        let later = Timestamp(T0.0 + 1_000);
        let scored = store.record_score(&score("zed", 30, later)).await.unwrap();
        assert_eq!(scored.row.previous_best, None, "a zero is no best");
        for period in Period::ALL {
            let best = store
                .best_standings(&board(period, later), None)
                .await
                .unwrap();
            let summary: Vec<_> = best
                .iter()
                .map(|s| (s.player_key.as_str(), s.score))
                .collect();
            assert_eq!(summary, [("zed", 30)], "{period:?} board");
        }
    }

    /// History is newest first and pages by cursor without gaps or repeats.
    pub async fn history_pages_newest_first(store: Arc<dyn ScoreStore>) {
        store.create_player(&player("fay")).await.unwrap();
        let mut ids = Vec::new();
        for i in 0..7u32 {
            // Two scores share each timestamp so the session id must break ties.
            let s = score("fay", i * 10, Timestamp(T0.0 + i64::from(i / 2) * 1000));
            ids.push(s.session_id);
            store.record_score(&s).await.unwrap();
        }
        let mut seen = Vec::new();
        let mut cursor: Option<HistoryCursor> = None;
        loop {
            let page = store
                .history(game().id(), "fay", cursor.as_ref(), 3)
                .await
                .unwrap();
            if page.is_empty() {
                break;
            }
            for w in page.windows(2) {
                assert!(w[0].achieved_at >= w[1].achieved_at);
            }
            cursor = page.last().map(|r| HistoryCursor {
                achieved_at: r.achieved_at,
                session_id: r.session_id,
            });
            seen.extend(page.into_iter().map(|r| r.session_id));
        }
        seen.sort();
        ids.sort();
        assert_eq!(seen, ids);
        assert!(
            store
                .history("other-game", "fay", None, 3)
                .await
                .unwrap()
                .is_empty()
        );
    }

    /// A score's flags are stored with it and read back, in order, wherever it is read.
    pub async fn flags_are_stored_with_the_score(store: Arc<dyn ScoreStore>) {
        store.create_player(&player("hal")).await.unwrap();
        let flagged = NewScore {
            flags: vec!["fast_reactions".to_owned(), "late_finish".to_owned()],
            ..score("hal", 900, T0)
        };
        let recorded = store.record_score(&flagged).await.unwrap();
        assert_eq!(recorded.row.flags, flagged.flags);
        let plain = score("hal", 300, T0.plus(Duration::from_secs(1)));
        store.record_score(&plain).await.unwrap();
        let read = store.score_by_session(flagged.session_id).await.unwrap();
        assert_eq!(read.map(|r| r.flags), Some(flagged.flags.clone()));
        let history = store.history(game().id(), "hal", None, 10).await.unwrap();
        let flags: Vec<_> = history.iter().map(|r| r.flags.clone()).collect();
        assert_eq!(flags, [vec![], flagged.flags]);
        // Flagged scores are ranked as any other.
        let bests = store
            .best_standings(&board(Period::All, T0), None)
            .await
            .unwrap();
        assert_eq!(bests.iter().map(|s| s.score).collect::<Vec<_>>(), [900]);
    }

    /// A board's page read from the store lists its bests in board order with their ranks,
    /// page after page, on the day and week the score was given (not recomputed from its time:
    /// the calendar's zone placed it).
    pub async fn a_boards_pages_are_read_from_the_bests_kept_for_it(store: Arc<dyn ScoreStore>) {
        for p in ["ann", "bob", "cat", "dan"] {
            store.create_player(&player(p)).await.unwrap();
        }
        // Days of a zone ahead of UTC: T0 + 15 h (23:00 UTC) is the next day there.
        let late = Timestamp(T0.0 + 15 * 3_600_000);
        let local_day = Period::Day.bucket(T0) + 1;
        let in_zone = |s: NewScore| NewScore {
            day: local_day,
            ..s
        };
        for s in [
            score("ann", 300, late),
            score("bob", 500, late),
            score("cat", 300, Timestamp(late.0 + 1)),
            score("bob", 200, Timestamp(late.0 + 2)),
        ] {
            store.record_score(&in_zone(s)).await.unwrap();
        }
        store.record_score(&score("dan", 900, late)).await.unwrap();
        let day = BoardKey {
            game: game().id().to_owned(),
            period: Period::Day,
            bucket: local_day,
        };
        let first = store.board_page(&day, None, 2).await.unwrap();
        let ranked = |page: &[arcade_domain::ranks::Ranked]| {
            page.iter()
                .map(|r| (r.rank, r.standing.player_key.clone(), r.standing.score))
                .collect::<Vec<_>>()
        };
        assert_eq!(
            ranked(&first),
            [(1, "bob".to_owned(), 500), (2, "ann".to_owned(), 300)]
        );
        let rest = store
            .board_page(&day, Some(&first[1].standing), 10)
            .await
            .unwrap();
        assert_eq!(ranked(&rest), [(3, "cat".to_owned(), 300)]);
        assert!(
            store
                .board_page(&day, Some(&rest[0].standing), 10)
                .await
                .unwrap()
                .is_empty()
        );
        // The UTC day of the same moment holds only the score given that day.
        let utc_day = board(Period::Day, late);
        assert_eq!(
            ranked(&store.board_page(&utc_day, None, 10).await.unwrap()),
            [(1, "dan".to_owned(), 900)]
        );
        let other_game = BoardKey {
            game: "other-game".to_owned(),
            ..day
        };
        assert!(store.board_page(&other_game, None, 10).await.unwrap().is_empty());
    }

    /// The store answers the readiness probe's ping.
    pub async fn the_store_answers_pings(store: Arc<dyn ScoreStore>) {
        store.ping().await.unwrap();
    }
}

fn new_session(now: Timestamp) -> Session {
    Session::start(
        SessionId::random(),
        game(),
        "gus",
        "Gus",
        now,
        &PlayRules::default(),
    )
}

suite! {
    $
    /// Every `SessionStore` check, as tests of the store `$make` makes (an
    /// `Option<(Arc<dyn SessionStore>, _)>`).
    session_store_conformance;

    /// Sessions round-trip, updates are atomic, failed changes change nothing.
    pub async fn sessions_round_trip_and_update_atomically(store: Arc<dyn SessionStore>) {
        let s = new_session(T0);
        store
            .insert(&s, &[], s.forget_at(&PlayRules::default()))
            .await
            .unwrap();
        assert_eq!(store.get(s.id).await.unwrap(), Some(s.clone()));
        let after = store
            .update(s.id, &|x: &mut Session| {
                x.tick += 60;
                x.windows = 2;
                x.pauses.push((30, 1_500).into());
                x.flags.push("late_finish".to_owned());
                Ok(())
            })
            .await
            .unwrap();
        assert_eq!(after.tick, 60);
        // The session is stored whole: its windows, pauses and flags too.
        assert_eq!(store.get(s.id).await.unwrap(), Some(after.clone()));
        let failed = store
            .update(s.id, &|_x: &mut Session| {
                Err(DomainError::SessionFinished("x".into()))
            })
            .await;
        assert!(matches!(failed, Err(DomainError::SessionFinished(_))));
        assert_eq!(store.get(s.id).await.unwrap().unwrap().tick, 60);
        let missing = store
            .update(SessionId::random(), &|_x: &mut Session| Ok(()))
            .await;
        assert!(matches!(missing, Err(DomainError::SessionNotFound(_))));
    }

    /// Inputs are appended a batch at a time and read back in order; a change gets the
    /// stored inputs it asks for; a failed change appends nothing; a session is inserted once.
    pub async fn session_inputs_are_appended_and_read_back(store: Arc<dyn SessionStore>) {
        let input = |tick: u32| Input { tick, value: tick * 7 };
        let s = new_session(T0);
        let forget_at = s.forget_at(&PlayRules::default());
        assert!(store.insert(&s, &[], forget_at).await.unwrap());
        assert_eq!(store.inputs(s.id, 10).await.unwrap(), []);
        let append = |ticks: Range<u32>| {
            move |x: &mut Session, held: &[Input]| {
                assert!(held.is_empty(), "nothing held at the end: {held:?}");
                let fresh: Vec<Input> = ticks.clone().map(input).collect();
                x.input_count += fresh.len();
                x.tick = ticks.end;
                Ok(fresh)
            }
        };
        store.append(s.id, 0..3, &append(1..4)).await.unwrap();
        let after = store.append(s.id, 3..5, &append(4..6)).await.unwrap();
        assert_eq!((after.input_count, after.tick), (5, 6));
        assert_eq!(store.get(s.id).await.unwrap(), Some(after.clone()));
        let all: Vec<Input> = (1..6).map(input).collect();
        assert_eq!(store.inputs(s.id, 5).await.unwrap(), all);
        assert_eq!(store.inputs(s.id, 2).await.unwrap(), all[..2]);
        assert_eq!(store.inputs(s.id, 50).await.unwrap(), all, "no more than it holds");
        // A change asking for positions 2..9 gets what the session holds of them.
        let seen = std::sync::Mutex::new(Vec::new());
        store
            .append(s.id, 2..9, &|x: &mut Session, held: &[Input]| {
                *seen.lock().unwrap() = held.to_vec();
                x.tick += 1;
                Ok(Vec::new())
            })
            .await
            .unwrap();
        assert_eq!(*seen.lock().unwrap(), all[2..]);
        // A refused change appends nothing and changes nothing.
        let refused = store
            .append(s.id, 5..6, &|x: &mut Session, _: &[Input]| {
                x.tick = 99;
                Err(DomainError::InputGap {
                    expected: 5,
                    got: 6,
                })
            })
            .await;
        assert!(matches!(refused, Err(DomainError::InputGap { .. })));
        assert_eq!(store.inputs(s.id, 50).await.unwrap(), all);
        assert_eq!(store.get(s.id).await.unwrap().unwrap().tick, 7);
        // A second insert of the same id changes nothing; a session may start with inputs.
        let mut other = s.clone();
        other.tick = 1;
        assert!(!store.insert(&other, &all[..1], forget_at).await.unwrap());
        assert_eq!(store.get(s.id).await.unwrap().unwrap().tick, 7);
        assert_eq!(store.inputs(s.id, 50).await.unwrap(), all);
        let mut resumed = new_session(T0);
        resumed.input_count = 2;
        assert!(store.insert(&resumed, &all[..2], forget_at).await.unwrap());
        assert_eq!(store.inputs(resumed.id, 9).await.unwrap(), all[..2]);
        assert_eq!(store.get(resumed.id).await.unwrap(), Some(resumed));
        let missing = store
            .append(SessionId::random(), 0..1, &|_x: &mut Session, _: &[Input]| {
                Ok(vec![input(1)])
            })
            .await;
        assert!(matches!(missing, Err(DomainError::SessionNotFound(_))));
    }

    /// Concurrent appends never lose one another's inputs, nor put them out of place.
    pub async fn concurrent_appends_are_not_lost(store: Arc<dyn SessionStore>) {
        let s = new_session(T0);
        store
            .insert(&s, &[], s.forget_at(&PlayRules::default()))
            .await
            .unwrap();
        let tasks: Vec<_> = (0..20u32)
            .map(|_| {
                let store = store.clone();
                tokio::spawn(async move {
                    store
                        .append(s.id, 0..0, &|x: &mut Session, _: &[Input]| {
                            x.input_count += 1;
                            Ok(vec![Input {
                                tick: x.input_count as u32,
                                value: 1,
                            }])
                        })
                        .await
                        .unwrap();
                })
            })
            .collect();
        for t in tasks {
            t.await.unwrap();
        }
        let ticks: Vec<u32> = store
            .inputs(s.id, 100)
            .await
            .unwrap()
            .iter()
            .map(|i| i.tick)
            .collect();
        assert_eq!(ticks, (1..=20).collect::<Vec<_>>());
    }

    /// Concurrent updates never lose one another.
    pub async fn concurrent_session_updates_are_not_lost(store: Arc<dyn SessionStore>) {
        let s = new_session(T0);
        store
            .insert(&s, &[], s.forget_at(&PlayRules::default()))
            .await
            .unwrap();
        let tasks: Vec<_> = (0..20)
            .map(|_| {
                let store = store.clone();
                tokio::spawn(async move {
                    store
                        .update(s.id, &|x: &mut Session| {
                            x.tick += 1;
                            Ok(())
                        })
                        .await
                        .unwrap();
                })
            })
            .collect();
        for t in tasks {
            t.await.unwrap();
        }
        assert_eq!(store.get(s.id).await.unwrap().unwrap().tick, 20);
    }

    /// Active counts skip finished and expired sessions; purge forgets sessions past retention.
    pub async fn sessions_are_counted_and_purged(store: Arc<dyn SessionStore>) {
        let rules = PlayRules::default();
        let a = new_session(T0);
        let mut b = new_session(T0);
        b.finish = Some(arcade_domain::session::FinishState::Rejected(
            arcade_domain::error::Rejection::too_fast(1, 0),
        ));
        for s in [&a, &b] {
            assert!(store.insert(s, &[], s.forget_at(&rules)).await.unwrap());
        }
        let counts = store.count_active(T0).await.unwrap();
        assert_eq!(counts.get(game().id()), Some(&1));
        let expired = a.expires_at;
        assert_eq!(
            store
                .count_active(expired)
                .await
                .unwrap()
                .get(game().id()),
            None
        );
        assert_eq!(store.purge(expired).await.unwrap(), 0);
        assert!(store.get(a.id).await.unwrap().is_some());
        assert_eq!(store.purge(a.forget_at(&rules)).await.unwrap(), 2);
        assert!(store.get(a.id).await.unwrap().is_none());
    }

    /// Forgetting a player forgets each of their sessions, finished or not, and no one
    /// else's.
    pub async fn forgetting_a_player_forgets_their_sessions_only(store: Arc<dyn SessionStore>) {
        let rules = PlayRules::default();
        let playing = new_session(T0);
        let mut done = new_session(T0);
        done.finish = Some(arcade_domain::session::FinishState::Rejected(
            arcade_domain::error::Rejection::too_fast(1, 0),
        ));
        let other = Session::start(SessionId::random(), game(), "ivy", "Ivy", T0, &rules);
        let input = Input { tick: 1, value: 2 };
        for s in [&playing, &done, &other] {
            assert!(store.insert(s, &[input], s.forget_at(&rules)).await.unwrap());
        }
        assert_eq!(store.forget_player("gus").await.unwrap(), 2);
        for s in [&playing, &done] {
            assert_eq!(store.get(s.id).await.unwrap(), None);
            assert!(store.inputs(s.id, 10).await.unwrap().is_empty());
        }
        assert_eq!(store.get(other.id).await.unwrap(), Some(other.clone()));
        assert_eq!(store.inputs(other.id, 10).await.unwrap(), [input]);
        assert_eq!(store.count_active(T0).await.unwrap().get(game().id()), Some(&1));
        assert_eq!(store.forget_player("gus").await.unwrap(), 0);
        assert_eq!(store.purge(other.forget_at(&rules)).await.unwrap(), 1);
    }
}

fn standing(key: &str, points: u64, at: i64) -> Standing {
    Standing {
        score: points,
        achieved_at_ms: at,
        player_key: key.to_owned(),
        player_name: key.to_uppercase(),
    }
}

suite! {
    $
    /// Every `RankIndex` check, as tests of the index `$make` makes (an
    /// `Option<(Arc<dyn RankIndex>, _)>`).
    rank_index_conformance;

    /// A player removed from a board is gone from its ranks, pages and neighbours, the others
    /// move up, and a later submission puts them back as new; removing who is not there (or
    /// from a board never written) does nothing.
    pub async fn a_removed_player_leaves_the_board_until_submitted_again(ranks: Arc<dyn RankIndex>) {
        let b = board(Period::All, T0);
        ranks.submit(&b, standing("top", 90, 1)).await.unwrap();
        ranks.submit(&b, standing("mid", 50, 2)).await.unwrap();
        ranks.submit(&b, standing("low", 10, 3)).await.unwrap();
        ranks.set(&b, "top", None).await.unwrap();
        assert_eq!(ranks.get(&b, "top").await.unwrap(), None);
        let keys: Vec<_> = ranks
            .page(&b, None, 10)
            .await
            .unwrap()
            .into_iter()
            .map(|r| (r.rank, r.standing.player_key))
            .collect();
        assert_eq!(keys, [(1, "mid".to_owned()), (2, "low".to_owned())]);
        assert_eq!(ranks.around(&b, "top", 2, 2).await.unwrap(), Vec::new());
        ranks.set(&b, "top", None).await.unwrap();
        ranks
            .set(&board(Period::Day, T0), "nobody", None)
            .await
            .unwrap();
        assert!(
            matches!(
                ranks.submit(&b, standing("top", 20, 4)).await.unwrap(),
                Submission::New { rank: 2 }
            ),
            "a lower best than before is taken as new"
        );
    }

    /// A set entry replaces the player's best whatever it was, a worse one included (an
    /// operator removed the better score), in its place among the others; setting what is
    /// already there changes nothing.
    pub async fn a_set_entry_replaces_the_best_even_with_a_worse_one(ranks: Arc<dyn RankIndex>) {
        let b = board(Period::All, T0);
        ranks.submit(&b, standing("top", 90, 1)).await.unwrap();
        ranks.submit(&b, standing("mid", 50, 2)).await.unwrap();
        ranks.set(&b, "top", Some(standing("top", 30, 3))).await.unwrap();
        ranks.set(&b, "top", Some(standing("top", 30, 3))).await.unwrap();
        let order: Vec<_> = ranks
            .page(&b, None, 10)
            .await
            .unwrap()
            .into_iter()
            .map(|r| (r.rank, r.standing.player_key, r.standing.score))
            .collect();
        assert_eq!(order, [(1, "mid".to_owned(), 50), (2, "top".to_owned(), 30)]);
        let around = ranks.around(&b, "top", 1, 1).await.unwrap();
        assert_eq!(around.len(), 2);
        ranks.set(&b, "new", Some(standing("new", 70, 4))).await.unwrap();
        assert_eq!(ranks.get(&b, "new").await.unwrap().map(|r| r.rank), Some(1));
        assert!(
            matches!(
                ranks.submit(&b, standing("top", 20, 5)).await.unwrap(),
                Submission::NotImproved { rank: 3, .. }
            ),
            "submissions compare with the set entry"
        );
    }

    /// Ranks, pages and neighbours follow board order; only improvements replace a best.
    pub async fn rank_index_orders_and_keeps_bests(ranks: Arc<dyn RankIndex>) {
        let b = board(Period::All, T0);
        assert!(matches!(
            ranks.submit(&b, standing("a", 50, 10)).await.unwrap(),
            Submission::New { rank: 1 }
        ));
        ranks.submit(&b, standing("b", 70, 20)).await.unwrap();
        ranks.submit(&b, standing("c", 50, 5)).await.unwrap();
        assert!(matches!(
            ranks.submit(&b, standing("a", 40, 30)).await.unwrap(),
            Submission::NotImproved { rank: 3, .. }
        ));
        let page = ranks.page(&b, None, 10).await.unwrap();
        let order: Vec<_> = page
            .iter()
            .map(|r| (r.rank, r.standing.player_key.as_str()))
            .collect();
        assert_eq!(order, vec![(1, "b"), (2, "c"), (3, "a")]);
        let second = ranks.page(&b, Some(&page[0].standing), 1).await.unwrap();
        assert_eq!(second[0].standing.player_key, "c");
        assert_eq!(second[0].rank, 2);
        assert_eq!(ranks.get(&b, "a").await.unwrap().unwrap().rank, 3);
        assert!(ranks.get(&b, "nobody").await.unwrap().is_none());
        let around = ranks.around(&b, "c", 1, 1).await.unwrap();
        assert_eq!(around.len(), 3);
        assert!(matches!(
            ranks.submit(&b, standing("a", 90, 40)).await.unwrap(),
            Submission::Improved { rank: 1, .. }
        ));
        // Boards are independent.
        assert!(
            ranks
                .page(&board(Period::Day, T0), None, 10)
                .await
                .unwrap()
                .is_empty()
        );
    }

    /// Loading a board replaces its contents.
    pub async fn rank_index_loads_a_board(ranks: Arc<dyn RankIndex>) {
        let b = board(Period::Week, T0);
        ranks.submit(&b, standing("old", 5, 1)).await.unwrap();
        ranks
            .load(&b, vec![standing("x", 10, 1), standing("y", 20, 2)])
            .await
            .unwrap();
        let page = ranks.page(&b, None, 10).await.unwrap();
        let keys: Vec<_> = page
            .iter()
            .map(|r| r.standing.player_key.as_str())
            .collect();
        assert_eq!(keys, vec!["y", "x"]);
        ranks.ping().await.unwrap();
    }
}

/// A score store and the rank index answered from its own tables (the database rank index,
/// which follows what `record_score` wrote rather than what it is submitted).
pub struct ScoresAndRanks {
    pub scores: Arc<dyn ScoreStore>,
    pub ranks: Arc<dyn RankIndex>,
}

suite! {
    $
    /// Every check of a rank index answered from the score store, as tests of the pair
    /// `$make` makes (an `Option<(ScoresAndRanks, _)>`).
    database_rank_index_conformance;

    /// A rank index answered from the score store (the fallback) ranks exactly the recorded bests.
    pub async fn database_rank_index_matches_recorded_bests(backend: ScoresAndRanks) {
        let ScoresAndRanks { scores: store, ranks } = backend;
        let points = [
            ("hal", 30),
            ("ida", 50),
            ("jon", 50),
            ("kai", 10),
            ("lou", 70),
        ];
        for (i, (key, p)) in points.iter().enumerate() {
            store.create_player(&player(key)).await.unwrap();
            let at = Timestamp(T0.0 + i as i64 * 1000);
            store.record_score(&score(key, *p, at)).await.unwrap();
        }
        // A worse later score changes nothing.
        store
            .record_score(&score("lou", 5, Timestamp(T0.0 + 9000)))
            .await
            .unwrap();
        let b = board(Period::All, T0);
        let page = ranks.page(&b, None, 10).await.unwrap();
        let order: Vec<_> = page
            .iter()
            .map(|r| (r.rank, r.standing.player_key.as_str()))
            .collect();
        assert_eq!(
            order,
            vec![(1, "lou"), (2, "ida"), (3, "jon"), (4, "hal"), (5, "kai")]
        );
        assert_eq!(page[0].standing.player_name, "LOU");
        let rest = ranks.page(&b, Some(&page[1].standing), 2).await.unwrap();
        let rest: Vec<_> = rest
            .iter()
            .map(|r| (r.rank, r.standing.player_key.as_str()))
            .collect();
        assert_eq!(rest, vec![(3, "jon"), (4, "hal")]);
        assert_eq!(ranks.get(&b, "hal").await.unwrap().unwrap().rank, 4);
        assert!(ranks.get(&b, "nobody").await.unwrap().is_none());
        let around: Vec<_> = ranks
            .around(&b, "jon", 1, 1)
            .await
            .unwrap()
            .into_iter()
            .map(|r| (r.rank, r.standing.player_key))
            .collect();
        assert_eq!(
            around,
            vec![
                (2, "ida".to_owned()),
                (3, "jon".to_owned()),
                (4, "hal".to_owned())
            ]
        );
        let submitted = ranks
            .submit(&b, standing("lou", 5, T0.0 + 9000))
            .await
            .unwrap();
        assert!(
            matches!(submitted, Submission::NotImproved { rank: 1, .. }),
            "{submitted:?}"
        );
    }
}

/// A score store and its outbox (the same database: a score's event is written with it).
pub struct ScoresAndOutbox {
    pub scores: Arc<dyn ScoreStore>,
    pub outbox: Arc<dyn Outbox>,
}

/// An event of a session of its own, ready to add.
fn started_event(player: &str) -> Event {
    let session = SessionId::random();
    Event {
        id: Event::derived_id(session.0, EventKind::SessionStarted, None),
        kind: EventKind::SessionStarted,
        game: game().id().to_owned(),
        player: player.to_owned(),
        session_id: session.0,
        score: None,
        rank: None,
        period: None,
        at: T0,
    }
}

/// A lease long enough that no check sees it end unless it waits for that.
const LEASE: Duration = Duration::from_secs(60);

fn decoded(entry: &OutboxEntry) -> Event {
    serde_json::from_str(&entry.payload).expect("an outbox payload is an event")
}

suite! {
    $
    /// Every check of an outbox, as tests of the pair `$make` makes (an
    /// `Option<(ScoresAndOutbox, _)>`).
    outbox_conformance;

    /// A score's event is stored with it but held for its finish, which adds it again with
    /// its rank; recording the score again adds nothing.
    pub async fn a_recorded_score_holds_its_event_until_the_finish_adds_it(backend: ScoresAndOutbox) {
        let ScoresAndOutbox { scores, outbox } = backend;
        scores.create_player(&player("oda")).await.unwrap();
        let s = score("oda", 70, T0);
        assert!(scores.record_score(&s).await.unwrap().inserted);
        assert_eq!(outbox.depth().await.unwrap().events, 1, "stored with the score");
        assert!(outbox.claim(10, LEASE).await.unwrap().is_empty(), "held for its rank");
        assert!(!scores.record_score(&s).await.unwrap().inserted);
        assert_eq!(outbox.depth().await.unwrap().events, 1, "stored once");

        let ranked = Event {
            rank: Some(3),
            ..s.event.clone()
        };
        outbox.add(std::slice::from_ref(&ranked)).await.unwrap();
        let claimed = outbox.claim(10, LEASE).await.unwrap();
        assert_eq!(claimed.len(), 1);
        assert_eq!(claimed[0].id, s.event.id);
        assert_eq!(decoded(&claimed[0]), ranked);
    }

    /// A claimed event is nobody else's until it is removed, given back, or its lease ends.
    pub async fn claimed_events_are_leased_until_removed_or_given_back(backend: ScoresAndOutbox) {
        let outbox = backend.outbox;
        let events: Vec<Event> = ["a", "b", "c"].into_iter().map(started_event).collect();
        outbox.add(&events).await.unwrap();
        let depth = outbox.depth().await.unwrap();
        assert_eq!(depth.events, 3);
        assert!(depth.oldest_age < LEASE, "{depth:?}");
        let first = outbox.claim(2, LEASE).await.unwrap();
        assert_eq!(first.len(), 2);
        let second = outbox.claim(2, LEASE).await.unwrap();
        assert_eq!(second.len(), 1);
        assert!(outbox.claim(2, LEASE).await.unwrap().is_empty());
        let mut ids: Vec<_> = first.iter().chain(&second).map(|e| e.id).collect();
        ids.sort();
        let mut want: Vec<_> = events.iter().map(|e| e.id).collect();
        want.sort();
        assert_eq!(ids, want, "each event claimed once");
        for entry in first.iter().chain(&second) {
            let event = decoded(entry);
            assert_eq!(event.id, entry.id);
            assert!(events.contains(&event));
        }

        let given_back: Vec<_> = first.iter().map(|e| e.id).collect();
        outbox.unclaim(&given_back).await.unwrap();
        let again = outbox.claim(10, LEASE).await.unwrap();
        let mut again: Vec<_> = again.iter().map(|e| e.id).collect();
        again.sort();
        let mut given_back = given_back;
        given_back.sort();
        assert_eq!(again, given_back);

        outbox.remove(&ids).await.unwrap();
        assert_eq!(outbox.depth().await.unwrap(), OutboxDepth::default());
        outbox.unclaim(&ids).await.unwrap();
        assert!(outbox.claim(10, LEASE).await.unwrap().is_empty(), "removed for good");
    }

    /// An event whose lease ended (its relay gone) is claimed again.
    pub async fn an_event_whose_lease_ended_is_claimed_again(backend: ScoresAndOutbox) {
        let outbox = backend.outbox;
        let event = started_event("lea");
        outbox.add(std::slice::from_ref(&event)).await.unwrap();
        let lease = Duration::from_millis(100);
        assert_eq!(outbox.claim(10, lease).await.unwrap().len(), 1);
        assert!(outbox.claim(10, lease).await.unwrap().is_empty());
        tokio::time::sleep(lease * 2).await;
        let again = outbox.claim(10, LEASE).await.unwrap();
        assert_eq!(again.len(), 1);
        assert_eq!(again[0].id, event.id);
    }

    /// Adding an event again keeps one event, with the last content.
    pub async fn adding_an_event_again_replaces_its_content(backend: ScoresAndOutbox) {
        let outbox = backend.outbox;
        let event = started_event("rey");
        outbox.add(std::slice::from_ref(&event)).await.unwrap();
        let changed = Event {
            player: "Rey".to_owned(),
            ..event.clone()
        };
        outbox.add(std::slice::from_ref(&changed)).await.unwrap();
        let claimed = outbox.claim(10, LEASE).await.unwrap();
        assert_eq!(claimed.len(), 1);
        assert_eq!(decoded(&claimed[0]), changed);
        assert!(outbox.add(&[]).await.is_ok());
    }

    /// Relays claiming at once never get the same event.
    pub async fn concurrent_claims_never_share_an_event(backend: ScoresAndOutbox) {
        let outbox = backend.outbox;
        let events: Vec<Event> = (0..60).map(|i| started_event(&format!("p{i}"))).collect();
        for chunk in events.chunks(7) {
            outbox.add(chunk).await.unwrap();
        }
        let relays: Vec<_> = (0..4)
            .map(|_| {
                let outbox = outbox.clone();
                tokio::spawn(async move {
                    let mut got = Vec::new();
                    loop {
                        let batch = outbox.claim(5, LEASE).await.unwrap();
                        if batch.is_empty() {
                            return got;
                        }
                        got.extend(batch.into_iter().map(|e| e.id));
                    }
                })
            })
            .collect();
        let mut claimed = Vec::new();
        for relay in relays {
            claimed.extend(relay.await.unwrap());
        }
        claimed.sort();
        let before = claimed.len();
        claimed.dedup();
        assert_eq!(before, claimed.len(), "an event claimed twice");
        assert_eq!(claimed.len(), events.len(), "every event claimed");
    }
}

/// A score store, its outbox and the operators' store, all in one database (an operator's
/// change is written with its audit record and the events it reports).
pub struct ScoresAndAdmin {
    pub scores: Arc<dyn ScoreStore>,
    pub outbox: Arc<dyn Outbox>,
    pub admin: Arc<dyn AdminStore>,
}

fn operator(name: &str) -> Operator {
    Operator {
        id: uuid::Uuid::new_v4(),
        name: name.to_owned(),
        token_digest: TokenDigest::of(&format!("arcade_op_{name}")),
        created_at: T0,
        revoked_at: None,
    }
}

fn audit(action: AdminAction, target: &str, at: Timestamp) -> NewAudit {
    NewAudit {
        at,
        actor: "cli:root".to_owned(),
        action,
        target: target.to_owned(),
        reason: None,
        before: None,
        after: Some(serde_json::json!({ "target": target })),
    }
}

suite! {
    $
    /// Every check of the operators' store, as tests of the stores `$make` makes (an
    /// `Option<(ScoresAndAdmin, _)>`).
    admin_store_conformance;

    /// An operator is created once per name, with one audit record, and found by the digest
    /// of their token.
    pub async fn operators_are_created_once_with_their_audit_record(backend: ScoresAndAdmin) {
        let admin = backend.admin;
        let ann = operator("ann");
        let created = audit(AdminAction::TokenCreated, "operator:ann", T0);
        assert!(admin.create_operator(&ann, &created).await.unwrap());
        let mut again = operator("ann");
        again.token_digest = TokenDigest::of("another token");
        assert!(!admin.create_operator(&again, &created).await.unwrap(), "the name is taken");
        assert_eq!(admin.operators().await.unwrap(), vec![ann.clone()]);
        assert_eq!(
            admin.operator_by_token(&ann.token_digest).await.unwrap(),
            Some(ann.clone())
        );
        assert_eq!(
            admin.operator_by_token(&TokenDigest::of("nobody's")).await.unwrap(),
            None
        );
        let log = admin.audit_log(None, 10).await.unwrap();
        assert_eq!(log.len(), 1, "the refused creation wrote no record");
        assert_eq!(log[0].action, "token_created");
        assert_eq!(log[0].actor, "cli:root");
        assert_eq!(log[0].target, "operator:ann");
        assert_eq!(log[0].at, T0);
        assert_eq!(log[0].before, None);
        assert_eq!(log[0].after, Some(serde_json::json!({ "target": "operator:ann" })));
    }

    /// A revoked operator stays listed with the time of the revocation; revoking again (or an
    /// operator who never was) changes nothing and records nothing.
    pub async fn a_revoked_operator_stays_with_the_time_and_one_record(backend: ScoresAndAdmin) {
        let admin = backend.admin;
        let bob = operator("bob");
        admin
            .create_operator(&bob, &audit(AdminAction::TokenCreated, "operator:bob", T0))
            .await
            .unwrap();
        let at = Timestamp(T0.0 + 5_000);
        let mut revoke = audit(AdminAction::TokenRevoked, "operator:bob", at);
        revoke.reason = Some("left the team".to_owned());
        revoke.before = Some(serde_json::json!({ "revoked_at": null }));
        assert!(admin.revoke_operator("bob", &revoke).await.unwrap());
        assert!(!admin.revoke_operator("bob", &revoke).await.unwrap());
        assert!(!admin.revoke_operator("nobody", &revoke).await.unwrap());
        let found = admin.operator_by_token(&bob.token_digest).await.unwrap().unwrap();
        assert_eq!(found.revoked_at, Some(at));
        assert!(!found.is_active());
        let log = admin.audit_log(None, 10).await.unwrap();
        assert_eq!(log.len(), 2);
        assert_eq!(log[0].action, "token_revoked");
        assert_eq!(log[0].reason.as_deref(), Some("left the team"));
        assert_eq!(log[0].before, Some(serde_json::json!({ "revoked_at": null })));
    }

    /// The audit log pages newest first by id, each page strictly before the cursor.
    pub async fn the_audit_log_pages_newest_first(backend: ScoresAndAdmin) {
        let admin = backend.admin;
        for i in 0..7 {
            let name = format!("op{i}");
            let at = Timestamp(T0.0 + i64::from(i));
            admin
                .create_operator(
                    &operator(&name),
                    &audit(AdminAction::TokenCreated, &format!("operator:{name}"), at),
                )
                .await
                .unwrap();
        }
        let mut targets = Vec::new();
        let mut before = None;
        loop {
            let page = admin.audit_log(before, 3).await.unwrap();
            let Some(last) = page.last() else { break };
            before = Some(last.id);
            targets.extend(page.iter().map(|r| r.target.clone()));
        }
        let expected: Vec<String> = (0..7).rev().map(|i| format!("operator:op{i}")).collect();
        assert_eq!(targets, expected);
        let all = admin.audit_log(None, 100).await.unwrap();
        assert!(all.windows(2).all(|w| w[0].id > w[1].id), "ids fall page after page");
    }

    /// A hidden player leaves every board of every period with the event of the change, a
    /// score they finish meanwhile stays off the boards (and unannounced), and showing them
    /// again brings back their bests, recomputed from every score, as `record_score` keeps
    /// them.
    pub async fn hiding_takes_a_player_off_every_board_until_shown(backend: ScoresAndAdmin) {
        let ScoresAndAdmin {
            scores,
            outbox,
            admin,
        } = backend;
        scores.create_player(&player("hid")).await.unwrap();
        scores.create_player(&player("vis")).await.unwrap();
        let day = 86_400_000;
        let games = [
            score("hid", 50, T0),
            score("hid", 80, Timestamp(T0.0 + day)),
            score("hid", 60, Timestamp(T0.0 + 8 * day)),
            score("vis", 70, T0),
        ];
        for g in &games {
            scores.record_score(g).await.unwrap();
        }
        let mut boards = Vec::new();
        for g in &games[..3] {
            for period in Period::ALL {
                boards.push(board(period, g.achieved_at));
            }
        }
        boards.sort();
        boards.dedup();
        let mut shown = Vec::new();
        for b in &boards {
            shown.push(scores.best_standings(b, None).await.unwrap());
        }
        let mut bests_before = admin.player_bests("hid").await.unwrap();
        bests_before.sort_by(|a, b| a.0.cmp(&b.0));
        assert_eq!(
            bests_before.len(),
            boards.len(),
            "one per board: {bests_before:?}"
        );
        while outbox.claim(100, LEASE).await.unwrap().len() == 100 {}

        let at = Timestamp(T0.0 + 9 * day);
        let hidden_event = started_event("hid");
        assert!(
            admin
                .set_hidden(
                    "hid",
                    Some(at),
                    &audit(AdminAction::PlayerHidden, "player:hid", at),
                    std::slice::from_ref(&hidden_event)
                )
                .await
                .unwrap()
        );
        assert!(
            !admin
                .set_hidden(
                    "nobody",
                    Some(at),
                    &audit(AdminAction::PlayerHidden, "player:nobody", at),
                    &[]
                )
                .await
                .unwrap()
        );
        assert_eq!(
            scores.find_player("hid").await.unwrap().unwrap().hidden_at,
            Some(at)
        );
        for b in &boards {
            let keys: Vec<_> = scores
                .best_standings(b, None)
                .await
                .unwrap()
                .into_iter()
                .map(|s| s.player_key)
                .collect();
            assert!(!keys.contains(&"hid".to_owned()), "{b}: {keys:?}");
        }
        assert!(admin.player_bests("hid").await.unwrap().is_empty());
        let claimed = outbox.claim(100, LEASE).await.unwrap();
        assert!(
            claimed.iter().any(|e| e.id == hidden_event.id),
            "the change's event is ready"
        );

        let depth = outbox.depth().await.unwrap().events;
        let meanwhile = score("hid", 500, Timestamp(T0.0 + 9 * day));
        let recorded = scores.record_score(&meanwhile).await.unwrap();
        assert!(recorded.inserted);
        assert!(
            !recorded.row.listed,
            "a hidden player's score is not listed"
        );
        assert!(
            !scores
                .score_by_session(meanwhile.session_id)
                .await
                .unwrap()
                .unwrap()
                .listed
        );
        assert!(admin.player_bests("hid").await.unwrap().is_empty());
        assert!(
            !scores
                .best_standings(&board(Period::All, T0), None)
                .await
                .unwrap()
                .iter()
                .any(|s| s.player_key == "hid")
        );
        assert_eq!(outbox.depth().await.unwrap().events, depth, "nor announced");

        assert!(
            admin
                .set_hidden(
                    "hid",
                    None,
                    &audit(AdminAction::PlayerUnhidden, "player:hid", at),
                    &[]
                )
                .await
                .unwrap()
        );
        assert!(
            scores
                .score_by_session(meanwhile.session_id)
                .await
                .unwrap()
                .unwrap()
                .listed
        );
        let mut bests_after = admin.player_bests("hid").await.unwrap();
        bests_after.sort_by(|a, b| a.0.cmp(&b.0));
        let mut expected = bests_before.clone();
        // The score finished while hidden counts once shown: it is the best of its boards.
        for period in Period::ALL {
            let b = board(period, meanwhile.achieved_at);
            let standing = Standing {
                score: 500,
                achieved_at_ms: meanwhile.achieved_at.0,
                player_key: "hid".to_owned(),
                player_name: "HID".to_owned(),
            };
            match expected.iter_mut().find(|(k, _)| *k == b) {
                Some(slot) => slot.1 = standing,
                None => expected.push((b, standing)),
            }
        }
        expected.sort_by(|a, b| a.0.cmp(&b.0));
        assert_eq!(bests_after, expected);
        for (b, before) in boards.iter().zip(&shown) {
            let now = scores.best_standings(b, None).await.unwrap();
            if *b == board(Period::All, T0)
                || b.bucket == board(Period::Week, meanwhile.achieved_at).bucket
            {
                continue;
            }
            assert_eq!(&now, before, "{b} is as it was");
        }
        let log = admin.audit_log(None, 10).await.unwrap();
        assert_eq!(
            log.iter().map(|r| r.action.as_str()).collect::<Vec<_>>(),
            ["player_unhidden", "player_hidden"]
        );
    }

    /// A finished day's board follows the operators: a hidden player leaves it and comes
    /// back when shown, and bests recomputed after a score is removed stay on the day and week
    /// each score was given (its zone's), not its UTC day.
    pub async fn a_finished_board_follows_hiding_and_removals(backend: ScoresAndAdmin) {
        let ScoresAndAdmin { scores, admin, .. } = backend;
        scores.create_player(&player("eve")).await.unwrap();
        scores.create_player(&player("fox")).await.unwrap();
        // Days of a zone far behind UTC: T0 + 1 h (09:00 UTC) is the day before in Honolulu.
        let early = Timestamp(T0.0 + 3_600_000);
        let (day, week) = (Period::Day.bucket(T0) - 1, Period::Week.bucket(T0) - 1);
        let in_zone = |s: NewScore| NewScore { day, week, ..s };
        let low = in_zone(score("eve", 40, early));
        let high = in_zone(score("eve", 90, Timestamp(early.0 + 1000)));
        let other = in_zone(score("fox", 60, early));
        for s in [&low, &high, &other] {
            scores.record_score(s).await.unwrap();
        }
        let key = |period, bucket| BoardKey {
            game: game().id().to_owned(),
            period,
            bucket,
        };
        let on = |page: Vec<arcade_domain::ranks::Ranked>| {
            page.into_iter()
                .map(|r| (r.rank, r.standing.player_key, r.standing.score))
                .collect::<Vec<_>>()
        };
        let at = Timestamp(T0.0 + 5000);
        admin
            .set_hidden(
                "eve",
                Some(at),
                &audit(AdminAction::PlayerHidden, "player:eve", at),
                &[],
            )
            .await
            .unwrap();
        assert_eq!(
            on(scores.board_page(&key(Period::Day, day), None, 10).await.unwrap()),
            [(1, "fox".to_owned(), 60)]
        );
        admin
            .set_hidden(
                "eve",
                None,
                &audit(AdminAction::PlayerUnhidden, "player:eve", at),
                &[],
            )
            .await
            .unwrap();
        admin
            .remove_score(
                high.session_id,
                &audit(AdminAction::ScoreRemoved, "score", at),
                &[],
            )
            .await
            .unwrap();
        for board in [key(Period::Day, day), key(Period::Week, week)] {
            assert_eq!(
                on(scores.board_page(&board, None, 10).await.unwrap()),
                [(1, "fox".to_owned(), 60), (2, "eve".to_owned(), 40)],
                "{board}"
            );
        }
        for board in [board(Period::Day, early), board(Period::Week, early)] {
            assert!(
                scores.board_page(&board, None, 10).await.unwrap().is_empty(),
                "{board}"
            );
        }
    }

    /// Removing a score deletes it and recomputes its player's bests from the others; the
    /// other players are untouched.
    pub async fn removing_a_score_recomputes_the_players_bests(backend: ScoresAndAdmin) {
        let ScoresAndAdmin {
            scores,
            outbox,
            admin,
        } = backend;
        scores.create_player(&player("rem")).await.unwrap();
        scores.create_player(&player("oth")).await.unwrap();
        let low = score("rem", 40, T0);
        let high = score("rem", 90, Timestamp(T0.0 + 1000));
        let other = score("oth", 60, T0);
        for s in [&low, &high, &other] {
            scores.record_score(s).await.unwrap();
        }
        let all = board(Period::All, T0);
        let before: Vec<_> = scores
            .best_standings(&all, None)
            .await
            .unwrap()
            .into_iter()
            .map(|s| (s.player_key, s.score))
            .collect();
        assert_eq!(before, [("rem".to_owned(), 90), ("oth".to_owned(), 60)]);
        while outbox.claim(100, LEASE).await.unwrap().len() == 100 {}
        let removed = started_event("rem");
        let at = Timestamp(T0.0 + 5000);
        assert!(
            admin
                .remove_score(
                    high.session_id,
                    &audit(AdminAction::ScoreRemoved, "score", at),
                    std::slice::from_ref(&removed)
                )
                .await
                .unwrap()
        );
        assert!(
            !admin
                .remove_score(
                    high.session_id,
                    &audit(AdminAction::ScoreRemoved, "score", at),
                    &[]
                )
                .await
                .unwrap(),
            "once"
        );
        assert_eq!(
            scores.score_by_session(high.session_id).await.unwrap(),
            None
        );
        let after: Vec<_> = scores
            .best_standings(&all, None)
            .await
            .unwrap()
            .into_iter()
            .map(|s| (s.player_key, s.score))
            .collect();
        assert_eq!(after, [("oth".to_owned(), 60), ("rem".to_owned(), 40)]);
        for period in Period::ALL {
            let bests = admin.player_bests("rem").await.unwrap();
            let (_, best) = bests
                .iter()
                .find(|(b, _)| *b == board(period, T0))
                .expect("a best per period");
            assert_eq!((best.score, best.achieved_at_ms), (40, T0.0));
        }
        assert!(
            outbox
                .claim(100, LEASE)
                .await
                .unwrap()
                .iter()
                .any(|e| e.id == removed.id)
        );
        assert!(
            admin
                .remove_score(
                    low.session_id,
                    &audit(AdminAction::ScoreRemoved, "score", at),
                    &[]
                )
                .await
                .unwrap()
        );
        assert!(
            admin.player_bests("rem").await.unwrap().is_empty(),
            "no score, no best"
        );
        assert_eq!(
            scores.history(game().id(), "rem", None, 10).await.unwrap(),
            Vec::new()
        );
        assert_eq!(admin.audit_log(None, 10).await.unwrap().len(), 2);
    }

    /// A ban is kept with the player, and lifted; it changes nothing on the boards.
    pub async fn a_ban_is_kept_with_the_player_until_lifted(backend: ScoresAndAdmin) {
        let ScoresAndAdmin { scores, admin, .. } = backend;
        scores.create_player(&player("ban")).await.unwrap();
        scores.record_score(&score("ban", 30, T0)).await.unwrap();
        let at = Timestamp(T0.0 + 1);
        assert!(
            admin
                .set_banned(
                    "ban",
                    Some(at),
                    &audit(AdminAction::PlayerBanned, "player:ban", at)
                )
                .await
                .unwrap()
        );
        assert!(
            !admin
                .set_banned(
                    "nobody",
                    Some(at),
                    &audit(AdminAction::PlayerBanned, "player:nobody", at)
                )
                .await
                .unwrap()
        );
        let found = scores.find_player("ban").await.unwrap().unwrap();
        assert_eq!((found.banned_at, found.hidden_at), (Some(at), None));
        assert_eq!(admin.player_bests("ban").await.unwrap().len(), 3);
        assert!(
            admin
                .set_banned(
                    "ban",
                    None,
                    &audit(AdminAction::PlayerUnbanned, "player:ban", at)
                )
                .await
                .unwrap()
        );
        assert_eq!(
            scores.find_player("ban").await.unwrap().unwrap().banned_at,
            None
        );
        assert_eq!(admin.audit_log(None, 10).await.unwrap().len(), 2);
    }

    /// A rename moves the player's token, scores and bests to the new key in one go; a key
    /// that belongs to someone else refuses it; the old name may be blocked.
    pub async fn a_rename_moves_everything_and_may_block_the_old_name(backend: ScoresAndAdmin) {
        let ScoresAndAdmin { scores, admin, .. } = backend;
        scores.create_player(&player("old")).await.unwrap();
        scores.create_player(&player("someone")).await.unwrap();
        let s = score("old", 70, T0);
        scores.record_score(&s).await.unwrap();
        let at = Timestamp(T0.0 + 1);
        let a = audit(AdminAction::PlayerRenamed, "player:old", at);
        assert!(
            !admin
                .rename_player("old", "someone", "Someone", None, &a, &[])
                .await
                .unwrap()
        );
        assert!(
            admin.audit_log(None, 10).await.unwrap().is_empty(),
            "nothing written"
        );
        assert!(!admin.is_blocked("old").await.unwrap());
        assert!(
            admin
                .rename_player("old", "new", "New", Some(at), &a, &[])
                .await
                .unwrap()
        );
        assert_eq!(scores.find_player("old").await.unwrap(), None);
        let moved = scores.find_player("new").await.unwrap().unwrap();
        assert_eq!(moved.name, "New");
        assert!(
            moved.token_digest.matches("token-old"),
            "the token moves with the player"
        );
        let row = scores
            .score_by_session(s.session_id)
            .await
            .unwrap()
            .unwrap();
        assert_eq!(
            (row.player_key.as_str(), row.player_name.as_str()),
            ("new", "New")
        );
        let bests = admin.player_bests("new").await.unwrap();
        assert_eq!(bests.len(), 3);
        assert!(
            bests
                .iter()
                .all(|(_, b)| b.player_name == "New" && b.score == 70)
        );
        assert!(admin.player_bests("old").await.unwrap().is_empty());
        assert!(admin.is_blocked("old").await.unwrap());
        assert!(!admin.is_blocked("new").await.unwrap());
        assert!(
            admin
                .rename_player("new", "new", "NEW", None, &a, &[])
                .await
                .unwrap()
        );
        assert_eq!(
            scores.find_player("new").await.unwrap().unwrap().name,
            "NEW"
        );
        assert_eq!(admin.audit_log(None, 10).await.unwrap().len(), 2);
    }

    /// Flagged scores and reports (with their score, or of a name alone) wait for review,
    /// oldest first, until resolved once; the depth counts them and dates the oldest.
    pub async fn flagged_scores_and_reports_wait_for_review_until_resolved(backend: ScoresAndAdmin) {
        let ScoresAndAdmin { scores, admin, .. } = backend;
        scores.create_player(&player("sus")).await.unwrap();
        let mut flagged = score("sus", 90, T0);
        flagged.flags = vec!["fast_reactions".to_owned()];
        scores.record_score(&flagged).await.unwrap();
        scores
            .record_score(&score("sus", 10, Timestamp(T0.0 + 1)))
            .await
            .unwrap();
        assert_eq!(
            admin.review_depth().await.unwrap().items,
            1,
            "only the flagged score waits"
        );
        admin
            .add_report(&NewReport {
                player_key: "sus".to_owned(),
                session_id: Some(flagged.session_id),
                reason: Some("too good".to_owned()),
                at: Timestamp(T0.0 + 5),
            })
            .await
            .unwrap();
        admin
            .add_report(&NewReport {
                player_key: "sus".to_owned(),
                session_id: None,
                reason: None,
                at: Timestamp(T0.0 + 9),
            })
            .await
            .unwrap();
        let queue = admin.review_queue(10).await.unwrap();
        assert_eq!(queue.len(), 3);
        let score_item = format!("score:{}", flagged.session_id);
        assert_eq!(queue[0].item, score_item);
        assert_eq!(queue[0].kind, ReviewKind::FlaggedScore);
        assert_eq!(queue[0].player, "SUS");
        assert_eq!(queue[0].score, Some(90));
        assert_eq!(queue[0].flags, ["fast_reactions"]);
        assert_eq!(queue[0].at, T0);
        assert_eq!(queue[1].kind, ReviewKind::Report);
        assert_eq!(queue[1].session_id, Some(flagged.session_id));
        assert_eq!(queue[1].score, Some(90));
        assert_eq!(queue[1].reason.as_deref(), Some("too good"));
        assert_eq!(queue[2].session_id, None);
        assert_eq!(queue[2].game, None);
        assert_eq!(admin.review_queue(1).await.unwrap().len(), 1);
        assert_eq!(
            admin.review_item(&queue[2].item).await.unwrap().as_ref(),
            Some(&queue[2])
        );
        assert_eq!(admin.review_item("report:999999").await.unwrap(), None);
        let depth = admin.review_depth().await.unwrap();
        assert_eq!((depth.items, depth.oldest_at), (3, Some(T0)));
        let a = audit(
            AdminAction::ReviewResolved,
            &score_item,
            Timestamp(T0.0 + 20),
        );
        assert!(
            admin
                .resolve_review(&score_item, "dismiss", &a)
                .await
                .unwrap()
        );
        assert!(
            !admin
                .resolve_review(&score_item, "dismiss", &a)
                .await
                .unwrap(),
            "once"
        );
        let depth = admin.review_depth().await.unwrap();
        assert_eq!(
            (depth.items, depth.oldest_at),
            (2, Some(Timestamp(T0.0 + 5)))
        );
        assert_eq!(admin.review_item(&score_item).await.unwrap(), None);
        assert_eq!(admin.audit_log(None, 10).await.unwrap().len(), 1);
    }

    /// A player's data holds their record, their scores with replays (oldest first) and the
    /// reports about them, and nothing of another player's.
    pub async fn a_players_data_holds_their_scores_with_replays_and_reports(backend: ScoresAndAdmin) {
        let ScoresAndAdmin { scores, admin, .. } = backend;
        scores.create_player(&player("exp")).await.unwrap();
        scores.create_player(&player("oth")).await.unwrap();
        let first = score("exp", 20, T0);
        let second = score("exp", 50, Timestamp(T0.0 + 1000));
        for s in [&second, &first, &score("oth", 70, T0)] {
            scores.record_score(s).await.unwrap();
        }
        for (key, session) in [("exp", Some(first.session_id)), ("oth", None)] {
            admin
                .add_report(&NewReport {
                    player_key: key.to_owned(),
                    session_id: session,
                    reason: Some("rude".to_owned()),
                    at: T0,
                })
                .await
                .unwrap();
        }
        let data = admin.player_data("exp").await.unwrap().expect("the player's data");
        assert_eq!(data.player, player("exp"));
        let ids: Vec<_> = data.scores.iter().map(|s| s.row.session_id).collect();
        assert_eq!(ids, [first.session_id, second.session_id]);
        assert_eq!(data.scores[0].seed, first.seed);
        assert_eq!(data.scores[0].inputs.as_ref(), Some(&first.inputs));
        assert_eq!(data.scores[1].row.score, 50);
        assert_eq!(data.reports.len(), 1);
        assert_eq!(data.reports[0].session_id, Some(first.session_id));
        assert_eq!(data.reports[0].reason.as_deref(), Some("rude"));
        assert_eq!(admin.player_data("nobody").await.unwrap(), None);
    }

    /// The retention removes the replays of scores older than its cut-off (the scores and
    /// bests stay) and deletes older scores that are no board's best, flagged and waiting for
    /// review, or reported and waiting; a second round finds nothing left to do.
    pub async fn the_retention_removes_old_replays_and_scores_but_keeps_the_bests(backend: ScoresAndAdmin) {
        let ScoresAndAdmin { scores, admin, .. } = backend;
        scores.create_player(&player("ret")).await.unwrap();
        let day = 86_400_000;
        let best = score("ret", 40, T0);
        let beaten = score("ret", 20, Timestamp(T0.0 + 1000));
        let flagged = NewScore {
            flags: vec!["fast_reactions".to_owned()],
            ..score("ret", 10, Timestamp(T0.0 + 2000))
        };
        let reported = score("ret", 15, Timestamp(T0.0 + 3000));
        let recent = score("ret", 25, Timestamp(T0.0 + 10 * day));
        for s in [&best, &beaten, &flagged, &reported, &recent] {
            scores.record_score(s).await.unwrap();
        }
        admin
            .add_report(&NewReport {
                player_key: "ret".to_owned(),
                session_id: Some(reported.session_id),
                reason: None,
                at: T0,
            })
            .await
            .unwrap();
        let bests_before = admin.player_bests("ret").await.unwrap();
        let cut = Some(Timestamp(T0.0 + 5 * day));
        let report = admin.apply_retention(cut, cut).await.unwrap().expect("applied");
        assert_eq!((report.replays, report.scores), (4, 1), "{report:?}");
        assert_eq!(scores.score_by_session(beaten.session_id).await.unwrap(), None);
        for kept in [&best, &flagged, &reported, &recent] {
            assert!(
                scores.score_by_session(kept.session_id).await.unwrap().is_some(),
                "score {} stays",
                kept.score
            );
        }
        assert_eq!(admin.player_bests("ret").await.unwrap(), bests_before);
        let data = admin.player_data("ret").await.unwrap().expect("the player's data");
        let replays: Vec<_> = data
            .scores
            .iter()
            .map(|s| (s.row.score, s.inputs.is_some()))
            .collect();
        assert_eq!(
            replays,
            [(40, false), (10, false), (15, false), (25, true)],
            "only the recent score keeps its replay"
        );
        let again = admin.apply_retention(cut, cut).await.unwrap().expect("applied");
        assert_eq!((again.replays, again.scores), (0, 0));
        let nothing = admin.apply_retention(None, None).await.unwrap().expect("applied");
        assert_eq!((nothing.replays, nothing.scores), (0, 0));
    }

    /// The retention works through more rows than one batch holds, and only on the side of
    /// the cut-off it is given.
    pub async fn the_retention_goes_on_past_one_batch(backend: ScoresAndAdmin) {
        let ScoresAndAdmin { scores, admin, .. } = backend;
        scores.create_player(&player("many")).await.unwrap();
        scores.record_score(&score("many", 1_000, T0)).await.unwrap();
        for i in 1..=600 {
            scores
                .record_score(&score("many", 1, Timestamp(T0.0 + i)))
                .await
                .unwrap();
        }
        let cut = Some(Timestamp(T0.0 + 301));
        let report = admin.apply_retention(None, cut).await.unwrap().expect("applied");
        assert_eq!(report.scores, 300);
        let report = admin.apply_retention(cut, None).await.unwrap().expect("applied");
        assert_eq!(report.replays, 1, "the best's");
        let data = admin.player_data("many").await.unwrap().expect("the player's data");
        assert_eq!(data.scores.len(), 301);
    }

    /// Erasing a player deletes their record, scores, bests, reports about them, the review
    /// items of those and the events waiting that name them; the audit records about them
    /// keep only what was done, under the erasure's reference. Other players keep all.
    pub async fn erasing_a_player_leaves_nothing_of_them_but_the_audit_reference(backend: ScoresAndAdmin) {
        let ScoresAndAdmin {
            scores,
            outbox,
            admin,
        } = backend;
        scores.create_player(&player("era")).await.unwrap();
        scores.create_player(&player("oth")).await.unwrap();
        let removed = score("era", 30, T0);
        let kept = NewScore {
            flags: vec!["fast_reactions".to_owned()],
            ..score("era", 60, Timestamp(T0.0 + 1000))
        };
        let other = score("oth", 40, T0);
        for s in [&removed, &kept, &other] {
            scores.record_score(s).await.unwrap();
        }
        for key in ["era", "oth"] {
            admin
                .add_report(&NewReport {
                    player_key: key.to_owned(),
                    session_id: None,
                    reason: None,
                    at: T0,
                })
                .await
                .unwrap();
        }
        let at = Timestamp(T0.0 + 2000);
        let hidden = NewAudit {
            before: Some(serde_json::json!({ "name": "ERA" })),
            ..audit(AdminAction::PlayerHidden, "player:era", at)
        };
        admin.set_hidden("era", Some(at), &hidden, &[]).await.unwrap();
        admin.set_hidden("era", None, &hidden, &[]).await.unwrap();
        let removal = NewAudit {
            before: Some(serde_json::json!({ "player": "ERA" })),
            ..audit(AdminAction::ScoreRemoved, &format!("score:{}", removed.session_id), at)
        };
        admin.remove_score(removed.session_id, &removal, &[]).await.unwrap();
        let flagged = format!("score:{}", kept.session_id);
        let review = NewAudit {
            before: Some(serde_json::json!({ "player": "ERA" })),
            ..audit(AdminAction::ReviewResolved, &flagged, at)
        };
        assert!(admin.resolve_review(&flagged, "dismiss", &review).await.unwrap());
        let for_other = audit(AdminAction::PlayerBanned, "player:oth", at);
        admin.set_banned("oth", Some(at), &for_other).await.unwrap();
        let waiting = [started_event("ERA"), started_event("OTH")];
        outbox.add(&waiting).await.unwrap();

        let erasure = Erasure {
            player_key: "era".to_owned(),
            player_name: "ERA".to_owned(),
            block_name: None,
            reference: "erasure:1".to_owned(),
        };
        let erased = NewAudit {
            after: Some(serde_json::json!({ "name": "released" })),
            ..audit(AdminAction::PlayerErased, "erasure:1", at)
        };
        let notice = Event::moderation(EventKind::PlayerDeleted, game().id(), "ERA", uuid::Uuid::new_v4(), at);
        let done = admin
            .erase_player(&erasure, &erased, std::slice::from_ref(&notice))
            .await
            .unwrap()
            .expect("erased");
        assert_eq!(done, Erased { scores: 1, reports: 1 });
        assert_eq!(
            admin.erase_player(&erasure, &erased, &[]).await.unwrap(),
            None,
            "once"
        );
        assert_eq!(scores.find_player("era").await.unwrap(), None);
        assert_eq!(scores.score_by_session(kept.session_id).await.unwrap(), None);
        assert!(admin.player_bests("era").await.unwrap().is_empty());
        assert!(!admin.is_blocked("era").await.unwrap(), "the name is free");
        let all = board(Period::All, T0);
        let on_board: Vec<_> = scores
            .best_standings(&all, None)
            .await
            .unwrap()
            .into_iter()
            .map(|s| s.player_key)
            .collect();
        assert_eq!(on_board, ["oth"]);
        let queue = admin.review_queue(100).await.unwrap();
        assert_eq!(queue.len(), 1, "{queue:?}");
        assert_eq!(queue[0].player, "OTH");
        let events: Vec<_> = outbox
            .claim(100, LEASE)
            .await
            .unwrap()
            .iter()
            .map(decoded)
            .collect();
        assert!(events.iter().any(|e| e.id == waiting[1].id), "{events:?}");
        assert!(events.iter().any(|e| e.id == notice.id), "{events:?}");
        assert!(
            events.iter().all(|e| e.player != "ERA" || e.id == notice.id),
            "only the erasure's own notice names the player: {events:?}"
        );
        let log = admin.audit_log(None, 100).await.unwrap();
        assert_eq!(log.len(), 6);
        for r in &log {
            let text = format!("{:?} {:?}", r.before, r.after);
            if r.target == "player:oth" {
                continue;
            }
            assert_eq!(r.target, "erasure:1", "{r:?}");
            assert!(!text.contains("era") && !text.contains("ERA"), "{r:?}");
        }
        assert_eq!(log[0].action, "player_erased");
        assert_eq!(log[0].after, Some(serde_json::json!({ "name": "released" })));
        assert!(scores.find_player("oth").await.unwrap().is_some());
    }

    /// An erasure may block the name: nobody claims it again.
    pub async fn an_erasure_may_block_the_name(backend: ScoresAndAdmin) {
        let ScoresAndAdmin { scores, admin, .. } = backend;
        scores.create_player(&player("blk")).await.unwrap();
        let erasure = Erasure {
            player_key: "blk".to_owned(),
            player_name: "BLK".to_owned(),
            block_name: Some(T0),
            reference: "erasure:2".to_owned(),
        };
        let audit = audit(AdminAction::PlayerErased, "erasure:2", T0);
        assert_eq!(
            admin.erase_player(&erasure, &audit, &[]).await.unwrap(),
            Some(Erased::default())
        );
        assert!(admin.is_blocked("blk").await.unwrap());
        assert_eq!(scores.find_player("blk").await.unwrap(), None);
    }
}

/// The quota the rate-limit checks expect their limits to be made with.
pub const LIMIT_PER_MINUTE: u32 = 3;

/// Two handles on one backend's limit, as two replicas of a fleet hold them, both made with a
/// quota of [`LIMIT_PER_MINUTE`].
pub struct SharedLimit {
    pub one: Arc<dyn RateLimit>,
    pub other: Arc<dyn RateLimit>,
}

suite! {
    $
    /// Every `RateLimit` check, as tests of the limit `$make` makes (an
    /// `Option<(SharedLimit, _)>`).
    rate_limit_conformance;

    /// A fresh client may act its quota at once, then waits no more than one interval.
    pub async fn a_fresh_client_gets_its_quota_at_once(limit: SharedLimit) {
        for _ in 0..LIMIT_PER_MINUTE {
            assert_eq!(limit.one.acquire("203.0.113.1").await.unwrap(), None);
        }
        let wait = limit.one.acquire("203.0.113.1").await.unwrap().expect("refused");
        let interval = Duration::from_secs(60) / LIMIT_PER_MINUTE;
        assert!(wait > Duration::ZERO && wait <= interval, "{wait:?}");
    }

    /// A refused attempt takes nothing: asking again does not make the wait longer.
    pub async fn a_refusal_takes_nothing(limit: SharedLimit) {
        for _ in 0..LIMIT_PER_MINUTE {
            limit.one.acquire("203.0.113.2").await.unwrap();
        }
        let first = limit.one.acquire("203.0.113.2").await.unwrap().expect("refused");
        for _ in 0..5 {
            let again = limit.one.acquire("203.0.113.2").await.unwrap().expect("refused");
            assert!(again <= first, "{again:?} after {first:?}");
        }
    }

    /// Each client has its own allowance.
    pub async fn clients_have_their_own_allowance(limit: SharedLimit) {
        for _ in 0..LIMIT_PER_MINUTE {
            limit.one.acquire("203.0.113.3").await.unwrap();
        }
        assert!(limit.one.acquire("203.0.113.3").await.unwrap().is_some());
        assert_eq!(limit.one.acquire("2001:db8::/64").await.unwrap(), None);
    }

    /// Every handle on the backend counts against the same allowance, so N replicas allow a
    /// client the quota once, not N times.
    pub async fn handles_share_one_allowance(limit: SharedLimit) {
        for i in 0..LIMIT_PER_MINUTE {
            let handle = if i % 2 == 0 { &limit.one } else { &limit.other };
            assert_eq!(handle.acquire("203.0.113.4").await.unwrap(), None);
        }
        assert!(limit.other.acquire("203.0.113.4").await.unwrap().is_some());
        assert!(limit.one.acquire("203.0.113.4").await.unwrap().is_some());
    }
}

/// The name deny list's store, with the stores beside it that its changes write to.
pub struct ScoresAndNames {
    pub scores: Arc<dyn ScoreStore>,
    pub outbox: Arc<dyn Outbox>,
    pub admin: Arc<dyn AdminStore>,
    pub names: Arc<dyn NameRuleStore>,
}

fn name_rule(kind: RuleKind, value: &str, folded: &str) -> NewNameRule {
    NewNameRule {
        kind,
        value: value.to_owned(),
        folded: folded.to_owned(),
        created_at: T0,
        created_by: "ann".to_owned(),
    }
}

fn rule_audit(action: AdminAction) -> impl Fn(&NameRule) -> NewAudit + Send + Sync {
    move |r: &NameRule| NewAudit {
        at: r.created_at,
        actor: r.created_by.clone(),
        action,
        target: format!("name_rule:{}", r.id),
        reason: None,
        before: None,
        after: Some(serde_json::json!({ "value": r.value })),
    }
}

suite! {
    $
    /// Every check of the name deny list's store, as tests of the stores `$make` makes (an
    /// `Option<(ScoresAndNames, _)>`).
    name_rule_store_conformance;

    /// A rule is stored once per kind and folded form, with its audit record (made from the
    /// stored rule, id included) and its event; a refused one writes neither.
    pub async fn name_rules_are_stored_once_with_their_record_and_event(backend: ScoresAndNames) {
        let names = backend.names;
        let added = rule_audit(AdminAction::NameRuleAdded);
        let event = Event::name_rules_changed(T0);
        let bad = names
            .add_name_rule(&name_rule(RuleKind::Word, "Bad", "bad"), &added, std::slice::from_ref(&event))
            .await
            .unwrap()
            .expect("a new rule is stored");
        assert_eq!(bad.kind, RuleKind::Word);
        assert_eq!((bad.value.as_str(), bad.folded.as_str()), ("Bad", "bad"));
        assert_eq!((bad.created_at, bad.created_by.as_str()), (T0, "ann"));
        let again = names
            .add_name_rule(&name_rule(RuleKind::Word, "BAD", "bad"), &added, &[])
            .await
            .unwrap();
        assert_eq!(again, None, "the same word in another spelling");
        let pattern = names
            .add_name_rule(&name_rule(RuleKind::Pattern, "bad", "bad"), &added, &[])
            .await
            .unwrap()
            .expect("a pattern of the same text is another rule");
        assert!(pattern.id > bad.id);
        assert_eq!(names.name_rules().await.unwrap(), vec![bad.clone(), pattern]);
        let log = backend.admin.audit_log(None, 10).await.unwrap();
        assert_eq!(log.len(), 2, "the refused rule wrote no record");
        assert_eq!(log[1].action, "name_rule_added");
        assert_eq!(log[1].target, format!("name_rule:{}", bad.id));
        assert_eq!(log[1].after, Some(serde_json::json!({ "value": "Bad" })));
        let claimed = backend.outbox.claim(10, Duration::from_secs(30)).await.unwrap();
        let kinds: Vec<_> = claimed.iter().map(|e| decoded(e).kind).collect();
        assert_eq!(kinds, [EventKind::NameRulesChanged]);
        assert_eq!(claimed[0].id, event.id);
    }

    /// A removed rule is gone, with one record and its event; removing it again (or a rule
    /// that never was) changes and records nothing.
    pub async fn a_removed_name_rule_is_gone_with_one_record(backend: ScoresAndNames) {
        let names = backend.names;
        let added = rule_audit(AdminAction::NameRuleAdded);
        let rule = names
            .add_name_rule(&name_rule(RuleKind::Pattern, "^x", "^x"), &added, &[])
            .await
            .unwrap()
            .unwrap();
        let removed = rule_audit(AdminAction::NameRuleRemoved)(&rule);
        let event = Event::name_rules_changed(T0);
        assert!(names.remove_name_rule(rule.id, &removed, &[event]).await.unwrap());
        assert!(!names.remove_name_rule(rule.id, &removed, &[]).await.unwrap());
        assert!(!names.remove_name_rule(rule.id + 100, &removed, &[]).await.unwrap());
        assert!(names.name_rules().await.unwrap().is_empty());
        let log = backend.admin.audit_log(None, 10).await.unwrap();
        let actions: Vec<_> = log.iter().map(|r| r.action.as_str()).collect();
        assert_eq!(actions, ["name_rule_removed", "name_rule_added"]);
        let claimed = backend.outbox.claim(10, Duration::from_secs(30)).await.unwrap();
        assert_eq!(claimed.len(), 1);
        assert_eq!(decoded(&claimed[0]).kind, EventKind::NameRulesChanged);
    }

    /// Walking the players a page at a time from the last key read meets every player once.
    pub async fn players_are_walked_by_key_each_once(backend: ScoresAndNames) {
        let keys = ["eve", "ann", "dan", "bob", "cat"];
        for key in keys {
            assert!(backend.scores.create_player(&player(key)).await.unwrap());
        }
        let mut seen = Vec::new();
        let mut after: Option<String> = None;
        loop {
            let page = backend.names.players_after(after.as_deref(), 2).await.unwrap();
            assert!(page.len() <= 2);
            seen.extend(page.iter().map(|p| p.key.clone()));
            match page.last() {
                Some(last) if page.len() == 2 => after = Some(last.key.clone()),
                _ => break,
            }
        }
        let mut sorted = seen.clone();
        sorted.sort();
        assert_eq!(sorted, ["ann", "bob", "cat", "dan", "eve"], "each once: {seen:?}");
        let first = backend.names.players_after(None, 1).await.unwrap();
        assert_eq!(first[0], player(&first[0].key), "the whole record");
    }
}

/// The seasons' store, with the stores beside it that it reads and writes.
pub struct ScoresAndSeasons {
    pub scores: Arc<dyn ScoreStore>,
    pub admin: Arc<dyn AdminStore>,
    pub seasons: Arc<dyn SeasonStore>,
}

fn season(slug: &str, starts_at: Timestamp, ends_at: Timestamp) -> Season {
    Season {
        slug: slug.to_owned(),
        title: format!("Season {slug}"),
        starts_at,
        ends_at,
        created_at: T0,
    }
}

fn season_audit(action: AdminAction, slug: &str) -> NewAudit {
    NewAudit {
        at: T0,
        actor: "ann".to_owned(),
        action,
        target: format!("season:{slug}"),
        reason: None,
        before: None,
        after: None,
    }
}

/// The board of `during` as (key, rank, score), read a page of `limit` at a time.
async fn season_board(
    seasons: &dyn SeasonStore,
    during: Range<Timestamp>,
    limit: usize,
) -> Vec<(String, u64, u64)> {
    let mut board = Vec::new();
    let mut after: Option<Standing> = None;
    loop {
        let page = seasons
            .season_page(game().id(), during.clone(), after.as_ref(), limit)
            .await
            .unwrap();
        assert!(page.len() <= limit);
        board.extend(
            page.iter()
                .map(|r| (r.standing.player_key.clone(), r.rank, r.standing.score)),
        );
        match page.last() {
            Some(last) if page.len() == limit => after = Some(last.standing.clone()),
            _ => return board,
        }
    }
}

suite! {
    $
    /// Every check of the seasons' store, as tests of the stores `$make` makes (an
    /// `Option<(ScoresAndSeasons, _)>`).
    season_store_conformance;

    /// A season is stored once per slug with its audit record; the list is newest first; a
    /// removed season is gone with its record, and removing it again writes nothing.
    pub async fn seasons_are_stored_once_listed_newest_first_and_removed(backend: ScoresAndSeasons) {
        let seasons = backend.seasons;
        let hour = Duration::from_secs(3600);
        let old = season("old", T0, T0.plus(hour));
        let new = season("new", T0.plus(hour), T0.plus(hour * 2));
        let all = season("all", T0, T0.plus(hour * 2));
        for s in [&old, &new, &all] {
            let added = season_audit(AdminAction::SeasonAdded, &s.slug);
            assert!(seasons.add_season(s, &added).await.unwrap());
        }
        let again = season("old", T0.plus(hour * 5), T0.plus(hour * 6));
        let added = season_audit(AdminAction::SeasonAdded, "old");
        assert!(!seasons.add_season(&again, &added).await.unwrap(), "the slug is taken");
        assert_eq!(seasons.seasons().await.unwrap(), [new.clone(), all.clone(), old.clone()]);
        assert_eq!(seasons.season("old").await.unwrap(), Some(old));
        assert_eq!(seasons.season("nope").await.unwrap(), None);

        let removed = season_audit(AdminAction::SeasonRemoved, "old");
        assert!(seasons.remove_season("old", &removed).await.unwrap());
        assert!(!seasons.remove_season("old", &removed).await.unwrap());
        assert_eq!(seasons.seasons().await.unwrap(), [new, all]);
        let log = backend.admin.audit_log(None, 10).await.unwrap();
        let actions: Vec<_> = log.iter().map(|r| r.action.as_str()).collect();
        assert_eq!(
            actions,
            ["season_removed", "season_added", "season_added", "season_added"],
            "refused changes wrote no record"
        );
        assert_eq!(log[0].target, "season:old");
    }

    /// A season's board holds each player's best achieved within it (its start included, its
    /// end not; the earliest of equal bests), scores above zero of this game only, in board
    /// order with ranks, a page at a time; a hidden player is not on it.
    pub async fn a_seasons_board_ranks_the_bests_within_it(backend: ScoresAndSeasons) {
        let (start, end) = (T0.plus(Duration::from_secs(60)), T0.plus(Duration::from_secs(600)));
        let at = |s: u64| T0.plus(Duration::from_secs(s));
        for key in ["ann", "bob", "cat", "dan", "eve"] {
            assert!(backend.scores.create_player(&player(key)).await.unwrap());
        }
        let mut other_game = score("eve", 999, at(100));
        other_game.game = arcade_games::catalogue()[1].id().to_owned();
        for s in [
            score("ann", 500, at(59)),  // before the start
            score("ann", 40, at(60)),   // at the start: counts
            score("ann", 50, at(300)),
            score("bob", 50, at(200)),  // ahead of ann's 50: earlier
            score("bob", 50, at(400)),  // the same best again: the earlier one stays
            score("cat", 80, at(599)),
            score("cat", 900, at(600)), // at the end: does not count
            score("dan", 0, at(120)),   // nothing takes no place
            score("eve", 30, at(130)),
            other_game,
        ] {
            backend.scores.record_score(&s).await.unwrap();
        }
        let expected = [
            ("cat".to_owned(), 1, 80),
            ("bob".to_owned(), 2, 50),
            ("ann".to_owned(), 3, 50),
            ("eve".to_owned(), 4, 30),
        ];
        for limit in [1, 2, 3, 10] {
            let board = season_board(&*backend.seasons, start..end, limit).await;
            assert_eq!(board, expected, "pages of {limit}");
        }
        let page = backend
            .seasons
            .season_page(game().id(), start..end, None, 1)
            .await
            .unwrap();
        assert_eq!(page[0].standing.player_name, "CAT");
        assert_eq!(page[0].standing.achieved_at_ms, at(599).0);
        let bob = backend
            .seasons
            .season_page(game().id(), start..end, Some(&page[0].standing), 1)
            .await
            .unwrap();
        assert_eq!(bob[0].standing.achieved_at_ms, at(200).0, "the earlier of equal bests");

        let hidden = NewAudit {
            at: T0,
            actor: "ann".to_owned(),
            action: AdminAction::PlayerHidden,
            target: "player:bob".to_owned(),
            reason: None,
            before: None,
            after: None,
        };
        assert!(backend.admin.set_hidden("bob", Some(T0), &hidden, &[]).await.unwrap());
        let board = season_board(&*backend.seasons, start..end, 10).await;
        assert_eq!(
            board,
            [
                ("cat".to_owned(), 1, 80),
                ("ann".to_owned(), 2, 50),
                ("eve".to_owned(), 3, 30),
            ]
        );
        assert!(season_board(&*backend.seasons, at(700)..at(800), 10).await.is_empty());
    }
}
