//! Board order and an in-memory ranked board.
//!
//! Board order: higher score first; on equal scores the earlier achievement first; then the
//! player key, so that the order is total and every player has exactly one rank. Ranks are
//! 1-based positions in that order, so two players with equal scores but different times have
//! different ranks.
//!
//! Only a score above zero takes a place on the boards ([`takes_a_place`]); a run that scored
//! nothing is kept in the player's history all the same.

use std::cmp::{Ordering, Reverse};
use std::collections::HashMap;

/// Whether a verified score takes a place on the boards. A run that scored nothing is stored
/// (the player's history shows it) but is no result to rank: a board filled with zeros ranks
/// nobody, and every entry costs each reader of the board.
pub fn takes_a_place(score: u32) -> bool {
    score > 0
}

/// A player's best on a board.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Standing {
    pub score: u64,
    pub achieved_at_ms: i64,
    pub player_key: String,
    pub player_name: String,
}

impl Standing {
    /// Strictly ahead of `other` in board order. For two standings of one player this is
    /// "a better result": a higher score, or the same score reached earlier.
    pub fn beats(&self, other: &Standing) -> bool {
        self.position() < other.position()
    }

    /// Where the standing sits on a board. Keys are unique on a board, so the name never
    /// takes part in positioning, and a keyset cursor does not need it.
    fn position(&self) -> Position<'_> {
        (Reverse(self.score), self.achieved_at_ms, &self.player_key)
    }
}

type Position<'a> = (Reverse<u64>, i64, &'a str);

/// Board order: "less" is ranked higher. The name breaks the last tie only so that the order
/// agrees with `Eq`; on a board it never decides anything.
impl Ord for Standing {
    fn cmp(&self, other: &Self) -> Ordering {
        self.position()
            .cmp(&other.position())
            .then_with(|| self.player_name.cmp(&other.player_name))
    }
}

impl PartialOrd for Standing {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

/// A standing with its current rank (1 is the top).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Ranked {
    pub rank: u64,
    pub standing: Standing,
}

/// What a submission did to the board, with the player's rank afterwards.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Submission {
    /// The player's first standing on the board.
    New { rank: u64 },
    /// A better result replaced `previous`.
    Improved { previous: Standing, rank: u64 },
    /// The board kept `best`, which this result did not beat.
    NotImproved { best: Standing, rank: u64 },
}

impl Submission {
    /// The player's rank after the submission.
    pub fn rank(&self) -> u64 {
        match self {
            Self::New { rank } | Self::Improved { rank, .. } | Self::NotImproved { rank, .. } => {
                *rank
            }
        }
    }
}

/// An in-memory board with one standing per player (their best), kept in board order.
///
/// The structure is a sorted, chunked vector: standings live in blocks of at most
/// `max_block` entries, each block sorted and every block entirely ahead of the next. A block
/// is split in two when it overflows and merged into a neighbour when it falls under a
/// quarter full, so there are O(n / max_block) blocks. A Fenwick tree over the block lengths
/// gives the number of standings ahead of any block in O(log blocks), and a map from player
/// key to (score, time) finds a player's block by binary search. So, with n standings and
/// B = max_block:
///
/// - locating a player (get, rank, remove, the start of `around`): O(log n);
/// - submit and remove: O(log n + B) to shift entries inside one block, plus an O(n / B)
///   rebuild of the Fenwick tree when blocks split or merge (at most once per B / 4 changes);
/// - a page or `around` of k entries: O(log n + k), whatever the cursor or rank.
///
/// With B = 512 a million players fit in a few thousand blocks.
/// A balanced order-statistic tree would give the same bounds with far more allocation and
/// pointer chasing; contiguous blocks are cheap to search, shift and iterate.
#[derive(Debug, Clone)]
pub struct RankedBoard {
    blocks: Vec<Vec<Standing>>,
    lengths: Fenwick,
    /// Player key to the (score, time) of their standing, which with the key is its position.
    index: HashMap<String, (u64, i64)>,
    max_block: usize,
}

impl Default for RankedBoard {
    fn default() -> Self {
        Self::with_block_size(Self::DEFAULT_BLOCK)
    }
}

impl RankedBoard {
    const DEFAULT_BLOCK: usize = 512;
    const MIN_BLOCK: usize = 4;

    pub fn new() -> Self {
        Self::default()
    }

    /// A board whose blocks hold at most `max_block` standings (at least 4). Small blocks are
    /// for tests that want many block boundaries; the default suits large boards.
    pub fn with_block_size(max_block: usize) -> Self {
        Self {
            blocks: Vec::new(),
            lengths: Fenwick::default(),
            index: HashMap::new(),
            max_block: max_block.max(Self::MIN_BLOCK),
        }
    }

    /// A board holding each player's best of `standings`, built in O(n log n) rather than by
    /// n submissions (for loading a board from storage).
    pub fn from_standings(standings: impl IntoIterator<Item = Standing>) -> Self {
        let mut board = Self::new();
        let mut best: HashMap<String, Standing> = HashMap::new();
        for standing in standings {
            match best.get_mut(&standing.player_key) {
                Some(current) if standing.beats(current) => *current = standing,
                Some(_) => {}
                None => {
                    best.insert(standing.player_key.clone(), standing);
                }
            }
        }
        let mut sorted: Vec<Standing> = best.into_values().collect();
        sorted.sort_unstable();
        board.index = sorted
            .iter()
            .map(|s| (s.player_key.clone(), (s.score, s.achieved_at_ms)))
            .collect();
        // Blocks start about three quarters full, leaving room to insert before the first
        // split, and evenly so, so that the last one is not left nearly empty.
        let count = sorted.len().div_ceil(board.max_block * 3 / 4);
        let mut rest = sorted.into_iter();
        for block in 0..count {
            let size = rest.len().div_ceil(count - block);
            board.blocks.push(rest.by_ref().take(size).collect());
        }
        board.rebuild_lengths();
        board
    }

    pub fn len(&self) -> usize {
        self.index.len()
    }

    pub fn is_empty(&self) -> bool {
        self.index.is_empty()
    }

    /// Keep the player's best: a new standing replaces the old one only if it beats it (a tie
    /// with a later time does not).
    pub fn submit(&mut self, standing: Standing) -> Submission {
        let Some(&(score, at)) = self.index.get(&standing.player_key) else {
            self.index.insert(
                standing.player_key.clone(),
                (standing.score, standing.achieved_at_ms),
            );
            let rank = self.insert(standing);
            return Submission::New { rank };
        };
        let (block, slot) = self.locate((Reverse(score), at, &standing.player_key));
        let best = &self.blocks[block][slot];
        if !standing.beats(best) {
            return Submission::NotImproved {
                best: best.clone(),
                rank: self.rank_at(block, slot),
            };
        }
        let previous = self.remove_at(block, slot);
        self.index.insert(
            standing.player_key.clone(),
            (standing.score, standing.achieved_at_ms),
        );
        let rank = self.insert(standing);
        Submission::Improved { previous, rank }
    }

    /// Make the player's entry exactly `standing`, or take them off with `None`.
    pub fn set(&mut self, player_key: &str, standing: Option<Standing>) {
        self.remove(player_key);
        if let Some(s) = standing {
            self.submit(s);
        }
    }

    pub fn remove(&mut self, player_key: &str) -> Option<Standing> {
        let (score, at) = self.index.remove(player_key)?;
        let (block, slot) = self.locate((Reverse(score), at, player_key));
        Some(self.remove_at(block, slot))
    }

    /// The player's standing with its current rank.
    pub fn get(&self, player_key: &str) -> Option<Ranked> {
        let (block, slot) = self.find(player_key)?;
        Some(Ranked {
            rank: self.rank_at(block, slot),
            standing: self.blocks[block][slot].clone(),
        })
    }

    pub fn rank_of(&self, player_key: &str) -> Option<u64> {
        let (block, slot) = self.find(player_key)?;
        Some(self.rank_at(block, slot))
    }

    /// Page of the board: entries strictly after `after` (a standing used as keyset cursor;
    /// None = from the top), at most `limit`.
    ///
    /// The cursor is a position in board order (score, time, key; the name is ignored), so it
    /// stays valid when its standing has since left the board or been improved.
    pub fn page(&self, after: Option<&Standing>, limit: usize) -> Vec<Ranked> {
        let (block, slot) = match after {
            None => (0, 0),
            Some(cursor) => self.first_after(cursor.position()),
        };
        if limit == 0 || block == self.blocks.len() {
            return Vec::new();
        }
        let first = self.rank_at(block, slot);
        self.forward_from(block, slot)
            .take(limit)
            .zip(first..)
            .map(|(standing, rank)| Ranked {
                rank,
                standing: standing.clone(),
            })
            .collect()
    }

    /// The player and up to `before` entries above and `after` entries below them, in board
    /// order. Empty when the player is not on the board.
    pub fn around(&self, player_key: &str, before: usize, after: usize) -> Vec<Ranked> {
        let Some((block, slot)) = self.find(player_key) else {
            return Vec::new();
        };
        let rank = self.rank_at(block, slot);
        let mut above: Vec<&Standing> = self.backward_from(block, slot).take(before).collect();
        above.reverse();
        let first = rank - above.len() as u64;
        above
            .into_iter()
            .chain(self.forward_from(block, slot).take(after.saturating_add(1)))
            .zip(first..)
            .map(|(standing, rank)| Ranked {
                rank,
                standing: standing.clone(),
            })
            .collect()
    }

    /// Every standing, in board order.
    pub fn iter(&self) -> impl Iterator<Item = &Standing> {
        self.blocks.iter().flatten()
    }

    fn find(&self, player_key: &str) -> Option<(usize, usize)> {
        let &(score, at) = self.index.get(player_key)?;
        Some(self.locate((Reverse(score), at, player_key)))
    }

    /// Block and slot of a standing known to be on the board.
    fn locate(&self, position: Position<'_>) -> (usize, usize) {
        let block = self.blocks.partition_point(|b| last_position(b) < position);
        let slot = self.blocks[block]
            .binary_search_by(|s| s.position().cmp(&position))
            .expect("the index and the blocks agree");
        (block, slot)
    }

    /// Block and slot of the first standing strictly after `position`; `(blocks.len(), 0)`
    /// when there is none.
    fn first_after(&self, position: Position<'_>) -> (usize, usize) {
        let block = self
            .blocks
            .partition_point(|b| last_position(b) <= position);
        let slot = self
            .blocks
            .get(block)
            .map_or(0, |b| b.partition_point(|s| s.position() <= position));
        (block, slot)
    }

    fn rank_at(&self, block: usize, slot: usize) -> u64 {
        (self.lengths.prefix(block) + slot) as u64 + 1
    }

    /// The standing at (block, slot) and everything after it.
    fn forward_from(&self, block: usize, slot: usize) -> impl Iterator<Item = &Standing> {
        let head = self.blocks.get(block).map_or(&[][..], |b| &b[slot..]);
        let tail = self.blocks.get(block + 1..).unwrap_or_default();
        head.iter().chain(tail.iter().flatten())
    }

    /// Everything before (block, slot), nearest first.
    fn backward_from(&self, block: usize, slot: usize) -> impl Iterator<Item = &Standing> {
        let head = self.blocks.get(block).map_or(&[][..], |b| &b[..slot]);
        let tail = &self.blocks[..block.min(self.blocks.len())];
        head.iter()
            .rev()
            .chain(tail.iter().rev().flat_map(|b| b.iter().rev()))
    }

    /// Put a standing whose key is not on the board in place; returns its rank.
    fn insert(&mut self, standing: Standing) -> u64 {
        if self.blocks.is_empty() {
            self.blocks.push(vec![standing]);
            self.rebuild_lengths();
            return 1;
        }
        let position = standing.position();
        // The first block whose last entry comes after it, or else the end of the last block.
        let block = self
            .blocks
            .partition_point(|b| last_position(b) < position)
            .min(self.blocks.len() - 1);
        let slot = self.blocks[block].partition_point(|s| s.position() < position);
        self.blocks[block].insert(slot, standing);
        self.lengths.increment(block);
        let rank = self.rank_at(block, slot);
        if self.blocks[block].len() > self.max_block {
            let half = self.blocks[block].len() / 2;
            let upper = self.blocks[block].split_off(half);
            self.blocks.insert(block + 1, upper);
            self.rebuild_lengths();
        }
        rank
    }

    /// Take out the standing at (block, slot), keeping blocks at least a quarter full.
    fn remove_at(&mut self, block: usize, slot: usize) -> Standing {
        let standing = self.blocks[block].remove(slot);
        self.lengths.decrement(block);
        let len = self.blocks[block].len();
        if len == 0 {
            self.blocks.remove(block);
            self.rebuild_lengths();
        } else if len < self.max_block / 4 && self.blocks.len() > 1 {
            let left = if block + 1 < self.blocks.len() {
                block
            } else {
                block - 1
            };
            let right = self.blocks.remove(left + 1);
            self.blocks[left].extend(right);
            if self.blocks[left].len() > self.max_block {
                let half = self.blocks[left].len() / 2;
                let upper = self.blocks[left].split_off(half);
                self.blocks.insert(left + 1, upper);
            }
            self.rebuild_lengths();
        }
        standing
    }

    fn rebuild_lengths(&mut self) {
        self.lengths = Fenwick::from_lengths(self.blocks.iter().map(Vec::len));
    }
}

fn last_position(block: &[Standing]) -> Position<'_> {
    block.last().expect("blocks are never empty").position()
}

/// Prefix sums of block lengths with O(log n) update and query.
#[derive(Debug, Clone, Default)]
struct Fenwick {
    /// 1-based implicit tree: `tree[i - 1]` covers the `i & -i` lengths ending at block `i`.
    tree: Vec<usize>,
}

impl Fenwick {
    /// O(n) construction: each node passes its sum up to its parent once.
    fn from_lengths(lengths: impl Iterator<Item = usize>) -> Self {
        let mut tree: Vec<usize> = lengths.collect();
        for i in 1..=tree.len() {
            let parent = i + (i & i.wrapping_neg());
            if parent <= tree.len() {
                tree[parent - 1] += tree[i - 1];
            }
        }
        Self { tree }
    }

    fn increment(&mut self, block: usize) {
        let mut i = block + 1;
        while i <= self.tree.len() {
            self.tree[i - 1] += 1;
            i += i & i.wrapping_neg();
        }
    }

    fn decrement(&mut self, block: usize) {
        let mut i = block + 1;
        while i <= self.tree.len() {
            self.tree[i - 1] -= 1;
            i += i & i.wrapping_neg();
        }
    }

    /// Total length of the first `blocks` blocks.
    fn prefix(&self, blocks: usize) -> usize {
        let mut sum = 0;
        let mut i = blocks.min(self.tree.len());
        while i > 0 {
            sum += self.tree[i - 1];
            i &= i - 1;
        }
        sum
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn st(key: &str, score: u64, at: i64) -> Standing {
        Standing {
            score,
            achieved_at_ms: at,
            player_key: key.to_owned(),
            player_name: key.to_uppercase(),
        }
    }

    fn keys<'a>(items: impl IntoIterator<Item = &'a Standing>) -> Vec<&'a str> {
        items.into_iter().map(|s| s.player_key.as_str()).collect()
    }

    fn ranked_keys(items: &[Ranked]) -> Vec<(u64, &str)> {
        items
            .iter()
            .map(|r| (r.rank, r.standing.player_key.as_str()))
            .collect()
    }

    impl RankedBoard {
        /// Every structural promise, checked the slow way.
        fn check(&self) {
            let all: Vec<&Standing> = self.iter().collect();
            assert_eq!(all.len(), self.len());
            assert!(all.windows(2).all(|w| w[0] < w[1]), "not in board order");
            for (i, block) in self.blocks.iter().enumerate() {
                assert!(!block.is_empty(), "empty block {i}");
                assert!(block.len() <= self.max_block, "block {i} overflows");
                if self.blocks.len() > 1 {
                    assert!(block.len() >= self.max_block / 4, "block {i} underflows");
                }
            }
            let mut before = 0;
            for i in 0..=self.blocks.len() {
                assert_eq!(self.lengths.prefix(i), before, "prefix of {i} blocks");
                before += self.blocks.get(i).map_or(0, Vec::len);
            }
            for s in &all {
                assert_eq!(
                    self.index.get(&s.player_key),
                    Some(&(s.score, s.achieved_at_ms))
                );
            }
        }
    }

    #[test]
    fn board_order_and_ties() {
        let high = st("z", 100, 50);
        let same_earlier = st("y", 90, 10);
        let same_later = st("a", 90, 20);
        let tie_a = st("b", 80, 5);
        let tie_b = st("c", 80, 5);
        assert!(high.beats(&same_earlier));
        assert!(same_earlier.beats(&same_later), "equal score: earlier wins");
        assert!(tie_a.beats(&tie_b), "equal score and time: key decides");
        assert!(!tie_b.beats(&tie_a));
        assert!(!tie_a.beats(&tie_a));
        // A different name does not move a standing.
        let renamed = Standing {
            player_name: "Other".into(),
            ..tie_a.clone()
        };
        assert!(!renamed.beats(&tie_a) && !tie_a.beats(&renamed));
        assert_ne!(renamed.cmp(&tie_a), Ordering::Equal, "Ord agrees with Eq");

        let mut board = RankedBoard::new();
        for s in [&tie_b, &same_later, &high, &tie_a, &same_earlier] {
            board.submit(s.clone());
        }
        assert_eq!(keys(board.iter()), ["z", "y", "a", "b", "c"]);
        let ranks: Vec<u64> = ["z", "y", "a", "b", "c"]
            .iter()
            .map(|k| board.rank_of(k).unwrap())
            .collect();
        assert_eq!(ranks, [1, 2, 3, 4, 5], "ties still get distinct ranks");
        let mut sorted = vec![tie_b, same_later, high, tie_a, same_earlier];
        sorted.sort();
        assert_eq!(keys(&sorted), ["z", "y", "a", "b", "c"]);
    }

    #[test]
    fn submit_keeps_the_best() {
        let mut board = RankedBoard::new();
        assert_eq!(board.submit(st("p", 50, 100)), Submission::New { rank: 1 });
        assert_eq!(board.submit(st("q", 60, 100)), Submission::New { rank: 1 });

        // Lower score: kept.
        assert_eq!(
            board.submit(st("p", 40, 200)),
            Submission::NotImproved {
                best: st("p", 50, 100),
                rank: 2
            }
        );
        // Equal score later: kept.
        assert_eq!(
            board.submit(st("p", 50, 150)),
            Submission::NotImproved {
                best: st("p", 50, 100),
                rank: 2
            }
        );
        // The very same result again: kept.
        assert!(matches!(
            board.submit(st("p", 50, 100)),
            Submission::NotImproved { .. }
        ));
        // Equal score earlier: replaces.
        assert_eq!(
            board.submit(st("p", 50, 90)),
            Submission::Improved {
                previous: st("p", 50, 100),
                rank: 2
            }
        );
        // Higher score: replaces and moves up.
        let better = board.submit(st("p", 70, 300));
        assert_eq!(
            better,
            Submission::Improved {
                previous: st("p", 50, 90),
                rank: 1
            }
        );
        assert_eq!(better.rank(), 1);
        assert_eq!(board.len(), 2);
        assert_eq!(board.get("p").unwrap().standing, st("p", 70, 300));
        assert_eq!(board.rank_of("q"), Some(2));
        board.check();
    }

    #[test]
    fn remove_and_missing_players() {
        let mut board = RankedBoard::with_block_size(4);
        for i in 0..20 {
            board.submit(st(&format!("k{i:02}"), i, 0));
        }
        assert_eq!(board.rank_of("k19"), Some(1));
        assert_eq!(board.remove("k19"), Some(st("k19", 19, 0)));
        assert_eq!(board.remove("k19"), None);
        assert_eq!(board.rank_of("k19"), None);
        assert_eq!(board.get("k19"), None);
        assert!(board.around("k19", 2, 2).is_empty());
        assert_eq!(board.rank_of("k18"), Some(1));
        assert_eq!(board.len(), 19);
        board.check();
        for i in 0..19 {
            assert!(board.remove(&format!("k{i:02}")).is_some());
            board.check();
        }
        assert!(board.is_empty());
        assert!(board.page(None, 10).is_empty());
        assert_eq!(board.submit(st("again", 1, 1)), Submission::New { rank: 1 });
    }

    #[test]
    fn ranks_agree_between_page_get_and_around() {
        let mut board = RankedBoard::with_block_size(4);
        for i in 0..50u64 {
            // Many ties on score, broken by time and then key.
            board.submit(st(&format!("p{i:02}"), i % 7, (i % 3) as i64));
        }
        board.check();
        let all = board.page(None, usize::MAX);
        assert_eq!(all.len(), 50);
        for (i, r) in all.iter().enumerate() {
            assert_eq!(r.rank, i as u64 + 1);
            let key = &r.standing.player_key;
            assert_eq!(board.get(key).as_ref(), Some(r));
            assert_eq!(board.rank_of(key), Some(r.rank));
            let around = board.around(key, 3, 3);
            let lo = i.saturating_sub(3);
            let hi = (i + 4).min(all.len());
            assert_eq!(around, all[lo..hi], "around {key}");
        }
    }

    #[test]
    fn around_at_the_edges() {
        let mut board = RankedBoard::with_block_size(4);
        for i in 0..10 {
            board.submit(st(&format!("p{i}"), 100 - i, 0));
        }
        assert_eq!(
            ranked_keys(&board.around("p0", 5, 2)),
            [(1, "p0"), (2, "p1"), (3, "p2")]
        );
        assert_eq!(
            ranked_keys(&board.around("p9", 2, 5)),
            [(8, "p7"), (9, "p8"), (10, "p9")]
        );
        assert_eq!(ranked_keys(&board.around("p4", 0, 0)), [(5, "p4")]);
        assert_eq!(board.around("p4", usize::MAX, usize::MAX).len(), 10);
        let mut single = RankedBoard::new();
        single.submit(st("only", 1, 1));
        assert_eq!(ranked_keys(&single.around("only", 3, 3)), [(1, "only")]);
    }

    #[test]
    fn pagination_covers_everything_once_across_blocks() {
        for block in [4, 5, 7, 512] {
            let mut board = RankedBoard::with_block_size(block);
            for i in 0..101u64 {
                board.submit(st(&format!("p{i:03}"), i / 4, (i % 4) as i64));
            }
            board.check();
            for limit in [1, 2, 3, 4, 10, 100, 1000] {
                let mut seen = Vec::new();
                let mut cursor: Option<Standing> = None;
                loop {
                    let page = board.page(cursor.as_ref(), limit);
                    assert!(page.len() <= limit);
                    let Some(last) = page.last() else { break };
                    cursor = Some(last.standing.clone());
                    seen.extend(page);
                }
                assert_eq!(seen.len(), 101, "block {block} limit {limit}");
                for (i, r) in seen.iter().enumerate() {
                    assert_eq!(r.rank, i as u64 + 1);
                }
                let expected: Vec<&Standing> = board.iter().collect();
                let got: Vec<&Standing> = seen.iter().map(|r| &r.standing).collect();
                assert_eq!(got, expected);
            }
            assert!(board.page(None, 0).is_empty());
        }
    }

    #[test]
    fn page_cursor_need_not_be_on_the_board() {
        let mut board = RankedBoard::with_block_size(4);
        for (key, score) in [("a", 50), ("b", 40), ("c", 30), ("d", 20), ("e", 10)] {
            board.submit(st(key, score, 0));
        }
        let page = board.page(Some(&st("b", 40, 0)), 2);
        assert_eq!(ranked_keys(&page), [(3, "c"), (4, "d")]);
        // "b" leaves; its cursor still means "after where b was".
        board.remove("b");
        let page = board.page(Some(&st("b", 40, 0)), 2);
        assert_eq!(ranked_keys(&page), [(2, "c"), (3, "d")]);
        // A cursor that was never on the board, between entries.
        let page = board.page(Some(&st("zz", 35, 0)), 10);
        assert_eq!(ranked_keys(&page), [(2, "c"), (3, "d"), (4, "e")]);
        // The name in a cursor is ignored.
        let mut renamed = st("c", 30, 0);
        renamed.player_name = String::new();
        assert_eq!(
            ranked_keys(&board.page(Some(&renamed), 10)),
            [(3, "d"), (4, "e")]
        );
        // Past the end and before the start.
        assert!(board.page(Some(&st("z", 0, i64::MAX)), 10).is_empty());
        assert_eq!(board.page(Some(&st("", u64::MAX, i64::MIN)), 10).len(), 4);
    }

    #[test]
    fn from_standings_keeps_each_players_best() {
        let input = vec![
            st("a", 5, 10),
            st("b", 7, 10),
            st("a", 9, 20),
            st("a", 9, 30),
            st("c", 7, 5),
        ];
        let board = RankedBoard::from_standings(input.clone());
        board.check();
        assert_eq!(keys(board.iter()), ["a", "c", "b"]);
        assert_eq!(board.get("a").unwrap().standing, st("a", 9, 20));
        let mut submitted = RankedBoard::new();
        for s in input {
            submitted.submit(s);
        }
        assert!(board.iter().eq(submitted.iter()));

        let many = RankedBoard::from_standings((0..5000u64).map(|i| st(&format!("p{i}"), i, 0)));
        many.check();
        assert_eq!(many.rank_of("p4999"), Some(1));
        assert_eq!(many.rank_of("p0"), Some(5000));
    }

    /// A tiny deterministic generator (SplitMix64), so the model test needs no extra crates.
    struct Rng(u64);

    impl Rng {
        fn next(&mut self) -> u64 {
            self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
            let mut z = self.0;
            z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
            z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
            z ^ (z >> 31)
        }

        fn below(&mut self, n: u64) -> u64 {
            self.next() % n
        }
    }

    /// The naive model: a sorted Vec, searched and shifted linearly.
    #[derive(Default)]
    struct Model(Vec<Standing>);

    impl Model {
        fn position_of(&self, key: &str) -> Option<usize> {
            self.0.iter().position(|s| s.player_key == key)
        }

        fn insert(&mut self, s: Standing) -> u64 {
            let at = self.0.partition_point(|e| e < &s);
            self.0.insert(at, s);
            at as u64 + 1
        }

        fn submit(&mut self, s: Standing) -> Submission {
            match self.position_of(&s.player_key) {
                None => Submission::New {
                    rank: self.insert(s),
                },
                Some(i) if s.beats(&self.0[i]) => {
                    let previous = self.0.remove(i);
                    Submission::Improved {
                        previous,
                        rank: self.insert(s),
                    }
                }
                Some(i) => Submission::NotImproved {
                    best: self.0[i].clone(),
                    rank: i as u64 + 1,
                },
            }
        }

        fn ranked(&self, range: std::ops::Range<usize>) -> Vec<Ranked> {
            range
                .map(|i| Ranked {
                    rank: i as u64 + 1,
                    standing: self.0[i].clone(),
                })
                .collect()
        }
    }

    #[test]
    fn matches_a_naive_model() {
        for (seed, block) in [(1, 4), (2, 5), (3, 8), (4, 16), (5, 512)] {
            let mut rng = Rng(seed);
            let mut board = RankedBoard::with_block_size(block);
            let mut model = Model::default();
            let random_standing = |rng: &mut Rng| Standing {
                score: rng.below(30),
                achieved_at_ms: rng.below(40) as i64,
                player_key: format!("k{}", rng.below(300)),
                player_name: format!("n{}", rng.below(3)),
            };
            for step in 0..4000 {
                match rng.below(10) {
                    0..=5 => {
                        let s = random_standing(&mut rng);
                        assert_eq!(board.submit(s.clone()), model.submit(s), "step {step}");
                    }
                    6 => {
                        let key = format!("k{}", rng.below(300));
                        let expected = model.position_of(&key).map(|i| model.0.remove(i));
                        assert_eq!(board.remove(&key), expected, "step {step}");
                    }
                    7 => {
                        let cursor = if rng.below(3) == 0 || model.0.is_empty() {
                            random_standing(&mut rng)
                        } else {
                            model.0[rng.below(model.0.len() as u64) as usize].clone()
                        };
                        let limit = rng.below(25) as usize;
                        let start = model
                            .0
                            .partition_point(|e| e.position() <= cursor.position());
                        let end = (start + limit).min(model.0.len());
                        assert_eq!(board.page(Some(&cursor), limit), model.ranked(start..end));
                        let end = limit.min(model.0.len());
                        assert_eq!(board.page(None, limit), model.ranked(0..end));
                    }
                    8 => {
                        let key = format!("k{}", rng.below(300));
                        let (before, after) = (rng.below(12) as usize, rng.below(12) as usize);
                        let expected = model.position_of(&key).map_or_else(Vec::new, |i| {
                            model.ranked(
                                i.saturating_sub(before)..(i + after + 1).min(model.0.len()),
                            )
                        });
                        assert_eq!(board.around(&key, before, after), expected, "step {step}");
                    }
                    _ => {
                        let key = format!("k{}", rng.below(300));
                        let expected = model.position_of(&key).map(|i| Ranked {
                            rank: i as u64 + 1,
                            standing: model.0[i].clone(),
                        });
                        assert_eq!(board.rank_of(&key), expected.as_ref().map(|r| r.rank));
                        assert_eq!(board.get(&key), expected);
                    }
                }
                assert_eq!(board.len(), model.0.len());
                if step % 50 == 0 {
                    board.check();
                    assert!(board.iter().eq(model.0.iter()));
                }
            }
            board.check();
            assert!(board.iter().eq(model.0.iter()));
            // Drain it, exercising merges all the way down.
            while let Some(s) = model.0.pop() {
                assert_eq!(board.remove(&s.player_key), Some(s));
            }
            board.check();
            assert!(board.is_empty());
        }
    }

    #[test]
    #[ignore = "builds a million-player board; run with --ignored (ideally --release)"]
    fn a_million_players() {
        const N: u64 = 1_000_000;
        let mut board = RankedBoard::new();
        // 7919 is prime, so this gives every player a distinct score in 0..N.
        let score = |i: u64| (i * 7919) % N;
        for i in 0..N {
            let submission = board.submit(Standing {
                score: score(i),
                achieved_at_ms: i as i64,
                player_key: format!("p{i}"),
                player_name: format!("Player {i}"),
            });
            assert!(matches!(submission, Submission::New { .. }));
        }
        assert_eq!(board.len(), N as usize);
        for i in [0, 1, 2, 12_345, 500_000, 999_999] {
            let expected = N - score(i);
            assert_eq!(
                board.rank_of(&format!("p{i}")),
                Some(expected),
                "player {i}"
            );
        }
        let top = board.page(None, 3);
        assert_eq!(
            top.iter().map(|r| r.standing.score).collect::<Vec<_>>(),
            [N - 1, N - 2, N - 3]
        );
        let around = board.around("p500000", 2, 2);
        assert_eq!(around.len(), 5);
        assert_eq!(around[2].rank, N - score(500_000));
        // Taking out the leader moves everyone else up one.
        let leader = top[0].standing.clone();
        assert_eq!(board.remove(&leader.player_key), Some(leader));
        assert_eq!(board.rank_of("p1"), Some(N - score(1) - 1));
        assert_eq!(board.page(None, 1)[0].standing.score, N - 2);
        board.check();
    }
}
