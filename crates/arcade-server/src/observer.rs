//! Counts what the use cases report into Prometheus metrics and logs what needs attention.

use std::borrow::Cow;
use std::sync::Arc;

use arcade_domain::BackendError;
use arcade_domain::admin::NewAudit;
use arcade_domain::error::report;
use arcade_domain::event::EventKind;
use arcade_domain::ports::{Observer, OutboxDepth, RankFallback};
use arcade_telemetry::{
    ActionLabels, FlagLabels, GameLabels, KindLabels, Metrics, OutcomeLabels, RejectLabels,
};

#[derive(Debug, Clone)]
pub struct MetricsObserver {
    metrics: Arc<Metrics>,
}

impl MetricsObserver {
    pub fn new(metrics: Arc<Metrics>) -> Self {
        // Sessions are resumed only after the session store lost them: every game's count is
        // shown from the start, at zero, so that "none" is an answer rather than no data.
        for g in arcade_games::catalogue() {
            let _created = metrics.sessions_resumed.get_or_create(&game(g.id()));
        }
        Self { metrics }
    }
}

/// The `game` label, borrowing the catalogue's id when the game is known (it always is once
/// a use case accepted it), so counting allocates nothing.
pub(crate) fn game(game: &str) -> GameLabels {
    GameLabels {
        game: arcade_games::find(game)
            .map_or_else(|| Cow::Owned(game.to_owned()), |g| Cow::Borrowed(g.id())),
    }
}

impl Observer for MetricsObserver {
    fn admin_action(&self, audit: &NewAudit) {
        tracing::info!(
            actor = %audit.actor,
            action = audit.action.as_str(),
            target = %audit.target,
            reason = audit.reason.as_deref().unwrap_or(""),
            "operator action"
        );
        self.metrics
            .admin_actions
            .get_or_create(&ActionLabels {
                action: Cow::Borrowed(audit.action.as_str()),
            })
            .inc();
    }

    fn session_started(&self, g: &str) {
        self.metrics.sessions_started.get_or_create(&game(g)).inc();
    }

    fn session_resumed(&self, g: &str) {
        self.metrics.sessions_resumed.get_or_create(&game(g)).inc();
    }

    fn score_submitted(&self, g: &str, score: u32) {
        self.metrics.scores_submitted.get_or_create(&game(g)).inc();
        self.metrics
            .score
            .get_or_create(&game(g))
            .observe(f64::from(score));
    }

    fn score_flagged(&self, g: &str, flag: &str) {
        tracing::info!(game = g, flag, "score flagged for review");
        self.metrics
            .scores_flagged
            .get_or_create(&FlagLabels {
                game: game(g).game,
                flag: flag.to_owned(),
            })
            .inc();
    }

    fn replay_rejected(&self, g: &str, reason: &str) {
        tracing::warn!(game = g, reason, "replay rejected");
        self.metrics
            .replays_rejected
            .get_or_create(&RejectLabels {
                game: g.to_owned(),
                reason: reason.to_owned(),
            })
            .inc();
    }

    fn event_published(&self, kind: EventKind) {
        self.metrics
            .events_published
            .get_or_create(&KindLabels {
                kind: kind.as_str().to_owned(),
            })
            .inc();
    }

    fn relay_failed(&self, error: &BackendError) {
        tracing::warn!(
            error = %report(error),
            kind = error.kind().as_str(),
            "events not relayed to the bus; they wait in the outbox"
        );
        self.metrics.outbox_relay_failures.inc();
    }

    fn outbox_depth(&self, depth: OutboxDepth) {
        self.metrics
            .outbox_depth
            .set(i64::try_from(depth.events).unwrap_or(i64::MAX));
        self.metrics
            .outbox_oldest_age
            .set(depth.oldest_age.as_secs_f64());
    }

    fn rank_fallback(&self, outcome: RankFallback) {
        self.metrics
            .rank_fallbacks
            .get_or_create(&OutcomeLabels {
                outcome: outcome.as_str().into(),
            })
            .inc();
    }
}
