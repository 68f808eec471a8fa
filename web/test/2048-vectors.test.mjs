// Checks the browser 2048 simulation against the vectors the Rust implementation generated
// (crates/arcade-games/vectors/2048.json), so the two cannot drift, and checks what it tells a
// renderer about each move.

import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { test } from "node:test";

import {
  Direction,
  MAX_INPUTS,
  MAX_QUEUED_PRESSES,
  MAX_TICKS,
  MIN_MOVE_GAP,
  RULES_VERSION,
  TwentyFortyEightSim,
  WINDOW_TICKS,
  canMove,
  replay,
  slide,
} from "../assets/games/2048/sim.js";

const vectorsUrl = new URL("../../crates/arcade-games/vectors/2048.json", import.meta.url);
const file = JSON.parse(readFileSync(vectorsUrl, "utf8"));

const toJsOutcome = (e) => ({
  score: e.score,
  ticks: e.ticks,
  gameOver: e.game_over,
  stats: e.stats,
});

/**
 * Drives the sim tick by tick as the browser does, recording moves with `move` and revealing
 * each window of `seeds` when the game reaches it.
 */
function play(seeds, inputs, endTick, onMove = () => {}) {
  const sim = new TwentyFortyEightSim(seeds[0]);
  let next = 0;
  while (sim.tick < endTick && !sim.gameOver) {
    if (sim.waiting) sim.reveal(seeds[sim.revealed]);
    if (next < inputs.length && inputs[next][0] === sim.tick) {
      const before = sim.tiles;
      const move = sim.move(inputs[next][1]);
      assert.ok(move, `move at tick ${sim.tick} refused`);
      onMove(before, move, sim);
      next += 1;
    }
    sim.step();
  }
  return sim;
}

test("vector file header", () => {
  assert.equal(file.game, "2048");
  assert.equal(file.rules_version, RULES_VERSION);
  assert.equal(file.min_move_gap, MIN_MOVE_GAP);
  assert.equal(file.window_ticks, WINDOW_TICKS);
  assert.ok(file.vectors.length >= 10);
});

for (const c of file.slides) {
  test(`slide: ${c.name} direction ${c.direction}`, () => {
    assert.deepEqual(slide(c.board, c.direction), { values: c.expected, gained: c.gained });
  });
}

for (const v of file.vectors) {
  test(`replay: ${v.name}`, () => {
    assert.deepEqual(replay(v.seeds, v.inputs, v.end_tick), toJsOutcome(v.expected));
  });
}

for (const r of file.rejections) {
  test(`rejection: ${r.name}`, () => {
    assert.throws(() => replay(r.seeds, r.inputs, r.end_tick), (err) => err.reason === r.reason);
  });
}

test("too many inputs is rejected", () => {
  const inputs = Array.from({ length: MAX_INPUTS + 1 }, (_, i) => [i * MIN_MOVE_GAP, 0]);
  assert.throws(() => replay([1], inputs, MAX_TICKS), (err) => err.reason === "too_many_inputs");
});

test("recorded moves replay to the same outcome and board", () => {
  for (const v of file.vectors) {
    const sim = play(v.seeds, v.inputs, v.end_tick);
    assert.deepEqual(sim.outcome(), toJsOutcome(v.expected), v.name);
    assert.deepEqual(sim.board, v.board, v.name);
    const played = v.inputs.filter(([tick]) => tick < sim.tick);
    assert.deepEqual(sim.inputs, played, v.name);
    assert.deepEqual(replay(v.seeds, sim.inputs, v.end_tick), sim.outcome(), v.name);
  }
});

for (const t of file.traces) {
  test(`trace: ${t.name}`, () => {
    assert.equal(t.frames.length, t.inputs.length);
    const sim = new TwentyFortyEightSim(t.seeds[0]);
    t.inputs.forEach(([tick, direction], i) => {
      while (sim.revealed * WINDOW_TICKS <= tick) sim.reveal(t.seeds[sim.revealed]);
      sim.advanceTo(tick);
      sim.move(direction);
      assert.deepEqual([tick, sim.score, sim.board], t.frames[i]);
      sim.step();
    });
  });
}

test("each move tells a renderer where every tile went", () => {
  const v = file.vectors.find((x) => x.name === "bot-skill-100-wins");
  let wins = 0;
  const seen = new Set();
  play(v.seeds, v.inputs, v.end_tick, (before, move, sim) => {
    const after = sim.tiles;
    const byId = new Map(before.map((t) => [t.id, t]));
    // Every tile before the move slides somewhere (perhaps where it was).
    const ascending = (ids) => ids.sort((a, b) => a - b);
    assert.deepEqual(ascending(move.slides.map((s) => s.id)), ascending([...byId.keys()]));
    for (const s of move.slides) {
      const t = byId.get(s.id);
      assert.deepEqual([s.value, s.fromRow, s.fromCol], [t.value, t.row, t.col]);
    }
    if (!move.changed) {
      assert.deepEqual(after, before);
      assert.ok(move.slides.every((s) => s.fromRow === s.toRow && s.fromCol === s.toCol));
      assert.equal(move.spawn, null);
      return;
    }
    // Rebuild the board from the move alone: survivors, merges, then the new tile.
    const merged = new Set(move.merges.flatMap((m) => m.sources));
    const rebuilt = move.slides
      .filter((s) => !merged.has(s.id))
      .map((s) => ({ id: s.id, value: s.value, row: s.toRow, col: s.toCol }));
    for (const m of move.merges) {
      const [a, b] = m.sources.map((id) => move.slides.find((s) => s.id === id));
      assert.equal(a.value, b.value);
      assert.equal(m.value, a.value * 2);
      assert.deepEqual([a.toRow, a.toCol, b.toRow, b.toCol], [m.row, m.col, m.row, m.col]);
      rebuilt.push({ id: m.id, value: m.value, row: m.row, col: m.col });
    }
    assert.ok(move.spawn, "a changing move spawns");
    assert.ok(!rebuilt.some((t) => t.row === move.spawn.row && t.col === move.spawn.col));
    rebuilt.push(move.spawn);
    const order = (t) => t.row * 4 + t.col;
    assert.deepEqual(rebuilt.sort((a, b) => order(a) - order(b)), after);
    assert.equal(move.gained, move.merges.reduce((sum, m) => sum + m.value, 0));
    // New tiles get new ids.
    for (const t of [...move.merges, move.spawn]) {
      assert.ok(!seen.has(t.id) && !byId.has(t.id), `id ${t.id} reused`);
    }
    for (const t of after) seen.add(t.id);
    if (move.justWon) wins += 1;
  });
  assert.equal(wins, 1, "the first 2048 tile is announced once");
});

test("the start tiles are on the board before any move", () => {
  const sim = new TwentyFortyEightSim(0);
  assert.equal(sim.tiles.length, 2);
  assert.equal(sim.lastMove, null);
  assert.deepEqual(
    sim.tiles.map((t) => t.value).filter((v) => v !== 2 && v !== 4),
    [],
  );
  assert.ok(canMove(sim.board));
});

test("a press that comes too soon waits for the tick that allows it", () => {
  const sim = new TwentyFortyEightSim(3);
  const first = sim.press(Direction.DOWN);
  assert.ok(first && first.tick === 0);
  assert.equal(sim.nextMoveTick, MIN_MOVE_GAP);
  assert.equal(sim.press(Direction.LEFT), null, "held");
  assert.equal(sim.press(Direction.RIGHT), null, "held");
  assert.equal(sim.press(Direction.UP), null, "dropped");
  assert.equal(sim.pending, MAX_QUEUED_PRESSES);
  const played = [];
  for (let i = 0; i < 3 * MIN_MOVE_GAP; i++) {
    const move = sim.step();
    if (move) played.push([move.tick, move.direction]);
  }
  assert.deepEqual(played, [
    [MIN_MOVE_GAP, Direction.LEFT],
    [2 * MIN_MOVE_GAP, Direction.RIGHT],
  ]);
  assert.equal(sim.pending, 0);
  assert.deepEqual(sim.inputs, [[0, Direction.DOWN], ...played]);
  assert.deepEqual(replay([3], sim.inputs, sim.tick), sim.outcome());
  // A move asked for directly too soon is refused, not held.
  const direct = sim.move(Direction.UP);
  assert.equal(direct.tick, sim.tick);
  assert.equal(sim.move(Direction.DOWN), null);
  sim.step();
  assert.equal(sim.move(Direction.DOWN), null);
  assert.equal(sim.pending, 0);
  assert.equal(sim.inputs.length, 4);
  assert.throws(() => sim.press(4), RangeError);
  assert.throws(() => sim.move(-1), RangeError);
});

test("the game is over at the end of the tick of the move that locks the board", () => {
  const v = file.vectors.find((x) => x.name === "fastest-pace-to-game-over");
  const sim = new TwentyFortyEightSim(v.seeds[0]);
  for (const [tick, direction] of v.inputs) {
    while (sim.revealed * WINDOW_TICKS <= tick) sim.reveal(v.seeds[sim.revealed]);
    sim.advanceTo(tick);
    sim.move(direction);
    if (tick === v.inputs.at(-1)[0]) {
      assert.equal(sim.gameOver, false);
      assert.equal(canMove(sim.board), false);
      assert.equal(sim.press(Direction.UP), null);
    }
    sim.step();
  }
  assert.equal(sim.gameOver, true);
  assert.equal(sim.tick, v.expected.ticks);
  assert.equal(sim.pending, 0, "held presses are dropped");
  assert.equal(sim.step(), null);
  assert.equal(sim.press(Direction.LEFT), null);
  assert.equal(sim.move(Direction.LEFT), null);
  assert.equal(sim.tick, v.expected.ticks);
});

test("a game waits at a window it was not given, then goes on with its seed", () => {
  const v = file.vectors.find((x) => x.name === "bot-skill-100-wins");
  const sim = new TwentyFortyEightSim(v.seeds[0]);
  for (let i = 0; i < WINDOW_TICKS + 50; i++) sim.step();
  assert.equal(sim.tick, WINDOW_TICKS);
  assert.ok(sim.waiting);
  sim.advanceTo(WINDOW_TICKS + 100);
  assert.equal(sim.tick, WINDOW_TICKS, "no jump past the window");
  assert.equal(sim.move(Direction.DOWN), null, "no move while waiting");
  assert.equal(sim.press(Direction.DOWN), null, "a press is held");
  assert.equal(sim.pending, 1);
  sim.reveal(v.seeds[1]);
  assert.ok(!sim.waiting);
  const move = sim.step();
  assert.ok(move && move.tick === WINDOW_TICKS, "the held press is played");
  assert.deepEqual(replay(v.seeds, sim.inputs, sim.tick), sim.outcome());
  assert.throws(() => replay([v.seeds[0]], sim.inputs, sim.tick), RangeError, "a replay asks for window 1");
});
