// Egg Catcher's page module: canvas renderer and input for the deterministic simulation in
// sim.js, and what the page shell shows of the game (`meta`).
//
// The simulation owns every rule and records the player's inputs; this file
// only turns pointer / keyboard input into basket targets (at most one per
// tick), steps the simulation at a fixed 60 Hz and draws the farm.

import * as Sim from '/assets/games/egg-catcher/sim.js';

const { EggCatcherSim } = Sim;
export const RULES_VERSION = Sim.RULES_VERSION;

const W = Sim.WORLD_WIDTH ?? 480000;
const H = Sim.WORLD_HEIGHT ?? 640000;
const BASKET_HALF = Sim.BASKET_HALF_WIDTH ?? 44000;
const CATCH_Y = Sim.CATCH_Y ?? Sim.CATCH_LINE_Y ?? 600000;
const EGG_R = Sim.EGG_RADIUS ?? 12000;

export const ASPECT = W / H; // 3:4

/** The simulation counts levels from 0; players see them from 1. */
export const displayLevel = (level) => level + 1;

const plural = (n, one, many) => `${n} ${n === 1 ? one : many}`;

/** What the page shell shows of this game (docs/games/adding-a-game.md). */
export const meta = {
  rulesVersion: RULES_VERSION,
  aspect: ASPECT,
  instructions: [
    'Move the basket with your mouse, by dragging on the field, or with [←] [→] / [A] [D].',
    'Catch falling eggs for 10 points each. Every 10 catches they fall faster.',
    'You have 3 lives; each egg that hits the grass costs one.',
  ],
  hud: [
    { key: 'score', label: 'Score' },
    { key: 'lives', label: 'Lives', icons: Sim.START_LIVES, iconClass: 'life', describe: (n) => `${plural(n, 'life', 'lives')} left` },
    { key: 'level', label: 'Level' },
  ],
  summary: (stats) =>
    [
      typeof stats.catches === 'number' ? `${plural(stats.catches, 'egg', 'eggs')} caught` : '',
      typeof stats.misses === 'number' ? `${stats.misses} missed` : '',
      typeof stats.level === 'number' ? `reached level ${displayLevel(stats.level)}` : '',
    ]
      .filter(Boolean)
      .join(' · '),
  sounds: {
    catch: [{ freq: 880, duration: 0.08, volume: 0.04, slideTo: 1320 }],
    miss: [{ freq: 220, duration: 0.28, type: 'triangle', volume: 0.09, slideTo: 90 }],
    level: [
      { freq: 523, duration: 0.1, volume: 0.04 },
      { freq: 659, start: 0.1, duration: 0.1, volume: 0.04 },
      { freq: 784, start: 0.2, duration: 0.18, volume: 0.045 },
    ],
    countdown: [{ freq: 440, duration: 0.07, volume: 0.03 }],
  },
};
export const TICK_HZ = 60;
const STEP_MS = 1000 / TICK_HZ;
const MAX_STEPS_PER_FRAME = 4;

// Scene layout in world units (y grows downwards).
const GRASS_Y = CATCH_Y - 0.03 * H; // where the grass starts, just above the basket rim
const GROUND_Y = CATCH_Y + 0.045 * H; // where shadows and broken eggs lie
const PERCH_Y = 0.088 * H; // top edge of the hens' perch
const HEN_COUNT = 5;
const HEN_W = 0.15 * W;
const HEN_H = 0.085 * H;
const BASKET_TOP = CATCH_Y - 0.012 * H; // rim
const BASKET_H = 0.07 * H;
const EGG_RX = EGG_R * 1.0;
const EGG_RY_TOP = EGG_R * 1.32;
const EGG_RY_BOTTOM = EGG_R * 1.04;

const EFFECT_POOL = 24;
const FX_CATCH = 1;
const FX_SPLAT = 2;
const FX_LEVEL = 3;

function makeCanvas(w, h) {
  const c = document.createElement('canvas');
  c.width = Math.max(1, Math.ceil(w));
  c.height = Math.max(1, Math.ceil(h));
  return c;
}

// Small deterministic pseudo-random generator for scenery (grass blades, clouds).
function scenery(seed) {
  let s = seed >>> 0 || 1;
  return () => {
    s ^= s << 13;
    s ^= s >>> 17;
    s ^= s << 5;
    return (s >>> 0) / 4294967296;
  };
}

/** Trace an egg outline centred at (0,0): narrower on top, rounder below. */
function eggPath(ctx, rx, ryTop, ryBottom) {
  ctx.beginPath();
  ctx.ellipse(0, 0, rx, ryTop, 0, Math.PI, Math.PI * 2);
  ctx.ellipse(0, 0, rx, ryBottom, 0, 0, Math.PI);
  ctx.closePath();
}

function roundRectPath(ctx, x, y, w, h, r) {
  ctx.beginPath();
  ctx.moveTo(x + r, y);
  ctx.arcTo(x + w, y, x + w, y + h, r);
  ctx.arcTo(x + w, y + h, x, y + h, r);
  ctx.arcTo(x, y + h, x, y, r);
  ctx.arcTo(x, y, x + w, y, r);
  ctx.closePath();
}

// ---------------------------------------------------------------------------
// Pre-rendered layers and sprites (rebuilt when the canvas is resized).

function drawBackground(ctx, k) {
  const w = W * k;
  const h = H * k;
  const rnd = scenery(20240611);

  // Sky
  const sky = ctx.createLinearGradient(0, 0, 0, GRASS_Y * k);
  sky.addColorStop(0, '#5fb4ea');
  sky.addColorStop(0.55, '#a9dcf5');
  sky.addColorStop(1, '#fbefc4');
  ctx.fillStyle = sky;
  ctx.fillRect(0, 0, w, h);

  // Sun with a soft glow
  const sx = w * 0.8;
  const sy = h * 0.23;
  const glow = ctx.createRadialGradient(sx, sy, w * 0.02, sx, sy, w * 0.2);
  glow.addColorStop(0, 'rgba(255, 246, 200, 0.9)');
  glow.addColorStop(1, 'rgba(255, 246, 200, 0)');
  ctx.fillStyle = glow;
  ctx.fillRect(sx - w * 0.2, sy - w * 0.2, w * 0.4, w * 0.4);
  ctx.fillStyle = '#ffe27a';
  ctx.beginPath();
  ctx.arc(sx, sy, w * 0.055, 0, Math.PI * 2);
  ctx.fill();

  // Clouds
  ctx.fillStyle = 'rgba(255, 255, 255, 0.85)';
  const clouds = [
    [0.18, 0.27, 1],
    [0.55, 0.37, 0.8],
    [0.9, 0.45, 0.6],
  ];
  for (const [cx, cy, s] of clouds) {
    const r = w * 0.045 * s;
    const x = w * cx;
    const y = h * cy;
    ctx.beginPath();
    ctx.ellipse(x, y + r * 0.35, r * 2.1, r * 0.6, 0, 0, Math.PI * 2);
    ctx.moveTo(x + r * 1.9, y);
    ctx.arc(x + r * 1.05, y + r * 0.05, r * 0.85, 0, Math.PI * 2);
    ctx.moveTo(x - r * 0.4, y);
    ctx.arc(x - r * 1.1, y + r * 0.15, r * 0.7, 0, Math.PI * 2);
    ctx.moveTo(x + r * 1.3, y - r * 0.3);
    ctx.arc(x + r * 0.2, y - r * 0.3, r * 1.05, 0, Math.PI * 2);
    ctx.fill();
  }

  // Rolling hills
  const hills = [
    { base: 0.8, amp: 0.035, freq: 1.3, phase: 0.6, color: '#8fcf6b' },
    { base: 0.845, amp: 0.025, freq: 2.1, phase: 2.0, color: '#72b955' },
  ];
  for (const hill of hills) {
    ctx.fillStyle = hill.color;
    ctx.beginPath();
    ctx.moveTo(0, h);
    for (let i = 0; i <= 48; i++) {
      const x = (i / 48) * w;
      const y = h * (hill.base - hill.amp * Math.sin((i / 48) * Math.PI * 2 * hill.freq + hill.phase));
      ctx.lineTo(x, y);
    }
    ctx.lineTo(w, h);
    ctx.closePath();
    ctx.fill();
  }

  // A little red barn on the far hill
  const bx = w * 0.12;
  const by = h * 0.8;
  const bw = w * 0.13;
  const bh = h * 0.06;
  ctx.fillStyle = '#b8412f';
  ctx.fillRect(bx, by - bh, bw, bh);
  ctx.fillStyle = '#8e2f22';
  ctx.beginPath();
  ctx.moveTo(bx - bw * 0.08, by - bh);
  ctx.lineTo(bx + bw / 2, by - bh * 1.75);
  ctx.lineTo(bx + bw * 1.08, by - bh);
  ctx.closePath();
  ctx.fill();
  ctx.fillStyle = '#f4e9d8';
  ctx.fillRect(bx + bw * 0.36, by - bh * 0.7, bw * 0.28, bh * 0.7);
  ctx.strokeStyle = '#b8412f';
  ctx.lineWidth = Math.max(1, bw * 0.03);
  ctx.beginPath();
  ctx.moveTo(bx + bw * 0.36, by - bh * 0.7);
  ctx.lineTo(bx + bw * 0.64, by);
  ctx.moveTo(bx + bw * 0.64, by - bh * 0.7);
  ctx.lineTo(bx + bw * 0.36, by);
  ctx.stroke();
  ctx.fillStyle = '#f4e9d8';
  ctx.fillRect(bx + bw * 0.42, by - bh * 1.35, bw * 0.16, bh * 0.22);

  // Fence behind the field
  const fenceTop = GRASS_Y * k - h * 0.055;
  const fenceBottom = GRASS_Y * k + h * 0.005;
  ctx.fillStyle = '#e8d3ad';
  ctx.strokeStyle = 'rgba(110, 80, 45, 0.45)';
  ctx.lineWidth = Math.max(1, k * 900);
  for (let i = 0; i < 2; i++) {
    const y = fenceTop + (fenceBottom - fenceTop) * (0.22 + i * 0.38);
    ctx.fillRect(0, y, w, h * 0.009);
    ctx.strokeRect(-2, y, w + 4, h * 0.009);
  }
  for (let x = w * 0.04; x < w; x += w * 0.12) {
    ctx.beginPath();
    ctx.moveTo(x, fenceTop);
    ctx.lineTo(x + w * 0.012, fenceTop - h * 0.008);
    ctx.lineTo(x + w * 0.024, fenceTop);
    ctx.lineTo(x + w * 0.024, fenceBottom);
    ctx.lineTo(x, fenceBottom);
    ctx.closePath();
    ctx.fill();
    ctx.stroke();
  }

  // Grass
  const grassTop = GRASS_Y * k;
  const grass = ctx.createLinearGradient(0, grassTop, 0, h);
  grass.addColorStop(0, '#67bd4f');
  grass.addColorStop(1, '#3f8f34');
  ctx.fillStyle = grass;
  ctx.fillRect(0, grassTop, w, h - grassTop);
  ctx.fillStyle = '#7fd160';
  ctx.fillRect(0, grassTop, w, Math.max(1, h * 0.004));

  // Grass blades
  ctx.strokeStyle = 'rgba(40, 110, 35, 0.55)';
  ctx.lineWidth = Math.max(1, k * 700);
  ctx.beginPath();
  for (let i = 0; i < 140; i++) {
    const x = rnd() * w;
    const y = grassTop + h * 0.01 + rnd() * (h - grassTop - h * 0.012);
    const len = h * (0.006 + rnd() * 0.008);
    ctx.moveTo(x, y);
    ctx.lineTo(x + (rnd() - 0.5) * len * 0.8, y - len);
  }
  ctx.stroke();
  // A few flowers
  for (let i = 0; i < 9; i++) {
    const x = rnd() * w;
    const y = grassTop + h * 0.012 + rnd() * (h - grassTop - h * 0.02);
    const r = Math.max(1, w * 0.005);
    ctx.fillStyle = i % 3 === 0 ? '#ffe066' : '#ffffff';
    ctx.beginPath();
    ctx.arc(x, y, r, 0, Math.PI * 2);
    ctx.fill();
    ctx.fillStyle = '#f59f00';
    ctx.beginPath();
    ctx.arc(x, y, r * 0.45, 0, Math.PI * 2);
    ctx.fill();
  }
}

function drawPerch(ctx, k) {
  const w = W * k;
  const y = PERCH_Y * k;
  const t = 0.016 * H * k;
  // posts
  ctx.fillStyle = '#7a4e26';
  ctx.fillRect(w * 0.015, y, w * 0.025, H * k * 0.06);
  ctx.fillRect(w * 0.96, y, w * 0.025, H * k * 0.06);
  // beam
  const beam = ctx.createLinearGradient(0, y, 0, y + t);
  beam.addColorStop(0, '#b27a43');
  beam.addColorStop(1, '#6f4520');
  ctx.fillStyle = beam;
  roundRectPath(ctx, -t, y, w + 2 * t, t, t * 0.4);
  ctx.fill();
  ctx.strokeStyle = 'rgba(60, 35, 15, 0.35)';
  ctx.lineWidth = Math.max(1, k * 600);
  ctx.beginPath();
  for (let x = w * 0.07; x < w; x += w * 0.17) {
    ctx.moveTo(x, y + t * 0.35);
    ctx.lineTo(x + w * 0.05, y + t * 0.45);
  }
  ctx.stroke();
}

/** A hen facing left, drawn into a sprite of HEN_W x HEN_H world units. */
function drawHen(ctx, k, body, wing) {
  const w = HEN_W * k;
  const h = HEN_H * k;
  ctx.save();
  ctx.translate(w / 2, h * 0.58);
  const u = w / 100; // sprite units

  // tail feathers
  ctx.fillStyle = wing;
  ctx.beginPath();
  ctx.moveTo(22 * u, -2 * u);
  ctx.quadraticCurveTo(44 * u, -34 * u, 40 * u, -30 * u);
  ctx.quadraticCurveTo(36 * u, -12 * u, 30 * u, 8 * u);
  ctx.closePath();
  ctx.fill();

  // body
  const g = ctx.createRadialGradient(-6 * u, -12 * u, 4 * u, 0, 0, 38 * u);
  g.addColorStop(0, '#ffffff');
  g.addColorStop(1, body);
  ctx.fillStyle = g;
  ctx.beginPath();
  ctx.ellipse(4 * u, 2 * u, 30 * u, 22 * u, -0.12, 0, Math.PI * 2);
  ctx.fill();

  // head
  ctx.beginPath();
  ctx.arc(-22 * u, -18 * u, 13 * u, 0, Math.PI * 2);
  ctx.fill();

  // comb
  ctx.fillStyle = '#e03131';
  for (let i = 0; i < 3; i++) {
    ctx.beginPath();
    ctx.arc((-29 + i * 6) * u, (-31 + (i === 1 ? -2 : 0)) * u, 4.2 * u, 0, Math.PI * 2);
    ctx.fill();
  }
  // wattle
  ctx.beginPath();
  ctx.ellipse(-31 * u, -8 * u, 3 * u, 5 * u, 0.2, 0, Math.PI * 2);
  ctx.fill();

  // beak
  ctx.fillStyle = '#f59f00';
  ctx.beginPath();
  ctx.moveTo(-33 * u, -20 * u);
  ctx.lineTo(-43 * u, -16 * u);
  ctx.lineTo(-33 * u, -13 * u);
  ctx.closePath();
  ctx.fill();

  // eye
  ctx.fillStyle = '#212529';
  ctx.beginPath();
  ctx.arc(-25 * u, -21 * u, 2.4 * u, 0, Math.PI * 2);
  ctx.fill();
  ctx.fillStyle = '#ffffff';
  ctx.beginPath();
  ctx.arc(-25.8 * u, -21.8 * u, 0.9 * u, 0, Math.PI * 2);
  ctx.fill();

  // wing
  ctx.fillStyle = wing;
  ctx.beginPath();
  ctx.ellipse(8 * u, 2 * u, 16 * u, 10 * u, -0.25, 0, Math.PI * 2);
  ctx.fill();
  ctx.strokeStyle = 'rgba(0, 0, 0, 0.12)';
  ctx.lineWidth = 1.2 * u;
  ctx.beginPath();
  ctx.moveTo(0, 0);
  ctx.quadraticCurveTo(10 * u, 6 * u, 20 * u, 0);
  ctx.stroke();

  ctx.restore();
}

function drawEggSprite(ctx, k, pad) {
  const rx = EGG_RX * k;
  const ryT = EGG_RY_TOP * k;
  const ryB = EGG_RY_BOTTOM * k;
  ctx.save();
  ctx.translate(rx + pad, ryT + pad);
  eggPath(ctx, rx, ryT, ryB);
  const g = ctx.createRadialGradient(-rx * 0.35, -ryT * 0.35, rx * 0.1, 0, 0, ryT * 1.15);
  g.addColorStop(0, '#fffefa');
  g.addColorStop(0.55, '#f6ead2');
  g.addColorStop(1, '#d8b98a');
  ctx.fillStyle = g;
  ctx.fill();
  ctx.lineWidth = Math.max(1, rx * 0.09);
  ctx.strokeStyle = 'rgba(120, 85, 40, 0.45)';
  ctx.stroke();
  // highlight
  ctx.fillStyle = 'rgba(255, 255, 255, 0.9)';
  ctx.beginPath();
  ctx.ellipse(-rx * 0.38, -ryT * 0.42, rx * 0.2, ryT * 0.26, -0.35, 0, Math.PI * 2);
  ctx.fill();
  ctx.restore();
}

/** Woven basket sprite; `eggs` (0-3) caught eggs peek over the rim. */
function drawBasketSprite(ctx, k, eggs, pad) {
  const half = BASKET_HALF * k;
  const top = pad + EGG_RY_TOP * k * 0.9; // room for eggs above the rim
  const hgt = BASKET_H * k;
  const cx = pad + half;
  const bottomHalf = half * 0.8;
  const rimH = hgt * 0.2;

  // Eggs resting inside (drawn first so the rim overlaps them)
  const rx = EGG_RX * k;
  const spots = [-0.45, 0.42, 0.0];
  for (let i = 0; i < eggs; i++) {
    ctx.save();
    ctx.translate(cx + spots[i] * half, top + rimH * 0.2 - (i === 2 ? rx * 0.35 : 0));
    ctx.rotate(spots[i] * 0.6);
    eggPath(ctx, rx, EGG_RY_TOP * k, EGG_RY_BOTTOM * k);
    ctx.fillStyle = i === 2 ? '#f1ddb8' : '#fbf3e4';
    ctx.fill();
    ctx.lineWidth = Math.max(1, rx * 0.09);
    ctx.strokeStyle = 'rgba(120, 85, 40, 0.4)';
    ctx.stroke();
    ctx.restore();
  }

  // Body (trapezoid with rounded bottom)
  ctx.save();
  ctx.beginPath();
  ctx.moveTo(cx - half * 0.96, top);
  ctx.lineTo(cx + half * 0.96, top);
  ctx.lineTo(cx + bottomHalf, top + hgt - hgt * 0.12);
  ctx.quadraticCurveTo(cx + bottomHalf, top + hgt, cx + bottomHalf - hgt * 0.15, top + hgt);
  ctx.lineTo(cx - bottomHalf + hgt * 0.15, top + hgt);
  ctx.quadraticCurveTo(cx - bottomHalf, top + hgt, cx - bottomHalf, top + hgt - hgt * 0.12);
  ctx.closePath();
  const body = ctx.createLinearGradient(cx - half, 0, cx + half, 0);
  body.addColorStop(0, '#9c6430');
  body.addColorStop(0.35, '#d39a55');
  body.addColorStop(0.65, '#cf9350');
  body.addColorStop(1, '#8f5828');
  ctx.fillStyle = body;
  ctx.fill();
  ctx.clip();

  // Weave: vertical stakes behind rows of twisted strands (herringbone wicker)
  const rows = 5;
  const rowH = (hgt - rimH * 0.6) / rows;
  const cols = 10;
  const colW = (half * 2) / cols;
  ctx.fillStyle = 'rgba(70, 38, 12, 0.45)';
  for (let c = 1; c < cols; c++) {
    ctx.fillRect(cx - half + c * colW - Math.max(1, colW * 0.05), top, Math.max(1, colW * 0.1), hgt);
  }
  ctx.lineWidth = Math.max(1, rowH * 0.08);
  for (let r = 0; r < rows; r++) {
    const y = top + rimH * 0.55 + r * rowH + rowH / 2;
    const tilt = r % 2 ? 0.55 : -0.55;
    for (let x = cx - half - colW / 4; x < cx + half + colW / 2; x += colW / 2) {
      ctx.beginPath();
      ctx.ellipse(x, y, colW * 0.36, rowH * 0.36, tilt, 0, Math.PI * 2);
      const g = ctx.createLinearGradient(0, y - rowH / 2, 0, y + rowH / 2);
      g.addColorStop(0, '#f0c07e');
      g.addColorStop(1, '#b87a3a');
      ctx.fillStyle = g;
      ctx.fill();
      ctx.strokeStyle = 'rgba(80, 45, 15, 0.55)';
      ctx.stroke();
    }
  }
  // shading toward the sides
  const shade = ctx.createLinearGradient(cx - half, 0, cx + half, 0);
  shade.addColorStop(0, 'rgba(60, 30, 10, 0.45)');
  shade.addColorStop(0.3, 'rgba(60, 30, 10, 0)');
  shade.addColorStop(0.7, 'rgba(60, 30, 10, 0)');
  shade.addColorStop(1, 'rgba(60, 30, 10, 0.5)');
  ctx.fillStyle = shade;
  ctx.fillRect(cx - half, top, half * 2, hgt);
  ctx.restore();

  // Rim
  const rim = ctx.createLinearGradient(0, top - rimH * 0.4, 0, top + rimH * 0.7);
  rim.addColorStop(0, '#c98b4a');
  rim.addColorStop(1, '#7a4a20');
  ctx.fillStyle = rim;
  roundRectPath(ctx, cx - half, top - rimH * 0.4, half * 2, rimH, rimH * 0.5);
  ctx.fill();
  ctx.strokeStyle = 'rgba(255, 230, 180, 0.45)';
  ctx.lineWidth = Math.max(1, rimH * 0.12);
  ctx.beginPath();
  ctx.moveTo(cx - half * 0.9, top - rimH * 0.15);
  ctx.lineTo(cx + half * 0.9, top - rimH * 0.15);
  ctx.stroke();
  // rim twist marks
  ctx.strokeStyle = 'rgba(70, 40, 15, 0.45)';
  ctx.lineWidth = Math.max(1, rimH * 0.1);
  ctx.beginPath();
  for (let x = cx - half + rimH * 0.6; x < cx + half - rimH * 0.3; x += rimH * 0.9) {
    ctx.moveTo(x, top - rimH * 0.35);
    ctx.lineTo(x + rimH * 0.45, top + rimH * 0.55);
  }
  ctx.stroke();

  return { ox: cx, oy: top };
}

// ---------------------------------------------------------------------------

/**
 * Starts an Egg Catcher game drawn on a canvas added to `stage` (removed by `destroy`), from
 * the first window's `seed`. `onHud({score, lives, level})` follows the score bar,
 * `onEvent(kind)` names a moment worth a sound (`catch`, `miss`, `level`), `onWait(waiting)`
 * says when the game stops at a window it has no seed for and when it goes on (after
 * `reveal(seed)`), `onGameOver()` is called once when the game ends.
 */
export function createGame(stage, { seed, onHud, onEvent, onWait, onGameOver } = {}) {
  const sim = new EggCatcherSim(seed);
  const canvas = document.createElement('canvas');
  canvas.className = 'game-canvas';
  canvas.tabIndex = 0;
  canvas.dataset.testid = 'game-canvas';
  canvas.setAttribute('aria-label', 'Game field: move the basket to catch the eggs');
  stage.prepend(canvas);
  const ctx = canvas.getContext('2d', { alpha: false });

  let running = false;
  let paused = false;
  let waiting = false;
  let destroyed = false;
  let rafId = 0;
  let lastTime = 0;
  let acc = 0;
  let pendingTarget = null;
  let prevBasketX = sim.basketX; // basket position one tick ago, for interpolated drawing
  let heldLeft = false;
  let heldRight = false;
  let rect = canvas.getBoundingClientRect();

  // Scale and sprites
  let k = 1; // device pixels per world unit
  let dpr = 1;
  let bg = null;
  let perch = null;
  let hens = [];
  let eggSprite = null;
  let eggPad = 0;
  let baskets = [];
  let basketOrigin = { ox: 0, oy: 0 };
  let fonts = { big: '', mid: '', small: '' };

  const henX = new Float64Array(HEN_COUNT);
  const henHop = new Float64Array(HEN_COUNT); // ticks of "just laid" animation left
  for (let i = 0; i < HEN_COUNT; i++) henX[i] = ((i + 0.5) / HEN_COUNT) * W;

  // Effect pool: no allocation while playing.
  const effects = [];
  for (let i = 0; i < EFFECT_POOL; i++) effects.push({ kind: 0, x: 0, y: 0, age: 0, life: 1, text: '' });
  function spawnEffect(kind, x, y, life, text) {
    let slot = effects[0];
    for (const fx of effects) {
      if (fx.kind === 0) {
        slot = fx;
        break;
      }
      if (fx.age / fx.life > slot.age / slot.life) slot = fx;
    }
    slot.kind = kind;
    slot.x = x;
    slot.y = y;
    slot.age = 0;
    slot.life = life;
    slot.text = text;
  }

  let hud = { score: -1, lives: -1, level: -1 };
  function emitHud() {
    const score = sim.score;
    const lives = sim.lives;
    const level = displayLevel(sim.level);
    if (score !== hud.score || lives !== hud.lives || level !== hud.level) {
      hud.score = score;
      hud.lives = lives;
      hud.level = level;
      if (onHud) onHud({ score, lives, level });
    }
  }

  function rebuild() {
    const cssW = canvas.clientWidth;
    const cssH = canvas.clientHeight;
    if (cssW === 0 || cssH === 0) return;
    dpr = Math.min(window.devicePixelRatio || 1, 3);
    const pw = Math.round(cssW * dpr);
    const ph = Math.round(cssH * dpr);
    if (canvas.width !== pw) canvas.width = pw;
    if (canvas.height !== ph) canvas.height = ph;
    k = pw / W;

    bg = makeCanvas(pw, ph);
    drawBackground(bg.getContext('2d'), k);

    perch = makeCanvas(pw, (PERCH_Y + 0.08 * H) * k);
    drawPerch(perch.getContext('2d'), k);

    const palettes = [
      ['#f8f1e5', '#e4d3b5'],
      ['#c8773a', '#9b5428'],
      ['#f8f1e5', '#e4d3b5'],
      ['#3b3b3b', '#1f1f1f'],
      ['#c8773a', '#9b5428'],
    ];
    hens = palettes.map(([body, wing], i) => {
      const c = makeCanvas(HEN_W * k, HEN_H * k);
      const hc = c.getContext('2d');
      if (i % 2 === 1) {
        // face right
        hc.translate(c.width, 0);
        hc.scale(-1, 1);
      }
      drawHen(hc, k, body, wing);
      return c;
    });

    eggPad = Math.ceil(2 * dpr);
    eggSprite = makeCanvas(EGG_RX * 2 * k + eggPad * 2, (EGG_RY_TOP + EGG_RY_BOTTOM) * k + eggPad * 2);
    drawEggSprite(eggSprite.getContext('2d'), k, eggPad);

    const bpad = Math.ceil(2 * dpr);
    baskets = [];
    for (let n = 0; n <= 3; n++) {
      const c = makeCanvas(BASKET_HALF * 2 * k + bpad * 2, (BASKET_H + EGG_RY_TOP * 0.9) * k + bpad * 2);
      basketOrigin = drawBasketSprite(c.getContext('2d'), k, n, bpad);
      baskets.push(c);
    }

    const px = pw / 100;
    fonts = {
      big: `800 ${Math.round(px * 11)}px system-ui, -apple-system, "Segoe UI", Roboto, sans-serif`,
      mid: `800 ${Math.round(px * 6.5)}px system-ui, -apple-system, "Segoe UI", Roboto, sans-serif`,
      small: `800 ${Math.round(px * 5)}px system-ui, -apple-system, "Segoe UI", Roboto, sans-serif`,
    };
    rect = canvas.getBoundingClientRect();
    draw(performance.now());
  }

  const resizeObserver = new ResizeObserver(() => rebuild());
  resizeObserver.observe(canvas);
  const onWindowChange = () => {
    rect = canvas.getBoundingClientRect();
    if (Math.min(window.devicePixelRatio || 1, 3) !== dpr) rebuild();
  };
  window.addEventListener('resize', onWindowChange);
  window.addEventListener('scroll', onWindowChange, { passive: true });

  // ---- Input -------------------------------------------------------------

  function clampTarget(x) {
    return Math.max(0, Math.min(W, Math.round(x)));
  }

  function targetFromClient(clientX) {
    if (rect.width <= 0) return;
    pendingTarget = clampTarget(((clientX - rect.left) / rect.width) * W);
  }

  function onPointerDown(e) {
    if (!running || paused) return;
    rect = canvas.getBoundingClientRect();
    if (e.pointerType !== 'mouse') {
      try {
        canvas.setPointerCapture(e.pointerId);
      } catch {
        /* pointer already gone */
      }
    }
    targetFromClient(e.clientX);
    e.preventDefault();
  }

  function onPointerMove(e) {
    if (!running || paused) return;
    if (e.pointerType !== 'mouse' && e.buttons === 0 && e.pressure === 0) return;
    targetFromClient(e.clientX);
  }

  const LEFT_KEYS = new Set(['ArrowLeft', 'a', 'A']);
  const RIGHT_KEYS = new Set(['ArrowRight', 'd', 'D']);

  function isTyping(e) {
    const t = e.target;
    return t && (t.tagName === 'INPUT' || t.tagName === 'TEXTAREA' || t.isContentEditable);
  }

  function onKeyDown(e) {
    if (!running || isTyping(e) || e.ctrlKey || e.metaKey || e.altKey) return;
    const left = LEFT_KEYS.has(e.key);
    const right = RIGHT_KEYS.has(e.key);
    if (!left && !right) return;
    e.preventDefault();
    if (e.repeat || paused) return;
    if (left) {
      heldLeft = true;
      pendingTarget = 0;
    } else {
      heldRight = true;
      pendingTarget = W;
    }
  }

  function onKeyUp(e) {
    if (!running) return;
    const left = LEFT_KEYS.has(e.key);
    const right = RIGHT_KEYS.has(e.key);
    if (!left && !right) return;
    if (left) heldLeft = false;
    if (right) heldRight = false;
    if (paused) return;
    if (heldLeft) pendingTarget = 0;
    else if (heldRight) pendingTarget = W;
    else pendingTarget = clampTarget(sim.basketX);
  }

  canvas.addEventListener('pointerdown', onPointerDown);
  canvas.addEventListener('pointermove', onPointerMove);
  window.addEventListener('keydown', onKeyDown);
  window.addEventListener('keyup', onKeyUp);

  // ---- Simulation --------------------------------------------------------

  function tick() {
    if (pendingTarget !== null) {
      if (pendingTarget !== sim.targetX) sim.setTarget(pendingTarget);
      pendingTarget = null;
    }
    const eggs = sim.eggs;
    const before = eggs.length;
    let lowX = -1;
    let lowY = -Infinity;
    for (let i = 0; i < before; i++) {
      const e = eggs[i];
      if (e.y > lowY) {
        lowY = e.y;
        lowX = e.x;
      }
    }
    const catches = sim.catches;
    const misses = sim.misses;
    const level = sim.level;

    prevBasketX = sim.basketX;
    sim.step();

    if (sim.catches > catches) {
      spawnEffect(FX_CATCH, sim.basketX, BASKET_TOP, 42, '+10');
      if (onEvent) onEvent('catch');
    }
    if (sim.misses > misses) {
      spawnEffect(FX_SPLAT, lowX >= 0 ? lowX : sim.basketX, GROUND_Y, 90, '');
      if (onEvent) onEvent('miss');
    }
    if (sim.level > level) {
      spawnEffect(FX_LEVEL, W / 2, H * 0.42, 110, `Level ${displayLevel(sim.level)}`);
      if (onEvent) onEvent('level');
    }
    // A new egg: the nearest hen does a little hop.
    const after = sim.eggs;
    if (after.length > 0 && after.length + (sim.catches - catches) + (sim.misses - misses) > before) {
      const newest = after[after.length - 1];
      let best = 0;
      for (let i = 1; i < HEN_COUNT; i++) {
        if (Math.abs(henX[i] - newest.x) < Math.abs(henX[best] - newest.x)) best = i;
      }
      henHop[best] = 14;
    }
    for (let i = 0; i < HEN_COUNT; i++) if (henHop[i] > 0) henHop[i]--;
    for (const fx of effects) {
      if (fx.kind !== 0 && ++fx.age >= fx.life) fx.kind = 0;
    }
  }

  function frame(now) {
    rafId = 0;
    if (!running || paused || destroyed) return;
    let dt = now - lastTime;
    lastTime = now;
    if (dt < 0) dt = 0;
    if (dt > 250) dt = 250;
    acc += dt;
    let steps = 0;
    // 1 ms of tolerance absorbs frame-timing jitter without drifting long-term.
    while (acc >= STEP_MS - 1 && steps < MAX_STEPS_PER_FRAME) {
      if (sim.waiting) {
        // The next window's randomness has not come yet: stand still until it does.
        acc = 0;
        if (!waiting) {
          waiting = true;
          if (onWait) onWait(true);
        }
        break;
      }
      tick();
      acc -= STEP_MS;
      steps++;
      if (sim.gameOver) break;
    }
    if (acc > STEP_MS) acc = 0; // too far behind: slow down rather than fast-forward
    if (steps > 0) emitHud();
    draw(now);
    if (sim.gameOver) {
      running = false;
      detachInput();
      if (onGameOver) onGameOver();
      return;
    }
    rafId = requestAnimationFrame(frame);
  }

  // ---- Drawing -----------------------------------------------------------

  function draw(now) {
    if (!bg) return;
    // Draw between the last two ticks so motion stays smooth on any refresh rate.
    const alpha = running && !sim.gameOver ? Math.max(0, Math.min(1, acc / STEP_MS)) : 1;
    const back = 1 - alpha;
    const pw = canvas.width;
    const ph = canvas.height;
    ctx.drawImage(bg, 0, 0);

    // Perch and hens
    ctx.drawImage(perch, 0, 0);
    const henW = hens[0].width;
    const henH = hens[0].height;
    for (let i = 0; i < HEN_COUNT; i++) {
      const bob = Math.sin(now / 420 + i * 1.7) * 0.004 * H * k;
      const hop = henHop[i] > 0 ? -Math.sin((henHop[i] / 14) * Math.PI) * 0.018 * H * k : 0;
      ctx.drawImage(hens[i], henX[i] * k - henW / 2, PERCH_Y * k - henH * 0.93 + bob + hop);
    }

    // Shadows on the ground
    const groundY = GROUND_Y * k;
    const eggs = sim.eggs;
    ctx.fillStyle = 'rgba(20, 60, 15, 0.28)';
    for (let i = 0; i < eggs.length; i++) {
      const e = eggs[i];
      const y = e.y - (e.speed || 0) * back;
      if (y > GROUND_Y) continue;
      const nearness = Math.max(0, Math.min(1, y / CATCH_Y));
      const r = EGG_R * k * (0.35 + 0.75 * nearness);
      ctx.beginPath();
      ctx.ellipse(e.x * k, groundY, r, r * 0.3, 0, 0, Math.PI * 2);
      ctx.fill();
    }
    const bx = (sim.basketX - (sim.basketX - prevBasketX) * back) * k;
    ctx.fillStyle = 'rgba(20, 60, 15, 0.35)';
    ctx.beginPath();
    ctx.ellipse(bx, (BASKET_TOP + BASKET_H) * k, BASKET_HALF * k * 0.95, BASKET_H * k * 0.12, 0, 0, Math.PI * 2);
    ctx.fill();

    // Broken eggs on the grass
    for (const fx of effects) {
      if (fx.kind !== FX_SPLAT) continue;
      const a = 1 - fx.age / fx.life;
      ctx.globalAlpha = Math.min(1, a * 2);
      const x = fx.x * k;
      const y = fx.y * k;
      const r = EGG_R * k;
      ctx.fillStyle = '#fffaf0';
      ctx.beginPath();
      ctx.ellipse(x, y, r * 1.9, r * 0.55, 0, 0, Math.PI * 2);
      ctx.fill();
      ctx.beginPath();
      ctx.ellipse(x - r * 1.3, y - r * 0.2, r * 0.6, r * 0.35, 0.4, 0, Math.PI * 2);
      ctx.ellipse(x + r * 1.4, y + r * 0.1, r * 0.55, r * 0.3, -0.3, 0, Math.PI * 2);
      ctx.fill();
      ctx.fillStyle = '#ffb700';
      ctx.beginPath();
      ctx.ellipse(x + r * 0.15, y, r * 0.62, r * 0.36, 0, 0, Math.PI * 2);
      ctx.fill();
      // shell shards
      ctx.fillStyle = '#efe0c3';
      ctx.beginPath();
      ctx.moveTo(x - r * 1.1, y - r * 0.3);
      ctx.lineTo(x - r * 0.6, y - r * 1.0);
      ctx.lineTo(x - r * 0.3, y - r * 0.25);
      ctx.closePath();
      ctx.moveTo(x + r * 0.9, y - r * 0.2);
      ctx.lineTo(x + r * 1.5, y - r * 0.85);
      ctx.lineTo(x + r * 1.6, y - r * 0.1);
      ctx.closePath();
      ctx.fill();
    }
    ctx.globalAlpha = 1;

    // Eggs
    const ex = eggSprite.width / 2;
    const ey = EGG_RY_TOP * k + eggPad;
    for (let i = 0; i < eggs.length; i++) {
      const e = eggs[i];
      const y = e.y - (e.speed || 0) * back;
      if (y > GROUND_Y + EGG_R * 0.5) continue; // broken on the grass
      ctx.drawImage(eggSprite, e.x * k - ex, y * k - ey);
    }

    // Basket
    const caught = sim.catches;
    const sprite = baskets[caught >= 3 ? 3 : caught];
    ctx.drawImage(sprite, bx - basketOrigin.ox, BASKET_TOP * k - basketOrigin.oy);

    // Floating texts
    for (const fx of effects) {
      if (fx.kind === FX_CATCH) {
        const t = fx.age / fx.life;
        ctx.globalAlpha = 1 - t * t;
        ctx.font = fonts.small;
        ctx.textAlign = 'center';
        ctx.textBaseline = 'middle';
        const x = Math.max(0.07 * W, Math.min(0.93 * W, fx.x)) * k;
        const y = fx.y * k - t * 0.09 * H * k - 0.03 * H * k;
        ctx.lineWidth = Math.max(2, pw * 0.008);
        ctx.strokeStyle = 'rgba(90, 50, 10, 0.8)';
        ctx.strokeText(fx.text, x, y);
        ctx.fillStyle = '#fff3bf';
        ctx.fillText(fx.text, x, y);
      } else if (fx.kind === FX_LEVEL) {
        const t = fx.age / fx.life;
        const scale = t < 0.15 ? 0.6 + (t / 0.15) * 0.4 : 1;
        ctx.globalAlpha = t > 0.7 ? (1 - t) / 0.3 : 1;
        ctx.save();
        ctx.translate(fx.x * k, fx.y * k);
        ctx.scale(scale, scale);
        ctx.font = fonts.big;
        ctx.textAlign = 'center';
        ctx.textBaseline = 'middle';
        ctx.lineWidth = Math.max(3, pw * 0.014);
        ctx.strokeStyle = '#5c2d0a';
        ctx.strokeText(fx.text, 0, 0);
        ctx.fillStyle = '#ffd43b';
        ctx.fillText(fx.text, 0, 0);
        ctx.font = fonts.small;
        ctx.lineWidth = Math.max(2, pw * 0.008);
        ctx.strokeText('Faster eggs!', 0, pw * 0.1);
        ctx.fillStyle = '#ffffff';
        ctx.fillText('Faster eggs!', 0, pw * 0.1);
        ctx.restore();
      }
    }
    ctx.globalAlpha = 1;

    if (sim.gameOver) {
      ctx.fillStyle = 'rgba(15, 18, 40, 0.55)';
      ctx.fillRect(0, 0, pw, ph);
      ctx.font = fonts.big;
      ctx.textAlign = 'center';
      ctx.textBaseline = 'middle';
      ctx.fillStyle = '#ffffff';
      ctx.fillText('Game over', pw / 2, ph * 0.45);
    }
  }

  // ---- Lifecycle ---------------------------------------------------------

  function detachInput() {
    canvas.removeEventListener('pointerdown', onPointerDown);
    canvas.removeEventListener('pointermove', onPointerMove);
    window.removeEventListener('keydown', onKeyDown);
    window.removeEventListener('keyup', onKeyUp);
    heldLeft = heldRight = false;
  }

  function start() {
    if (running || destroyed || sim.gameOver) return;
    running = true;
    paused = false;
    acc = 0;
    lastTime = performance.now();
    emitHud();
    rafId = requestAnimationFrame(frame);
  }

  function pause() {
    if (!running || paused) return;
    paused = true;
    if (rafId) cancelAnimationFrame(rafId);
    rafId = 0;
    // A key held while focus left would otherwise keep the basket drifting.
    if (heldLeft || heldRight) {
      heldLeft = heldRight = false;
      pendingTarget = clampTarget(sim.basketX);
    }
  }

  function resume() {
    if (!running || !paused) return;
    paused = false;
    acc = 0;
    lastTime = performance.now();
    rafId = requestAnimationFrame(frame);
  }

  /** The seed of the next window, from the server: a game waiting for it goes on. */
  function reveal(nextSeed) {
    sim.reveal(nextSeed);
    if (waiting && !sim.waiting) {
      waiting = false;
      acc = 0;
      lastTime = performance.now();
      if (onWait) onWait(false);
    }
  }

  function destroy() {
    destroyed = true;
    running = false;
    if (rafId) cancelAnimationFrame(rafId);
    rafId = 0;
    detachInput();
    resizeObserver.disconnect();
    window.removeEventListener('resize', onWindowChange);
    window.removeEventListener('scroll', onWindowChange);
    canvas.remove();
  }

  /** A plain snapshot of the game, for tools that watch the page (e.g. automated tests). */
  function readGameState() {
    const eggs = sim.eggs;
    const list = [];
    for (let i = 0; i < eggs.length; i++) list.push({ x: eggs[i].x, y: eggs[i].y });
    return {
      tick: sim.tick,
      score: sim.score,
      lives: sim.lives,
      level: sim.level,
      catches: sim.catches,
      misses: sim.misses,
      gameOver: sim.gameOver,
      basketX: sim.basketX,
      targetX: sim.targetX,
      eggs: list,
      paused,
      running,
      waiting,
      revealed: sim.revealed,
      world: { width: W, height: H, basketHalfWidth: BASKET_HALF, catchLineY: CATCH_Y },
    };
  }
  rebuild();

  return {
    sim,
    start,
    pause,
    resume,
    reveal,
    destroy,
    state: readGameState,
    stats: () => ({ catches: sim.catches, misses: sim.misses, level: sim.level }),
    get paused() {
      return paused;
    },
    get running() {
      return running;
    },
  };
}
