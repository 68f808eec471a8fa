//! The first page of each leaderboard, kept encoded: the top-N read is the hottest request, and
//! answering it from memory is one look-up and a reference-counted clone of the JSON body,
//! instead of a rank-index call, a copy of every entry, DTOs and an encoding.
//!
//! A game's pages are dropped whenever a score for that game is finished on this replica (the
//! finish handler) or arrives on the event bus from any replica (the live feed). Pages also
//! expire after [`MAX_AGE`], so a lost bus message can leave a page stale for at most that
//! long. Keys carry the period's bucket, so a new day or week never reads the old one's page.

use std::sync::{Arc, PoisonError, RwLock};
use std::time::{Duration, Instant};

use arcade_domain::season::MAX_SLUG;
use arcade_domain::time::Period;
use axum::body::Bytes;
use rustc_hash::FxHashMap;

use crate::encoding::SharedBody;

/// How long a page may be served from memory. Invalidation by event keeps pages fresh in the
/// normal case; this bounds the staleness when it fails: a bus message lost or late (NATS
/// down, a retried publish still queued, a subscriber that lagged), or a board changed by
/// something that publishes no event (a rank index rebuilt from the database). One second
/// is invisible to players next to the live feed, and still turns thousands of reads a second
/// into one board read per page per second.
pub const MAX_AGE: Duration = Duration::from_secs(1);

/// Pages kept at most. Keys are known games × 3 periods × limits 1–100 × the current buckets,
/// so this is reached only by clients walking through every limit; past it, expired pages are
/// dropped and, if the map is still full, new pages are simply not kept.
const MAX_PAGES: usize = 512;

/// One cached page: a game's board for a period's bucket, or of a running season, at one page
/// size, without a cursor.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct PageKey {
    /// The game's canonical id (from the catalogue, so only known games can be keys).
    pub game: &'static str,
    /// The period (`All` for a season's board).
    pub period: Period,
    /// The period's bucket at the time of the read ([`Period::bucket`]; 0 for a season's).
    pub bucket: i64,
    /// The season, for a season's board.
    pub season: Option<SeasonKey>,
    pub limit: usize,
}

/// A season's slug held inline: a slug is at most [`MAX_SLUG`] ASCII bytes, so keys stay
/// `Copy`. Only the page of a season that exists is kept, so keys stay few.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct SeasonKey {
    len: u8,
    bytes: [u8; MAX_SLUG],
}

impl SeasonKey {
    /// The key of `slug`; `None` for what is too long to be one.
    pub fn of(slug: &str) -> Option<Self> {
        let mut bytes = [0; MAX_SLUG];
        bytes
            .get_mut(..slug.len())?
            .copy_from_slice(slug.as_bytes());
        Some(Self {
            len: u8::try_from(slug.len()).ok()?,
            bytes,
        })
    }
}

/// The answer to a look-up.
#[derive(Debug)]
pub enum Lookup {
    /// The encoded page, fresh (with its compressed copies, made on first demand).
    Hit(Arc<SharedBody>),
    /// Nothing fresh: read the board, then hand the page to [`BoardCache::put`] with this.
    Miss(Ticket),
}

/// Taken before a board is read: the page read after it is kept only if no score for its game
/// arrived in between (else a read that started before a finish could store the old board
/// after the finish dropped it).
#[derive(Debug)]
pub struct Ticket {
    key: PageKey,
    generation: u64,
}

#[derive(Debug)]
struct Page {
    body: Arc<SharedBody>,
    stored_at: Instant,
}

/// Hashed with Fx: keys are made only of a known game, a parsed period, its bucket, a season
/// an operator defined and a limit of 1–100, so a client cannot choose colliding ones, and SipHash cost more than the
/// rest of a look-up.
#[derive(Debug, Default)]
struct Pages {
    pages: FxHashMap<PageKey, Page>,
    /// Per known game, bumped by every invalidation. A game missing here is never cached.
    generations: FxHashMap<&'static str, u64>,
}

/// The encoded first pages of the boards of `games`.
#[derive(Debug)]
pub struct BoardCache {
    max_age: Duration,
    inner: RwLock<Pages>,
}

impl BoardCache {
    /// A cache for the pages of `games` (their canonical ids), kept at most [`MAX_AGE`].
    pub fn new(games: impl IntoIterator<Item = &'static str>) -> Self {
        Self::with_max_age(games, MAX_AGE)
    }

    pub fn with_max_age(games: impl IntoIterator<Item = &'static str>, max_age: Duration) -> Self {
        Self {
            max_age,
            inner: RwLock::new(Pages {
                pages: FxHashMap::default(),
                generations: games.into_iter().map(|g| (g, 0)).collect(),
            }),
        }
    }

    /// The fresh page for `key`, or a ticket to store one.
    pub fn get(&self, key: PageKey) -> Lookup {
        self.get_at(key, Instant::now())
    }

    fn get_at(&self, key: PageKey, now: Instant) -> Lookup {
        let inner = self.inner.read().unwrap_or_else(PoisonError::into_inner);
        match inner.pages.get(&key) {
            Some(p) if now.saturating_duration_since(p.stored_at) < self.max_age => {
                Lookup::Hit(p.body.clone())
            }
            _ => Lookup::Miss(Ticket {
                key,
                generation: inner.generations.get(key.game).copied().unwrap_or(0),
            }),
        }
    }

    /// Keep `body` as the page of the ticket's key, unless its game's boards changed since the
    /// ticket was taken, and hand it back ready to send. Only successful pages belong here.
    pub fn put(&self, ticket: Ticket, body: Bytes) -> Arc<SharedBody> {
        self.put_at(ticket, body, Instant::now())
    }

    fn put_at(&self, ticket: Ticket, body: Bytes, now: Instant) -> Arc<SharedBody> {
        let body = Arc::new(SharedBody::new(body));
        let mut inner = self.inner.write().unwrap_or_else(PoisonError::into_inner);
        if inner.generations.get(ticket.key.game) != Some(&ticket.generation) {
            return body;
        }
        if inner.pages.len() >= MAX_PAGES && !inner.pages.contains_key(&ticket.key) {
            let max_age = self.max_age;
            inner
                .pages
                .retain(|_, p| now.saturating_duration_since(p.stored_at) < max_age);
            if inner.pages.len() >= MAX_PAGES {
                return body;
            }
        }
        inner.pages.insert(
            ticket.key,
            Page {
                body: body.clone(),
                stored_at: now,
            },
        );
        body
    }

    /// Drop every page of `game`: one of its boards changed.
    pub fn invalidate(&self, game: &str) {
        let mut inner = self.inner.write().unwrap_or_else(PoisonError::into_inner);
        let Some(generation) = inner.generations.get_mut(game) else {
            return;
        };
        *generation += 1;
        inner.pages.retain(|k, _| k.game != game);
    }

    /// How many pages are kept (fresh or not).
    pub fn len(&self) -> usize {
        self.inner
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .pages
            .len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const EGG: &str = "egg-catcher";
    const TWO: &str = "2048";

    fn key(game: &'static str, limit: usize) -> PageKey {
        PageKey {
            game,
            period: Period::All,
            bucket: 0,
            season: None,
            limit,
        }
    }

    fn cache() -> BoardCache {
        BoardCache::new([EGG, TWO])
    }

    fn miss(cache: &BoardCache, key: PageKey) -> Ticket {
        match cache.get(key) {
            Lookup::Miss(t) => t,
            Lookup::Hit(b) => panic!("unexpected hit: {b:?}"),
        }
    }

    fn hit(cache: &BoardCache, key: PageKey) -> Option<Bytes> {
        match cache.get(key) {
            Lookup::Hit(b) => Some(b.identity().clone()),
            Lookup::Miss(_) => None,
        }
    }

    #[test]
    fn a_stored_page_is_served_as_the_same_bytes() {
        let cache = cache();
        let t = miss(&cache, key(EGG, 10));
        let body = Bytes::from_static(b"{\"game\":\"egg-catcher\"}");
        cache.put(t, body.clone());
        let got = hit(&cache, key(EGG, 10)).expect("a hit");
        assert_eq!(got, body);
        assert_eq!(
            got.as_ptr(),
            body.as_ptr(),
            "a clone of the stored bytes, not a copy"
        );
        assert!(
            hit(&cache, key(EGG, 11)).is_none(),
            "another limit is another page"
        );
        let day = PageKey {
            period: Period::Day,
            bucket: 20_780,
            ..key(EGG, 10)
        };
        assert!(hit(&cache, day).is_none(), "another period is another page");
    }

    #[test]
    fn each_season_is_a_page_of_its_own_dropped_with_its_games_pages() {
        let cache = cache();
        let season = |slug: &str| PageKey {
            season: Some(SeasonKey::of(slug).unwrap()),
            ..key(EGG, 10)
        };
        let t = miss(&cache, season("s1"));
        cache.put(t, Bytes::from_static(b"{}"));
        assert!(hit(&cache, season("s1")).is_some());
        assert!(hit(&cache, season("s10")).is_none());
        assert!(hit(&cache, key(EGG, 10)).is_none(), "nor the all-time page");
        assert!(SeasonKey::of(&"a".repeat(MAX_SLUG)).is_some());
        assert!(SeasonKey::of(&"a".repeat(MAX_SLUG + 1)).is_none());
        cache.invalidate(EGG);
        assert!(hit(&cache, season("s1")).is_none());
    }

    #[test]
    fn a_score_event_drops_the_pages_of_its_game_only() {
        let cache = cache();
        for k in [key(EGG, 10), key(EGG, 3), key(TWO, 10)] {
            let t = miss(&cache, k);
            cache.put(t, Bytes::from_static(b"{}"));
        }
        cache.invalidate(EGG);
        assert!(hit(&cache, key(EGG, 10)).is_none());
        assert!(hit(&cache, key(EGG, 3)).is_none());
        assert!(hit(&cache, key(TWO, 10)).is_some());
        assert_eq!(cache.len(), 1);
    }

    #[test]
    fn a_page_read_before_a_score_arrived_is_not_kept() {
        let cache = cache();
        let before = miss(&cache, key(EGG, 10));
        cache.invalidate(EGG);
        cache.put(before, Bytes::from_static(b"{\"old\":true}"));
        assert!(hit(&cache, key(EGG, 10)).is_none());
        let after = miss(&cache, key(EGG, 10));
        cache.put(after, Bytes::from_static(b"{\"new\":true}"));
        assert_eq!(hit(&cache, key(EGG, 10)).unwrap(), &b"{\"new\":true}"[..]);
    }

    #[test]
    fn pages_expire_after_the_maximum_age() {
        let cache = cache();
        let stored_at = Instant::now();
        let t = miss(&cache, key(EGG, 10));
        cache.put_at(t, Bytes::from_static(b"{}"), stored_at);
        let young = stored_at + MAX_AGE - Duration::from_millis(1);
        assert!(matches!(cache.get_at(key(EGG, 10), young), Lookup::Hit(_)));
        assert!(matches!(
            cache.get_at(key(EGG, 10), stored_at + MAX_AGE),
            Lookup::Miss(_)
        ));
    }

    #[test]
    fn unknown_games_are_never_kept_and_events_for_them_are_ignored() {
        let cache = cache();
        let t = miss(&cache, key("pong", 10));
        cache.put(t, Bytes::from_static(b"{}"));
        assert!(cache.is_empty());
        cache.invalidate("pong");
    }

    #[test]
    fn the_number_of_pages_is_capped() {
        let cache = cache();
        let now = Instant::now();
        for limit in 0..MAX_PAGES + 10 {
            let k = PageKey {
                bucket: limit as i64,
                ..key(EGG, limit)
            };
            let t = miss(&cache, k);
            cache.put_at(t, Bytes::from_static(b"{}"), now);
        }
        assert_eq!(cache.len(), MAX_PAGES);
        // Once the old pages expired, new ones replace them.
        let later = now + MAX_AGE;
        let t = miss(&cache, key(TWO, 10));
        cache.put_at(t, Bytes::from_static(b"{}"), later);
        assert_eq!(cache.len(), 1);
        assert!(matches!(cache.get_at(key(TWO, 10), later), Lookup::Hit(_)));
    }
}
