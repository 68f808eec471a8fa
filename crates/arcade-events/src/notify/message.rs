//! What the notifier says: events turned into short notices for people, rendered as
//! Discord embeds or Slack Block Kit, and bursts folded into one digest. Pure functions.

use arcade_domain::event::{Event, EventKind};
use arcade_domain::time::Period;
use serde_json::{Value, json};

/// Discord embed colour (the arcade's accent) and the gold of a new all-time #1.
const COLOUR: u32 = 0x5865F2;
const GOLD: u32 = 0xF1C40F;
/// A digest lists this many entries; the rest are summed up in one line.
const DIGEST_LINES: usize = 10;

/// One thing worth telling people about.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Notice {
    pub event_id: uuid::Uuid,
    pub game: String,
    pub game_title: String,
    pub player: String,
    pub score: Option<u32>,
    pub rank: Option<u64>,
    pub period: Option<Period>,
    /// A new all-time #1: announced louder.
    pub headline: bool,
    pub title: String,
    pub text: String,
    /// The game's page, when the public address is known.
    pub url: Option<String>,
}

fn game_title(id: &str) -> String {
    arcade_domain::games::find(id).map_or_else(|| id.to_owned(), |g| g.title().to_owned())
}

fn board_name(period: Period) -> &'static str {
    match period {
        Period::All => "all-time",
        Period::Day => "today's",
        Period::Week => "this week's",
    }
}

fn points(score: u32) -> String {
    if score == 1 {
        "1 point".to_owned()
    } else {
        format!("{score} points")
    }
}

impl Notice {
    /// The notice for an event, or `None` when the event is not announced: session starts,
    /// and day or week top-10 moves below first place (the all-time message already says
    /// what matters, and one game must not post four messages).
    pub fn from_event(event: &Event, public_url: Option<&str>) -> Option<Self> {
        let game_title = game_title(&event.game);
        let player = event.player.clone();
        let (title, text, headline) = match (event.kind, event.period, event.rank) {
            (EventKind::SessionStarted | EventKind::NameRulesChanged, _, _) => return None,
            // Operators' changes are not announced.
            (
                EventKind::PlayerHidden
                | EventKind::PlayerRestored
                | EventKind::ScoreRemoved
                | EventKind::PlayerRenamed
                | EventKind::PlayerDeleted,
                _,
                _,
            ) => {
                return None;
            }
            (EventKind::ScoreSubmitted, _, rank) => {
                let score = event.score?;
                let text = match rank {
                    Some(r) => format!("{} — now #{r} on the all-time board.", points(score)),
                    None => points(score),
                };
                (
                    format!("{player} scored {score} in {game_title}"),
                    text,
                    false,
                )
            }
            (EventKind::LeaderboardTop, Some(Period::All), Some(1)) => (
                format!("🏆 New all-time #1 in {game_title}"),
                format!(
                    "{player} takes first place with {}.",
                    points(event.score.unwrap_or_default())
                ),
                true,
            ),
            (EventKind::LeaderboardTop, Some(Period::All), Some(rank)) => (
                format!("{player} entered the {game_title} top 10"),
                format!(
                    "#{rank} all-time with {}.",
                    points(event.score.unwrap_or_default())
                ),
                false,
            ),
            (EventKind::LeaderboardTop, Some(period), Some(1)) => (
                format!("{player} leads {} {game_title} board", board_name(period)),
                format!(
                    "First place with {}.",
                    points(event.score.unwrap_or_default())
                ),
                false,
            ),
            (EventKind::LeaderboardTop, _, _) => return None,
        };
        Some(Self {
            event_id: event.id,
            game: event.game.clone(),
            game_title,
            player,
            score: event.score,
            rank: event.rank,
            period: event.period,
            headline,
            title,
            text,
            url: public_url
                .map(|base| format!("{}/play/{}", base.trim_end_matches('/'), event.game)),
        })
    }

    /// One line for logs and digests.
    pub fn summary(&self) -> String {
        format!("{}: {}", self.title, self.text)
    }
}

/// Discord and Slack each render markdown; a player name must stay text. Names are already
/// restricted by the domain, but the formatter does not rely on it.
pub fn escape_discord(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        if matches!(
            c,
            '\\' | '*' | '_' | '~' | '`' | '|' | '>' | '#' | '[' | ']' | '(' | ')' | '@'
        ) {
            out.push('\\');
        }
        out.push(c);
    }
    out
}

/// Slack's mrkdwn needs only `&`, `<` and `>` escaped.
pub fn escape_slack(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}

/// The Discord webhook body for one notice (an embed; mentions disabled so a name can never
/// ping anyone).
pub fn discord(notice: &Notice) -> Value {
    let mut fields = vec![
        json!({"name": "Game", "value": escape_discord(&notice.game_title), "inline": true}),
        json!({"name": "Player", "value": escape_discord(&notice.player), "inline": true}),
    ];
    if let Some(score) = notice.score {
        fields.push(json!({"name": "Score", "value": score.to_string(), "inline": true}));
    }
    if let Some(rank) = notice.rank {
        let board = notice.period.map_or("all-time", board_name);
        fields.push(json!({"name": "Rank", "value": format!("#{rank} {board}"), "inline": true}));
    }
    let mut embed = json!({
        "title": notice.title,
        "description": escape_discord(&notice.text),
        "color": if notice.headline { GOLD } else { COLOUR },
        "fields": fields,
    });
    if let Some(url) = &notice.url {
        embed["url"] = json!(url);
    }
    json!({
        "username": "Arcade",
        "embeds": [embed],
        "allowed_mentions": {"parse": []},
    })
}

/// The Slack webhook body for one notice (Block Kit, with `text` as the notification
/// fallback).
pub fn slack(notice: &Notice) -> Value {
    let mut fields = vec![
        json!({"type": "mrkdwn", "text": format!("*Player*\n{}", escape_slack(&notice.player))}),
        json!({"type": "mrkdwn", "text": format!("*Game*\n{}", escape_slack(&notice.game_title))}),
    ];
    if let Some(score) = notice.score {
        fields.push(json!({"type": "mrkdwn", "text": format!("*Score*\n{score}")}));
    }
    if let Some(rank) = notice.rank {
        let board = notice.period.map_or("all-time", board_name);
        fields.push(json!({"type": "mrkdwn", "text": format!("*Rank*\n#{rank} {board}")}));
    }
    let mut blocks = vec![
        json!({"type": "section", "text": {"type": "mrkdwn",
            "text": format!("*{}*\n{}", escape_slack(&notice.title), escape_slack(&notice.text))}}),
        json!({"type": "section", "fields": fields}),
    ];
    if let Some(url) = &notice.url {
        blocks.push(json!({"type": "context", "elements": [
            {"type": "mrkdwn", "text": format!("<{url}|Play {} and see the board>", escape_slack(&notice.game_title))}
        ]}));
    }
    json!({"text": escape_slack(&notice.summary()), "blocks": blocks})
}

/// Notices that arrived faster than a target's rate allows, folded into one message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Digest {
    pub title: String,
    pub lines: Vec<String>,
    /// Where to look: the game's page when all entries are one game's, else the home page.
    pub url: Option<String>,
}

impl Digest {
    pub fn new(notices: &[&Notice], public_url: Option<&str>) -> Self {
        let mut games: Vec<&str> = notices.iter().map(|n| n.game_title.as_str()).collect();
        games.dedup();
        games.sort_unstable();
        games.dedup();
        let n = notices.len();
        let what = if notices.iter().all(|x| x.headline || x.score.is_some()) {
            "scores"
        } else {
            "updates"
        };
        let title = match games.as_slice() {
            [one] => format!("{n} more {what} in {one}"),
            _ => format!("{n} more {what} across {} games", games.len()),
        };
        let mut lines: Vec<String> = notices
            .iter()
            .take(DIGEST_LINES)
            .map(|x| x.summary())
            .collect();
        if n > DIGEST_LINES {
            lines.push(format!("…and {} more", n - DIGEST_LINES));
        }
        let base = public_url.map(|b| b.trim_end_matches('/').to_owned());
        let url = match (base, notices.first()) {
            (Some(b), Some(first)) if notices.iter().all(|x| x.game == first.game) => {
                Some(format!("{b}/play/{}", first.game))
            }
            (Some(b), _) => Some(format!("{b}/")),
            (None, _) => None,
        };
        Self { title, lines, url }
    }

    pub fn discord(&self) -> Value {
        let description = self
            .lines
            .iter()
            .map(|l| format!("• {}", escape_discord(l)))
            .collect::<Vec<_>>()
            .join("\n");
        let mut embed = json!({
            "title": self.title,
            "description": description,
            "color": COLOUR,
            "fields": [],
        });
        if let Some(url) = &self.url {
            embed["url"] = json!(url);
        }
        json!({"username": "Arcade", "embeds": [embed], "allowed_mentions": {"parse": []}})
    }

    pub fn slack(&self) -> Value {
        let list = self
            .lines
            .iter()
            .map(|l| format!("• {}", escape_slack(l)))
            .collect::<Vec<_>>()
            .join("\n");
        let mut blocks = vec![json!({"type": "section", "text": {"type": "mrkdwn",
            "text": format!("*{}*\n{list}", escape_slack(&self.title))}})];
        if let Some(url) = &self.url {
            blocks.push(json!({"type": "context", "elements": [
                {"type": "mrkdwn", "text": format!("<{url}|See the boards>")}
            ]}));
        }
        json!({"text": escape_slack(&self.title), "blocks": blocks})
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use arcade_domain::time::Timestamp;

    fn event(kind: EventKind, period: Option<Period>, rank: u64, score: u32) -> Event {
        Event {
            id: uuid::Uuid::from_u128(u128::from(score) + u128::from(rank) * 1000),
            kind,
            game: "egg-catcher".into(),
            player: "Alice".into(),
            session_id: uuid::Uuid::from_u128(7),
            score: Some(score),
            rank: Some(rank),
            period,
            at: Timestamp(0),
        }
    }

    const URL: Option<&str> = Some("https://arcade.example.com/");

    #[test]
    fn a_score_names_game_player_score_and_rank_with_a_link_to_the_game() {
        let n = Notice::from_event(&event(EventKind::ScoreSubmitted, None, 3, 420), URL).unwrap();
        assert_eq!(n.title, "Alice scored 420 in Egg Catcher");
        assert_eq!(n.text, "420 points — now #3 on the all-time board.");
        assert_eq!(
            n.url.as_deref(),
            Some("https://arcade.example.com/play/egg-catcher")
        );
        assert!(!n.headline);
    }

    #[test]
    fn a_new_all_time_first_place_is_a_headline() {
        let n = Notice::from_event(
            &event(EventKind::LeaderboardTop, Some(Period::All), 1, 990),
            None,
        )
        .unwrap();
        assert!(n.headline);
        assert_eq!(n.title, "🏆 New all-time #1 in Egg Catcher");
        assert_eq!(n.text, "Alice takes first place with 990 points.");
        assert_eq!(n.url, None);
        assert_eq!(discord(&n)["embeds"][0]["color"], GOLD);
    }

    #[test]
    fn quiet_events_are_not_announced() {
        let mut started = event(EventKind::SessionStarted, None, 1, 0);
        started.score = None;
        assert!(Notice::from_event(&started, URL).is_none());
        let day_third = event(EventKind::LeaderboardTop, Some(Period::Day), 3, 100);
        assert!(Notice::from_event(&day_third, URL).is_none());
        let week_first = event(EventKind::LeaderboardTop, Some(Period::Week), 1, 100);
        assert_eq!(
            Notice::from_event(&week_first, URL).unwrap().title,
            "Alice leads this week's Egg Catcher board"
        );
    }

    #[test]
    fn discord_bodies_are_embeds_with_fields_and_no_mentions() {
        let n = Notice::from_event(&event(EventKind::ScoreSubmitted, None, 3, 420), URL).unwrap();
        let body = discord(&n);
        let embed = &body["embeds"][0];
        assert_eq!(embed["title"], "Alice scored 420 in Egg Catcher");
        assert_eq!(embed["url"], "https://arcade.example.com/play/egg-catcher");
        let fields = embed["fields"].as_array().unwrap();
        assert!(
            fields
                .iter()
                .any(|f| f["name"] == "Rank" && f["value"] == "#3 all-time")
        );
        assert_eq!(body["allowed_mentions"]["parse"], json!([]));
    }

    #[test]
    fn slack_bodies_are_block_kit_sections_in_mrkdwn() {
        let mut e = event(EventKind::ScoreSubmitted, None, 2, 50);
        e.player = "<!channel>&co".into();
        let n = Notice::from_event(&e, URL).unwrap();
        let body = slack(&n);
        let blocks = body["blocks"].as_array().unwrap();
        assert_eq!(blocks[0]["type"], "section");
        assert_eq!(blocks[0]["text"]["type"], "mrkdwn");
        let text = blocks[0]["text"]["text"].as_str().unwrap();
        assert!(text.contains("&lt;!channel&gt;&amp;co"), "{text}");
        assert!(!body.to_string().contains("<!channel>"));
        assert!(
            blocks.last().unwrap()["elements"][0]["text"]
                .as_str()
                .unwrap()
                .contains("https://arcade.example.com/play/egg-catcher")
        );
    }

    #[test]
    fn discord_markdown_in_names_is_escaped() {
        assert_eq!(escape_discord("*bold* @everyone"), "\\*bold\\* \\@everyone");
    }

    #[test]
    fn a_burst_becomes_one_digest_per_game() {
        let notices: Vec<Notice> = (1..=12)
            .map(|i| {
                Notice::from_event(
                    &event(EventKind::ScoreSubmitted, None, i, 10 * i as u32),
                    URL,
                )
                .unwrap()
            })
            .collect();
        let refs: Vec<&Notice> = notices.iter().collect();
        let d = Digest::new(&refs, URL);
        assert_eq!(d.title, "12 more scores in Egg Catcher");
        assert_eq!(d.lines.len(), DIGEST_LINES + 1);
        assert_eq!(d.lines.last().unwrap(), "…and 2 more");
        assert_eq!(
            d.url.as_deref(),
            Some("https://arcade.example.com/play/egg-catcher")
        );
        assert!(
            d.discord()["embeds"][0]["description"]
                .as_str()
                .unwrap()
                .starts_with("• ")
        );
        assert_eq!(d.slack()["blocks"][0]["type"], "section");
    }
}
