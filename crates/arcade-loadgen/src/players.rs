//! Simulated players. Each one plays the arcade's games (Egg Catcher, 2048, or both in turn)
//! the way a browser does: it starts a session, lets the game's deterministic bot play in real
//! time from the first window's seed, sends each heartbeat's slice of inputs on schedule (the
//! server refuses ticks ahead of the wall clock, and behind it), takes the next window from a
//! heartbeat's answer before the bot needs it, and finishes with the rest and the score the
//! bot reached. The server's replay must agree with that score, so every finish is also a check
//! of the replay path.
//!
//! [`finish_burst`] measures finishes alone: it starts many sessions, plays them through their
//! windows (a heartbeat at each window's end), then finishes them all as fast as the server
//! answers. Those finishes come later than their games ended, so the server flags them
//! `late_finish`.

use std::sync::atomic::{AtomicU8, Ordering};
use std::sync::{Arc, LazyLock};
use std::time::{Duration, Instant};

use arcade_games::{Bot, Game, Input, NewBot, Outcome};
use rand::rngs::StdRng;
use rand::{Rng as _, SeedableRng as _};
use serde_json::{Value, json};

use crate::client::{Answer, Client};
use crate::stats::Recorder;

/// A game the simulated players can play: the catalogue's game and the bot that plays it.
#[derive(Clone, Copy)]
pub struct Playable {
    pub game: &'static dyn Game,
    pub bot: NewBot,
}

impl std::fmt::Debug for Playable {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.game.id())
    }
}

impl Playable {
    pub fn id(&self) -> &'static str {
        self.game.id()
    }
}

/// Lets `bot` play until `tick`, off the async runtime: a strong 2048 bot searches for
/// milliseconds per move.
async fn play_until(mut bot: Box<dyn Bot>, tick: u32) -> Option<Box<dyn Bot>> {
    tokio::task::spawn_blocking(move || {
        bot.play_until(tick);
        bot
    })
    .await
    .ok()
}

impl PartialEq for Playable {
    fn eq(&self, other: &Self) -> bool {
        self.id() == other.id()
    }
}

impl Eq for Playable {}

/// Every game of the catalogue, in its order, with its bot.
static PLAYABLE: LazyLock<Vec<Playable>> = LazyLock::new(|| {
    arcade_games::catalogue()
        .iter()
        .map(|&game| Playable {
            game,
            bot: arcade_games::bot(game.id()).expect("every game of the catalogue has a bot"),
        })
        .collect()
});

/// Which games the players play: one of them, or all in turn (`egg-catcher`, `2048`, `all`).
/// With all, each player plays them one after the other, and players start at different
/// games, so the crowd plays every game at once.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct GameMix {
    games: &'static [Playable],
}

impl GameMix {
    pub fn games(&self) -> &'static [Playable] {
        self.games
    }

    /// The game the `player`'s `nth` game is (both counted from 0).
    pub fn pick(&self, player: usize, nth: usize) -> (usize, Playable) {
        let i = player.wrapping_add(nth) % self.games.len();
        (i, self.games[i])
    }

    /// The first game of the mix, for the reads that name one game.
    pub fn first(&self) -> Playable {
        self.games[0]
    }
}

impl Default for GameMix {
    /// The catalogue's first game alone, as the load generator played before it knew two
    /// games.
    fn default() -> Self {
        Self {
            games: &PLAYABLE[..1],
        }
    }
}

impl std::str::FromStr for GameMix {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, String> {
        if s == "all" {
            return Ok(Self {
                games: &PLAYABLE[..],
            });
        }
        PLAYABLE
            .iter()
            .position(|p| p.id() == s)
            .map(|i| Self {
                games: &PLAYABLE[i..=i],
            })
            .ok_or_else(|| {
                let ids: Vec<_> = PLAYABLE.iter().map(Playable::id).collect();
                format!("{s:?} is not a game: pick one of {} or all", ids.join(", "))
            })
    }
}

/// Which game of the mix each player last finished (none yet at first), so that rank reads
/// ask for ranks that exist.
#[derive(Debug)]
pub struct Finished(Vec<AtomicU8>);

impl Finished {
    pub fn new(players: usize) -> Self {
        Self((0..players).map(|_| AtomicU8::new(0)).collect())
    }

    pub fn len(&self) -> usize {
        self.0.len()
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    fn record(&self, player: usize, game: usize) {
        let game = u8::try_from(game + 1).expect("a mix of fewer than 255 games");
        self.0[player].store(game, Ordering::Relaxed);
    }

    /// The index in the mix of the game `player` last finished.
    pub fn game_of(&self, player: usize) -> Option<usize> {
        match self.0[player].load(Ordering::Relaxed) {
            0 => None,
            g => Some(usize::from(g) - 1),
        }
    }
}

/// What every simulated player shares.
#[derive(Debug)]
pub struct PlayerPlan {
    /// Player names are this prefix and the player's number.
    pub name_prefix: String,
    pub heartbeat: Duration,
    /// How long a player plays each game before finishing it (the bot may lose sooner).
    pub game_length: GameLength,
    pub skill_min: u8,
    pub skill_max: u8,
    pub games: GameMix,
    /// Players stop starting requests after this.
    pub deadline: Instant,
    /// Requests sent before this are warm-up (see [`Recorder`]).
    pub measure_from: Instant,
    /// Which players have a finished game, so rank reads can ask for them.
    pub finished: Finished,
}

impl PlayerPlan {
    pub fn name(&self, index: usize) -> String {
        format!("{}{index}", self.name_prefix)
    }
}

/// The longest a game lasts before its player finishes it, in seconds of play: one length
/// (`60`), or a range (`30..300`) that each game draws its own length from uniformly. A range
/// keeps a crowd's games out of step, as real players' are: with one length, every game started
/// during the ramp ends in the same few seconds, a wave of finishes no real crowd sends.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct GameLength {
    pub min_seconds: u32,
    pub max_seconds: u32,
}

impl GameLength {
    /// One game's limit, in ticks of a game that runs at `tick_hz`.
    pub fn draw(&self, rng: &mut impl rand::Rng, tick_hz: u32) -> u32 {
        rng.random_range(self.min_seconds..=self.max_seconds)
            .saturating_mul(tick_hz)
    }
}

impl std::str::FromStr for GameLength {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, String> {
        let seconds = |part: &str| {
            part.trim()
                .parse::<u32>()
                .ok()
                .filter(|&n| n > 0)
                .ok_or_else(|| format!("{part:?} is not a whole number of seconds above 0"))
        };
        let (min_seconds, max_seconds) = match s.split_once("..") {
            Some((lo, hi)) => (seconds(lo)?, seconds(hi)?),
            None => {
                let n = seconds(s)?;
                (n, n)
            }
        };
        if min_seconds > max_seconds {
            return Err(format!("{min_seconds}..{max_seconds} is an empty range"));
        }
        Ok(GameLength {
            min_seconds,
            max_seconds,
        })
    }
}

/// A started session.
struct Session {
    id: String,
    seed: u32,
    started: Instant,
}

fn check(answer: &Answer, expected: u16) -> Result<(), String> {
    match (answer.status, &answer.failure) {
        (Some(s), _) if s.as_u16() == expected => Ok(()),
        (Some(s), _) => Err(format!("status {}", s.as_u16())),
        (None, Some(why)) => Err(why.clone()),
        (None, None) => Err("no answer".to_owned()),
    }
}

fn inputs_json(inputs: &[Input]) -> Value {
    Value::Array(inputs.iter().map(|i| json!([i.tick, i.value])).collect())
}

async fn start(
    client: &Client,
    rec: &mut Recorder,
    game: Playable,
    name: &str,
    token: &mut Option<String>,
) -> Option<Session> {
    let mut body = json!({ "player": name });
    if let Some(t) = token.as_deref() {
        body["token"] = json!(t);
    }
    let sent = Instant::now();
    let answer = client
        .post_json(
            &format!("/api/games/{}/sessions", game.id()),
            body.to_string().into_bytes(),
        )
        .await;
    let outcome = check(&answer, 201);
    rec.record("start", sent, answer.elapsed, outcome.clone());
    outcome.ok()?;
    let v: Value = serde_json::from_slice(&answer.body).ok()?;
    if let Some(t) = v["player"]["token"].as_str() {
        *token = Some(t.to_owned());
    }
    Some(Session {
        id: v["session_id"].as_str()?.to_owned(),
        seed: u32::try_from(v["seed"].as_u64()?).ok()?,
        started: Instant::now(),
    })
}

/// Send the inputs of `bot` not sent yet (from `sent`) and its tick, and take the window the
/// answer brings. Whether the server took the heartbeat.
async fn heartbeat(
    client: &Client,
    rec: &mut Recorder,
    session: &Session,
    bot: &mut dyn Bot,
    sent: &mut usize,
) -> bool {
    let body = json!({
        "offset": *sent,
        "inputs": inputs_json(&bot.inputs()[*sent..]),
        "tick": bot.tick(),
    });
    let at = Instant::now();
    let answer = client
        .post_json(
            &format!("/api/sessions/{}/heartbeat", session.id),
            body.to_string().into_bytes(),
        )
        .await;
    let outcome = check(&answer, 200);
    let ok = outcome.is_ok();
    rec.record("heartbeat", at, answer.elapsed, outcome);
    if !ok {
        return false;
    }
    let Ok(ack) = serde_json::from_slice::<Value>(&answer.body) else {
        return false;
    };
    if let Some(n) = ack["accepted_inputs"].as_u64() {
        *sent = usize::try_from(n).unwrap_or(*sent).min(bot.inputs().len());
    }
    let window = &ack["window"];
    if window["index"].as_u64() == Some(u64::from(bot.revealed()))
        && let Some(seed) = window["seed"].as_u64().and_then(|s| u32::try_from(s).ok())
    {
        bot.reveal(seed);
    }
    true
}

/// Finish `session` with `inputs[offset..]` up to `tick`; `score` is what the server's replay
/// must find. A different verified score counts as an error.
async fn finish(
    client: &Client,
    rec: &mut Recorder,
    session: &Session,
    offset: usize,
    inputs: &[Input],
    tick: u32,
    score: u32,
) -> bool {
    let body = json!({
        "offset": offset,
        "inputs": inputs_json(inputs),
        "tick": tick,
        "score": score,
    });
    let sent = Instant::now();
    let answer = client
        .post_json(
            &format!("/api/sessions/{}/finish", session.id),
            body.to_string().into_bytes(),
        )
        .await;
    let outcome = check(&answer, 200).and_then(|()| {
        let v: Value = serde_json::from_slice(&answer.body).map_err(|e| e.to_string())?;
        match v["score"].as_u64() {
            Some(s) if s == u64::from(score) => Ok(()),
            other => Err(format!("score mismatch (expected {score}, got {other:?})")),
        }
    });
    let ok = outcome.is_ok();
    rec.record("finish", sent, answer.elapsed, outcome);
    ok
}

/// One simulated player: plays games back to back until the deadline. Starts after `delay`
/// so that a crowd's heartbeats spread evenly over the interval.
pub async fn play(
    client: Client,
    plan: Arc<PlayerPlan>,
    index: usize,
    delay: Duration,
) -> Recorder {
    let mut rec = Recorder::new(plan.measure_from);
    let mut rng = StdRng::seed_from_u64(index as u64);
    let name = plan.name(index);
    let mut token = None;
    tokio::time::sleep(delay).await;
    let mut games_started = 0;
    while Instant::now() < plan.deadline {
        let (game_index, game) = plan.games.pick(index, games_started);
        games_started += 1;
        let hz = u64::from(game.game.tick_hz());
        let ticks_per_beat = (plan.heartbeat.as_millis() as u64 * hz / 1000) as u32;
        let Some(session) = start(&client, &mut rec, game, &name, &mut token).await else {
            tokio::time::sleep(plan.heartbeat).await;
            continue;
        };
        let skill = rng.random_range(plan.skill_min..=plan.skill_max);
        let game_ticks = plan.game_length.draw(&mut rng, game.game.tick_hz());
        let mut bot = (game.bot)(session.seed, skill);
        let mut sent = 0;
        let mut beat = 1u32;
        loop {
            let due = session.started + plan.heartbeat * beat;
            if due >= plan.deadline {
                // The run is over: leave the session to expire, as a closed tab would.
                return rec;
            }
            tokio::time::sleep_until(due.into()).await;
            // The bot plays what the clock allows, as far as its windows go.
            let tick = ticks_per_beat.saturating_mul(beat).min(game_ticks);
            let Some(played) = play_until(bot, tick).await else {
                break;
            };
            bot = played;
            if bot.game_over() || bot.tick() >= game_ticks {
                let outcome = bot.outcome();
                if finish(
                    &client,
                    &mut rec,
                    &session,
                    sent,
                    &bot.inputs()[sent..],
                    outcome.ticks,
                    outcome.score,
                )
                .await
                {
                    plan.finished.record(index, game_index);
                }
                break;
            }
            if !heartbeat(&client, &mut rec, &session, &mut *bot, &mut sent).await {
                break; // start a new game
            }
            beat += 1;
        }
        // A moment on the game-over screen before the next game.
        let pause = rng.random_range(0..=plan.heartbeat.as_millis() as u64);
        tokio::time::sleep(Duration::from_millis(pause)).await;
    }
    rec
}

/// Settings of a finish burst.
#[derive(Debug, Clone)]
pub struct BurstPlan {
    pub name_prefix: String,
    pub sessions: usize,
    pub game_ticks: u32,
    pub skill_min: u8,
    pub skill_max: u8,
    pub games: GameMix,
    pub concurrency: usize,
}

/// What a finish burst measured.
#[derive(Debug)]
pub struct BurstResult {
    pub starts: Recorder,
    pub finishes: Recorder,
    /// From the first finish sent to the last answered.
    pub finish_window: Duration,
    /// Game-minutes the server replayed in that window.
    pub game_minutes: f64,
}

/// Lets `bot` play session `s` until game over or `max_ticks`, sending a heartbeat whenever it
/// waits for a window, once the wall clock allows its ticks. Its inputs and outcome, or none
/// when a heartbeat was refused.
async fn through_windows(
    client: &Client,
    rec: &mut Recorder,
    s: &Session,
    mut bot: Box<dyn Bot>,
    max_ticks: u32,
) -> Option<(Vec<Input>, Outcome)> {
    let mut sent = 0;
    loop {
        bot = play_until(bot, max_ticks).await?;
        if bot.game_over() || bot.tick() >= max_ticks {
            // The finish sends every input again from 0: the server recognises those it has.
            return Some((bot.inputs().to_vec(), bot.outcome()));
        }
        let due = s.started + Duration::from_secs_f64(f64::from(bot.tick()) / 60.0);
        tokio::time::sleep_until(due.into()).await;
        if !heartbeat(client, rec, s, &mut *bot, &mut sent).await {
            return None;
        }
    }
}

/// Start `sessions` sessions with at most `concurrency` starts in flight, let the bot play
/// every one through its windows at once (as players' games overlap: one after another, a
/// burst of 20,000 games of 30 s would take hours to prepare), wait until the wall clock
/// allows every game, then finish them all with `concurrency` requests in flight.
pub async fn finish_burst(client: Client, plan: BurstPlan) -> BurstResult {
    let t0 = Instant::now();
    let plan = Arc::new(plan);
    let starting = Arc::new(tokio::sync::Semaphore::new(plan.concurrency));
    let mut playing = tokio::task::JoinSet::new();
    for i in 0..plan.sessions {
        let Ok(permit) = starting.clone().acquire_owned().await else {
            break;
        };
        let (client, plan) = (client.clone(), plan.clone());
        playing.spawn(async move {
            let mut rec = Recorder::new(t0);
            let name = format!("{}{i}", plan.name_prefix);
            let (_, game) = plan.games.pick(i, 0);
            let started = start(&client, &mut rec, game, &name, &mut None).await;
            drop(permit);
            let Some(s) = started else {
                return (rec, None);
            };
            let skill =
                StdRng::seed_from_u64(i as u64).random_range(plan.skill_min..=plan.skill_max);
            let bot = (game.bot)(s.seed, skill);
            let played = through_windows(&client, &mut rec, &s, bot, plan.game_ticks).await;
            (rec, played.map(|game| (s, game)))
        });
    }
    let mut starts = Recorder::new(t0);
    let mut games = Vec::with_capacity(plan.sessions);
    while let Some(joined) = playing.join_next().await {
        if let Ok((rec, game)) = joined {
            starts.merge(rec);
            games.extend(game);
        }
    }
    // The server accepts elapsed_s * 66 + 180 ticks; wait for the last started game (with a
    // second of margin) so that no finish is refused as too fast.
    let ready_at = games
        .iter()
        .map(|(s, (_, o))| {
            s.started + Duration::from_secs_f64(f64::from(o.ticks.saturating_sub(180)) / 60.0 + 1.0)
        })
        .max()
        .unwrap_or(t0);
    tokio::time::sleep_until(ready_at.into()).await;
    let game_minutes = games
        .iter()
        .map(|(_, (_, o))| f64::from(o.ticks) / 3600.0)
        .sum();
    let burst_start = Instant::now();
    let games = Arc::new(tokio::sync::Mutex::new(games));
    let mut workers = Vec::new();
    for _ in 0..plan.concurrency {
        let (client, games) = (client.clone(), games.clone());
        workers.push(tokio::spawn(async move {
            let mut rec = Recorder::new(burst_start);
            loop {
                let Some((s, (inputs, outcome))) = games.lock().await.pop() else {
                    return rec;
                };
                finish(
                    &client,
                    &mut rec,
                    &s,
                    0,
                    &inputs,
                    outcome.ticks,
                    outcome.score,
                )
                .await;
            }
        }));
    }
    let mut finishes = Recorder::new(burst_start);
    for w in workers {
        if let Ok(rec) = w.await {
            finishes.merge(rec);
        }
    }
    BurstResult {
        starts,
        finishes,
        finish_window: burst_start.elapsed(),
        game_minutes,
    }
}

/// The game's own check of a bot's inputs, for tests.
pub fn valid(game: &dyn Game, inputs: &[Input]) -> bool {
    game.check_inputs(None, inputs, 0).is_ok()
}

#[cfg(test)]
mod tests {
    use std::str::FromStr as _;

    use super::*;

    #[test]
    fn a_game_length_is_one_length_or_a_range_that_games_draw_from() {
        let one: GameLength = "60".parse().unwrap();
        let range: GameLength = "30..300".parse().unwrap();
        assert_eq!((one.min_seconds, one.max_seconds), (60, 60));
        assert_eq!((range.min_seconds, range.max_seconds), (30, 300));
        let mut rng = StdRng::seed_from_u64(1);
        assert_eq!(one.draw(&mut rng, 60), 60 * 60);
        assert_eq!(one.draw(&mut rng, 30), 60 * 30);
        let draws: Vec<u32> = (0..1000).map(|_| range.draw(&mut rng, 60) / 60).collect();
        assert!(draws.iter().all(|s| (30..=300).contains(s)));
        // Spread over the range, not bunched at one end.
        assert!(draws.iter().any(|&s| s < 60) && draws.iter().any(|&s| s > 270));
        for bad in ["", "0", "abc", "300..30", "10..", "..10", "-5"] {
            assert!(bad.parse::<GameLength>().is_err(), "{bad:?} parsed");
        }
    }

    #[test]
    fn a_heartbeat_slice_holds_the_inputs_before_its_tick() {
        for game in GameMix::from_str("all").unwrap().games() {
            let (inputs, outcome) =
                arcade_games::play_through(&mut *(game.bot)(7, 80), &|_| 7, 3_000);
            assert!(inputs.len() > 10, "{game:?}");
            assert!(valid(game.game, &inputs), "{game:?}");
            let mut sent = 0;
            let mut slices = Vec::new();
            for tick in (120..outcome.ticks).step_by(120) {
                let upto = sent + inputs[sent..].partition_point(|i| i.tick < tick);
                slices.extend_from_slice(&inputs[sent..upto]);
                assert!(inputs[sent..upto].iter().all(|i| i.tick < tick));
                sent = upto;
            }
            slices.extend_from_slice(&inputs[sent..]);
            assert_eq!(slices, inputs, "{game:?}");
        }
    }

    #[test]
    fn players_play_one_game_or_take_turns_at_all() {
        let default = GameMix::default();
        assert_eq!(default, GameMix::from_str("egg-catcher").unwrap());
        assert_eq!(default.pick(5, 3).1.id(), "egg-catcher");
        let only = GameMix::from_str("2048").unwrap();
        assert_eq!(only.pick(0, 0), (0, only.first()));
        assert_eq!(only.first().id(), "2048");
        let all = GameMix::from_str("all").unwrap();
        let ids: Vec<_> = all.games().iter().map(Playable::id).collect();
        assert_eq!(ids, ["egg-catcher", "2048"]);
        // One player's games alternate; neighbours start on different games.
        let turns: Vec<_> = (0..4).map(|n| all.pick(0, n).1.id()).collect();
        assert_eq!(turns, ["egg-catcher", "2048", "egg-catcher", "2048"]);
        assert_ne!(all.pick(0, 0), all.pick(1, 0));
        assert_eq!(all.first().id(), "egg-catcher");
        // Every game the players play is one the server serves.
        for game in all.games() {
            assert!(arcade_games::find(game.id()).is_some(), "{game:?}");
        }
        let err = GameMix::from_str("tetris").unwrap_err();
        assert!(err.contains("egg-catcher, 2048 or all"), "{err}");
    }

    #[test]
    fn finished_games_are_remembered_per_player() {
        let finished = Finished::new(3);
        assert_eq!(finished.len(), 3);
        assert_eq!(finished.game_of(1), None);
        finished.record(1, 0);
        finished.record(2, 1);
        assert_eq!(
            (0..3).map(|p| finished.game_of(p)).collect::<Vec<_>>(),
            [None, Some(0), Some(1)]
        );
    }
}
