// Checks the shared browser PRNG (web/assets/js/rng.js) against the reference outputs that
// crates/arcade-games/src/rng.rs is tested with. Each game's vector test checks seeded outputs.

import assert from "node:assert/strict";
import { test } from "node:test";

import { createRng, rngFromState, splitMix32 } from "../assets/js/rng.js";
import * as eggCatcher from "../assets/games/egg-catcher/sim.js";

test("xoshiro128** matches the reference implementation from state {1, 2, 3, 4}", () => {
  const expected = [
    11520, 0, 5927040, 70819200, 2031721883, 1637235492, 1287239034, 3734860849, 3729100597,
    4258142804,
  ];
  const rng = rngFromState([1, 2, 3, 4]);
  assert.deepEqual(expected.map(() => rng.nextU32()), expected);
});

test("SplitMix32 expands seed 0 as the Rust seeding does", () => {
  const next = splitMix32(0);
  assert.deepEqual(
    [next(), next(), next(), next()],
    [2462723854, 1020716019, 454327756, 1275600319],
  );
  const rng = createRng(0);
  assert.deepEqual(
    [0, 1, 2, 3].map(() => rng.nextU32()),
    [3809008728, 1133695204, 53579671, 2891528803],
  );
});

test("the all-zero state is replaced", () => {
  const rng = rngFromState([0, 0, 0, 0]);
  assert.ok([0, 1, 2, 3].some(() => rng.nextU32() !== 0));
});

test("below and rangeInclusive stay in range and cover it", () => {
  const rng = createRng(7);
  assert.equal(rng.below(0), 0);
  assert.equal(rng.below(1), 0);
  const seen = new Set();
  for (let i = 0; i < 2000; i++) {
    const v = rng.below(13);
    assert.ok(Number.isInteger(v) && v >= 0 && v < 13);
    seen.add(v);
  }
  assert.equal(seen.size, 13);
  for (let i = 0; i < 2000; i++) {
    const v = rng.rangeInclusive(12_000, 468_000);
    assert.ok(v >= 12_000 && v <= 468_000);
  }
  assert.ok(rng.below(0xffffffff) < 0xffffffff);
});

test("Egg Catcher's simulation uses the shared generator", () => {
  assert.equal(eggCatcher.createRng, createRng);
  assert.equal(eggCatcher.rngFromState, rngFromState);
});
