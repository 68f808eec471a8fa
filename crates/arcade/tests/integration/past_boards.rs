//! Boards of days and weeks that are over, and where days begin in the arcade's time zone.

use std::time::Duration;

use arcade_domain::time::Period;
use arcade_testkit::{StatusCode, TestApp, spawn_app, spawn_app_with};
use reqwest::header;
use serde_json::Value;

const BOARD: &str = "/api/games/egg-catcher/leaderboard";

async fn json(app: &TestApp, path: &str) -> Value {
    let r = app.get(path).await;
    assert_eq!(r.status(), StatusCode::OK, "{path}");
    r.json().await.unwrap()
}

/// Play one game as `player` that scores, and return its score.
async fn scored(app: &TestApp, player: &str) -> u64 {
    let (status, body, _, _) = app.play_game("egg-catcher", player, None, 90).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let score = body["score"].as_u64().unwrap();
    assert!(score > 0, "the bot scores: {body}");
    score
}

fn names(board: &Value) -> Vec<(String, u64)> {
    board["entries"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| {
            (
                e["player"].as_str().unwrap().to_owned(),
                e["rank"].as_u64().unwrap(),
            )
        })
        .collect()
}

#[tokio::test]
async fn a_day_that_is_over_stays_readable_with_its_winners_and_long_lived_caching() {
    let app = spawn_app().await;
    app.start_a_new_day();
    scored(&app, "Ada").await;
    scored(&app, "Bea").await;
    let today = json(&app, &format!("{BOARD}?period=day")).await;
    let date = today["date"].as_str().unwrap().to_owned();
    assert_eq!(today["week"], Value::Null);
    // Today named by its date is the current board, live.
    let named = app.get(&format!("{BOARD}?period=day&date={date}")).await;
    assert_eq!(named.status(), StatusCode::OK);
    assert_eq!(named.headers().get(header::CACHE_CONTROL), None);
    assert_eq!(names(&named.json().await.unwrap()), names(&today));

    app.start_a_new_day();
    let new_day = json(&app, &format!("{BOARD}?period=day")).await;
    assert!(new_day["entries"].as_array().unwrap().is_empty());
    assert_ne!(new_day["date"], today["date"]);
    let path = format!("{BOARD}?period=day&date={date}&limit=1");
    let r = app.get(&path).await;
    assert_eq!(r.status(), StatusCode::OK);
    assert_eq!(r.headers()[header::CACHE_CONTROL], "public, max-age=300");
    let etag = r.headers()[header::ETAG].clone();
    let first: Value = r.json().await.unwrap();
    assert_eq!(first["date"], date.as_str());
    assert_eq!(first["period"], "day");
    assert_eq!(names(&first), names(&today)[..1]);
    // The next page follows from the cursor, from the same finished day.
    let cursor = first["next_cursor"].as_str().unwrap();
    let rest = json(
        &app,
        &format!("{BOARD}?period=day&date={date}&cursor={cursor}"),
    )
    .await;
    assert_eq!(names(&rest), names(&today)[1..]);
    // A client holding the page revalidates it for nothing.
    let again = app
        .client
        .get(app.url(&path))
        .header(header::IF_NONE_MATCH, etag.clone())
        .send()
        .await
        .unwrap();
    assert_eq!(again.status(), StatusCode::NOT_MODIFIED);
    assert_eq!(again.headers()[header::ETAG], etag);
    assert_eq!(
        again.headers()[header::CACHE_CONTROL],
        "public, max-age=300"
    );
}

#[tokio::test]
async fn a_week_that_is_over_stays_readable_by_its_iso_week() {
    let app = spawn_app().await;
    app.start_a_new_day();
    let score = scored(&app, "Cid").await;
    let week = json(&app, &format!("{BOARD}?period=week")).await["week"]
        .as_str()
        .unwrap()
        .to_owned();
    // A week from now is the next week, whatever day this one began on.
    app.advance(Duration::from_secs(7 * 86_400));
    let current = json(&app, &format!("{BOARD}?period=week")).await;
    assert_ne!(current["week"], week.as_str());
    assert!(current["entries"].as_array().unwrap().is_empty());
    let past = json(&app, &format!("{BOARD}?period=week&week={week}")).await;
    assert_eq!(past["week"], week.as_str());
    assert_eq!(names(&past), [("Cid".to_owned(), 1)]);
    assert_eq!(past["entries"][0]["score"], score);
    // The all-time board goes on.
    assert_eq!(names(&json(&app, BOARD).await), [("Cid".to_owned(), 1)]);
}

#[tokio::test]
async fn days_and_weeks_to_come_or_misnamed_are_refused_with_a_problem() {
    let app = spawn_app().await;
    let now = app.clock_now();
    let tomorrow = Period::Day
        .bucket_name(Period::Day.bucket(now) + 1)
        .unwrap();
    let next_week = Period::Week
        .bucket_name(Period::Week.bucket(now) + 1)
        .unwrap();
    for query in [
        format!("period=day&date={tomorrow}"),
        format!("period=week&week={next_week}"),
        "period=day&date=2026-02-30".to_owned(),
        "period=day&date=06-12-2026".to_owned(),
        "period=week&week=2025-W53".to_owned(),
        "period=week&week=2026-49".to_owned(),
        "period=all&date=2026-12-01".to_owned(),
        "date=2026-12-01".to_owned(),
        "period=day&week=2026-W49".to_owned(),
        "period=day&date=2026-12-01&week=2026-W49".to_owned(),
    ] {
        let r = app.get(&format!("{BOARD}?{query}")).await;
        assert_eq!(r.status(), StatusCode::BAD_REQUEST, "{query}");
        assert_eq!(
            r.headers()[header::CONTENT_TYPE],
            "application/problem+json",
            "{query}"
        );
        let problem: Value = r.json().await.unwrap();
        assert!(
            problem["type"].as_str().unwrap().ends_with("invalid_query"),
            "{query}: {problem}"
        );
    }
    // A day long over with nobody on it is an empty board.
    let old = json(&app, &format!("{BOARD}?period=day&date=2001-01-01")).await;
    assert!(old["entries"].as_array().unwrap().is_empty());
    assert_eq!(old["date"], "2001-01-01");
}

#[tokio::test]
async fn days_begin_at_midnight_in_the_configured_time_zone() {
    // Kolkata is 5:30 ahead of UTC all year.
    let app = spawn_app_with(&["--time-zone", "Asia/Kolkata"]).await;
    const OFFSET_MS: i64 = 19_800_000;
    const DAY_MS: i64 = 86_400_000;
    let local = app.clock_now().0 + OFFSET_MS;
    let next_local_midnight = (local.div_euclid(DAY_MS) + 1) * DAY_MS - OFFSET_MS;
    app.advance(Duration::from_millis(
        u64::try_from(next_local_midnight + 1_000 - app.clock_now().0).unwrap(),
    ));
    scored(&app, "Dev").await;
    // Just after midnight in Kolkata it is still the day before in UTC.
    let utc_day = Period::Day.bucket(app.clock_now());
    let board = json(&app, &format!("{BOARD}?period=day")).await;
    assert_eq!(
        board["date"],
        Period::Day.bucket_name(utc_day + 1).unwrap().as_str()
    );
    assert_eq!(names(&board), [("Dev".to_owned(), 1)]);
    // At the next local midnight the day is over, and stays readable by its local date.
    app.advance(Duration::from_millis(u64::try_from(DAY_MS).unwrap()));
    assert!(
        json(&app, &format!("{BOARD}?period=day")).await["entries"]
            .as_array()
            .unwrap()
            .is_empty()
    );
    let date = board["date"].as_str().unwrap();
    let past = json(&app, &format!("{BOARD}?period=day&date={date}")).await;
    assert_eq!(names(&past), [("Dev".to_owned(), 1)]);
}
