//! Request and response bodies of the JSON API. Requests refuse unknown fields so typos fail
//! loudly instead of being ignored.

use std::collections::BTreeMap;

use arcade_domain::games::{Game, Input};
use arcade_domain::ports::ScoreRow;
use arcade_domain::ranks::Ranked;
use arcade_domain::session::{FinishReceipt, InputBatch, Pause, PeriodRanks, Window};
use arcade_domain::time::Timestamp;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

#[derive(Debug, Serialize, ToSchema)]
pub struct GameInfo {
    /// e.g. `egg-catcher`
    pub id: String,
    pub title: String,
    pub description: String,
    pub rules_version: u32,
    /// Simulation ticks per second.
    pub tick_hz: u32,
    pub play_url: String,
}

impl GameInfo {
    pub fn of(g: &dyn Game) -> Self {
        Self {
            id: g.id().to_owned(),
            title: g.title().to_owned(),
            description: g.description().to_owned(),
            rules_version: g.rules_version(),
            tick_hz: g.tick_hz(),
            play_url: format!("/play/{}", g.id()),
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct GameList {
    pub games: Vec<GameInfo>,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct StartSessionRequest {
    /// 1 to 24 letters, digits, spaces, `_` or `-` of one writing system, after Unicode
    /// NFKC normalisation (format `player-name`: the full rules are in the README). The first
    /// use claims the name.
    #[schema(
        example = "Alice",
        format = "player-name",
        min_length = 1,
        max_length = 256
    )]
    pub player: String,
    /// The token returned when the name was claimed; required to play under a claimed name.
    #[serde(default)]
    pub token: Option<String>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct PlayerInfo {
    pub name: String,
    /// Present only when this request claimed the name: keep it to play under this name again.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub token: Option<String>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct SessionStarted {
    pub session_id: Uuid,
    /// The session signed by the server (its id, game, player and start, `v1.PAYLOAD.SIGNATURE`):
    /// keep it with the inputs and send it with every heartbeat and finish. Should the server
    /// lose the session (its session store restarted), it answers `session_lost` and the game
    /// goes on, or finishes, from the ticket and every input sent again from offset 0.
    pub ticket: String,
    pub game: String,
    /// Seed of the game's first window of randomness (window 0): the browser and the server
    /// simulate the same game from it. Each next window's seed comes in a heartbeat's answer.
    pub seed: u32,
    pub rules_version: u32,
    pub tick_hz: u32,
    /// Ticks in one window of randomness; a game waits at the start of a window it has no
    /// seed for.
    pub window_ticks: u32,
    /// A heartbeat reveals the next window once the session's tick, and the time it has been
    /// played (outside recorded pauses), are within this many ticks of the window's start.
    pub reveal_ticks: u32,
    /// Most wall-clock time the session may spend in recorded `pauses`, all told.
    pub pause_budget_ms: u64,
    /// RFC 3339
    pub started_at: String,
    /// RFC 3339
    pub expires_at: String,
    pub heartbeat_interval_ms: u64,
    pub player: PlayerInfo,
}

/// Inputs recorded since `offset`, and the client's progress.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct InputsRequest {
    /// How many inputs the server already acknowledged (`accepted_inputs` of the last answer).
    #[serde(deserialize_with = "whole::number")]
    #[schema(value_type = u64, minimum = 0, maximum = 4294967295_u64)]
    pub offset: usize,
    /// Inputs as `[tick, value]` pairs with strictly increasing ticks.
    #[serde(deserialize_with = "whole::pairs")]
    #[schema(schema_with = inputs_schema, example = json!([[12, 180000], [40, 300000]]))]
    pub inputs: Vec<Input>,
    /// Ticks simulated so far. Inputs before the tick a request reported are final: a later
    /// request may not add inputs there (`late_input`).
    #[serde(deserialize_with = "whole::number")]
    #[schema(value_type = u64, minimum = 0, maximum = 4294967295_u64)]
    pub tick: u32,
    /// The score the client shows: a hint, compared with the replayed score.
    #[serde(default, deserialize_with = "whole::optional")]
    #[schema(value_type = Option<u64>, minimum = 0, maximum = 4294967295_u64)]
    pub score: Option<u32>,
    /// Every pause recorded so far, as `[tick, ms]` pairs: at `tick` the game stood still for
    /// `ms` milliseconds (paused, hidden, or its clock held up). Outside them, game time may
    /// not fall behind the wall clock (`too_slow`); together they may not exceed the start's
    /// `pause_budget_ms` (`pause_budget_exceeded`). Recorded pauses are final.
    #[serde(default, deserialize_with = "whole::pairs")]
    #[schema(schema_with = pauses_schema, example = json!([[600, 4200]]))]
    pub pauses: Vec<Pause>,
    /// The start's `ticket`. Read only when the server does not know the session (it lost it):
    /// then a request with `offset` 0 and every input and pause puts the session back (a
    /// heartbeat) or finishes it, judged against the ticket's start; any other offset is
    /// answered `session_lost`.
    #[serde(default)]
    #[schema(max_length = 1024)]
    pub ticket: Option<String>,
}

impl From<InputsRequest> for InputBatch {
    fn from(r: InputsRequest) -> Self {
        Self {
            offset: r.offset,
            inputs: r.inputs,
            tick: r.tick,
            score: r.score,
            pauses: r.pauses,
        }
    }
}

/// A window of a game's randomness.
#[derive(Debug, Serialize, ToSchema)]
pub struct WindowSeed {
    /// The window's number: it holds ticks `index * window_ticks` up to the next window's.
    pub index: u32,
    pub seed: u32,
}

impl From<Window> for WindowSeed {
    fn from(w: Window) -> Self {
        Self {
            index: w.index,
            seed: w.seed,
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct HeartbeatAccepted {
    /// Inputs the server now holds; send the next batch from this offset.
    pub accepted_inputs: usize,
    pub tick: u32,
    /// The last window revealed to the session: the next one once the session is within
    /// `reveal_ticks` of it and on time, else the one already held.
    pub window: WindowSeed,
}

/// The player's rank on each board after a finish; 0 when not on that board. Only a score
/// above 0 takes a place: a run that scored nothing is kept in the history alone.
#[derive(Debug, Serialize, ToSchema)]
pub struct Ranks {
    pub all: u64,
    pub day: u64,
    pub week: u64,
}

impl From<PeriodRanks> for Ranks {
    fn from(r: PeriodRanks) -> Self {
        Self {
            all: r.all,
            day: r.day,
            week: r.week,
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct FinishResult {
    pub session_id: Uuid,
    pub game: String,
    pub player: String,
    /// The verified (replayed) score.
    pub score: u32,
    pub ticks: u32,
    pub game_over: bool,
    pub stats: BTreeMap<String, u32>,
    /// RFC 3339
    pub achieved_at: String,
    /// The player's all-time rank in this game (0: not on the board, for a score of 0).
    pub rank: u64,
    pub ranks: Ranks,
    pub personal_best: u32,
    pub new_personal_best: bool,
}

impl From<FinishReceipt> for FinishResult {
    fn from(r: FinishReceipt) -> Self {
        Self {
            session_id: r.session_id.0,
            game: r.game,
            player: r.player,
            score: r.score,
            ticks: r.ticks,
            game_over: r.game_over,
            stats: r.stats,
            achieved_at: r.achieved_at.to_rfc3339(),
            rank: r.ranks.all,
            ranks: r.ranks.into(),
            personal_best: r.personal_best,
            new_personal_best: r.new_personal_best,
        }
    }
}

#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct BoardQuery {
    /// `all` (default), `day` or `week` (ISO, from Monday), in the arcade's time zone (UTC
    /// unless its operator set another).
    #[param(value_type = Option<PeriodName>)]
    pub period: Option<String>,
    /// With `period=day`: the day whose board to read, `YYYY-MM-DD` in the arcade's time zone;
    /// today's or one that is over (a day to come is refused with 400 `invalid_query`).
    /// Without it, the current day.
    #[param(format = Date, pattern = r"^[0-9]{4}-[0-9]{2}-[0-9]{2}$", example = "2026-12-06")]
    pub date: Option<String>,
    /// With `period=week`: the ISO week whose board to read, `YYYY-Www`; this week's or one
    /// that is over (a week to come is refused with 400 `invalid_query`). Without it, the
    /// current week.
    #[param(pattern = r"^[0-9]{4}-W[0-9]{2}$", example = "2026-W49")]
    pub week: Option<String>,
    /// The slug of a season (see `GET /api/seasons`) whose board to read: each player's best
    /// within it. Names its own board, so it goes without `period`, `date` and `week`.
    #[param(pattern = r"^[a-z0-9-]{1,40}$", example = "summer-2027")]
    pub season: Option<String>,
    /// 1 to 100, default 10.
    #[param(minimum = 1, maximum = 100)]
    pub limit: Option<i64>,
    /// `next_cursor` of the previous page, unchanged (a cursor is opaque: one this server did
    /// not issue is refused with 400 `invalid_query`).
    pub cursor: Option<String>,
}

#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct PeriodQuery {
    /// `all` (default), `day` or `week`.
    #[param(value_type = Option<PeriodName>)]
    pub period: Option<String>,
}

#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct PageQuery {
    /// 1 to 100, default 10.
    #[param(minimum = 1, maximum = 100)]
    pub limit: Option<i64>,
    /// `next_cursor` of the previous page, unchanged (a cursor is opaque: one this server did
    /// not issue is refused with 400 `invalid_query`).
    pub cursor: Option<String>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct BoardEntry {
    pub rank: u64,
    pub player: String,
    pub score: u64,
    /// RFC 3339
    pub achieved_at: String,
}

impl From<Ranked> for BoardEntry {
    fn from(r: Ranked) -> Self {
        Self {
            rank: r.rank,
            player: r.standing.player_name,
            score: r.standing.score,
            achieved_at: Timestamp(r.standing.achieved_at_ms).to_rfc3339(),
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct Leaderboard {
    pub game: String,
    /// `all`, `day` or `week`, or `season` for a season's board.
    pub period: String,
    /// The day of a `day` board, `YYYY-MM-DD` in the arcade's time zone.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(format = Date, pattern = r"^[0-9]{4}-[0-9]{2}-[0-9]{2}$")]
    pub date: Option<String>,
    /// The ISO week of a `week` board, `YYYY-Www`.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(pattern = r"^[0-9]{4}-W[0-9]{2}$")]
    pub week: Option<String>,
    /// The season of a `season` board.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub season: Option<SeasonInfo>,
    pub entries: Vec<BoardEntry>,
    pub next_cursor: Option<String>,
}

/// A season: a stretch of time an operator named, with a board per game of every player's
/// best score within it.
#[derive(Debug, Serialize, ToSchema)]
pub struct SeasonInfo {
    /// How addresses name it (`?season=`).
    #[schema(pattern = r"^[a-z0-9-]{1,40}$", example = "summer-2027")]
    pub slug: String,
    #[schema(min_length = 1, max_length = 80, example = "Summer 2027")]
    pub title: String,
    /// Scores achieved from this instant on count…
    #[schema(format = DateTime)]
    pub starts_at: String,
    /// …until this one (excluded).
    #[schema(format = DateTime)]
    pub ends_at: String,
    /// Whether the season is over: its boards are final for play.
    pub finished: bool,
}

impl SeasonInfo {
    /// The season as shown at `now`.
    pub fn of(s: &arcade_domain::season::Season, now: Timestamp) -> Self {
        Self {
            slug: s.slug.clone(),
            title: s.title.clone(),
            starts_at: s.starts_at.to_rfc3339(),
            ends_at: s.ends_at.to_rfc3339(),
            finished: s.is_finished(now),
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct SeasonList {
    /// Newest first (the latest start first).
    pub seasons: Vec<SeasonInfo>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct PlayerBest {
    pub rank: u64,
    pub score: u64,
    /// RFC 3339
    pub achieved_at: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct PlayerStandingView {
    pub player: String,
    pub game: String,
    pub period: String,
    /// The player's best on this board, or null if they have not played in this period.
    pub best: Option<PlayerBest>,
    /// Entries around the player (up to 2 above and 2 below), including the player.
    pub neighbours: Vec<BoardEntry>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ScoreEntry {
    pub session_id: Uuid,
    pub score: u32,
    pub ticks: u32,
    pub game_over: bool,
    pub rules_version: u32,
    pub stats: BTreeMap<String, u32>,
    /// RFC 3339
    pub achieved_at: String,
    /// Checks of human likeness the game failed (`fast_reactions`, `anticipation`,
    /// `fast_moves`, `late_finish`; see the games' rules): the score counts, marked for
    /// review. Empty for most games.
    pub flags: Vec<String>,
}

impl From<ScoreRow> for ScoreEntry {
    fn from(r: ScoreRow) -> Self {
        Self {
            session_id: r.session_id.0,
            score: r.score,
            ticks: r.ticks,
            game_over: r.game_over,
            rules_version: r.rules_version,
            stats: r.stats,
            achieved_at: r.achieved_at.to_rfc3339(),
            flags: r.flags,
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ScoreHistory {
    pub player: String,
    pub game: String,
    pub scores: Vec<ScoreEntry>,
    pub next_cursor: Option<String>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct Liveness {
    /// Always `live` while the process serves HTTP.
    pub status: &'static str,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct Readiness {
    /// `ready`, `degraded` (ready, with an optional dependency down), `draining` or
    /// `unavailable` (a required dependency down).
    pub status: &'static str,
    pub version: &'static str,
    pub dependencies: Vec<crate::health::DependencyStatus>,
}

#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct EventsQuery {
    /// Only events of this game.
    pub game: Option<String>,
    /// The page's player: adds `overtaken` events when someone passes them (needs `game`).
    pub player: Option<String>,
}

/// A board's period, as query parameters name it.
#[derive(Debug, Clone, Copy, ToSchema)]
#[schema(rename_all = "lowercase")]
pub enum PeriodName {
    All,
    Day,
    Week,
}

pub(crate) fn inputs_schema() -> utoipa::openapi::schema::Array {
    pairs_schema("Inputs as `[tick, value]` pairs with strictly increasing ticks.")
}

/// A score's inputs in an export: null once the replay retention removed them.
pub(crate) fn kept_inputs_schema() -> utoipa::openapi::schema::Array {
    use utoipa::openapi::schema::{SchemaType, Type};
    let mut inputs = pairs_schema(
        "Inputs as `[tick, value]` pairs with strictly increasing ticks; null once the replay \
         retention removed them (the score stays).",
    );
    inputs.schema_type = SchemaType::from_iter([Type::Array, Type::Null]);
    inputs
}

fn pauses_schema() -> utoipa::openapi::schema::Array {
    pairs_schema("Every pause recorded so far, as `[tick, ms]` pairs.")
}

/// Pairs: arrays of exactly two unsigned 32-bit integers.
fn pairs_schema(description: &str) -> utoipa::openapi::schema::Array {
    use utoipa::openapi::schema::{ArrayBuilder, ObjectBuilder, Type};
    let whole = ObjectBuilder::new()
        .schema_type(Type::Integer)
        .minimum(Some(0))
        .maximum(Some(u32::MAX));
    ArrayBuilder::new()
        .items(
            ArrayBuilder::new()
                .items(whole)
                .min_items(Some(2))
                .max_items(Some(2)),
        )
        .description(Some(description))
        .build()
}

/// Numbers as JSON Schema's `integer` takes them: `12` and `12.0` alike, so what the document
/// calls valid the server takes.
mod whole {
    use serde::Deserialize;
    use serde::de::{Deserializer, Error, SeqAccess, Visitor};

    /// A whole number in range of `T`.
    struct Whole<T>(T);

    impl<'de, T: TryFrom<u64>> Deserialize<'de> for Whole<T> {
        fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
            struct V<T>(std::marker::PhantomData<T>);
            impl<T: TryFrom<u64>> Visitor<'_> for V<T> {
                type Value = Whole<T>;
                fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                    f.write_str("a whole number from 0 to 4294967295")
                }
                fn visit_u64<E: Error>(self, v: u64) -> Result<Self::Value, E> {
                    T::try_from(v)
                        .map(Whole)
                        .map_err(|_| E::custom(format!("{v} is out of range")))
                }
                fn visit_i64<E: Error>(self, v: i64) -> Result<Self::Value, E> {
                    let v = u64::try_from(v).map_err(|_| E::custom(format!("{v} is negative")))?;
                    self.visit_u64(v)
                }
                fn visit_f64<E: Error>(self, v: f64) -> Result<Self::Value, E> {
                    if v.fract() != 0.0 || !(0.0..=u64::MAX as f64).contains(&v) {
                        return Err(E::custom(format!("{v} is not a whole number in range")));
                    }
                    self.visit_u64(v as u64)
                }
            }
            d.deserialize_any(V(std::marker::PhantomData))
        }
    }

    pub fn number<'de, D: Deserializer<'de>, T: TryFrom<u64>>(d: D) -> Result<T, D::Error> {
        Whole::deserialize(d).map(|w| w.0)
    }

    pub fn optional<'de, D: Deserializer<'de>, T: TryFrom<u64>>(
        d: D,
    ) -> Result<Option<T>, D::Error> {
        Option::<Whole<T>>::deserialize(d).map(|w| w.map(|w| w.0))
    }

    /// `[[a, b], …]` into the pair type.
    pub fn pairs<'de, D: Deserializer<'de>, P: From<(u32, u32)>>(d: D) -> Result<Vec<P>, D::Error> {
        struct V<P>(std::marker::PhantomData<P>);
        impl<'de, P: From<(u32, u32)>> Visitor<'de> for V<P> {
            type Value = Vec<P>;
            fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str("an array of [tick, value] pairs")
            }
            fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Self::Value, A::Error> {
                let mut out = Vec::with_capacity(seq.size_hint().unwrap_or(0).min(16_384));
                while let Some((Whole(a), Whole(b))) =
                    seq.next_element::<(Whole<u32>, Whole<u32>)>()?
                {
                    out.push(P::from((a, b)));
                }
                Ok(out)
            }
        }
        d.deserialize_seq(V(std::marker::PhantomData))
    }

    #[cfg(test)]
    mod tests {
        use arcade_domain::games::Input;

        #[derive(serde::Deserialize)]
        struct Body {
            #[serde(deserialize_with = "super::number")]
            tick: u32,
            #[serde(default, deserialize_with = "super::optional")]
            score: Option<u32>,
            #[serde(deserialize_with = "super::pairs")]
            inputs: Vec<Input>,
        }

        #[test]
        fn whole_numbers_are_taken_written_either_way() {
            let b: Body = serde_json::from_str(
                r#"{"tick": 12.0, "score": 3, "inputs": [[1, 2.0], [3.0, 4]]}"#,
            )
            .unwrap();
            assert_eq!(b.tick, 12);
            assert_eq!(b.score, Some(3));
            assert_eq!(
                b.inputs,
                vec![Input { tick: 1, value: 2 }, Input { tick: 3, value: 4 }]
            );
            let b: Body = serde_json::from_str(r#"{"tick": 0, "inputs": []}"#).unwrap();
            assert_eq!(b.score, None);
        }

        #[test]
        fn fractions_negatives_and_overflows_are_refused() {
            for bad in [
                r#"{"tick": 1.5, "inputs": []}"#,
                r#"{"tick": -1, "inputs": []}"#,
                r#"{"tick": 4294967296, "inputs": []}"#,
                r#"{"tick": 1, "inputs": [[1]]}"#,
                r#"{"tick": 1, "inputs": [[1, 2, 3]]}"#,
                r#"{"tick": 1, "inputs": [[1, 2.5]]}"#,
            ] {
                assert!(serde_json::from_str::<Body>(bad).is_err(), "{bad}");
            }
        }
    }
}
