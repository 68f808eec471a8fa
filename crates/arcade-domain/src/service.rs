//! The use cases: start a session, record heartbeats, finish with a verified score, and read
//! boards, standings and histories. Everything goes through the ports; no I/O of its own.

use std::net::IpAddr;
use std::sync::Arc;

use crate::error::{BackendError, DomainError, Rejection};
use crate::event::{Event, EventKind};
use crate::keys::{SessionSecret, TicketKey, WindowKey};
use crate::name::PlayerName;
use crate::ports::{
    AdminStore, EventBus, HistoryCursor, NameRuleStore, NewScore, Observer, Outbox, PlayerRecord,
    RankIndex, RateLimit, ScoreRow, ScoreStore, SeasonStore, SessionStore,
};
use crate::query::{self, Limit};
use crate::ranks::{Ranked, Standing, Submission, takes_a_place};
use crate::session::{
    Arrival, FinishReceipt, FinishState, InputBatch, PeriodRanks, PlayRules, Session, SessionId,
    Window,
};
use crate::ticket::Ticket;
use crate::time::{BoardKey, Calendar, Clock, Period, Timestamp};
use crate::token;
use arcade_games::{Game, Input};

/// How many places above and below a player the standing view shows.
pub const NEIGHBOURS: usize = 2;
/// Boards whose top this many places announce changes.
pub const TOP_PLACES: u64 = 10;

/// The game a stored session plays.
fn game_of(session: &Session) -> Result<&'static dyn Game, DomainError> {
    arcade_games::find(&session.game).ok_or_else(|| DomainError::UnknownGame(session.game.clone()))
}

/// The adapters a service runs on.
#[derive(Clone)]
pub struct Ports {
    pub scores: Arc<dyn ScoreStore>,
    pub sessions: Arc<dyn SessionStore>,
    pub ranks: Arc<dyn RankIndex>,
    /// Where events wait until the relay has published them to [`events`](Self::events).
    pub outbox: Arc<dyn Outbox>,
    /// The bus the relay publishes to, which live pages follow.
    pub events: Arc<dyn EventBus>,
    pub clock: Arc<dyn Clock>,
    pub observer: Arc<dyn Observer>,
    /// Session starts per client, shared by the replicas when the adapter is.
    pub starts: Arc<dyn RateLimit>,
    /// Operators and the audit log.
    pub admin: Arc<dyn AdminStore>,
    /// The name deny list.
    pub names: Arc<dyn NameRuleStore>,
    /// Seasons and their boards.
    pub seasons: Arc<dyn SeasonStore>,
}

/// A started session, its signed ticket, its first window and, when this start claimed the
/// name, the new token (shown once).
#[derive(Debug, Clone)]
pub struct Started {
    pub session: Session,
    pub ticket: String,
    pub window: Window,
    pub claimed_token: Option<String>,
    pub heartbeat_interval_ms: u64,
}

/// What a heartbeat's answer tells the client: how much the server holds, and the last
/// window revealed (the next one, once the session is near it and on time).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct HeartbeatAck {
    pub accepted_inputs: usize,
    pub tick: u32,
    pub window: Window,
}

#[derive(Debug, Clone)]
pub struct BoardPage {
    pub game: String,
    pub period: Period,
    /// Which of the period's boards this is ([`Period::bucket_name`] names it).
    pub bucket: i64,
    pub entries: Vec<Ranked>,
    pub next_cursor: Option<String>,
}

#[derive(Debug, Clone)]
pub struct PlayerStanding {
    pub player: String,
    pub game: String,
    pub period: Period,
    pub best: Option<Ranked>,
    pub neighbours: Vec<Ranked>,
}

#[derive(Debug, Clone)]
pub struct HistoryPage {
    pub player: String,
    pub game: String,
    pub scores: Vec<ScoreRow>,
    pub next_cursor: Option<String>,
}

/// The arcade's use cases.
pub struct Arcade {
    ports: Ports,
    rules: PlayRules,
    windows: WindowKey,
    tickets: TicketKey,
    heartbeat_interval_ms: u64,
    calendar: Calendar,
    /// The name deny list as last loaded, with the number of the load that read it (see
    /// [`Arcade::reload_name_rules`]).
    deny_list: std::sync::RwLock<(u64, Arc<crate::name_rules::DenyList>)>,
    /// Loads of the deny list begun so far.
    deny_list_loads: std::sync::atomic::AtomicU64,
    /// The identity provider operators may also sign in with.
    identity: Option<Arc<dyn crate::ports::OperatorIdentity>>,
}

impl Arcade {
    /// The use cases on `ports`, with the play `rules` and the `secret` the windows' seeds
    /// derive from (the same on every replica that shares sessions).
    pub fn new(ports: Ports, rules: PlayRules, secret: &SessionSecret) -> Self {
        Self {
            ports,
            rules,
            windows: secret.window_key(),
            tickets: secret.ticket_key(),
            heartbeat_interval_ms: 2000,
            calendar: Calendar::utc(),
            deny_list: std::sync::RwLock::default(),
            deny_list_loads: std::sync::atomic::AtomicU64::new(0),
            identity: None,
        }
    }

    /// The same use cases, also taking `identity`'s tokens as operators'.
    pub fn with_operator_identity(
        mut self,
        identity: Arc<dyn crate::ports::OperatorIdentity>,
    ) -> Self {
        self.identity = Some(identity);
        self
    }

    /// The same use cases with days and weeks of `calendar`'s time zone (UTC by default).
    pub fn with_calendar(mut self, calendar: Calendar) -> Self {
        self.calendar = calendar;
        self
    }

    /// Where days and weeks begin.
    pub fn calendar(&self) -> &Calendar {
        &self.calendar
    }

    pub fn rules(&self) -> &PlayRules {
        &self.rules
    }

    pub fn ports(&self) -> &Ports {
        &self.ports
    }

    pub fn now(&self) -> Timestamp {
        self.ports.clock.now()
    }

    pub fn games(&self) -> &'static [&'static dyn Game] {
        arcade_games::catalogue()
    }

    pub fn game(&self, id: &str) -> Result<&'static dyn Game, DomainError> {
        arcade_games::find(id).ok_or_else(|| DomainError::UnknownGame(id.to_owned()))
    }

    /// Whether `client` may start another session now, counted against its allowance of
    /// starts; refused with the wait otherwise.
    pub async fn admit_start(&self, client: IpAddr) -> Result<(), DomainError> {
        match self
            .ports
            .starts
            .acquire(&crate::client::client_key(client))
            .await?
        {
            None => Ok(()),
            Some(retry_after) => Err(DomainError::RateLimited { retry_after }),
        }
    }

    /// Start a game under a name: the first use claims the name and issues its token; later
    /// uses must present that token.
    pub async fn start(
        &self,
        game_id: &str,
        player: &str,
        token: Option<&str>,
    ) -> Result<Started, DomainError> {
        let game = self.game(game_id)?;
        let name = PlayerName::parse(player)?;
        let now = self.now();
        let (record, to_claim) = self.verify_or_prepare_claim(&name, token, now).await?;
        let session = Session::start(
            SessionId::random(),
            game,
            &record.key,
            &record.name,
            now,
            &self.rules,
        );
        let window = session.last_window(&self.windows);
        let ticket = Ticket::of(&session).sign(&self.tickets);
        // The session and its event are stored before the name is claimed: if either store is
        // down the player gets a 503 and the name stays free, instead of a claim whose token
        // is lost.
        self.ports
            .sessions
            .insert(&session, &[], session.forget_at(&self.rules))
            .await?;
        self.ports
            .outbox
            .add(&[Event {
                id: Event::derived_id(session.id.0, EventKind::SessionStarted, None),
                kind: EventKind::SessionStarted,
                game: game.id().to_owned(),
                player: record.name.clone(),
                session_id: session.id.0,
                score: None,
                rank: None,
                period: None,
                at: now,
            }])
            .await?;
        let claimed_token = match to_claim {
            None => None,
            Some(token) => {
                if !self.ports.scores.create_player(&record).await? {
                    // Someone claimed it between our look-up and insert; the session we
                    // stored just expires unused.
                    return Err(DomainError::NameTaken(name.as_str().to_owned()));
                }
                Some(token)
            }
        };
        self.ports.observer.session_started(game.id());
        Ok(Started {
            session,
            ticket,
            window,
            claimed_token,
            heartbeat_interval_ms: self.heartbeat_interval_ms,
        })
    }

    /// An existing player whose token matches, or a new record to claim with its fresh token.
    async fn verify_or_prepare_claim(
        &self,
        name: &PlayerName,
        token: Option<&str>,
        now: Timestamp,
    ) -> Result<(PlayerRecord, Option<String>), DomainError> {
        if let Some(existing) = self.ports.scores.find_player(name.key()).await? {
            return match token {
                Some(t) if existing.token_digest.matches(t) && existing.banned_at.is_some() => {
                    Err(DomainError::PlayerBanned(existing.name))
                }
                Some(t) if existing.token_digest.matches(t) => Ok((existing, None)),
                _ => Err(DomainError::NameTaken(name.as_str().to_owned())),
            };
        }
        // A first claim only: a name an operator blocked is nobody's.
        if self.ports.admin.is_blocked(name.key()).await? {
            return Err(DomainError::NameUnavailable(name.as_str().to_owned()));
        }
        self.refuse_denied(name)?;
        let issued = token::issue();
        let record = PlayerRecord {
            key: name.key().to_owned(),
            name: name.as_str().to_owned(),
            token_digest: issued.digest,
            created_at: now,
            hidden_at: None,
            banned_at: None,
        };
        Ok((record, Some(issued.token)))
    }

    /// Record the inputs so far, and reveal the next window when the session is near it and on
    /// time. A session the store lost goes on from its `ticket` and a batch of every input
    /// (see [`Session::resume`]).
    pub async fn heartbeat(
        &self,
        session_id: &str,
        batch: InputBatch,
        ticket: Option<&str>,
    ) -> Result<HeartbeatAck, DomainError> {
        let id = SessionId::parse(session_id)?;
        let now = self.now();
        let rules = self.rules;
        // The game is looked up inside the change, so a heartbeat reads the session once.
        let record = |s: &mut Session, held: &[Input]| {
            let game = game_of(s)?;
            let fresh = s
                .record(game, &batch, held, now, &rules, Arrival::Heartbeat)?
                .to_vec();
            s.reveal_next(game, now, &rules);
            Ok(fresh)
        };
        let mut result = self.ports.sessions.append(id, batch.held(), &record).await;
        if let (Err(DomainError::SessionNotFound(_)), Some(ticket)) = (&result, ticket) {
            result = match self
                .resume(id, ticket, &batch, now, Arrival::Heartbeat)
                .await
            {
                Ok(()) => self.ports.sessions.append(id, batch.held(), &record).await,
                Err(e) => Err(e),
            };
        }
        match result {
            Ok(s) => Ok(HeartbeatAck {
                accepted_inputs: s.input_count,
                tick: s.tick,
                window: s.last_window(&self.windows),
            }),
            Err(e) => {
                if let DomainError::Rejected { game, rejection } = &e {
                    self.ports.observer.replay_rejected(game, &rejection.reason);
                }
                Err(e)
            }
        }
    }

    /// Put back a session the store lost, rebuilt from its `ticket` and `batch` (every input
    /// and pause, from offset 0) and judged as `arrival` would be. A session put back
    /// meanwhile by a concurrent request is left as it is (the caller's next change judges the
    /// batch against it).
    async fn resume(
        &self,
        id: SessionId,
        ticket: &str,
        batch: &InputBatch,
        now: Timestamp,
        arrival: Arrival,
    ) -> Result<(), DomainError> {
        let ticket = Ticket::verify(ticket, &self.tickets, id)?;
        // The ticket's player must still be the one who started it: an erased player's games
        // (or one of a name claimed again since) resume nothing, so no score comes back.
        match self.ports.scores.find_player(&ticket.player_key).await? {
            Some(p) if p.created_at <= ticket.started_at => {}
            _ => return Err(DomainError::SessionNotFound(id.to_string())),
        }
        let game = self.game(&ticket.game)?;
        let (session, inputs) = Session::resume(&ticket, game, batch, now, &self.rules, arrival)?;
        let forget_at = session.forget_at(&self.rules);
        if self
            .ports
            .sessions
            .insert(&session, &inputs, forget_at)
            .await?
        {
            self.ports.observer.session_resumed(game.id());
        }
        Ok(())
    }

    /// Record the last inputs, replay the session and store the verified score. Idempotent: a
    /// repeated finish returns the first answer and never stores a second score. A session the
    /// store lost finishes from its `ticket` and a batch of every input.
    pub async fn finish(
        &self,
        session_id: &str,
        batch: InputBatch,
        ticket: Option<&str>,
    ) -> Result<FinishReceipt, DomainError> {
        let id = SessionId::parse(session_id)?;
        let now = self.now();
        let rules = self.rules;
        // One read-modify-write: an already finished session is left as it is and answers
        // with its result below.
        let record = |s: &mut Session, held: &[Input]| match s.finish {
            Some(_) => Ok(Vec::new()),
            None => Ok(s
                .record(game_of(s)?, &batch, held, now, &rules, Arrival::Finish)?
                .to_vec()),
        };
        let mut recorded = self.ports.sessions.append(id, batch.held(), &record).await;
        if let Err(DomainError::SessionNotFound(_)) = recorded {
            // Forgotten after retention, or lost: a stored score still answers.
            if let Some(row) = self.ports.scores.score_by_session(id).await? {
                return self.receipt_for(&row).await;
            }
            let Some(ticket) = ticket else {
                return Err(DomainError::SessionNotFound(id.to_string()));
            };
            recorded = match self.resume(id, ticket, &batch, now, Arrival::Finish).await {
                Ok(()) => self.ports.sessions.append(id, batch.held(), &record).await,
                Err(DomainError::Rejected { game, rejection }) => {
                    // A refused finish ends the session as rejected, lost or not.
                    let ticket = Ticket::verify(ticket, &self.tickets, id)?;
                    let mut session = Session::from_ticket(&ticket);
                    session.finish = Some(FinishState::Rejected(rejection.clone()));
                    let forget_at = session.forget_at(&self.rules);
                    self.ports.sessions.insert(&session, &[], forget_at).await?;
                    return self.reject(id, self.game(&game)?, rejection).await;
                }
                Err(e) => Err(e),
            };
        }
        let session = match recorded {
            Ok(s) => s,
            Err(DomainError::Rejected { game, rejection }) => {
                return self.reject(id, self.game(&game)?, rejection).await;
            }
            Err(e) => return Err(e),
        };
        if let Some(done) = &session.finish {
            return finished_answer(done, &session.game);
        }
        // The inputs the recorded session holds (a concurrent heartbeat may append more after
        // them, which this finish does not replay, as it did not record them).
        let inputs = self.ports.sessions.inputs(id, session.input_count).await?;
        if inputs.len() != session.input_count {
            return Err(DomainError::SessionNotFound(id.to_string()));
        }
        let game = self.game(&session.game)?;
        let outcome = match session.replay(game, &self.windows, &inputs) {
            Ok(o) => o,
            Err(rejection) => return self.reject(id, game, rejection).await,
        };
        let new = NewScore {
            session_id: id,
            game: session.game.clone(),
            player_key: session.player_key.clone(),
            player_name: session.player_name.clone(),
            score: outcome.score,
            ticks: outcome.ticks,
            game_over: outcome.game_over,
            rules_version: session.rules_version,
            seed: self.windows.seed(id, 0),
            stats: outcome.stats.clone(),
            inputs,
            achieved_at: now,
            day: self.calendar.bucket(Period::Day, now),
            week: self.calendar.bucket(Period::Week, now),
            flags: outcome.flags.clone(),
            event: Event::score_submitted(
                id.0,
                &session.game,
                &session.player_name,
                outcome.score,
                now,
            ),
        };
        let stored = self.ports.scores.record_score(&new).await?;
        let row = stored.row;
        let standing = standing_of(&row);
        let mut ranks = PeriodRanks::default();
        let mut entered_top = Vec::new();
        // The three boards are independent: submit to them at once (one round trip on a
        // multiplexed connection instead of three). A score of nothing stays off them, and so
        // does every score of a player an operator hid.
        let boards = if takes_a_place(row.score) && row.listed {
            &Period::ALL[..]
        } else {
            &[]
        };
        let submissions = futures::future::try_join_all(boards.iter().map(|&period| {
            let board = self.calendar.board(&row.game, period, row.achieved_at);
            let standing = standing.clone();
            async move { self.ports.ranks.submit(&board, standing).await }
        }))
        .await?;
        for (&period, submission) in boards.iter().zip(submissions) {
            // A finish tried again after it stored its score finds its own standing on the
            // board: it holds the place as much as the first try did.
            let (rank, holds_place) = match submission {
                Submission::New { rank } | Submission::Improved { rank, .. } => (rank, true),
                Submission::NotImproved { rank, best } => (
                    rank,
                    best.score == standing.score && best.achieved_at_ms == standing.achieved_at_ms,
                ),
            };
            ranks.set(period, rank);
            if holds_place && rank <= TOP_PLACES {
                entered_top.push((period, rank));
            }
        }
        if stored.inserted {
            self.ports.observer.score_submitted(&row.game, row.score);
            for flag in &row.flags {
                self.ports.observer.score_flagged(&row.game, flag);
            }
        }
        // Before the answer, durably: an acknowledged finish never loses its events. A finish
        // tried again after a failure here writes the same events (ids derived from the
        // session), and the bus drops what it already has. A hidden player's scores are not
        // announced (the store held no event for them either).
        if row.listed {
            self.announce(&row, ranks.all, &entered_top).await?;
        }
        let receipt = receipt_from(&row, ranks);
        let accepted = FinishState::Accepted(receipt.clone());
        let session = self
            .ports
            .sessions
            .update(id, &|s: &mut Session| {
                if s.finish.is_none() {
                    s.finish = Some(accepted.clone());
                }
                Ok(())
            })
            .await;
        match session {
            Ok(s) => match &s.finish {
                Some(done) => finished_answer(done, &s.game),
                None => Ok(receipt),
            },
            // The score is stored; a session that vanished meanwhile changes nothing.
            Err(DomainError::SessionNotFound(_)) => Ok(receipt),
            Err(e) => Err(e),
        }
    }

    /// End the session as rejected (unless a concurrent finish already ended it) and answer
    /// with whatever ended it.
    async fn reject(
        &self,
        id: SessionId,
        game: &dyn Game,
        rejection: Rejection,
    ) -> Result<FinishReceipt, DomainError> {
        self.ports
            .observer
            .replay_rejected(game.id(), &rejection.reason);
        let state = FinishState::Rejected(rejection);
        let s = self
            .ports
            .sessions
            .update(id, &|s: &mut Session| {
                if s.finish.is_none() {
                    s.finish = Some(state.clone());
                }
                Ok(())
            })
            .await?;
        finished_answer(s.finish.as_ref().unwrap_or(&state), &s.game)
    }

    async fn receipt_for(&self, row: &ScoreRow) -> Result<FinishReceipt, DomainError> {
        let mut ranks = PeriodRanks::default();
        let found = futures::future::try_join_all(Period::ALL.map(|period| {
            let board = self.calendar.board(&row.game, period, row.achieved_at);
            async move { self.ports.ranks.get(&board, &row.player_key).await }
        }))
        .await?;
        for (period, found) in Period::ALL.into_iter().zip(found) {
            ranks.set(period, found.map_or(0, |r| r.rank));
        }
        Ok(receipt_from(row, ranks))
    }

    /// Put a finished game's events in the outbox: the score's, now with its all-time rank
    /// (releasing the one held since the score was stored), and one per board whose top it
    /// entered. The relay publishes them; play never waits for the bus.
    async fn announce(
        &self,
        row: &ScoreRow,
        rank: u64,
        entered_top: &[(Period, u64)],
    ) -> Result<(), BackendError> {
        let scored = Event {
            rank: Some(rank),
            ..Event::score_submitted(
                row.session_id.0,
                &row.game,
                &row.player_name,
                row.score,
                row.achieved_at,
            )
        };
        let mut events = Vec::with_capacity(1 + entered_top.len());
        for &(period, rank) in entered_top {
            events.push(Event {
                id: Event::derived_id(row.session_id.0, EventKind::LeaderboardTop, Some(period)),
                kind: EventKind::LeaderboardTop,
                rank: Some(rank),
                period: Some(period),
                ..scored.clone()
            });
        }
        events.insert(0, scored);
        self.ports.outbox.add(&events).await
    }

    /// A page of a game's board for the current period.
    pub async fn leaderboard(
        &self,
        game_id: &str,
        period: Period,
        limit: Limit,
        cursor: Option<&str>,
    ) -> Result<BoardPage, DomainError> {
        let game = self.game(game_id)?;
        let after = cursor.map(query::decode_board_cursor).transpose()?;
        let board = self.calendar.board(game.id(), period, self.now());
        let entries = self
            .ports
            .ranks
            .page(&board, after.as_ref(), limit.get() + 1)
            .await?;
        Ok(board_page(board, entries, limit))
    }

    /// Whether the board of `period` named by `bucket` is over (`true`) or the current one
    /// (`false`). One still to come is refused: nothing can be on it.
    pub fn is_finished(&self, period: Period, bucket: i64) -> Result<bool, DomainError> {
        let current = self.calendar.bucket(period, self.now());
        match bucket.cmp(&current) {
            std::cmp::Ordering::Less => Ok(true),
            std::cmp::Ordering::Equal => Ok(false),
            std::cmp::Ordering::Greater => Err(DomainError::InvalidQuery(format!(
                "the {} {} has not begun yet",
                period.as_str(),
                period.bucket_name(bucket).unwrap_or_default()
            ))),
        }
    }

    /// A page of a game's board for a finished day or week, read from the bests the score
    /// store keeps per board: play cannot change it any more, an operator still can (a hidden
    /// player's or a removed score's bests leave the store's boards too).
    pub async fn finished_leaderboard(
        &self,
        game_id: &str,
        period: Period,
        bucket: i64,
        limit: Limit,
        cursor: Option<&str>,
    ) -> Result<BoardPage, DomainError> {
        let game = self.game(game_id)?;
        let after = cursor.map(query::decode_board_cursor).transpose()?;
        if !self.is_finished(period, bucket)? {
            return Err(DomainError::InvalidQuery(format!(
                "the {} {} is not over yet: leave the date out for the current board",
                period.as_str(),
                period.bucket_name(bucket).unwrap_or_default()
            )));
        }
        let board = BoardKey {
            game: game.id().to_owned(),
            period,
            bucket,
        };
        let entries = self
            .ports
            .scores
            .board_page(&board, after.as_ref(), limit.get() + 1)
            .await?;
        Ok(board_page(board, entries, limit))
    }

    /// A player's best, rank and neighbours on a board. One rank-index call answers a player
    /// on the board (whose entry carries the registered name); only a player without a score
    /// there costs a look-up, to tell "no score yet" from "no such player".
    pub async fn player_standing(
        &self,
        game_id: &str,
        player: &str,
        period: Period,
    ) -> Result<PlayerStanding, DomainError> {
        let game = self.game(game_id)?;
        let name = PlayerName::parse(player)?;
        let board = self.calendar.board(game.id(), period, self.now());
        let neighbours = self
            .ports
            .ranks
            .around(&board, name.key(), NEIGHBOURS, NEIGHBOURS)
            .await?;
        let best = neighbours
            .iter()
            .find(|r| r.standing.player_key == name.key())
            .cloned();
        let player = match &best {
            Some(b) => b.standing.player_name.clone(),
            None => self.known_player(player).await?.name,
        };
        Ok(PlayerStanding {
            player,
            game: game.id().to_owned(),
            period,
            best,
            neighbours,
        })
    }

    /// A player's scores in a game, newest first.
    pub async fn history(
        &self,
        game_id: &str,
        player: &str,
        limit: Limit,
        cursor: Option<&str>,
    ) -> Result<HistoryPage, DomainError> {
        let game = self.game(game_id)?;
        let after = cursor.map(query::decode_history_cursor).transpose()?;
        let record = self.known_player(player).await?;
        let mut scores = self
            .ports
            .scores
            .history(game.id(), &record.key, after.as_ref(), limit.get() + 1)
            .await?;
        let next_cursor = if scores.len() > limit.get() {
            scores.truncate(limit.get());
            scores.last().map(|r| {
                query::encode_history_cursor(&HistoryCursor {
                    achieved_at: r.achieved_at,
                    session_id: r.session_id,
                })
            })
        } else {
            None
        };
        Ok(HistoryPage {
            player: record.name,
            game: game.id().to_owned(),
            scores,
            next_cursor,
        })
    }

    async fn known_player(&self, player: &str) -> Result<PlayerRecord, DomainError> {
        let name = PlayerName::parse(player)?;
        self.ports
            .scores
            .find_player(name.key())
            .await?
            .ok_or_else(|| DomainError::PlayerNotFound(name.as_str().to_owned()))
    }

    /// Load every current board of every game from the score store into the rank index.
    pub async fn rebuild_rank_index(&self) -> Result<usize, BackendError> {
        let now = self.now();
        let mut boards = 0;
        for game in self.games() {
            for period in Period::ALL {
                let board = self.calendar.board(game.id(), period, now);
                let standings = self.ports.scores.best_standings(&board, None).await?;
                self.ports.ranks.load(&board, standings).await?;
                boards += 1;
            }
        }
        Ok(boards)
    }

    /// Forget sessions past their retention; returns how many.
    pub async fn purge_sessions(&self) -> Result<usize, BackendError> {
        self.ports.sessions.purge(self.now()).await
    }

    /// Sessions neither finished nor expired, per game.
    pub async fn active_sessions(
        &self,
    ) -> Result<std::collections::BTreeMap<String, u64>, BackendError> {
        self.ports.sessions.count_active(self.now()).await
    }
}

/// The page of `board` read as `entries` (one more than `limit` when there are more).
fn board_page(board: BoardKey, entries: Vec<Ranked>, limit: Limit) -> BoardPage {
    let (entries, next_cursor) = board_entries(entries, limit);
    BoardPage {
        game: board.game,
        period: board.period,
        bucket: board.bucket,
        entries,
        next_cursor,
    }
}

/// A board's entries read one more than `limit` (when there are more), cut to `limit`, with
/// the cursor of the next page if there is one.
fn board_entries(mut entries: Vec<Ranked>, limit: Limit) -> (Vec<Ranked>, Option<String>) {
    let next_cursor = if entries.len() > limit.get() {
        entries.truncate(limit.get());
        entries
            .last()
            .map(|r| query::encode_board_cursor(&r.standing))
    } else {
        None
    };
    (entries, next_cursor)
}

fn standing_of(row: &ScoreRow) -> Standing {
    Standing {
        score: u64::from(row.score),
        achieved_at_ms: row.achieved_at.0,
        player_key: row.player_key.clone(),
        player_name: row.player_name.clone(),
    }
}

fn receipt_from(row: &ScoreRow, ranks: PeriodRanks) -> FinishReceipt {
    let personal_best = row.previous_best.map_or(row.score, |b| b.max(row.score));
    FinishReceipt {
        session_id: row.session_id,
        game: row.game.clone(),
        player: row.player_name.clone(),
        score: row.score,
        ticks: row.ticks,
        game_over: row.game_over,
        stats: row.stats.clone(),
        achieved_at: row.achieved_at,
        ranks,
        personal_best,
        new_personal_best: row.previous_best.is_none_or(|b| row.score > b),
    }
}

fn finished_answer(done: &FinishState, game: &str) -> Result<FinishReceipt, DomainError> {
    match done {
        FinishState::Accepted(r) => Ok(r.clone()),
        FinishState::Rejected(rejection) => Err(DomainError::Rejected {
            game: game.to_owned(),
            rejection: rejection.clone(),
        }),
    }
}

mod admin;
mod moderation;
mod name_rules;
mod player_data;
mod retention;
mod review;
mod seasons;

pub use admin::{AuditPage, CreatedOperator};
pub use name_rules::{CHECK_SCAN, DeniedName, NameCheckPage, Reloaded};
pub use player_data::{ErasureReceipt, PLAYER_ACTOR};
pub use review::ShownScore;
pub use seasons::SeasonBoardPage;

#[cfg(test)]
mod tests;
