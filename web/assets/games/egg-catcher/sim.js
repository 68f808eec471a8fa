// Egg Catcher simulation, rules version 2. The server replays recorded inputs with the Rust
// implementation (crates/arcade-games/src/egg_catcher.rs), so this module must match it tick
// for tick: integer maths only, same PRNG, same order of steps. The shared vectors in
// crates/arcade-games/vectors/egg-catcher.json check both. Rules: docs/games/egg-catcher.md.

// Relative, so that it resolves both in the browser and under `node --test`.
import { createWindowedRng, seedsOf } from "../../js/rng.js";

// Re-exported for the tests and tools that take them from here.
export { WINDOW_TICKS, createRng, createWindowedRng, rngFromState, splitMix32 } from "../../js/rng.js";

export const GAME_ID = "egg-catcher";
export const RULES_VERSION = 2;
export const TICK_HZ = 60;
export const MAX_TICKS = 216_000;
export const MAX_INPUTS = MAX_TICKS;

export const WORLD_WIDTH = 480_000;
export const WORLD_HEIGHT = 640_000;

export const BASKET_HALF_WIDTH = 44_000;
export const BASKET_START_X = 240_000;
export const BASKET_SPEED = 9_000;
export const CATCH_Y = 600_000;

export const EGG_RADIUS = 12_000;
export const CATCH_REACH = BASKET_HALF_WIDTH + EGG_RADIUS;
export const EGG_SPAWN_Y = -EGG_RADIUS;
export const EGG_MIN_X = EGG_RADIUS;
export const EGG_MAX_X = WORLD_WIDTH - EGG_RADIUS;

export const FIRST_SPAWN_TICK = 30;
export const SPAWN_INTERVAL_BASE = 66;
export const SPAWN_INTERVAL_PER_LEVEL = 6;
export const SPAWN_INTERVAL_MIN = 24;
export const FALL_SPEED_BASE = 4_000;
export const FALL_SPEED_PER_LEVEL = 700;
export const FALL_SPEED_MAX = 14_000;

export const CATCHES_PER_LEVEL = 10;
export const POINTS_PER_CATCH = 10;
export const START_LIVES = 3;
export const MAX_INPUT_VALUE = WORLD_WIDTH;

/** Base spawn interval in ticks at `level`; the actual gap adds 0..=interval/2. */
export function spawnInterval(level) {
  return Math.max(SPAWN_INTERVAL_MIN, SPAWN_INTERVAL_BASE - SPAWN_INTERVAL_PER_LEVEL * level);
}

/** Fall speed per tick of an egg spawned at `level`. */
export function fallSpeed(level) {
  // Clamping the level first keeps the product small, as in Rust.
  const capped = Math.min(level, FALL_SPEED_MAX);
  return Math.min(FALL_SPEED_MAX, FALL_SPEED_BASE + FALL_SPEED_PER_LEVEL * capped);
}

export class EggCatcherSim {
  #rng;
  #tick = 0;
  #score = 0;
  #lives = START_LIVES;
  #catches = 0;
  #misses = 0;
  #basketX = BASKET_START_X;
  #targetX = BASKET_START_X;
  #nextSpawn = FIRST_SPAWN_TICK;
  #spawned = 0;
  #eggs = [];
  #gameOver = false;
  #inputs = [];

  /** A new game with the first window's seed. */
  constructor(firstSeed) {
    this.#rng = createWindowedRng(firstSeed);
  }

  /** Reveals the next window's seed. */
  reveal(seed) {
    this.#rng.reveal(seed);
  }

  /** Windows revealed so far. */
  get revealed() {
    return this.#rng.revealed;
  }

  /** Whether the next tick starts a window not revealed yet: `step()` waits. */
  get waiting() {
    return !this.#gameOver && this.#tick >= this.#rng.revealedTicks;
  }

  /**
   * Sets where the basket heads (world units, clamped to the field) and records the input
   * at the current tick. A second call before the next step replaces that tick's input.
   * Ignored after game over, since the replay would ignore it too.
   */
  setTarget(x) {
    if (this.#gameOver || !Number.isFinite(x)) return;
    const target = Math.min(WORLD_WIDTH, Math.max(0, Math.round(x)));
    if (target === this.#targetX) return;
    this.#targetX = target;
    const last = this.#inputs[this.#inputs.length - 1];
    if (last && last[0] === this.#tick) last[1] = target;
    else this.#inputs.push([this.#tick, target]);
  }

  /** Simulates one tick; does nothing after game over, or at a window not revealed yet. */
  step() {
    if (this.#gameOver || this.waiting) return;

    const dx = this.#targetX - this.#basketX;
    this.#basketX += Math.max(-BASKET_SPEED, Math.min(BASKET_SPEED, dx));

    if (this.#tick === this.#nextSpawn) {
      const level = this.level;
      const rng = this.#rng.at(this.#tick);
      const x = rng.rangeInclusive(EGG_MIN_X, EGG_MAX_X);
      this.#eggs.push({ id: this.#spawned, x, y: EGG_SPAWN_Y, speed: fallSpeed(level) });
      this.#spawned += 1;
      const interval = spawnInterval(level);
      this.#nextSpawn = this.#tick + interval + rng.below(Math.floor(interval / 2) + 1);
    }

    const basketX = this.#basketX;
    let caught = 0;
    let missed = 0;
    let kept = 0;
    // Compact in place to keep spawn order without allocating.
    for (const egg of this.#eggs) {
      const prevY = egg.y;
      egg.y += egg.speed;
      if (prevY < CATCH_Y && CATCH_Y <= egg.y && Math.abs(egg.x - basketX) <= CATCH_REACH) {
        caught += 1;
      } else if (egg.y - EGG_RADIUS >= WORLD_HEIGHT) {
        missed += 1;
      } else {
        this.#eggs[kept++] = egg;
      }
    }
    this.#eggs.length = kept;
    this.#catches += caught;
    this.#score += caught * POINTS_PER_CATCH;
    this.#misses += missed;
    this.#lives = Math.max(0, this.#lives - missed);

    this.#tick += 1;
    if (this.#lives === 0) this.#gameOver = true;
  }

  /** Ticks simulated so far; an input recorded now carries this tick. */
  get tick() {
    return this.#tick;
  }
  get score() {
    return this.#score;
  }
  get lives() {
    return this.#lives;
  }
  get catches() {
    return this.#catches;
  }
  get misses() {
    return this.#misses;
  }
  get level() {
    return Math.floor(this.#catches / CATCHES_PER_LEVEL);
  }
  get gameOver() {
    return this.#gameOver;
  }
  get basketX() {
    return this.#basketX;
  }
  get targetX() {
    return this.#targetX;
  }
  /** Tick at which the next egg appears. */
  get nextSpawn() {
    return this.#nextSpawn;
  }
  /** Eggs in the air, in spawn order: {id, x, y, speed}. Read-only for renderers. */
  get eggs() {
    return this.#eggs;
  }
  /**
   * Recorded inputs as [tick, value] pairs. Inputs with tick < this.tick are final; the one
   * at the current tick can still be replaced until the next step.
   */
  get inputs() {
    return this.#inputs;
  }

  outcome() {
    return {
      score: this.#score,
      ticks: this.#tick,
      gameOver: this.#gameOver,
      stats: {
        catches: this.#catches,
        misses: this.#misses,
        lives: this.#lives,
        level: this.level,
      },
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

function validate(inputs, endTick) {
  if (inputs.length > MAX_INPUTS) {
    throw new ReplayError(
      "too_many_inputs",
      `${inputs.length} inputs, more than ${MAX_INPUTS}`,
      { count: inputs.length, max: MAX_INPUTS },
    );
  }
  let prev = -1;
  inputs.forEach((input, index) => {
    const [tick, value] = Array.isArray(input) ? input : [];
    if (!isU32(tick) || !isU32(value)) {
      throw new TypeError(`input ${index} is not a [tick, value] pair of unsigned integers`);
    }
    if (tick <= prev) {
      throw new ReplayError(
        "input_out_of_order",
        `input ${index} does not come after the previous input`,
        { index },
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

const isU32 = (n) => Number.isInteger(n) && n >= 0 && n <= 0xffffffff;

/**
 * Replays like the server: with the windows' `seeds` (a list, or a function of the window
 * number), applying `inputs` ([tick, value] pairs), until game over or `endTick` ticks.
 * Returns {score, ticks, gameOver, stats}; throws a ReplayError (with `.reason`) for inputs
 * the server would reject.
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

  const sim = new EggCatcherSim(seedOf(0));
  let next = 0;
  while (sim.tick < endTick && !sim.gameOver) {
    if (sim.waiting) sim.reveal(seedOf(sim.revealed));
    if (next < inputs.length && inputs[next][0] === sim.tick) {
      sim.setTarget(inputs[next][1]);
      next += 1;
    }
    sim.step();
  }
  return sim.outcome();
}
