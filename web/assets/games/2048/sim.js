// 2048 simulation, rules version 2. The server replays recorded moves with the Rust
// implementation (crates/arcade-games/src/twenty_forty_eight.rs), so this module must match it
// move for move: same PRNG, same order of draws, same merge rule. The shared vectors in
// crates/arcade-games/vectors/2048.json check both. Rules: docs/games/2048.md.
//
// Beyond the rules, it keeps what a renderer needs to animate each move (where every tile
// slid, which tiles merged, which tile is new) without any say over the outcome, and it
// paces key presses: one that comes too soon waits for the next tick that allows a move.

// Relative, so that it resolves both in the browser and under `node --test`.
import { WINDOW_TICKS, createWindowedRng, seedsOf } from "../../js/rng.js";

export { WINDOW_TICKS } from "../../js/rng.js";

export const GAME_ID = "2048";
export const RULES_VERSION = 2;
export const TICK_HZ = 60;
/** Fewest ticks from one recorded move to the next (20 moves a second). */
export const MIN_MOVE_GAP = 3;
/** Three hours of play. */
export const MAX_TICKS = 3 * 60 * 60 * TICK_HZ;
export const MAX_INPUTS = Math.ceil(MAX_TICKS / MIN_MOVE_GAP);

export const SIZE = 4;
export const CELLS = SIZE * SIZE;
export const START_TILES = 2;
/** A new tile is a 4 when below(FOUR_ODDS) === 0, else a 2. */
export const FOUR_ODDS = 10;
export const WIN_TILE = 2048;
export const MAX_INPUT_VALUE = 3;
/** Presses held while moves are too close together; more are dropped. */
export const MAX_QUEUED_PRESSES = 2;

/** Input values of the four moves. */
export const Direction = Object.freeze({ UP: 0, RIGHT: 1, DOWN: 2, LEFT: 3 });

const isDirection = (d) => d === 0 || d === 1 || d === 2 || d === 3;

/**
 * For each direction (by input value), the cells (row-major) of each line a move slides,
 * listed from the edge the tiles move toward.
 */
const LINES = [Direction.UP, Direction.RIGHT, Direction.DOWN, Direction.LEFT].map((dir) =>
  Array.from({ length: SIZE }, (_, i) =>
    Array.from({ length: SIZE }, (_, k) => {
      const far = SIZE - 1 - k;
      switch (dir) {
        case Direction.UP:
          return k * SIZE + i;
        case Direction.RIGHT:
          return i * SIZE + far;
        case Direction.DOWN:
          return far * SIZE + i;
        default:
          return i * SIZE + k;
      }
    }),
  ),
);

/**
 * Slides a board of 16 tile values (row-major, 0 for empty) toward `direction`. Returns
 * {values, gained}: the new values and the points its merges score. Adds no tile.
 */
export function slide(values, direction) {
  const out = new Array(CELLS).fill(0);
  let gained = 0;
  for (const line of LINES[direction]) {
    let placed = 0;
    let mergeable = false;
    for (const cell of line) {
      const v = values[cell];
      if (v === 0) continue;
      if (mergeable && out[line[placed - 1]] === v) {
        out[line[placed - 1]] = v * 2;
        gained += v * 2;
        mergeable = false;
      } else {
        out[line[placed]] = v;
        placed += 1;
        mergeable = true;
      }
    }
  }
  return { values: out, gained };
}

/** Whether some move would change a board of 16 values: a gap or two equal neighbours. */
export function canMove(values) {
  for (let i = 0; i < CELLS; i++) {
    const v = values[i];
    if (v === 0) return true;
    if (i % SIZE < SIZE - 1 && values[i + 1] === v) return true;
    if (i + SIZE < CELLS && values[i + SIZE] === v) return true;
  }
  return false;
}

const rowOf = (cell) => Math.floor(cell / SIZE);
const colOf = (cell) => cell % SIZE;

export class TwentyFortyEightSim {
  #rng;
  /** Row-major cells: a tile {id, value} or null. */
  #cells = new Array(CELLS).fill(null);
  #nextId = 0;
  #tick = 0;
  #score = 0;
  #moves = 0;
  #maxTile = 0;
  #lastInput = -1;
  #stuck = false;
  #gameOver = false;
  #inputs = [];
  #queue = [];
  #lastMove = null;

  /** A new game with the first window's seed. */
  constructor(firstSeed) {
    this.#rng = createWindowedRng(firstSeed);
    for (let i = 0; i < START_TILES; i++) this.#spawn();
  }

  /** Reveals the next window's seed. */
  reveal(seed) {
    this.#rng.reveal(seed);
  }

  /** Windows revealed so far. */
  get revealed() {
    return this.#rng.revealed;
  }

  /** Whether the current tick is in a window not revealed yet: no move, and `step()` waits. */
  get waiting() {
    return !this.#gameOver && this.#tick >= this.#rng.revealedTicks;
  }

  /** A new tile at a random empty cell: the cell first (counted row-major), then its value. */
  #spawn() {
    const empty = [];
    this.#cells.forEach((tile, cell) => {
      if (tile === null) empty.push(cell);
    });
    if (empty.length === 0) return null;
    const rng = this.#rng.at(this.#tick);
    const cell = empty[rng.below(empty.length)];
    const value = rng.below(FOUR_ODDS) === 0 ? 4 : 2;
    const tile = { id: this.#nextId++, value };
    this.#cells[cell] = tile;
    this.#maxTile = Math.max(this.#maxTile, value);
    return { id: tile.id, value, row: rowOf(cell), col: colOf(cell) };
  }

  /**
   * Records a move at the current tick and plays it, if a move is allowed now (not game
   * over, at least MIN_MOVE_GAP ticks after the last one). Returns what it did (see
   * `lastMove`), or null when it was not allowed and nothing was recorded. A move that
   * changes nothing is still recorded, and spawns nothing.
   */
  move(direction) {
    if (!isDirection(direction)) throw new RangeError(`${direction} is not a direction (0-3)`);
    if (this.#gameOver || this.waiting || this.#tick < this.nextMoveTick) return null;
    this.#inputs.push([this.#tick, direction]);
    this.#lastInput = this.#tick;

    const before = this.#cells;
    const after = new Array(CELLS).fill(null);
    const slides = [];
    const merges = [];
    let gained = 0;
    let changed = false;
    for (const line of LINES[direction]) {
      let placed = 0;
      let mergeable = false;
      for (const cell of line) {
        const tile = before[cell];
        if (tile === null) continue;
        let to;
        if (mergeable && after[line[placed - 1]].value === tile.value) {
          to = line[placed - 1];
          const resident = after[to];
          const merged = { id: -1, value: tile.value * 2 };
          after[to] = merged;
          gained += merged.value;
          merges.push({ tile: merged, cell: to, sources: [resident.id, tile.id] });
          mergeable = false;
        } else {
          to = line[placed];
          after[to] = tile;
          placed += 1;
          mergeable = true;
        }
        if (to !== cell) changed = true;
        slides.push({
          id: tile.id,
          value: tile.value,
          fromRow: rowOf(cell),
          fromCol: colOf(cell),
          toRow: rowOf(to),
          toCol: colOf(to),
        });
      }
    }

    let spawn = null;
    let justWon = false;
    if (changed) {
      // Ids in board order, so they do not depend on the direction's line order.
      merges.sort((a, b) => a.cell - b.cell);
      for (const m of merges) m.tile.id = this.#nextId++;
      this.#cells = after;
      this.#score += gained;
      this.#moves += 1;
      const wasWon = this.won;
      for (const m of merges) this.#maxTile = Math.max(this.#maxTile, m.tile.value);
      justWon = !wasWon && this.won;
      spawn = this.#spawn();
      this.#stuck = !canMove(this.board);
    }
    this.#lastMove = {
      tick: this.#tick,
      direction,
      changed,
      gained,
      slides,
      merges: merges.map((m) => ({
        id: m.tile.id,
        value: m.tile.value,
        row: rowOf(m.cell),
        col: colOf(m.cell),
        sources: m.sources,
      })),
      spawn,
      justWon,
    };
    return this.#lastMove;
  }

  /**
   * A key press: played now if a move is allowed, else held (up to MAX_QUEUED_PRESSES) and
   * played by the first `step()` that allows it. Returns the move if it was played now,
   * null if it was held or dropped (game over, queue full).
   */
  press(direction) {
    if (!isDirection(direction)) throw new RangeError(`${direction} is not a direction (0-3)`);
    if (this.#gameOver) return null;
    if (this.#queue.length === 0 && this.#tick >= this.nextMoveTick && !this.waiting) {
      return this.move(direction);
    }
    if (this.#queue.length < MAX_QUEUED_PRESSES) this.#queue.push(direction);
    return null;
  }

  /**
   * Simulates one tick: first a held press, if a move is allowed now, then the tick ends.
   * The game is over at the end of the tick whose move left no move possible. Returns the
   * move played during this tick, or null. Does nothing after game over.
   */
  step() {
    if (this.#gameOver || this.waiting) return null;
    let played = null;
    if (this.#queue.length > 0 && this.#tick >= this.nextMoveTick) {
      played = this.move(this.#queue.shift());
    }
    this.#tick += 1;
    if (this.#stuck) {
      this.#gameOver = true;
      this.#queue.length = 0;
    }
    return played;
  }

  /**
   * Steps until `tick` ticks were simulated, the game is over or the revealed windows run
   * out, as replays do (nothing happens between moves, so it is one step and a jump).
   * Ignores held presses.
   */
  advanceTo(target) {
    const tick = Math.min(target, this.#rng.revealedTicks);
    if (this.#tick < tick && !this.#gameOver) {
      this.#tick += 1;
      if (this.#stuck) this.#gameOver = true;
      else this.#tick = tick;
    }
  }

  /** Ticks simulated so far; a move recorded now carries this tick. */
  get tick() {
    return this.#tick;
  }
  /** The earliest tick the next move may be recorded at. */
  get nextMoveTick() {
    return this.#lastInput < 0 ? 0 : this.#lastInput + MIN_MOVE_GAP;
  }
  get score() {
    return this.#score;
  }
  /** Moves that changed the board. */
  get moves() {
    return this.#moves;
  }
  /** The largest tile made so far. */
  get maxTile() {
    return this.#maxTile;
  }
  /** Whether a 2048 tile was made; play goes on. */
  get won() {
    return this.#maxTile >= WIN_TILE;
  }
  get gameOver() {
    return this.#gameOver;
  }
  /** Presses held for a later tick. */
  get pending() {
    return this.#queue.length;
  }
  /** Tile values, row-major, 0 for an empty cell (a fresh array). */
  get board() {
    return this.#cells.map((t) => (t === null ? 0 : t.value));
  }
  /** The tiles on the board, row-major: {id, value, row, col} (fresh objects). */
  get tiles() {
    const tiles = [];
    this.#cells.forEach((t, cell) => {
      if (t !== null) tiles.push({ id: t.id, value: t.value, row: rowOf(cell), col: colOf(cell) });
    });
    return tiles;
  }
  /**
   * The last move played, or null before the first:
   * {tick, direction, changed, gained, slides, merges, spawn, justWon}.
   * - slides: every tile on the board before the move, {id, value, fromRow, fromCol, toRow,
   *   toCol}, including the two tiles of each merge (both slide to the merge's cell, then
   *   give way to the merged tile); when nothing changed, every tile stays where it was.
   * - merges: the tiles made by merging, {id, value, row, col, sources: [idA, idB]}, where
   *   idA stayed nearer the edge moved toward.
   * - spawn: the new tile {id, value, row, col}, or null.
   * - justWon: this move made the first 2048 tile.
   * Every tile id is new when the tile appears (spawned or merged) and never reused.
   */
  get lastMove() {
    return this.#lastMove;
  }
  /** Recorded moves as [tick, direction] pairs, in order; final once recorded. */
  get inputs() {
    return this.#inputs;
  }

  outcome() {
    return {
      score: this.#score,
      ticks: this.#tick,
      gameOver: this.#gameOver,
      stats: { max_tile: this.#maxTile, moves: this.#moves, won: this.won ? 1 : 0 },
    };
  }
}

export class ReplayError extends Error {
  constructor(reason, message, details) {
    super(message);
    this.name = "ReplayError";
    /** Same label as the Rust `ReplayError::reason`. */
    this.reason = reason;
    Object.assign(this, details);
  }
}

const isU32 = (n) => Number.isInteger(n) && n >= 0 && n <= 0xffffffff;

function validate(inputs, endTick) {
  if (inputs.length > MAX_INPUTS) {
    throw new ReplayError("too_many_inputs", `${inputs.length} inputs, more than ${MAX_INPUTS}`, {
      count: inputs.length,
      max: MAX_INPUTS,
    });
  }
  let prev = -1;
  inputs.forEach((input, index) => {
    const [tick, value] = Array.isArray(input) ? input : [];
    if (!isU32(tick) || !isU32(value)) {
      throw new TypeError(`input ${index} is not a [tick, value] pair of unsigned integers`);
    }
    if (prev >= 0 && tick <= prev) {
      throw new ReplayError(
        "input_out_of_order",
        `input ${index} does not come after the previous input`,
        { index },
      );
    }
    if (prev >= 0 && tick - prev < MIN_MOVE_GAP) {
      throw new ReplayError(
        "inputs_too_close",
        `input ${index} comes ${tick - prev} ticks after the previous one, ` +
          `but inputs must be at least ${MIN_MOVE_GAP} ticks apart`,
        { index, gap: tick - prev, minGap: MIN_MOVE_GAP },
      );
    }
    if (value > MAX_INPUT_VALUE) {
      throw new ReplayError("input_value_out_of_range", `input ${index} has value ${value}`, {
        index,
        value,
        max: MAX_INPUT_VALUE,
      });
    }
    if (tick >= endTick) {
      throw new ReplayError(
        "input_after_end",
        `input ${index} is at tick ${tick}, not before ${endTick}`,
        { index, tick, endTick },
      );
    }
    prev = tick;
  });
}

/** Reveals windows to `sim` from `seedOf` until tick `tick` can be simulated. */
function revealThrough(sim, tick, seedOf) {
  while (sim.revealed * WINDOW_TICKS <= tick) sim.reveal(seedOf(sim.revealed));
}

/**
 * Replays like the server: with the windows' `seeds` (a list, or a function of the window
 * number), playing each [tick, direction] input at its tick, until game over or `endTick`
 * ticks. Returns {score, ticks, gameOver, stats}; throws a ReplayError (with `.reason`) for
 * inputs the server would reject.
 */
export function replay(seeds, inputs, endTick) {
  const seedOf = seedsOf(seeds);
  if (!isU32(endTick)) throw new TypeError("endTick must be an unsigned integer");
  if (endTick > MAX_TICKS) {
    throw new ReplayError("too_many_ticks", `${endTick} ticks, more than ${MAX_TICKS}`, {
      ticks: endTick,
      max: MAX_TICKS,
    });
  }
  validate(inputs, endTick);

  const sim = new TwentyFortyEightSim(seedOf(0));
  for (const [tick, direction] of inputs) {
    // Inputs after the game-over tick are ignored: the last frame may record a move.
    if (sim.gameOver) break;
    revealThrough(sim, tick, seedOf);
    sim.advanceTo(tick);
    if (sim.gameOver) break;
    sim.move(direction);
    sim.step();
  }
  if (endTick > 0 && !sim.gameOver) revealThrough(sim, endTick - 1, seedOf);
  sim.advanceTo(endTick);
  return sim.outcome();
}
