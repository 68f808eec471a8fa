// The arcade's PRNG, shared by every game's simulation: xoshiro128** (Blackman & Vigna,
// 32-bit) seeded from a u32 with SplitMix32, and the windowed generator that reseeds it every
// WINDOW_TICKS ticks from that window's seed, which the server reveals as the game goes. It
// must match crates/arcade-games/src/rng.rs bit for bit, since the server replays games with
// the Rust one; the definitions are in docs/games/egg-catcher.md (PRNG) and every game's
// shared vectors check them.
//
// Games import it relatively ("../../js/rng.js"), which resolves to /assets/js/rng.js in the
// browser and to this file under `node --test`.

const GOLDEN_GAMMA = 0x9e3779b9;

const rotl = (x, k) => ((x << k) | (x >>> (32 - k))) >>> 0;

/** SplitMix32 seed expander; every value is kept as an unsigned 32-bit number. */
export function splitMix32(seed) {
  let state = seed >>> 0;
  return () => {
    state = (state + GOLDEN_GAMMA) >>> 0;
    let z = state;
    z = Math.imul(z ^ (z >>> 16), 0x85ebca6b) >>> 0;
    z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35) >>> 0;
    return (z ^ (z >>> 16)) >>> 0;
  };
}

/** xoshiro128** generator seeded from a u32 with four SplitMix32 outputs. */
export function createRng(seed) {
  const next = splitMix32(seed);
  return rngFromState([next(), next(), next(), next()]);
}

/**
 * xoshiro128** generator from a raw state of four u32 words: {nextU32, below, rangeInclusive}.
 */
export function rngFromState(state) {
  let [s0, s1, s2, s3] = state.map((w) => w >>> 0);
  // The all-zero state is a fixed point; seeding cannot produce it, but stay safe.
  if ((s0 | s1 | s2 | s3) === 0) s0 = GOLDEN_GAMMA;

  const nextU32 = () => {
    const result = Math.imul(rotl(Math.imul(s1, 5) >>> 0, 7), 9) >>> 0;
    const t = (s1 << 9) >>> 0;
    s2 = (s2 ^ s0) >>> 0;
    s3 = (s3 ^ s1) >>> 0;
    s1 = (s1 ^ s2) >>> 0;
    s0 = (s0 ^ s3) >>> 0;
    s2 = (s2 ^ t) >>> 0;
    s3 = rotl(s3, 11);
    return result;
  };

  // Uniform in 0..n by bitmask rejection, as in the Rust `below`; n <= 1 draws nothing.
  const below = (n) => {
    if (n <= 1) return 0;
    const mask = 0xffffffff >>> Math.clz32(n - 1);
    for (;;) {
      const x = (nextU32() & mask) >>> 0;
      if (x < n) return x;
    }
  };

  const rangeInclusive = (lo, hi) => lo + below(hi - lo + 1);

  return { nextU32, below, rangeInclusive };
}

/** Ticks in one window of randomness (ten seconds at 60 Hz), the same for every game. */
export const WINDOW_TICKS = 600;

/**
 * A game's generator when its randomness is revealed a window at a time: draws made during
 * tick t come from a xoshiro128** seeded with window floor(t / WINDOW_TICKS)'s seed at that
 * window's first tick. It reseeds at the first draw of a later window (the same numbers, as
 * nothing is drawn in between). {reveal(seed), revealed, revealedTicks, at(tick)}.
 */
export function createWindowedRng(firstSeed) {
  const seeds = [firstSeed >>> 0];
  let window = 0;
  let rng = createRng(firstSeed);
  return {
    /** Reveals the next window's seed. */
    reveal(seed) {
      seeds.push(seed >>> 0);
    },
    /** Windows revealed so far (at least 1). */
    get revealed() {
      return seeds.length;
    },
    /** Ticks the revealed windows cover: ticks below this can be simulated. */
    get revealedTicks() {
      return seeds.length * WINDOW_TICKS;
    },
    /** The generator for draws during `tick` (ticks never go back). */
    at(tick) {
      const w = Math.floor(tick / WINDOW_TICKS);
      if (w !== window) {
        if (w >= seeds.length) throw new RangeError(`window ${w} is drawn from before it is revealed`);
        rng = createRng(seeds[w]);
        window = w;
      }
      return rng;
    },
  };
}

/** A replay's seeds as a function of the window number, from a list or a function. */
export function seedsOf(seeds) {
  if (typeof seeds === "function") return seeds;
  if (Array.isArray(seeds)) {
    return (k) => {
      if (k >= seeds.length) throw new RangeError(`window ${k} asked for, ${seeds.length} given`);
      return seeds[k];
    };
  }
  throw new TypeError("seeds must be a list of window seeds or a function of the window number");
}
