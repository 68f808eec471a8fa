//! 2048, rules version 2: the classic 4 × 4 sliding-tile game. A move slides every tile one
//! way, equal tiles meeting merge once, and a new 2 or 4 appears; a board no move can change
//! ends the game. The new tiles' randomness comes a window at a time
//! ([`crate::rng::WindowedRng`]).
//!
//! The browser module `web/assets/games/2048/sim.js` reproduces every move exactly. The rules
//! are specified in `docs/games/2048.md`; the shared vectors in `vectors/2048.json` keep both
//! implementations in step.

use std::collections::{BTreeMap, VecDeque};

use crate::rng::WindowedRng;
use crate::{Game, Input, Outcome, ReplayError, Seeds};

pub mod bot;

pub const ID: &str = "2048";
pub const RULES_VERSION: u32 = 2;
/// The same clock as every arcade game, so the server paces sessions alike.
pub const TICK_HZ: u32 = 60;
/// Fewest ticks from one input to the next: 20 moves a second, above the sustained pace of the
/// fastest players. The browser holds a key press that comes sooner until this allows it.
pub const MIN_MOVE_GAP: u32 = 3;
/// Three hours of play: a long game of 2048 lasts an hour or more.
pub const MAX_TICKS: u32 = 3 * 60 * 60 * TICK_HZ;
/// As many inputs as [`MIN_MOVE_GAP`] lets into [`MAX_TICKS`], so the count alone never refuses
/// a game the spacing allows.
pub const MAX_INPUTS: usize = MAX_TICKS.div_ceil(MIN_MOVE_GAP) as usize;

/// Human-likeness: the most moves a person keeps up over [`FAST_MOVES_TICKS`] (30 s): ten a
/// second, above the pace of the quickest players (who reach it in bursts, mashing two keys)
/// and half what the spacing rule allows. A game with more moves than this in any such span
/// is flagged [`FLAG_FAST_MOVES`].
pub const FAST_MOVES_MAX: usize = 300;
pub const FAST_MOVES_TICKS: u32 = 30 * TICK_HZ;
pub const FLAG_FAST_MOVES: &str = "fast_moves";

/// Tiles per row and per column.
pub const SIZE: usize = 4;
pub const CELLS: usize = SIZE * SIZE;
/// Tiles on the board before the first move.
pub const START_TILES: usize = 2;
/// A new tile is a 4 when `below(FOUR_ODDS) == 0`, else a 2.
pub const FOUR_ODDS: u32 = 10;
/// Making this tile wins; play goes on.
pub const WIN_TILE: u32 = 2048;
const WIN_EXPONENT: u8 = WIN_TILE.trailing_zeros() as u8;
/// Input values are directions, `0..=3`.
pub const MAX_INPUT_VALUE: u32 = 3;

/// Which way a move slides the tiles; the input value is its number.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Direction {
    Up = 0,
    Right = 1,
    Down = 2,
    Left = 3,
}

impl Direction {
    /// In input-value order.
    pub const ALL: [Direction; 4] = [
        Direction::Up,
        Direction::Right,
        Direction::Down,
        Direction::Left,
    ];

    /// The direction an input value names, if any.
    pub fn from_value(value: u32) -> Option<Self> {
        Self::ALL.get(usize::try_from(value).ok()?).copied()
    }

    /// The input value that names this direction.
    pub const fn value(self) -> u32 {
        self as u32
    }
}

/// The board, row-major from the top-left cell: each cell holds the exponent of its tile (a
/// tile of value `2^e` is `e`), or 0 when empty.
pub type Board = [u8; CELLS];

/// The value of a tile with `exponent` (0 for an empty cell).
pub const fn tile_value(exponent: u8) -> u32 {
    if exponent == 0 { 0 } else { 1 << exponent }
}

/// For each direction (by input value), the cells of each line a move slides, listed from the
/// edge the tiles move toward.
const LINES: [[[usize; SIZE]; SIZE]; 4] = {
    let mut lines = [[[0; SIZE]; SIZE]; 4];
    let mut i = 0;
    while i < SIZE {
        let mut k = 0;
        while k < SIZE {
            let far = SIZE - 1 - k;
            lines[Direction::Up as usize][i][k] = k * SIZE + i;
            lines[Direction::Right as usize][i][k] = i * SIZE + far;
            lines[Direction::Down as usize][i][k] = far * SIZE + i;
            lines[Direction::Left as usize][i][k] = i * SIZE + k;
            k += 1;
        }
        i += 1;
    }
    lines
};

/// The board after sliding `board` toward `dir`, and the points its merges score (the sum of
/// the merged tiles' values). Adds no tile. Each tile merges at most once per move, with the
/// tile next to it on the side it moves toward.
pub fn slide(board: &Board, dir: Direction) -> (Board, u32) {
    let mut out = [0u8; CELLS];
    let mut gained = 0;
    for line in &LINES[dir as usize] {
        // Packed toward the line's start; the last placed tile may take one merge.
        let mut packed = [0u8; SIZE];
        let mut placed = 0;
        let mut mergeable = false;
        for &cell in line {
            let e = board[cell];
            if e == 0 {
                continue;
            }
            if mergeable && packed[placed - 1] == e {
                packed[placed - 1] = e + 1;
                gained += tile_value(e + 1);
                mergeable = false;
            } else {
                packed[placed] = e;
                placed += 1;
                mergeable = true;
            }
        }
        for (&cell, &e) in line.iter().zip(&packed) {
            out[cell] = e;
        }
    }
    (out, gained)
}

/// Whether some move would change `board`: an empty cell, or two equal tiles side by side.
pub fn can_move(board: &Board) -> bool {
    (0..CELLS).any(|i| {
        let e = board[i];
        let (row, col) = (i / SIZE, i % SIZE);
        e == 0 || (col + 1 < SIZE && board[i + 1] == e) || (row + 1 < SIZE && board[i + SIZE] == e)
    })
}

/// A tile that appeared.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Spawn {
    /// Row-major cell index.
    pub cell: usize,
    /// 2 or 4.
    pub value: u32,
}

/// What one move did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Move {
    /// False for a move that changed nothing: it is recorded, but spawns nothing.
    pub changed: bool,
    /// Points scored by its merges.
    pub gained: u32,
    pub spawn: Option<Spawn>,
}

/// The move-by-move simulation, shared by replays, the bot and tests.
#[derive(Debug, Clone)]
pub struct Sim {
    rng: WindowedRng,
    board: Board,
    tick: u32,
    score: u32,
    moves: u32,
    max_exponent: u8,
    /// Tick of the last input played, to pace the next.
    last_input: Option<u32>,
    /// No move can change the board; the game ends with this tick.
    stuck: bool,
    game_over: bool,
    /// Ticks of the moves of the last [`FAST_MOVES_TICKS`], and the most there ever were.
    recent_moves: VecDeque<u32>,
    most_recent_moves: usize,
}

impl Sim {
    /// A new game with the first window's seed.
    pub fn new(first_seed: u32) -> Self {
        let mut sim = Self {
            rng: WindowedRng::new(first_seed),
            board: [0; CELLS],
            tick: 0,
            score: 0,
            moves: 0,
            max_exponent: 0,
            last_input: None,
            stuck: false,
            game_over: false,
            recent_moves: VecDeque::new(),
            most_recent_moves: 0,
        };
        for _ in 0..START_TILES {
            sim.spawn();
        }
        sim
    }

    /// A new tile at a random empty cell: the cell first (`below(empty cells)`, counted
    /// row-major), then its value.
    fn spawn(&mut self) -> Option<Spawn> {
        let mut empty = [0u8; CELLS];
        let mut count = 0;
        for (i, &e) in self.board.iter().enumerate() {
            if e == 0 {
                empty[count] = i as u8;
                count += 1;
            }
        }
        if count == 0 {
            return None;
        }
        let rng = self.rng.at(self.tick);
        let cell = usize::from(empty[rng.below(count as u32) as usize]);
        let exponent = if rng.below(FOUR_ODDS) == 0 { 2 } else { 1 };
        self.board[cell] = exponent;
        self.max_exponent = self.max_exponent.max(exponent);
        Some(Spawn {
            cell,
            value: tile_value(exponent),
        })
    }

    /// Reveals the next window's seed.
    pub fn reveal(&mut self, seed: u32) {
        self.rng.reveal(seed);
    }

    /// Windows revealed so far.
    pub fn revealed(&self) -> u32 {
        self.rng.revealed()
    }

    /// Whether the current tick is in a window not revealed yet: nothing can be played, and
    /// [`Sim::step`] waits.
    pub fn waiting(&self) -> bool {
        !self.game_over && self.tick >= self.rng.revealed_ticks()
    }

    /// Plays a move at the current tick. A move that changes the board adds a tile; one that
    /// does not changes nothing but still counts for pacing. Ignored after game over and in a
    /// window not revealed yet. Pacing ([`MIN_MOVE_GAP`]) is the caller's: replays check it
    /// before playing.
    pub fn play(&mut self, dir: Direction) -> Move {
        let unchanged = Move {
            changed: false,
            gained: 0,
            spawn: None,
        };
        if self.game_over || self.waiting() {
            return unchanged;
        }
        self.last_input = Some(self.tick);
        while self
            .recent_moves
            .front()
            .is_some_and(|&t| t + FAST_MOVES_TICKS <= self.tick)
        {
            self.recent_moves.pop_front();
        }
        self.recent_moves.push_back(self.tick);
        self.most_recent_moves = self.most_recent_moves.max(self.recent_moves.len());
        let (board, gained) = slide(&self.board, dir);
        if board == self.board {
            return unchanged;
        }
        self.board = board;
        self.score += gained;
        self.moves += 1;
        self.max_exponent = self.board.iter().copied().fold(self.max_exponent, u8::max);
        let spawn = self.spawn();
        self.stuck = !can_move(&self.board);
        Move {
            changed: true,
            gained,
            spawn,
        }
    }

    /// Ends the current tick; does nothing after game over, or in a window not revealed yet.
    /// The game is over at the end of the tick whose move left no move possible.
    pub fn step(&mut self) {
        if self.game_over || self.waiting() {
            return;
        }
        self.tick += 1;
        if self.stuck {
            self.game_over = true;
        }
    }

    /// Steps until `tick` ticks were simulated, the game is over, or the windows revealed
    /// run out. Nothing happens between moves, so this is one step and a jump.
    pub fn advance_to(&mut self, tick: u32) {
        let tick = tick.min(self.rng.revealed_ticks());
        if self.tick < tick && !self.game_over {
            self.step();
            if !self.game_over {
                self.tick = tick;
            }
        }
    }

    /// Ticks simulated so far; an input recorded now carries this tick.
    pub fn tick(&self) -> u32 {
        self.tick
    }

    /// The earliest tick the next input may carry.
    pub fn next_move_tick(&self) -> u32 {
        self.last_input.map_or(0, |t| t + MIN_MOVE_GAP)
    }

    pub fn score(&self) -> u32 {
        self.score
    }

    /// Moves that changed the board.
    pub fn moves(&self) -> u32 {
        self.moves
    }

    pub fn board(&self) -> &Board {
        &self.board
    }

    /// Tile values, row-major, 0 for an empty cell.
    pub fn values(&self) -> [u32; CELLS] {
        self.board.map(tile_value)
    }

    /// The largest tile made so far (tiles never shrink, so also the largest on the board).
    pub fn max_tile(&self) -> u32 {
        tile_value(self.max_exponent)
    }

    /// Whether a 2048 tile was made.
    pub fn won(&self) -> bool {
        self.max_exponent >= WIN_EXPONENT
    }

    pub fn game_over(&self) -> bool {
        self.game_over
    }

    pub fn outcome(&self) -> Outcome {
        let stats = BTreeMap::from([
            ("moves".to_owned(), self.moves),
            ("max_tile".to_owned(), self.max_tile()),
            ("won".to_owned(), u32::from(self.won())),
        ]);
        let mut flags = Vec::new();
        if self.most_recent_moves > FAST_MOVES_MAX {
            flags.push(FLAG_FAST_MOVES.to_owned());
        }
        Outcome {
            score: self.score,
            ticks: self.tick,
            game_over: self.game_over,
            stats,
            flags,
        }
    }

    #[cfg(test)]
    fn with_board(seed: u32, values: [u32; CELLS]) -> Self {
        let mut sim = Self::new(seed);
        sim.board = values.map(|v| if v == 0 { 0 } else { v.trailing_zeros() as u8 });
        sim.max_exponent = sim.board.iter().copied().max().unwrap_or(0);
        sim
    }
}

/// The 2048 game as served by the arcade.
#[derive(Debug, Clone, Copy, Default)]
pub struct TwentyFortyEight;

pub static TWENTY_FORTY_EIGHT: TwentyFortyEight = TwentyFortyEight;

/// Checks inputs in order; for each one: order, then spacing, then value, then tick against
/// `end_tick`.
fn validate(
    prev_tick: Option<u32>,
    inputs: &[Input],
    index_base: usize,
    end_tick: u32,
) -> Result<(), ReplayError> {
    let count = index_base.saturating_add(inputs.len());
    if count > MAX_INPUTS {
        return Err(ReplayError::TooManyInputs {
            count,
            max: MAX_INPUTS,
        });
    }
    let mut prev = prev_tick;
    for (i, input) in inputs.iter().enumerate() {
        let index = index_base + i;
        if let Some(p) = prev {
            if input.tick <= p {
                return Err(ReplayError::InputOutOfOrder { index });
            }
            let gap = input.tick - p;
            if gap < MIN_MOVE_GAP {
                return Err(ReplayError::InputsTooClose {
                    index,
                    gap,
                    min_gap: MIN_MOVE_GAP,
                });
            }
        }
        if input.value > MAX_INPUT_VALUE {
            return Err(ReplayError::InputValueOutOfRange {
                index,
                value: input.value,
                max: MAX_INPUT_VALUE,
            });
        }
        if input.tick >= end_tick {
            return Err(ReplayError::InputAfterEnd {
                index,
                tick: input.tick,
                end_tick,
            });
        }
        prev = Some(input.tick);
    }
    Ok(())
}

impl Game for TwentyFortyEight {
    fn id(&self) -> &'static str {
        ID
    }

    fn title(&self) -> &'static str {
        "2048"
    }

    fn description(&self) -> &'static str {
        "Slide the tiles to merge equal numbers; make a 2048 tile, then keep going until no \
         move is left."
    }

    fn rules_version(&self) -> u32 {
        RULES_VERSION
    }

    fn tick_hz(&self) -> u32 {
        TICK_HZ
    }

    fn max_ticks(&self) -> u32 {
        MAX_TICKS
    }

    fn max_inputs(&self) -> usize {
        MAX_INPUTS
    }

    fn check_inputs(
        &self,
        prev_tick: Option<u32>,
        inputs: &[Input],
        index_base: usize,
    ) -> Result<(), ReplayError> {
        validate(prev_tick, inputs, index_base, MAX_TICKS)
    }

    fn replay(
        &self,
        seeds: Seeds<'_>,
        inputs: &[Input],
        end_tick: u32,
    ) -> Result<Outcome, ReplayError> {
        if end_tick > MAX_TICKS {
            return Err(ReplayError::TooManyTicks {
                ticks: end_tick,
                max: MAX_TICKS,
            });
        }
        validate(None, inputs, 0, end_tick)?;

        let mut sim = Sim::new(seeds(0));
        for input in inputs {
            if sim.game_over() {
                break;
            }
            // Validation guarantees the input is not behind the current tick.
            sim.rng.reveal_through(input.tick, seeds);
            sim.advance_to(input.tick);
            if sim.game_over() {
                // Inputs after the game-over tick are ignored: the last frame may record a move.
                break;
            }
            let dir = Direction::from_value(input.value).expect("validated input value");
            sim.play(dir);
            sim.step();
        }
        if let Some(last) = end_tick.checked_sub(1).filter(|_| !sim.game_over()) {
            sim.rng.reveal_through(last, seeds);
        }
        sim.advance_to(end_tick);
        Ok(sim.outcome())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rng::{Xoshiro128StarStar, derived_seeds};
    use Direction::{Down, Left, Right, Up};

    /// Window seeds whose first is `first` (so they match `Sim::new(first)`), the rest
    /// derived from it.
    fn seeds(first: u32) -> impl Fn(u32) -> u32 {
        let rest = derived_seeds(first);
        move |k| if k == 0 { first } else { rest(k) }
    }

    fn input(tick: u32, value: u32) -> Input {
        Input { tick, value }
    }

    fn board(values: [u32; CELLS]) -> Board {
        values.map(|v| if v == 0 { 0 } else { v.trailing_zeros() as u8 })
    }

    fn values(board: &Board) -> [u32; CELLS] {
        board.map(tile_value)
    }

    /// Slides a one-row board left and returns the row and the points.
    fn row_left(row: [u32; 4]) -> ([u32; 4], u32) {
        let mut cells = [0; CELLS];
        cells[..4].copy_from_slice(&row);
        let (out, gained) = slide(&board(cells), Left);
        let v = values(&out);
        ([v[0], v[1], v[2], v[3]], gained)
    }

    /// Plays `moves` one every `MIN_MOVE_GAP` ticks from tick 0, as a replay would, with the
    /// windows of `seeds(seed)`.
    fn play_all(seed: u32, moves: &[Direction]) -> (Sim, Vec<Input>) {
        let mut sim = Sim::new(seed);
        let mut inputs = Vec::new();
        for &dir in moves {
            let tick = sim.next_move_tick();
            sim.rng.reveal_through(tick, &seeds(seed));
            sim.advance_to(tick);
            if sim.game_over() {
                break;
            }
            inputs.push(input(sim.tick(), dir.value()));
            sim.play(dir);
            sim.step();
        }
        (sim, inputs)
    }

    #[test]
    fn directions_are_numbered_clockwise_from_up() {
        assert_eq!(
            Direction::ALL.map(Direction::value),
            [0, 1, 2, 3],
            "up, right, down, left"
        );
        assert_eq!(Direction::from_value(2), Some(Down));
        assert_eq!(Direction::from_value(4), None);
        assert_eq!(Direction::from_value(u32::MAX), None);
        assert_eq!(MAX_INPUT_VALUE, Left.value());
    }

    #[test]
    fn limits_follow_from_the_clock_and_the_spacing() {
        assert_eq!(MAX_TICKS, 648_000);
        assert_eq!(MAX_INPUTS, 216_000);
        // The fastest allowed pace fits exactly.
        let inputs: Vec<Input> = (0..MAX_INPUTS as u32)
            .map(|i| input(i * MIN_MOVE_GAP, i % 4))
            .collect();
        assert_eq!(TWENTY_FORTY_EIGHT.check_inputs(None, &inputs, 0), Ok(()));
        assert_eq!(WIN_EXPONENT, 11);
    }

    #[test]
    fn a_tile_merges_at_most_once_per_move() {
        assert_eq!(row_left([2, 2, 2, 2]), ([4, 4, 0, 0], 8));
        assert_eq!(row_left([4, 4, 8, 0]), ([8, 8, 0, 0], 8));
        assert_eq!(row_left([2, 2, 4, 0]), ([4, 4, 0, 0], 4));
        assert_eq!(row_left([4, 2, 2, 0]), ([4, 4, 0, 0], 4));
        assert_eq!(row_left([2, 2, 4, 4]), ([4, 8, 0, 0], 12));
        assert_eq!(row_left([8, 8, 8, 0]), ([16, 8, 0, 0], 16));
    }

    #[test]
    fn tiles_slide_over_gaps_and_merge_across_them() {
        assert_eq!(row_left([0, 0, 0, 2]), ([2, 0, 0, 0], 0));
        assert_eq!(row_left([2, 0, 0, 2]), ([4, 0, 0, 0], 4));
        assert_eq!(row_left([0, 4, 0, 4]), ([8, 0, 0, 0], 8));
        assert_eq!(row_left([2, 4, 2, 4]), ([2, 4, 2, 4], 0));
        assert_eq!(row_left([0, 2, 4, 8]), ([2, 4, 8, 0], 0));
        assert_eq!(row_left([1024, 1024, 0, 0]), ([2048, 0, 0, 0], 2048));
        assert_eq!(row_left([0; 4]), ([0; 4], 0));
    }

    #[test]
    fn merges_favour_the_tiles_nearest_the_edge_moved_toward() {
        #[rustfmt::skip]
        let b = board([
            2, 2, 2, 0,
            0, 0, 0, 0,
            2, 0, 0, 0,
            2, 0, 0, 0,
        ]);
        #[rustfmt::skip]
        assert_eq!(values(&slide(&b, Right).0), [
            0, 0, 2, 4,
            0, 0, 0, 0,
            0, 0, 0, 2,
            0, 0, 0, 2,
        ]);
        #[rustfmt::skip]
        assert_eq!(values(&slide(&b, Left).0), [
            4, 2, 0, 0,
            0, 0, 0, 0,
            2, 0, 0, 0,
            2, 0, 0, 0,
        ]);
        #[rustfmt::skip]
        assert_eq!(slide(&b, Up), (board([
            4, 2, 2, 0,
            2, 0, 0, 0,
            0, 0, 0, 0,
            0, 0, 0, 0,
        ]), 4));
        #[rustfmt::skip]
        assert_eq!(slide(&b, Down), (board([
            0, 0, 0, 0,
            0, 0, 0, 0,
            2, 0, 0, 0,
            4, 2, 2, 0,
        ]), 4));
    }

    #[test]
    fn can_move_sees_gaps_and_neighbours_only() {
        #[rustfmt::skip]
        let locked = board([
            2, 4, 2, 4,
            4, 2, 4, 2,
            2, 4, 2, 4,
            4, 2, 4, 2,
        ]);
        assert!(!can_move(&locked));
        assert!(
            Direction::ALL
                .iter()
                .all(|&d| slide(&locked, d).0 == locked)
        );
        let mut gap = locked;
        gap[15] = 0;
        assert!(can_move(&gap));
        let mut pair = locked;
        pair[15] = pair[11];
        assert!(can_move(&pair));
        let mut side = locked;
        side[14] = side[15];
        assert!(can_move(&side));
        // Wrapping from one row's end to the next row's start is no neighbour.
        let mut wrap = locked;
        wrap[4] = 8;
        wrap[3] = 8;
        assert!(!can_move(&wrap));
    }

    #[test]
    fn the_start_tiles_are_drawn_cell_first_then_value() {
        for seed in [0, 1, 42, u32::MAX] {
            let mut rng = Xoshiro128StarStar::new(seed);
            let mut expected = [0u32; CELLS];
            for empty in [16, 15] {
                let nth = rng.below(empty) as usize;
                let cell = (0..CELLS).filter(|&i| expected[i] == 0).nth(nth).unwrap();
                expected[cell] = if rng.below(10) == 0 { 4 } else { 2 };
            }
            let mut sim = Sim::new(seed);
            assert_eq!(sim.values(), expected, "seed {seed}");
            assert_eq!(Sim::new(seed).board(), sim.board());
            assert_eq!(sim.board().iter().filter(|&&e| e != 0).count(), 2);
            assert_eq!(*sim.rng.at(0), rng, "seed {seed}: no other draw");
        }
    }

    #[test]
    fn about_one_new_tile_in_ten_is_a_four() {
        let fours = (0..5_000u32)
            .flat_map(|s| Sim::new(s.wrapping_mul(0x9E37_79B9)).values())
            .filter(|&v| v == 4)
            .count();
        // 10,000 tiles: expect 1,000.
        assert!((850..1_150).contains(&fours), "{fours}");
    }

    #[test]
    fn a_move_adds_one_tile_in_an_empty_cell() {
        let mut sim = Sim::new(3);
        for dir in [Down, Left, Down, Right, Up, Left, Down, Down, Left] {
            let before = *sim.board();
            let (slid, gained) = slide(&before, dir);
            let mv = sim.play(dir);
            sim.step();
            assert_eq!(mv.changed, slid != before);
            if mv.changed {
                let spawn = mv.spawn.unwrap();
                assert_eq!(slid[spawn.cell], 0);
                assert!(spawn.value == 2 || spawn.value == 4);
                let mut expected = slid;
                expected[spawn.cell] = spawn.value.trailing_zeros() as u8;
                assert_eq!(*sim.board(), expected);
                assert_eq!(mv.gained, gained);
            }
        }
    }

    #[test]
    fn a_move_that_changes_nothing_spawns_nothing_and_draws_nothing() {
        #[rustfmt::skip]
        let mut sim = Sim::with_board(5, [
            2, 4, 0, 0,
            0, 0, 0, 0,
            0, 0, 0, 0,
            0, 0, 0, 0,
        ]);
        let rng = sim.rng.clone();
        let before = *sim.board();
        for dir in [Up, Left] {
            let mv = sim.play(dir);
            sim.step();
            assert_eq!(
                mv,
                Move {
                    changed: false,
                    gained: 0,
                    spawn: None
                }
            );
        }
        assert_eq!(*sim.board(), before);
        assert_eq!(sim.rng, rng);
        assert_eq!((sim.moves(), sim.score(), sim.tick()), (0, 0, 2));
        // It still counts for pacing.
        assert_eq!(sim.next_move_tick(), 1 + MIN_MOVE_GAP);
        assert!(sim.play(Down).changed);
        assert_eq!(sim.moves(), 1);
    }

    #[test]
    fn the_game_ends_with_the_tick_of_the_move_that_locks_the_board() {
        // Moving right frees only the bottom-left cell, whose neighbours (8 and 16) no new
        // tile can match.
        #[rustfmt::skip]
        let locking = [
            2, 4, 2, 4,
            4, 2, 4, 2,
            8, 4, 2, 4,
            16, 32, 64, 0,
        ];
        let mut sim = Sim::with_board(9, locking);
        sim.advance_to(40);
        let mv = sim.play(Right);
        assert_eq!(mv.spawn.map(|s| s.cell), Some(12));
        assert!(!sim.game_over(), "over at the end of the tick");
        sim.step();
        assert!(sim.game_over());
        assert_eq!(sim.tick(), 41);
        let end = sim.clone();
        assert!(!sim.play(Up).changed);
        sim.step();
        sim.advance_to(500);
        assert_eq!((sim.tick(), sim.board()), (end.tick(), end.board()));
        assert_eq!(sim.outcome(), end.outcome());
        assert!(sim.outcome().game_over);
    }

    #[test]
    fn making_2048_wins_and_play_goes_on() {
        #[rustfmt::skip]
        let mut sim = Sim::with_board(2, [
            1024, 1024, 0, 0,
            0, 0, 0, 0,
            0, 0, 0, 0,
            0, 0, 0, 0,
        ]);
        assert!(!sim.won());
        let mv = sim.play(Left);
        sim.step();
        assert_eq!(mv.gained, 2048);
        assert!(sim.won());
        assert_eq!(sim.max_tile(), 2048);
        let stats = sim.outcome().stats;
        assert_eq!(
            (stats["won"], stats["max_tile"], stats["moves"]),
            (1, 2048, 1)
        );
        sim.advance_to(sim.next_move_tick());
        assert!(sim.play(Right).changed);
        assert!(!sim.game_over());
    }

    #[test]
    fn replay_applies_each_move_at_its_tick() {
        let moves = [Down, Left, Down, Right, Down, Left, Up, Left, Down, Down];
        let ticks = [0, 3, 9, 10 + 60, 200, 203, 206, 400, 500, 1_000];
        let inputs: Vec<Input> = moves
            .iter()
            .zip(ticks)
            .map(|(d, t)| input(t, d.value()))
            .collect();
        let mut sim = Sim::new(77);
        let step = |sim: &mut Sim| {
            if sim.waiting() {
                sim.reveal(seeds(77)(sim.revealed()));
            }
            sim.step();
        };
        for i in &inputs {
            while sim.tick() < i.tick && !sim.game_over() {
                step(&mut sim);
            }
            sim.play(Direction::from_value(i.value).unwrap());
        }
        while sim.tick() < 1_200 && !sim.game_over() {
            step(&mut sim);
        }
        let outcome = TWENTY_FORTY_EIGHT
            .replay(&seeds(77), &inputs, 1_200)
            .unwrap();
        assert_eq!(outcome, sim.outcome());
        assert_eq!(outcome.ticks, 1_200);
        assert_eq!(
            TWENTY_FORTY_EIGHT.replay(&seeds(77), &[], 0).unwrap().ticks,
            0
        );
        let untouched = TWENTY_FORTY_EIGHT.replay(&seeds(77), &[], 100).unwrap();
        assert_eq!((untouched.ticks, untouched.score), (100, 0));
        assert_eq!(untouched.stats["moves"], 0);
        assert!(!untouched.game_over);
    }

    #[test]
    fn replay_equals_play_move_by_move_to_game_over() {
        // Cycling three directions locks the board in a few hundred moves.
        for seed in [1, 2, 3, 0xDEAD_BEEF] {
            let moves: Vec<Direction> = [Down, Left, Right]
                .into_iter()
                .cycle()
                .take(5_000)
                .collect();
            let (sim, mut inputs) = play_all(seed, &moves);
            assert!(sim.game_over(), "seed {seed}");
            let end = sim.tick();
            let outcome = TWENTY_FORTY_EIGHT
                .replay(&seeds(seed), &inputs, MAX_TICKS)
                .unwrap();
            assert_eq!(outcome, sim.outcome(), "seed {seed}");
            assert_eq!(outcome.ticks, end);
            assert_eq!(outcome.ticks, inputs.last().unwrap().tick + 1);
            // Inputs after game over are accepted and ignored.
            inputs.push(input(end + 10, 0));
            inputs.push(input(end + 13, 3));
            let late = TWENTY_FORTY_EIGHT
                .replay(&seeds(seed), &inputs, MAX_TICKS)
                .unwrap();
            assert_eq!(late, outcome);
        }
    }

    #[test]
    fn replay_stops_at_end_tick() {
        let moves: Vec<Direction> = [Down, Left].into_iter().cycle().take(30).collect();
        let (_, inputs) = play_all(4, &moves);
        let last = inputs.last().unwrap().tick;
        // An input on the last simulated tick counts.
        let outcome = TWENTY_FORTY_EIGHT
            .replay(&seeds(4), &inputs, last + 1)
            .unwrap();
        assert_eq!(outcome.ticks, last + 1);
        let (sim, _) = play_all(4, &moves);
        assert_eq!(outcome.score, sim.score());
        assert_eq!(
            TWENTY_FORTY_EIGHT.replay(&seeds(4), &inputs, last),
            Err(ReplayError::InputAfterEnd {
                index: inputs.len() - 1,
                tick: last,
                end_tick: last
            })
        );
    }

    #[test]
    fn inputs_closer_than_the_gap_are_refused() {
        let g = &TWENTY_FORTY_EIGHT;
        assert_eq!(g.check_inputs(None, &[], 0), Ok(()));
        assert_eq!(
            g.check_inputs(None, &[input(0, 0), input(3, 1), input(6, 2)], 0),
            Ok(())
        );
        assert_eq!(
            g.check_inputs(None, &[input(0, 0), input(3, 1), input(5, 2)], 0),
            Err(ReplayError::InputsTooClose {
                index: 2,
                gap: 2,
                min_gap: MIN_MOVE_GAP
            })
        );
        // Across batches, against the last input already accepted.
        assert_eq!(g.check_inputs(Some(10), &[input(13, 1)], 7), Ok(()));
        assert_eq!(
            g.check_inputs(Some(10), &[input(11, 1)], 7),
            Err(ReplayError::InputsTooClose {
                index: 7,
                gap: 1,
                min_gap: MIN_MOVE_GAP
            })
        );
        // Order is checked before spacing.
        assert_eq!(
            g.check_inputs(Some(10), &[input(10, 1)], 7),
            Err(ReplayError::InputOutOfOrder { index: 7 })
        );
        let err = g
            .replay(&seeds(1), &[input(0, 0), input(1, 2)], 100)
            .expect_err("too close");
        assert_eq!(err.reason(), "inputs_too_close");
        assert!(err.to_string().contains("at least 3 ticks apart"), "{err}");
    }

    #[test]
    fn check_inputs_errors() {
        let g = &TWENTY_FORTY_EIGHT;
        assert_eq!(
            g.check_inputs(None, &[input(0, 3), input(4, 4)], 0),
            Err(ReplayError::InputValueOutOfRange {
                index: 1,
                value: 4,
                max: 3
            })
        );
        assert_eq!(
            g.check_inputs(None, &[input(MAX_TICKS, 1)], 0),
            Err(ReplayError::InputAfterEnd {
                index: 0,
                tick: MAX_TICKS,
                end_tick: MAX_TICKS
            })
        );
        assert_eq!(
            g.check_inputs(Some(0), &[input(3, 1), input(6, 2)], MAX_INPUTS - 1),
            Err(ReplayError::TooManyInputs {
                count: MAX_INPUTS + 1,
                max: MAX_INPUTS
            })
        );
    }

    #[test]
    fn replay_errors() {
        let g = &TWENTY_FORTY_EIGHT;
        assert_eq!(
            g.replay(&seeds(1), &[], MAX_TICKS + 1),
            Err(ReplayError::TooManyTicks {
                ticks: MAX_TICKS + 1,
                max: MAX_TICKS
            })
        );
        assert_eq!(
            g.replay(&seeds(1), &[input(6, 1), input(3, 1)], 10),
            Err(ReplayError::InputOutOfOrder { index: 1 })
        );
        assert_eq!(
            g.replay(&seeds(1), &[input(10, 1)], 10),
            Err(ReplayError::InputAfterEnd {
                index: 0,
                tick: 10,
                end_tick: 10
            })
        );
        let many: Vec<Input> = (0..=MAX_INPUTS as u32)
            .map(|i| input(i * MIN_MOVE_GAP, 0))
            .collect();
        assert_eq!(
            g.replay(&seeds(1), &many, MAX_TICKS),
            Err(ReplayError::TooManyInputs {
                count: MAX_INPUTS + 1,
                max: MAX_INPUTS
            })
        );
    }

    #[test]
    fn the_sim_waits_at_a_window_it_was_not_given() {
        let mut sim = Sim::new(5);
        sim.advance_to(5_000);
        assert_eq!(sim.tick(), crate::WINDOW_TICKS);
        assert!(sim.waiting());
        assert_eq!(sim.play(Down), sim.play(Up));
        assert!(
            !sim.play(Down).changed && sim.next_move_tick() == 0,
            "nothing played"
        );
        sim.step();
        assert_eq!(sim.tick(), crate::WINDOW_TICKS);
        sim.reveal(6);
        assert!(!sim.waiting());
        let before = sim.board().iter().filter(|&&e| e != 0).count();
        let played = [Down, Left, Up, Right].into_iter().find_map(|d| {
            let m = sim.play(d);
            m.changed.then_some(m)
        });
        assert!(played.is_some_and(|m| m.spawn.is_some()));
        assert!(sim.board().iter().filter(|&&e| e != 0).count() <= before + 1);
    }

    #[test]
    fn each_window_draws_its_tiles_from_its_own_seed() {
        let first = seeds(9);
        let (inputs, _) = bot::play(&first, 100, 2 * crate::WINDOW_TICKS);
        let other = |k| if k == 1 { 777 } else { first(k) };
        let board = |seeds: &dyn Fn(u32) -> u32, end| {
            let mut sim = Sim::new(seeds(0));
            for i in inputs.iter().filter(|i| i.tick < end) {
                sim.rng.reveal_through(i.tick, seeds);
                sim.advance_to(i.tick);
                sim.play(Direction::from_value(i.value).unwrap());
                sim.step();
            }
            *sim.board()
        };
        let window = crate::WINDOW_TICKS;
        assert_eq!(board(&first, window), board(&other, window));
        assert_ne!(board(&first, 2 * window), board(&other, 2 * window));
    }

    #[test]
    fn a_script_that_moves_faster_than_people_is_flagged() {
        // A move every 3 ticks (20 a second) for a minute.
        let moves: Vec<Direction> = [Up, Down].into_iter().cycle().take(1_200).collect();
        let (sim, inputs) = play_all(2, &moves);
        let outcome = TWENTY_FORTY_EIGHT
            .replay(&seeds(2), &inputs, sim.tick())
            .unwrap();
        assert!(inputs.len() > FAST_MOVES_MAX, "{outcome:?}");
        assert_eq!(outcome.flags, [FLAG_FAST_MOVES], "{outcome:?}");
        // Seven and a half a second is still a person's pace.
        let paced: Vec<Input> = inputs
            .iter()
            .enumerate()
            .map(|(i, m)| input(i as u32 * 8, m.value))
            .collect();
        let end = paced.last().unwrap().tick + 1;
        let outcome = TWENTY_FORTY_EIGHT.replay(&seeds(2), &paced, end).unwrap();
        assert_eq!(outcome.flags, Vec::<String>::new(), "{outcome:?}");
    }
}
