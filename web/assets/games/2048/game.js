// 2048's page module: the board, its animations and its input, for the deterministic
// simulation in sim.js, and what the page shell shows of the game (`meta`).
//
// The simulation decides every move the moment it is played; the board then shows it (tiles
// slide, merged tiles pop, the new tile appears). A move played while the last one is still
// sliding finishes that animation at once, so what is drawn never lags behind or differs from
// the simulation. Tiles are elements, so their numbers are sharp at any pixel density.

import * as Sim from '/assets/games/2048/sim.js';

const { TwentyFortyEightSim, Direction } = Sim;
export const RULES_VERSION = Sim.RULES_VERSION;
export const TICK_HZ = Sim.TICK_HZ;
const STEP_MS = 1000 / TICK_HZ;
const MAX_STEPS_PER_FRAME = 4;
const SLIDE_MS = 100;
/** A swipe shorter than this share of the board is a tap, not a move. */
const SWIPE_SHARE = 0.06;

/** What the page shell shows of this game (docs/games/adding-a-game.md). */
export const meta = {
  rulesVersion: RULES_VERSION,
  aspect: 1,
  instructions: [
    'Slide every tile with [←] [↑] [→] [↓] or [W] [A] [S] [D], or swipe on the board.',
    'Two equal tiles that slide into each other merge into one, and their sum is added to your score.',
    'After every move that changes the board a new 2 (now and then a 4) appears. Make a 2048 tile to win, then keep going: the game ends when no move is left.',
  ],
  hud: [
    { key: 'score', label: 'Score' },
    { key: 'tile', label: 'Top tile' },
    { key: 'moves', label: 'Moves' },
  ],
  summary: (stats) =>
    [
      typeof stats.moves === 'number' ? `${stats.moves} ${stats.moves === 1 ? 'move' : 'moves'}` : '',
      typeof stats.max_tile === 'number' ? `top tile ${stats.max_tile}` : '',
      stats.won ? 'made 2048!' : '',
    ]
      .filter(Boolean)
      .join(' · '),
  sounds: {
    merge: [{ freq: 520, duration: 0.07, type: 'triangle', volume: 0.05, slideTo: 780 }],
    win: [
      { freq: 523, duration: 0.12, volume: 0.04 },
      { freq: 659, start: 0.12, duration: 0.12, volume: 0.04 },
      { freq: 784, start: 0.24, duration: 0.12, volume: 0.045 },
      { freq: 1047, start: 0.36, duration: 0.3, volume: 0.05 },
    ],
    over: [{ freq: 300, duration: 0.35, type: 'triangle', volume: 0.08, slideTo: 120 }],
    countdown: [{ freq: 440, duration: 0.07, volume: 0.03 }],
  },
};

const KEYS = new Map([
  ['ArrowUp', Direction.UP],
  ['ArrowRight', Direction.RIGHT],
  ['ArrowDown', Direction.DOWN],
  ['ArrowLeft', Direction.LEFT],
  ['w', Direction.UP],
  ['W', Direction.UP],
  ['d', Direction.RIGHT],
  ['D', Direction.RIGHT],
  ['s', Direction.DOWN],
  ['S', Direction.DOWN],
  ['a', Direction.LEFT],
  ['A', Direction.LEFT],
]);

/** The board's own styles, added to the page once. */
function useStyles() {
  const href = '/assets/games/2048/game.css';
  if (document.querySelector(`link[href="${href}"]`)) return;
  const link = document.createElement('link');
  link.rel = 'stylesheet';
  link.href = href;
  document.head.append(link);
}

function el(tag, className) {
  const node = document.createElement(tag);
  if (className) node.className = className;
  return node;
}

/**
 * Starts a 2048 game on a board added to `stage` (removed by `destroy`), from the first
 * window's `seed`. `onHud({score, tile, moves})` follows the score bar, `onEvent(kind)` names a
 * moment worth a sound (`merge`, `win`, `over`), `onWait(waiting)` says when the game stops at
 * a window it has no seed for and when it goes on (after `reveal(seed)`), `onGameOver()` is
 * called once when no move is left.
 */
export function createGame(stage, { seed, onHud, onEvent, onWait, onGameOver } = {}) {
  useStyles();
  const sim = new TwentyFortyEightSim(seed);

  const board = el('div', 'g2048');
  board.tabIndex = 0;
  board.dataset.testid = 'game-board';
  board.setAttribute('role', 'application');
  board.setAttribute('aria-roledescription', '2048 board');
  board.setAttribute('aria-label', 'The board: slide the tiles with the arrow keys or by swiping');
  const cells = el('div', 'g2048-cells');
  for (let i = 0; i < Sim.CELLS; i++) {
    const cell = el('div', 'g2048-cell');
    cell.style.setProperty('--row', String(Math.floor(i / Sim.SIZE)));
    cell.style.setProperty('--col', String(i % Sim.SIZE));
    cells.append(cell);
  }
  const layer = el('div', 'g2048-tiles');
  const live = el('p', 'visually-hidden');
  live.setAttribute('aria-live', 'polite');
  board.append(cells, layer, live);
  stage.prepend(board);

  let running = false;
  let paused = false;
  let waiting = false;
  let destroyed = false;
  let rafId = 0;
  let lastTime = 0;
  let acc = 0;
  let settleTimer = 0;
  let banner = null;
  /** Tile id -> its element. */
  const shown = new Map();

  // ---- Board size: whole pixels for cells and gaps ---------------------------------

  function fit() {
    const size = Math.min(board.clientWidth, board.clientHeight);
    if (size <= 0) return;
    const gap = Math.max(4, Math.round(size * 0.03));
    const cell = Math.floor((size - gap * (Sim.SIZE + 1)) / Sim.SIZE);
    board.style.setProperty('--gap', `${gap}px`);
    board.style.setProperty('--cell', `${cell}px`);
  }
  const resizeObserver = new ResizeObserver(fit);
  resizeObserver.observe(board);
  fit();

  // ---- Drawing -------------------------------------------------------------------------

  function tileElement(tile, kind) {
    const node = el('div', `g2048-tile v${tile.value} digits-${String(tile.value).length}${kind ? ` ${kind}` : ''}`);
    const face = el('span', 'face');
    face.textContent = String(tile.value);
    node.append(face);
    node.dataset.value = String(tile.value);
    place(node, tile.row, tile.col);
    layer.append(node);
    shown.set(tile.id, node);
    return node;
  }

  function place(node, row, col) {
    node.style.setProperty('--row', String(row));
    node.style.setProperty('--col', String(col));
  }

  /**
   * Make the board show exactly the simulation's tiles: elements of tiles that are gone are
   * removed, new tiles appear (`kinds` says which ones merged or were spawned).
   */
  function settle(kinds = new Map()) {
    clearTimeout(settleTimer);
    settleTimer = 0;
    const tiles = sim.tiles;
    const keep = new Set(tiles.map((t) => t.id));
    for (const [id, node] of shown) {
      if (!keep.has(id)) {
        node.remove();
        shown.delete(id);
      }
    }
    for (const tile of tiles) {
      const node = shown.get(tile.id);
      if (node) place(node, tile.row, tile.col);
      else tileElement(tile, kinds.get(tile.id));
    }
  }

  /** Show a move the simulation just played: slide, then merge and spawn. */
  function show(move) {
    if (settleTimer) settle(); // the last move's animation ends now
    for (const s of move.slides) {
      const node = shown.get(s.id);
      if (node) place(node, s.toRow, s.toCol);
    }
    const kinds = new Map(move.merges.map((m) => [m.id, 'merged']));
    if (move.spawn) kinds.set(move.spawn.id, 'new');
    if (move.changed) settleTimer = setTimeout(() => settle(kinds), SLIDE_MS);
    if (move.merges.length > 0 && onEvent) onEvent('merge');
    if (move.justWon) {
      showBanner('win');
      if (onEvent) onEvent('win');
    } else if (banner && banner.dataset.kind === 'win') {
      hideBanner();
    }
    if (move.gained > 0) live.textContent = `+${move.gained}`;
    emitHud();
  }

  function showBanner(kind) {
    hideBanner();
    banner = el('div', `g2048-banner ${kind}`);
    banner.dataset.kind = kind;
    banner.dataset.testid = kind === 'win' ? 'win-banner' : 'over-banner';
    const title = el('strong');
    title.textContent = kind === 'win' ? '2048!' : 'No moves left';
    const sub = el('span');
    sub.textContent = kind === 'win' ? 'You win. Keep going for a higher score.' : 'Game over';
    banner.append(title, sub);
    if (kind === 'win') banner.addEventListener('pointerdown', hideBanner, { once: true });
    board.append(banner);
    live.textContent = kind === 'win' ? 'You made 2048! Keep going.' : 'No moves left: game over.';
  }

  function hideBanner() {
    if (banner) banner.remove();
    banner = null;
  }

  let hud = { score: -1, tile: -1, moves: -1 };
  function emitHud() {
    const next = { score: sim.score, tile: sim.maxTile, moves: sim.moves };
    if (next.score !== hud.score || next.tile !== hud.tile || next.moves !== hud.moves) {
      hud = next;
      if (onHud) onHud({ ...next });
    }
  }

  // ---- Input ---------------------------------------------------------------------------

  function press(direction) {
    if (!running || paused) return;
    const played = sim.press(direction);
    if (played) show(played);
  }

  function isTyping(e) {
    const t = e.target;
    return t && (t.tagName === 'INPUT' || t.tagName === 'TEXTAREA' || t.isContentEditable);
  }

  function onKeyDown(e) {
    if (isTyping(e) || e.ctrlKey || e.metaKey || e.altKey) return;
    const direction = KEYS.get(e.key);
    if (direction === undefined) return;
    e.preventDefault();
    if (e.repeat) return; // one move per press
    press(direction);
  }

  let swipe = null;
  function onPointerDown(e) {
    if (!running || paused) return;
    swipe = { id: e.pointerId, x: e.clientX, y: e.clientY };
    try {
      board.setPointerCapture(e.pointerId);
    } catch {
      /* pointer already gone */
    }
    e.preventDefault();
  }

  function onPointerUp(e) {
    if (!swipe || e.pointerId !== swipe.id) return;
    const dx = e.clientX - swipe.x;
    const dy = e.clientY - swipe.y;
    swipe = null;
    const min = Math.max(12, board.clientWidth * SWIPE_SHARE);
    if (Math.max(Math.abs(dx), Math.abs(dy)) < min) return;
    if (Math.abs(dx) > Math.abs(dy)) press(dx > 0 ? Direction.RIGHT : Direction.LEFT);
    else press(dy > 0 ? Direction.DOWN : Direction.UP);
  }

  function onPointerCancel() {
    swipe = null;
  }

  board.addEventListener('pointerdown', onPointerDown);
  board.addEventListener('pointerup', onPointerUp);
  board.addEventListener('pointercancel', onPointerCancel);
  window.addEventListener('keydown', onKeyDown);

  // ---- Clock ---------------------------------------------------------------------------

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
        // The next window's randomness has not come yet: stand still until it does (a press
        // meanwhile is held and played then).
        acc = 0;
        if (!waiting) {
          waiting = true;
          if (onWait) onWait(true);
        }
        break;
      }
      const played = sim.step();
      if (played) show(played);
      acc -= STEP_MS;
      steps++;
      if (sim.gameOver) break;
    }
    if (acc > STEP_MS) acc = 0; // too far behind: slow down rather than fast-forward
    if (sim.gameOver) {
      running = false;
      detachInput();
      settle();
      showBanner('over');
      if (onEvent) onEvent('over');
      if (onGameOver) onGameOver();
      return;
    }
    rafId = requestAnimationFrame(frame);
  }

  // ---- Lifecycle -----------------------------------------------------------------------

  function detachInput() {
    board.removeEventListener('pointerdown', onPointerDown);
    board.removeEventListener('pointerup', onPointerUp);
    board.removeEventListener('pointercancel', onPointerCancel);
    window.removeEventListener('keydown', onKeyDown);
    swipe = null;
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
    swipe = null;
    if (rafId) cancelAnimationFrame(rafId);
    rafId = 0;
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
    clearTimeout(settleTimer);
    detachInput();
    resizeObserver.disconnect();
    board.remove();
  }

  /** A plain snapshot of the game, for tools that watch the page (e.g. automated tests). */
  function state() {
    return {
      tick: sim.tick,
      score: sim.score,
      moves: sim.moves,
      maxTile: sim.maxTile,
      won: sim.won,
      gameOver: sim.gameOver,
      board: sim.board,
      nextMoveTick: sim.nextMoveTick,
      pending: sim.pending,
      shown: [...layer.querySelectorAll('.g2048-tile')].map((n) => Number(n.dataset.value)),
      paused,
      running,
      waiting,
      revealed: sim.revealed,
    };
  }

  settle();
  emitHud();

  return {
    sim,
    start,
    pause,
    resume,
    reveal,
    destroy,
    state,
    stats: () => ({ max_tile: sim.maxTile, moves: sim.moves, won: sim.won ? 1 : 0 }),
    get paused() {
      return paused;
    },
    get running() {
      return running;
    },
  };
}
