//! The use cases on in-memory doubles of every port, written here: the adapters' crates
//! depend on this one, so a unit test here cannot use them (as a dev-dependency they would
//! implement another build of these traits). The doubles are as small as the use cases
//! allow; the adapters themselves are held to the ports by the conformance suite.

use std::collections::{BTreeMap, HashMap};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use arcade_games::Bot;
use async_trait::async_trait;
use futures::executor::block_on;
use futures::stream::{self, BoxStream, StreamExt};

use super::*;
use crate::admin::Resolution;
use crate::keys::SessionSecret;
use crate::ports::{OutboxDepth, OutboxEntry};
use crate::ranks::RankedBoard;
use crate::time::ManualClock;

const GAME: &str = "egg-catcher";

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap()
}

/// Players and scores in maps; a player's previous best is their highest score that took a
/// place, as the stores keep it.
#[derive(Default)]
struct Scores {
    players: Mutex<HashMap<String, PlayerRecord>>,
    rows: Mutex<Vec<ScoreRow>>,
    /// The events written with the scores, held for their finish.
    held: Mutex<Vec<Event>>,
    /// Each board's bests, kept as the stores keep them, by the score's own buckets.
    bests: Mutex<HashMap<BoardKey, RankedBoard>>,
}

#[async_trait]
impl ScoreStore for Scores {
    async fn find_player(&self, key: &str) -> Result<Option<PlayerRecord>, BackendError> {
        Ok(lock(&self.players).get(key).cloned())
    }

    async fn create_player(&self, player: &PlayerRecord) -> Result<bool, BackendError> {
        let mut players = lock(&self.players);
        if players.contains_key(&player.key) {
            return Ok(false);
        }
        players.insert(player.key.clone(), player.clone());
        Ok(true)
    }

    async fn record_score(&self, s: &NewScore) -> Result<crate::ports::Recorded, BackendError> {
        let mut rows = lock(&self.rows);
        if let Some(row) = rows.iter().find(|r| r.session_id == s.session_id) {
            return Ok(crate::ports::Recorded {
                row: row.clone(),
                inserted: false,
            });
        }
        let previous_best = rows
            .iter()
            .filter(|r| r.game == s.game && r.player_key == s.player_key)
            .map(|r| r.score)
            .filter(|&score| takes_a_place(score))
            .max();
        let row = ScoreRow {
            session_id: s.session_id,
            game: s.game.clone(),
            player_key: s.player_key.clone(),
            player_name: s.player_name.clone(),
            score: s.score,
            ticks: s.ticks,
            game_over: s.game_over,
            rules_version: s.rules_version,
            stats: s.stats.clone(),
            achieved_at: s.achieved_at,
            previous_best,
            flags: s.flags.clone(),
            listed: lock(&self.players)
                .get(&s.player_key)
                .is_none_or(|p| p.hidden_at.is_none()),
        };
        rows.push(row.clone());
        if row.listed {
            lock(&self.held).push(s.event.clone());
        }
        if row.listed && takes_a_place(s.score) {
            let mut bests = lock(&self.bests);
            for (period, bucket) in [
                (Period::All, 0),
                (Period::Day, s.day),
                (Period::Week, s.week),
            ] {
                let board = BoardKey {
                    game: s.game.clone(),
                    period,
                    bucket,
                };
                bests.entry(board).or_default().submit(standing_of(&row));
            }
        }
        Ok(crate::ports::Recorded {
            row,
            inserted: true,
        })
    }

    async fn score_by_session(&self, id: SessionId) -> Result<Option<ScoreRow>, BackendError> {
        Ok(lock(&self.rows)
            .iter()
            .find(|r| r.session_id == id)
            .cloned())
    }

    async fn history(
        &self,
        game: &str,
        player_key: &str,
        after: Option<&HistoryCursor>,
        limit: usize,
    ) -> Result<Vec<ScoreRow>, BackendError> {
        let mut rows: Vec<ScoreRow> = lock(&self.rows)
            .iter()
            .filter(|r| r.game == game && r.player_key == player_key)
            .filter(|r| {
                after.is_none_or(|c| (r.achieved_at, r.session_id) < (c.achieved_at, c.session_id))
            })
            .cloned()
            .collect();
        rows.sort_by_key(|r| std::cmp::Reverse((r.achieved_at, r.session_id)));
        rows.truncate(limit);
        Ok(rows)
    }

    async fn best_standings(
        &self,
        _board: &BoardKey,
        _since: Option<Timestamp>,
    ) -> Result<Vec<Standing>, BackendError> {
        unreachable!("the use cases under test do not rebuild boards")
    }

    async fn board_page(
        &self,
        board: &BoardKey,
        after: Option<&Standing>,
        limit: usize,
    ) -> Result<Vec<Ranked>, BackendError> {
        Ok(lock(&self.bests)
            .get(board)
            .map(|b| b.page(after, limit))
            .unwrap_or_default())
    }

    async fn ping(&self) -> Result<(), BackendError> {
        Ok(())
    }
}

/// Sessions in a map, each with its inputs and the time it may be forgotten.
#[derive(Default)]
struct Sessions(Mutex<HashMap<SessionId, Stored>>);

/// A stored session: the session, its inputs, and when it may be forgotten.
type Stored = (Session, Vec<arcade_games::Input>, Timestamp);

#[async_trait]
impl SessionStore for Sessions {
    async fn insert(
        &self,
        session: &Session,
        inputs: &[arcade_games::Input],
        forget_at: Timestamp,
    ) -> Result<bool, BackendError> {
        let mut sessions = lock(&self.0);
        if sessions.contains_key(&session.id) {
            return Ok(false);
        }
        sessions.insert(session.id, (session.clone(), inputs.to_vec(), forget_at));
        Ok(true)
    }

    async fn get(&self, id: SessionId) -> Result<Option<Session>, BackendError> {
        Ok(lock(&self.0).get(&id).map(|(s, _, _)| s.clone()))
    }

    async fn inputs(
        &self,
        id: SessionId,
        count: usize,
    ) -> Result<Vec<arcade_games::Input>, BackendError> {
        Ok(lock(&self.0)
            .get(&id)
            .map(|(_, inputs, _)| inputs[..count.min(inputs.len())].to_vec())
            .unwrap_or_default())
    }

    async fn append(
        &self,
        id: SessionId,
        held: std::ops::Range<usize>,
        change: crate::ports::InputsChange<'_>,
    ) -> Result<Session, DomainError> {
        let mut sessions = lock(&self.0);
        let (stored, inputs, _) = sessions
            .get_mut(&id)
            .ok_or_else(|| DomainError::SessionNotFound(id.to_string()))?;
        let mut changed = stored.clone();
        let from = held.start.min(inputs.len());
        let to = held.end.min(inputs.len()).max(from);
        let fresh = change(&mut changed, &inputs[from..to])?;
        inputs.extend(fresh);
        *stored = changed.clone();
        Ok(changed)
    }

    async fn count_active(&self, now: Timestamp) -> Result<BTreeMap<String, u64>, BackendError> {
        let mut counts = BTreeMap::new();
        for (s, _, _) in lock(&self.0).values().filter(|(s, _, _)| s.is_active(now)) {
            *counts.entry(s.game.clone()).or_default() += 1;
        }
        Ok(counts)
    }

    async fn forget_player(&self, player_key: &str) -> Result<usize, BackendError> {
        let mut sessions = lock(&self.0);
        let before = sessions.len();
        sessions.retain(|_, (s, _, _)| s.player_key != player_key);
        Ok(before - sessions.len())
    }

    async fn purge(&self, now: Timestamp) -> Result<usize, BackendError> {
        let mut sessions = lock(&self.0);
        let before = sessions.len();
        sessions.retain(|_, (_, _, forget_at)| *forget_at > now);
        Ok(before - sessions.len())
    }

    async fn ping(&self) -> Result<(), BackendError> {
        Ok(())
    }
}

/// Boards as the domain's own `RankedBoard`s.
#[derive(Default)]
struct Ranks(Mutex<HashMap<BoardKey, RankedBoard>>);

#[async_trait]
impl RankIndex for Ranks {
    async fn submit(
        &self,
        board: &BoardKey,
        standing: Standing,
    ) -> Result<Submission, BackendError> {
        Ok(lock(&self.0)
            .entry(board.clone())
            .or_default()
            .submit(standing))
    }

    async fn page(
        &self,
        board: &BoardKey,
        after: Option<&Standing>,
        limit: usize,
    ) -> Result<Vec<Ranked>, BackendError> {
        Ok(lock(&self.0)
            .get(board)
            .map(|b| b.page(after, limit))
            .unwrap_or_default())
    }

    async fn get(&self, board: &BoardKey, key: &str) -> Result<Option<Ranked>, BackendError> {
        Ok(lock(&self.0).get(board).and_then(|b| b.get(key)))
    }

    async fn around(
        &self,
        board: &BoardKey,
        key: &str,
        before: usize,
        after: usize,
    ) -> Result<Vec<Ranked>, BackendError> {
        Ok(lock(&self.0)
            .get(board)
            .map(|b| b.around(key, before, after))
            .unwrap_or_default())
    }

    async fn set(
        &self,
        board: &BoardKey,
        key: &str,
        standing: Option<Standing>,
    ) -> Result<(), BackendError> {
        lock(&self.0)
            .entry(board.clone())
            .or_default()
            .set(key, standing);
        Ok(())
    }

    async fn load(&self, board: &BoardKey, standings: Vec<Standing>) -> Result<(), BackendError> {
        lock(&self.0).insert(board.clone(), RankedBoard::from_standings(standings));
        Ok(())
    }

    async fn ping(&self) -> Result<(), BackendError> {
        Ok(())
    }
}

/// Keeps what is added, as an outbox that upserts by id does (the last content wins, in its
/// first place), or refuses everything once `down` is set. The relay is not under test here.
#[derive(Default)]
struct Events {
    added: Mutex<Vec<Event>>,
    down: AtomicBool,
}

impl Events {
    fn kinds(&self) -> Vec<(EventKind, Option<Period>, Option<u64>)> {
        lock(&self.added)
            .iter()
            .map(|e| (e.kind, e.period, e.rank))
            .collect()
    }

    /// Keep `events`, as a store writes them with its change in one transaction.
    fn keep(&self, events: &[Event]) {
        let mut added = lock(&self.added);
        for event in events {
            match added.iter_mut().find(|e| e.id == event.id) {
                Some(e) => *e = event.clone(),
                None => added.push(event.clone()),
            }
        }
    }
}

#[async_trait]
impl Outbox for Events {
    async fn add(&self, events: &[Event]) -> Result<(), BackendError> {
        if self.down.load(Ordering::SeqCst) {
            return Err(BackendError::unavailable("test outbox", "down"));
        }
        self.keep(events);
        Ok(())
    }

    async fn claim(&self, _: usize, _: Duration) -> Result<Vec<OutboxEntry>, BackendError> {
        unreachable!("the relay is not under test")
    }

    async fn remove(&self, _: &[uuid::Uuid]) -> Result<(), BackendError> {
        unreachable!("the relay is not under test")
    }

    async fn unclaim(&self, _: &[uuid::Uuid]) -> Result<(), BackendError> {
        unreachable!("the relay is not under test")
    }

    async fn depth(&self) -> Result<OutboxDepth, BackendError> {
        unreachable!("the relay is not under test")
    }
}

/// A bus nobody publishes to here: the service writes events to the outbox only.
struct Bus;

#[async_trait]
impl EventBus for Bus {
    async fn publish(&self, _: &Event) -> Result<(), BackendError> {
        unreachable!("the service never publishes itself")
    }

    fn subscribe(&self) -> BoxStream<'static, Event> {
        stream::empty().boxed()
    }

    async fn ping(&self) -> Result<(), BackendError> {
        Ok(())
    }
}

/// Writes down every hook the service calls, one line each.
#[derive(Default)]
struct Seen(Mutex<Vec<String>>);

impl Seen {
    fn lines(&self) -> Vec<String> {
        lock(&self.0).clone()
    }

    fn count(&self, line: &str) -> usize {
        lock(&self.0).iter().filter(|l| *l == line).count()
    }

    fn note(&self, line: String) {
        lock(&self.0).push(line);
    }
}

impl Observer for Seen {
    fn session_started(&self, game: &str) {
        self.note(format!("started {game}"));
    }
    fn score_submitted(&self, game: &str, score: u32) {
        self.note(format!("scored {game} {score}"));
    }
    fn score_flagged(&self, game: &str, flag: &str) {
        self.note(format!("flagged {game} {flag}"));
    }
    fn session_resumed(&self, game: &str) {
        self.note(format!("resumed {game}"));
    }
    fn replay_rejected(&self, game: &str, reason: &str) {
        self.note(format!("rejected {game} {reason}"));
    }
    fn event_published(&self, kind: EventKind) {
        self.note(format!("published {}", kind.as_str()));
    }
    fn admin_action(&self, audit: &crate::admin::NewAudit) {
        self.note(format!(
            "admin {} {} by {}",
            audit.action.as_str(),
            audit.target,
            audit.actor
        ));
    }
}

/// The deny list in memory, writing its audit records to `admin`'s log and its events to
/// `events`, and walking the players of `scores`.
#[derive(Default)]
struct Names {
    scores: Arc<Scores>,
    admin: Arc<Admin>,
    events: Arc<Events>,
    rules: Mutex<Vec<crate::name_rules::NameRule>>,
}

#[async_trait]
impl crate::ports::NameRuleStore for Names {
    async fn name_rules(&self) -> Result<Vec<crate::name_rules::NameRule>, BackendError> {
        Ok(lock(&self.rules).clone())
    }

    async fn add_name_rule(
        &self,
        rule: &crate::name_rules::NewNameRule,
        audit: crate::ports::RuleAudit<'_>,
        events: &[Event],
    ) -> Result<Option<crate::name_rules::NameRule>, BackendError> {
        let stored = {
            let mut rules = lock(&self.rules);
            if rules
                .iter()
                .any(|r| r.kind == rule.kind && r.folded == rule.folded)
            {
                return Ok(None);
            }
            let stored = crate::name_rules::NameRule {
                id: rules.iter().map(|r| r.id).max().unwrap_or(0) + 1,
                kind: rule.kind,
                value: rule.value.clone(),
                folded: rule.folded.clone(),
                created_at: rule.created_at,
                created_by: rule.created_by.clone(),
            };
            rules.push(stored.clone());
            stored
        };
        self.admin.append(&audit(&stored));
        self.events.add(events).await?;
        Ok(Some(stored))
    }

    async fn remove_name_rule(
        &self,
        id: i64,
        audit: &crate::admin::NewAudit,
        events: &[Event],
    ) -> Result<bool, BackendError> {
        let removed = {
            let mut rules = lock(&self.rules);
            let before = rules.len();
            rules.retain(|r| r.id != id);
            rules.len() < before
        };
        if !removed {
            return Ok(false);
        }
        self.admin.append(audit);
        self.events.add(events).await?;
        Ok(true)
    }

    async fn players_after(
        &self,
        after: Option<&str>,
        limit: usize,
    ) -> Result<Vec<PlayerRecord>, BackendError> {
        let mut players: Vec<_> = lock(&self.scores.players)
            .values()
            .filter(|p| after.is_none_or(|a| p.key.as_str() > a))
            .cloned()
            .collect();
        players.sort_by(|a, b| a.key.cmp(&b.key));
        players.truncate(limit);
        Ok(players)
    }
}

/// Seasons in memory, writing their audit records to `admin`'s log and reading their boards
/// from the scores of `scores`.
#[derive(Default)]
struct Seasons {
    scores: Arc<Scores>,
    admin: Arc<Admin>,
    seasons: Mutex<Vec<crate::season::Season>>,
}

#[async_trait]
impl crate::ports::SeasonStore for Seasons {
    async fn seasons(&self) -> Result<Vec<crate::season::Season>, BackendError> {
        let mut seasons = lock(&self.seasons).clone();
        seasons.sort_by(|a, b| b.starts_at.cmp(&a.starts_at).then(a.slug.cmp(&b.slug)));
        Ok(seasons)
    }

    async fn season(&self, slug: &str) -> Result<Option<crate::season::Season>, BackendError> {
        Ok(lock(&self.seasons).iter().find(|s| s.slug == slug).cloned())
    }

    async fn add_season(
        &self,
        season: &crate::season::Season,
        audit: &crate::admin::NewAudit,
    ) -> Result<bool, BackendError> {
        let mut seasons = lock(&self.seasons);
        if seasons.iter().any(|s| s.slug == season.slug) {
            return Ok(false);
        }
        seasons.push(season.clone());
        self.admin.append(audit);
        Ok(true)
    }

    async fn remove_season(
        &self,
        slug: &str,
        audit: &crate::admin::NewAudit,
    ) -> Result<bool, BackendError> {
        let mut seasons = lock(&self.seasons);
        let before = seasons.len();
        seasons.retain(|s| s.slug != slug);
        if seasons.len() == before {
            return Ok(false);
        }
        self.admin.append(audit);
        Ok(true)
    }

    async fn season_page(
        &self,
        game: &str,
        during: std::ops::Range<Timestamp>,
        after: Option<&Standing>,
        limit: usize,
    ) -> Result<Vec<Ranked>, BackendError> {
        let players = lock(&self.scores.players).clone();
        let mut board = RankedBoard::new();
        for row in lock(&self.scores.rows).iter() {
            let listed = players
                .get(&row.player_key)
                .is_some_and(|p| p.hidden_at.is_none());
            if row.game == game
                && during.contains(&row.achieved_at)
                && takes_a_place(row.score)
                && listed
            {
                board.submit(standing_of(row));
            }
        }
        Ok(board.page(after, limit))
    }
}

/// Operators and the audit log in memory, acting on the players and scores of `scores`; the
/// events of a change go to `events` with it.
#[derive(Default)]
struct Admin {
    scores: Arc<Scores>,
    events: Arc<Events>,
    blocked: Mutex<Vec<String>>,
    reports: Mutex<Vec<crate::admin::NewReport>>,
    reviewed: Mutex<Vec<String>>,
    operators: Mutex<Vec<crate::admin::Operator>>,
    audit: Mutex<Vec<crate::admin::AuditRecord>>,
}

impl Admin {
    fn append(&self, a: &crate::admin::NewAudit) {
        let mut log = lock(&self.audit);
        let id = log.len() as i64 + 1;
        log.push(crate::admin::AuditRecord {
            id,
            at: a.at,
            actor: a.actor.clone(),
            action: a.action.as_str().to_owned(),
            target: a.target.clone(),
            reason: a.reason.clone(),
            before: a.before.clone(),
            after: a.after.clone(),
        });
    }
}

#[async_trait]
impl AdminStore for Admin {
    async fn create_operator(
        &self,
        operator: &crate::admin::Operator,
        audit: &crate::admin::NewAudit,
    ) -> Result<bool, BackendError> {
        let mut ops = lock(&self.operators);
        if ops.iter().any(|o| o.name == operator.name) {
            return Ok(false);
        }
        ops.push(operator.clone());
        self.append(audit);
        Ok(true)
    }

    async fn operators(&self) -> Result<Vec<crate::admin::Operator>, BackendError> {
        let mut ops = lock(&self.operators).clone();
        ops.sort_by(|a, b| a.name.cmp(&b.name));
        Ok(ops)
    }

    async fn operator_by_token(
        &self,
        digest: &crate::token::TokenDigest,
    ) -> Result<Option<crate::admin::Operator>, BackendError> {
        Ok(lock(&self.operators)
            .iter()
            .find(|o| &o.token_digest == digest)
            .cloned())
    }

    async fn revoke_operator(
        &self,
        name: &str,
        audit: &crate::admin::NewAudit,
    ) -> Result<bool, BackendError> {
        let mut ops = lock(&self.operators);
        let Some(o) = ops
            .iter_mut()
            .find(|o| o.name == name && o.revoked_at.is_none())
        else {
            return Ok(false);
        };
        o.revoked_at = Some(audit.at);
        self.append(audit);
        Ok(true)
    }

    async fn set_hidden(
        &self,
        key: &str,
        hidden_at: Option<Timestamp>,
        audit: &crate::admin::NewAudit,
        events: &[Event],
    ) -> Result<bool, BackendError> {
        let mut players = lock(&self.scores.players);
        let Some(p) = players.get_mut(key) else {
            return Ok(false);
        };
        p.hidden_at = hidden_at;
        self.append(audit);
        self.events.keep(events);
        Ok(true)
    }

    async fn set_banned(
        &self,
        key: &str,
        banned_at: Option<Timestamp>,
        audit: &crate::admin::NewAudit,
    ) -> Result<bool, BackendError> {
        let mut players = lock(&self.scores.players);
        let Some(p) = players.get_mut(key) else {
            return Ok(false);
        };
        p.banned_at = banned_at;
        self.append(audit);
        Ok(true)
    }

    async fn remove_score(
        &self,
        id: SessionId,
        audit: &crate::admin::NewAudit,
        events: &[Event],
    ) -> Result<bool, BackendError> {
        let mut rows = lock(&self.scores.rows);
        let before = rows.len();
        rows.retain(|r| r.session_id != id);
        if rows.len() == before {
            return Ok(false);
        }
        self.append(audit);
        self.events.keep(events);
        Ok(true)
    }

    async fn rename_player(
        &self,
        old_key: &str,
        new_key: &str,
        new_name: &str,
        block_old: Option<Timestamp>,
        audit: &crate::admin::NewAudit,
        events: &[Event],
    ) -> Result<bool, BackendError> {
        let mut players = lock(&self.scores.players);
        if old_key != new_key && players.contains_key(new_key) {
            return Ok(false);
        }
        let Some(mut p) = players.remove(old_key) else {
            return Ok(false);
        };
        p.key = new_key.to_owned();
        p.name = new_name.to_owned();
        players.insert(new_key.to_owned(), p);
        for r in lock(&self.scores.rows).iter_mut() {
            if r.player_key == old_key {
                r.player_key = new_key.to_owned();
                r.player_name = new_name.to_owned();
            }
        }
        if block_old.is_some() {
            lock(&self.blocked).push(old_key.to_owned());
        }
        self.append(audit);
        self.events.keep(events);
        Ok(true)
    }

    async fn add_report(&self, r: &crate::admin::NewReport) -> Result<(), BackendError> {
        lock(&self.reports).push(r.clone());
        Ok(())
    }

    async fn review_queue(
        &self,
        limit: usize,
    ) -> Result<Vec<crate::admin::ReviewItem>, BackendError> {
        use crate::admin::{ReviewItem, ReviewKind};
        let reviewed = lock(&self.reviewed).clone();
        let rows = lock(&self.scores.rows).clone();
        let mut items: Vec<ReviewItem> = rows
            .iter()
            .filter(|r| !r.flags.is_empty())
            .map(|r| ReviewItem {
                item: format!("score:{}", r.session_id),
                kind: ReviewKind::FlaggedScore,
                player: r.player_name.clone(),
                game: Some(r.game.clone()),
                session_id: Some(r.session_id),
                score: Some(r.score),
                flags: r.flags.clone(),
                reason: None,
                at: r.achieved_at,
            })
            .collect();
        for (i, rep) in lock(&self.reports).iter().enumerate() {
            let row = rows.iter().find(|r| Some(r.session_id) == rep.session_id);
            items.push(ReviewItem {
                item: format!("report:{}", i + 1),
                kind: ReviewKind::Report,
                player: lock(&self.scores.players)
                    .get(&rep.player_key)
                    .map_or(rep.player_key.clone(), |p| p.name.clone()),
                game: row.map(|r| r.game.clone()),
                session_id: rep.session_id,
                score: row.map(|r| r.score),
                flags: row.map(|r| r.flags.clone()).unwrap_or_default(),
                reason: rep.reason.clone(),
                at: rep.at,
            });
        }
        items.retain(|i| !reviewed.contains(&i.item));
        items.sort_by(|a, b| (a.at, &a.item).cmp(&(b.at, &b.item)));
        items.truncate(limit);
        Ok(items)
    }

    async fn review_item(
        &self,
        item: &str,
    ) -> Result<Option<crate::admin::ReviewItem>, BackendError> {
        Ok(self
            .review_queue(usize::MAX)
            .await?
            .into_iter()
            .find(|i| i.item == item))
    }

    async fn review_depth(&self) -> Result<crate::admin::ReviewDepth, BackendError> {
        let items = self.review_queue(usize::MAX).await?;
        Ok(crate::admin::ReviewDepth {
            items: items.len() as u64,
            oldest_at: items.iter().map(|i| i.at).min(),
        })
    }

    async fn resolve_review(
        &self,
        item: &str,
        _resolution: &str,
        audit: &crate::admin::NewAudit,
    ) -> Result<bool, BackendError> {
        let mut reviewed = lock(&self.reviewed);
        if reviewed.iter().any(|i| i == item) {
            return Ok(false);
        }
        reviewed.push(item.to_owned());
        self.append(audit);
        Ok(true)
    }

    async fn is_blocked(&self, key: &str) -> Result<bool, BackendError> {
        Ok(lock(&self.blocked).iter().any(|k| k == key))
    }

    async fn player_bests(&self, key: &str) -> Result<Vec<(BoardKey, Standing)>, BackendError> {
        let hidden = lock(&self.scores.players)
            .get(key)
            .is_none_or(|p| p.hidden_at.is_some());
        if hidden {
            return Ok(Vec::new());
        }
        let mut bests: BTreeMap<BoardKey, Standing> = BTreeMap::new();
        for r in lock(&self.scores.rows).iter() {
            if r.player_key != key || !takes_a_place(r.score) {
                continue;
            }
            for period in Period::ALL {
                let standing = standing_of(r);
                let board = BoardKey::current(&r.game, period, r.achieved_at);
                match bests.get(&board) {
                    Some(b) if !standing.beats(b) => {}
                    _ => {
                        bests.insert(board, standing);
                    }
                }
            }
        }
        Ok(bests.into_iter().collect())
    }

    async fn player_data(
        &self,
        key: &str,
    ) -> Result<Option<crate::player_data::PlayerData>, BackendError> {
        let Some(player) = lock(&self.scores.players).get(key).cloned() else {
            return Ok(None);
        };
        let scores = lock(&self.scores.rows)
            .iter()
            .filter(|r| r.player_key == key)
            .map(|r| crate::player_data::ExportedScore {
                row: r.clone(),
                seed: 0,
                inputs: Some(Vec::new()),
            })
            .collect();
        let reports = lock(&self.reports)
            .iter()
            .filter(|r| r.player_key == key)
            .map(|r| crate::player_data::ReportAbout {
                session_id: r.session_id,
                reason: r.reason.clone(),
                at: r.at,
            })
            .collect();
        Ok(Some(crate::player_data::PlayerData {
            player,
            scores,
            reports,
        }))
    }

    async fn erase_player(
        &self,
        erasure: &crate::player_data::Erasure,
        audit: &crate::admin::NewAudit,
        events: &[Event],
    ) -> Result<Option<crate::player_data::Erased>, BackendError> {
        let key = erasure.player_key.as_str();
        if lock(&self.scores.players).remove(key).is_none() {
            return Ok(None);
        }
        let mut rows = lock(&self.scores.rows);
        let before = rows.len();
        rows.retain(|r| r.player_key != key);
        let scores = (before - rows.len()) as u64;
        let mut reports = lock(&self.reports);
        let before = reports.len();
        reports.retain(|r| r.player_key != key);
        let reports = (before - reports.len()) as u64;
        for r in lock(&self.audit).iter_mut() {
            if r.target == format!("player:{key}") {
                r.target = erasure.reference.clone();
                r.before = None;
                r.after = None;
            }
        }
        if erasure.block_name.is_some() {
            lock(&self.blocked).push(key.to_owned());
        }
        self.append(audit);
        self.events.keep(events);
        Ok(Some(crate::player_data::Erased { scores, reports }))
    }

    async fn apply_retention(
        &self,
        _replays_before: Option<crate::time::Timestamp>,
        _history_before: Option<crate::time::Timestamp>,
    ) -> Result<Option<crate::retention::RetentionReport>, BackendError> {
        Ok(Some(crate::retention::RetentionReport::default()))
    }

    async fn audit_log(
        &self,
        before: Option<i64>,
        limit: usize,
    ) -> Result<Vec<crate::admin::AuditRecord>, BackendError> {
        Ok(lock(&self.audit)
            .iter()
            .rev()
            .filter(|r| before.is_none_or(|b| r.id < b))
            .take(limit)
            .cloned()
            .collect())
    }
}

/// Starts allowed while a client's count is under `allowed`; the keys asked for, in order.
struct Starts {
    allowed: usize,
    asked: Mutex<Vec<String>>,
}

impl Default for Starts {
    fn default() -> Self {
        Self {
            allowed: usize::MAX,
            asked: Mutex::default(),
        }
    }
}

#[async_trait]
impl RateLimit for Starts {
    async fn acquire(&self, client: &str) -> Result<Option<Duration>, BackendError> {
        let mut asked = lock(&self.asked);
        asked.push(client.to_owned());
        let count = asked.iter().filter(|k| *k == client).count();
        Ok((count > self.allowed).then_some(Duration::from_millis(1500)))
    }
}

/// The service on fresh doubles, with handles on each.
struct Harness {
    arcade: Arcade,
    scores: Arc<Scores>,
    sessions: Arc<Sessions>,
    ranks: Arc<Ranks>,
    events: Arc<Events>,
    seen: Arc<Seen>,
    clock: Arc<ManualClock>,
    starts: Arc<Starts>,
    admin: Arc<Admin>,
}

impl Harness {
    fn new() -> Self {
        Self::with_starts(Starts::default())
    }

    fn with_starts(starts: Starts) -> Self {
        let starts = Arc::new(starts);
        let scores = Arc::new(Scores::default());
        let sessions = Arc::new(Sessions::default());
        let ranks = Arc::new(Ranks::default());
        let events = Arc::new(Events::default());
        let seen = Arc::new(Seen::default());
        let clock = Arc::new(ManualClock::new(Timestamp(1_800_000_000_000)));
        let admin = Arc::new(Admin {
            scores: scores.clone(),
            events: events.clone(),
            ..Admin::default()
        });
        let names = Arc::new(Names {
            scores: scores.clone(),
            admin: admin.clone(),
            events: events.clone(),
            ..Names::default()
        });
        let seasons = Arc::new(Seasons {
            scores: scores.clone(),
            admin: admin.clone(),
            ..Seasons::default()
        });
        let arcade = Arcade::new(
            Ports {
                scores: scores.clone(),
                sessions: sessions.clone(),
                ranks: ranks.clone(),
                outbox: events.clone(),
                events: Arc::new(Bus),
                clock: clock.clone(),
                observer: seen.clone(),
                starts: starts.clone(),
                admin: admin.clone(),
                names,
                seasons,
            },
            PlayRules::default(),
            &SessionSecret::random(),
        );
        Self {
            arcade,
            scores,
            sessions,
            ranks,
            events,
            seen,
            clock,
            starts,
            admin,
        }
    }

    /// Start a game as `player`, claiming the name if it is free.
    fn start(&self, player: &str, token: Option<&str>) -> Result<Started, DomainError> {
        block_on(self.arcade.start(GAME, player, token))
    }

    /// Let the bot play the session at `skill` for five minutes at most, moving the clock as
    /// long as the game takes and sending a heartbeat whenever it waits for a window; the
    /// finish body (the inputs not sent yet, the last tick, the bot's score as the hint).
    fn play(&self, started: &Started, skill: u8) -> InputBatch {
        let start = arcade_games::bot(GAME).unwrap();
        self.play_with(started, &mut *start(started.window.seed, skill))
    }

    /// As [`Harness::play`], with a bot of the caller's.
    fn play_with(&self, started: &Started, bot: &mut dyn Bot) -> InputBatch {
        let id = started.session.id.to_string();
        let (mut sent, mut clock) = (0, 0);
        loop {
            bot.play_until(60 * 60 * 5);
            self.advance_ticks(bot.tick() - clock);
            clock = bot.tick();
            if bot.game_over() || bot.tick() >= 60 * 60 * 5 {
                break;
            }
            let ack = block_on(self.arcade.heartbeat(
                &id,
                InputBatch {
                    offset: sent,
                    inputs: bot.inputs()[sent..].to_vec(),
                    tick: bot.tick(),
                    score: None,
                    pauses: Vec::new(),
                },
                None,
            ))
            .unwrap();
            sent = ack.accepted_inputs;
            assert_eq!(ack.window.index, bot.revealed(), "the next window");
            bot.reveal(ack.window.seed);
        }
        let outcome = bot.outcome();
        InputBatch {
            offset: sent,
            inputs: bot.inputs()[sent..].to_vec(),
            tick: outcome.ticks,
            score: Some(outcome.score),
            pauses: Vec::new(),
        }
    }

    fn advance_ticks(&self, ticks: u32) {
        self.clock
            .advance(Duration::from_millis(u64::from(ticks) * 1000 / 60 + 1));
    }

    fn finish(&self, started: &Started, batch: InputBatch) -> Result<FinishReceipt, DomainError> {
        block_on(
            self.arcade
                .finish(&started.session.id.to_string(), batch, None),
        )
    }

    /// Start and finish a game by the bot at `skill`.
    fn played(&self, player: &str, skill: u8) -> FinishReceipt {
        let started = self.start(player, None).unwrap();
        let batch = self.play(&started, skill);
        self.finish(&started, batch).unwrap()
    }

    /// As [`Harness::played`], playing on with the name's token until a game scores: seeds
    /// come from a random secret, and a weak game may score nothing and stay off the boards.
    /// The receipt of the game that scored, the player's best.
    fn played_on_the_boards(&self, player: &str, skill: u8) -> FinishReceipt {
        let started = self.start(player, None).unwrap();
        let token = started.claimed_token.clone().unwrap();
        let batch = self.play(&started, skill);
        let mut receipt = self.finish(&started, batch).unwrap();
        for _ in 0..20 {
            if receipt.score > 0 {
                break;
            }
            let again = self.start(player, Some(&token)).unwrap();
            let batch = self.play(&again, skill);
            receipt = self.finish(&again, batch).unwrap();
        }
        assert!(receipt.score > 0, "{player} played a game that scores");
        receipt
    }

    /// The same harness with days and weeks of the time zone `zone`.
    fn in_zone(self, zone: &str) -> Self {
        Self {
            arcade: self
                .arcade
                .with_calendar(crate::time::Calendar::parse(zone).unwrap()),
            ..self
        }
    }

    fn board(&self, period: Period) -> Vec<(String, u64)> {
        let key = self
            .arcade
            .calendar()
            .board(GAME, period, self.arcade.now());
        block_on(self.ranks.page(&key, None, 100))
            .unwrap()
            .into_iter()
            .map(|r| (r.standing.player_name, r.rank))
            .collect()
    }
}

#[test]
fn starts_past_a_clients_allowance_are_refused_with_the_wait() {
    let h = Harness::with_starts(Starts {
        allowed: 2,
        ..Starts::default()
    });
    let ip: IpAddr = "203.0.113.9".parse().unwrap();
    block_on(h.arcade.admit_start(ip)).unwrap();
    block_on(h.arcade.admit_start(ip)).unwrap();
    let refused = block_on(h.arcade.admit_start(ip)).unwrap_err();
    assert!(
        matches!(refused, DomainError::RateLimited { retry_after } if retry_after == Duration::from_millis(1500)),
        "{refused:?}"
    );
    // Another client has its own allowance; IPv6 clients are counted by their /64.
    block_on(h.arcade.admit_start("2001:db8::1".parse().unwrap())).unwrap();
    block_on(h.arcade.admit_start("2001:db8::2".parse().unwrap())).unwrap();
    assert!(block_on(h.arcade.admit_start("2001:db8::3".parse().unwrap())).is_err());
    assert_eq!(
        lock(&h.starts.asked).last().map(String::as_str),
        Some("2001:db8::/64")
    );
}

#[test]
fn the_first_start_claims_the_name_and_issues_its_token_once() {
    let h = Harness::new();
    let first = h.start("Alice", None).unwrap();
    let token = first.claimed_token.expect("the first start issues a token");
    let key = PlayerName::parse("Alice").unwrap().key().to_owned();
    let stored = block_on(h.scores.find_player(&key)).unwrap().unwrap();
    assert_eq!(stored.name, "Alice");
    assert!(stored.token_digest.matches(&token));
    let again = h.start("alice", Some(&token)).unwrap();
    assert_eq!(again.claimed_token, None, "the token is shown once");
    assert_eq!(
        again.session.player_name, "Alice",
        "the claimed spelling stays"
    );
    assert_ne!(again.session.id, first.session.id);
    assert_eq!(h.seen.count("started egg-catcher"), 2);
    assert_eq!(
        h.events.kinds(),
        [(EventKind::SessionStarted, None, None); 2]
    );
}

#[test]
fn a_claimed_name_without_its_token_is_refused_and_starts_nothing() {
    let h = Harness::new();
    h.start("Bob", None).unwrap();
    for token in [None, Some("not the token")] {
        let refused = h.start("Bob", token).unwrap_err();
        assert!(
            matches!(refused, DomainError::NameTaken(ref n) if n == "Bob"),
            "{refused:?}"
        );
    }
    assert_eq!(lock(&h.sessions.0).len(), 1, "only the claiming start");
    assert_eq!(h.seen.count("started egg-catcher"), 1);
}

#[test]
fn a_heartbeat_ahead_of_the_clock_is_rejected_and_counted() {
    let h = Harness::new();
    let started = h.start("Cleo", None).unwrap();
    let id = started.session.id.to_string();
    h.clock.advance(Duration::from_secs(2));
    let on_pace = block_on(h.arcade.heartbeat(
        &id,
        InputBatch {
            offset: 0,
            inputs: vec![(10, 500).into()],
            tick: 120,
            score: None,
            pauses: Vec::new(),
        },
        None,
    ))
    .unwrap();
    assert_eq!(
        on_pace,
        HeartbeatAck {
            accepted_inputs: 1,
            tick: 120,
            window: started.window,
        }
    );
    // Ten seconds of ticks after two seconds.
    let ahead = block_on(h.arcade.heartbeat(
        &id,
        InputBatch {
            offset: 1,
            inputs: Vec::new(),
            tick: 600,
            score: None,
            pauses: Vec::new(),
        },
        None,
    ))
    .unwrap_err();
    match ahead {
        DomainError::Rejected { game, rejection } => {
            assert_eq!(
                (game.as_str(), rejection.reason.as_str()),
                (GAME, "too_fast")
            );
        }
        other => panic!("{other:?}"),
    }
    assert_eq!(h.seen.count("rejected egg-catcher too_fast"), 1);
    // The refused heartbeat changed nothing.
    let stored = block_on(h.sessions.get(started.session.id))
        .unwrap()
        .unwrap();
    assert_eq!((stored.input_count, stored.tick), (1, 120));
}

#[test]
fn a_repeated_finish_returns_the_first_answer_and_stores_one_score() {
    let h = Harness::new();
    let started = h.start("Dora", None).unwrap();
    let batch = h.play(&started, 80);
    let first = h.finish(&started, batch.clone()).unwrap();
    assert_eq!(Some(first.score), batch.score);
    assert!(first.score > 0, "the bot at skill 80 scores");
    assert_eq!(
        first.ranks,
        PeriodRanks {
            all: 1,
            day: 1,
            week: 1
        }
    );
    assert!(first.new_personal_best);
    h.clock.advance(Duration::from_secs(5));
    assert_eq!(h.finish(&started, batch.clone()).unwrap(), first);
    // Even with nothing sent again.
    assert_eq!(h.finish(&started, InputBatch::default()).unwrap(), first);
    assert_eq!(lock(&h.scores.rows).len(), 1);
    assert_eq!(
        h.seen.count(&format!("scored egg-catcher {}", first.score)),
        1
    );
    let scored = h
        .events
        .kinds()
        .into_iter()
        .filter(|(k, _, _)| *k == EventKind::ScoreSubmitted)
        .count();
    assert_eq!(scored, 1, "the score is announced once");
}

#[test]
fn a_rejected_replay_is_kept_and_given_again_without_storing_a_score() {
    let h = Harness::new();
    let started = h.start("Eli", None).unwrap();
    let honest = h.play(&started, 70);
    let claimed = honest.score.unwrap() + 10;
    let inflated = InputBatch {
        score: Some(claimed),
        ..honest.clone()
    };
    let refused = |r: Result<FinishReceipt, DomainError>| match r {
        Err(DomainError::Rejected { rejection, .. }) => rejection,
        other => panic!("{other:?}"),
    };
    let first = refused(h.finish(&started, inflated));
    assert_eq!(first.reason, "score_mismatch");
    // The honest score afterwards cannot replace the rejection.
    assert_eq!(refused(h.finish(&started, honest)), first);
    assert_eq!(h.seen.count("rejected egg-catcher score_mismatch"), 1);
    assert!(lock(&h.scores.rows).is_empty());
    assert!(h.board(Period::All).is_empty());
    let stored = block_on(h.sessions.get(started.session.id))
        .unwrap()
        .unwrap();
    assert_eq!(stored.finish, Some(FinishState::Rejected(first)));
}

#[test]
fn a_score_of_nothing_is_kept_but_takes_no_place() {
    let h = Harness::new();
    let started = h.start("Fern", None).unwrap();
    h.advance_ticks(1);
    let quit = InputBatch {
        offset: 0,
        inputs: Vec::new(),
        tick: 1,
        score: Some(0),
        pauses: Vec::new(),
    };
    let receipt = h.finish(&started, quit).unwrap();
    assert_eq!(receipt.score, 0);
    assert!(!takes_a_place(receipt.score));
    assert_eq!(receipt.ranks, PeriodRanks::default(), "on no board");
    assert_eq!(lock(&h.scores.rows).len(), 1, "in the history");
    for period in Period::ALL {
        assert!(h.board(period).is_empty(), "{period:?}");
    }
    assert!(
        !h.events
            .kinds()
            .iter()
            .any(|(k, _, _)| *k == EventKind::LeaderboardTop)
    );
}

#[test]
fn a_score_counts_on_its_local_day_whose_board_stays_readable_once_it_is_over() {
    let h = Harness::new().in_zone("America/New_York");
    // 2027-01-16T02:00Z is 21:00 on the 15th in New York.
    let evening = Timestamp(1_800_000_000_000 + 18 * 3_600_000);
    h.clock
        .advance(Duration::from_millis(evening.millis_since(h.arcade.now())));
    let played = h.played("Ivy", 80);
    let day = Period::Day.parse_bucket("2027-01-15").unwrap();
    let week = Period::Week.parse_bucket("2027-W02").unwrap();
    assert_eq!(played.ranks.day, 1);
    assert!(!h.arcade.is_finished(Period::Day, day).unwrap());
    // Past midnight in New York (05:00Z), the 15th is over and the 16th's board is empty.
    h.clock.advance(Duration::from_secs(4 * 3600));
    assert!(h.board(Period::Day).is_empty());
    assert_eq!(h.board(Period::Week), [("Ivy".to_owned(), 1)]);
    assert!(h.arcade.is_finished(Period::Day, day).unwrap());
    let limit = Limit::parse(Some(10)).unwrap();
    let page = block_on(
        h.arcade
            .finished_leaderboard(GAME, Period::Day, day, limit, None),
    )
    .unwrap();
    assert_eq!(page.bucket, day);
    assert_eq!(
        page.entries
            .iter()
            .map(|r| (r.standing.player_name.as_str(), r.rank, r.standing.score))
            .collect::<Vec<_>>(),
        [("Ivy", 1, u64::from(played.score))]
    );
    // The week goes on: it is read as the current board, not as a finished one.
    assert!(!h.arcade.is_finished(Period::Week, week).unwrap());
    assert!(matches!(
        block_on(
            h.arcade
                .finished_leaderboard(GAME, Period::Week, week, limit, None)
        ),
        Err(DomainError::InvalidQuery(_))
    ));
    // Nothing can be on a day still to come.
    let tomorrow = Period::Day.parse_bucket("2027-01-17").unwrap();
    assert!(matches!(
        h.arcade.is_finished(Period::Day, tomorrow),
        Err(DomainError::InvalidQuery(_))
    ));
}

#[test]
fn entering_a_top_ten_is_announced_per_board_and_only_then() {
    let h = Harness::new();
    h.played("Gil", 80);
    let tops: Vec<_> = h
        .events
        .kinds()
        .into_iter()
        .filter(|(k, _, _)| *k == EventKind::LeaderboardTop)
        .collect();
    assert_eq!(
        tops,
        Period::ALL.map(|p| (EventKind::LeaderboardTop, Some(p), Some(1)))
    );
    // Ten players far ahead on every board: the next newcomer lands 11th, out of the top.
    let now = h.arcade.now();
    for period in Period::ALL {
        let board = BoardKey::current(GAME, period, now);
        let better = (0..10).map(|i| Standing {
            score: 1_000_000 + i,
            achieved_at_ms: now.0,
            player_key: format!("pro{i}"),
            player_name: format!("Pro {i}"),
        });
        block_on(h.ranks.load(&board, better.collect())).unwrap();
    }
    lock(&h.events.added).clear();
    let eleventh = h.played("Hal", 80);
    assert_eq!(
        eleventh.ranks,
        PeriodRanks {
            all: 11,
            day: 11,
            week: 11
        }
    );
    assert_eq!(
        h.events.kinds(),
        [
            (EventKind::SessionStarted, None, None),
            (EventKind::ScoreSubmitted, None, Some(11)),
        ]
    );
}

#[test]
fn a_score_is_stored_with_its_event_held_and_the_finish_releases_it_with_its_rank() {
    let h = Harness::new();
    let receipt = h.played("Ivy", 80);
    let held = lock(&h.scores.held).clone();
    assert_eq!(held.len(), 1);
    assert_eq!(held[0].kind, EventKind::ScoreSubmitted);
    assert_eq!(
        held[0].rank, None,
        "the rank is not known when the score is stored"
    );
    let added = lock(&h.events.added).clone();
    let released = added.iter().find(|e| e.id == held[0].id).unwrap();
    assert_eq!(released.rank, Some(receipt.ranks.all));
    assert_eq!(released.score, Some(receipt.score));
}

#[test]
fn a_start_whose_event_cannot_be_stored_fails_and_claims_nothing() {
    let h = Harness::new();
    h.events.down.store(true, Ordering::SeqCst);
    let e = h.start("Ivo", None).unwrap_err();
    assert!(
        matches!(e, DomainError::Backend(ref b) if b.is_transient()),
        "{e:?}"
    );
    let key = PlayerName::parse("Ivo").unwrap().key().to_owned();
    assert!(
        block_on(h.scores.find_player(&key)).unwrap().is_none(),
        "the name stays free"
    );
    assert_eq!(h.seen.count("started egg-catcher"), 0);
}

#[test]
fn a_finish_whose_events_cannot_be_stored_fails_and_its_retry_announces_everything() {
    let h = Harness::new();
    let started = h.start("Ivy", None).unwrap();
    let batch = h.play(&started, 80);
    h.events.down.store(true, Ordering::SeqCst);
    let e = h.finish(&started, batch.clone()).unwrap_err();
    assert!(
        matches!(e, DomainError::Backend(ref b) if b.is_transient()),
        "{e:?}"
    );
    // The score is stored (with its event held); the answer waits for the events.
    assert_eq!(lock(&h.scores.rows).len(), 1);
    assert_eq!(lock(&h.scores.held).len(), 1);

    h.events.down.store(false, Ordering::SeqCst);
    let receipt = h.finish(&started, batch).unwrap();
    assert_eq!(receipt.ranks.all, 1);
    assert_eq!(lock(&h.scores.rows).len(), 1, "stored once");
    assert_eq!(
        h.events.kinds(),
        [
            (EventKind::SessionStarted, None, None),
            (EventKind::ScoreSubmitted, None, Some(1)),
            (EventKind::LeaderboardTop, Some(Period::All), Some(1)),
            (EventKind::LeaderboardTop, Some(Period::Day), Some(1)),
            (EventKind::LeaderboardTop, Some(Period::Week), Some(1)),
        ],
        "the retry finds its own standing on the boards and announces the top entries too"
    );
    assert_eq!(
        h.seen
            .count(&format!("scored egg-catcher {}", receipt.score)),
        1
    );
}

#[test]
fn a_finish_after_the_session_is_forgotten_answers_from_the_stored_score() {
    let h = Harness::new();
    let started = h.start("Jay", None).unwrap();
    let batch = h.play(&started, 80);
    let first = h.finish(&started, batch.clone()).unwrap();
    let rules = h.arcade.rules();
    h.clock.advance(rules.session_ttl + rules.retention);
    assert_eq!(block_on(h.arcade.purge_sessions()).unwrap(), 1);
    assert!(
        block_on(h.sessions.get(started.session.id))
            .unwrap()
            .is_none()
    );
    assert_eq!(h.finish(&started, batch).unwrap(), first);
    assert_eq!(lock(&h.scores.rows).len(), 1);
    // A session never stored, and never scored, is not found.
    let unknown = block_on(h.arcade.finish(
        &SessionId::random().to_string(),
        InputBatch::default(),
        None,
    ))
    .unwrap_err();
    assert!(
        matches!(unknown, DomainError::SessionNotFound(_)),
        "{unknown:?}"
    );
}

/// A script that reads the game and moves the basket under the egg landing soonest the moment
/// it can: perfect reactions.
struct Script {
    sim: arcade_games::egg_catcher::Sim,
    inputs: Vec<arcade_games::Input>,
}

impl Bot for Script {
    fn reveal(&mut self, seed: u32) {
        self.sim.reveal(seed);
    }
    fn revealed(&self) -> u32 {
        self.sim.revealed()
    }
    fn play_until(&mut self, until: u32) {
        while self.sim.tick() < until && !self.sim.game_over() && !self.sim.waiting() {
            let soonest = self
                .sim
                .eggs()
                .iter()
                .filter(|e| e.y < arcade_games::egg_catcher::CATCH_Y)
                .min_by_key(|e| (arcade_games::egg_catcher::CATCH_Y - e.y) / e.speed)
                .map(|e| e.x);
            if let Some(x) = soonest.filter(|&x| x != self.sim.target_x()) {
                self.sim.set_target(x);
                self.inputs.push((self.sim.tick(), x as u32).into());
            }
            self.sim.step();
        }
    }
    fn tick(&self) -> u32 {
        self.sim.tick()
    }
    fn game_over(&self) -> bool {
        self.sim.game_over()
    }
    fn inputs(&self) -> &[arcade_games::Input] {
        &self.inputs
    }
    fn outcome(&self) -> arcade_games::Outcome {
        self.sim.outcome()
    }
}

#[test]
fn a_score_beyond_human_reactions_is_stored_ranked_flagged_and_counted() {
    let h = Harness::new();
    let started = h.start("Kit", None).unwrap();
    let mut script = Script {
        sim: arcade_games::egg_catcher::Sim::new(started.window.seed),
        inputs: Vec::new(),
    };
    let batch = h.play_with(&started, &mut script);
    let receipt = h.finish(&started, batch).unwrap();
    assert_eq!(receipt.ranks.all, 1, "ranked as usual");
    let rows = lock(&h.scores.rows).clone();
    assert_eq!(rows[0].flags, ["fast_reactions"]);
    assert_eq!(h.seen.count("flagged egg-catcher fast_reactions"), 1);
    assert_eq!(h.board(Period::All), [("Kit".to_owned(), 1)]);
    // A bot that plays like a person is not flagged.
    h.played("Lou", 90);
    let rows = lock(&h.scores.rows).clone();
    assert!(rows[1].flags.is_empty(), "{:?}", rows[1].flags);
    assert_eq!(
        h.seen
            .lines()
            .iter()
            .filter(|l| l.starts_with("flagged"))
            .count(),
        1
    );
}

#[test]
fn a_client_given_only_the_first_window_cannot_play_past_it() {
    let h = Harness::new();
    let started = h.start("Max", None).unwrap();
    let start = arcade_games::bot(GAME).unwrap();
    let mut bot = start(started.window.seed, 90);
    bot.play_until(60 * 60);
    assert_eq!(
        bot.tick(),
        arcade_games::WINDOW_TICKS,
        "the bot waits for window 1"
    );
    // It asks with a heartbeat far from the window's end: nothing is revealed.
    let sent = bot.inputs().iter().filter(|i| i.tick < 200).count();
    h.advance_ticks(200);
    let early = block_on(h.arcade.heartbeat(
        &started.session.id.to_string(),
        InputBatch {
            inputs: bot.inputs()[..sent].to_vec(),
            tick: 200,
            ..InputBatch::default()
        },
        None,
    ))
    .unwrap();
    assert_eq!(early.window, started.window);
    // Claiming more ticks than window 0 holds, at any pace, is refused.
    h.advance_ticks(2_000);
    let refused = h
        .finish(
            &started,
            InputBatch {
                offset: sent,
                inputs: bot.inputs()[sent..].to_vec(),
                tick: arcade_games::WINDOW_TICKS + 1,
                ..InputBatch::default()
            },
        )
        .unwrap_err();
    match refused {
        DomainError::Rejected { rejection, .. } => {
            assert_eq!(rejection.reason, "window_not_revealed")
        }
        other => panic!("{other:?}"),
    }
}

#[test]
fn a_finish_later_than_its_ticks_is_taken_and_flagged() {
    let h = Harness::new();
    let started = h.start("Ned", None).unwrap();
    let batch = h.play(&started, 60);
    // The answer of the finish was lost; it comes back a minute later.
    h.clock.advance(Duration::from_secs(60));
    let receipt = h.finish(&started, batch).unwrap();
    assert!(receipt.score > 0);
    assert_eq!(lock(&h.scores.rows)[0].flags, ["late_finish"]);
    assert_eq!(h.seen.count("flagged egg-catcher late_finish"), 1);
}

// ------------------------------------------------------------------------------- operators

#[test]
fn an_operator_token_is_shown_once_stored_as_a_digest_and_opens_the_admin_api() {
    let h = Harness::new();
    let created = block_on(h.arcade.create_operator("ann", "cli:root")).unwrap();
    assert!(created.token.starts_with(crate::admin::TOKEN_PREFIX));
    let stored = lock(&h.admin.operators)[0].clone();
    assert_ne!(
        stored.token_digest.0.to_vec(),
        created.token.as_bytes().to_vec()
    );
    assert!(stored.token_digest.matches(&created.token));
    let who = block_on(h.arcade.authenticate_operator(&created.token)).unwrap();
    assert_eq!(who.name, "ann");
    assert_eq!(
        h.seen.count("admin token_created operator:ann by cli:root"),
        1
    );
    let log = block_on(h.arcade.audit_log(Limit::parse(None).unwrap(), None)).unwrap();
    assert_eq!(log.records.len(), 1);
    let record = &log.records[0];
    assert_eq!(record.action, "token_created");
    assert_eq!(record.actor, "cli:root");
    assert!(record.before.is_none());
    let after = record.after.as_ref().unwrap().to_string();
    assert!(after.contains("\"ann\""), "{after}");
    assert!(
        !after.contains(&created.token),
        "the token is never audited"
    );
}

/// An identity provider that vouches for one token, or cannot be reached while `down`.
struct Provider {
    valid: &'static str,
    down: AtomicBool,
}

#[async_trait]
impl crate::ports::OperatorIdentity for Provider {
    async fn verify(&self, token: &str) -> Result<Option<String>, BackendError> {
        if self.down.load(Ordering::SeqCst) {
            return Err(BackendError::unavailable("identity provider", "down"));
        }
        Ok((token == self.valid).then(|| "ann@example.org".to_owned()))
    }
}

#[test]
fn an_identity_providers_tokens_are_operators_under_its_name_and_its_outage_is_not_a_refusal() {
    let mut h = Harness::new();
    let provider = Arc::new(Provider {
        valid: "eyJh.eyJz.c2ln",
        down: AtomicBool::new(false),
    });
    h.arcade = h.arcade.with_operator_identity(provider.clone());
    let who = block_on(h.arcade.authenticate_operator("eyJh.eyJz.c2ln")).unwrap();
    assert_eq!(who.name, "oidc:ann@example.org");
    for bad in [
        "eyJh.eyJz.b3RoZXI",
        "eyJh.eyJz",
        "eyJh.ey Jz.c2ln",
        "not a token",
    ] {
        let e = block_on(h.arcade.authenticate_operator(bad)).unwrap_err();
        assert_eq!(e.code(), "operator_unauthorized", "{bad:?}");
    }
    let ann = block_on(h.arcade.create_operator("bob", "cli:root")).unwrap();
    provider.down.store(true, Ordering::SeqCst);
    let e = block_on(h.arcade.authenticate_operator("eyJh.eyJz.c2ln")).unwrap_err();
    assert!(
        matches!(e, DomainError::Backend(_)),
        "an unreachable provider is an outage: {e:?}"
    );
    let who = block_on(h.arcade.authenticate_operator(&ann.token)).unwrap();
    assert_eq!(
        who.name, "bob",
        "operators' own tokens work without the provider"
    );
}

#[test]
fn a_name_is_one_operator_and_anything_but_an_active_token_is_refused_alike() {
    let h = Harness::new();
    let ann = block_on(h.arcade.create_operator("ann", "cli:root")).unwrap();
    let again = block_on(h.arcade.create_operator("ann", "cli:root")).unwrap_err();
    assert_eq!(again.code(), "operator_exists");
    let player_token = crate::token::issue().token;
    for bad in [
        "",
        player_token.as_str(),
        crate::admin::TOKEN_PREFIX,
        "arcade_op_not-a-token-anyone-holds",
    ] {
        let e = block_on(h.arcade.authenticate_operator(bad)).unwrap_err();
        assert_eq!(e.code(), "operator_unauthorized", "{bad:?}");
    }
    block_on(
        h.arcade
            .revoke_operator("ann", "bob", Some("left the team")),
    )
    .unwrap();
    let e = block_on(h.arcade.authenticate_operator(&ann.token)).unwrap_err();
    assert_eq!(
        e.code(),
        "operator_unauthorized",
        "a revoked token opens nothing"
    );
    let e = block_on(h.arcade.revoke_operator("ann", "bob", None)).unwrap_err();
    assert_eq!(e.code(), "operator_not_found");
    let ops = block_on(h.arcade.operators()).unwrap();
    assert_eq!(ops.len(), 1);
    assert!(!ops[0].is_active(), "a revoked operator stays listed");
    let log = block_on(h.arcade.audit_log(Limit::parse(None).unwrap(), None)).unwrap();
    let revoked = &log.records[0];
    assert_eq!(revoked.action, "token_revoked");
    assert_eq!(revoked.reason.as_deref(), Some("left the team"));
    assert_eq!(revoked.actor, "bob");
}

#[test]
fn the_audit_log_pages_newest_first_with_its_own_cursor() {
    let h = Harness::new();
    for name in ["a", "b", "c", "d", "e"] {
        block_on(h.arcade.create_operator(name, "cli:root")).unwrap();
    }
    let two = Limit::parse(Some(2)).unwrap();
    let mut seen = Vec::new();
    let mut cursor = None;
    loop {
        let page = block_on(h.arcade.audit_log(two, cursor.as_deref())).unwrap();
        seen.extend(page.records.iter().map(|r| r.target.clone()));
        match page.next_cursor {
            Some(c) => cursor = Some(c),
            None => break,
        }
    }
    assert_eq!(
        seen,
        ["e", "d", "c", "b", "a"].map(|n| format!("operator:{n}"))
    );
    for bad in ["x", "a0", "a-3", "ab"] {
        let e = block_on(h.arcade.audit_log(two, Some(bad))).unwrap_err();
        assert_eq!(e.code(), "invalid_query", "{bad:?}");
    }
}

// ------------------------------------------------------------------------------- moderation

/// `player`'s rank on the current all-time board of the game, if they are on it.
fn all_time_rank(h: &Harness, player: &str) -> Option<u64> {
    let page =
        block_on(
            h.arcade
                .leaderboard(GAME, Period::All, Limit::parse(Some(100)).unwrap(), None),
        )
        .unwrap();
    page.entries
        .iter()
        .find(|r| r.standing.player_name == player)
        .map(|r| r.rank)
}

#[test]
fn a_hidden_player_leaves_the_boards_plays_unannounced_and_returns_when_shown() {
    let h = Harness::new();
    // Seeds come from a random secret, so a strong game may not beat a weak one: Hana plays
    // on until she leads Ivo.
    let rival_best = h.played_on_the_boards("Ivo", 30).score;
    let first = h.start("Hana", None).unwrap();
    let token = first.claimed_token.clone().unwrap();
    let batch = h.play(&first, 80);
    let mut scored = h.finish(&first, batch).unwrap().score;
    for _ in 0..20 {
        if scored > rival_best {
            break;
        }
        let again = h.start("Hana", Some(&token)).unwrap();
        let batch = h.play(&again, 90);
        scored = scored.max(h.finish(&again, batch).unwrap().score);
    }
    assert_eq!(all_time_rank(&h, "Hana"), Some(1));

    block_on(
        h.arcade
            .set_player_hidden("hana", true, "ann", Some("offensive name")),
    )
    .unwrap();
    assert_eq!(all_time_rank(&h, "Hana"), None, "off the board at once");
    assert_eq!(all_time_rank(&h, "Ivo"), Some(1));
    assert_eq!(h.seen.count("admin player_hidden player:hana by ann"), 1);
    // Hiding again changes and records nothing.
    block_on(h.arcade.set_player_hidden("Hana", true, "ann", None)).unwrap();
    assert_eq!(h.seen.count("admin player_hidden player:hana by ann"), 1);

    let events_before = h.events.kinds().len();
    let again = h.start("Hana", Some(&token)).unwrap();
    let batch = h.play(&again, 90);
    h.finish(&again, batch).unwrap();
    assert_eq!(
        all_time_rank(&h, "Hana"),
        None,
        "a hidden player's finish stays off"
    );
    let announced: Vec<_> = h.events.kinds()[events_before..]
        .iter()
        .filter(|(k, _, _)| *k != EventKind::SessionStarted)
        .cloned()
        .collect();
    assert!(announced.is_empty(), "{announced:?}");

    block_on(h.arcade.set_player_hidden("Hana", false, "bob", None)).unwrap();
    assert_eq!(all_time_rank(&h, "Hana"), Some(1), "back on the board");
    let best = block_on(h.arcade.player_standing(GAME, "Hana", Period::All))
        .unwrap()
        .best
        .unwrap();
    assert!(best.standing.score >= u64::from(scored));
    let log = block_on(h.arcade.audit_log(Limit::parse(None).unwrap(), None)).unwrap();
    let actions: Vec<_> = log.records.iter().map(|r| r.action.as_str()).collect();
    assert_eq!(actions, ["player_unhidden", "player_hidden"]);
    assert_eq!(log.records[1].reason.as_deref(), Some("offensive name"));
    assert!(log.records[1].before.as_ref().unwrap()["hidden_at"].is_null());
    assert!(log.records[1].after.as_ref().unwrap()["hidden_at"].is_string());
}

#[test]
fn a_banned_player_cannot_start_until_the_ban_is_lifted() {
    let h = Harness::new();
    let token = h.start("Bo", None).unwrap().claimed_token.unwrap();
    block_on(h.arcade.set_player_banned("Bo", true, "ann", Some("abuse"))).unwrap();
    let e = h.start("Bo", Some(&token)).unwrap_err();
    assert_eq!(e.code(), "player_banned");
    let e = h.start("Bo", Some("a wrong token")).unwrap_err();
    assert_eq!(
        e.code(),
        "player_token_invalid",
        "no hint of the ban to others"
    );
    block_on(h.arcade.set_player_banned("Bo", false, "ann", None)).unwrap();
    h.start("Bo", Some(&token)).unwrap();
    let e = block_on(h.arcade.set_player_banned("Nobody", true, "ann", None)).unwrap_err();
    assert_eq!(e.code(), "player_not_found");
}

#[test]
fn removing_a_score_needs_a_reason_and_the_next_best_takes_its_place() {
    let h = Harness::new();
    let first = h.start("Remy", None).unwrap();
    let token = first.claimed_token.clone().unwrap();
    let batch = h.play(&first, 20);
    let mut low = h.finish(&first, batch).unwrap();
    // Seeds come from a random secret: a weak game may score nothing (and stay off the
    // boards), a strong one may not beat it. Play on until each is what the test needs; the
    // games between score no more than the low one, so it stays the next best.
    for _ in 0..20 {
        if low.score > 0 {
            break;
        }
        let again = h.start("Remy", Some(&token)).unwrap();
        let batch = h.play(&again, 40);
        low = h.finish(&again, batch).unwrap();
    }
    assert!(low.score > 0, "a game that scores");
    let mut high = None;
    for _ in 0..20 {
        let next = h.start("Remy", Some(&token)).unwrap();
        let batch = h.play(&next, 90);
        let scored = h.finish(&next, batch).unwrap();
        if scored.score > low.score {
            high = Some(scored);
            break;
        }
    }
    let high = high.expect("a game that beats the first");
    let id = high.session_id.to_string();
    let e = block_on(h.arcade.remove_score(&id, "ann", None)).unwrap_err();
    assert_eq!(e.code(), "invalid_reason");
    block_on(h.arcade.remove_score(&id, "ann", Some("replayed a bot"))).unwrap();
    let best = block_on(h.arcade.player_standing(GAME, "Remy", Period::All))
        .unwrap()
        .best
        .unwrap();
    assert_eq!(best.standing.score, u64::from(low.score));
    let e = block_on(h.arcade.remove_score(&id, "ann", Some("again"))).unwrap_err();
    assert_eq!(e.code(), "score_not_found");
    let removed = h
        .events
        .kinds()
        .into_iter()
        .filter(|(k, _, _)| *k == EventKind::ScoreRemoved)
        .count();
    assert_eq!(removed, 1, "every replica is told");
    let log = block_on(h.arcade.audit_log(Limit::parse(None).unwrap(), None)).unwrap();
    assert_eq!(log.records[0].action, "score_removed");
    assert_eq!(log.records[0].target, format!("score:{id}"));
    assert_eq!(
        log.records[0].before.as_ref().unwrap()["score"],
        serde_json::json!(high.score)
    );
}

#[test]
fn a_renamed_player_keeps_their_token_and_place_and_the_old_name_can_be_blocked() {
    let h = Harness::new();
    let started = h.start("Rudename", None).unwrap();
    let token = started.claimed_token.clone().unwrap();
    let batch = h.play(&started, 80);
    h.finish(&started, batch).unwrap();
    let taken = h.start("Other", None).unwrap();
    let e = block_on(
        h.arcade
            .rename_player("Rudename", "other", false, "ann", None),
    )
    .unwrap_err();
    assert_eq!(e.code(), "name_unavailable");
    drop(taken);

    block_on(
        h.arcade
            .rename_player("rudename", "Polite", true, "ann", Some("rude")),
    )
    .unwrap();
    assert_eq!(all_time_rank(&h, "Polite"), Some(1));
    assert_eq!(all_time_rank(&h, "Rudename"), None);
    h.start("Polite", Some(&token)).unwrap();
    let e = h.start("RUDENAME", None).unwrap_err();
    assert_eq!(e.code(), "name_unavailable", "the old name is blocked");
    let log = block_on(h.arcade.audit_log(Limit::parse(None).unwrap(), None)).unwrap();
    assert_eq!(log.records[0].action, "player_renamed");
    assert_eq!(
        log.records[0].after.as_ref().unwrap()["old_name_blocked"],
        true
    );

    block_on(h.arcade.rename_player("Polite", "Kind", false, "ann", None)).unwrap();
    h.start("Polite", None)
        .expect("an old name not blocked is free again");
}

impl Harness {
    /// The session store restarting empty.
    fn lose_sessions(&self) {
        lock(&self.sessions.0).clear();
    }

    /// As [`Harness::play`] with the ticket sent along, the store losing every session after
    /// `lose_after` heartbeats: the heartbeat that finds its session lost is told so, and the
    /// next sends every input from offset 0, which puts the session back.
    fn play_losing_the_store(&self, started: &Started, skill: u8, lose_after: usize) -> InputBatch {
        let id = started.session.id.to_string();
        let start = arcade_games::bot(GAME).unwrap();
        let mut bot = start(started.window.seed, skill);
        let (mut sent, mut clock, mut beats) = (0, 0, 0);
        loop {
            bot.play_until(60 * 60 * 5);
            self.advance_ticks(bot.tick() - clock);
            clock = bot.tick();
            if bot.game_over() || bot.tick() >= 60 * 60 * 5 {
                break;
            }
            beats += 1;
            if beats == lose_after {
                self.lose_sessions();
            }
            let beat = |offset: usize| {
                block_on(self.arcade.heartbeat(
                    &id,
                    InputBatch {
                        offset,
                        inputs: bot.inputs()[offset..].to_vec(),
                        tick: bot.tick(),
                        score: None,
                        pauses: Vec::new(),
                    },
                    Some(&started.ticket),
                ))
            };
            let ack = match beat(sent) {
                Err(DomainError::SessionLost(_)) => {
                    assert_eq!(beats, lose_after, "lost only once");
                    beat(0).unwrap()
                }
                other => other.unwrap(),
            };
            sent = ack.accepted_inputs;
            assert_eq!(ack.window.index, bot.revealed(), "the next window");
            bot.reveal(ack.window.seed);
        }
        let outcome = bot.outcome();
        InputBatch {
            offset: 0,
            inputs: bot.inputs().to_vec(),
            tick: outcome.ticks,
            score: Some(outcome.score),
            pauses: Vec::new(),
        }
    }

    fn finish_with_ticket(
        &self,
        started: &Started,
        batch: InputBatch,
    ) -> Result<FinishReceipt, DomainError> {
        block_on(self.arcade.finish(
            &started.session.id.to_string(),
            batch,
            Some(&started.ticket),
        ))
    }
}

#[test]
fn a_game_whose_session_the_store_lost_goes_on_from_its_ticket() {
    let h = Harness::new();
    let started = h.start("Kim", None).unwrap();
    let batch = h.play_losing_the_store(&started, 80, 3);
    let score = batch.score.unwrap();
    assert!(
        batch.tick > 3 * arcade_games::WINDOW_TICKS,
        "played on past the loss"
    );
    let receipt = h.finish_with_ticket(&started, batch.clone()).unwrap();
    assert_eq!(receipt.score, score);
    assert_eq!(receipt.player, "Kim");
    assert_eq!(lock(&h.scores.rows)[0].score, score);
    assert_eq!(h.seen.count("started egg-catcher"), 1);
    assert_eq!(h.seen.count("resumed egg-catcher"), 1);
    assert_eq!(h.seen.count(&format!("scored egg-catcher {score}")), 1);
}

#[test]
fn a_lost_session_finishes_once_from_its_ticket_and_every_input() {
    let h = Harness::new();
    let started = h.start("Lou", None).unwrap();
    let last = h.play(&started, 80);
    assert!(last.offset > 0, "heartbeats sent some inputs");
    let mut inputs = block_on(h.sessions.inputs(started.session.id, usize::MAX)).unwrap();
    inputs.extend_from_slice(&last.inputs);
    // Everything sent so far is gone.
    h.lose_sessions();
    let without_ticket = h.finish(&started, last.clone()).unwrap_err();
    assert!(matches!(without_ticket, DomainError::SessionNotFound(_)));
    let lost = h.finish_with_ticket(&started, last.clone()).unwrap_err();
    assert!(matches!(lost, DomainError::SessionLost(_)), "{lost:?}");
    let stored = block_on(h.sessions.get(started.session.id)).unwrap();
    assert!(stored.is_none(), "a refused resume stores nothing");
    // The finish brings every input.
    let all = InputBatch {
        offset: 0,
        inputs,
        ..last
    };
    let first = h.finish_with_ticket(&started, all.clone()).unwrap();
    assert_eq!((first.ticks, first.score), (all.tick, all.score.unwrap()));
    // Replayed: the same answer, one score; and so once more after another loss.
    assert_eq!(h.finish_with_ticket(&started, all.clone()).unwrap(), first);
    h.lose_sessions();
    assert_eq!(h.finish_with_ticket(&started, all).unwrap(), first);
    assert_eq!(lock(&h.scores.rows).len(), 1);
}

#[test]
fn a_ticket_proves_only_its_own_session_and_not_past_its_expiry() {
    let h = Harness::new();
    let a = h.start("Max", None).unwrap();
    let b = h.start("Ned", None).unwrap();
    h.lose_sessions();
    let empty = InputBatch::default();
    let beat = |id: &Started, ticket: &str| {
        block_on(
            h.arcade
                .heartbeat(&id.session.id.to_string(), empty.clone(), Some(ticket)),
        )
    };
    // Another session's ticket, a forged one, one of another arcade.
    assert!(matches!(
        beat(&a, &b.ticket),
        Err(DomainError::TicketInvalid(_))
    ));
    let (signed, _) = a.ticket.rsplit_once('.').unwrap();
    assert!(matches!(
        beat(&a, &format!("{signed}.AAAA")),
        Err(DomainError::TicketInvalid(_))
    ));
    let elsewhere = Harness::new().start("Max", None).unwrap();
    assert!(matches!(
        beat(&elsewhere, &elsewhere.ticket),
        Err(DomainError::TicketInvalid(_))
    ));
    // Its own: the session is back, with nothing played.
    let ack = beat(&a, &a.ticket).unwrap();
    assert_eq!((ack.accepted_inputs, ack.tick), (0, 0));
    assert_eq!(ack.window, a.window);
    // Past the session's expiry the ticket is worth nothing.
    h.lose_sessions();
    h.clock.advance(h.arcade.rules().session_ttl);
    assert!(matches!(
        beat(&a, &a.ticket),
        Err(DomainError::SessionExpired(_))
    ));
}

#[test]
fn a_resumed_game_is_held_to_the_clock_of_its_ticket() {
    let h = Harness::new();
    let started = h.start("Oz", None).unwrap();
    h.lose_sessions();
    h.clock.advance(Duration::from_secs(2));
    // Two seconds after the start, ten seconds of ticks: too fast, however it comes.
    let ahead = InputBatch {
        offset: 0,
        inputs: vec![(10, 500).into()],
        tick: 600,
        score: None,
        pauses: Vec::new(),
    };
    let refused = block_on(h.arcade.heartbeat(
        &started.session.id.to_string(),
        ahead.clone(),
        Some(&started.ticket),
    ))
    .unwrap_err();
    assert!(
        matches!(&refused, DomainError::Rejected { rejection, .. } if rejection.reason == "too_fast"),
        "{refused:?}"
    );
    // A refused heartbeat puts nothing back; a refused finish ends the session as rejected.
    assert!(
        block_on(h.sessions.get(started.session.id))
            .unwrap()
            .is_none()
    );
    let finish = h.finish_with_ticket(&started, ahead.clone()).unwrap_err();
    assert!(
        matches!(&finish, DomainError::Rejected { rejection, .. } if rejection.reason == "too_fast")
    );
    let ended = block_on(h.sessions.get(started.session.id))
        .unwrap()
        .unwrap();
    assert!(matches!(ended.finish, Some(FinishState::Rejected(_))));
    let honest = InputBatch { tick: 120, ..ahead };
    let again = h.finish_with_ticket(&started, honest).unwrap_err();
    assert_eq!(
        again.to_string(),
        finish.to_string(),
        "the first answer stays"
    );
    assert!(lock(&h.scores.rows).is_empty());
    // A heartbeat that falls behind the clock is refused too (a finish only flagged).
    let late = h.start("Pat", None).unwrap();
    h.lose_sessions();
    h.clock.advance(Duration::from_secs(30));
    let slow = block_on(h.arcade.heartbeat(
        &late.session.id.to_string(),
        InputBatch {
            offset: 0,
            inputs: Vec::new(),
            tick: 60,
            score: None,
            pauses: Vec::new(),
        },
        Some(&late.ticket),
    ))
    .unwrap_err();
    assert!(
        matches!(&slow, DomainError::Rejected { rejection, .. } if rejection.reason == "too_slow"),
        "{slow:?}"
    );
}

#[test]
fn a_score_is_reported_as_a_board_shows_it() {
    let h = Harness::new();
    let started = h.start("Shown", None).unwrap();
    let batch = h.play(&started, 80);
    let receipt = h.finish(&started, batch).unwrap();
    h.clock.advance(Duration::from_secs(5));
    let token = started.claimed_token.clone().expect("a claimed name");
    let later = h.start("Shown", Some(&token)).unwrap();
    let batch = h.play(&later, 80);
    h.finish(&later, batch).unwrap();
    let at = receipt.achieved_at.to_rfc3339();
    let at = at.as_str();
    let shown = |score: u64, achieved_at| ShownScore {
        game: GAME,
        score,
        achieved_at,
    };
    let score = u64::from(receipt.score);
    block_on(h.arcade.report("shown", None, Some(shown(score, at)), None)).unwrap();
    let id = receipt.session_id.to_string();
    block_on(
        h.arcade
            .report("shown", Some(&id), Some(shown(score, at)), None),
    )
    .unwrap();
    let queue = block_on(h.arcade.review_queue(Limit::parse(None).unwrap())).unwrap();
    assert_eq!(queue.len(), 2, "{queue:?}");
    assert_eq!(
        queue[0].session_id,
        Some(receipt.session_id),
        "the earlier score, not the later one"
    );
    let e = block_on(
        h.arcade
            .report("shown", None, Some(shown(score + 1, at)), None),
    )
    .unwrap_err();
    assert_eq!(e.code(), "score_not_found");
    let e = block_on(
        h.arcade
            .report("shown", None, Some(shown(score, "yesterday")), None),
    )
    .unwrap_err();
    assert_eq!(e.code(), "invalid_report");
    let other = later.session.id.to_string();
    let e = block_on(
        h.arcade
            .report("shown", Some(&other), Some(shown(score, at)), None),
    )
    .unwrap_err();
    assert_eq!(e.code(), "score_not_found", "two names of two scores");
}

#[test]
fn reports_and_flagged_scores_wait_in_the_queue_until_resolved() {
    let h = Harness::new();
    let started = h.start("Sus", None).unwrap();
    let batch = h.play(&started, 80);
    let receipt = h.finish(&started, batch).unwrap();
    lock(&h.scores.rows)[0].flags = vec!["fast_reactions".to_owned()];
    let id = receipt.session_id.to_string();
    let e = block_on(h.arcade.report("Nobody", None, None, None)).unwrap_err();
    assert_eq!(e.code(), "player_not_found");
    h.clock.advance(Duration::from_secs(1));
    block_on(h.arcade.report("sus", Some(&id), None, Some("too good"))).unwrap();
    h.clock.advance(Duration::from_secs(1));
    block_on(h.arcade.report("Sus", None, None, Some("rude name"))).unwrap();
    let all = Limit::parse(None).unwrap();
    let queue = block_on(h.arcade.review_queue(all)).unwrap();
    assert_eq!(queue.len(), 3, "{queue:?}");
    assert_eq!(queue[0].item, format!("score:{id}"), "oldest first");
    let depth = block_on(h.arcade.review_depth()).unwrap();
    assert_eq!(depth.items, 3);
    assert_eq!(depth.oldest_at, Some(receipt.achieved_at));

    let dismissed = &queue[2].item;
    block_on(
        h.arcade
            .resolve_review(dismissed, Resolution::Dismiss, "ann", None),
    )
    .unwrap();
    let e = block_on(
        h.arcade
            .resolve_review(dismissed, Resolution::Dismiss, "ann", None),
    )
    .unwrap_err();
    assert_eq!(e.code(), "review_item_not_found");
    let flagged = format!("score:{id}");
    block_on(
        h.arcade
            .resolve_review(&flagged, Resolution::RemoveScore, "ann", None),
    )
    .unwrap();
    assert_eq!(
        all_time_rank(&h, "Sus"),
        None,
        "the score is gone from the board"
    );
    // The report about the same score no longer names a score, and is resolved all the same.
    let left = block_on(h.arcade.review_queue(all)).unwrap();
    assert_eq!(left.len(), 1);
    block_on(
        h.arcade
            .resolve_review(&left[0].item, Resolution::HidePlayer, "ann", None),
    )
    .unwrap();
    assert_eq!(block_on(h.arcade.review_depth()).unwrap().items, 0);
    let log = block_on(h.arcade.audit_log(Limit::parse(Some(100)).unwrap(), None)).unwrap();
    let actions: Vec<_> = log.records.iter().map(|r| r.action.as_str()).collect();
    assert_eq!(
        actions,
        [
            "review_resolved",
            "player_hidden",
            "review_resolved",
            "score_removed",
            "review_resolved"
        ]
    );
}

#[test]
fn a_name_the_deny_list_matches_cannot_be_claimed_in_any_spelling() {
    let h = Harness::new();
    let rule = block_on(h.arcade.add_name_rule(
        crate::name_rules::RuleKind::Word,
        "rude",
        "ann",
        Some("slur"),
    ))
    .unwrap();
    for name in ["Rude", "RUDE_boy", "xRuDex", "r u d e"] {
        let e = h.start(name, None).unwrap_err();
        assert_eq!(e.code(), "name_denied", "{name}");
        assert!(!e.to_string().contains("rule"), "{e}");
    }
    h.start("Ruby", None).unwrap();
    assert_eq!(
        h.seen.count(&format!(
            "admin name_rule_added name_rule:{} by ann",
            rule.id
        )),
        1
    );
    let log = block_on(h.arcade.audit_log(Limit::parse(None).unwrap(), None)).unwrap();
    assert_eq!(log.records[0].action, "name_rule_added");
    assert_eq!(log.records[0].reason.as_deref(), Some("slur"));
    assert_eq!(log.records[0].after.as_ref().unwrap()["value"], "rude");
    assert!(
        h.events
            .kinds()
            .iter()
            .any(|(k, _, _)| *k == EventKind::NameRulesChanged)
    );
}

#[test]
fn a_player_who_had_the_name_first_plays_on_and_a_check_finds_them() {
    let h = Harness::new();
    let started = h.start("Spammer", None).unwrap();
    let token = started.claimed_token.unwrap();
    h.start("Alice", None).unwrap();
    h.start("Spam King", None).unwrap();
    let rule = block_on(h.arcade.add_name_rule(
        crate::name_rules::RuleKind::Pattern,
        "^spam",
        "ann",
        None,
    ))
    .unwrap();
    h.start("Spammer", Some(&token)).unwrap();
    let page = block_on(h.arcade.check_names(Limit::parse(Some(1)).unwrap(), None)).unwrap();
    assert_eq!(page.matches.len(), 1);
    assert_eq!(page.matches[0].rule, rule.id);
    let cursor = page.next_cursor.expect("more to check");
    let rest = block_on(
        h.arcade
            .check_names(Limit::parse(Some(10)).unwrap(), Some(&cursor)),
    )
    .unwrap();
    let mut names: Vec<_> = page
        .matches
        .iter()
        .chain(&rest.matches)
        .map(|m| m.player.name.clone())
        .collect();
    names.sort();
    assert_eq!(names, ["Spam King", "Spammer"]);
    assert!(rest.next_cursor.is_none());
    let e = block_on(
        h.arcade
            .check_names(Limit::parse(None).unwrap(), Some("not base64!")),
    )
    .unwrap_err();
    assert_eq!(e.code(), "invalid_query");
}

#[test]
fn rules_are_added_once_and_removed_with_their_record() {
    let h = Harness::new();
    let word = crate::name_rules::RuleKind::Word;
    let rule = block_on(h.arcade.add_name_rule(word, "Boo", "ann", None)).unwrap();
    // The same word in another spelling is the same rule.
    let e = block_on(h.arcade.add_name_rule(word, "B00", "ann", None)).unwrap_err();
    assert_eq!(e.code(), "name_rule_exists");
    let e = block_on(h.arcade.add_name_rule(word, "a.b", "ann", None)).unwrap_err();
    assert_eq!(e.code(), "invalid_name_rule");
    assert_eq!(h.start("Boom", None).unwrap_err().code(), "name_denied");
    block_on(h.arcade.remove_name_rule(rule.id, "bob", Some("too broad"))).unwrap();
    h.start("Boom", None).unwrap();
    let e = block_on(h.arcade.remove_name_rule(rule.id, "bob", None)).unwrap_err();
    assert_eq!(e.code(), "name_rule_not_found");
    assert!(block_on(h.arcade.name_rules()).unwrap().is_empty());
    let log = block_on(h.arcade.audit_log(Limit::parse(None).unwrap(), None)).unwrap();
    assert_eq!(log.records[0].action, "name_rule_removed");
    assert_eq!(log.records[0].actor, "bob");
    assert_eq!(log.records[0].target, format!("name_rule:{}", rule.id));
    assert_eq!(log.records[0].before.as_ref().unwrap()["value"], "Boo");
    assert_eq!(log.records.len(), 2, "refused changes leave no record");
}

#[test]
fn a_replica_refuses_a_rule_of_another_once_it_reloads() {
    let h = Harness::new();
    // Another replica (or the command line) stored a rule: this one knows it after a reload.
    block_on(h.arcade.ports().names.add_name_rule(
        &crate::name_rules::NewNameRule {
            kind: crate::name_rules::RuleKind::Word,
            value: "elsewhere".to_owned(),
            folded: "elsewhere".to_owned(),
            created_at: h.arcade.now(),
            created_by: "cli:root".to_owned(),
        },
        &|r| crate::admin::NewAudit {
            at: r.created_at,
            actor: r.created_by.clone(),
            action: crate::admin::AdminAction::NameRuleAdded,
            target: format!("name_rule:{}", r.id),
            reason: None,
            before: None,
            after: None,
        },
        &[],
    ))
    .unwrap();
    h.start("Elsewhere1", None).unwrap();
    let reloaded = block_on(h.arcade.reload_name_rules()).unwrap();
    assert_eq!(reloaded.rules, 1);
    assert!(reloaded.refused.is_empty());
    assert_eq!(
        h.start("Elsewhere2", None).unwrap_err().code(),
        "name_denied"
    );
}

#[test]
fn a_player_with_their_token_exports_their_data_and_others_cannot() {
    let h = Harness::new();
    let started = h.start("Esme", None).unwrap();
    let token = started.claimed_token.clone().unwrap();
    let batch = h.play(&started, 40);
    let scored = h.finish(&started, batch).unwrap();
    let data = block_on(h.arcade.export_own_data("esme", Some(&token))).unwrap();
    assert_eq!(data.player.name, "Esme");
    assert_eq!(data.scores.len(), 1);
    assert_eq!(data.scores[0].row.session_id, scored.session_id);
    for wrong in [None, Some("not the token")] {
        let e = block_on(h.arcade.export_own_data("Esme", wrong)).unwrap_err();
        assert_eq!(e.code(), "player_token_invalid");
    }
    let e = block_on(h.arcade.export_own_data("Nobody", Some(&token))).unwrap_err();
    assert_eq!(e.code(), "player_not_found");
    assert_eq!(
        block_on(h.arcade.export_player("Esme")).unwrap(),
        data,
        "an operator sees the same"
    );
}

#[test]
fn an_erased_player_leaves_the_boards_and_their_sessions_and_the_name_is_free() {
    let h = Harness::new();
    let started = h.start("Eric", None).unwrap();
    let token = started.claimed_token.clone().unwrap();
    let batch = h.play(&started, 40);
    h.finish(&started, batch).unwrap();
    let playing = h.start("Eric", Some(&token)).unwrap();
    block_on(
        h.arcade
            .set_player_hidden("Eric", true, "ann", Some("rude")),
    )
    .unwrap();
    block_on(h.arcade.set_player_hidden("Eric", false, "ann", None)).unwrap();
    assert_eq!(all_time_rank(&h, "Eric"), Some(1));

    let e = block_on(h.arcade.erase_own_data("Eric", Some("a wrong token"))).unwrap_err();
    assert_eq!(e.code(), "player_token_invalid");
    let receipt = block_on(h.arcade.erase_own_data("Eric", Some(&token))).unwrap();
    assert_eq!(receipt.erased.scores, 1);
    assert!(!receipt.name_blocked);
    assert!(receipt.reference.starts_with("erasure:"));
    assert_eq!(all_time_rank(&h, "Eric"), None);
    assert!(
        block_on(h.sessions.get(playing.session.id))
            .unwrap()
            .is_none(),
        "the game in progress is forgotten"
    );
    let e = block_on(h.arcade.export_player("Eric")).unwrap_err();
    assert_eq!(e.code(), "player_not_found");
    let deleted = h
        .events
        .kinds()
        .into_iter()
        .filter(|(k, _, _)| *k == EventKind::PlayerDeleted)
        .count();
    assert_eq!(deleted, h.arcade.games().len(), "every replica is told");
    let log = block_on(h.arcade.audit_log(Limit::parse(None).unwrap(), None)).unwrap();
    assert_eq!(log.records[0].action, "player_erased");
    assert_eq!(log.records[0].actor, crate::service::PLAYER_ACTOR);
    assert!(
        log.records.iter().all(|r| !r.target.contains("eric")
            && r.before.is_none()
            && r.after
                .as_ref()
                .is_none_or(|a| !a.to_string().contains("Eric"))),
        "nothing of the name stays in the log: {:?}",
        log.records
    );
    let again = h.start("Eric", None).unwrap();
    assert!(again.claimed_token.is_some(), "anyone may claim the name");
}

#[test]
fn an_operator_erasing_a_player_gives_a_reason_and_may_block_the_name() {
    let h = Harness::new();
    h.start("Blocky", None).unwrap();
    let e = block_on(h.arcade.erase_player("Blocky", true, "ann", None)).unwrap_err();
    assert_eq!(e.code(), "invalid_reason");
    let receipt = block_on(
        h.arcade
            .erase_player("Blocky", true, "ann", Some("asked by mail")),
    )
    .unwrap();
    assert!(receipt.name_blocked);
    let e = h.start("Blocky", None).unwrap_err();
    assert_eq!(e.code(), "name_unavailable");
    let e = block_on(h.arcade.erase_player("Blocky", false, "ann", Some("again"))).unwrap_err();
    assert_eq!(e.code(), "player_not_found");
}

#[test]
fn a_game_of_an_erased_player_does_not_finish_from_its_ticket_even_under_the_name_claimed_again() {
    let h = Harness::new();
    let started = h.start("Gone", None).unwrap();
    let token = started.claimed_token.clone().unwrap();
    let batch = h.play_losing_the_store(&started, 80, usize::MAX);
    block_on(h.arcade.erase_own_data("Gone", Some(&token))).unwrap();
    let e = h.finish_with_ticket(&started, batch.clone()).unwrap_err();
    assert!(matches!(e, DomainError::SessionNotFound(_)), "{e:?}");
    h.start("Gone", None).unwrap();
    let e = h.finish_with_ticket(&started, batch).unwrap_err();
    assert!(matches!(e, DomainError::SessionNotFound(_)), "{e:?}");
    assert!(lock(&h.scores.rows).is_empty(), "no score comes back");
}

fn season_board(h: &Harness, slug: &str) -> Vec<(String, u64)> {
    let page =
        block_on(
            h.arcade
                .season_leaderboard(GAME, slug, Limit::parse(Some(100)).unwrap(), None),
        )
        .unwrap();
    page.entries
        .into_iter()
        .map(|r| (r.standing.player_name, r.rank))
        .collect()
}

#[test]
fn a_season_ranks_the_bests_played_within_it_and_is_audited() {
    let h = Harness::new();
    let t0 = h.arcade.now();
    h.played("Early", 80);
    let start = h.arcade.now().plus(Duration::from_secs(60));
    let end = start.plus(Duration::from_secs(3600));
    let added = block_on(
        h.arcade
            .add_season("s1", "Season one", start, end, "ann", None),
    )
    .unwrap();
    assert_eq!(
        (added.slug.as_str(), added.created_at),
        ("s1", h.arcade.now())
    );
    assert!(added.created_at > t0);
    assert!(
        season_board(&h, "s1").is_empty(),
        "nothing played within it yet"
    );
    h.clock.advance(Duration::from_secs(120));
    h.played_on_the_boards("Inside", 30);
    h.played("Rival", 60);
    let page =
        block_on(
            h.arcade
                .season_leaderboard(GAME, "s1", Limit::parse(Some(1)).unwrap(), None),
        )
        .unwrap();
    assert!(!page.finished);
    assert_eq!(page.entries.len(), 1);
    let next = block_on(h.arcade.season_leaderboard(
        GAME,
        "s1",
        Limit::parse(Some(1)).unwrap(),
        page.next_cursor.as_deref(),
    ))
    .unwrap();
    assert_eq!(next.entries[0].rank, 2);
    assert_eq!(next.next_cursor, None);
    let names: Vec<_> = season_board(&h, "s1").into_iter().map(|(n, _)| n).collect();
    assert!(names.contains(&"Inside".to_owned()) && names.contains(&"Rival".to_owned()));
    assert!(
        !names.contains(&"Early".to_owned()),
        "played before it: {names:?}"
    );

    h.clock.advance(Duration::from_secs(3600));
    h.played("Late", 90);
    let page =
        block_on(
            h.arcade
                .season_leaderboard(GAME, "s1", Limit::parse(Some(10)).unwrap(), None),
        )
        .unwrap();
    assert!(page.finished);
    assert_eq!(page.entries.len(), 2, "played after it ended: not on it");
    assert_eq!(h.seen.count("admin season_added season:s1 by ann"), 1);
    let log = block_on(h.arcade.audit_log(Limit::parse(None).unwrap(), None)).unwrap();
    assert_eq!(log.records[0].action, "season_added");
    assert_eq!(
        log.records[0].after.as_ref().unwrap()["title"],
        "Season one"
    );
}

#[test]
fn seasons_are_listed_newest_first_and_their_slugs_are_unique() {
    let h = Harness::new();
    let now = h.arcade.now();
    let hour = Duration::from_secs(3600);
    block_on(
        h.arcade
            .add_season("old", "Old", now, now.plus(hour), "ann", None),
    )
    .unwrap();
    block_on(h.arcade.add_season(
        "new",
        "New",
        now.plus(hour),
        now.plus(hour * 2),
        "ann",
        None,
    ))
    .unwrap();
    // Seasons may overlap: each has its own board of the same scores.
    block_on(
        h.arcade
            .add_season("all", "All", now, now.plus(hour * 2), "ann", None),
    )
    .unwrap();
    let e = block_on(
        h.arcade
            .add_season("old", "Again", now, now.plus(hour), "bob", None),
    )
    .unwrap_err();
    assert_eq!(e.code(), "season_exists");
    let e = block_on(
        h.arcade
            .add_season("x", "X", now.plus(hour), now, "bob", None),
    )
    .unwrap_err();
    assert_eq!(e.code(), "invalid_season");
    let slugs: Vec<_> = block_on(h.arcade.seasons())
        .unwrap()
        .into_iter()
        .map(|s| s.slug)
        .collect();
    assert_eq!(slugs, ["new", "all", "old"]);
    for unknown in ["nope", "Not A Slug"] {
        let e =
            block_on(
                h.arcade
                    .season_leaderboard(GAME, unknown, Limit::parse(None).unwrap(), None),
            )
            .unwrap_err();
        assert_eq!(e.code(), "season_not_found", "{unknown}");
    }
}

#[test]
fn a_season_is_removed_with_a_reason_until_it_is_over_and_then_stays() {
    let h = Harness::new();
    let now = h.arcade.now();
    let hour = Duration::from_secs(3600);
    block_on(
        h.arcade
            .add_season("s1", "S", now, now.plus(hour), "ann", None),
    )
    .unwrap();
    block_on(
        h.arcade
            .add_season("s2", "S", now, now.plus(hour), "ann", None),
    )
    .unwrap();
    let e = block_on(h.arcade.remove_season("s1", "ann", None)).unwrap_err();
    assert_eq!(e.code(), "invalid_reason");
    block_on(h.arcade.remove_season("s1", "ann", Some("wrong dates"))).unwrap();
    let e = block_on(h.arcade.remove_season("s1", "ann", Some("again"))).unwrap_err();
    assert_eq!(e.code(), "season_not_found");
    h.clock.advance(hour);
    let e = block_on(h.arcade.remove_season("s2", "ann", Some("tidy up"))).unwrap_err();
    assert_eq!(e.code(), "season_finished");
    let log = block_on(h.arcade.audit_log(Limit::parse(None).unwrap(), None)).unwrap();
    let actions: Vec<_> = log.records.iter().map(|r| r.action.as_str()).collect();
    assert_eq!(actions, ["season_removed", "season_added", "season_added"]);
    assert_eq!(log.records[0].reason.as_deref(), Some("wrong dates"));
    assert_eq!(log.records[0].before.as_ref().unwrap()["slug"], "s1");
}

#[test]
fn a_hidden_player_leaves_a_seasons_board() {
    let h = Harness::new();
    let now = h.arcade.now();
    block_on(h.arcade.add_season(
        "s1",
        "S",
        now,
        now.plus(Duration::from_secs(3600)),
        "ann",
        None,
    ))
    .unwrap();
    h.played("Hana", 80);
    h.played_on_the_boards("Ivo", 30);
    assert_eq!(season_board(&h, "s1").len(), 2);
    block_on(h.arcade.set_player_hidden("hana", true, "ann", None)).unwrap();
    assert_eq!(season_board(&h, "s1"), [("Ivo".to_owned(), 1)]);
}
