// Checks the browser Egg Catcher simulation against the vectors the Rust implementation
// generated (crates/arcade-games/vectors/egg-catcher.json), so the two cannot drift.

import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { test } from "node:test";

import {
  BASKET_SPEED,
  BASKET_START_X,
  CATCH_Y,
  EggCatcherSim,
  FALL_SPEED_BASE,
  MAX_INPUTS,
  MAX_TICKS,
  RULES_VERSION,
  WINDOW_TICKS,
  createRng,
  createWindowedRng,
  fallSpeed,
  replay,
  spawnInterval,
} from "../assets/games/egg-catcher/sim.js";

const vectorsUrl = new URL("../../crates/arcade-games/vectors/egg-catcher.json", import.meta.url);
const file = JSON.parse(readFileSync(vectorsUrl, "utf8"));

const toJsOutcome = (e) => ({
  score: e.score,
  ticks: e.ticks,
  gameOver: e.game_over,
  stats: e.stats,
});

test("vector file header", () => {
  assert.equal(file.game, "egg-catcher");
  assert.equal(file.rules_version, RULES_VERSION);
  assert.equal(file.window_ticks, WINDOW_TICKS);
  assert.ok(file.vectors.length >= 8);
});

test("windowed rng draws match", () => {
  const { seeds, draws } = file.windowed_rng;
  const rng = createWindowedRng(seeds[0]);
  for (const s of seeds.slice(1)) rng.reveal(s);
  for (const [tick, value] of draws) assert.equal(rng.at(tick).nextU32(), value, `tick ${tick}`);
  assert.throws(() => createWindowedRng(1).at(WINDOW_TICKS), RangeError);
});

test("rng outputs match", () => {
  for (const { seed, first } of file.rng) {
    const rng = createRng(seed);
    assert.deepEqual(first.map(() => rng.nextU32()), first, `seed ${seed}`);
  }
});

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
  const inputs = Array.from({ length: MAX_INPUTS + 1 }, (_, t) => [t, 0]);
  assert.throws(() => replay([1], inputs, MAX_TICKS), (err) => err.reason === "too_many_inputs");
});

test("recorded inputs replay to the same outcome", () => {
  // Drive the sim the way the browser does and check the server would agree.
  for (const v of file.vectors) {
    const sim = new EggCatcherSim(v.seeds[0]);
    let next = 0;
    while (sim.tick < v.end_tick && !sim.gameOver) {
      if (sim.waiting) sim.reveal(v.seeds[sim.revealed]);
      if (next < v.inputs.length && v.inputs[next][0] === sim.tick) {
        sim.setTarget(v.inputs[next][1]);
        next += 1;
      }
      sim.step();
    }
    assert.deepEqual(sim.outcome(), toJsOutcome(v.expected), v.name);
    assert.deepEqual(replay(v.seeds, sim.inputs, v.end_tick), sim.outcome(), v.name);
  }
});

for (const t of file.traces) {
  test(`trace: ${t.name}`, () => {
    const sim = new EggCatcherSim(t.seeds[0]);
    let next = 0;
    let frame = 0;
    while (sim.tick < t.end_tick && !sim.gameOver) {
      if (sim.waiting) sim.reveal(t.seeds[sim.revealed]);
      if (next < t.inputs.length && t.inputs[next][0] === sim.tick) {
        sim.setTarget(t.inputs[next][1]);
        next += 1;
      }
      sim.step();
      if (frame < t.frames.length && t.frames[frame][0] === sim.tick) {
        const eggs = sim.eggs.map((e) => [e.id, e.x, e.y, e.speed]);
        assert.deepEqual([sim.tick, sim.score, sim.lives, sim.basketX, eggs], t.frames[frame]);
        frame += 1;
      }
    }
    assert.equal(frame, t.frames.length, "frames left over");
  });
}

test("setTarget clamps, skips repeats and replaces same-tick inputs", () => {
  const sim = new EggCatcherSim(1);
  sim.setTarget(BASKET_START_X);
  assert.deepEqual(sim.inputs, []);
  sim.setTarget(-50);
  sim.setTarget(999_999.4);
  assert.deepEqual(sim.inputs, [[0, 480_000]]);
  sim.step();
  assert.equal(sim.basketX, BASKET_START_X + BASKET_SPEED);
  sim.setTarget(100.6);
  assert.deepEqual(sim.inputs, [[0, 480_000], [1, 101]]);
  sim.setTarget(Number.NaN);
  assert.equal(sim.targetX, 101);
});

test("game over stops the sim and further input", () => {
  const sim = new EggCatcherSim(42);
  sim.setTarget(0);
  while (!sim.gameOver) sim.step();
  const { tick } = sim;
  sim.step();
  sim.setTarget(300_000);
  assert.equal(sim.tick, tick);
  assert.equal(sim.lives, 0);
  assert.deepEqual(sim.inputs, [[0, 0]]);
});

test("first egg and level curves", () => {
  const sim = new EggCatcherSim(5);
  for (let i = 0; i <= 30; i++) sim.step();
  assert.equal(sim.eggs.length, 1);
  assert.equal(sim.eggs[0].y, -12_000 + FALL_SPEED_BASE);
  assert.ok(sim.eggs[0].y < CATCH_Y);
  assert.deepEqual([0, 1, 7, 100].map(spawnInterval), [66, 60, 24, 24]);
  assert.deepEqual([0, 2, 14, 15, 1000].map(fallSpeed), [4000, 5400, 13800, 14000, 14000]);
});

test("a game waits at a window it was not given, then goes on with its seed", () => {
  const v = file.vectors.find((x) => x.name === "bot-skill-100");
  const sim = new EggCatcherSim(v.seeds[0]);
  let next = 0;
  for (let i = 0; i < WINDOW_TICKS + 50; i++) {
    if (next < v.inputs.length && v.inputs[next][0] === sim.tick) sim.setTarget(v.inputs[next++][1]);
    sim.step();
  }
  assert.equal(sim.tick, WINDOW_TICKS);
  assert.ok(sim.waiting && !sim.gameOver);
  sim.reveal(v.seeds[1]);
  assert.ok(!sim.waiting);
  sim.step();
  assert.equal(sim.tick, WINDOW_TICKS + 1);
});
